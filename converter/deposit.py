"""Deposit files: `JSON-<numeroAns>-<AAAAMMJJ>-<NNN>.json`, at most 200 demandes each.

NNN is the file's rank among those deposited that day for that numeroAns: it continues after
the files already in the folder, and a name taken meanwhile by another run is skipped.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .files import OutputError


LINES = "lignesImport"
"""The deposit file's list of demandes (seed 001's deposit format; the formats' `json:` layout
spells it too)."""


@dataclass(frozen=True)
class Placed:
    """A deposit file's rank and path, reserved for this run (DepositFolder.place)."""

    rank: int
    path: Path


def deposit_name(numero_ans: str, day: date, rank: int) -> str:
    """
    >>> deposit_name("0123456789", date(2024, 3, 12), 3)
    'JSON-0123456789-20240312-003.json'
    """
    return f"JSON-{numero_ans}-{day:%Y%m%d}-{rank:03d}.json"


def existing_ranks(folder: Path, numero_ans: str, day: date) -> set[int]:
    """The ranks of that numeroAns and day taken in `folder`: by a deposit file, or by a zip
    archive of one (`…-NNN.zip`, `…-NNN-2.zip`) whose file is gone or was written with another
    ledger: a new deposit file of that rank would be named beside an archive that is not its own.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     for name in ("JSON-0123456789-20240312-001.json", "JSON-0123456789-20240312-002.zip",
    ...                  "JSON-0123456789-20240312-004-2.zip", "JSON-0123456789-20240312-005 (2).zip"):
    ...         _ = (Path(d) / name).write_bytes(b"")
    ...     sorted(existing_ranks(Path(d), "0123456789", date(2024, 3, 12)))
    [1, 2, 4]
    """
    return set(_ranked(folder, numero_ans, day))


def zips_alone(folder: Path, numero_ans: str, day: date) -> dict[int, list[str]]:
    """The ranks of that numeroAns and day that only zip archives take in `folder` (their
    deposit file is not there): rank → their names."""
    return {r: names for r, names in _ranked(folder, numero_ans, day).items()
            if not any(n.endswith(".json") for n in names)}


def _ranked(folder: Path, numero_ans: str, day: date) -> dict[int, list[str]]:
    """rank → the names of `folder` that take it (`existing_ranks`)."""
    prefix = f"JSON-{numero_ans}-{day:%Y%m%d}-"
    pattern = re.compile(rf"^{re.escape(prefix)}(\d{{3}})(\.json|(-\d+)?\.zip)$")
    if not folder.is_dir():
        return {}
    found: dict[int, list[str]] = {}
    for name in sorted(os.listdir(folder)):
        if name.startswith(prefix) and (m := pattern.match(name)):
            found.setdefault(int(m.group(1)), []).append(name)
    return found


MAX_RANK = 999  # NNN has three digits


class DayFull(OutputError):
    """The day's MAX_RANK file numbers are all taken (DepositFolder.place). `files`, `demandes`:
    what the conversion had written and recorded before (api._publish_all), to be said."""

    def __init__(self, message: str, files: int = 0, demandes: int = 0):
        super().__init__(message)
        self.files, self.demandes = files, demandes


class DepositFolder:
    """Where the deposit files of one numeroAns and day are named.

    The ranks in the folder are listed once (a conversion names up to 500 files); a name
    another run takes meanwhile is skipped all the same, since naming never overwrites
    (files.publish)."""

    def __init__(self, folder: Path, numero_ans: str, day: date):
        self.folder, self.numero_ans, self.day = Path(folder), numero_ans, day
        self.taken = existing_ranks(self.folder, numero_ans, day)
        self.zips_alone = zips_alone(self.folder, numero_ans, day)
        self.skipped: list[str] = []  # the archives alone whose rank a file of this run skipped, once each

    def place(self, floor: int = 1) -> Placed:
        """The path of the next free rank, at least `floor`, reserved for this run; the zip
        archives alone (`zips_alone`) that made it skip ranks the ledger does not know (from
        `floor` on, past the folder's last deposit file) are added to `skipped`.
        OutputError when the day's ranks are all taken."""
        rank = max(self.taken | {floor - 1}) + 1
        files = max((r for r in self.taken if r not in self.zips_alone), default=0)
        for alone in sorted(r for r in self.zips_alone if max(floor, files + 1) <= r < rank):
            self.skipped += self.zips_alone.pop(alone)
        if rank > MAX_RANK:
            raise DayFull(f"Les {MAX_RANK} numéros de fichier du {self.day:%d/%m/%Y} pour le numéro ANS "
                              f"{self.numero_ans} sont tous pris (dans « {self.folder} » ou au registre) : déposez "
                              "ces demandes sous une autre date (--date-depot AAAAMMJJ).")
        self.taken.add(rank)
        return Placed(rank, self.folder / deposit_name(self.numero_ans, self.day, rank))


@dataclass(frozen=True)
class CheckedFile:
    """A deposit file the JSON Schema accepted, written under a temporary name (`written`)."""

    numeros: list[str]  # its demandes, in file order
    written: Path
    packed: bytes  # its bytes as the ledger keeps them (ledger.pack)


@dataclass
class Published:
    """A deposit file under its final name, recorded, and the zip archives of its attachments."""

    path: Path
    archives: list[Path] = field(default_factory=list)
