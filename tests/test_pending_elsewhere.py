"""A deposit file a failed run left pending (killed, stopped by a full disk), met by the next
commands wherever they work: a conversion into another folder, `etat`, `retirer`, `reecrire`.

The guarantee: every demande of a converted workbook ends in exactly one live deposit file (or
in the error workbook), the ledger lists exactly the deposit files on disk, nothing is
deposited twice, nothing is lost. A file the failed run never named holds no demande: no
command counts it, refuses its demandes as deposited, withdraws or writes it; a file it named
stays recorded, its demandes deposited (the user may have uploaded it)."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from converter import api, files, ledger
from tests.builders import workbook
from tests.test_cycle import DAY, avance_rows
from tests.test_ledger_core import _crash_after_recording

ROOT = Path(__file__).resolve().parents[1]
FIRST = "JSON-0123456789-20240312-001.json"

# a conversion stopped by a full disk: its first file cannot get its name, and the ledger, on
# the same disk, cannot forget it; the command ends (exit 2) and lets go of its lock
_FULL_DISK = """
import errno, sys
from converter import api, launch, ledger
def full(tmp, target, synced=False):
    raise OSError(errno.ENOSPC, "No space left on device")
def cannot_forget(self, pending):
    raise ledger.LedgerError("Le registre n'a pas pu être mis à jour (disque plein).")
api.publish, ledger.Ledger.forget = full, cannot_forget
sys.argv = ["xl2segur", *sys.argv[1:]]
launch.main()
"""


def _xl2segur(*command: str, script: str | None = None) -> subprocess.CompletedProcess:
    launcher = ["-c", script] if script else ["-m", "converter"]
    return subprocess.run([sys.executable, *launcher, *command], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)


def _pending(registre: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(registre) as db:
        return db.execute("SELECT nom, chemin FROM fichiers WHERE en_attente IS NOT NULL").fetchall()


def _killed_before_naming(tmp_path: Path) -> tuple[Path, Path]:
    """A conversion of 00001, 00002 into `depot/`, killed once its file is recorded pending,
    before it got its name (its lock file left there, held by nobody)."""
    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    proc = multiprocessing.get_context("spawn").Process(target=_crash_after_recording, args=(str(out), str(registre)))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 9 and not list(out.glob("JSON-*")) and len(_pending(registre)) == 1
    return out, registre


def _stopped_by_a_full_disk(tmp_path: Path) -> tuple[Path, Path]:
    """The same conversion stopped by a full disk: the command ended, its lock file gone."""
    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    book = workbook(tmp_path / "k.xlsx", avance_rows("00001", "00002"))
    done = _xl2segur("convertir", str(book), "-o", str(out), "--date-depot", f"{DAY:%Y%m%d}", "--registre",
                     str(registre), script=_FULL_DISK)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert not list(out.glob("JSON-*")) and not list(out.glob(f"{files.LOCK_PREFIX}*"))
    assert len(_pending(registre)) == 1
    return out, registre


@pytest.fixture(params=["tue", "disque plein"])
def failed(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A failed conversion's folder and ledger, a ledger of this machine alone (not shared)."""
    monkeypatch.delenv(ledger.ENVIRONMENT)
    return (_killed_before_naming if request.param == "tue" else _stopped_by_a_full_disk)(tmp_path)


def test_a_conversion_into_another_folder_deposits_the_demandes_of_a_file_a_failed_run_never_named(
        tmp_path: Path, failed: tuple[Path, Path]) -> None:
    out, registre = failed
    other = tmp_path / "juin"
    again = api.convert(workbook(tmp_path / "w.xlsx", avance_rows("00001", "00002")), other, DAY, registre=registre)
    assert again.accepted == ["00001", "00002"] and not again.errors
    assert [i.code for i in again.warnings if i.code.startswith("fichier_")] == ["fichier_abandonne"]
    [written] = again.files
    assert [line["numeroEditeur"] for line in orjson.loads(written.read_bytes())["lignesImport"]] == ["00001", "00002"]
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT nom, chemin, en_attente FROM fichiers").fetchall() == [
            (written.name, str(written.resolve()), None)]
    assert not [p for p in out.iterdir() if p.name.startswith((files.TMP_PREFIX, files.LOCK_PREFIX))]


