"""FINESS: 9 characters, 9 digits or 2A / 2B then 7 digits (Corsica); the 9th digit is a Luhn
key over the first eight, 2A / 2B counting as 20 (inferred). Only the length is the ASP's rule
(« VARCHAR (=9) »): another length is refused; 9 characters of another shape are kept, with a
warning (« finess_inhabituel »), as a wrong key is.

>>> validate(" 2a 0 000 024\u00a0"), validate("2C0000010")
('2A0000024', '2C0000010')
>>> is_valid("010000024"), is_valid("2A0000010"), is_valid("10000024")
(True, True, False)
>>> has_valid_key("010000024"), has_valid_key("123456789"), has_valid_key("2C0000010")
(True, False, False)
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from . import identifier, luhn
from .base import FieldCheck, predicate
from .identifier import NUM_FORMAT, TEXT, compact, json_literal  # noqa: F401 (the kind's interface)

NAME = "finess"
PATTERN = r"^([0-9]{9}|2[AB][0-9]{7})$"
WIDTH = 9  # Excel drops the leading zero of a FINESS typed as a number (départements 01 to 09)
MAX_LOST_ZEROS = identifier.MAX_LOST_ZEROS
PADDED_CODE = "finess_complete"
CODES = ("finess_invalide", "finess_inhabituel", "finess_cle", PADDED_CODE, identifier.NORMALISED)
LENGTH = 9


validate = identifier.validator(identifier.of_length(LENGTH), "finess_invalide")
is_valid = predicate(validate)


def has_valid_key(number: str) -> bool:
    return re.match(PATTERN, compact(number)) is not None and luhn.is_valid(compact(number).replace("2A", "20", 1).replace("2B", "20", 1))


def key_expr(col: pl.Expr) -> pl.Expr:
    return luhn.expr(col.str.replace(r"^2[AB]", "20"), 9)


def number(value: pl.Expr) -> pl.Expr:
    """The number a value of PATTERN stands for, 2A / 2B counting as 20: `key_expr`'s, without
    its regexes (null, as there, when its digits are not ASCII ones)."""
    corsica = value.str.starts_with("2A") | value.str.starts_with("2B")
    return pl.when(corsica).then(value.str.slice(2).str.to_integer(strict=False) + 200_000_000) \
        .otherwise(value.str.to_integer(strict=False))


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    return identifier.check(c, name, PATTERN, "finess_invalide", lambda n: luhn.checksum(n, 9), "finess_cle",
                            number=number, accepted=identifier.of_length(LENGTH), shape_code="finess_inhabituel")


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return identifier.json_schema_of(field, identifier.of_length(LENGTH))


def describe(definition: Any, field: Any) -> str:
    return "texte de 9 caractères : 9 chiffres, ou 2A / 2B suivis de 7 chiffres (Corse)"
