"""A whole number (« 3 » or « 3.0 » as Excel may store it), at least the field's `minimum`.

>>> validate("3.0")
3
>>> is_valid("2,5")
False
"""

from __future__ import annotations

from typing import Any

import polars as pl

from . import amount
from .base import NONE, FieldCheck, codes, scalar_forms

NAME = "integer"
TEXT = False
NUM_FORMAT = "0"
WIDTH = None
CODES = ("entier_invalide", "entier_min")


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    value = pl.col(f"{name}value")
    checks = [(value.is_null(), "entier_invalide")]
    if field.minimum is not None:
        checks.append((value < field.minimum, "entier_min"))
    parsed = c.str.extract(r"^([0-9]+)(?:\.0+)?$", 1).cast(pl.Int64, strict=False)
    return FieldCheck(value, codes(*checks), NONE, ({f"{name}value": parsed},))


validate, is_valid = scalar_forms(check, NAME)  # the Polars check, on one value


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"type": "integer"}
    if field.minimum is not None:
        s["minimum"] = field.minimum
    return s


def describe(definition: Any, field: Any) -> str:
    return "nombre entier" + (f" supérieur ou égal à {field.minimum}" if field.minimum is not None else "")


json_literal = amount.json_literal
