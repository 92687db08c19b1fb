"""A full disk, for real, under the commands that write other than a plain `convertir`: `retour`
(its ledger and its bilan), `solde` (its workbook), `convertir --pieces` (its zip archives),
`importer` (a colleague's files and their returns), `retirer` (its ledger, then the file set
aside) and `reecrire` (a deleted file written again).
The ledger and the outputs on a small tmpfs, in a mount namespace of the test's own (skipped
where none is allowed), filled up to a few KiB of free space; the command run as a user runs it.

The guarantee: the command ends with a French message that says the disk is full and what to
do, exit code 2, no traceback; nothing half-written is left (no temporary, no output but whole
ones), the ledger is sound and records each answer at most once; once space is freed, the same
command finishes the job."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from converter import files
from converter.ledger import unpack
from tests.builders import workbook
from tests.namespace import NAMESPACE, WHY_SKIPPED, scenario_folders
from tests.test_cycle import PDF, avance_rows

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(NAMESPACE is None, reason=WHY_SKIPPED)

# run inside the namespace: mount, prepare, fill the disk up to FREE KiB, run, keep what the
# disk holds, free the space, run again
_SCENARIO = """
set -u
FREE=$1 MOUNT=$2 FIRST=$3 SECOND=$4
mount -t tmpfs -o size=20m tmpfs "$MOUNT"
cd "$MOUNT"
eval "$PREPARE" > /dev/null 2>&1 || exit 3
avail=$(df -k --output=avail "$MOUNT" | tail -1)
head -c $(( (avail - FREE) * 1024 )) /dev/zero > "$MOUNT/remplissage" 2>/dev/null
run() {
    eval "$COMMAND" > "$1/sortie.txt" 2>&1
    echo $? > "$1/code.txt"
    cp -a "$MOUNT/." "$1/disque"
    rm -f "$1/disque/remplissage"
}
run "$FIRST"
rm "$MOUNT/remplissage"
run "$SECOND"
"""

_XL2SEGUR = f'PYTHONPATH="{ROOT}" "{sys.executable}" -m converter'
_RETURN = (f'PYTHONPATH="{ROOT}" "{sys.executable}" -c "import orjson, sys; from pathlib import Path; '
           'from tests.test_cycle import asp_return; f = next(Path(\'depot\').glob(\'JSON-*.json\')); '
           'asp_return(f, Path(\'retours\') / f.name, {l[\'numeroEditeur\']: \'FINMS2\' + l[\'numeroEditeur\'][-5:].zfill(6) '
           'for l in orjson.loads(f.read_bytes())[\'lignesImport\']})"')
_CONVERT = f'{_XL2SEGUR} convertir "$BOOK" -o depot --date-depot 20240312 --registre r.sqlite'

SCENARIOS = {
    "retour": (f"{_CONVERT} && {_RETURN}",
               f"{_XL2SEGUR} retour retours/*.json --registre r.sqlite -o retours/bilan.xlsx"),
    "solde": (f"{_CONVERT} && {_RETURN} && {_XL2SEGUR} retour retours/*.json --registre r.sqlite -o bilan.xlsx && "
              "mkdir soldes", f"{_XL2SEGUR} solde --registre r.sqlite -o soldes"),
    "pieces": ("true", f"{_CONVERT} --pieces \"$PIECES\""),
    "importer": (f"{_CONVERT.replace('r.sqlite', 'collegue.sqlite')} && {_RETURN}",
                 f"{_XL2SEGUR} importer retours/*.json --registre r.sqlite"),
}
DEMANDES = 12


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The workbook, and the folder of its pieces (60 KiB each, not compressible)."""
    folder = tmp_path_factory.mktemp("disque-plein-commandes")
    pieces = folder / "pieces"
    pieces.mkdir()
    for i in range(1, DEMANDES + 1):
        (pieces / f"MS2-DUI-Va1-BDC-{i:05d}.pdf").write_bytes(PDF + bytes(range(256)) * 240)
    return workbook(folder / "demandes.xlsx", avance_rows(*(f"{i:05d}" for i in range(1, DEMANDES + 1)))), pieces


