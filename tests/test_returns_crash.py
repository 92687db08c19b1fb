"""`xl2segur retour` and `xl2segur solde` killed (SIGKILL of the whole process group) at the
moments that matter, then run again: nothing recorded twice, nothing lost, no temporaries left."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from converter import api, files
from converter.ledger import default_path
from tests.builders import workbook
from tests.test_cycle import DAY, asp_return, avance_rows, pieces_folder
from tests.test_ledger_core import _environment, _kill_when

# runs the command, stopped for good at `point`, where the test kills it: « record », the
# return's outcomes written in the ledger's transaction, not committed; « publish », a workbook
# written under its temporary name, not yet named; « move », a withdrawal (or its undoing)
# committed, the file not yet moved; « half-moved », `retirer --annuler` with one of the file's
# zip archives or the file itself back from retires/, not the other; « set-aside-halfway »,
# `retirer` with the file set aside in retires/, not its zip archives
_STOPPED_AT = """
import sys, time
from pathlib import Path
from converter import files, launch, ledger
flag, point = Path(sys.argv[1]), sys.argv[2]
if point == "move":
    moved = ledger.move_with_zips
    def move_with_zips(path, into, kept=None):
        flag.touch()
        time.sleep(60)
    ledger.move_with_zips = move_with_zips
elif point == "record":
    recorded = ledger.Ledger.record_returns
    def record_returns(self, *args, **kwargs):
        recorded(self, *args, **kwargs)
        flag.touch()
        time.sleep(60)
    ledger.Ledger.record_returns = record_returns
elif point in ("set-aside-halfway", "half-moved"):
    # killed at the second move: into `retires/` (a withdrawal), or out of it (--annuler)
    published = ledger.publish
    def publish(tmp, target, synced=False):
        if (target if point == "set-aside-halfway" else tmp).parent.name == "retires" \
                and flag.with_suffix(".first").exists():
            flag.touch()
            time.sleep(60)
        flag.with_suffix(".first").touch()
        return published(tmp, target, synced)
    ledger.publish = publish
else:
    def publish(tmp, target, synced=False):
        flag.touch()
        time.sleep(60)
    files.publish = publish
