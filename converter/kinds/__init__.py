"""Field kinds, one module each: what a `kind:` of the format definitions means.

Each module (see `base` for the interface) holds its kind's Polars check, its scalar
`validate` / `is_valid` (python-stdnum style, doctests as documentation), its JSON Schema
fragment, its French description, its issue codes, its normalisation and how it is written
in a deposit file. The checks, the JSON Schema, the workbooks, the reader and the renderer
ask the kind; adding a kind is adding its module here.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import polars as pl

from .base import FieldCheck, Invalid, as_typed

__all__ = ["KINDS", "FieldCheck", "Invalid", "kind", "shown", "IDENTIFIER_WIDTHS", "MAX_LOST_ZEROS"]

# every module of this package that declares a NAME is a kind (base, identifier and luhn are
# their shared helpers): adding a kind is adding its file
_MODULES = [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)]
KINDS: dict[str, ModuleType] = {m.NAME: m for m in _MODULES if hasattr(m, "NAME")}

# Identifier kinds whose leading zeros Excel drops when they are typed as numbers: their width.
IDENTIFIER_WIDTHS = {name: m.WIDTH for name, m in KINDS.items() if m.WIDTH}
# leading zeros an identifier typed as a number gets back at the most: a numéro éditeur 00001
# typed 1 loses four; no FINESS (département 01 to 09), SIRET, RPPS or numéro ANS starts
# with 00, so one that lost more was no identifier
MAX_LOST_ZEROS = {name: KINDS[name].MAX_LOST_ZEROS for name in IDENTIFIER_WIDTHS}


def kind(name: str) -> ModuleType:
    return KINDS[name]


def shown(name: str, c: pl.Expr) -> pl.Expr:
    """The reader's text of a cell of this kind as the user typed it, wherever it is echoed (the
    messages' « valeur », the « Erreurs » sheet, the cells of an error workbook)."""
    return getattr(KINDS[name], "shown", as_typed)(c)
