"""The folders users really have: a deposit folder whose `retires/` lies on another disk (a
link to a network share, a USB stick), a ledger on a read-only medium. Each file system is a
tmpfs mounted in a mount namespace of the test's own (tests/namespace.py; skipped where none
may be made), and `xl2segur` is run there as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from converter import api, files
from tests.namespace import NAMESPACE, WHY_SKIPPED
from tests.test_cycle import DAY, avance_rows
from tests.builders import workbook

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(NAMESPACE is None, reason=WHY_SKIPPED)


def _in_namespace(tmp_path: Path, scenario: str, **env: str) -> None:
    """Run the shell `scenario` in a mount namespace of its own; `$X2S` runs xl2segur."""
    script = tmp_path / "scenario.sh"
    script.write_text("set -u\nX2S() { PYTHONPATH=\"$ROOT\" \"$PYTHON\" -m converter \"$@\"; }\n" + scenario)
    subprocess.run([*NAMESPACE, "sh", str(script)], check=True, timeout=120,
                   env={**os.environ, "ROOT": str(ROOT), "PYTHON": sys.executable, **env})


_WITHDRAW_ACROSS = """
mount -t tmpfs -o size=4m tmpfs "$DISK"
ln -s "$DISK" "$DEPOT/retires"
X2S retirer "$FILE" --oui --registre "$REGISTRE" > "$OUT/retirer.txt" 2>&1; echo $? > "$OUT/retirer.code"
cp -a "$DISK/." "$OUT/aside"
ls -A "$DEPOT" > "$OUT/depot.txt"
X2S retirer --annuler "$FILE" --registre "$REGISTRE" > "$OUT/annuler.txt" 2>&1; echo $? > "$OUT/annuler.code"
cp -a "$DISK/." "$OUT/after"
"""


def test_a_file_withdrawn_into_a_retires_folder_on_another_disk_is_moved_whole_and_back(tmp_path: Path) -> None:
    """`retires/`, a link to another disk: no hard link reaches it, and `retirer` ended in
    « Invalid cross-device link », its demandes freed, the file still in the deposit folder
    under its name (it could be uploaded), an empty file of that name left in `retires/`."""
    registre, depot = tmp_path / "xl2segur.sqlite", tmp_path / "depot"
    written = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), depot, DAY,
                          registre=registre).files[0]
    content, changed = written.read_bytes(), written.stat().st_mtime_ns
    out, disk = tmp_path / "sortie", tmp_path / "disque"
    out.mkdir()
    disk.mkdir()
    _in_namespace(tmp_path, _WITHDRAW_ACROSS, DISK=str(disk), DEPOT=str(depot), FILE=str(written),
                  REGISTRE=str(registre), OUT=str(out))

    said = (out / "retirer.txt").read_text()
    assert (out / "retirer.code").read_text().strip() == "0", said
    assert "mis de côté : " in said and "Traceback" not in said
    assert (out / "depot.txt").read_text().split() == ["retires"]
    assert sorted(p.name for p in (out / "aside").iterdir()) == [written.name]
    assert (out / "aside" / written.name).read_bytes() == content
    assert (out / "aside" / written.name).stat().st_mtime_ns == changed  # a recorded file stays known untouched

    said = (out / "annuler.txt").read_text()
    assert (out / "annuler.code").read_text().strip() == "0", said
    assert written.read_bytes() == content and written.stat().st_mtime_ns == changed
    assert list((out / "after").iterdir()) == []
    assert not [p for p in depot.iterdir() if p.name.startswith(files.TMP_PREFIX)]


_READ_ONLY_MEDIUM = """
mount -t tmpfs -o size=4m tmpfs "$DISK"
X2S convertir "$BOOK" -o "$OUT/depot" --date-depot 20240312 --registre "$DISK/xl2segur.sqlite" -q > "$OUT/convertir.txt" 2>&1
mount -o remount,ro "$DISK"
cd "$OUT"
for command in etat solde reecrire retirer; do
    case $command in
        retirer) set -- "$OUT/depot/JSON-0123456789-20240312-001.json" --oui ;;
        reecrire) set -- JSON-0123456789-20240312-001.json -o "$OUT/copie" ;;
        *) set -- ;;
    esac
    X2S $command "$@" --registre "$DISK/xl2segur.sqlite" > "$OUT/$command.txt" 2>&1; echo $? > "$OUT/$command.code"
