"""Issue #17, part A: the ledger's deposit side.

A file under its final name exists only if it is recorded (crashes, dead runs' temporaries);
one history per numeroAns whatever the output folder; a recorded file written again or
withdrawn; no ledger created by a run that fails its arguments.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from converter import api, deposit, files, ledger
from converter.cli import app
from converter.files import OutputError
from converter.ledger import Ledger, default_path
from tests.builders import many_demandes, workbook
from tests.test_cycle import DAY, PDF, asp_return, avance_rows, deposited, pieces_folder

ROOT = Path(__file__).resolve().parents[1]


def _deposit_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("JSON-*.json"))


def _live(registre: Path) -> list[tuple[str, str]]:
    """(numeroEditeur, file) of every demande live in the ledger (written, not rejected nor withdrawn)."""
    with sqlite3.connect(registre) as db:
        return db.execute("SELECT d.numero_editeur, f.nom FROM demandes d JOIN fichiers f ON f.id = d.fichier_id "
                          "WHERE d.statut NOT IN ('rejetee', 'retiree') ORDER BY d.id").fetchall()


def _assert_one_file_per_demande(folder: Path, registre: Path, numeros: list[str]) -> None:
    """The invariant: every demande is in exactly one JSON file of the folder, recorded once,
    and every file of the folder is recorded, done, with the content it has."""
    in_files = [(ne, path.name) for path in _deposit_files(folder) for ne in deposited(path)]
    assert sorted(ne for ne, _ in in_files) == sorted(numeros)
    assert sorted(_live(registre)) == sorted(in_files)
    with Ledger(registre, create=False) as book:
        rows = book.db.execute("SELECT * FROM fichiers").fetchall()
        assert sorted(r["nom"] for r in rows) == [p.name for p in _deposit_files(folder)]
        for row in rows:
            assert row["en_attente"] is None
            assert book.file_bytes(row) == (folder / row["nom"]).read_bytes()
    assert not list(folder.glob(f"{files.TMP_PREFIX}*")) and not list(folder.glob(f"{files.LOCK_PREFIX}*"))


# ------------------------------------------------------------ 1. crashes


def _convert_command(book: Path, out: Path, registre: Path) -> list[str]:
    return [sys.executable, "-m", "converter", "convertir", str(book), "-o", str(out), "--date-depot", "20240312",
            "--registre", str(registre), "-q"]


def _kill_when(command: list[str], ready, timeout: float = 60) -> bool:
    """Run `command` in a process group of its own; SIGKILL the group as soon as `ready()`.
    Returns whether it was killed (False: it ended first)."""
    env = _environment()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if ready():
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.001)
        return False
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


_WITH_A_SMALL_LOG = """
import sys
from converter import concurrency, launch
concurrency.RESTART_LOG_ABOVE, concurrency.CHECKPOINT_EVERY = 1 << 16, 0.002
sys.argv = ["xl2segur", *sys.argv[1:]]
launch.main()
"""


def _environment() -> dict[str, str]:
    """The environment of a conversion run as a process: this one's (the test's ledger is
    shared, or of this machine), the project importable."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_conversions_killed_at_several_points_leave_every_demande_in_exactly_one_recorded_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, journal_mode: str) -> None:
    """SIGKILL of the whole process group once 1, then 3 files exist, then while the ledger
    is being written (its rollback journal exists), then the same command run to its end:
    every demande is in exactly one file of the folder, each file recorded once.

    `wal`: a ledger of this machine alone, as most users have it (a write-ahead log, which a
    thread checkpoints, and restarts, while the files are recorded); the third kill comes
    while that log holds pages. `delete`: a shared ledger (XL2SEGUR_REGISTRE), rollback journal."""
    numeros = [f"{i:05d}" for i in range(1, 2001)]  # 10 files, checked in a second process (PARALLEL_FROM)
    book = workbook(tmp_path / "w.xlsx", many_demandes(len(numeros)))
    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    command = _convert_command(book, out, registre)
    if journal_mode == "wal":
        monkeypatch.delenv(ledger.ENVIRONMENT)
        command[1:3] = ["-c", _WITH_A_SMALL_LOG]  # the log restarted many times in 10 files
    journal = registre.with_name(registre.name + ("-wal" if journal_mode == "wal" else "-journal"))
    points = [lambda: len(_deposit_files(out)) >= 1, lambda: len(_deposit_files(out)) >= 3,
              lambda: len(_deposit_files(out)) >= 5 and journal.exists() and journal.stat().st_size > 0]
    killed = [_kill_when(command, ready) for ready in points]
    assert killed[:2] == [True, True]  # the third may miss its moment on a busy machine: still a run
    assert 3 <= len(_deposit_files(out)) < 10
    with sqlite3.connect(registre) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == journal_mode
    done = subprocess.run(command, env=_environment(), capture_output=True, text=True)
    # the demandes of the files already written are signalled, not deposited twice
    assert done.returncode == 1 and "Classeur des demandes refusées parce que déjà déposées" in done.stdout, done.stderr
    _assert_one_file_per_demande(out, registre, numeros)
    assert not (out / "hors-registre").exists()  # a named file was always recorded: nothing unknown


def _crash_after_recording(out: str, registre: str) -> None:  # runs in a child process
    """Killed once its file is recorded pending, before it gets its name."""
    def killed(tmp: Path, target: Path, synced: bool = False) -> bool:
        os._exit(9)
    api.publish = killed  # the name the conversion calls
    api.convert(workbook(Path(out).parent / "k.xlsx", avance_rows("00001", "00002")), Path(out), DAY,
                registre=Path(registre))


def test_a_file_recorded_but_never_named_is_dropped_and_its_temporaries_removed_at_once(tmp_path: Path) -> None:
    import multiprocessing

    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    proc = multiprocessing.get_context("spawn").Process(target=_crash_after_recording, args=(str(out), str(registre)))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 9
    assert list(out.glob(f"{files.TMP_PREFIX}*")) and not _deposit_files(out)
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT count(*) FROM fichiers WHERE en_attente IS NOT NULL").fetchone() == (1,)
    again = api.convert(workbook(tmp_path / "w.xlsx", avance_rows("00001", "00002")), out, DAY, registre=registre)
    assert [i.code for i in again.warnings if i.code.startswith("fichier_")] == ["fichier_abandonne"]
    assert again.accepted == ["00001", "00002"] and [p.name for p in again.files] == ["JSON-0123456789-20240312-001.json"]
    _assert_one_file_per_demande(out, registre, ["00001", "00002"])


def _crash_after_zipping(out: str, registre: str, pieces: str) -> None:  # runs in a child process
    """Killed once the zip of its file is written under its final name, before the file gets its name."""
    def killed(tmp: Path, target: Path, synced: bool = False) -> bool:
        os._exit(9)
    api.publish = killed  # the name the conversion calls
    api.convert(workbook(Path(out).parent / "k.xlsx", avance_rows("00001", "00002")), Path(out), DAY,
                registre=Path(registre), pieces=Path(pieces))


@pytest.mark.parametrize("again_in", ["depot", "ailleurs"])
def test_a_zip_written_for_a_file_that_never_got_its_name_goes_with_it(tmp_path: Path, again_in: str) -> None:
    """Killed between the zip of a deposit file and its name: the zip was left under its final
    name without its file, and the next conversion into that folder stopped on it (« existe
    déjà »). The file is dropped from the ledger, and its zip with it, wherever the user
    converts next; the new file gets its complete zip."""
    import multiprocessing

    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    pieces = pieces_folder(tmp_path, "00001", "00002")
    proc = multiprocessing.get_context("spawn").Process(target=_crash_after_zipping,
                                                        args=(str(out), str(registre), str(pieces)))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 9
    assert [p.name for p in out.glob("JSON-*")] == ["JSON-0123456789-20240312-001.zip"]
    again = api.convert(workbook(tmp_path / "w.xlsx", avance_rows("00001", "00002")), tmp_path / again_in, DAY,
                        registre=registre, pieces=pieces)
    assert [i.code for i in again.warnings if i.code.startswith("fichier_")] == ["fichier_abandonne"]
    assert again.accepted == ["00001", "00002"]
    assert [p.name for p in again.files] == ["JSON-0123456789-20240312-001.json"]
    assert [p.name for p in again.archives] == ["JSON-0123456789-20240312-001.zip"]
    with zipfile.ZipFile(again.archives[0]) as zf:
        assert zf.namelist() == ["MS2-DUI-Va1-BDC-00001.pdf", "MS2-DUI-Va1-BDC-00002.pdf"]
    assert not list(out.glob("JSON-*.zip")) or again_in == "depot"  # no zip without its file
    _assert_one_file_per_demande(tmp_path / again_in, registre, ["00001", "00002"])


