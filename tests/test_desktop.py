"""What users run on their own desktops (issue #19, parts 2 to 5): LibreOffice files, any
console encoding, sheet names retyped without their accent, attachments named by any system."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from converter import api

from .builders import seed_001_rows, workbook

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "samples" / "ms2-dui-pds-avance.xlsx"
DAY = date(2024, 6, 3)


# ------------------------------------------------------------------ any console (part 3)


def run_in_console(encoding: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`xl2segur ARGS` in a console that can only write `encoding`; its output as bytes."""
    env = {**os.environ, "PYTHONIOENCODING": encoding, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "converter", *args], cwd=cwd, env=env,
                          capture_output=True, timeout=180)


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_no_command_crashes_on_the_console_encoding(tmp_path, encoding):
    runs = {
        "verifier": (run_in_console(encoding, "verifier", str(SAMPLE), cwd=tmp_path), 0),
        "convertir": (run_in_console(encoding, "convertir", str(SAMPLE), "-o", "depot", "--date-depot", "20240603",
                                     cwd=tmp_path), 0),
        "--help": (run_in_console(encoding, "--help", cwd=tmp_path), 0),
        "missing file": (run_in_console(encoding, "verifier", "absent.xlsx", cwd=tmp_path), 2),
        "usage error": (run_in_console(encoding, "convertir", str(SAMPLE), "--date-depot", "03/06/2024",
                                       cwd=tmp_path), 2),
    }
    for name, (done, code) in runs.items():
        both = done.stdout + done.stderr
        assert done.returncode == code, (name, both)
        assert b"Traceback" not in both and b"UnicodeEncodeError" not in both, name
        text = both.decode(encoding)  # only what the console can show was written
        assert "Demandes" in text or "Utilisation" in text or "Erreur" in text or "ERREUR" in text, name
    verifier = runs["verifier"][0].stdout.decode(encoding)
    helped = runs["--help"][0].stdout.decode(encoding)
    if encoding == "ascii":  # the nearest plain text, not a question mark per accent
        assert "Erreurs : 0 - avertissements : 7" in verifier and "1 460,00 EUR" in verifier
        assert "Ecrit le classeur de solde" in helped
    else:  # cp1252 shows « », é and €: kept
        assert "Erreurs : 0 — avertissements : 7" in verifier and "1 460,00 €" in verifier
        assert "Écrit le classeur de solde" in helped
    # the files are unaffected: the same deposit file as the library writes
    expected = api.convert(SAMPLE, tmp_path / "reference", DAY)
    (written,) = (tmp_path / "depot").glob("JSON-*.json")
    assert written.read_bytes() == expected.files[0].read_bytes()


# ------------------------------------------------------------------ sheet names retyped (part 4)


def renamed_sheets(source: Path, target: Path, names: dict[str, str], copy: dict[str, str] | None = None) -> Path:
    """`source` saved again with its sheets renamed (`names`), then copies of some (`copy`: sheet → title)."""
    book = openpyxl.load_workbook(source)
    for old, new in names.items():
        book[old].title = new
    for sheet, title in (copy or {}).items():
        book.copy_worksheet(book[sheet]).title = title
    book.save(target)
    return target


def test_a_sheet_renamed_without_accent_or_in_another_case_is_read_with_a_warning(tmp_path):
    source = workbook(tmp_path / "modele.xlsx", seed_001_rows())
    path = renamed_sheets(source, tmp_path / "renomme.xlsx",
                          {"Scénarios": "Scenarios", "FINESS Géo": "finess geo", "Entête": "ENTETE"})
    expected = api.convert(source, tmp_path / "a", DAY)
    outcome = api.convert(path, tmp_path / "b", DAY)
    assert outcome.exit_code == expected.exit_code == 0, outcome.errors
    assert outcome.files[0].read_bytes() == expected.files[0].read_bytes()
    warned = {(i.sheet, i.value): i.render() for i in outcome.warnings if i.code == "feuille_renommee"}
    assert set(warned) == {("Scénarios", "Scenarios"), ("FINESS Géo", "finess geo"), ("Entête", "ENTETE")}
    assert "« Scénarios »" in warned["Scénarios", "Scenarios"] and "« Scenarios »" in warned["Scénarios", "Scenarios"]


def test_two_sheets_matching_a_renamed_one_stay_an_error(tmp_path):
    source = workbook(tmp_path / "modele.xlsx", seed_001_rows())
    path = renamed_sheets(source, tmp_path / "deux.xlsx", {"Scénarios": "Scenarios"}, copy={"Scenarios": "SCÉNARIOS"})
    outcome = api.verify(path)
    assert outcome.exit_code == 2
    (problem,) = outcome.errors
    assert problem.code == "feuille_ambigue" and problem.sheet == "Scénarios"
    assert "« Scenarios » et « SCÉNARIOS »" in problem.message