def _leftovers(disk: Path) -> list[str]:
    """Temporaries and run locks left, but those of deposit files the ledger holds pending: a
    file it could not forget (its disk full) is known by its temporary to have never been named,
    and dropped by the next run (Ledger.reconcile)."""
    pending = _files(disk, "en_attente", "en_attente IS NOT NULL")
    return sorted(str(p.relative_to(disk)) for p in disk.rglob("*")
                  if p.name.startswith((files.TMP_PREFIX, files.LOCK_PREFIX))
                  and not any(p.name.startswith(f"{files.TMP_PREFIX}{run}-") for run in pending))


def _files(disk: Path, column: str, where: str) -> list[str]:
    """`column` of the recorded files `where` says; none in a ledger the full disk left without tables."""
    if not (disk / "r.sqlite").exists():
        return []
    with sqlite3.connect(disk / "r.sqlite") as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'fichiers'").fetchall():
            return []
        return [value for (value,) in db.execute(f"SELECT {column} FROM fichiers WHERE {where}")]


def _answers(disk: Path) -> list[tuple[str, int]]:
    """Each recorded demande, and how many answers of the ASP the ledger holds for it."""
    if not _files(disk, "nom", "1"):
        return []
    with sqlite3.connect(disk / "r.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return db.execute("SELECT d.numero_editeur, count(r.id) FROM demandes d LEFT JOIN retours r "
                          "ON r.demande_id = d.id GROUP BY d.id ORDER BY 1").fetchall()


# KiB left free: none (the ledger's shared-memory index cannot grow: SQLite says « disk I/O
# error »), a few (the ledger's log, then the outputs), more (a zip, after its file was recorded)
@pytest.mark.parametrize("command, free", [("retour", 0), ("retour", 8), ("retour", 48), ("solde", 0), ("solde", 48),
                                           ("pieces", 8), ("pieces", 24), ("pieces", 160), ("importer", 0),
                                           ("importer", 96)])