def test_a_zip_that_is_not_the_dropped_files_is_left_alone(tmp_path: Path) -> None:
    """A zip named like a dropped file that holds other names (the user's own) is not removed."""
    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    pieces = pieces_folder(tmp_path, "00001")
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY, registre=registre, pieces=pieces)
    with sqlite3.connect(registre) as db:
        db.execute("UPDATE fichiers SET en_attente = 'deadbeefdeadbeef'")  # its run is gone: no lock held
    deposit_file = out / "JSON-0123456789-20240312-001.json"
    deposit_file.rename(out / f"{files.TMP_PREFIX}deadbeefdeadbeef-j0")  # never named
    theirs = out / "JSON-0123456789-20240312-001.zip"
    theirs.unlink()
    with zipfile.ZipFile(theirs, "w") as zf:
        zf.writestr("mes-notes.txt", "à garder")
    with Ledger(registre) as book:
        assert book.reconcile(out) == [("abandonne", deposit_file.resolve())]
    assert theirs.is_file()


def test_a_pending_file_of_a_dead_run_found_under_its_name_is_kept(tmp_path: Path) -> None:
    """Named, then killed before the run marked it done: the file is the recorded one, kept."""
    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY, registre=registre)
    with sqlite3.connect(registre) as db:
        db.execute("UPDATE fichiers SET en_attente = 'deadbeefdeadbeef'")  # its run is gone: no lock held
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00001", "00002")), out, DAY, registre=registre)
    assert [i.code for i in again.warnings if i.code.startswith("fichier_")] == ["fichier_adopte"]
    assert [(i.code, i.numero_editeur) for i in again.errors] == [("deja_deposee", "00001")]
    _assert_one_file_per_demande(out, registre, ["00001", "00002"])
    assert first.files[0].exists()


def test_the_error_workbook_names_the_deposit_file_a_warning_is_about(tmp_path: Path) -> None:
    """The ledger's warning about a deposit file (« Ce fichier de dépôt, nommé par une conversion
    interrompue… ») was written in the error workbook's « Erreurs » sheet without the file's
    name, which the console gives (« fichier « JSON-…json » : … »): the sheet names it too."""
    import openpyxl

    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY, registre=registre)
    with sqlite3.connect(registre) as db:
        db.execute("UPDATE fichiers SET en_attente = 'deadbeefdeadbeef'")  # its run is gone: no lock held
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00001", "00002")), out, DAY, registre=registre)
    [kept] = [i for i in again.warnings if i.code == "fichier_adopte"]
    said = kept.render()
    assert said.startswith("fichier « JSON-0123456789-20240312-001.json » : Ce fichier de dépôt")
    table = openpyxl.load_workbook(again.error_workbook)["Erreurs"]
    assert said in [r[7] for r in table.iter_rows(min_row=2, values_only=True)]


def test_a_named_file_moved_away_before_its_dead_run_was_settled_stays_deposited(tmp_path: Path) -> None:
    """Killed after naming its file, before marking it done; the user uploads the file and files
    it elsewhere before converting again. Under neither its name nor its temporary one, it was
    named: kept, its demandes deposited (it was taken for one never named, and its demandes
    went into a second file), with the way out if it was never uploaded."""
    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY, registre=registre).files[0]
    with sqlite3.connect(registre) as db:
        db.execute("UPDATE fichiers SET en_attente = 'deadbeefdeadbeef'")  # its run is gone: no lock held
    (tmp_path / "archives").mkdir()
    first.rename(tmp_path / "archives" / first.name)
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00001", "00002")), out, DAY, registre=registre)
    [kept] = [i for i in again.warnings if i.code.startswith("fichier_")]
    assert kept.code == "fichier_adopte_absent"
    assert f"retirez-le (« xl2segur retirer {first.name} ») : ses demandes seront de nouveau libres" in kept.message
    assert [(i.code, i.numero_editeur) for i in again.errors] == [("deja_deposee", "00001")]
    assert [p.name for p in again.files] == ["JSON-0123456789-20240312-002.json"]
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT count(*) FROM fichiers WHERE en_attente IS NOT NULL").fetchone() == (0,)
        assert sorted(db.execute("SELECT numero_editeur FROM demandes")) == [("00001",), ("00002",)]


def test_a_workbook_written_in_the_folder_leaves_a_dead_conversions_temporaries_to_the_ledger(tmp_path: Path) -> None:
    """A file recorded, never named, its run killed: its temporary tells the next conversion
    so. An error or state workbook written there meanwhile cleans what dead runs left, but not
    that: without it, the file would be taken for one named and moved away."""
    import multiprocessing

    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    proc = multiprocessing.get_context("spawn").Process(target=_crash_after_recording, args=(str(out), str(registre)))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 9
    files.write_new(out / "etat.xlsx", lambda tmp: tmp.write_bytes(b"x"))
    assert list(out.glob(f"{files.TMP_PREFIX}*"))
    again = api.convert(workbook(tmp_path / "w.xlsx", avance_rows("00001", "00002")), out, DAY, registre=registre)
    assert [i.code for i in again.warnings if i.code.startswith("fichier_")] == ["fichier_abandonne"]
    _assert_one_file_per_demande(out, registre, ["00001", "00002"])


def test_a_pending_file_of_a_live_run_is_left_alone(tmp_path: Path) -> None:
    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY, registre=registre)
    with sqlite3.connect(registre) as db:
        db.execute("UPDATE fichiers SET en_attente = ?", (files.RUN_ID,))  # this process: alive
    (out / deposited.__name__).write_text("")  # not a deposit file: ignored
    with Ledger(registre) as book:
        assert book.reconcile(out) == []
        assert book.db.execute("SELECT en_attente FROM fichiers").fetchone()[0] == files.RUN_ID


def test_a_pending_file_of_another_folder_is_left_to_that_folder(tmp_path: Path) -> None:
    """Another folder may be another machine's (a shared ledger): its run's lock is not seen here."""
    registre = tmp_path / "registre.sqlite"
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "ailleurs", DAY, registre=registre)
    with sqlite3.connect(registre) as db:
        db.execute("UPDATE fichiers SET en_attente = 'deadbeefdeadbeef'")
    with Ledger(registre) as book:
        assert book.reconcile(tmp_path / "depot") == []
        assert book.reconcile(tmp_path / "ailleurs") == [("adopte", (tmp_path / "ailleurs").resolve() /
                                                          "JSON-0123456789-20240312-001.json")]


def test_a_run_killed_before_naming_frees_its_demandes_for_a_conversion_into_another_folder(tmp_path: Path) -> None:
    """Killed once its file is recorded pending, before it got its name, then the user converts
    into another folder: the dead run's own lock file, left in its folder and held by nobody,
    says it is dead. Its demandes were in no file on disk: they are free, not « déjà déposée »."""
    import multiprocessing

    out, registre = tmp_path / "depot", tmp_path / "registre.sqlite"
    proc = multiprocessing.get_context("spawn").Process(target=_crash_after_recording, args=(str(out), str(registre)))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 9 and not _deposit_files(out) and list(out.glob(f"{files.LOCK_PREFIX}*"))
    other = tmp_path / "juin"
    again = api.convert(workbook(tmp_path / "w.xlsx", avance_rows("00001", "00002")), other, DAY, registre=registre)
    assert [i.code for i in again.warnings if i.code.startswith("fichier_")] == ["fichier_abandonne"]
    assert again.accepted == ["00001", "00002"] and not again.errors
    _assert_one_file_per_demande(other, registre, ["00001", "00002"])
    assert not list(out.iterdir())  # nor its temporaries and lock file left there


def test_a_named_pending_file_of_a_dead_run_in_another_folder_is_kept(tmp_path: Path) -> None:
    """Named, then killed before its run marked it done; the next conversion goes elsewhere."""
    registre = tmp_path / "registre.sqlite"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "depot", DAY, registre=registre)
    with sqlite3.connect(registre) as db:
        db.execute("UPDATE fichiers SET en_attente = 'deadbeefdeadbeef'")
    (tmp_path / "depot" / f"{files.LOCK_PREFIX}deadbeefdeadbeef.lock").write_text("")  # its lock, held by nobody
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00001", "00002")), tmp_path / "juin", DAY,
                        registre=registre)
    assert [i.code for i in again.warnings if i.code.startswith("fichier_")] == ["fichier_adopte"]
    assert [(i.code, i.numero_editeur) for i in again.errors] == [("deja_deposee", "00001")]
    assert first.files[0].exists()
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT count(*) FROM fichiers WHERE en_attente IS NOT NULL").fetchone() == (0,)


