"""Numéro de référencement ANS: 10 digits (seed 001, numeroAns: « VARCHAR (=10), Champ de type
numérique, sans caractères alphanumériques ni caractères spéciaux »).

>>> validate("01234 56789")
'0123456789'
>>> is_valid("012345678")
False
"""

from __future__ import annotations

from typing import Any

import polars as pl

from . import identifier
from .base import FieldCheck, predicate
from .identifier import NUM_FORMAT, TEXT, compact, json_literal  # noqa: F401 (the kind's interface)

NAME = "numero_ans"
PATTERN = r"^[0-9]{10}$"
WIDTH = 10
MAX_LOST_ZEROS = identifier.MAX_LOST_ZEROS
PADDED_CODE = identifier.PADDED_CODE
CODES = ("numero_ans_invalide", PADDED_CODE, identifier.NORMALISED)


validate = identifier.validator(PATTERN, "numero_ans_invalide")
is_valid = predicate(validate)


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    return identifier.check(c, name, PATTERN, "numero_ans_invalide")


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return identifier.json_schema_of(field, PATTERN)


def describe(definition: Any, field: Any) -> str:
    return "texte de 10 chiffres"