def test_etat_counts_no_demande_of_a_file_a_failed_run_never_named(tmp_path: Path, failed: tuple[Path, Path]) -> None:
    _, registre = failed
    done = _xl2segur("etat", "--registre", str(registre), "-o", str(tmp_path / "etat.xlsx"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Déposées" not in done.stdout and "973" not in done.stdout, done.stdout
    assert _pending(registre) == []


@pytest.mark.parametrize("command", [["retirer", FIRST, "--oui"], ["reecrire", FIRST]])
def test_a_file_a_failed_run_never_named_is_neither_withdrawn_nor_written(
        tmp_path: Path, failed: tuple[Path, Path], command: list[str]) -> None:
    out, registre = failed
    done = _xl2segur(*command, "--registre", str(registre))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"ne connaît aucun fichier de dépôt « {FIRST} »" in done.stderr, done.stderr
    assert not list(out.glob("JSON-*")) and not (out / ledger.WITHDRAWN).exists()
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT count(*) FROM demandes").fetchone() == (0,)


def test_a_file_a_run_stopped_by_a_full_disk_named_stays_deposited_for_a_conversion_elsewhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Named, then the ledger could not mark it done (its disk full): the file is on disk, the user
    may have uploaded it; a conversion into another folder keeps its demandes deposited in it."""
    monkeypatch.delenv(ledger.ENVIRONMENT)
    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY, registre=registre)
    with sqlite3.connect(registre) as db:
        db.execute("UPDATE fichiers SET en_attente = 'deadbeefdeadbeef'")  # a run that ended, its lock file gone
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00001", "00002")), tmp_path / "juin", DAY,
                        registre=registre)
    assert [i.code for i in again.warnings if i.code.startswith("fichier_")] == ["fichier_adopte"]
    assert [(i.code, i.numero_editeur) for i in again.errors] == [("deja_deposee", "00001")]
    assert "pas encore marqué écrit" not in again.errors[0].message
    assert first.files[0].exists() and _pending(registre) == []


def test_a_shared_ledger_leaves_a_pending_file_of_another_folder_without_its_lock_file_to_that_folder(
        tmp_path: Path) -> None:
    """A team's ledger (XL2SEGUR_REGISTRE, as every test has it): another folder without the run's
    lock file may be another machine's, whose run still writes it; left alone (etat too)."""
    out, registre = _stopped_by_a_full_disk(tmp_path)
    _xl2segur("etat", "--registre", str(registre), "-o", str(tmp_path / "etat.xlsx"))
    assert len(_pending(registre)) == 1
    again = api.convert(workbook(tmp_path / "w.xlsx", avance_rows("00001")), tmp_path / "juin", DAY, registre=registre)
    assert [i.code for i in again.errors] == ["deja_deposee"] and "pas encore marqué écrit" in again.errors[0].message
    settled = api.convert(workbook(tmp_path / "x.xlsx", avance_rows("00001", "00002")), out, DAY, registre=registre)
    assert [i.code for i in settled.warnings if i.code.startswith("fichier_")] == ["fichier_abandonne"]
    assert settled.accepted == ["00001", "00002"]


# ------------------------------------------------------------ a file named by its path


def test_retirer_given_the_path_of_another_file_of_that_name_withdraws_nothing(tmp_path: Path) -> None:
    """`retirer ailleurs/JSON-…-001.json`, a colleague's file (another ledger, other demandes)
    under the name of one of this ledger's files: the ledger's file, perhaps uploaded, is neither
    withdrawn nor moved aside, its demandes stay deposited."""
    registre = tmp_path / "registre.sqlite"
    [mine] = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), tmp_path / "depot", DAY,
                         registre=registre).files
    [theirs] = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00003")), tmp_path / "ailleurs", DAY,
                           registre=tmp_path / "collegue.sqlite").files
    assert mine.name == theirs.name
    done = _xl2segur("retirer", str(theirs), "--oui", "--registre", str(registre))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "mais pas les demandes que le registre a inscrites sous ce nom" in done.stderr, done.stderr
    assert str(mine.resolve()) in done.stderr
    assert mine.is_file() and theirs.is_file() and not (mine.parent / ledger.WITHDRAWN).exists()
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT retire_le FROM fichiers").fetchall() == [(None,)]
        assert db.execute("SELECT statut FROM demandes").fetchall() == [("deposee",), ("deposee",)]
    freed, moved = api.withdraw(str(mine), registre)  # its own file, by its path: withdrawn
    assert freed == 2 and moved == mine.parent / ledger.WITHDRAWN / mine.name


def test_reecrire_given_the_path_of_a_recorded_file_changed_in_place_says_it_is_never_written_over(
        tmp_path: Path) -> None:
    """The file at the very path where it was written, changed by hand: the ledger's file, said
    changed (not « indicate it where it is »: the user did)."""
    registre = tmp_path / "registre.sqlite"
    [mine] = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), tmp_path / "depot", DAY,
                         registre=registre).files
    mine.write_bytes(mine.read_bytes().replace(b"00002", b"00009"))
    done = _xl2segur("reecrire", str(mine), "--registre", str(registre))
    assert done.returncode == 2 and "existe déjà avec un autre contenu" in done.stderr, done.stdout + done.stderr
