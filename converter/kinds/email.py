"""An e-mail address, held to the seed's own rule: « le champ doit contenir un "@" au-delà du
premier caractère et un point », VARCHAR(<150) (seeds 000, 001). An address the rule lets
through but an ordinary one would not be (no dot after the @, a space, two @) is kept as typed,
with a warning (the seed is silent on it).

>>> validate("it@og.fr"), validate("x y@z.fr")
('it@og.fr', 'x y@z.fr')
>>> is_valid("a@b")
False
"""

from __future__ import annotations

from typing import Any

import polars as pl

from .base import FieldCheck, codes, encoded, scalar_forms, string_schema

NAME = "email"
TEXT = True
NUM_FORMAT = None
WIDTH = None
CODES = ("email_invalide", "email_inhabituel")
MAX_LENGTH = 149
PATTERN = r"^(?=.*\.).+@"  # the seed's rule: « un "@" au-delà du premier caractère et un point »


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    bad = ~c.str.contains(r"^.+@") | ~c.str.contains(".", literal=True) | (c.str.len_chars() > MAX_LENGTH)
    odd = ~bad & ~c.str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    return FieldCheck(c, codes((bad, "email_invalide")), codes((odd, "email_inhabituel")))


validate, is_valid = scalar_forms(check, NAME)  # the Polars check, on one value


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return string_schema(field, PATTERN, MAX_LENGTH)


def describe(definition: Any, field: Any) -> str:
    return f"adresse électronique (un @ après le premier caractère, et un point), {MAX_LENGTH} caractères au plus"


def json_literal(definition: Any, field: Any, col: pl.Expr) -> pl.Expr:
    return encoded(col)
