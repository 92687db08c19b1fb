"""A telephone number with its international prefix (+33612345678), 49 characters at most:
spaces, dots and dashes taken out, a leading « 00 » read as « + » (each a warning).

The seed's rule is « le champ Téléphone doit comporter un indicatif téléphonique (exemple :
+33) », VARCHAR(<50) (seeds 000, 001): a number that has one but holds something else than
digits after it (« +33 (0)1 23 45 67 89 », « poste 12 ») is kept, with a warning (the seed is
silent on it).

>>> validate("00 33 6 12 34 56 78"), validate("+33 6.12.34.56.78"), validate("+33 (0)1 23")
('+33612345678', '+33612345678', '+33(0)123')
>>> is_valid("0612345678")
False

+33612345678 typed in a cell of format Standard becomes the number 33612345678: the
spreadsheet drops the « + ». Digits alone, 11 to 15 of them, without a space (an
international number as a number cell holds it; no national one is that long), are told so (« telephone_sans_plus »), not asked for a prefix the
user typed.

>>> try:
...     validate("33612345678")
... except Invalid as exc:
...     print(exc.code)
telephone_sans_plus
"""

from __future__ import annotations

from typing import Any

import polars as pl

from .base import FieldCheck, Invalid, codes, encoded, scalar_forms, string_schema  # noqa: F401 (Invalid: the doctest)

NAME = "phone"
TEXT = True
NUM_FORMAT = None
WIDTH = None
CODES = ("telephone_sans_plus", "telephone_invalide", "telephone_inhabituel", "telephone_indicatif", "telephone_normalise")
MAX_LENGTH = 49
PATTERN = r"\+[1-9]"  # the seed's rule: « doit comporter un indicatif téléphonique (exemple : +33) »
USUAL = r"^\+[1-9][0-9]{4,}$"  # the prefix, then the number's digits
PLUS_LOST = r"^[1-9][0-9]{10,14}$"  # a number cell's digits: an international number that lost its « + »


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    compact = c.str.replace_many([" ", ".", "-"], ["", "", ""])
    value = pl.col(f"{name}value")
    bad = ~value.str.contains(PATTERN) | (value.str.len_chars() > MAX_LENGTH)
    return FieldCheck(
        value,
        codes((bad & c.str.contains(PLUS_LOST), "telephone_sans_plus"), (bad, "telephone_invalide")),
        codes((~bad & ~value.str.contains(USUAL), "telephone_inhabituel"),
              (~bad & compact.str.starts_with("00"), "telephone_indicatif"), (~bad & (value != c), "telephone_normalise")),
        ({f"{name}value": pl.when(compact.str.starts_with("00")).then(pl.lit("+") + compact.str.slice(2))
          .otherwise(compact)},),
    )


validate, is_valid = scalar_forms(check, NAME)  # the Polars check, on one value


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return string_schema(field, PATTERN, MAX_LENGTH)


def describe(definition: Any, field: Any) -> str:
    return f"numéro avec l'indicatif international (ex. +33612345678), {MAX_LENGTH} caractères au plus"


def json_literal(definition: Any, field: Any, col: pl.Expr) -> pl.Expr:
    return encoded(col)  # an unusual number may hold a quote or a backslash
