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
"""

from __future__ import annotations

from typing import Any

import polars as pl

from .base import FieldCheck, codes, encoded, scalar_forms, string_schema

NAME = "phone"
TEXT = True
NUM_FORMAT = None
WIDTH = None
CODES = ("telephone_invalide", "telephone_inhabituel", "telephone_indicatif", "telephone_normalise")
MAX_LENGTH = 49
PATTERN = r"\+[1-9]"  # the seed's rule: « doit comporter un indicatif téléphonique (exemple : +33) »
USUAL = r"^\+[1-9][0-9]{4,}$"  # the prefix, then the number's digits


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    compact = c.str.replace_many([" ", ".", "-"], ["", "", ""])
    value = pl.col(f"{name}value")
    bad = ~value.str.contains(PATTERN) | (value.str.len_chars() > MAX_LENGTH)
    return FieldCheck(
        value,
        codes((bad, "telephone_invalide")),
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