done
"""


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_a_ledger_on_a_read_only_medium_is_read_by_etat_and_solde_and_said_read_only_to_the_others(
        tmp_path: Path, journal: str) -> None:
    """The ledger on a medium one may only read (a share with read rights, a backup disk):
    `etat`, `solde` and `reecrire`, which only read it, said « n'est pas utilisable (impossible d'ouvrir ou
    de créer le fichier) : vérifiez qu'il s'agit bien d'un fichier xl2segur.sqlite » (SQLite
    opening it to add its tables, and a WAL ledger needing its shared-memory file beside it);
    a command that must write it said the same, not that it is read-only."""
    out, disk = tmp_path / "sortie", tmp_path / "disque"
    out.mkdir()
    disk.mkdir()
    shared = {"XL2SEGUR_REGISTRE": str(disk / "xl2segur.sqlite")} if journal == "delete" else {}
    env = {key: value for key, value in os.environ.items() if key != "XL2SEGUR_REGISTRE"}
    script = tmp_path / "scenario.sh"
    script.write_text("set -u\nX2S() { PYTHONPATH=\"$ROOT\" \"$PYTHON\" -m converter \"$@\"; }\n" + _READ_ONLY_MEDIUM)
    subprocess.run([*NAMESPACE, "sh", str(script)], check=True, timeout=120,
                   env={**env, **shared, "ROOT": str(ROOT), "PYTHON": sys.executable, "DISK": str(disk), "OUT": str(out),
                        "BOOK": str(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")))})
    assert "Registre des dépôts" in (out / "convertir.txt").read_text()

    said = (out / "etat.txt").read_text()
    assert (out / "etat.code").read_text().strip() == "0", said
    assert "Déposées, sans retour de l'ASP : 2" in said and len(list(out.glob("etat-registre-*.xlsx"))) == 1
    said = (out / "solde.txt").read_text()
    assert (out / "solde.code").read_text().strip() == "0" and "Aucune avance acceptée" in said, said
    said = (out / "reecrire.txt").read_text()
    assert (out / "reecrire.code").read_text().strip() == "0", said
    assert (out / "copie" / "JSON-0123456789-20240312-001.json").read_bytes() == \
        (out / "depot" / "JSON-0123456789-20240312-001.json").read_bytes()
    said = " ".join((out / "retirer.txt").read_text().split())
    assert (out / "retirer.code").read_text().strip() == "2"
    assert said.startswith(f"Erreur : le registre « {disk / 'xl2segur.sqlite'} » ") and "lecture seule" in said \
        and "Rendez-le accessible en écriture, lui et son dossier, puis relancez la commande" in said, said
    assert [p.name for p in (out / "depot").glob("JSON-*")] == ["JSON-0123456789-20240312-001.json"]  # not set aside


_WITHDRAW_FROM_A_READ_ONLY_FOLDER = """
mount -t tmpfs -o size=4m tmpfs "$DISK"
X2S convertir "$BOOK" -o "$DISK/depot" --date-depot 20240312 --registre "$REGISTRE" -q > "$OUT/convertir.txt" 2>&1
mount -o remount,ro "$DISK"
X2S retirer "$DISK/depot/JSON-0123456789-20240312-001.json" --oui --registre "$REGISTRE" > "$OUT/ro.txt" 2>&1
echo $? > "$OUT/ro.code"
X2S convertir "$BOOK" -o "$OUT/ailleurs" --date-depot 20240312 --registre "$REGISTRE" -q > "$OUT/again.txt" 2>&1
echo $? > "$OUT/again.code"
ls -A "$DISK/depot" > "$OUT/ro.ls"
mount -o remount,rw "$DISK"
X2S retirer "$DISK/depot/JSON-0123456789-20240312-001.json" --oui --registre "$REGISTRE" > "$OUT/rw.txt" 2>&1
echo $? > "$OUT/rw.code"
ls -A "$DISK/depot/retires" > "$OUT/rw.ls"
"""


def test_a_file_that_cannot_leave_its_read_only_folder_is_not_withdrawn(tmp_path: Path) -> None:
    """The deposit folder read-only (a share with read rights, a medium mounted read-only):
    `retirer` freed the file's demandes in the ledger, then failed to make `retires/` (exit 2):
    the file stayed under its name, uploadable, and the next conversion deposited its demandes
    again in another file. Now nothing is withdrawn, and run again once the folder is writable,
    it withdraws and sets the file aside."""
    out, disk, registre = tmp_path / "sortie", tmp_path / "disque", tmp_path / "xl2segur.sqlite"
    out.mkdir()
    disk.mkdir()
    _in_namespace(tmp_path, _WITHDRAW_FROM_A_READ_ONLY_FOLDER, DISK=str(disk), OUT=str(out), REGISTRE=str(registre),
                  BOOK=str(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002"))))
    assert "Registre des dépôts" in (out / "convertir.txt").read_text()
    said = " ".join((out / "ro.txt").read_text().split())
    assert (out / "ro.code").read_text().strip() == "2"
    assert said == (f"Erreur : « JSON-0123456789-20240312-001.json » ne peut pas être mis de côté dans "
                    f"« {disk / 'depot' / 'retires'} » (impossible d'écrire dans « {disk / 'depot'} » : disque en "
                    "lecture seule) : rien n'est retiré. Rendez ce dossier accessible en écriture, puis relancez la "
                    "commande.")
    assert (out / "ro.ls").read_text().split() == ["JSON-0123456789-20240312-001.json"]
    assert (out / "again.code").read_text().strip() == "1"  # still deposited: refused, not deposited twice
    assert not list((out / "ailleurs").glob("JSON-*.json"))

    assert (out / "rw.code").read_text().strip() == "0", (out / "rw.txt").read_text()
    assert (out / "rw.ls").read_text().split() == ["JSON-0123456789-20240312-001.json"]


_WORKBOOKS_ON_A_FULL_DISK = """
mount -t tmpfs -o size=64k tmpfs "$DISK"
cp "$RETURN" "$DISK/"
dd if=/dev/zero of="$DISK/plein" bs=1k count=256 2>/dev/null
for command in retour etat; do
    if [ $command = retour ]; then set -- "$DISK/$(basename "$RETURN")"; else set -- -o "$DISK/"; fi
    X2S $command "$@" --registre "$REGISTRE" > "$OUT/$command.txt" 2>&1; echo $? > "$OUT/$command.code"
