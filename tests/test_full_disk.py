"""A full disk, for real: the deposit folder and the ledger on a small tmpfs, mounted in a
mount namespace of the test's own (`unshare -m` as root, `unshare -rm` otherwise; skipped
where neither is allowed), and `xl2segur convertir` run there as a user runs it.

The guarantee, whatever moment the disk fills up (a deposit file, an archive, the ledger's
journal): the command ends with a French message and exit code 2, no traceback; every
`JSON-…` file in the folder is complete and recorded, every recorded file is there, no
temporary is left; the ledger is sound. Once space is freed, the same command settles what was
left pending and deposits the rest: each demande in exactly one file, nothing pending.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest

from converter import files
from tests.builders import many_demandes, workbook
from tests.namespace import NAMESPACE, WHY_SKIPPED, scenario_folders

ROOT = Path(__file__).resolve().parents[1]
DEMANDES = 2_500  # above concurrency.PARALLEL_FROM: the files go through the second process

# run inside the namespace: mount, convert, keep what the disk holds, free space, convert again
_SCENARIO = """
set -u
SIZE=$1 MOUNT=$2 FIRST=$3 SECOND=$4
mount -t tmpfs -o size="$SIZE" tmpfs "$MOUNT"
run() {
    PYTHONPATH="$ROOT" "$PYTHON" -m converter convertir "$BOOK" -o "$MOUNT/depot" --date-depot 20240312 \\
        --registre "$MOUNT/xl2segur.sqlite" > "$1/sortie.txt" 2>&1
    echo $? > "$1/code.txt"
    cp -a "$MOUNT/." "$1/disque"
}
run "$FIRST"
mount -o remount,size=200m "$MOUNT"
run "$SECOND"
"""


pytestmark = pytest.mark.skipif(NAMESPACE is None, reason=WHY_SKIPPED)


def _in_files(folder: Path) -> dict[str, list[str]]:
    """file name → its demandes' numeroEditeur; each file must parse whole."""
    return {p.name: [line["numeroEditeur"] for line in orjson.loads(p.read_bytes())["lignesImport"]]
            for p in sorted(folder.glob("JSON-*.json"))}


def _assert_sound(disk: Path, settled: bool = True) -> dict[str, list[str]]:
    """The folder and the ledger say the same, no temporary; nothing pending once `settled`.
    Returns the files. A file named while the ledger's disk was full cannot be marked done: it
    stays pending under its name, as after a crash, and the next command settles it."""
    depot = disk / "depot"
    found = _in_files(depot) if depot.is_dir() else {}
    leftovers = [p.name for p in depot.iterdir() if p.name.startswith((files.TMP_PREFIX, files.LOCK_PREFIX))] \
        if depot.is_dir() else []
    assert leftovers == []
    registre = disk / "xl2segur.sqlite"
    if not registre.exists():
        assert found == {}
        return found
    with sqlite3.connect(registre) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        recorded = db.execute("SELECT nom, en_attente FROM fichiers WHERE retire_le IS NULL").fetchall()
        live = db.execute("SELECT d.numero_editeur, f.nom FROM demandes d JOIN fichiers f ON f.id = d.fichier_id "
                          "WHERE d.statut NOT IN ('rejetee', 'retiree')").fetchall()
    assert sorted(name for name, _ in recorded) == sorted(found)
    assert not settled or all(pending is None for _, pending in recorded)
    assert sorted(live) == sorted((ne, name) for name, numeros in found.items() for ne in numeros)
    return found


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The workbook, and what one conversion of it writes (files and ledger), in bytes."""
    folder = tmp_path_factory.mktemp("disque-plein")
    path = workbook(folder / "demandes.xlsx", many_demandes(DEMANDES))
    done = subprocess.run([sys.executable, "-m", "converter", "convertir", str(path), "-o", str(folder / "depot"),
                           "--date-depot", "20240312", "--registre", str(folder / "xl2segur.sqlite")],
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, capture_output=True)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    written = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p != path)
    return path, written


@pytest.mark.parametrize("share", [0.05, 0.16, 0.3, 0.4, 0.55, 0.8])
def test_a_disk_that_fills_up_loses_nothing_and_deposits_nothing_twice(
        tmp_path: Path, book: tuple[Path, int], share: float) -> None:
    path, written = book
    first, second, mount_point, scenario = scenario_folders(tmp_path, _SCENARIO)
    size = f"{int(written * share) // 4096 * 4}k"
    subprocess.run([*NAMESPACE, "sh", str(scenario), size, str(mount_point), str(first), str(second)],
                   env={"ROOT": str(ROOT), "PYTHON": sys.executable, "BOOK": str(path), "PATH": "/usr/bin:/bin:/sbin"},
                   check=True, timeout=300)

    said = (first / "sortie.txt").read_text()
    assert (first / "code.txt").read_text().strip() == "2", said
    assert "Traceback" not in said and "disque plein" in said and "Libérez de la place" in said, said
    assert "le classeur" not in said  # the disk, not the workbook
    before = _assert_sound(first / "disque", settled=False)

    after = _assert_sound(second / "disque")
    assert (second / "code.txt").read_text().strip() in ("0", "1"), (second / "sortie.txt").read_text()
    count = Counter(ne for numeros in after.values() for ne in numeros)
    assert len(count) == DEMANDES and set(count.values()) == {1}
    assert all(after[name] == numeros for name, numeros in before.items())  # kept as they were
