"""RPPS: 11 digits; the 11th is a Luhn key over the first ten (a warning: the ASP checks the length,
« Tableau de VARCHAR (=11) »: 11 characters of another shape are kept too, with a warning).

>>> validate("100 0345 6786"), validate("1000345678O")
('10003456786', '1000345678O')
>>> is_valid("10003456786"), is_valid("1000345678")
(True, False)
>>> has_valid_key("10003456786"), has_valid_key("77777777777"), has_valid_key("1000345678O")
(True, False, False)
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from . import identifier, luhn
from .base import FieldCheck, predicate
from .identifier import NUM_FORMAT, TEXT, compact, json_literal  # noqa: F401 (the kind's interface)

NAME = "rpps"
PATTERN = r"^[0-9]{11}$"
WIDTH = 11
MAX_LOST_ZEROS = identifier.MAX_LOST_ZEROS
PADDED_CODE = identifier.PADDED_CODE
CODES = ("rpps_invalide", "rpps_inhabituel", "rpps_cle", PADDED_CODE, identifier.NORMALISED)
LENGTH = 11


validate = identifier.validator(identifier.of_length(LENGTH), "rpps_invalide")
is_valid = predicate(validate)


def has_valid_key(number: str) -> bool:
    return re.match(PATTERN, compact(number)) is not None and luhn.is_valid(compact(number))


def key_expr(col: pl.Expr) -> pl.Expr:
    return luhn.expr(col, 11)


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    # a value of PATTERN is 11 digits: `key_expr`'s number, without its regex
    return identifier.check(c, name, PATTERN, "rpps_invalide", lambda n: luhn.checksum(n, 11), "rpps_cle",
                            number=lambda v: v.str.to_integer(strict=False), accepted=identifier.of_length(LENGTH),
                            shape_code="rpps_inhabituel")


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return identifier.json_schema_of(field, identifier.of_length(LENGTH))


def describe(definition: Any, field: Any) -> str:
    return "texte de 11 chiffres"
