"""Numéro ASP: 12 characters, starting with the field's `prefix` (e.g. FINMDV000002), the
number the ASP gave the avance; upper-cased, spaces taken out. The seeds say « VARCHAR (=12) »
and « de type FINMS2XXXXXX » / « FINMDVXXXXXX »: another length or prefix is refused; 12
characters with the prefix whose others are not letters or digits are kept, with a warning.

>>> validate("finmdv 000002", "FINMDV"), validate("FINMDV-00002", "FINMDV")
('FINMDV000002', 'FINMDV-00002')
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
CODES = ("numero_asp_invalide", "numero_asp_inhabituel", identifier.NORMALISED)


def pattern(prefix: str | None) -> str:
    return rf"^{prefix}[A-Z0-9]{{{12 - len(prefix or '')}}}$"


def accepted(prefix: str | None) -> str:
    """What the seeds ask: the prefix, 12 characters in all."""
    return rf"^{re.escape(prefix or '')}.{{{12 - len(prefix or '')}}}$"


def validate(number: str, prefix: str | None = None) -> str:
    number = compact(number)
    if not re.match(accepted(prefix), number):
        raise Invalid("numero_asp_invalide")
    return number


is_valid = predicate(validate)


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    return identifier.check(c, name, pattern(field.prefix), "numero_asp_invalide", accepted=accepted(field.prefix),
                            shape_code="numero_asp_inhabituel")


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return identifier.json_schema_of(field, accepted(field.prefix))


def describe(definition: Any, field: Any) -> str:
    return "texte de 12 caractères" + (f" commençant par {field.prefix}" if field.prefix else "")
