"""Field kinds, one module each: what a `kind:` of the format definitions means.

Each module (see `base` for the interface) holds its kind's Polars check, its scalar
`validate` / `is_valid` (python-stdnum style, doctests as documentation), its JSON Schema
fragment, its French description, its issue codes, its normalisation and how it is written
in a deposit file. The checks, the JSON Schema, the workbooks, the reader and the renderer
ask the kind; adding a kind is adding a module here and to `_MODULES`.
"""

from __future__ import annotations

from types import ModuleType

from . import (amount, boolean, choice, date, email, finess, format_id, integer, numero_ans, numero_asp,
               numero_editeur, phone, rpps, siret, text)
from .base import FieldCheck, Invalid

__all__ = ["KINDS", "FieldCheck", "Invalid", "kind", "IDENTIFIER_WIDTHS", "MAX_LOST_ZEROS"]

_MODULES = (text, choice, boolean, date, amount, integer, email, phone,
            finess, rpps, siret, numero_ans, numero_editeur, numero_asp, format_id)
KINDS: dict[str, ModuleType] = {m.NAME: m for m in _MODULES}

# Identifier kinds whose leading zeros Excel drops when they are typed as numbers: their width.
IDENTIFIER_WIDTHS = {name: m.WIDTH for name, m in KINDS.items() if m.WIDTH}
# leading zeros an identifier typed as a number gets back at the most: a numéro éditeur 00001
# typed 1 loses four; no FINESS (département 01 to 09), SIRET, RPPS or numéro ANS starts
# with 00, so one that lost more was no identifier
MAX_LOST_ZEROS = {name: KINDS[name].MAX_LOST_ZEROS for name in IDENTIFIER_WIDTHS}


def kind(name: str) -> ModuleType:
    return KINDS[name]
