"""SIGKILL of a real `xl2segur` process (its whole process group) at several moments of the
commands that write other than a plain `convertir`: `importer` (a colleague's deposit files
and the ASP's returns of them) and `convertir --pieces` (zip archives beside each file); then
the same command run again. Whatever the moment: every demande in exactly one recorded file on
disk, each zip beside its recorded file (none alone), each answer recorded once, no temporary
left as an output."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest

from converter import api, files, ledger
from tests.builders import many_demandes, workbook
from tests.test_cycle import DAY, PDF, asp_return
from tests.test_ledger_core import _environment, _kill_when


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "converter", *command], env=_environment(),
                          capture_output=True, text=True)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith((files.TMP_PREFIX, files.LOCK_PREFIX)))


@pytest.fixture(scope="module")
def colleague(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three deposit files a colleague's ledger wrote, and the ASP's return of each."""
    folder = tmp_path_factory.mktemp("collegue")
    made = api.convert(workbook(folder / "c.xlsx", many_demandes(450)), folder / "depot", DAY,
                       registre=folder / "collegue.sqlite").files
    returns = []
    for path in made:
        numeros = [line["numeroEditeur"] for line in orjson.loads(path.read_bytes())["lignesImport"]]
        returns.append(asp_return(path, folder / "retours" / path.name,
                                  {ne: f"FINMS2{int(ne):06d}" if int(ne) % 4 else "Pièce illisible" for ne in numeros}))
    return returns


def _count(registre: Path, table: str) -> int:
    """Rows of `table` the ledger holds (committed), 0 while it is not there or not readable."""
    try:
        with sqlite3.connect(f"{registre.as_uri()}?mode=ro", uri=True, timeout=0) as db:
            return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:
        return 0


def _killed_in_time(command: list[str], registre: Path, ready, attempts: int = 5) -> bool:
    """`_kill_when`, again on a new ledger when the command ended first: looked at from outside,
    the last moments (the last file and its answers recorded, then the exit) may pass between two
    looks on a loaded machine, and the kill would test nothing."""
    for _ in range(attempts):
        if _kill_when(command, ready):
            return True
        for left in (registre, *(Path(f"{registre}{end}") for end in ("-wal", "-shm", "-journal"))):
            left.unlink(missing_ok=True)
    return False


@pytest.mark.parametrize("files_in, answers_in", [(1, 0), (1, 1), (2, 0), (2, 51), (3, 0), (3, 101)])
def test_importer_killed_then_run_again_records_each_file_and_each_answer_once(
        tmp_path: Path, colleague: list[Path], files_in: int, answers_in: int) -> None:
    """Killed once `files_in` files and `answers_in` answers are recorded."""
    registre = tmp_path / "registre.sqlite"
    command = ["importer", *map(str, colleague), "--registre", str(registre)]
    assert _killed_in_time([sys.executable, "-m", "converter", *command], registre,
                           lambda: _count(registre, "fichiers") >= files_in and _count(registre, "retours") >= answers_in)
    done = _run(*command)
    assert done.returncode == 0, done.stdout + done.stderr
    with sqlite3.connect(registre) as db:
        files_recorded = db.execute("SELECT nom, en_attente FROM fichiers ORDER BY nom").fetchall()
        answers = db.execute("SELECT d.numero_editeur, count(r.id) FROM demandes d LEFT JOIN retours r "
                             "ON r.demande_id = d.id GROUP BY d.id").fetchall()
    assert files_recorded == [(p.name, None) for p in colleague]
    assert sorted(ne for ne, _ in answers) == [f"{i:05d}" for i in range(1, 451)]
    assert {n for _, n in answers} == {1}
    assert _leftovers(colleague[0].parent) == []


