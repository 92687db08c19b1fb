"""Free text: the field's own `length`, `max_length`, `pattern` and `upper` (upper-casing is a
warning, as the ASP requires capitals where `upper` is set).

>>> validate("Martin")
'Martin'
"""

from __future__ import annotations

from typing import Any

import polars as pl

from .base import NONE, FieldCheck, codes, encoded, scalar_forms, string_schema

NAME = "text"
TEXT = True
NUM_FORMAT = None
WIDTH = None
PADDED_CODE = "texte_date"  # a date or time cell, read as the sheet shows it (reading._dates_in_text)
CODES = ("longueur_exacte", "longueur_max", "motif", "majuscules", PADDED_CODE)


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    value = c.str.to_uppercase() if field.upper else c
    warning = codes((value != c, "majuscules")) if field.upper else NONE
    n = value.str.len_chars()
    checks = []
    if field.length is not None:
        checks.append((n != field.length, "longueur_exacte"))
    if field.max_length is not None:
        checks.append((n > field.max_length, "longueur_max"))
    if field.pattern:
        checks.append((~value.str.contains(field.pattern), "motif"))
    return FieldCheck(value, codes(*checks), warning)


validate, is_valid = scalar_forms(check, NAME)  # the Polars check, on one value


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return string_schema(field)


def describe(definition: Any, field: Any) -> str:
    return "texte"


def json_literal(definition: Any, field: Any, col: pl.Expr) -> pl.Expr:
    return encoded(col)


def shown(c: pl.Expr) -> pl.Expr:
    """Free text is echoed as read: it is the value checked, counted and written to the deposit file."""
    return c
