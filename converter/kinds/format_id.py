"""The format id of the Entête sheet: text, pre-filled in every workbook written here.

>>> validate("ms2-dui-pds-avance")
'ms2-dui-pds-avance'
"""

from __future__ import annotations

from typing import Any

import polars as pl

from . import text
from .base import FieldCheck, encoded, predicate, scalar, string_schema

NAME = "format_id"
TEXT = True
NUM_FORMAT = None
WIDTH = None
CODES = text.CODES


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    return text.check(definition, field, c, name)


def validate(value: str, field: Any = None) -> str:
    return scalar(check, NAME, value, field)


is_valid = predicate(validate)


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return string_schema(field)


def describe(definition: Any, field: Any) -> str:
    return f"identifiant du format, pré-rempli ({definition.id}) : ne pas modifier"


def json_literal(definition: Any, field: Any, col: pl.Expr) -> pl.Expr:
    return encoded(col)
