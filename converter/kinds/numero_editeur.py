"""Numéro éditeur: 5 letters or digits, kept as typed (case included), spaces taken out.

>>> validate("000 01")
'00001'
>>> validate("ab12c")
'ab12c'
>>> is_valid("1")
False
"""

from __future__ import annotations

from typing import Any

import polars as pl

from . import identifier
from .base import FieldCheck, predicate
from .identifier import _SPACES, NUM_FORMAT, TEXT, json_literal  # noqa: F401 (the kind's interface)

NAME = "numero_editeur"
PATTERN = r"^[A-Za-z0-9]{5}$"
WIDTH = 5
MAX_LOST_ZEROS = 4  # 00001 typed 1 loses four
PADDED_CODE = "numero_editeur_complete"
NORMALISED = "numero_editeur_normalise"  # its spaces taken out, its letters kept as typed
CODES = ("numero_editeur_invalide", PADDED_CODE, NORMALISED)


def compact(number: str) -> str:
    return _SPACES.sub("", number)


validate = identifier.validator(PATTERN, "numero_editeur_invalide", compact)
is_valid = predicate(validate)


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    return identifier.check(c, name, PATTERN, "numero_editeur_invalide", upper=False, normalised_code=NORMALISED)


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return identifier.json_schema_of(field, PATTERN)


def describe(definition: Any, field: Any) -> str:
    return "texte de 5 lettres ou chiffres"