def test_a_pending_file_of_a_dead_run_in_another_folder_on_a_network_share_is_left_to_that_folder(
        tmp_path: Path, monkeypatch) -> None:
    """On a network share, a lock may not reach another machine's run (an SMB share mounted
    without byte-range locks): its lock file, seemingly held by nobody, does not say that run is
    dead. Its pending file is left to a conversion into its own folder, as before."""
    registre = tmp_path / "registre.sqlite"
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "partage", DAY, registre=registre)
    with sqlite3.connect(registre) as db:
        db.execute("UPDATE fichiers SET en_attente = 'deadbeefdeadbeef'")
    (tmp_path / "partage" / f"{files.LOCK_PREFIX}deadbeefdeadbeef.lock").write_text("")
    share = (tmp_path / "partage").resolve()
    monkeypatch.setattr(ledger, "on_network_share", lambda path: Path(path).resolve().parent == share)
    with Ledger(registre) as book:
        assert book.reconcile(tmp_path / "juin") == []
        assert book.db.execute("SELECT en_attente FROM fichiers").fetchone()[0] == "deadbeefdeadbeef"
        assert book.reconcile(tmp_path / "partage") == [("adopte", share / "JSON-0123456789-20240312-001.json")]


def test_a_demande_of_a_pending_file_of_another_folder_says_where_to_settle_it(tmp_path: Path) -> None:
    """A pending file of another folder whose run's lock is not seen here (another machine's, a
    shared ledger): left alone, its demandes stay deposited. The message says so, and where a
    conversion settles it, since the file may be nowhere on disk."""
    registre = tmp_path / "registre.sqlite"
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "ailleurs", DAY, registre=registre)
    with sqlite3.connect(registre) as db:
        db.execute("UPDATE fichiers SET en_attente = 'deadbeefdeadbeef'")
    book = workbook(tmp_path / "b.xlsx", avance_rows("00001"))
    again = api.convert(book, tmp_path / "depot", DAY, registre=registre)
    [found] = again.errors
    assert found.code == "deja_deposee"
    assert (f"(fichier JSON-0123456789-20240312-001.json, pas encore marqué écrit : une autre conversion l'écrit dans "
            f"le dossier « {(tmp_path / 'ailleurs').resolve()} », ou y a été interrompue ; une conversion dans ce "
            "dossier remet d'accord le registre") in found.message
    settled = api.convert(book, tmp_path / "ailleurs", DAY, registre=registre)
    assert [i.code for i in settled.warnings if i.code.startswith("fichier_")] == ["fichier_adopte"]
    assert "pas encore marqué écrit" not in settled.errors[0].message


def test_a_folder_holding_a_deposit_file_the_ledger_does_not_know_is_refused_untouched(tmp_path: Path) -> None:
    """Written by hand, or with another ledger (a trial --registre, a colleague's): moving it
    aside would hide a file another ledger rightly holds; writing beside it could deposit its
    demandes twice. Nothing is written, nothing moved, and the message says the ways out."""
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY)
    stranger = out / "JSON-0123456789-20240312-007.json"
    stranger.write_bytes(first.files[0].read_bytes().replace(b"00001", b"00009"))
    (out / "JSON-0123456789-20240312-007.zip").write_bytes(b"PK")
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(ledger.LedgerError) as refused:
        api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), out, DAY)
    assert "« JSON-0123456789-20240312-007.json »" in str(refused.value) and "rien n'est écrit ni déplacé" in str(refused.value)
    assert sorted(p.name for p in out.iterdir()) == before
    # a trial ledger pointed at the real folder: the real file stays where it is
    with pytest.raises(ledger.LedgerError, match="« JSON-0123456789-20240312-001.json »"):
        api.convert(workbook(tmp_path / "c.xlsx", avance_rows("00003")), out, DAY, registre=tmp_path / "essai.sqlite")
    assert sorted(p.name for p in out.iterdir()) == before
    result = CliRunner().invoke(app, ["convertir", str(tmp_path / "c.xlsx"), "-o", str(out),
                                      "--registre", str(tmp_path / "essai.sqlite")])
    assert result.exit_code == 2 and "Traceback" not in result.output and "-o" in result.output


def test_a_ledger_restored_from_a_backup_is_told_to_import_its_newer_files_not_to_convert_elsewhere(
        tmp_path: Path) -> None:
    """The ledger restored from a backup older than the last deposit file (or its -wal log
    deleted): that file is unknown. Converting into another folder would deposit its demandes
    again; the message says so, and its way out (importer) works."""
    out, registre, backup = tmp_path / "depot", tmp_path / "registre.sqlite", tmp_path / "sauvegarde.sqlite"
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY, registre=registre)
    backup.write_bytes(registre.read_bytes())
    second = workbook(tmp_path / "b.xlsx", avance_rows("00002"))
    newer = api.convert(second, out, DAY, registre=registre).files[0]
    registre.write_bytes(backup.read_bytes())
    with pytest.raises(ledger.LedgerError) as refused:
        api.convert(second, out, DAY, registre=registre)
    message = " ".join(str(refused.value).split())
    assert f"« {newer.name} »" in message and "restauré d'une sauvegarde" in message
    assert ("inscrivez-les d'abord à celui-ci avec « xl2segur importer » : convertir dans un autre dossier déposerait "
            "leurs demandes une seconde fois") in message
    assert [i.refused for i in api.import_deposits([newer], registre)] == [""]
    again = api.convert(second, out, DAY, registre=registre)
    assert [(i.code, i.numero_editeur) for i in again.errors] == [("deja_deposee", "00002")] and not again.files


@pytest.mark.parametrize("trial", [("00002", "00003"), ("00002",)])
def test_a_recorded_file_replaced_under_its_name_by_a_trial_ledgers_file_is_refused(
        tmp_path: Path, trial: tuple[str, ...]) -> None:
    """The recorded file deleted, then a trial ledger writes its own file under the same name in
    that folder: the name and the path are the recorded ones, not the demandes. Taken as the
    recorded file, its demandes would go again under the next rank, and the recorded ones would
    be in no file. Refused, with the way out; once set aside, `reecrire` brings the recorded
    one back. Same size too (one demande for one): it was written after the recorded one."""
    out, essai = tmp_path / "depot", tmp_path / "essai.sqlite"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY).files[0]
    with sqlite3.connect(default_path()) as db:  # written an hour before
        db.execute("UPDATE fichiers SET ecrit_le = datetime(ecrit_le, '-1 hour')")
    first.unlink()
    trial_book = workbook(tmp_path / "t.xlsx", avance_rows(*trial))
    assert api.convert(trial_book, out, DAY, registre=essai).files == [first]
    with pytest.raises(ledger.LedgerError) as refused:
        api.convert(trial_book, out, DAY)
    message = " ".join(str(refused.value).split())
    assert (f"« {first.name} » n'a plus les demandes que le registre a inscrites sous ce nom (modifié à la main, ou "
            f"remplacé par un fichier écrit avec un autre registre) : mettez-le de côté hors de ce dossier sans le "
            f"déposer, puis « xl2segur reecrire {first.name} » réécrit celui du registre") in message
    first.rename(tmp_path / "essai.json")
    api.rewrite(first.name, default_path())
    again = api.convert(trial_book, out, DAY)
    assert again.errors == [] and [p.name for p in again.files] == ["JSON-0123456789-20240312-002.json"]
    _assert_one_file_per_demande(out, default_path(), ["00001", *trial])


def test_a_recorded_file_replaced_by_an_older_copy_of_the_same_size_is_refused(tmp_path: Path) -> None:
    """A copy keeps the time its source was last written (Windows Explorer, the Finder, `cp -p`,
    a backup restored): a trial ledger's file written an hour before, copied over the recorded
    one, has its size (one demande for one) and an older modification time. Its change time
    (POSIX) or creation time (Windows) is the copy's: it is read, and refused."""
    out, essai = tmp_path / "depot", tmp_path / "essai.sqlite"
    trial = api.convert(workbook(tmp_path / "t.xlsx", avance_rows("00002")), tmp_path / "essai", DAY,
                        registre=essai).files[0]
    an_hour_ago = time.time() - 3600
    os.utime(trial, (an_hour_ago, an_hour_ago))
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY).files[0]
    assert first.name == trial.name and first.stat().st_size == trial.stat().st_size
    with sqlite3.connect(default_path()) as db:  # recorded half an hour ago: copied over much later
        db.execute("UPDATE fichiers SET ecrit_le = datetime(ecrit_le, '-30 minutes')")
    os.utime(first, (an_hour_ago + 1800, an_hour_ago + 1800))
    shutil.copy2(trial, first)  # its content and its modification time
    with pytest.raises(ledger.LedgerError) as refused:
        api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), out, DAY)
    assert f"« {first.name} » n'a plus les demandes que le registre a inscrites sous ce nom" in \
        " ".join(str(refused.value).split())