@pytest.fixture(scope="module")
def with_pieces(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A workbook of 450 demandes (three files), and the folder of their pieces."""
    folder = tmp_path_factory.mktemp("pieces")
    pieces = folder / "pieces"
    pieces.mkdir()
    for i in range(1, 451):
        (pieces / f"MS2-DUI-Va1-BDC-{i:05d}.pdf").write_bytes(PDF + bytes(range(256)) * 200)
    return workbook(folder / "w.xlsx", many_demandes(450)), pieces


def _zips(out: Path) -> list[Path]:
    return sorted(out.glob("JSON-*.zip")) if out.is_dir() else []


@pytest.mark.parametrize("moment", ["first zip temporary", "first zip", "first file", "second zip", "third zip"])
def test_convertir_pieces_killed_then_run_again_leaves_each_zip_beside_its_recorded_file(
        tmp_path: Path, with_pieces: tuple[Path, Path], moment: str) -> None:
    book, pieces = with_pieces
    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    ready = {
        "first zip temporary": lambda: out.is_dir() and any(
            p.stat().st_size > 0 for p in out.glob(f"{files.TMP_PREFIX}*") if "-j" not in p.name),
        "first zip": lambda: len(_zips(out)) >= 1,
        "first file": lambda: out.is_dir() and len(list(out.glob("JSON-*.json"))) >= 1,
        "second zip": lambda: len(_zips(out)) >= 2,
        "third zip": lambda: len(_zips(out)) >= 3,
    }[moment]
    command = ["convertir", str(book), "-o", str(out), "--date-depot", f"{DAY:%Y%m%d}", "--pieces", str(pieces),
               "--registre", str(registre), "-q"]
    assert _kill_when([sys.executable, "-m", "converter", *command], ready)
    done = _run(*command)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    with sqlite3.connect(registre) as db:
        recorded = db.execute("SELECT nom, en_attente FROM fichiers WHERE retire_le IS NULL ORDER BY nom").fetchall()
    on_disk = sorted(p.name for p in out.glob("JSON-*.json"))
    assert [(name, None) for name in on_disk] == recorded
    assert sorted(p.stem for p in _zips(out)) == [Path(name).stem for name in on_disk]  # none alone, none missing
    count = Counter(line["numeroEditeur"] for name in on_disk
                    for line in orjson.loads((out / name).read_bytes())["lignesImport"])
    assert len(count) == 450 and set(count.values()) == {1}
    assert _leftovers(out) == []


# runs the command, stopped for good (where the test kills it) when it gives a file written under
# its temporary name the name `sys.argv[2]` ends with (« .zip »: an archive; « .json »: the file)
_STOPPED_NAMING = """
import sys, time
from pathlib import Path
from converter import files, launch
flag, end = Path(sys.argv[1]), sys.argv[2]
published = files.publish
def publish(tmp, target, synced=False):
    if target.name.endswith(end):
        flag.touch()
        time.sleep(60)
    return published(tmp, target, synced)
files.publish = publish
sys.argv = ["xl2segur", *sys.argv[3:]]
launch.main()
"""


@pytest.mark.parametrize("end", [".zip", ".json"])
def test_reecrire_pieces_killed_then_run_again_writes_the_file_and_its_zip_as_recorded(
        tmp_path: Path, end: str) -> None:
    """`reecrire --pieces` killed as it names its archive, or its file (the archive named): run
    again, the file and its archive are there as the conversion wrote them, no temporary left;
    the conversion that follows in that folder finds nothing alone nor unknown."""
    pieces = tmp_path / "pieces"
    pieces.mkdir()
    for i in (1, 2, 3):
        (pieces / f"MS2-DUI-Va1-BDC-{i:05d}.pdf").write_bytes(PDF)
    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    made = api.convert(workbook(tmp_path / "a.xlsx", many_demandes(2)), out, DAY, pieces=pieces, registre=registre)
    written = {p.name: p.read_bytes() for p in out.glob("JSON-*")}
    assert sorted(written) == [made.files[0].name, made.files[0].with_suffix(".zip").name]
    for p in out.glob("JSON-*"):
        p.unlink()
    command = ["reecrire", made.files[0].name, "--pieces", str(pieces), "--registre", str(registre)]
    flag = tmp_path / "nommage"
    assert _kill_when([sys.executable, "-c", _STOPPED_NAMING, str(flag), end, *command], flag.exists)
    done = _run(*command)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p.name: p.read_bytes() for p in out.glob("JSON-*")}.keys() == written.keys()
    assert (out / made.files[0].name).read_bytes() == written[made.files[0].name]
    with sqlite3.connect(registre) as db:
        [(members,)] = db.execute("SELECT membres FROM archives").fetchall()
    zipped = out / made.files[0].with_suffix(".zip").name
    assert ledger.members(zipped) == orjson.loads(members)
    assert _leftovers(out) == []
    later = api.convert(workbook(tmp_path / "b.xlsx", many_demandes(3)), out, DAY, pieces=pieces, registre=registre)
    assert later.accepted == ["00003"] and later.files[0].name.endswith("-002.json")
