"""Numéro éditeur: 5 letters or digits, kept as typed (case included), spaces taken out.

« VARCHAR (=5), le champ Numéro éditeur doit être au format alphanumérique » (seed 001). In an
order-check workbook (nature `commandes`, seeds 002 and 004), the column is the order's
reference: those seeds publish no deposit format and say nothing of a numéro éditeur, so a
reference of another shape is kept as typed, with a warning (`reference_commande_libre`).

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
from .base import NONE, FieldCheck, codes, predicate
from .identifier import _SPACES, NUM_FORMAT, TEXT, json_literal  # noqa: F401 (the kind's interface)

NAME = "numero_editeur"
PATTERN = r"^[A-Za-z0-9]{5}$"
WIDTH = 5
MAX_LOST_ZEROS = 4  # 00001 typed 1 loses four
PADDED_CODE = "numero_editeur_complete"
NORMALISED = "numero_editeur_normalise"  # its spaces taken out, its letters kept as typed
FREE = "reference_commande_libre"  # an order's reference of another shape (nature `commandes`)
CODES = ("numero_editeur_invalide", PADDED_CODE, NORMALISED, FREE)


def compact(number: str) -> str:
    return _SPACES.sub("", number)


validate = identifier.validator(PATTERN, "numero_editeur_invalide", compact)
is_valid = predicate(validate)


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    if _free(definition):  # as typed, spaces included: nothing is written from it
        return FieldCheck(c, NONE, codes((~c.str.contains(PATTERN), FREE)))
    return identifier.check(c, name, PATTERN, "numero_editeur_invalide", upper=False, normalised_code=NORMALISED)


def _free(definition: Any) -> bool:
    """An order-check workbook: no seed fixes the shape of its reference."""
    return definition is not None and definition.nature == "commandes"


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return identifier.json_schema_of(field, PATTERN)


def describe(definition: Any, field: Any) -> str:
    if _free(definition):
        return ("texte, de préférence 5 lettres ou chiffres (la forme d'un numéro éditeur de demande "
                "d'avance) ; une autre forme est gardée, avec un avertissement")
    return "texte de 5 lettres ou chiffres"
