"""Deposit files: `JSON-<numeroAns>-<AAAAMMJJ>-<NNN>.json`, at most 200 demandes each.

NNN is the file's rank among those deposited that day for that numeroAns: it continues after
the files already in the folder, and a name taken meanwhile by another run is skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path


from .files import OutputError, write_first_free


def deposit_name(numero_ans: str, day: date, rank: int) -> str:
    """
    >>> deposit_name("0123456789", date(2024, 3, 12), 3)
    'JSON-0123456789-20240312-003.json'
    """
    return f"JSON-{numero_ans}-{day:%Y%m%d}-{rank:03d}.json"


def existing_ranks(folder: Path, numero_ans: str, day: date) -> set[int]:
    prefix = f"JSON-{numero_ans}-{day:%Y%m%d}-"
    pattern = re.compile(rf"^{re.escape(prefix)}(\d{{3}})\.json$")
    if not folder.is_dir():
        return set()
    # os.listdir and a prefix test: this runs before each of the 500 files of 100,000 demandes
    return {int(m.group(1)) for name in os.listdir(folder) if name.startswith(prefix) and (m := pattern.match(name))}


MAX_RANK = 999  # NNN has three digits


def _candidates(folder: Path, numero_ans: str, day: date, floor: int) -> Iterator[Path]:
    rank = max(existing_ranks(folder, numero_ans, day) | {floor - 1}) + 1
    if rank > MAX_RANK:
        raise OutputError(f"Les {MAX_RANK} numéros de fichier du {day:%d/%m/%Y} pour le numéro ANS {numero_ans} "
                          f"sont tous pris (dans « {folder} » ou au registre) : déposez ces demandes sous une "
                          "autre date (--date-depot AAAAMMJJ).")
    while rank <= MAX_RANK:
        yield folder / deposit_name(numero_ans, day, rank)
        rank += 1


def write_deposit(folder: Path, numero_ans: str, day: date, text: str, floor: int = 1) -> Path:
    """Write one (validated) deposit file atomically under the next free rank."""
    return write_first_free(_candidates(folder, numero_ans, day, floor),
                            lambda tmp: tmp.write_text(text, encoding="utf-8"))