@pytest.mark.parametrize("reason, said, advice", [
    ("database or disk is full", "disque plein", "Libérez de la place sur son disque"),
    ("database is locked", "occupé par une autre commande xl2segur depuis plus d'une minute",
     "Attendez la fin de l'autre commande"),
    ("attempt to write a readonly database", "fichier ou dossier en lecture seule",
     "Rendez-le accessible en écriture, lui et son dossier"),
])
def test_sqlite_failing_during_a_conversion_is_said_as_the_ledgers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reason: str, said: str, advice: str) -> None:
    """Its disk full while a deposit file is recorded (tests/test_full_disk.py does it for real):
    the ledger is named, not the workbook (« le classeur n'a pas pu être traité… enregistrez-le
    au format .xlsx » before), and nothing is left half done."""
    real = Ledger._insert

    def second_fails(db, path, *args, **kw):
        if path.name.endswith("-002.json"):
            raise sqlite3.OperationalError(reason)
        return real(db, path, *args, **kw)

    monkeypatch.setattr(Ledger, "_insert", staticmethod(second_fails))
    out = tmp_path / "depot"
    result = CliRunner().invoke(app, ["convertir", str(workbook(tmp_path / "a.xlsx", many_demandes(250))),
                                      "-o", str(out), "--date-depot", "20240312"])
    assert result.exit_code == 2
    assert " ".join(result.output.split()) == (
        f"Erreur : le registre « {default_path()} » n'a pas pu être mis à jour ({said}) : ce qui n'y est pas "
        f"inscrit n'a pas été fait, rien n'est perdu. {advice}, puis relancez la commande.")
    assert [p.name for p in _deposit_files(out)] == ["JSON-0123456789-20240312-001.json"]
    monkeypatch.undo()
    _assert_one_file_per_demande(out, default_path(), [f"{i:05d}" for i in range(1, 201)])


def test_a_damaged_copy_in_the_ledger_is_said_not_a_traceback(tmp_path: Path) -> None:
    """The ledger keeps each deposit file compressed; a damaged copy (a disk fault, a ledger
    file cut short) made `reecrire` and `etat` end in a ZstdError traceback."""
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY).files[0]
    with sqlite3.connect(default_path()) as db:
        db.execute("UPDATE fichiers SET contenu = X'28b52ffd2064650000deadbeefdeadbeef'")
    first.unlink()
    said = (f"Erreur : le registre « {default_path()} » ne relit plus sa copie du fichier de dépôt « {first.name} » "
            f"(abîmée), dont cette commande a besoin. Si vous avez gardé « {first.name} » tel que déposé, « xl2segur "
            f"importer {first.name} » (avec ce registre) lui en redonne la copie ; sinon, remplacez le registre par sa "
            "dernière sauvegarde (puis « xl2segur importer » les fichiers de dépôt écrits depuis). Les autres commandes "
            "(convertir, retour, retirer) s'en passent : le registre garde chaque demande de ce fichier.")
    result = CliRunner().invoke(app, ["reecrire", first.name])
    assert result.exit_code == 2 and " ".join(result.output.split()) == said, result.output
    assert not first.exists()
    # `etat` reads no stored file since the ledger keeps each demande's VAT regime (version 4)
    result = CliRunner().invoke(app, ["etat", "-o", str(tmp_path / "etat.xlsx")])
    assert result.exit_code == 0 and (tmp_path / "etat.xlsx").exists(), result.output


def test_what_no_command_foresaw_is_said_in_french_without_a_traceback(tmp_path: Path) -> None:
    """The last resort of `xl2segur` (cli.main): a failure no command turned into a message."""
    script = ("import sys; from converter import api, cli\n"
              "def broken(*args, **kw): raise KeyError('fichiers')\n"
              "api.ledger_status = broken\n"
              f"sys.argv = ['xl2segur', 'etat', '--registre', {str(default_path())!r}]\n"
              "cli.main()\n")
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "depot", DAY)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and "Traceback" not in done.stderr + done.stdout
    assert " ".join(done.stderr.split()) == (
        "Erreur inattendue : KeyError : 'fichiers'. La commande s'est arrêtée là ; aucun fichier n'est écrit à "
        "moitié. Si elle se reproduit, transmettez ce message, avec la commande lancée, à l'équipe xl2segur.")


@pytest.mark.parametrize("command", [["etat"], ["solde", "--depuis"], ["retirer", "JSON-0123456789-20240312-001.json",
                                                                      "--oui", "--registre"]])
