"""Numéro ASP: 12 characters, starting with the field's `prefix` (e.g. FINMDV000002), the
number the ASP gave the avance; upper-cased, spaces taken out.

>>> validate("finmdv 000002", "FINMDV")
'FINMDV000002'
>>> is_valid("FINMDV00002", "FINMDV")
False
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from . import identifier
from .base import FieldCheck, Invalid, predicate
from .identifier import NUM_FORMAT, TEXT, compact, json_literal  # noqa: F401 (the kind's interface)

NAME = "numero_asp"
WIDTH = None  # never typed as a number: it starts with letters
MAX_LOST_ZEROS = 0
PADDED_CODE = identifier.PADDED_CODE
CODES = ("numero_asp_invalide", identifier.NORMALISED)


def pattern(prefix: str | None) -> str:
    return rf"^{prefix}[A-Z0-9]{{{12 - len(prefix or '')}}}$"


def validate(number: str, prefix: str | None = None) -> str:
    number = compact(number)
    if not re.match(pattern(prefix), number):
        raise Invalid("numero_asp_invalide")
    return number


is_valid = predicate(validate)


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    return identifier.check(c, name, pattern(field.prefix), "numero_asp_invalide")


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return identifier.json_schema_of(field, pattern(field.prefix))


def describe(definition: Any, field: Any) -> str:
    return "texte de 12 caractères" + (f" commençant par {field.prefix}" if field.prefix else "")
