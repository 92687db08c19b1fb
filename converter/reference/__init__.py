"""Reference tables shipped with the package (read beside this file, so `pip install .` works)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

_HERE = Path(__file__).parent


@cache
def operators() -> tuple[tuple[str, str], ...]:
    """(code, libellé) of every secure-messaging operator, in the annex's order.

    Codes are kept exactly as published, inner spaces included (``CH _20``).
    """
    with open(_HERE / "operateurs-messagerie.csv", encoding="utf-8-sig", newline="") as fh:
        return tuple((row["code"], row["libelle"]) for row in csv.DictReader(fh))


@cache
def operator_codes() -> tuple[str, ...]:
    """The codes allowed for operateurMessagerie, e.g. ``ENO_5`` or ``CH _20``."""
    return tuple(code for code, _ in operators())