def test_an_empty_file_given_as_the_ledger_is_refused_and_left_empty(tmp_path: Path, command: list[str]) -> None:
    """`etat --registre notes.txt`, an empty file: SQLite would make a ledger of it, writing
    over a file of the user's. A command that reads a ledger refuses it, as one not found."""
    empty = tmp_path / "notes.txt"
    empty.touch()
    option = "--depuis" if "--depuis" in command else "--registre"
    args = [*command, str(empty)] if command[-1].startswith("--") else [*command, "--registre", str(empty)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and empty.stat().st_size == 0, result.output
    assert " ".join(result.output.split()) == (
        f"Erreur : le registre « {empty} » est un fichier vide : indiquez avec {option} le fichier xl2segur.sqlite "
        "écrit par « xl2segur convertir ».")


def test_a_day_whose_file_numbers_run_out_stops_the_conversion_and_another_day_deposits_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NNN has three digits: 999 files a day for a numeroAns (here 2). The files written before
    stay recorded; the rest is deposited under another date, each demande once."""
    monkeypatch.setattr(deposit, "MAX_RANK", 2)
    out = tmp_path / "depot"
    book = workbook(tmp_path / "a.xlsx", many_demandes(450))
    result = CliRunner().invoke(app, ["convertir", str(book), "-o", str(out), "--date-depot", "20240312"])
    assert result.exit_code == 2
    # what was written (and is to deposit) and what is in no file, said: before, « déposez ces
    # demandes sous une autre date » alone left the user guessing which
    assert " ".join(result.output.split()) == (
        f"Erreur : les 2 numéros de fichier du 12/03/2024 pour le numéro ANS 0123456789 sont tous pris (dans « {out} » "
        "ou au registre) : déposez ces demandes sous une autre date (--date-depot AAAAMMJJ). Cette conversion a d'abord "
        "écrit 2 fichiers de dépôt (400 demandes), inscrits au registre : déposez-les. 50 demandes ne sont dans aucun "
        "fichier : relancez la même conversion avec la date du jour où vous les déposerez (--date-depot AAAAMMJJ) ; "
        "les demandes déjà dans un fichier seront écartées (« déjà déposée »).")
    assert [p.name for p in _deposit_files(out)] == ["JSON-0123456789-20240312-001.json",
                                                     "JSON-0123456789-20240312-002.json"]
    _assert_one_file_per_demande(out, default_path(), [f"{i:05d}" for i in range(1, 401)])
    again = api.convert(book, out, date(2024, 3, 13))
    assert [p.name for p in again.files] == ["JSON-0123456789-20240313-001.json"]
    assert {i.code for i in again.errors} == {"deja_deposee"} and len(again.rejected) == 400
    _assert_one_file_per_demande(out, default_path(), [f"{i:05d}" for i in range(1, 451)])


def test_the_asps_return_files_saved_in_the_deposit_folder_are_named_as_returns(tmp_path: Path) -> None:
    """The browser saves the ASP's returns under the deposit's name, « (1) » added, and the user
    keeps them beside the deposits: not « files another ledger wrote » to import (refused: their
    demandes are recorded). Each is told as a return, recorded already or to record."""
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY).files[0]
    recorded = asp_return(first, out / "JSON-0123456789-20240312-001 (1).json", {"00001": "FINMS2000001"})
    api.ingest_returns([recorded], default_path(), tmp_path / "b.xlsx")
    asp_return(first, out / "JSON-0123456789-20240312-001 (2).json", {"00001": "Refus"})
    with pytest.raises(ledger.LedgerError) as refused:
        api.convert(workbook(tmp_path / "c.xlsx", avance_rows("00002")), out, DAY)
    message = " ".join(str(refused.value).split())
    assert ("« JSON-0123456789-20240312-001 (1).json » est un fichier de retour de l'ASP, pas un fichier de dépôt : il "
            "est enregistré au registre ; rangez-le hors de ce dossier") in message
    assert ("« JSON-0123456789-20240312-001 (2).json » est un fichier de retour de l'ASP, pas un fichier de dépôt : "
            "enregistrez-le avec « xl2segur retour », puis rangez-le hors de ce dossier") in message
    assert "ne connaît pas" not in message


def test_a_recorded_folder_moved_elsewhere_keeps_its_files(tmp_path: Path) -> None:
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "depot", DAY)
    (tmp_path / "depot").rename(tmp_path / "juin")
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), tmp_path / "juin", DAY)
    assert not [i for i in again.warnings if i.code.startswith("fichier_")]
    assert (tmp_path / "juin" / first.files[0].name).exists()


def test_a_moved_folder_holding_an_imported_file_keeps_it_and_refuses_another_under_its_name(tmp_path: Path) -> None:
    """`importer` keeps a file as xl2segur writes it, not byte for byte: once its folder moved,
    the file was « unknown » to the ledger that imported it, and the conversion stopped. It is
    recognised by its demandes, as at its recorded path; a file of that name holding other
    demandes stays unknown."""
    made = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), tmp_path / "mai", DAY,
                       registre=tmp_path / "collegue.sqlite")
    registre = tmp_path / "registre.sqlite"
    assert [i.demandes for i in api.import_deposits(made.files, registre)] == [2]
    (tmp_path / "mai").rename(tmp_path / "juin")
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00003")), tmp_path / "juin", DAY, registre=registre)
    assert again.accepted == ["00003"] and len(again.files) == 1
    imported = tmp_path / "juin" / made.files[0].name
    imported.write_bytes(imported.read_bytes().replace(b'"00002"', b'"00004"'))  # other demandes, same name
    with pytest.raises(OutputError, match="ne connaît pas"):
        api.convert(workbook(tmp_path / "c.xlsx", avance_rows("00005")), tmp_path / "juin", DAY, registre=registre)


def test_temporaries_of_a_dead_run_are_removed_at_once_those_of_a_live_run_kept(tmp_path: Path) -> None:
    out = tmp_path / "depot"
    out.mkdir()
    dead = out / f"{files.TMP_PREFIX}0123456789abcdef-00000000"
    dead.write_text("{")
    (out / f"{files.LOCK_PREFIX}0123456789abcdef.lock").write_text("")  # nobody holds it
    with files.running(out):
        mine = files.write_temporary(out, b"{}")
        assert files.clean_stale(out) == [dead]
        assert mine.exists() and not (out / f"{files.LOCK_PREFIX}0123456789abcdef.lock").exists()
        mine.unlink()
    assert os.listdir(out) == []  # the run's own lock goes with it


def test_on_a_file_system_that_cannot_lock_runs_go_on_and_nothing_is_taken_for_dead(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import fcntl

    def unsupported(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", unsupported)
    other = tmp_path / f"{files.TMP_PREFIX}0123456789abcdef-00000000"
    (tmp_path / f"{files.LOCK_PREFIX}0123456789abcdef.lock").write_text("")
    other.write_text("{")
    with files.running(tmp_path):
        assert files.clean_stale(tmp_path) == [] and other.exists()


# ------------------------------------------------------------ 5. one history, wherever the output goes


def test_another_output_folder_continues_the_same_history(tmp_path: Path) -> None:
    book = workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002"))
    first = api.convert(book, tmp_path / "depot", DAY)
    assert first.registre == default_path() and len(first.files) == 1
    again = api.convert(book, tmp_path / "depot-juin", DAY)
    assert again.files == [] and [i.code for i in again.errors] == ["deja_deposee", "deja_deposee"]


def test_the_ledger_is_found_by_option_then_environment_then_user_folder(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ledger.ENVIRONMENT, str(tmp_path / "equipe" / "registre.sqlite"))
    assert ledger.locate(None, tmp_path)[0] == tmp_path / "equipe" / "registre.sqlite"
    assert ledger.locate(tmp_path / "mien.sqlite", tmp_path)[0] == tmp_path / "mien.sqlite"
    monkeypatch.delenv(ledger.ENVIRONMENT)
    import platformdirs
    assert default_path() == Path(platformdirs.user_data_dir("xl2segur", appauthor=False)) / "xl2segur.sqlite"


def test_a_team_ledger_through_the_environment_serves_the_cli(tmp_path: Path) -> None:
    shared = tmp_path / "partage" / "registre.sqlite"
    book = workbook(tmp_path / "a.xlsx", avance_rows("00001"))
    env = {ledger.ENVIRONMENT: str(shared)}
    result = CliRunner().invoke(app, ["convertir", str(book), "-o", str(tmp_path / "d1"), "--date-depot", "20240312"],
                                env=env)
    assert result.exit_code == 0 and f"Registre des dépôts : {shared}" in result.output
    result = CliRunner().invoke(app, ["convertir", str(book), "-o", str(tmp_path / "d2"), "--date-depot", "20240312"],
                                env=env)
    assert result.exit_code == 1 and "a déjà été déposée" in result.output


def test_an_older_ledger_in_depot_is_taken_over_by_retour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Versions before 3 kept `depot/xl2segur.sqlite`, the default of retour and solde: found, taken over."""
    monkeypatch.chdir(tmp_path)
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), Path("depot"), DAY,
                        registre=Path("depot") / "xl2segur.sqlite")
    returned = asp_return(first.files[0], tmp_path / "retours" / first.files[0].name, {"00001": "FINMS2000001"})
    result = CliRunner().invoke(app, ["retour", str(returned)])
    assert result.exit_code == 0, result.output
    assert "« depot/xl2segur.sqlite » d'une version précédente de xl2segur est repris" in result.output
    assert (tmp_path / "depot" / "xl2segur.sqlite.repris").is_file()
    assert len(list((tmp_path / "retours").glob("retour-ASP-*.xlsx"))) == 1  # beside the return, not the ledger
    with Ledger(default_path()) as book:
        [row] = book.db.execute("SELECT * FROM demandes WHERE numero_ans = '0123456789' AND numero_editeur = '00001'")
        assert row["statut"] == "acceptee" and row["numero_asp"] == "FINMS2000001"



def test_an_older_ledger_taken_over_keeps_the_history_of_its_returns_and_zips(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Taken over, a ledger gave its files and demandes (their outcomes) but not the history of
    the returns recorded with it, nor what its zips held: etat's « Historique des retours » lost
    them, each outcome came from no return, and the same return given again was recorded anew
    instead of « déjà enregistré »."""
    monkeypatch.chdir(tmp_path)
    older = Path("depot") / "xl2segur.sqlite"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), Path("depot"), DAY,
                        pieces=pieces_folder(tmp_path, "00001", "00002"), registre=older).files[0]
    returned = asp_return(first, tmp_path / "retours" / first.name, {"00001": "FINMS2000001", "00002": "Pièce illisible"})
    api.ingest_returns([returned], older)
    with sqlite3.connect(older) as db:
        history = db.execute("SELECT d.numero_editeur, r.fichier_retour, r.empreinte, r.statut, r.numero_asp FROM retours r "
                             "JOIN demandes d ON d.id = r.demande_id ORDER BY r.id").fetchall()
        zips = db.execute("SELECT nom, membres FROM archives ORDER BY id").fetchall()
    assert len(history) == 2 and zips
    api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00003")), Path("depot"), DAY)  # takes it over
    assert (tmp_path / "depot" / "xl2segur.sqlite.repris").is_file()
    with sqlite3.connect(default_path()) as db:
        assert db.execute("SELECT d.numero_editeur, r.fichier_retour, r.empreinte, r.statut, r.numero_asp FROM retours r "
                          "JOIN demandes d ON d.id = r.demande_id ORDER BY r.id").fetchall() == history
        assert db.execute("SELECT a.nom, a.membres FROM archives a JOIN fichiers f ON f.id = a.fichier_id "
                          "WHERE f.nom = ? ORDER BY a.id", (first.name,)).fetchall() == zips
    lines, _ = api.ingest_returns([returned], default_path())
    assert all("déjà enregistré" in x.remark for x in lines)
    status, _ = api.ledger_status(default_path(), tmp_path / "etat.xlsx")
    assert status.history.height == 2

def test_an_older_ledger_is_never_swallowed_by_an_explicit_trial_ledger(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY, registre=out / "xl2segur.sqlite")
    before = sorted(os.listdir(out))
    with pytest.raises(OutputError, match="contient le registre .* d'une version précédente de xl2segur, et "
                                          "--registre en désigne un autre"):
        api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), out, DAY, registre=tmp_path / "essai.sqlite")
    assert sorted(os.listdir(out)) == before and first.files[0].exists()
    monkeypatch.chdir(tmp_path)  # retour, solde… look in depot/: named, not taken over
    path, [warning] = api.find_ledger(tmp_path / "essai.sqlite")
    assert warning.code == "registre_ancien_ignore" and (out / "xl2segur.sqlite").is_file()


def test_the_first_conversion_after_an_update_into_another_folder_takes_over_depot_s_older_ledger(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An older version kept its ledger in `depot/`; updated, the user converts into `juin/`:
    a blank history there would deposit again what `depot/`'s ledger holds."""
    monkeypatch.chdir(tmp_path)
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), Path("depot"), DAY,
                registre=Path("depot") / "xl2segur.sqlite")
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00001", "00002")), Path("juin"), DAY)
    assert [(i.code, i.numero_editeur) for i in again.errors] == [("deja_deposee", "00001")]
    assert "registre_repris" in [i.code for i in again.warnings]
    assert (tmp_path / "depot" / "xl2segur.sqlite.repris").is_file() and [p.name for p in again.files] == [
        "JSON-0123456789-20240312-002.json"]