done
ls -A "$DISK" > "$OUT/plein.ls"
rm "$DISK/plein"
X2S retour "$DISK/$(basename "$RETURN")" --registre "$REGISTRE" > "$OUT/again.txt" 2>&1; echo $? > "$OUT/again.code"
ls -A "$DISK" > "$OUT/again.ls"
"""


def test_a_workbook_written_on_a_full_disk_says_disque_plein_in_french(tmp_path: Path) -> None:
    """The bilan of `retour`, the workbook of `etat` (any workbook written with xlsxwriter), on
    a full disk: « Erreur inattendue : FileCreateError : [Errno 28] No space left on device »,
    xlsxwriter's own exception, which holds the OSError, not caught as one."""
    from tests.test_cycle import asp_return

    registre = tmp_path / "xl2segur.sqlite"
    written = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), tmp_path / "depot", DAY,
                          registre=registre).files[0]
    answer = asp_return(written, tmp_path / "retours" / written.name, {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    out, disk = tmp_path / "sortie", tmp_path / "disque"
    out.mkdir()
    disk.mkdir()
    _in_namespace(tmp_path, _WORKBOOKS_ON_A_FULL_DISK, DISK=str(disk), OUT=str(out), REGISTRE=str(registre),
                  RETURN=str(answer))
    for command in ("retour", "etat"):
        said = " ".join((out / f"{command}.txt").read_text().split())
        assert (out / f"{command}.code").read_text().strip() == "2", said
        assert "Traceback" not in said and "inattendue" not in said, said
        assert "(disque plein). Libérez de la place ou choisissez un autre dossier." in said, said
    # the returns were recorded before the bilan could not be written: said, not taken for undone
    assert " ".join((out / "retour.txt").read_text().split()).endswith(
        "Le registre, lui, est à jour : relancez la même commande une fois le problème réglé pour écrire le bilan "
        "(les retours seront dits « déjà enregistrés »).")
    assert sorted((out / "plein.ls").read_text().split()) == [written.name, "plein"]  # no temporary left
    assert (out / "again.code").read_text().strip() == "0", (out / "again.txt").read_text()
    assert sorted((out / "again.ls").read_text().split()) == [written.name, f"retour-ASP-{date.today():%Y%m%d}.xlsx"]


_RETURNS_ON_A_READ_ONLY_MEDIUM = """
mount -t tmpfs -o size=4m tmpfs "$DISK"
cp "$RETURN" "$DISK/"
mount -o remount,ro "$DISK"
X2S retour "$DISK/$(basename "$RETURN")" --registre "$REGISTRE" > "$OUT/ro.txt" 2>&1; echo $? > "$OUT/ro.code"
cd "$OUT"
X2S retour "$DISK/$(basename "$RETURN")" --registre "$REGISTRE" -o bilans/ > "$OUT/ailleurs.txt" 2>&1
echo $? > "$OUT/ailleurs.code"
"""


def test_returns_read_from_a_read_only_medium_are_recorded_once_their_bilan_can_be_written(tmp_path: Path) -> None:
    """The ASP's return files on a medium one may only read (a share the IT fills): `retour`
    recorded them, then could not write its bilan beside them, and ended in « impossible
    d'écrire … Choisissez un dossier accessible en écriture » (exit 2: not done, to the user),
    naming no option. Now nothing is recorded before the bilan's folder is known writable, and
    the message gives -o."""
    from tests.test_cycle import asp_return

    registre = tmp_path / "xl2segur.sqlite"
    written = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "depot", DAY,
                          registre=registre).files[0]
    answer = asp_return(written, tmp_path / "retours" / written.name, {"00001": "FINMS2000001"})
    out, disk = tmp_path / "sortie", tmp_path / "disque"
    out.mkdir()
    disk.mkdir()
    _in_namespace(tmp_path, _RETURNS_ON_A_READ_ONLY_MEDIUM, DISK=str(disk), OUT=str(out), REGISTRE=str(registre),
                  RETURN=str(answer))
    said = " ".join((out / "ro.txt").read_text().split())
    assert (out / "ro.code").read_text().strip() == "2"
    assert said == (f"Erreur : impossible d'écrire le classeur de bilan dans le dossier « {disk} » (disque en lecture "
                    "seule) : rien n'est enregistré. Donnez-lui un dossier accessible en écriture (-o DOSSIER/), "
                    "puis relancez.")
    said = (out / "ailleurs.txt").read_text()
    assert (out / "ailleurs.code").read_text().strip() == "0", said
    assert "00001 : Acceptée — FINMS2000001" in said and "déjà enregistré" not in said, said
    assert [p.name for p in (out / "bilans").iterdir()] == [f"retour-ASP-{date.today():%Y%m%d}.xlsx"]


_WITHDRAW_ONTO_A_FULL_DISK = """
mount -t tmpfs -o size=64k tmpfs "$DISK"
dd if=/dev/zero of="$DISK/plein" bs=1k count=256 2>/dev/null
ln -s "$DISK" "$DEPOT/retires"
X2S retirer "$FILE" --oui --registre "$REGISTRE" > "$OUT/retirer.txt" 2>&1; echo $? > "$OUT/retirer.code"
ls -A "$DISK" > "$OUT/plein.ls"
cp "$FILE" "$OUT/kept.json"
X2S convertir "$BOOK" -o "$OUT/ailleurs" --date-depot 20240312 --registre "$REGISTRE" -q > "$OUT/again.txt" 2>&1
echo $? > "$OUT/again.code"
rm "$DISK/plein"
X2S retirer "$FILE" --oui --registre "$REGISTRE" > "$OUT/rw.txt" 2>&1; echo $? > "$OUT/rw.code"
ls -A "$DISK" > "$OUT/rw.ls"
"""


def test_a_file_that_cannot_be_copied_onto_a_full_retires_disk_is_not_withdrawn(tmp_path: Path) -> None:
    """`retires/`, a link to another disk that is full: the copy failed once the withdrawal was
    recorded, its demandes freed while the file stayed in the deposit folder, uploadable, and
    the next conversion deposited them again. Now the withdrawal is undone, and said."""
    registre, depot = tmp_path / "xl2segur.sqlite", tmp_path / "depot"
    book = workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002"))
    written = api.convert(book, depot, DAY, registre=registre).files[0]
    content = written.read_bytes()
    out, disk = tmp_path / "sortie", tmp_path / "disque"
    out.mkdir()
    disk.mkdir()
    _in_namespace(tmp_path, _WITHDRAW_ONTO_A_FULL_DISK, DISK=str(disk), DEPOT=str(depot), FILE=str(written),
                  REGISTRE=str(registre), OUT=str(out), BOOK=str(book))
    said = " ".join((out / "retirer.txt").read_text().split())
    assert (out / "retirer.code").read_text().strip() == "2", said
    assert "disque plein" in said and "rien n'est retiré" in said and "Traceback" not in said, said
    assert (out / "plein.ls").read_text().split() == ["plein"]  # no temporary, no empty file left
    assert (out / "kept.json").read_bytes() == content  # still in the deposit folder, whole
    assert (out / "again.code").read_text().strip() == "1"  # still deposited: refused, not deposited twice
    assert not list((out / "ailleurs").glob("JSON-*.json"))
    assert (out / "rw.code").read_text().strip() == "0", (out / "rw.txt").read_text()
    assert (out / "rw.ls").read_text().split() == [written.name] and not written.exists()


_READ_ONLY_COPY_WITH_ITS_JOURNAL = """
mount -t tmpfs -o size=4m tmpfs "$DISK"
cp "$COPIED/xl2segur.sqlite" "$COPIED/xl2segur.sqlite-wal" "$DISK/"
mount -o remount,ro "$DISK"
X2S etat -o "$OUT/" --registre "$DISK/xl2segur.sqlite" > "$OUT/etat.txt" 2>&1; echo $? > "$OUT/etat.code"
"""


def test_a_read_only_ledger_beside_its_unmerged_journal_is_not_shown_incomplete(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ledger copied, with its `-wal` journal, while a command used it, onto a read-only
    medium: read as immutable, SQLite ignores the journal, and `etat` showed one deposit file
    of the two, saying nothing. Now it says why it cannot read it whole, and what to do."""
    import sqlite3

    monkeypatch.delenv("XL2SEGUR_REGISTRE", raising=False)  # a ledger of one's own: in WAL mode
    registre = tmp_path / "xl2segur.sqlite"
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "depot", DAY, registre=registre)
    using = sqlite3.connect(registre)  # another command still using it: its journal is not merged on close
    try:
        using.execute("SELECT count(*) FROM fichiers").fetchall()
        api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), tmp_path / "depot", DAY, registre=registre)
        assert Path(f"{registre}-wal").stat().st_size > 0
        out, disk = tmp_path / "sortie", tmp_path / "disque"
        out.mkdir()
        disk.mkdir()
        _in_namespace(tmp_path, _READ_ONLY_COPY_WITH_ITS_JOURNAL, DISK=str(disk), OUT=str(out), COPIED=str(tmp_path))
    finally:
        using.close()
    said = " ".join((out / "etat.txt").read_text().split())
    assert (out / "etat.code").read_text().strip() == "2", said
    assert said == (f"Erreur : le registre « {disk / 'xl2segur.sqlite'} » est en lecture seule (disque ou fichier), "
                    "et son journal « xl2segur.sqlite-wal », à côté de lui, contient peut-être des enregistrements "
                    "qu'il n'a pas encore intégrés (registre copié pendant qu'une commande l'utilisait, ou commande "
                    "interrompue) : lu ici sans ce journal, il pourrait être incomplet. Copiez le registre et son "
                    "fichier « -wal » ensemble dans un dossier accessible en écriture, et donnez cette copie à la "
                    "commande (--registre).")
    assert not list(out.glob("etat-registre-*.xlsx"))


_READ_ONLY_COPY = """
mount -t tmpfs -o size=4m tmpfs "$DISK"
cp "$COPIED" "$DISK/xl2segur.sqlite"
mount -o remount,ro "$DISK"
cd "$OUT"
X2S etat --registre "$DISK/xl2segur.sqlite" > "$OUT/etat.txt" 2>&1; echo $? > "$OUT/etat.code"
X2S reecrire JSON-0123456789-20240312-001.json -o "$OUT/copie" --registre "$DISK/xl2segur.sqlite" \
    > "$OUT/reecrire.txt" 2>&1; echo $? > "$OUT/reecrire.code"
"""


def test_a_read_only_ledger_written_before_the_returns_history_is_read_by_etat_and_reecrire(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ledger of version 3 written before its tables `retours` and `archives` (added without
    a new schema version), on a read-only medium (a backup disk): `etat` and `reecrire` said
    « n'a pas pu être mis à jour (no such table: retours) … Vérifiez son disque », though they
    only read it and nothing is wrong with the disk. Read as it is, no history yet: empty."""
    import shutil
    import sqlite3

    monkeypatch.delenv("XL2SEGUR_REGISTRE", raising=False)
    registre = tmp_path / "xl2segur.sqlite"
    written = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), tmp_path / "depot", DAY,
                          registre=registre).files[0]
    older = tmp_path / "ancien" / "xl2segur.sqlite"
    older.parent.mkdir()
    shutil.copy(registre, older)
    with sqlite3.connect(older) as db:  # as the first versions of schema 3 wrote it
        db.executescript("PRAGMA journal_mode = DELETE; DROP TABLE retours; DROP TABLE archives; "
                         "DROP INDEX demandes_fichier;")
    db.close()
    out, disk = tmp_path / "sortie", tmp_path / "disque"
    out.mkdir()
    disk.mkdir()
    _in_namespace(tmp_path, _READ_ONLY_COPY, DISK=str(disk), OUT=str(out), COPIED=str(older))
    said = (out / "etat.txt").read_text()
    assert (out / "etat.code").read_text().strip() == "0", said
    assert "Déposées, sans retour de l'ASP : 2" in said and len(list(out.glob("etat-registre-*.xlsx"))) == 1
    said = (out / "reecrire.txt").read_text()
    assert (out / "reecrire.code").read_text().strip() == "0", said
    assert (out / "copie" / written.name).read_bytes() == written.read_bytes()


