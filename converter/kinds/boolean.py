"""VRAI / FAUX, and the words a user types for them (oui / non, true / false, 1 / 0…).

>>> validate("oui"), validate("FAUX")
(True, False)
>>> is_valid("peut-être")
False
"""

from __future__ import annotations

from itertools import product
from typing import Any

import polars as pl

from .base import NONE, FieldCheck, codes, scalar_forms

NAME = "boolean"
TEXT = False
NUM_FORMAT = None
WIDTH = None
CODES = ("booleen_invalide",)
TRUE, FALSE = "VRAI", "FAUX"  # as the template writes them
TRUE_WORDS = ["true", "vrai", "oui", "o", "yes", "y", "1"]
FALSE_WORDS = ["false", "faux", "non", "n", "no", "0"]


def _in_any_case(words: list[str]) -> set[str]:
    """Every way of typing these words in upper and lower case: what `str.to_lowercase` reads as
    one of them (no other Unicode character lowercases to one of their ASCII letters)."""
    return {"".join(typed) for w in words for typed in product(*({ch.lower(), ch.upper()} for ch in w))}


# one hash lookup per cell; lowercasing each cell then two lookups cost three times as much
_READ = {typed: True for typed in _in_any_case(TRUE_WORDS)} | {typed: False for typed in _in_any_case(FALSE_WORDS)}


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    value = c.replace_strict(_READ, default=None, return_dtype=pl.Boolean)
    parsed = pl.col(f"{name}value")
    return FieldCheck(parsed, codes((parsed.is_null(), "booleen_invalide")), NONE, ({f"{name}value": value},))


validate, is_valid = scalar_forms(check, NAME)  # the Polars check, on one value


def shown(c: pl.Expr) -> pl.Expr:
    """A boolean cell, which the reader spells « true » / « false », echoed VRAI / FAUX as the
    sheet shows it; any other value as typed.

    >>> pl.DataFrame({"c": ["true", "false", "oui", "TRUE"]}).select(shown(pl.col("c")))[:, 0].to_list()
    ['VRAI', 'FAUX', 'oui', 'TRUE']
    """
    return c.replace({"true": TRUE, "false": FALSE})


def choices(definition: Any, field: Any) -> list[str]:
    """The template's drop-down list."""
    return [TRUE, FALSE]


def drop_down_message(values: list[str]) -> str:
    return "Répondez VRAI ou FAUX (oui / non sont aussi acceptés)."


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return {"type": "boolean"}


def describe(definition: Any, field: Any) -> str:
    return "VRAI ou FAUX (oui / non acceptés)"


def json_literal(definition: Any, field: Any, col: pl.Expr) -> pl.Expr:
    return pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false")).otherwise(pl.lit("null"))