def test_an_older_ledger_taken_over_names_the_demandes_now_live_in_two_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deposited with the older ledger and again with the current one, neither knowing the
    other: once taken over, the ledger holds the demande live in two files. Said, with the way
    out, never silently."""
    monkeypatch.chdir(tmp_path)
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), Path("depot"), DAY,
                registre=tmp_path / "ancien.sqlite")
    api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00001")), Path("juin"), DAY)
    (tmp_path / "ancien.sqlite").rename(tmp_path / "depot" / "xl2segur.sqlite")
    _, notices = api.find_ledger(None)
    [twice] = [i for i in notices if i.code == "registre_repris_deux_fois"]
    assert ("00001 (JSON-0123456789-20240312-001.json, JSON-0123456789-20240312-001.json)" in twice.message
            and "00002" not in twice.message and "xl2segur retirer" in twice.message)


def test_a_shared_ledger_uses_a_rollback_journal_that_works_on_a_network_share(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """WAL needs shared memory, which two machines do not share: a ledger shared through
    XL2SEGUR_REGISTRE, or on a network file system, uses a rollback journal; a local one, WAL."""
    path = tmp_path / "r.sqlite"
    with sqlite3.connect(path) as db:  # a ledger of version 2, in WAL
        db.execute("PRAGMA journal_mode = WAL")
    with Ledger(path) as book:  # the tests share theirs through XL2SEGUR_REGISTRE (conftest.py)
        assert book.db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert book.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    monkeypatch.delenv(ledger.ENVIRONMENT)
    with Ledger(path) as book:
        assert book.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    monkeypatch.setattr(ledger, "on_network_share", lambda path: True)
    with Ledger(path) as book:
        assert book.db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


# ------------------------------------------------------------ 7. written again, withdrawn


def test_a_deleted_deposit_file_is_written_again_under_its_name_with_its_zip(tmp_path: Path) -> None:
    folder = pieces_folder(tmp_path, "00001", "00002")
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), out, DAY)  # no --pieces
    written = first.files[0].read_bytes()
    first.files[0].unlink()
    again = api.rewrite(first.files[0].name, default_path(), pieces=folder)
    assert again.path == first.files[0] and again.path.read_bytes() == written
    [archive] = again.archives
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == ["MS2-DUI-Va1-BDC-00001.pdf", "MS2-DUI-Va1-BDC-00002.pdf"]
        assert zf.read("MS2-DUI-Va1-BDC-00001.pdf") == PDF
    # already there, identical: kept; elsewhere with -o; never over another content
    assert api.rewrite(first.files[0].name, default_path()).path is None
    assert api.rewrite(first.files[0].name, default_path(), tmp_path / "copie").path.read_bytes() == written
    first.files[0].write_bytes(b"{}")
    with pytest.raises(OutputError, match="existe déjà avec un autre contenu"):
        api.rewrite(first.files[0].name, default_path())
    with pytest.raises(OutputError, match="ne connaît aucun fichier de dépôt « JSON-0123456789-20240312-009.json »"):
        api.rewrite("JSON-0123456789-20240312-009.json", default_path())


def test_rewrite_keeps_a_zip_already_there_with_the_same_pieces_and_never_writes_over_another(tmp_path: Path) -> None:
    """The deposit file lost, its zip still there (or `reecrire --pieces` killed between its
    zips): `reecrire --pieces` wrote the file, then stopped on the zip (« existe déjà … Choisissez
    un autre nom », exit 2). A zip already there with the bytes the pieces give is kept, as the
    file is; one with other bytes (a piece changed since) is never written over, and then
    nothing is written."""
    folder = pieces_folder(tmp_path, "00001", "00002")
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), tmp_path / "depot", DAY,
                        pieces=folder)
    [deposit_file], [archive] = first.files, first.archives
    zipped = archive.read_bytes()
    deposit_file.unlink()
    result = CliRunner().invoke(app, ["reecrire", str(deposit_file), "--pieces", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Archive des pièces justificatives déjà là, identique : gardée telle quelle : " in result.output
    assert deposit_file.is_file() and archive.read_bytes() == zipped
    deposit_file.unlink()
    (folder / "MS2-DUI-Va1-BDC-00002.pdf").write_bytes(PDF + b"% signed again\n")
    with pytest.raises(OutputError, match="« JSON-0123456789-20240312-001.zip » existe déjà avec un autre contenu "
                                          "que l'archive des pièces du dossier"):
        api.rewrite(deposit_file.name, default_path(), pieces=folder)
    assert not deposit_file.exists() and archive.read_bytes() == zipped


def test_rewrite_says_when_the_pieces_no_longer_make_the_zip_written_at_the_conversion(tmp_path: Path) -> None:
    """The zip lost with its deposit file, a piece changed since (scanned again, signed): the
    zip `reecrire --pieces` wrote held other bytes than the one deposited, and nothing said so.
    The ledger keeps what each zip held (names, sizes, CRC-32): the pieces that changed are
    named; the same pieces rewrite without a word."""
    folder = pieces_folder(tmp_path, "00001", "00002")
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), tmp_path / "depot", DAY,
                        pieces=folder)
    [deposit_file], [archive] = first.files, first.archives
    deposit_file.unlink()
    archive.unlink()
    same = api.rewrite(deposit_file.name, default_path(), pieces=folder)
    assert same.archives == [archive] and not [w for w in same.warnings if w.code == "archive_differente"]
    deposit_file.unlink()
    archive.unlink()
    (folder / "MS2-DUI-Va1-BDC-00002.pdf").write_bytes(PDF + b"% signed again\n")
    result = CliRunner().invoke(app, ["reecrire", str(deposit_file), "--pieces", str(folder)])
    assert result.exit_code == 0, result.output
    assert ("avertissement : L'archive « JSON-0123456789-20240312-001.zip » n'est pas celle écrite à la conversion : "
            "pièce au contenu changé depuis : MS2-DUI-Va1-BDC-00002.pdf.") in " ".join(result.output.split())
    assert archive.is_file()


def test_a_file_with_recorded_zips_can_be_dropped_by_a_version_that_knows_no_zips(tmp_path: Path) -> None:
    """A team's ledger is shared by several versions: one that records no zips drops a dead
    run's file as it always did (its demandes, then the file); what the zips held goes with it."""
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "depot", DAY,
                        pieces=pieces_folder(tmp_path, "00001"))
    with sqlite3.connect(default_path()) as db:
        db.execute("PRAGMA foreign_keys = ON")
        assert db.execute("SELECT count(*) FROM archives").fetchone() == (1,)
        db.execute("DELETE FROM demandes")
        db.execute("DELETE FROM fichiers WHERE nom = ?", (first.files[0].name,))
        assert db.execute("SELECT count(*) FROM archives").fetchone() == (0,)


def test_rewrite_with_a_missing_attachment_writes_nothing_and_names_it(tmp_path: Path) -> None:
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), out, DAY)
    first.files[0].unlink()
    with pytest.raises(OutputError, match="demande 00002 : Pièce BON_COMMANDE .* introuvable"):
        api.rewrite(first.files[0].name, default_path(), pieces=pieces_folder(tmp_path, "00001"))
    assert not first.files[0].exists()


