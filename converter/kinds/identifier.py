"""The shared shape of the identifier kinds (FINESS, RPPS, SIRET, numéros ANS, éditeur, ASP):
a value without its spaces, upper-cased, held to a pattern; its check key, if any, a warning.

The ASP only checks lengths; a wrong check key is therefore only a warning (the seeds' own
examples, such as FINESS 123456789, fail it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import polars as pl

from .base import FieldCheck, Invalid, codes, quoted, string_schema, without_spaces

TEXT = True
NUM_FORMAT = None
MAX_LOST_ZEROS = 1  # leading zeros a number gets back at the most (kinds.MAX_LOST_ZEROS says why)
PADDED_CODE = "identifiant_complete"
NORMALISED = "identifiant_normalise"

_SPACES = re.compile(r"[\s\u00a0\u202f\u200b\u200c\u200d\ufeff]")


def compact(number: str) -> str:
    """Remove spaces (including non-breaking and zero-width ones) and upper-case.

    >>> compact(" 2a 0 000 024\u00a0")
    '2A0000024'
    """
    return _SPACES.sub("", number).upper()


def validator(pattern: str, error: str, compacted: Callable[[str], str] = compact) -> Callable[[str], str]:
    """The scalar `validate` of an identifier kind: the compacted number, or `Invalid(error)`."""
    matches = re.compile(pattern).match

    def validate(number: str) -> str:
        number = compacted(number)
        if not matches(number):
            raise Invalid(error)
        return number
    return validate


def of_length(length: int) -> str:
    """The pattern of any identifier of `length` characters (spaces taken out): all the seeds
    ask of a FINESS, a RPPS or a SIRET (« VARCHAR (=9) », « VARCHAR (=11) », « VARCHAR (=14) »)."""
    return rf"^.{{{length}}}$"


def check(c: pl.Expr, name: str, pattern: str, error: str, key: Callable[[pl.Expr], pl.Expr] | None = None,
          key_code: str = "", upper: bool = True, number: Callable[[pl.Expr], pl.Expr] | None = None,
          normalised_code: str = NORMALISED, accepted: str | None = None, shape_code: str = "") -> FieldCheck:
    """An identifier without its spaces (upper-cased), of the `pattern`; `key(value)` is its
    check key, a warning. With `number`, the key reads `number(value)`, an intermediate column
    computed once: only on a value of the `pattern` (the others have no key to check). With
    `accepted`, a wider pattern (`of_length`: what the seed asks), only a value off it is an
    `error`: one of it off the `pattern` is kept, with the warning `shape_code`."""
    value = pl.col(f"{name}value")
    bad = pl.col(f"{name}bad")
    normalised = without_spaces(c)
    steps = [{f"{name}value": normalised.str.to_uppercase() if upper else normalised},
             {f"{name}bad": ~value.str.contains(pattern)}]
    if number is not None:
        steps[1][f"{name}number"] = number(value)
    # a wrong key matters more than the spaces taken out (or the letters upper-cased)
    keyed = pl.col(f"{name}number") if number is not None else value
    key_warning = [(~bad & ~key(keyed), key_code)] if key is not None else []
    refused = bad if accepted is None else ~value.str.contains(accepted)
    shape = [] if accepted is None else [(bad & ~refused, shape_code)]
    return FieldCheck(value, codes((refused, error)),
                      codes(*shape, *key_warning, (~bad & (value != c), normalised_code)), tuple(steps))


def json_literal(definition: Any, field: Any, col: pl.Expr) -> pl.Expr:
    return quoted(col)


def json_schema_of(field: Any, pattern: str) -> dict[str, Any]:
    return string_schema(field, pattern)