sys.argv = ["xl2segur", *sys.argv[3:]]
launch.main()
"""


def _history(registre: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(registre) as db:
        return db.execute("SELECT d.numero_editeur, r.statut, r.numero_asp FROM retours r "
                          "JOIN demandes d ON d.id = r.demande_id ORDER BY r.id").fetchall()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith((files.TMP_PREFIX, files.LOCK_PREFIX)))


def _killed_at(tmp_path: Path, point: str, *command: str) -> None:
    flag = tmp_path / f"stopped-{point}"
    flag.unlink(missing_ok=True)
    assert _kill_when([sys.executable, "-c", _STOPPED_AT, str(flag), point, *command], flag.exists)


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "converter", *command], env=_environment(),
                          capture_output=True, text=True)


@pytest.mark.parametrize("point", ["record", "publish"])
def test_a_retour_killed_then_run_again_records_each_answer_once_and_leaves_no_temporary(
        tmp_path: Path, point: str) -> None:
    out, registre = tmp_path / "depot", default_path()
    deposit_file = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), out, DAY).files[0]
    returns = tmp_path / "retours"
    returned = asp_return(deposit_file, returns / deposit_file.name, {"00001": "FINMS2000001", "00002": "Pièce illisible"})
    command = ["retour", str(returned), "--registre", str(registre)]
    _killed_at(tmp_path, point, *command)
    answered = [("00001", "acceptee", "FINMS2000001"), ("00002", "rejetee", None)]
    assert _history(registre) == ([] if point == "record" else answered)  # one transaction: all or nothing
    done = _run(*command)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ("déjà enregistré" in done.stdout) == (point == "publish")
    assert _history(registre) == answered
    assert _leftovers(returns) == []
    assert sorted(p.name for p in returns.iterdir()) == [deposit_file.name, f"retour-ASP-{date.today():%Y%m%d}.xlsx"]


def test_a_solde_killed_while_writing_its_workbook_leaves_no_temporary_once_run_again(tmp_path: Path) -> None:
    out, registre = tmp_path / "depot", default_path()
    deposit_file = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY).files[0]
    api.ingest_returns([asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001"})], registre)
    soldes = tmp_path / "soldes"
    command = ["solde", "--registre", str(registre), "-o", str(soldes)]
    _killed_at(tmp_path, "publish", *command)
    done = _run(*command)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _leftovers(soldes) == []
    assert [p.name for p in soldes.iterdir()] == ["solde-ms2-dui-pds-solde-0123456789.xlsx"]


def test_a_withdrawal_killed_before_its_file_is_set_aside_is_finished_when_run_again(tmp_path: Path) -> None:
    """Killed once the ledger freed the demandes, before the file went into retires/: run again,
    `retirer` said « déjà retiré » and left it under its name, uploadable, while its demandes,
    free, could be deposited in another file."""
    out, registre = tmp_path / "depot", default_path()
    deposit_file = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY).files[0]
    withdrawn = withdrawn_and_restored_through_kills(tmp_path, deposit_file, registre)
    assert "mis de côté" in withdrawn.stdout


def withdrawn_and_restored_through_kills(tmp_path: Path, deposit_file: Path, registre: Path) -> subprocess.CompletedProcess:
    """`retirer`, killed before the file went into retires/, then run again; then `retirer
    --annuler`, killed and run again the same way: each finishes the move, and the demande is
    deposited again. Returns the withdrawal run to its end."""
    aside = deposit_file.parent / "retires" / deposit_file.name
    command = ["retirer", deposit_file.name, "--registre", str(registre), "--oui"]
    _killed_at(tmp_path, "move", *command)
    assert deposit_file.is_file()
    withdrawn = _run(*command)
    assert withdrawn.returncode == 0, withdrawn.stdout + withdrawn.stderr
    assert not deposit_file.exists() and aside.is_file()
    command = ["retirer", deposit_file.name, "--registre", str(registre), "--annuler"]
    _killed_at(tmp_path, "move", *command)
    assert not deposit_file.exists()
    done = _run(*command)
    assert done.returncode == 0, done.stdout + done.stderr
    assert deposit_file.is_file() and not aside.exists()
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT statut FROM demandes").fetchall() == [("deposee",)]
    return withdrawn


def test_a_withdrawal_killed_between_a_file_and_its_zip_sets_the_zip_aside_when_run_again(tmp_path: Path) -> None:
    """`retirer` killed once the file was in retires/, its zip not yet: run again, it said
    « déjà retiré » (exit code 2) and left the zip alone in the deposit folder, the pieces of a
    withdrawn file beside the files to upload. Run again, it now sets the zip aside with its file."""
    out, registre = tmp_path / "depot", default_path()
    converted = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY,
                            pieces=pieces_folder(tmp_path, "00001"))
    deposit_file, archive = converted.files[0], converted.archives[0]
    command = ["retirer", deposit_file.name, "--registre", str(registre), "--oui"]
    flag = tmp_path / "stopped-set-aside-halfway"
    assert _kill_when([sys.executable, "-c", _STOPPED_AT, str(flag), "set-aside-halfway", *command], flag.exists)
    assert not deposit_file.exists() and archive.is_file()  # stopped halfway
    done = _run(*command)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mis de côté" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["retires"]
    assert sorted(p.name for p in (out / "retires").iterdir()) == [deposit_file.name, archive.name]
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT statut FROM demandes").fetchall() == [("retiree",)]


def test_a_restore_killed_between_a_file_and_its_zip_brings_both_back_when_run_again(tmp_path: Path) -> None:
    """`retirer --annuler` killed once the file was back from retires/, its zip not yet: run
    again, the ledger said « pas retiré » and the zip stayed in retires/, where nobody would
    upload it with its file. The file now moves last, and the run again finishes the move."""
    out, registre = tmp_path / "depot", default_path()
    converted = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY,
                            pieces=pieces_folder(tmp_path, "00001"))
    deposit_file, archive = converted.files[0], converted.archives[0]
    api.withdraw(deposit_file.name, registre)
    assert not deposit_file.exists() and not archive.exists()
    command = ["retirer", deposit_file.name, "--registre", str(registre), "--annuler"]
    flag = tmp_path / "stopped-half-moved"
    assert _kill_when([sys.executable, "-c", _STOPPED_AT, str(flag), "half-moved", *command], flag.exists)
    assert archive.is_file() != deposit_file.is_file()  # stopped halfway
    done = _run(*command)
    assert done.returncode == 0, done.stdout + done.stderr
    assert deposit_file.is_file() and archive.is_file()
    assert sorted(p.name for p in (out / "retires").iterdir()) == []
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT statut FROM demandes").fetchall() == [("deposee",)]


def test_an_older_return_brought_back_with_confirmer_killed_then_run_again_is_recorded_once(tmp_path: Path) -> None:
    """`retour r1.json --confirmer`, r1 replaced since by r2 (a mistaken --confirmer undone),
    killed while recording: nothing of it recorded; run again, it is brought back once, and a
    third run records nothing new."""
    import orjson

    out, registre = tmp_path / "depot", default_path()
    deposit_file = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY).files[0]
    r1 = asp_return(deposit_file, tmp_path / "r1.json", {"00001": "FINMS2000001"})
    api.ingest_returns([r1], registre)
    r2 = asp_return(deposit_file, tmp_path / "r2.json", {"00001": "Pièce illisible"})
    r2.write_bytes(orjson.dumps({**orjson.loads(r2.read_bytes()), "impId": 99}))
    api.ingest_returns([r2], registre, confirm=True)
    before = _history(registre)
    command = ["retour", str(r1), "--registre", str(registre), "--confirmer", "-o", str(tmp_path / "b.xlsx")]
    _killed_at(tmp_path, "record", *command)
    assert _history(registre) == before
    done = _run(*command)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Rétabli, comme demandé (--confirmer)" in " ".join(done.stdout.split())
    assert _history(registre) == [*before, ("00001", "acceptee", "FINMS2000001")]
    again = _run(*command)
    assert again.returncode == 0 and "rien de nouveau" in again.stdout
    assert _history(registre) == [*before, ("00001", "acceptee", "FINMS2000001")]
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT statut, numero_asp FROM demandes").fetchall() == [("acceptee", "FINMS2000001")]