def test_rewrite_finds_an_attachment_named_in_another_case_as_convert_does(tmp_path: Path) -> None:
    """The folder that served `convertir --pieces` serves `reecrire --pieces`: a name that
    differs only by case (or Unicode form) finds its file, with a warning; the zip holds the
    regulatory name. Two such files: neither is chosen, and nothing is written."""
    folder = pieces_folder(tmp_path, "00001", "00002")
    (folder / "MS2-DUI-Va1-BDC-00002.pdf").rename(folder / "ms2-dui-va1-bdc-00002.PDF")
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), out, DAY, pieces=folder)
    assert [w.code for w in first.warnings if w.code.startswith("piece")] == ["piece_nom_approchant"]
    first.files[0].unlink()
    for archive in first.archives:
        archive.unlink()
    result = CliRunner().invoke(app, ["reecrire", str(first.files[0]), "--pieces", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("avertissement : demande 00002 : Pièce BON_COMMANDE (Bon de commande) : aucun "
                                    "fichier ne s'appelle exactement « MS2-DUI-Va1-BDC-00002.pdf » ; le fichier "
                                    "« ms2-dui-va1-bdc-00002.PDF »"), result.output
    [archive] = first.archives
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == ["MS2-DUI-Va1-BDC-00001.pdf", "MS2-DUI-Va1-BDC-00002.pdf"]
        assert zf.read("MS2-DUI-Va1-BDC-00002.pdf") == PDF
    first.files[0].unlink()
    archive.unlink()
    (folder / "Ms2-Dui-Va1-Bdc-00002.pdf").write_bytes(PDF)
    with pytest.raises(OutputError, match="demande 00002 : .*plusieurs n'en diffèrent que par les majuscules"):
        api.rewrite(first.files[0].name, default_path(), pieces=folder)
    assert not first.files[0].exists() and not archive.exists()


def test_reecrire_cli(tmp_path: Path) -> None:
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY)
    first.files[0].unlink()
    result = CliRunner().invoke(app, ["reecrire", str(first.files[0])])
    assert result.exit_code == 0 and result.output == f"Fichier de dépôt réécrit : {first.files[0]}\n"


def test_reecrire_does_not_create_again_a_deposit_folder_that_was_moved(tmp_path: Path) -> None:
    """The deposit folder moved (renamed, or to another drive): `reecrire` without -o would
    create the old one again and split the deposits between two folders. It says where to
    write it instead, and creates nothing."""
    out = tmp_path / "depot"
    written = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY).files[0]
    moved = out.rename(tmp_path / "depot-2024")
    (moved / written.name).unlink()
    result = CliRunner().invoke(app, ["reecrire", written.name])
    assert result.exit_code == 2 and not out.exists()
    assert (f"Erreur : le dossier « {out} », où « {written.name} » a été écrit, n'existe plus (déplacé, renommé ou supprimé) : "
            "indiquez où le réécrire avec -o DOSSIER") in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["reecrire", written.name, "-o", str(moved)])
    assert result.exit_code == 0 and (moved / written.name).is_file() and not out.exists()


def test_reecrire_of_a_file_the_asp_answered_says_it_was_deposited(tmp_path: Path) -> None:
    """The ASP answered for it: it was uploaded. Written again (archives lost), the copy must
    not be uploaded a second time; it is written all the same, with that warning."""
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), out, DAY).files[0]
    api.ingest_returns([asp_return(first, tmp_path / "r.json", {"00001": "FINMS2000001", "00002": "Refus"})],
                       default_path())
    first.unlink()
    result = CliRunner().invoke(app, ["reecrire", str(first)])
    assert result.exit_code == 0 and first.exists()
    assert ("avertissement fichier « JSON-0123456789-20240312-001.json » : L'ASP a déjà répondu pour 2 demandes de "
            "ce fichier (« xl2segur retour ») : il a été déposé. Cette copie est pour vos archives : ne la déposez pas "
            "une seconde fois.") in " ".join(result.output.split())


def test_a_withdrawn_file_frees_its_demandes_and_is_set_aside(tmp_path: Path) -> None:
    folder = pieces_folder(tmp_path, "00001", "00002")
    out = tmp_path / "depot"
    book = workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002"))
    first = api.convert(book, out, DAY, pieces=folder)
    freed, moved = api.withdraw(first.files[0].name, default_path())
    assert freed == 2 and moved == out / ledger.WITHDRAWN / first.files[0].name
    assert sorted(p.name for p in moved.parent.iterdir()) == [first.files[0].name, first.archives[0].name]
    assert _live(default_path()) == []
    again = api.convert(book, out, DAY, pieces=folder)  # deposited again, under the next rank
    assert again.errors == [] and [p.name for p in again.files] == ["JSON-0123456789-20240312-002.json"]
    with pytest.raises(OutputError, match="déjà été retiré"):
        api.withdraw(first.files[0].name, default_path())
    with pytest.raises(OutputError, match="a été retiré le"):
        api.rewrite(first.files[0].name, default_path())


def test_retirer_sets_aside_the_file_where_the_user_names_it_once_its_folder_moved(tmp_path: Path) -> None:
    """The folder renamed since (`depot` → `juin`), `retirer juin/JSON-….json`: the file left
    under its name there could still be uploaded, its demandes deposited again later. It is set
    aside where it is; found nowhere, the user is told to set it aside."""
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "depot", DAY).files[0]
    second = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), tmp_path / "depot", DAY).files[0]
    (tmp_path / "depot").rename(tmp_path / "juin")
    result = CliRunner().invoke(app, ["retirer", str(tmp_path / "juin" / first.name), "--oui"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "juin" / first.name).exists()
    assert (tmp_path / "juin" / ledger.WITHDRAWN / first.name).exists()
    result = CliRunner().invoke(app, ["retirer", second.name, "--oui"])  # not in the current folder
    assert result.exit_code == 0, result.output
    assert "il ne doit pas être déposé" in " ".join(result.output.split())
    assert (tmp_path / "juin" / second.name).exists()


def test_retirer_sets_aside_the_zips_of_a_file_moved_out_of_its_folder(tmp_path: Path) -> None:
    """The deposit file moved out of its folder by hand, its zips left there: `retirer` set
    nothing aside, and the zips, beside its name, could still be uploaded. They go to
    `retires/`, and a name taken there gives « (2) », never `JSON-…-001-2.zip`: the name of a
    deposit file's second archive."""
    folder = pieces_folder(tmp_path, "00001", "00002")
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), out, DAY, pieces=folder)
    [archive] = first.archives
    data = archive.read_bytes()
    first.files[0].rename(tmp_path / first.files[0].name)
    (out / ledger.WITHDRAWN).mkdir()
    (out / ledger.WITHDRAWN / archive.name).write_bytes(b"un essai")
    result = CliRunner().invoke(app, ["retirer", first.files[0].name, "--oui"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [ledger.WITHDRAWN]
    aside = out / ledger.WITHDRAWN / "JSON-0123456789-20240312-001 (2).zip"
    assert aside.read_bytes() == data and (out / ledger.WITHDRAWN / archive.name).read_bytes() == b"un essai"
    said = " ".join(result.output.split())
    assert "mettez-le de côté, il ne doit pas être déposé. Ses archives .zip, restées dans ce dossier, sont mises de " \
           "côté :" in said


def test_a_withdrawn_file_put_back_in_its_folder_is_named_as_withdrawn_not_as_unknown(tmp_path: Path) -> None:
    """A withdrawn file copied back from `retires/`: the ledger knows it, withdrawn. « Unknown,
    written with another ledger » would be false, and its ways out (importer, that ledger)
    lead nowhere; it must not be uploaded, its demandes are free."""
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY).files[0]
    _, moved = api.withdraw(first.name, default_path())
    first.write_bytes(moved.read_bytes())
    with pytest.raises(ledger.LedgerError) as refused:
        api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), out, DAY)
    message = " ".join(str(refused.value).split())
    assert (f"« {first.name} » est le fichier « {first.name} », retiré du registre le {date.today():%d/%m/%Y} "
            "(« xl2segur retirer ») : ne le déposez pas") in message
    assert "ne connaît pas" not in message


