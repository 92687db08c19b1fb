"""The ledger's promise on the disks users carry: a USB key or an external disk in exFAT (no
hard links, no symbolic links, no permissions, names whatever their case), mounted for real
with exfat-fuse on a loop file, in a mount namespace of the test's own (tests/namespace.py), and
`xl2segur` run there as a user runs it. Skipped where no namespace may be made or exfat-fuse,
mkfs.exfat or losetup is missing (Debian: `apt-get install exfat-fuse exfatprogs`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import orjson
import pytest

from tests.builders import workbook
from tests.namespace import NAMESPACE
from tests.test_cycle import PDF, avance_rows

ROOT = Path(__file__).resolve().parents[1]
_TOOLS = ("mount.exfat-fuse", "mkfs.exfat", "losetup")
_PROBE = """set -e
truncate -s 8M "$1/cle.img"; mkfs.exfat "$1/cle.img" >/dev/null 2>&1; mkdir "$1/cle"
DEVICE=$(losetup -f --show "$1/cle.img"); trap 'losetup -d "$DEVICE"' EXIT
mount.exfat-fuse "$DEVICE" "$1/cle" >/dev/null 2>&1; umount "$1/cle"
"""


def _exfat_mountable() -> bool:
    """Whether an exFAT key can be mounted here: the tools, a loop device (root, not only a
    user namespace), FUSE (/dev/fuse)."""
    if NAMESPACE is None or not all(map(shutil.which, _TOOLS)):
        return False
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        return subprocess.run([*NAMESPACE, "sh", "-c", _PROBE, "sh", folder], capture_output=True,
                              timeout=60).returncode == 0


pytestmark = pytest.mark.skipif(not _exfat_mountable(), reason=(
    "no exFAT key can be mounted here: needs root (unshare -m, a loop device), /dev/fuse, and exfat-fuse, "
    "exfatprogs, losetup (apt-get install exfat-fuse exfatprogs)"))

# `$X2S` runs xl2segur; `$KILLED_NAMING` runs it killed (SIGKILL) as it names a deposit file on a
# disk without hard links: once the empty file that holds its name exists, before it is replaced
_PRELUDE = """set -u
X2S() { PYTHONPATH="$ROOT" "$PYTHON" -m converter "$@"; }
KILLED_NAMING() { PYTHONPATH="$ROOT" "$PYTHON" -c '
import os, signal, sys
real = os.replace
def dying(source, target, *args, **kwargs):
    if os.path.basename(target).startswith("JSON-"):
        os.kill(os.getpid(), signal.SIGKILL)
    return real(source, target, *args, **kwargs)
os.replace = dying
sys.argv[0] = "xl2segur"
from converter.launch import main
main()' "$@"; }
truncate -s 64M "$IMAGE"
mkfs.exfat -q "$IMAGE" >/dev/null 2>&1 || mkfs.exfat "$IMAGE" >/dev/null
DEVICE=$(losetup -f --show "$IMAGE")
mount.exfat-fuse "$DEVICE" "$KEY" >/dev/null
cd "$OUT"
"""
_CLEANUP = """
cd /
umount "$KEY"
losetup -d "$DEVICE"
"""


def _on_a_key(tmp_path: Path, scenario: str, **env: str) -> Path:
    """Run the shell `scenario` with an exFAT key mounted at `$KEY`; `$OUT` (returned) is where
    it leaves what the test reads."""
    out, key = tmp_path / "sortie", tmp_path / "cle"
    out.mkdir()
    key.mkdir()
    script = tmp_path / "scenario.sh"
    script.write_text(_PRELUDE + scenario + _CLEANUP)
    subprocess.run([*NAMESPACE, "sh", str(script)], check=True, timeout=300,
                   env={**os.environ, "ROOT": str(ROOT), "PYTHON": sys.executable, "OUT": str(out), "KEY": str(key),
                        "IMAGE": str(tmp_path / "cle.img"), "BOOK": str(workbook(tmp_path / "a.xlsx", avance_rows(
                            "00001", "00002"))), "REGISTRE": str(tmp_path / "xl2segur.sqlite"), **env})
    return out


_KILLED_WHILE_NAMING = """
KILLED_NAMING convertir "$BOOK" -o "$KEY/depot" --date-depot 20240312 --registre "$REGISTRE" $PIECES -q > killed.txt 2>&1
echo $? > killed.code
ls -A "$KEY/depot" > killed.ls
X2S convertir "$BOOK" -o "$KEY/depot" --date-depot 20240312 --registre "$REGISTRE" $PIECES -q > again.txt 2>&1
echo $? > again.code
ls -A "$KEY/depot" > again.ls
cp "$KEY/depot/JSON-0123456789-20240312-001.json" written.json
[ -z "$PIECES" ] || cp "$KEY/depot/JSON-0123456789-20240312-001.zip" written.zip
X2S etat --registre "$REGISTRE" > etat.txt 2>&1
"""


@pytest.mark.parametrize("pieces, ledger_on_key", [(False, False), (True, False), (False, True)])
def test_a_conversion_killed_while_naming_a_file_on_a_key_leaves_no_empty_file_under_its_name(
        tmp_path: Path, pieces: bool, ledger_on_key: bool) -> None:
    """No hard link on exFAT: a deposit file is named by creating its name, empty (only one run
    gets it), then replacing it with the file. Killed in between, the conversion left an empty
    `JSON-…-001.json`: the next conversion refused the folder, that file « que le registre ne
    connaît pas », and the demandes could be deposited nowhere. Now the empty name is dropped
    with the file that never got it, and the conversion deposits them, once. With `--pieces`,
    the kill comes as its zip is named, first: an empty zip is dropped likewise. The ledger on
    the key too (SQLite's write-ahead log and locks on exFAT), the same."""
    folder = tmp_path / "pieces"
    folder.mkdir()
    for numero in ("00001", "00002"):
        (folder / f"MS2-DUI-Va1-BDC-{numero}.pdf").write_bytes(PDF)
    out = _on_a_key(tmp_path, _KILLED_WHILE_NAMING, PIECES=f"--pieces {folder}" if pieces else "",
                    **({"REGISTRE": str(tmp_path / "cle" / "xl2segur.sqlite")} if ledger_on_key else {}))
    named = ["JSON-0123456789-20240312-001.json"] + (["JSON-0123456789-20240312-001.zip"] if pieces else [])
    assert (out / "killed.code").read_text().strip() == "137", (out / "killed.txt").read_text()
    assert named[-1] in (out / "killed.ls").read_text().split()  # its name, empty
    said = (out / "again.txt").read_text()
    assert (out / "again.code").read_text().strip() == "0", said
    assert sorted((out / "again.ls").read_text().split()) == named  # nothing else left
    if pieces:
        assert zipfile.ZipFile(out / "written.zip").namelist() == [f"MS2-DUI-Va1-BDC-{n}.pdf" for n in ("00001", "00002")]
    assert [line["numeroEditeur"] for line in orjson.loads(
        (out / "written.json").read_bytes())["lignesImport"]] == ["00001", "00002"]
    assert "Déposées, sans retour de l'ASP : 2" in (out / "etat.txt").read_text()


_RENAMED_ON_A_KEY = """
X2S convertir "$BOOK" -o "$KEY/depot" --date-depot 20240312 --registre "$KEY/xl2segur.sqlite" -q > first.txt 2>&1
mv "$KEY/depot/JSON-0123456789-20240312-001.json" "$KEY/depot/json-0123456789-20240312-001.json"
X2S convertir "$BOOK" -o "$KEY/depot" --date-depot 20240312 --registre "$KEY/xl2segur.sqlite" -q > case.txt 2>&1
echo $? > case.code
X2S reecrire JSON-0123456789-20240312-001.json --registre "$KEY/xl2segur.sqlite" > reecrire.txt 2>&1
echo $? > reecrire.code
ls -A "$KEY/depot" > reecrire.ls
mv "$KEY/depot/JSON-0123456789-20240312-001.json" "$KEY/depot/JSON-0123456789-20240312-001 (1).json"
X2S convertir "$BOOK" -o "$KEY/depot" --date-depot 20240312 --registre "$KEY/xl2segur.sqlite" -q > synced.txt 2>&1
echo $? > synced.code
mv "$KEY/depot/JSON-0123456789-20240312-001 (1).json" "$KEY/depot/JSON-0123456789-20240312-001.json"
cp "$KEY/depot/JSON-0123456789-20240312-001.json" "$KEY/depot/JSON-0123456789-20240312-001 (conflicted copy).json"
X2S convertir "$BOOK" -o "$KEY/depot" --date-depot 20240312 --registre "$KEY/xl2segur.sqlite" -q > copy.txt 2>&1
echo $? > copy.code
rm "$KEY/depot/JSON-0123456789-20240312-001 (conflicted copy).json"
touch "$KEY/depot/JSON-0123456789-20240312-001.json"
X2S convertir "$BOOK" -o "$KEY/depot" --date-depot 20240312 --registre "$KEY/xl2segur.sqlite" -q > again.txt 2>&1
echo $? > again.code
ls -A "$KEY/depot" > again.ls
"""


def test_a_file_renamed_on_a_key_is_told_renamed_never_a_copy_to_delete(tmp_path: Path) -> None:
    """exFAT knows names whatever their case: the file renamed `json-…-001.json` (by hand, by a
    tool that lowers names), `convertir` took « JSON-…-001.json », which the key still finds,
    for another file, and called the only file there « une copie … supprimez-la ». Now only a
    name spelt as recorded is the recorded file: give it its name back (`reecrire` gives it
    back, the key holding it already under the other spelling). A name given by a synced
    folder (« (1) ») is a rename, a « conflicted copy » a copy, and a file whose time was reset
    (copied again) is still known: the same workbook is refused, deposited already."""
    out = _on_a_key(tmp_path, _RENAMED_ON_A_KEY)
    assert "Registre des dépôts" in (out / "first.txt").read_text()
    for step, name, said in (("case", "json-0123456789-20240312-001.json", "du registre, renommé : rendez-lui son nom"),
                             ("synced", "JSON-0123456789-20240312-001 (1).json", "du registre, renommé : rendez-lui son nom"),
                             ("copy", "JSON-0123456789-20240312-001 (conflicted copy).json", "inscrit au registre : supprimez-la")):
        told = " ".join((out / f"{step}.txt").read_text().split())
        assert (out / f"{step}.code").read_text().strip() == "2", told
        assert f"« {name} » est {'une copie de' if step == 'copy' else 'le fichier'} « JSON-0123456789-20240312-001.json »" \
            in told and said in told, told
    told = " ".join((out / "reecrire.txt").read_text().split())
    assert (out / "reecrire.code").read_text().strip() == "0", told
    assert "« json-0123456789-20240312-001.json » reprend son nom : « JSON-0123456789-20240312-001.json »" in told, told
    assert (out / "reecrire.ls").read_text().split() == ["JSON-0123456789-20240312-001.json"]
    told = (out / "again.txt").read_text()
    assert (out / "again.code").read_text().strip() == "1" and "déjà été déposée" in told, told
    assert sorted((out / "again.ls").read_text().split()) == ["JSON-0123456789-20240312-001.json", "erreurs-a.xlsx"]


_WITHDRAWAL_KILLED = """
X2S convertir "$BOOK" -o "$KEY/depot" --date-depot 20240312 --registre "$REGISTRE" -q > first.txt 2>&1
cp "$KEY/depot/JSON-0123456789-20240312-001.json" written.json
KILLED_NAMING retirer "$KEY/depot/JSON-0123456789-20240312-001.json" --oui --registre "$REGISTRE" > killed.txt 2>&1
echo $? > killed.code
if [ "$THEN" = retirer ]; then
    X2S retirer "$KEY/depot/JSON-0123456789-20240312-001.json" --oui --registre "$REGISTRE" > then.txt 2>&1
    echo $? > then.code
    ls -A "$KEY/depot/retires" > then.ls
fi
X2S retirer --annuler "$KEY/depot/JSON-0123456789-20240312-001.json" --registre "$REGISTRE" > annuler.txt 2>&1
echo $? > annuler.code
ls -A "$KEY/depot" "$KEY/depot/retires" > annuler.ls
cp "$KEY/depot/JSON-0123456789-20240312-001.json" back.json
X2S convertir "$BOOK" -o "$KEY/ailleurs" --date-depot 20240312 --registre "$REGISTRE" -q > again.txt 2>&1
echo $? > again.code
"""


@pytest.mark.parametrize("then", ["retirer", "annuler"])
def test_a_withdrawal_killed_on_a_key_is_finished_or_undone_with_the_file_whole(tmp_path: Path, then: str) -> None:
    """`retirer` killed as it named the file in `retires/` (its name there created empty, before
    the file replaced it): run again, it set the file aside as « JSON-…-001 (2).json », beside
    the empty one; then `retirer --annuler` brought the empty file back, « à sa place », the
    real one left in `retires/`. Now an empty file under one of these names is dropped: the
    file is set aside under its name, and brought back whole; its demandes stay deposited."""
    out = _on_a_key(tmp_path, _WITHDRAWAL_KILLED, THEN=then)
    assert (out / "killed.code").read_text().strip() == "137", (out / "killed.txt").read_text()
    if then == "retirer":
        assert (out / "then.code").read_text().strip() == "0", (out / "then.txt").read_text()
        assert (out / "then.ls").read_text().split() == ["JSON-0123456789-20240312-001.json"]
    said = (out / "annuler.txt").read_text()
    assert (out / "annuler.code").read_text().strip() == "0", said
    assert "Le fichier est à sa place" in said, said
    assert (out / "back.json").read_bytes() == (out / "written.json").read_bytes()
    assert "(2)" not in (out / "annuler.ls").read_text()
    assert (out / "again.code").read_text().strip() == "1", (out / "again.txt").read_text()  # still deposited


_REWRITE_KILLED = """
X2S convertir "$BOOK" -o "$KEY/depot" --date-depot 20240312 --registre "$REGISTRE" $PIECES -q > first.txt 2>&1
mkdir kept
mv "$KEY/depot/"JSON-* kept/
KILLED_NAMING reecrire JSON-0123456789-20240312-001.json --registre "$REGISTRE" $PIECES > killed.txt 2>&1
echo $? > killed.code
ls -A "$KEY/depot" > killed.ls
X2S reecrire JSON-0123456789-20240312-001.json --registre "$REGISTRE" $PIECES > again.txt 2>&1
echo $? > again.code
mkdir again
cp "$KEY/depot/"JSON-* again/
"""


@pytest.mark.parametrize("pieces", [False, True])
def test_reecrire_killed_on_a_key_is_run_again_to_its_end(tmp_path: Path, pieces: bool) -> None:
    """`reecrire` killed as it named the file (or, with `--pieces`, its zip, first) on exFAT:
    its name left empty, and run again it refused « existe déjà avec un autre contenu … jamais
    écrasé », for ever. Now the empty name is dropped, and the file written as recorded."""
    folder = tmp_path / "pieces"
    folder.mkdir()
    for numero in ("00001", "00002"):
        (folder / f"MS2-DUI-Va1-BDC-{numero}.pdf").write_bytes(PDF)
    out = _on_a_key(tmp_path, _REWRITE_KILLED, PIECES=f"--pieces {folder}" if pieces else "")
    assert (out / "killed.code").read_text().strip() == "137", (out / "killed.txt").read_text()
    assert (out / "killed.ls").read_text().split()  # a name left, empty
    assert (out / "again.code").read_text().strip() == "0", (out / "again.txt").read_text()
    assert sorted(p.name for p in (out / "again").iterdir()) == sorted(p.name for p in (out / "kept").iterdir())
    assert all((out / "again" / p.name).read_bytes() == p.read_bytes() for p in (out / "kept").iterdir())
