"""A whole number (« 3 » or « 3.0 » as Excel may store it, « 1 200 » as typed), at least the
field's `minimum`.
A whole number too large to be held (beyond 9 223 372 036 854 775 807, 1e20 typed as a
number) or below the minimum is told so, not « saisissez un nombre entier ».

>>> validate("3.0"), validate("-3"), validate("1 200")
(3, -3, 1200)
>>> is_valid("2,5")
False
>>> try:
...     validate("100000000000000000000")
... except Invalid as exc:
...     print(exc.code)
entier_trop_grand
"""

from __future__ import annotations

from typing import Any

import polars as pl

from . import amount
from .base import NONE, FieldCheck, Invalid, codes, scalar_forms, without_spaces  # noqa: F401 (Invalid: the doctest)

NAME = "integer"
TEXT = False
NUM_FORMAT = "0"
WIDTH = None
CODES = ("entier_invalide", "entier_trop_grand", "entier_min")


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    digits, value = pl.col(f"{name}digits"), pl.col(f"{name}value")
    checks = [(digits.is_null(), "entier_invalide"), (value.is_null(), "entier_trop_grand")]
    if field.minimum is not None:
        checks.append((value < field.minimum, "entier_min"))
    steps = ({f"{name}digits": without_spaces(c).str.extract(r"^(-?[0-9]+)(?:\.0+)?$", 1)},
             {f"{name}value": digits.cast(pl.Int64, strict=False)})
    return FieldCheck(value, codes(*checks), NONE, steps)


validate, is_valid = scalar_forms(check, NAME)  # the Polars check, on one value


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"type": "integer"}
    if field.minimum is not None:
        s["minimum"] = field.minimum
    return s


def describe(definition: Any, field: Any) -> str:
    return "nombre entier" + (f" supérieur ou égal à {field.minimum}" if field.minimum is not None else "")


json_literal = amount.json_literal