def test_a_file_the_asp_answered_for_cannot_be_withdrawn(tmp_path: Path) -> None:
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY)
    api.ingest_returns([asp_return(first.files[0], tmp_path / "r.json", {"00001": "FINMS2000001"})], default_path())
    with pytest.raises(OutputError, match="l'ASP a déjà répondu pour 1 de ses demandes"):
        api.withdraw(first.files[0].name, default_path())
    assert len(_live(default_path())) == 1
    assert sorted(p.name for p in out.iterdir()) == [first.files[0].name]  # no empty retires/ left


def test_a_conversion_refused_by_its_ledger_leaves_no_empty_folder_of_its_own(tmp_path: Path) -> None:
    """The ledger could not be opened (here under a file): `convertir -o nouveau/depot` failed,
    and left the folders `nouveau/depot` it had made, empty."""
    (tmp_path / "fichier").write_bytes(b"")
    (tmp_path / "existant").mkdir()
    book = workbook(tmp_path / "a.xlsx", avance_rows("00001"))
    for output in (tmp_path / "nouveau" / "depot", tmp_path / "existant"):
        refused = CliRunner().invoke(app, ["convertir", str(book), "-o", str(output), "--date-depot", "20240312",
                                           "--registre", str(tmp_path / "fichier" / "xl2segur.sqlite"), "-q"])
        assert refused.exit_code == 2 and "un fichier porte déjà ce nom" in refused.output, refused.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "existant", "fichier"]
    assert list((tmp_path / "existant").iterdir()) == []


def test_retirer_asks_for_confirmation(tmp_path: Path) -> None:
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY)
    name = first.files[0].name
    refused = CliRunner().invoke(app, ["retirer", name], input="n\n")
    assert refused.exit_code == 1 and "Rien n'est retiré." in refused.output and len(_live(default_path())) == 1
    done = CliRunner().invoke(app, ["retirer", name], input="o\n")
    assert done.exit_code == 0, done.output
    assert f"Fichier retiré du registre : {name} — 1 demande libérée, à reconvertir si elle doit être déposée." in done.output
    assert _live(default_path()) == []


def test_retirer_and_its_undoing_agree_with_the_count_of_demandes(tmp_path: Path) -> None:
    """« 1 demande libérée », « 2 demandes libérées », never « 2 demande(s) libérée(s) »."""
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), tmp_path / "depot", DAY)
    name = first.files[0].name
    asked = CliRunner().invoke(app, ["retirer", name], input="o\n")
    assert asked.exit_code == 0, asked.output
    said = " ".join(asked.output.split())
    assert f"Retirer « {name} » (2 demandes) ?" in said
    assert "— 2 demandes libérées, à reconvertir si elles doivent être déposées." in said
    undone = CliRunner().invoke(app, ["retirer", "--annuler", str(first.files[0].parent / "retires" / name)])
    assert undone.exit_code == 0, undone.output
    assert "— 2 demandes de nouveau inscrites comme déposées ;" in " ".join(undone.output.split())
    assert "(s)" not in asked.output + undone.output


# ------------------------------------------------------------ 9. a run that fails its arguments


def test_a_missing_pieces_folder_creates_neither_ledger_nor_output_folder(tmp_path: Path) -> None:
    book = workbook(tmp_path / "a.xlsx", avance_rows("00001"))
    result = CliRunner().invoke(app, ["convertir", str(book), "-o", str(tmp_path / "nouveau"),
                                      "--pieces", str(tmp_path / "absent"), "--registre", str(tmp_path / "r.sqlite")])
    assert result.exit_code == 2 and "dossier des pièces" in result.output
    assert not (tmp_path / "nouveau").exists() and not (tmp_path / "r.sqlite").exists()
    assert not default_path().exists()


def test_the_second_process_still_starts_without_polars() -> None:
    """validation.py imports the ledger (for `pack`): the ledger must not bring Polars in."""
    code = "import sys, converter.validation; sys.exit('polars' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode == 0


def test_a_recorded_file_renamed_or_copied_by_hand_is_named_with_its_way_out(tmp_path: Path) -> None:
    """A deposit file renamed in the folder is not « another ledger's »: the message names the
    recorded file it is, and asks for its name back (or, for a copy, to delete it)."""
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY).files[0]
    renamed = out / "JSON-0123456789-20240312-009.json"
    first.rename(renamed)
    with pytest.raises(ledger.LedgerError) as refused:
        api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), out, DAY)
    message = " ".join(str(refused.value).split())
    assert ("« JSON-0123456789-20240312-009.json » est le fichier « JSON-0123456789-20240312-001.json » du registre, "
            "renommé : rendez-lui son nom") in message
    assert "ne connaît pas" not in message
    renamed.rename(first)
    copy = out / "JSON-0123456789-20240312-001 (copie).json"
    copy.write_bytes(first.read_bytes())
    second = tmp_path / "b.xlsx"
    with pytest.raises(ledger.LedgerError, match="est une copie de « JSON-0123456789-20240312-001.json »"):
        api.convert(second, out, DAY)
    copy.unlink()
    assert api.convert(second, out, DAY).files[0].name == \
        "JSON-0123456789-20240312-002.json"


@pytest.mark.parametrize("command", [["etat", "-o", "etat.xlsx"], ["solde"], ["convertir", "a.xlsx", "-o", "depot2"],
                                     ["retirer", "JSON-0123456789-20240312-001.json", "--oui"]])
def test_a_ledger_held_by_another_command_is_said_so_not_a_file_to_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    """A colleague's long conversion holds the shared ledger: a command that waited its minute
    said « vérifiez qu'il s'agit bien d'un fichier xl2segur.sqlite, et que lui et son dossier
    sont accessibles en écriture », as for a damaged or foreign file."""
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "depot", DAY)
    holder = subprocess.Popen([sys.executable, "-c", "import sqlite3, sys, time\n"
                               "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                               "db.execute('BEGIN IMMEDIATE'); print('held', flush=True); time.sleep(60)",
                               str(default_path())], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        monkeypatch.setattr(ledger, "BUSY_TIMEOUT_MS", 300)
        monkeypatch.chdir(tmp_path)
        result = CliRunner().invoke(app, command)
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 2
    assert " ".join(result.output.split()) == (
        f"Erreur : le registre « {default_path()} » n'est pas utilisable (occupé par une autre commande xl2segur "
        "depuis plus d'une minute) : rien n'a été fait. Attendez la fin de l'autre commande, puis relancez la "
        "commande.")
    assert not (tmp_path / "etat.xlsx").exists() and not list((tmp_path / "depot2").glob("*"))
    assert _deposit_files(tmp_path / "depot") and _live(default_path()) == [
        ("00001", "JSON-0123456789-20240312-001.json")]


def _plan(book: Ledger, call) -> list[str]:
    """The query plan of each statement `call` runs on the ledger `book` (EXPLAIN QUERY PLAN)."""
    said: list[str] = []
    book.db.set_trace_callback(said.append)
    try:
        call()
    finally:
        book.db.set_trace_callback(None)
    return [row[3] for sql in said if sql.lstrip().upper().startswith(("SELECT", "WITH"))
            for row in book.db.execute("EXPLAIN QUERY PLAN " + sql)]


def test_a_return_finds_the_avances_of_its_numeros_asp_without_reading_every_demande(tmp_path: Path) -> None:
    """Each `retour` looks for the avances holding the numeroASP it brings (one number given to
    two avances is said): the whole table of demandes was read, a second per return file for the
    million demandes a ledger holds after a year of weekly deposits, and growing. An index
    finds them, in a ledger an older version wrote too (added when it is opened)."""
    registre = tmp_path / "registre.sqlite"
    with Ledger(registre) as book:
        book.db.execute("DROP INDEX IF EXISTS demandes_asp")  # as versions before it left the ledger
    with Ledger(registre) as book:
        plan = _plan(book, lambda: book.avances_numbered(["FINMS2000001", "FINMS2000002"]))
    assert not [step for step in plan if step.startswith("SCAN d")], plan
    assert any("demandes_asp" in step for step in plan), plan


def test_a_return_finds_the_avances_rejected_once_without_reading_every_return(tmp_path: Path) -> None:
    """Each `retour` looks for avances rejected once, then live again, beside another avance of
    the same client (`funded_twice`): every return ever recorded was read for their rejections,
    a second per return file after a year of weekly returns. An index holds the rejections
    alone, in a ledger an older version wrote too (added when it is opened)."""
    registre = tmp_path / "registre.sqlite"
    with Ledger(registre) as book:
        book.db.execute("DROP INDEX IF EXISTS retours_rejetee")  # as versions before it left the ledger
    with Ledger(registre) as book:
        plan = _plan(book, lambda: book.funded_twice([1, 2]))
    assert any("retours_rejetee" in step for step in plan), plan