def test_a_full_disk_under_retour_solde_or_pieces_is_said_and_a_run_again_finishes(
        tmp_path: Path, inputs: tuple[Path, Path], command: str, free: int) -> None:
    book, pieces = inputs
    first, second, mount_point, scenario = scenario_folders(tmp_path, _SCENARIO)
    prepare, run = SCENARIOS[command]
    done = subprocess.run([*NAMESPACE, "sh", str(scenario), str(free), str(mount_point), str(first), str(second)],
                          env={"PREPARE": prepare, "COMMAND": run, "BOOK": str(book), "PIECES": str(pieces),
                               "PATH": "/usr/bin:/bin:/sbin"}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr

    said, code = (first / "sortie.txt").read_text(), (first / "code.txt").read_text().strip()
    assert code in ("0", "2"), said
    assert "Traceback" not in said, said
    if code == "2":
        assert "disque plein" in said and "Libérez de la place" in said, said
    disk = first / "disque"
    assert _leftovers(disk) == []
    if command != "pieces":
        answers = _answers(disk)
        assert {n for _, n in answers} <= {0, 1}
        if command != "importer":  # a return: all or nothing (importer: a file, then its return)
            assert len({n for _, n in answers}) <= 1
    if command == "pieces" and (disk / "depot").is_dir():  # each zip beside its recorded file, whole
        recorded = sorted(_files(disk, "nom", "en_attente IS NULL"))
        assert sorted(p.name for p in (disk / "depot").glob("JSON-*.json")) == recorded
        assert sorted(p.stem for p in (disk / "depot").glob("JSON-*.zip")) == [Path(n).stem for n in recorded]

    again = (second / "sortie.txt").read_text()
    assert (second / "code.txt").read_text().strip() in ("0", "1"), again
    disk = second / "disque"
    assert _leftovers(disk) == []
    if command != "pieces":
        assert _answers(disk) == [(f"{i:05d}", 1) for i in range(1, DEMANDES + 1)]
    if command == "retour":
        assert (disk / "retours" / "bilan.xlsx").is_file()
    if command == "solde":  # written again if the first run wrote it: never over a workbook
        assert sorted(p.name for p in (disk / "soldes").iterdir()) == ["solde-ms2-dui-pds-solde-0123456789.xlsx"] + (
            ["solde-ms2-dui-pds-solde-0123456789-2.xlsx"] if code == "0" else [])
    if command == "pieces":
        assert sorted(p.name for p in (disk / "depot").glob("JSON-*")) == [
            "JSON-0123456789-20240312-001.json", "JSON-0123456789-20240312-001.zip"]


_NAME = "JSON-0123456789-20240312-001.json"
LEDGER_ONLY = {
    # withdrawn: the file goes into retires/ (a folder to make, on the full disk); the ledger frees its demandes
    "retirer": (_CONVERT, f"{_XL2SEGUR} retirer --oui depot/{_NAME} --registre r.sqlite"),
    # written again from the ledger's copy, the file deleted by the user
    "reecrire": (f"{_CONVERT} && rm depot/{_NAME}", f"{_XL2SEGUR} reecrire {_NAME} --registre r.sqlite"),
}


def _state(disk: Path) -> tuple[list[str], list[str], list[str | None]]:
    """(deposit files in depot/, in depot/retires/, each recorded file's withdrawal date)."""
    return (sorted(p.name for p in (disk / "depot").glob("JSON-*")),
            sorted(p.name for p in (disk / "depot" / "retires").glob("JSON-*")),
            _files(disk, "retire_le", "1"))


@pytest.fixture(scope="module")
def larger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workbook of 40 demandes: a deposit file of 80 KiB, more than the ledger's shared-memory
    index (32 KiB), which `reecrire` frees before it writes: the disk can have room for the
    one, not the other."""
    folder = tmp_path_factory.mktemp("disque-plein-reecrire")
    return workbook(folder / "demandes.xlsx", avance_rows(*(f"{i:05d}" for i in range(1, 41))))


# KiB left free: none (the ledger cannot be opened), some (retirer: its ledger written, or not;
# reecrire: the ledger read, not the file written), enough
@pytest.mark.parametrize("command, free", [("retirer", 0), ("retirer", 40), ("retirer", 48), ("reecrire", 0),
                                           ("reecrire", 40), ("reecrire", 64), ("reecrire", 160)])
def test_a_full_disk_under_retirer_or_reecrire_is_said_and_a_run_again_finishes(
        tmp_path: Path, larger: Path, command: str, free: int) -> None:
    """`retirer`: the file withdrawn and set aside, or neither (never its demandes freed while it
    stays uploadable under its name); `reecrire`: the file whole, or not there. Then run again:
    done."""
    book = larger
    first, second, mount_point, scenario = scenario_folders(tmp_path, _SCENARIO)
    prepare, run = LEDGER_ONLY[command]
    done = subprocess.run([*NAMESPACE, "sh", str(scenario), str(free), str(mount_point), str(first), str(second)],
                          env={"PREPARE": prepare, "COMMAND": run, "BOOK": str(book), "PATH": "/usr/bin:/bin:/sbin"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    said, code = (first / "sortie.txt").read_text(), (first / "code.txt").read_text().strip()
    assert code in ("0", "2"), said
    assert "Traceback" not in said, said
    if code == "2":
        assert "Libérez de la place" in said, said
    disk = first / "disque"
    assert _leftovers(disk) == []
    recorded = (disk / "depot" / _NAME).read_bytes() if (disk / "depot" / _NAME).exists() else None
    if command == "retirer":
        assert _state(disk) in (([_NAME], [], [None]), ([], [_NAME], [_files(disk, "retire_le", "1")[0]])), said
        assert (_state(disk)[2] == [None]) == (code == "2"), said
    else:
        assert _state(disk)[0] == ([_NAME] if code == "0" else []), said
    disk = second / "disque"
    again = (second / "sortie.txt").read_text()
    if command == "retirer" and code == "0":  # done the first time
        assert (second / "code.txt").read_text().strip() == "2" and "a déjà été retiré" in again, again
    else:
        assert (second / "code.txt").read_text().strip() == "0", again
    assert _leftovers(disk) == []
    if command == "retirer":
        assert _state(disk)[:2] == ([], [_NAME]) and _state(disk)[2] != [None], again
    else:
        assert _state(disk)[0] == [_NAME]
        with sqlite3.connect(disk / "r.sqlite") as db:
            [(packed,)] = db.execute("SELECT contenu FROM fichiers").fetchall()
        assert (disk / "depot" / _NAME).read_bytes() == unpack(packed)
        assert recorded is None or recorded == unpack(packed)