_READ_ONLY_OLDER = _READ_ONLY_COPY + """
X2S solde --registre "$DISK/xl2segur.sqlite" > "$OUT/solde.txt" 2>&1; echo $? > "$OUT/solde.code"
X2S retirer "$OUT/depot/JSON-0123456789-20240312-001.json" --oui --registre "$DISK/xl2segur.sqlite" \
    > "$OUT/retirer.txt" 2>&1; echo $? > "$OUT/retirer.code"
"""


def test_a_read_only_ledger_of_a_previous_version_is_read_by_etat_solde_and_reecrire(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ledger of version 3 (no `regime` yet) on a read-only medium (a share mounted read-only,
    a backup disk): `etat`, `solde` and `reecrire`, which only read it, refused it « écrit par
    une version précédente … Copiez-le dans un dossier accessible en écriture ». Now it is
    brought up to date in memory, the file untouched, and read; a command that must write it
    says it is read-only."""
    import shutil
    import sqlite3

    from tests.test_ledger_year import _as_version_3

    monkeypatch.delenv("XL2SEGUR_REGISTRE", raising=False)
    registre, out = tmp_path / "xl2segur.sqlite", tmp_path / "sortie"
    written = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), out / "depot", DAY,
                          registre=registre).files[0]
    older = tmp_path / "ancien" / "xl2segur.sqlite"
    older.parent.mkdir()
    shutil.copy(registre, older)
    _as_version_3(older)
    with sqlite3.connect(older) as db:
        db.execute("PRAGMA journal_mode = DELETE")
    db.close()
    disk = tmp_path / "disque"
    disk.mkdir()
    _in_namespace(tmp_path, _READ_ONLY_OLDER, DISK=str(disk), OUT=str(out), COPIED=str(older))
    said = (out / "etat.txt").read_text()
    assert (out / "etat.code").read_text().strip() == "0", said
    assert "Déposées, sans retour de l'ASP : 2" in said and "avance attendue 3 504,00 €" in said, said
    said = (out / "reecrire.txt").read_text()
    assert (out / "reecrire.code").read_text().strip() == "0", said
    assert (out / "copie" / written.name).read_bytes() == written.read_bytes()
    said = (out / "solde.txt").read_text()
    assert (out / "solde.code").read_text().strip() == "0" and "Aucune avance acceptée" in said, said
    said = " ".join((out / "retirer.txt").read_text().split())
    assert (out / "retirer.code").read_text().strip() == "2" and "lecture seule" in said, said
    assert "Rendez-le accessible en écriture" in said and written.exists(), said
