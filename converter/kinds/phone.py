"""A telephone number with its international prefix (+33612345678), 49 characters at most:
spaces, dots and dashes taken out, a leading « 00 » read as « + » (each a warning).

>>> validate("00 33 6 12 34 56 78"), validate("+33 6.12.34.56.78")
('+33612345678', '+33612345678')
>>> is_valid("0612345678")
False
"""

from __future__ import annotations

from typing import Any

import polars as pl

from .base import FieldCheck, codes, quoted, scalar_forms, string_schema

NAME = "phone"
TEXT = True
NUM_FORMAT = None
WIDTH = None
CODES = ("telephone_invalide", "telephone_indicatif", "telephone_normalise")
MAX_LENGTH = 49
PATTERN = r"^\+[1-9][0-9]{4,}$"


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    compact = c.str.replace_many([" ", ".", "-"], ["", "", ""])
    value = pl.col(f"{name}value")
    return FieldCheck(
        value,
        codes((~value.str.contains(PATTERN) | (value.str.len_chars() > MAX_LENGTH), "telephone_invalide")),
        codes((compact.str.starts_with("00"), "telephone_indicatif"), (value != c, "telephone_normalise")),
        ({f"{name}value": pl.when(compact.str.starts_with("00")).then(pl.lit("+") + compact.str.slice(2))
          .otherwise(compact)},),
    )


validate, is_valid = scalar_forms(check, NAME)  # the Polars check, on one value


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return string_schema(field, PATTERN, MAX_LENGTH)


def describe(definition: Any, field: Any) -> str:
    return f"numéro avec l'indicatif international (ex. +33612345678), {MAX_LENGTH} caractères au plus"


def json_literal(definition: Any, field: Any, col: pl.Expr) -> pl.Expr:
    return quoted(col)
