"""SIRET: 14 characters (what the ASP checks, « VARCHAR (=14) »), 14 digits as a rule: another
shape is kept, with a warning; its key as python-stdnum checks it, a warning too.

>>> validate("732 829 320 00074")
'73282932000074'
>>> is_valid("73282932000074"), is_valid("7328293200007"), is_valid("7328293200007A")
(True, False, True)
>>> has_valid_key("73282932000074"), has_valid_key("73282932000075")
(True, False)
>>> has_valid_key("35600000000048")  # La Poste: sum of digits multiple of 5
True
"""

from __future__ import annotations

import re

from typing import Any

import polars as pl

from . import identifier, luhn
from .base import FieldCheck, predicate
from .identifier import NUM_FORMAT, TEXT, compact, json_literal  # noqa: F401 (the kind's interface)

NAME = "siret"
PATTERN = r"^[0-9]{14}$"
WIDTH = 14
MAX_LOST_ZEROS = identifier.MAX_LOST_ZEROS
PADDED_CODE = identifier.PADDED_CODE
CODES = ("siret_invalide", "siret_inhabituel", "siret_cle", PADDED_CODE, identifier.NORMALISED)
LENGTH = 14


validate = identifier.validator(identifier.of_length(LENGTH), "siret_invalide")
is_valid = predicate(validate)


def has_valid_key(number: str) -> bool:
    """python-stdnum's check, on one value: the reference `key_expr` is tested against."""
    from stdnum.fr import siret  # 0.1 s of imports (ssl, pydoc…) that the conversion, in Polars, needs not

    return re.match(PATTERN, compact(number)) is not None and siret.is_valid(compact(number))


def key_expr(v: pl.Expr) -> pl.Expr:
    """As python-stdnum checks it: Luhn over the 14 digits (La Poste's establishments, SIREN
    356000000 except its head office 35600000000048: digit sum multiple of 5), and the SIREN's
    own Luhn key over the first 9 digits."""
    digit_sum = pl.sum_horizontal(v.str.slice(i, 1).cast(pl.Int32, strict=False) for i in range(14))
    la_poste = v.str.starts_with("356000000") & (v != "35600000000048")
    return pl.when(la_poste).then(digit_sum % 5 == 0).otherwise(luhn.expr(v, 14)) & luhn.expr(v.str.slice(0, 9), 9)


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    return identifier.check(c, name, PATTERN, "siret_invalide", key_expr, "siret_cle", accepted=identifier.of_length(LENGTH),
                            shape_code="siret_inhabituel")


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return identifier.json_schema_of(field, identifier.of_length(LENGTH))


def describe(definition: Any, field: Any) -> str:
    return "texte de 14 chiffres"
