"""What users run on their own desktops (issue #19, parts 2 to 5): LibreOffice files, any
console encoding, sheet names retyped without their accent, attachments named by any system."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import unicodedata
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from typer.testing import CliRunner

from converter import api, files, reading
from converter.cli import app

from .builders import seed_001_rows, workbook
from .builders_solde import seed_000_rows
from .test_cycle import PDF, PNG
from .test_hostile import CORPUS, rewrite, set_cell, unreadable

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
        assert "Erreurs : 0 - avertissements : 7" in verifier and "1 752,00 EUR" in verifier
        assert "Ecrit le classeur de solde" in helped
    else:  # cp1252 shows « », é and €: kept
        assert "Erreurs : 0 — avertissements : 7" in verifier and "1 752,00 €" in verifier
        assert "Écrit le classeur de solde" in helped
    # the files are unaffected: the same deposit file as the library writes
    expected = api.convert(SAMPLE, tmp_path / "reference", DAY, registre=tmp_path / "reference.sqlite")
    (written,) = (tmp_path / "depot").glob("JSON-*.json")
    assert written.read_bytes() == expected.files[0].read_bytes()


@pytest.mark.parametrize("encoding, shown", [("cp850", "fichier « Avances été.xlsx »"),
                                             ("cp1252", "fichier « Avances été.xlsx »"),
                                             ("ascii", 'fichier " Avances ete.xlsx "')])
def test_a_name_in_macos_decomposed_accents_reads_as_typed_on_a_windows_console(tmp_path, encoding, shown):
    """A name from a macOS archive keeps its « é » as « e » and a combining accent, which no
    Windows console encoding has: « Avances e?te?.xlsx », where cp850 and cp1252 show « é »."""
    (tmp_path / unicodedata.normalize("NFD", "Avances été.xlsx")).write_bytes(b"")
    done = run_in_console(encoding, "verifier", unicodedata.normalize("NFD", "Avances été.xlsx"), cwd=tmp_path)
    text = (done.stdout + done.stderr).decode(encoding)
    assert done.returncode == 2 and shown in text and "?" not in text, text


@pytest.mark.skipif(sys.platform == "win32", reason="closes the child's descriptors 1 and 2 (POSIX)")
def test_a_command_run_without_any_console_still_does_its_work(tmp_path):
    """pythonw (a shortcut, a scheduled task) gives Python no console: sys.stdout and
    sys.stderr are None, as with `>&- 2>&-`. The conversion is done all the same and the exit
    code says so; with stderr alone, its messages are still there."""
    def without(*fds):
        return lambda: [os.close(fd) for fd in fds]
    env = {**os.environ, "XL2SEGUR_REGISTRE": str(tmp_path / "registre.sqlite")}
    done = subprocess.run([sys.executable, "-m", "converter", "convertir", str(SAMPLE), "-o", "depot",
                           "--date-depot", "20240603"], cwd=tmp_path, env=env, preexec_fn=without(1, 2), timeout=180)
    assert done.returncode == 0
    assert [p.name for p in (tmp_path / "depot").glob("*.json")] == ["JSON-0123456789-20240603-001.json"]
    for args, code in ((["formats"], 0), (["verifier", "absent.xlsx"], 2)):
        done = subprocess.run([sys.executable, "-m", "converter", *args], cwd=tmp_path, env=env,
                              preexec_fn=without(1), capture_output=True, timeout=180)
        assert (done.returncode, done.stderr.decode()) == (code, ""), args
    done = subprocess.run([sys.executable, "-m", "converter", "verifier", "absent.xlsx"], cwd=tmp_path, env=env,
                          preexec_fn=without(2), capture_output=True, timeout=180)
    assert done.returncode == 2 and "Le fichier est introuvable" in done.stdout.decode()


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_the_cap_formula_stays_readable_on_the_console_encoding(tmp_path, encoding):
    """The plafond's interpolation is written with « − » and « ≈ », which neither cp1252 (a
    redirected Windows console) nor ascii has: « (15 000 ? 7 000) … 8 183,4677… ? 8 183,47 »."""
    done = run_in_console(encoding, "plafond", "hop-pfi-va2", "--activite-combinee", "15000",
                          "--prestation", "V2", "--tva", "20", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode(encoding)
    assert "?" not in text, text
    assert "(AC - AC min)" in text and "(15 000 - 7 000)" in text and "~ 8 183,47" in text
    done = run_in_console(encoding, "plafond", "hop-pfi-va2", "--activite-combinee", "10000",
                          "--activite-combinee", "20000", "--prestation", "V2", cwd=tmp_path)
    assert "?" not in done.stdout.decode(encoding)  # « (AF HOP-PFI-Va2 §5.3) »


def test_a_value_is_echoed_as_typed_even_shaped_like_an_emoji_code(tmp_path):
    """rich turns « :fire: » into an emoji, and markup.escape leaves it alone: the console
    shows the user's values as typed, code included."""
    rows = seed_001_rows()
    rows["Demandes"][0]["regimeTVA"] = ":fire:"
    path = workbook(tmp_path / "c.xlsx", rows)
    done = CliRunner().invoke(app, ["verifier", str(path)])
    assert done.exit_code == 1
    assert "« :fire: »" in done.output and "\U0001f525" not in done.output


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
    expected = api.convert(source, tmp_path / "a", DAY, registre=tmp_path / "a.sqlite")
    outcome = api.convert(path, tmp_path / "b", DAY, registre=tmp_path / "b.sqlite")
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


# ------------------------------------------------------------------ LibreOffice files (part 2)

# The same workbook saved by LibreOffice 7.4 as .xlsx and as .ods (`soffice --headless --convert-to
# ods|xlsx`), from a source typed as users type: dates as dates, amounts as numbers, booleans,
# a formula (montant of 00002: =4000+866.67), a formula in error (montant of 00003: =NA()), a
# FINESS typed as a number that lost its leading zero (FINESS Géo C4: 23456789), a hidden row
# (OG row 5, demande 00002) and an OG table starting at row 3 (two empty rows above).
SAVED = {kind: CORPUS / f"libreoffice-saisie.{kind}" for kind in ("xlsx", "ods")}


def located(outcome: api.Outcome) -> list[tuple]:
    return [(i.code, i.severity, i.sheet, i.row, i.column, i.balise, i.value, i.numero_editeur) for i in outcome.issues]


def test_an_ods_converts_exactly_as_the_same_xlsx(tmp_path):
    xlsx, ods = (api.convert(SAVED[kind], tmp_path / kind, DAY, registre=tmp_path / f"{kind}.sqlite")
                 for kind in ("xlsx", "ods"))
    assert ods.exit_code == xlsx.exit_code == 1
    assert ods.accepted == xlsx.accepted == ["00001"] and ods.rejected == xlsx.rejected == ["00002", "00003"]
    assert [p.name for p in ods.files] == [p.name for p in xlsx.files]
    assert ods.files[0].read_bytes() == xlsx.files[0].read_bytes()
    assert located(ods) == located(xlsx)
    # the checks that read the sheets' XML of an .xlsx find the same in the .ods
    codes = {(code, sheet, row, column, value) for code, _, sheet, row, column, _, value, _ in located(ods)}
    assert ("cellule_en_erreur", "Demandes", 4, "D", "#N/A") in codes  # a formula in error
    assert ("ensemble_manquant", "FINESS Géo", 4, "C", "023456789") in codes  # its zero given back
    assert {row for _, sheet, row, *_ in codes if sheet == "OG"} == {4, 5, 6}  # rows as the user sees them
    # its error workbook is an .xlsx, as for any workbook
    assert ods.error_workbook.name == "erreurs-libreoffice-saisie.xlsx"
    assert openpyxl.load_workbook(ods.error_workbook).sheetnames[0] == "Erreurs"


def test_an_ods_error_workbook_is_written_as_xlsx_and_the_summary_says_so(tmp_path):
    outcome = api.verify(SAVED["ods"], errors=tmp_path / "erreurs.ods")
    assert outcome.error_workbook == tmp_path / "erreurs.xlsx"
    assert zipfile.is_zipfile(outcome.error_workbook) and not (tmp_path / "erreurs.ods").exists()
    result = CliRunner().invoke(app, ["verifier", str(SAVED["ods"]), "--erreurs", str(tmp_path / "autre.ods")])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert f"Classeur d'erreurs : {tmp_path / 'autre.xlsx'} (enregistré au format Excel .xlsx" in text
    result = CliRunner().invoke(app, ["convertir", str(SAVED["ods"]), "-o", str(tmp_path / "depot"),
                                      "--date-depot", "20240603"])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert (f"à corriger puis reconvertir : {tmp_path / 'depot' / 'erreurs-libreoffice-saisie.xlsx'} "
            "(enregistré au format Excel .xlsx") in text


def test_a_date_cell_of_another_century_is_shown_as_typed_from_an_ods_as_from_an_xlsx(tmp_path):
    """12/03/2204 typed in a date cell (a typo for 2024) was echoed « 2204-03-12 » from an .ods
    and « 2204-03-12 00:00:00 » from the same workbook saved as .xlsx: both show « 12/03/2204 »."""
    ods = edited_ods(tmp_path, lambda data: data.replace(b'office:date-value="2024-03-12"', b'office:date-value="2204-03-12"')
                     .replace(b"<text:p>12/03/2024</text:p>", b"<text:p>12/03/2204</text:p>"))
    serial = (date(2204, 3, 12) - date(1899, 12, 30)).days
    xlsx = edited_xlsx(tmp_path, lambda data: data.replace(b"<v>45363</v>", f"<v>{serial}</v>".encode()))
    found = {kind: [i for i in api.verify(path).issues if i.code == "date_annee_hors_limites"]
             for kind, path in (("ods", ods), ("xlsx", xlsx))}
    assert [(i.sheet, i.row, i.value) for i in found["ods"]] == [("Demandes", 2, "12/03/2204")]
    assert [i.render() for i in found["ods"]] == [i.render() for i in found["xlsx"]]


@pytest.mark.parametrize("kind, cell", [
    ("xlsx", b"<v>987654321.01</v>"),  # as LibreOffice writes it
    ("xlsx", b"<v>987654321.00999999</v>"),  # as Excel writes it: 17 digits
    ("ods", b"987654321.01"),
])
def test_a_large_amount_typed_as_a_number_is_read_as_the_user_sees_it(tmp_path, kind, cell):
    """987654321.01 typed as a number was read « 987654321.00999999 » (the reader spells the
    binary value, which is not quite it) and refused: « Plus de 2 décimales »."""
    if kind == "ods":
        path = edited_ods(tmp_path, lambda data: data.replace(
            b'office:value="4866.67" calcext:value-type="float"><text:p>4866.67',
            b'office:value="' + cell + b'" calcext:value-type="float"><text:p>' + cell, 1))
    else:
        path = edited_xlsx(tmp_path, lambda data: data.replace(b"<v>4866.67</v>", cell, 1))
    outcome = api.convert(path, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert outcome.accepted == ["00001"] and outcome.amounts == {"00001": Decimal("987654321.01")}
    assert b'"montantSegurHT": 987654321.01' in outcome.files[0].read_bytes()


@pytest.mark.parametrize("typed, code", [("987654321.00999999", "montant_decimales"), ("true", "montant_invalide")])
def test_digits_or_a_word_typed_as_text_in_an_amount_stay_as_typed(tmp_path, typed, code):
    path = edited_xlsx(tmp_path, lambda data: data.replace(
        b'<c r="D2" s="4" t="n"><v>4866.67</v></c>', b'<c r="D2" s="4" t="inlineStr"><is><t>' + typed.encode() + b'</t></is></c>'))
    assert [(i.code, i.cell, i.value) for i in api.verify(path).errors if i.row == 2] == [(code, "D2", typed)]


@pytest.mark.parametrize("kind, cell", [
    ("xlsx", b'<c r="D2" s="4" t="b"><v>1</v></c>'),  # as Excel writes VRAI
    ("xlsx", b'<c r="D2" s="4" t="n"><f aca="false">TRUE()</f><v>1</v></c>'),  # as LibreOffice does
    ("ods", b'<table:table-cell table:formula="of:=TRUE()" office:value-type="float" office:value="1" '
            b'calcext:value-type="float"><text:p>VRAI</text:p></table:table-cell>'),
    ("ods", b'<table:table-cell office:value-type="boolean" office:boolean-value="true" '
            b'calcext:value-type="boolean"><text:p>VRAI</text:p></table:table-cell>'),
])
def test_a_boolean_typed_in_an_amount_is_shown_vrai_and_never_read_as_one_euro(tmp_path, kind, cell):
    """VRAI typed in montantSegurHT was echoed « true » from Excel's cell, and LibreOffice's
    (a 1 computed by =TRUE()) was deposited as 1.00 €."""
    if kind == "ods":
        path = edited_ods(tmp_path, lambda data: re.sub(
            rb'<table:table-cell office:value-type="float" office:value="4866.67".*?</table:table-cell>',
            lambda _: cell, data, count=1, flags=re.S))
    else:
        path = edited_xlsx(tmp_path, lambda data: data.replace(b'<c r="D2" s="4" t="n"><v>4866.67</v></c>', cell))
    outcome = api.verify(path)
    assert "00001" in outcome.rejected
    assert [(i.code, i.cell, i.value) for i in outcome.errors if i.row == 2 and i.sheet == "Demandes"] == \
        [("montant_invalide", "D2", "VRAI")]


def percent_style(data: bytes) -> bytes:
    """styles.xml of the LibreOffice-saved .xlsx, with a 17th cell style (s="16") of format
    « 0.00% », as LibreOffice saves a cell formatted as a percentage."""
    return (data.replace(b"</numFmts>", b'<numFmt numFmtId="169" formatCode="0.00%"/></numFmts>')
            .replace(b"</cellXfs>", b'<xf numFmtId="169" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'))


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_an_amount_shown_as_a_percentage_is_refused_as_the_user_sees_it(tmp_path, kind):
    """30 % typed in montantSegurHT (a cell formatted as a percentage holds 0.3) was deposited
    as 0.30 €: the seeds ask for an amount in euros; it is refused, echoed as the sheet shows it."""
    if kind == "ods":
        path = edited_ods(tmp_path, lambda data: re.sub(
            rb'<table:table-cell office:value-type="float" office:value="4866.67".*?</table:table-cell>',
            lambda _: b'<table:table-cell office:value-type="percentage" office:value="0.3" '
                      b'calcext:value-type="percentage"><text:p>30 %</text:p></table:table-cell>',
            data, count=1, flags=re.S))
        shown = "30 %"
    else:
        path = rewrite(edited_xlsx(tmp_path, lambda data: data.replace(
            b'<c r="D2" s="4" t="n"><v>4866.67</v></c>', b'<c r="D2" s="16" t="n"><v>0.3</v></c>')),
            "xl/styles.xml", percent_style)
        shown = "30,00 %"
    outcome = api.convert(path, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert "00001" in outcome.rejected and "00001" not in outcome.amounts
    assert [(i.code, i.cell, i.value) for i in outcome.errors if i.row == 2 and i.sheet == "Demandes"] == \
        [("montant_pourcentage", "D2", shown)]


def test_an_amount_formatted_as_a_percentage_by_excel_is_refused(tmp_path):
    """Excel's built-in « 0% » (numFmtId 9), as openpyxl writes it; the other amounts stay read."""
    rows = seed_001_rows()
    rows["Demandes"].append({**rows["Demandes"][0], "numeroEditeur": "00002"})
    rows = {**rows, **{s: r + [{**x, "numeroEditeur": "00002"} for x in r] for s, r in rows.items() if s != "Demandes"}}
    path = workbook(tmp_path / "pourcent.xlsx", rows)
    book = openpyxl.load_workbook(path)
    cell = book["Demandes"]["D2"]
    cell.value, cell.number_format = 0.3, "0%"
    book.save(path)
    outcome = api.convert(path, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert outcome.rejected == ["00001"] and outcome.amounts == {"00002": Decimal("4866.67")}
    (problem,) = [i for i in outcome.errors if i.balise == "montantSegurHT"]
    assert (problem.code, problem.cell, problem.value) == ("montant_pourcentage", "D2", "30 %")
    assert "format pourcentage" in problem.message


def test_a_time_typed_in_a_date_cell_is_named_as_a_time_from_an_ods_as_from_an_xlsx(tmp_path):
    """On a French keyboard « : » and « / » share a key: 14:30 typed for a date is a time cell.
    The .ods read it as empty (« Valeur obligatoire », the cell not empty); the .xlsx said the
    year was out of range (none was typed) and warned of a time besides: both say it is a time."""
    ods = edited_ods(tmp_path, lambda data: data.replace(
        b'office:value-type="date" office:date-value="2024-03-12" calcext:value-type="date"><text:p>12/03/2024',
        b'office:value-type="time" office:time-value="PT14H30M00S" calcext:value-type="time"><text:p>14:30:00'))
    xlsx = edited_xlsx(tmp_path, lambda data: data.replace(b"<v>45363</v>", b"<v>0.604166666666667</v>"))
    found = {kind: [i for i in api.verify(path).issues if i.balise == "dateCommande"] for kind, path in (("ods", ods), ("xlsx", xlsx))}
    assert [(i.code, i.sheet, i.row, i.column, i.value) for i in found["ods"]] == [
        ("date_heure_seule", "Demandes", 2, "B", "14:30")]
    assert [i.render() for i in found["ods"]] == [i.render() for i in found["xlsx"]]
    assert "pas une date" in found["ods"][0].message


def test_an_ods_renamed_xlsx_is_read_by_its_content(tmp_path):
    renamed = tmp_path / "classeur.xlsx"
    renamed.write_bytes(SAVED["ods"].read_bytes())
    assert located(api.verify(renamed)) == located(api.verify(SAVED["xlsx"]))


def test_an_ods_lists_its_number_cells_once_and_only_when_a_check_asks(monkeypatch):
    # listing every number and boolean cell of content.xml took two thirds of the scan of an
    # .ods typed as Excel types it (amounts, VRAI/FAUX), for the few cells a check asks about
    listings = []
    real = reading._scan_ods
    monkeypatch.setattr(reading, "_scan_ods", lambda path, zf, listing=False, check=None:
                        listings.append(listing) or real(path, zf, listing, check))
    assert ("ensemble_manquant", "023456789") in {(i.code, i.value) for i in api.verify(SAVED["ods"]).issues}
    assert listings == [False, True]  # the FINESS typed as a number asked: one listing, whatever asks
    listings.clear()
    api.verify(CORPUS / "libreoffice-erreurs-corrige.ods")
    assert listings == [False]


def edited_xlsx(tmp_path: Path, edit) -> Path:
    """The LibreOffice-saved .xlsx, its « Demandes » sheet edited (bytes → bytes)."""
    path = tmp_path / "modifie.xlsx"
    path.write_bytes(SAVED["xlsx"].read_bytes())
    return rewrite(path, "xl/worksheets/sheet2.xml", edit)


def edited_ods(tmp_path: Path, edit) -> Path:
    path = tmp_path / "modifie.ods"
    path.write_bytes(SAVED["ods"].read_bytes())
    return rewrite(path, "content.xml", edit)


def test_an_ods_value_far_below_its_table_is_refused_with_its_cell_before_it_is_opened(tmp_path, monkeypatch):
    far = (b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell/></table:table-row>'
           b'<table:table-row><table:table-cell office:value-type="string"><text:p>x</text:p>'
           b'</table:table-cell></table:table-row></table:table>')
    path = edited_ods(tmp_path, lambda data: data.replace(b"</table:table>", far, 2).replace(far, b"</table:table>", 1))

    def never(*_args):
        raise AssertionError("fastexcel would allocate the million rows")
    monkeypatch.setattr(reading.fastexcel, "read_excel", never)
    outcome = api.verify(path)
    assert outcome.exit_code == 2 and [(i.code, i.sheet) for i in outcome.errors] == [("plage_trop_etendue", "Demandes")]
    assert re.search(r"cellule A\d{7},", outcome.errors[0].message)  # the cell to clear


def test_an_ods_value_far_right_of_its_table_is_named_not_the_last_row(tmp_path, monkeypatch):
    # the message named a cell of the table's last row, the user's own demande
    def edit(data: bytes) -> bytes:
        table = data.index(b'table:name="Demandes"')
        row_2 = data.index(b"</table:table-row>", data.index(b"</table:table-header-rows>", table) + 30)
        far = (b'<table:table-cell table:number-columns-repeated="16375"/><table:table-cell '
               b'office:value-type="string" calcext:value-type="string"><text:p> </text:p></table:table-cell>')
        return data[:row_2] + far + data[row_2:]
    path = edited_ods(tmp_path, edit)
    monkeypatch.setattr(reading, "MAX_SHEET_CELLS", 50_000)  # 3 rows × 16,384 columns
    outcome = api.verify(path)
    assert [(i.code, i.sheet) for i in outcome.errors] == [("plage_trop_etendue", "Demandes")]
    assert "(cellule XFD2," in outcome.errors[0].message


def test_an_ods_run_of_cells_is_counted_only_under_its_own_prefix():
    """reading._repeats finds `table:number-columns-repeated` without a leading `\\b` (five times
    faster, issue #19) but, as `\\b` did, only where the prefix starts a word."""
    syntax = reading._ods_syntax(b"table", b"office", b"text", b"calcext")
    row = (b'<table:table-cell table:number-columns-repeated="3"/><table:table-cell '
           b'xtable:number-columns-repeated="9" table:number-columns-repeated="4"/>')
    bounded = re.compile(rb'\btable:number-columns-repeated="(\d+)"')
    assert reading._repeats(syntax, row) == [(m.start(), int(m.group(1))) for m in bounded.finditer(row)]
    assert [n for _, n in reading._repeats(syntax, row)] == [3, 4]
    assert reading._repeats(syntax, b'table:number-columns-repeated="2"') == [(0, 2)]


def test_an_ods_formula_saved_without_its_value_is_shown(tmp_path):
    def unsaved(data: bytes) -> bytes:  # the amount of 00002 as a program would write it: no value
        cell = re.search(rb'<table:table-cell table:formula="of:=4000\+866\.67"[^>]*>.*?</table:table-cell>', data)
        return data.replace(cell.group(0), b'<table:table-cell table:formula="of:=4000+866.67"/>')
    outcome = api.verify(edited_ods(tmp_path, unsaved))
    (problem,) = [i for i in outcome.errors if i.code == "formule_sans_valeur"]
    assert (problem.sheet, problem.row, problem.column, problem.value) == ("Demandes", 3, "D", "=4000+866.67")


def test_an_ods_formula_whose_result_is_empty_is_an_empty_cell(tmp_path):
    """libreoffice-formule-vide.ods and .xlsx: libreoffice-saisie.ods, its nomMandataire and
    emailMandataire of 00001 typed `=IF(E2;"LEROY";"")` (isMandataire is FAUX), saved by
    LibreOffice 7.4. An empty result is saved without a value type, only `<text:p/>`: it was
    « une formule enregistrée sans son résultat », and 00001 was rejected in the .ods only."""
    saved = {kind: CORPUS / f"libreoffice-formule-vide.{kind}" for kind in ("xlsx", "ods")}
    xlsx, ods = (api.convert(saved[kind], tmp_path / kind, DAY, registre=tmp_path / f"{kind}.sqlite")
                 for kind in ("xlsx", "ods"))
    assert "formule_sans_valeur" not in {i.code for i in ods.issues}
    assert ods.accepted == xlsx.accepted == ["00001"] and located(ods) == located(xlsx)
    assert ods.files[0].read_bytes() == xlsx.files[0].read_bytes()
    reference = api.convert(SAVED["ods"], tmp_path / "reference", DAY, registre=tmp_path / "reference.sqlite")
    assert ods.files[0].read_bytes() == reference.files[0].read_bytes()


# ------------------------------------------------------------------ attachments from any desktop (part 5)


def with_pieces(tmp_path: Path, files: dict[str, bytes], source: str | None = None,
                fmt: str = "PDF") -> api.Outcome:
    """Demande 00001 converted with --pieces, its bon de commande among `files` (name → bytes)."""
    rows = seed_001_rows()
    if source is not None or fmt != "PDF":
        rows["Pièces"] = [{"numeroEditeur": "00001", "typeFichier": "BON_COMMANDE", "formatFichier": fmt,
                           "fichierSource": source}]
    folder = tmp_path / "pieces"
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return api.convert(workbook(tmp_path / "a.xlsx", rows), tmp_path / "depot", DAY, pieces=folder,
                       registre=tmp_path / "registre.sqlite")


def zipped(outcome: api.Outcome) -> dict[str, bytes]:
    (archive,) = outcome.archives
    with zipfile.ZipFile(archive) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.parametrize("on_disk, typed", [
    ("MS2-DUI-Va1-BDC-00001.PDF", None),  # Windows' or a scanner's capitals
    ("ms2-dui-va1-bdc-00001.pdf", None),
    ("bon de commande pre\u0301vu.PDF", "bon de commande pr\u00e9vu.pdf"),  # « é » as macOS writes it
    # a folder of macOS (unzipped elsewhere: its name stays decomposed), typed composed
    ("Commandes e\u0301te\u0301/BON de commande.pdf", "commandes \u00e9t\u00e9/bon de commande.pdf"),
])
def test_a_name_differing_by_case_or_unicode_form_is_found_and_said(tmp_path, on_disk, typed):
    outcome = with_pieces(tmp_path, {on_disk: PDF}, source=typed)
    assert outcome.accepted == ["00001"] and outcome.errors == []
    (warning,) = [i for i in outcome.warnings if i.code == "piece_nom_approchant"]
    assert warning.numero_editeur == "00001" and f"« {on_disk} »" in warning.message
    assert f"« {typed or 'MS2-DUI-Va1-BDC-00001.pdf'} »" in warning.message
    assert zipped(outcome) == {"MS2-DUI-Va1-BDC-00001.pdf": PDF}  # the regulatory name


@pytest.mark.parametrize("on_disk, typed", [
    ("bon de commande pre\u0301vu.pdf", "bon de commande pr\u00e9vu.pdf"),  # « é » as macOS writes it
    ("bon de commande pr\u00e9vu.pdf", "bon de commande pre\u0301vu.pdf"),  # typed decomposed
    ("bon de commande pre\u0301vu.pdf", "bon de commande pre\u0301vu.pdf"),  # both, on a Mac
    # a folder of macOS (unzipped elsewhere: its name stays decomposed), typed composed
    ("Commandes e\u0301te\u0301/bon de commande.pdf", "Commandes \u00e9t\u00e9/bon de commande.pdf"),
])
def test_a_name_differing_by_its_unicode_form_only_is_the_same_name(tmp_path, on_disk, typed):
    """Cells are read composed (NFC); a file whose name is the same text decomposed is the file
    typed: a warning showed the two names alike (« … prévu.pdf » was « … prévu.pdf »)."""
    outcome = with_pieces(tmp_path, {on_disk: PDF}, source=typed)
    assert outcome.accepted == ["00001"] and outcome.errors == []
    assert not [i for i in outcome.warnings if i.code.startswith("piece_")]
    assert zipped(outcome) == {"MS2-DUI-Va1-BDC-00001.pdf": PDF}


@pytest.mark.parametrize("on_disk", ["MS2-DUI-Va1-BDC-00001.pdf.pdf", "MS2-DUI-Va1-BDC-00001.PDF.pdf"])
def test_a_name_whose_extension_windows_hid_and_the_user_typed_again_is_found_and_said(tmp_path, on_disk):
    """Windows hides known extensions: a file renamed « MS2-DUI-Va1-BDC-00001.pdf » in the
    Explorer is « MS2-DUI-Va1-BDC-00001.pdf.pdf ». It was « introuvable », under the very name
    the user sees."""
    outcome = with_pieces(tmp_path, {on_disk: PDF})
    assert outcome.accepted == ["00001"] and outcome.errors == []
    (warning,) = [i for i in outcome.warnings if i.code.startswith("piece_")]
    assert warning.code == "piece_extension_doublee" and f"« {on_disk} »" in warning.message
    assert zipped(outcome) == {"MS2-DUI-Va1-BDC-00001.pdf": PDF}


def test_two_files_matching_but_for_case_are_an_error(tmp_path):
    outcome = with_pieces(tmp_path, {"MS2-DUI-Va1-BDC-00001.PDF": PDF, "ms2-dui-va1-bdc-00001.pdf": PDF})
    assert outcome.rejected == ["00001"]
    (problem,) = outcome.errors
    assert problem.code == "piece_nom_ambigu"
    assert "« MS2-DUI-Va1-BDC-00001.PDF » et « ms2-dui-va1-bdc-00001.pdf »" in problem.message


def test_an_empty_attachment_says_empty_file(tmp_path):
    outcome = with_pieces(tmp_path, {"MS2-DUI-Va1-BDC-00001.pdf": b""})
    (problem,) = outcome.errors
    assert problem.code == "piece_vide" and "fichier vide" in problem.message and "vrai PDF" not in problem.message


def test_a_png_saved_under_pdf_gets_both_ways_out(tmp_path):
    outcome = with_pieces(tmp_path, {"MS2-DUI-Va1-BDC-00001.pdf": PNG})
    (problem,) = outcome.errors
    assert problem.code == "piece_autre_format"
    text = problem.message
    assert "est en réalité un PNG, pas un PDF" in text
    assert "formatFichier" in text and "fichierSource" in text and "« MS2-DUI-Va1-BDC-00001.pdf »" in text
    assert "renommez le fichier MS2-DUI-Va1-BDC-00001.png" in text
    # either way out converts: PNG declared and the file named in fichierSource …
    fixed = with_pieces(tmp_path / "a", {"MS2-DUI-Va1-BDC-00001.pdf": PNG}, source="MS2-DUI-Va1-BDC-00001.pdf", fmt="PNG")
    assert fixed.accepted == ["00001"] and zipped(fixed) == {"MS2-DUI-Va1-BDC-00001.png": PNG}
    # … or PNG declared and the file renamed as the advice says
    renamed = with_pieces(tmp_path / "b", {"MS2-DUI-Va1-BDC-00001.png": PNG}, fmt="PNG")
    assert renamed.accepted == ["00001"] and zipped(renamed) == {"MS2-DUI-Va1-BDC-00001.png": PNG}


def test_a_broken_ods_gets_a_french_message(tmp_path):
    def hostile(data: bytes) -> bytes:  # a malformed count and a row of values repeated far beyond any sheet
        data = data.replace(b'table:number-columns-repeated="', b'table:number-columns-repeated="x', 1)
        return re.sub(rb'<table:table-row( table:style-name="\w+")>',
                      rb'<table:table-row\1 table:number-rows-repeated="100000000">', data, count=3)
    outcome = api.verify(edited_ods(tmp_path, hostile))
    assert outcome.exit_code == 2 and outcome.errors[0].code in ("plage_trop_etendue", "trop_de_lignes")
    without_content = tmp_path / "sans-contenu.ods"
    with zipfile.ZipFile(SAVED["ods"]) as src, zipfile.ZipFile(without_content, "w") as dst:
        for info in src.infolist():
            if info.filename != "content.xml":
                dst.writestr(info, src.read(info))
    outcome = api.verify(without_content)
    assert [i.code for i in outcome.errors] == ["fichier_illisible"] and "content.xml" in outcome.errors[0].message


def test_a_libreoffice_error_of_its_own_is_a_cell_in_error(tmp_path):
    path = edited_ods(tmp_path, lambda data: data.replace(b"<text:p>#N/A</text:p>", b"<text:p>Err:502</text:p>", 1))
    (problem,) = [i for i in api.verify(path).errors if i.sheet == "Demandes"]
    assert (problem.code, problem.row, problem.column, problem.value) == ("cellule_en_erreur", 4, "D", "Err:502")


def test_a_password_protected_ods_says_so_in_french(tmp_path):
    """libreoffice-protege.ods: libreoffice-saisie.ods saved by LibreOffice 7.4 with a password
    (« Enregistrer avec mot de passe »); fastexcel answered in English, advising another save."""
    outcome = api.verify(CORPUS / "libreoffice-protege.ods")
    assert outcome.unreadable and outcome.exit_code == 2
    assert [i.code for i in outcome.errors] == ["classeur_protege"]
    assert "mot de passe" in outcome.errors[0].render() and "calamine" not in outcome.errors[0].render()


# ------------------------------------------------------------------ paths as users give them


def rejected_workbook(tmp_path: Path) -> Path:
    rows = seed_001_rows()
    rows["Demandes"][0]["regimeTVA"] = "TVA"
    return workbook(tmp_path / "rejetee.xlsx", rows)


def test_a_folder_given_for_a_file_gets_the_file_inside_it(tmp_path, monkeypatch):
    """`-o depot/` (as convertir's), `--erreurs corrections/`: the file goes into the folder
    under its usual name; it became a file without extension named after the folder (`depot-2`)."""
    monkeypatch.chdir(tmp_path)
    for folder in ("modeles", "erreurs", "rapports", "etats"):
        (tmp_path / folder).mkdir()
    done = CliRunner().invoke(app, ["modele", "ms2-dui-pds-avance", "-o", "modeles"])
    assert done.exit_code == 0, done.output
    assert zipfile.is_zipfile(tmp_path / "modeles" / "demandes.xlsx")
    done = CliRunner().invoke(app, ["verifier", str(rejected_workbook(tmp_path)), "--erreurs", "erreurs",
                                    "--rapport", "rapports"])
    assert done.exit_code == 1, done.output
    assert zipfile.is_zipfile(tmp_path / "erreurs" / "erreurs-rejetee.xlsx")
    assert (tmp_path / "rapports" / "rapport.json").is_file()
    registre = tmp_path / "registre.sqlite"
    api.convert(SAMPLE, tmp_path / "depot", DAY, registre=registre)
    done = CliRunner().invoke(app, ["etat", "--registre", str(registre), "-o", "etats"])
    assert done.exit_code == 0, done.output
    assert [p.suffix for p in (tmp_path / "etats").iterdir()] == [".xlsx"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith("-2")]


def test_a_folder_typed_with_its_separator_is_made_and_gets_the_file_inside_it(tmp_path, monkeypatch):
    """`-o modeles/`, `--erreurs sortie/`, `--rapport rapports/` for folders not made yet wrote
    the files `modeles.xlsx`, `sortie.xlsx` and `rapports` (a JSON report without extension):
    the separator typed said a folder, and Path() had dropped it."""
    monkeypatch.chdir(tmp_path)
    sep = os.sep
    done = CliRunner().invoke(app, ["modele", "ms2-dui-pds-avance", "-o", f"modeles{sep}"])
    assert done.exit_code == 0, done.output
    assert zipfile.is_zipfile(tmp_path / "modeles" / "demandes.xlsx")
    done = CliRunner().invoke(app, ["verifier", str(rejected_workbook(tmp_path)), "--erreurs", f"sortie{sep}",
                                    "--rapport", f"rapports{sep}"])
    assert done.exit_code == 1, done.output
    assert zipfile.is_zipfile(tmp_path / "sortie" / "erreurs-rejetee.xlsx")
    assert json.loads((tmp_path / "rapports" / "rapport.json").read_text(encoding="utf-8"))["numeros_rejetes"] == ["00001"]
    registre = tmp_path / "registre.sqlite"
    api.convert(SAMPLE, tmp_path / "depot", DAY, registre=registre)
    done = CliRunner().invoke(app, ["etat", "--registre", str(registre), "-o", f"etats{sep}"])
    assert done.exit_code == 0, done.output
    assert [p.suffix for p in (tmp_path / "etats").iterdir()] == [".xlsx"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["registre.sqlite", "rejetee.xlsx"]


@pytest.mark.parametrize("typed, written", [("rapport.xlsx", "rapport.json"), ("rapport", "rapport.json"),
                                            ("rapport.JSON", "rapport.JSON"), ("rapport.v2", "rapport.v2.json")])
def test_a_report_is_named_json_whatever_the_name_typed(tmp_path, typed, written):
    """`--rapport rapport.xlsx` wrote JSON under a workbook's name, which Excel refused to open."""
    done = CliRunner().invoke(app, ["verifier", str(rejected_workbook(tmp_path)), "--rapport", str(tmp_path / "r" / typed)])
    assert done.exit_code == 1, done.output
    assert [p.name for p in (tmp_path / "r").iterdir()] == [written]
    assert f"Rapport écrit : {tmp_path / 'r' / written}" in " ".join(done.output.split())
    json.loads((tmp_path / "r" / written).read_text(encoding="utf-8"))


@pytest.mark.parametrize("typed, written", [("demandes.ods", "demandes.xlsx"), ("demandes", "demandes.xlsx"),
                                            ("demandes.xlsm", "demandes.xlsx"), ("demandes.v2", "demandes.v2.xlsx"),
                                            ("DEMANDES.XLSX", "DEMANDES.XLSX")])
def test_a_workbook_written_is_named_xlsx_whatever_the_name_typed(tmp_path, typed, written):
    """xl2segur writes .xlsx only: under an .ods or .xlsm name, or none, Excel refuses to open
    it (or the desktop does not know it); the name gets the extension of what it holds."""
    done = CliRunner().invoke(app, ["modele", "ms2-dui-pds-avance", "-o", str(tmp_path / typed)])
    assert done.exit_code == 0, done.output
    assert [p.name for p in tmp_path.iterdir()] == [written]
    assert f"Modèle écrit : {tmp_path / written}" in " ".join(done.output.split())
    (tmp_path / "erreurs").mkdir()
    outcome = api.verify(rejected_workbook(tmp_path), errors=tmp_path / "erreurs" / typed)
    assert outcome.error_workbook == tmp_path / "erreurs" / written


@pytest.mark.parametrize("command", [
    ["verifier", "{long}.xlsx"], ["verifier", "{long}"], ["convertir", "{long}.xlsx"],
    ["modele", "ms2-dui-pds-avance", "-o", "{long}.xlsx"], ["verifier", str(SAMPLE), "--rapport", "{long}.json"],
    ["etat", "-o", "{long}.xlsx"], ["etat", "--registre", "{long}.sqlite"], ["solde", "--depuis", "{long}.sqlite"],
    ["retour", "retour.json", "--registre", "{long}.sqlite"],
])
def test_a_name_too_long_for_the_system_is_said_in_french(tmp_path, monkeypatch, command):
    # « Erreur inattendue : OSError : [Errno 36] File name too long »: pathlib's is_dir() and
    # exists() raise for such a name, and publishing the file under it was not caught
    monkeypatch.chdir(tmp_path)
    api.convert(SAMPLE, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    long = "é" * 200  # 400 bytes: more than a file name may hold (255)
    result = CliRunner().invoke(app, [arg.format(long=long) for arg in command]
                                + (["--registre", "registre.sqlite"] if command[:2] == ["etat", "-o"] else []))
    assert result.exit_code == 2, result.output
    assert "nom trop long" in result.output and "inattendue" not in result.output, result.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".xl2segur-tmp")]


def test_a_long_workbook_name_still_gets_its_error_workbook(tmp_path):
    """A name of 250 octets (the system allows 255): `erreurs-<name>.xlsx` was too long, the
    conversion ended in « nom trop long » (code 2) and the rejected demandes had no workbook."""
    stem = "Demandes de financement Ségur numérique — établissements " * 5
    stem = stem.encode()[:245].decode(errors="ignore")
    path = rejected_workbook(tmp_path).rename(tmp_path / f"{stem}.xlsx")
    outcome = api.convert(path, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert outcome.exit_code == 1 and outcome.rejected == ["00001"]
    written = outcome.error_workbook
    assert written.parent == tmp_path / "depot" and written.name.startswith("erreurs-Demandes de financement")
    assert written.suffix == ".xlsx" and len(written.name.encode()) <= 255 and zipfile.is_zipfile(written)
    again = api.convert(path, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert again.error_workbook.name == written.name.replace(".xlsx", "-2.xlsx")
    assert api.verify(path, errors=tmp_path / "depot").error_workbook.name == written.name.replace(".xlsx", "-3.xlsx")


def test_a_folder_or_a_lock_file_given_for_the_workbook_is_named_as_such(tmp_path):
    """A folder was « introuvable »; the lock file Excel (`~$demandes.xlsx`) or LibreOffice
    (`.~lock.demandes.xlsx#`) keeps beside an open workbook was to be saved as an .xlsx."""
    folder = tmp_path / "Demandes 2024"
    folder.mkdir()
    assert "est un dossier" in unreadable(folder, "chemin_dossier")
    excel = tmp_path / "~$demandes.xlsx"
    excel.write_bytes(b"\x0bJean Dupont" + b" " * 43 + b"\x0b\x00" + "Jean Dupont".encode("utf-16-le") + b"\x20\x00" * 43)
    libreoffice = tmp_path / ".~lock.demandes.xlsx#"
    libreoffice.write_text("Jean Dupont,jdupont,PC-42,04.12.2026 08:50,file:///home/jdupont/.config/libreoffice/4;")
    for lock in (excel, libreoffice):
        text = unreadable(lock, "fichier_verrou")
        assert "« demandes.xlsx »" in text and "verrouillage" in text, text
    done = CliRunner().invoke(app, ["verifier", str(excel)])
    assert done.exit_code == 2 and "Traceback" not in done.output


def test_a_pattern_the_windows_console_hands_over_as_typed_is_named_as_such(tmp_path):
    """`xl2segur verifier *.xlsx` in a Windows console: the pattern arrives as typed and was
    « Le fichier est introuvable. Vérifiez le chemin. »; it names the workbooks it matches, the
    lock file of an open workbook left out."""
    (tmp_path / "Avances été.xlsx").write_bytes(SAMPLE.read_bytes())
    (tmp_path / "~$Avances été.xlsx").write_bytes(b"\x0bJean Dupont")
    text = unreadable(tmp_path / "*.xlsx", "chemin_motif")
    assert "est un motif" in text and "« Avances été.xlsx »" in text and "~$" not in text, text
    (tmp_path / "Soldes.xlsx").write_bytes(SAMPLE.read_bytes())
    text = unreadable(tmp_path / "*.xlsx", "chemin_motif")
    assert "« Avances été.xlsx » et « Soldes.xlsx »" in text and "un par un" in text, text
    assert "aucun classeur" in unreadable(tmp_path / "*.ods", "chemin_motif")


def test_a_value_with_a_line_break_or_a_control_character_stays_on_its_line(tmp_path):
    """A line break typed in a cell (Alt+Entrée) cut its message in two; an escape character
    (a workbook from elsewhere: `_x001B_` in its XML) reached the terminal, which obeyed it."""
    rows = seed_001_rows()
    rows["Demandes"][0]["regimeTVA"] = "T\nTC"
    rows["Demandes"][0]["nomMandataire"] = "\x1b[2J\x1b]0;titre\x07DUPONT"
    done = CliRunner().invoke(app, ["verifier", str(workbook(tmp_path / "c.xlsx", rows))])
    assert done.exit_code == 1, done.output
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", done.output)
    lines = done.output.splitlines()
    assert any("(regimeTVA) — valeur « T↵TC » :" in line for line in lines), done.output
    assert any("(nomMandataire) — valeur « \\x1b[2J\\x1b]0;titre\\x07DUPONT » :" in line for line in lines), done.output


def test_a_name_windows_refuses_gets_a_french_reason(tmp_path, monkeypatch):
    """cmd.exe reads `-o "C:\\depot\\"` as `C:\\depot"`: Windows refuses the name (EINVAL), and
    the message gave its English reason « Invalid argument »."""
    real_mkdir = Path.mkdir

    def windows_mkdir(self, *args, **kwargs):
        if self.name.endswith('"'):
            raise OSError(errno.EINVAL, "Invalid argument", str(self))
        return real_mkdir(self, *args, **kwargs)
    monkeypatch.setattr(Path, "mkdir", windows_mkdir)
    done = CliRunner().invoke(app, ["convertir", str(SAMPLE), "-o", str(tmp_path / 'depot"'),
                                    "--registre", str(tmp_path / "r.sqlite")])
    assert done.exit_code == 2, done.output
    text = " ".join(done.output.split())
    assert "Invalid argument" not in text and "nom de fichier ou de dossier invalide" in text, text
    for code in (errno.EINVAL, errno.ENOENT, errno.EISDIR, errno.EBUSY, errno.EIO):
        assert files.why(OSError(code, os.strerror(code))) != os.strerror(code)
    # the workbook itself: a reason in French too
    monkeypatch.setattr(Path, "open", lambda *a, **k: (_ for _ in ()).throw(PermissionError(errno.EACCES, "Permission denied")))
    assert "lecture impossible : permission refusée" in unreadable(SAMPLE, "fichier_illisible")


@pytest.mark.parametrize("typed", ["Demandes \u00e9t\u00e9.xlsx", "demandes \u00c9T\u00c9.XLSX"])
def test_a_workbook_named_with_other_accents_or_case_is_found_and_said(tmp_path, typed):
    """A workbook from a macOS archive keeps its decomposed « é » on Windows or Linux, where the
    name typed (composed) did not find it: « introuvable », for a name that looks the same."""
    (tmp_path / unicodedata.normalize("NFD", "Demandes été.xlsx")).write_bytes(SAMPLE.read_bytes())
    done = CliRunner().invoke(app, ["verifier", str(tmp_path / typed)])
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert f"avertissement : aucun fichier ne s'appelle exactement « {typed} »" in said
    # the same name in another Unicode form shows alike: said so, not as two names that read the same
    invisible = unicodedata.normalize("NFC", typed) == "Demandes été.xlsx"
    assert ("une différence invisible à l'écran" in said) is invisible and (said.count("été") == 1) is invisible
    done = CliRunner().invoke(app, ["convertir", str(tmp_path / typed), "-o", str(tmp_path / "depot"),
                                    "--registre", str(tmp_path / "r.sqlite")])
    assert done.exit_code == 0, done.output
    assert len(list((tmp_path / "depot").glob("JSON-*.json"))) == 1


def test_a_workbook_typed_without_the_extension_windows_hides_is_found_and_said(tmp_path):
    """Windows hides known extensions: the Explorer shows « demandes », and
    « xl2segur verifier demandes » answered « Le fichier est introuvable »."""
    (tmp_path / "demandes.xlsx").write_bytes(SAMPLE.read_bytes())
    done = CliRunner().invoke(app, ["verifier", str(tmp_path / "demandes")])
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    assert ("avertissement : aucun fichier ne s'appelle exactement « demandes » ; le classeur « demandes.xlsx » (Windows "
            "masque les extensions connues") in text
    # two workbooks of that name: xl2segur does not choose
    (tmp_path / "demandes.ods").write_bytes(b"")
    done = CliRunner().invoke(app, ["verifier", str(tmp_path / "demandes")])
    assert done.exit_code == 2 and "introuvable" in done.output


@pytest.mark.parametrize("epoch, typed", [("1904", 43901), ("1904", 43901.0), ("1900", 45363)])
def test_a_date_held_as_a_number_counts_from_the_workbooks_own_epoch(tmp_path, epoch, typed):
    """A workbook of Excel for Mac before 2011 counts its dates from 1904 (`date1904`): a date
    held as a number in a cell of format Standard, 43901, is 12/03/2024 there, and it was read
    from 1900 (11/03/2020), without a word. A real date cell was already right, and so is a
    number in a workbook counting from 1900."""
    path = workbook(tmp_path / "w.xlsx", seed_001_rows())
    book = openpyxl.load_workbook(path)
    if epoch == "1904":
        book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    sheet = book["Demandes"]
    column = next(c.column for c in sheet[1] if c.value == "dateCommande")
    sheet.cell(2, column).value = typed
    sheet.cell(2, column).number_format = "General"
    book.save(path)
    outcome = api.convert(path, tmp_path / "out", date(2024, 3, 12))
    assert not outcome.errors, [i.render() for i in outcome.errors]
    (deposit,) = outcome.files
    assert '"dateCommande": "12/03/2024"' in deposit.read_text()


def test_a_pieces_folder_named_with_other_accents_is_found_and_said(tmp_path):
    """A folder of attachments unzipped from a macOS archive keeps its decomposed « é »: the
    name typed (composed) gave « Le dossier des pièces … n'existe pas »; it is now used, said."""
    folder = tmp_path / unicodedata.normalize("NFD", "Pièces été")
    folder.mkdir()
    (folder / "MS2-DUI-Va1-BDC-00001.pdf").write_bytes(PDF)
    done = CliRunner().invoke(app, ["convertir", str(workbook(tmp_path / "a.xlsx", seed_001_rows())),
                                    "-o", str(tmp_path / "depot"), "--registre", str(tmp_path / "r.sqlite"),
                                    "--pieces", str(tmp_path / "Pièces été"), "--date-depot", "20240312"])
    assert done.exit_code == 0, done.output
    assert ("aucun dossier ne s'appelle exactement « Pièces été » : le dossier des pièces qui porte ce nom "
            "l'écrit avec d'autres codes pour ses accents") in " ".join(done.output.split())
    assert [p.name for p in (tmp_path / "depot").glob("*.zip")] == ["JSON-0123456789-20240312-001.zip"]


def test_a_control_character_pasted_into_a_value_is_taken_out_as_invisible_characters_are(tmp_path):
    """A BEL or an ESC pasted from another program (Excel keeps it as _x0007_) shows nowhere, and
    the deposit file carried it (« DU\\u0007RAND » in nomResponsableOG); taken out, as a
    zero-width space is. A tab or a line break stays a space."""
    rows = seed_001_rows()
    rows["OG"][0]["nomResponsableOG"] = "DU\x07RAND\x1b"
    rows["OG"][0]["nomAdminTechnique"] = "MARTIN\tJEAN"
    outcome = api.convert(workbook(tmp_path / "w.xlsx", rows), tmp_path / "out", date(2024, 3, 12))
    assert outcome.accepted == ["00001"], [i.render() for i in outcome.errors]
    text = outcome.files[0].read_text()
    assert '"nomResponsableOG": "DURAND"' in text and '"nomAdminTechnique": "MARTIN JEAN"' in text
    assert "\\u00" not in text


def test_accents_typed_decomposed_on_macos_count_once_and_are_deposited_composed(tmp_path):
    """macOS types and pastes « É » as « E » + combining accent (NFD): a 24-letter name with 6
    accents counted 30 characters, « Trop long : 24 caractères au plus », and a name that
    passed went into the deposit file decomposed, longer there than the length checked."""
    name = "ÉLÉONORE DÉSIRÉE HÉLÈNE"  # 23 letters: nomAdminTechnique takes 24 at most
    rows = seed_001_rows()
    rows["OG"][0]["nomAdminTechnique"] = unicodedata.normalize("NFD", name)
    rows["OG"][0]["nomResponsableOG"] = unicodedata.normalize("NFD", "Lévêque")
    rows["Scénarios"][0]["ancienneVersion"] = unicodedata.normalize("NFD", "4.2 édition été")
    path = workbook(tmp_path / "mac.xlsx", rows)
    assert not api.verify(path).errors
    outcome = api.convert(path, tmp_path / "out", DAY, registre=tmp_path / "registre.sqlite")
    assert outcome.accepted == ["00001"], [i.render() for i in outcome.errors]
    # upper-cased as the ASP requires, said as for any lower-case name
    assert [(i.code, i.value) for i in outcome.warnings if i.balise == "nomResponsableOG"] == \
        [("majuscules", unicodedata.normalize("NFD", "Lévêque"))]
    document = json.loads(outcome.files[0].read_text(encoding="utf-8"))
    og = document["lignesImport"][0]["beneficiaires"]["etablissementsClients"][0]
    assert og["certificatServeur"]["nomAdminTechnique"] == name
    assert og["nomResponsableOG"] == "LÉVÊQUE"
    assert document["lignesImport"][0]["scenarioInstallation"][0]["ancienneVersion"] == "4.2 édition été"
    # one letter too many is still too long, counted as letters
    rows["OG"][0]["nomAdminTechnique"] = unicodedata.normalize("NFD", name + "ÉE")
    (error,) = api.verify(workbook(tmp_path / "long.xlsx", rows)).errors
    assert (error.code, error.balise) == ("longueur_max", "nomAdminTechnique")


def test_a_year_out_of_range_is_named_as_such_on_the_console(tmp_path):
    """12/03/1850 was « Date invalide : saisissez une vraie date », which it is: the message says
    that the year is unusual, and how to write it; the seeds fix no range (« JJ/MM/AAAA »), so it
    is a warning, the date kept."""
    rows = seed_001_rows()
    rows["Demandes"][0]["dateCommande"] = "12/03/1850"
    done = CliRunner().invoke(app, ["verifier", str(workbook(tmp_path / "annee.xlsx", rows))])
    assert done.exit_code == 0, done.output
    line = next(line for line in " ".join(done.output.split()).split("avertissement")[1:] if "dateCommande" in line)
    assert "valeur « 12/03/1850 » : Année inhabituelle, avant 1900 ou après 2099" in line, line
    assert "Vérifiez l'année" in line and "vraie date" not in line, line


def test_a_long_value_is_shown_abridged_on_the_console_and_whole_in_the_report(tmp_path):
    """A 5,000-character name filled some eighty lines of the terminal with its « X »: the
    console shows its start and its length, as the error workbook's « Erreurs » sheet; the
    report keeps it whole."""
    rows = seed_001_rows()
    rows["OG"][0]["nomAdminTechnique"] = "X" * 5000
    report = tmp_path / "rapport.json"
    done = CliRunner().invoke(app, ["verifier", str(workbook(tmp_path / "c.xlsx", rows)), "--rapport", str(report)])
    assert done.exit_code == 1, done.output
    line = next(line for line in done.output.splitlines() if "(nomAdminTechnique)" in line)
    assert len(line) < 400 and "valeur de 5000 caractères, abrégée" in line, line
    found = [i for i in json.loads(report.read_text(encoding="utf-8"))["problemes"] if i["balise"] == "nomAdminTechnique"]
    assert found and found[0]["value"] == "X" * 5000


def test_a_report_name_too_long_stops_convertir_before_anything_is_deposited(tmp_path, monkeypatch):
    # the deposit files were written and recorded, then the command ended in code 2 on its
    # report: a conversion that looked failed, whose demandes were deposited all the same
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["convertir", str(SAMPLE), "-o", "depot", "--registre", "registre.sqlite",
                                      "--rapport", "é" * 200 + ".json"])
    assert result.exit_code == 2 and "nom trop long" in result.output, result.output
    assert not (tmp_path / "depot").exists() or not list((tmp_path / "depot").glob("JSON-*"))


def test_a_deposit_folder_named_with_other_accents_is_the_one_written_into_and_said(tmp_path):
    """The deposit folder made on macOS (or unzipped from its archive) keeps its decomposed
    « é »: `-o Dépôt`, typed composed, made a second folder beside it, shown under the same name,
    the deposits of the team shared between the two."""
    folder = tmp_path / unicodedata.normalize("NFD", "Dépôt")
    folder.mkdir()
    done = CliRunner().invoke(app, ["convertir", str(workbook(tmp_path / "a.xlsx", seed_001_rows())),
                                    "-o", str(tmp_path / "Dépôt"), "--registre", str(tmp_path / "r.sqlite"),
                                    "--date-depot", "20240312"])
    assert done.exit_code == 0, done.output
    assert ("aucun dossier ne s'appelle exactement « Dépôt » : le dossier de sortie qui porte ce nom l'écrit "
            "avec d'autres codes pour ses accents") in " ".join(done.output.split())
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [folder.name]
    assert [p.name for p in folder.glob("JSON-*.json")] == ["JSON-0123456789-20240312-001.json"]


@pytest.mark.parametrize("encoding, shown", [("cp850", "T¶TC"), ("cp1252", "T¶TC"), ("ascii", "T\\nTC")])
def test_a_line_break_in_a_value_is_shown_on_any_console_not_as_a_question_mark(tmp_path, encoding, shown):
    """A line break typed in a cell (Alt+Entrée) is echoed « ↵ », which neither the French
    Windows console (cp850) nor cp1252 nor ascii has: it was written « ? », as if the user had
    typed a question mark. It is the pilcrow where the console has one, else « \\n »."""
    rows = seed_001_rows()
    rows["Demandes"][0]["regimeTVA"] = "T\nTC"
    done = run_in_console(encoding, "verifier", str(workbook(tmp_path / "saut.xlsx", rows)), cwd=tmp_path)
    (line,) = [line for line in done.stdout.decode(encoding).splitlines() if "(regimeTVA)" in line]
    assert shown in line and "?" not in line, line


# libreoffice-solde-vrai.ods: the ms2-dui-pde-solde workbook of seed 000 (tests.builders_solde),
# its nbreDossiersDUIActifs (OG C2) typed =TRUE() with openpyxl, saved by LibreOffice 7.4
# (`soffice --headless --convert-to ods`): a float 1 computed by of:=TRUE(), shown « 1 » by the
# column's number format « 0 ».
SOLDE_VRAI = CORPUS / "libreoffice-solde-vrai.ods"
_TRUE_COUNT = (b'<table:table-cell table:formula="of:=TRUE()" office:value-type="float" office:value="1" '
               b'calcext:value-type="float"><text:p>1</text:p></table:table-cell>')


@pytest.mark.parametrize("cell, shown", [
    (_TRUE_COUNT, "VRAI"),
    (_TRUE_COUNT.replace(b"TRUE()", b"FALSE()").replace(b'"1"', b'"0"').replace(b">1<", b">0<"), "FAUX"),
])
def test_a_boolean_typed_in_a_count_of_an_ods_is_refused_not_read_as_one(tmp_path, cell, shown):
    """VRAI typed in nbreDossiersDUIActifs of an .ods (LibreOffice saves it as the number 1
    that =TRUE() computes) was deposited as 1 dossier; the same workbook saved as .xlsx (a
    boolean cell) was refused: both refuse it, and echo the boolean."""
    path = tmp_path / "solde.ods"
    path.write_bytes(SOLDE_VRAI.read_bytes())
    rewrite(path, "content.xml", lambda data: data.replace(_TRUE_COUNT, cell))
    outcome = api.convert(path, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert outcome.rejected == ["00002"] and not outcome.files
    assert [(i.code, i.sheet, i.cell, i.value) for i in outcome.errors] == \
        [("entier_invalide", "OG", "C2", shown)]


def test_a_count_of_one_typed_as_a_number_in_an_ods_stays_one(tmp_path):
    path = tmp_path / "solde.ods"
    path.write_bytes(SOLDE_VRAI.read_bytes())
    rewrite(path, "content.xml", lambda data: data.replace(_TRUE_COUNT, _TRUE_COUNT.replace(
        b' table:formula="of:=TRUE()"', b"")))
    outcome = api.convert(path, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert outcome.accepted == ["00002"] and not outcome.errors
    assert b'"nbreDossiersDUIActifs": 1' in outcome.files[0].read_bytes()


@pytest.mark.parametrize("serial, shown", [("-15", "15/12/1899"), ("-1", "29/12/1899"),
                                           ("0", "30/12/1899"), ("1", "31/12/1899")])
def test_a_date_before_1900_of_a_libreoffice_xlsx_is_echoed_as_libreoffice_shows_it(tmp_path, serial, shown):
    """LibreOffice counts a date's serial number from 30 December 1899, Excel (and the reader)
    from 31 December 1899 before 1 March 1900: 15/12/1899 typed in LibreOffice (saved -15)
    was refused as « 16/12/1899 », a date the user never typed; 30/12/1899 and 31/12/1899
    (saved 0 and 1), which the .ods echoes so, were echoed « 00:00 », a time."""
    path = edited_xlsx(tmp_path, lambda data: data.replace(b"<v>45363</v>", f"<v>{serial}</v>".encode()))
    problems = [i for i in api.verify(path).issues if i.balise == "dateCommande"]
    assert [(i.code, i.cell, i.value) for i in problems] == [("date_annee_hors_limites", "B2", shown)]
    assert not problems[0].is_error  # kept, with a warning: the seeds give « JJ/MM/AAAA », no range


@pytest.mark.parametrize("serial, deposited", [("16", "15/01/1900"), ("59", "27/02/1900"), ("60", "28/02/1900"),
                                               ("61", "01/03/1900"), ("45363", "12/03/2024")])
def test_a_date_of_early_1900_of_a_libreoffice_xlsx_is_the_day_libreoffice_shows(tmp_path, serial, deposited):
    """15/01/1900 typed in LibreOffice (saved 16) was deposited 16/01/1900. Excel's fictitious
    29/02/1900 (60) is LibreOffice's 28/02/1900; from 01/03/1900 on, both count alike."""
    path = edited_xlsx(tmp_path, lambda data: data.replace(b"<v>45363</v>", f"<v>{serial}</v>".encode()))
    outcome = api.convert(path, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert "00001" in outcome.accepted
    assert f'"dateCommande": "{deposited}"'.encode() in outcome.files[0].read_bytes()


def test_a_phone_number_turned_into_a_number_by_the_spreadsheet_is_told_so(tmp_path):
    """+33612345678 typed in a cell of format Standard is stored as the number 33612345678: the
    message asked for an international prefix, as if the user had not typed one."""
    path = workbook(tmp_path / "tel.xlsx", seed_001_rows())
    book = openpyxl.load_workbook(path)
    sheet = book["OG"]
    cell = sheet.cell(2, [c.value for c in sheet[1]].index("telAdminTechnique") + 1)
    cell.value, cell.number_format = 33612345678, "General"
    book.save(path)
    (problem,) = [i for i in api.verify(path).errors if i.balise == "telAdminTechnique"]
    assert (problem.code, problem.value) == ("telephone_sans_plus", "33612345678")
    assert "devient le nombre" in problem.message and "apostrophe ('+33612345678)" in problem.message


@pytest.mark.parametrize("xlsx_cell, ods_cell, shown", [
    (b'<c r="F2" s="3" t="n"><v>45356</v></c>',
     b'office:value-type="date" office:date-value="2024-03-05" calcext:value-type="date"><text:p>05/03/2024', "05/03/2024"),
    (b'<c r="F2" s="3" t="n"><v>0.604166666666667</v></c>',
     b'office:value-type="time" office:time-value="PT14H30M00S" calcext:value-type="time"><text:p>14:30:00', "14:30"),
])
def test_a_date_cell_in_a_text_column_is_read_as_shown_alike_from_an_ods_and_an_xlsx(tmp_path, xlsx_cell, ods_cell, shown):
    """A date typed in nomMandataire (a free-text column) was read as the reader's ISO text,
    « 2024-03-05 00:00:00 » from the .xlsx and « 2024-03-05 » from the .ods of the same data,
    and deposited so without a word: both read it as the sheet shows it, with a warning."""
    def edit(data: bytes) -> bytes:  # row 2 of Demandes: its empty F:H become a cell F2 and an empty G:H
        empty = b'<table:table-cell table:number-columns-repeated="3"/></table:table-row>'
        at = data.index(empty, data.index(b"<text:p>00001</text:p>", data.index(b'table:name="Demandes"')))
        return (data[:at] + b"<table:table-cell " + ods_cell + b"</text:p></table:table-cell>"
                b'<table:table-cell table:number-columns-repeated="2"/></table:table-row>' + data[at + len(empty):])
    ods = edited_ods(tmp_path, edit)
    FALSE = b'<c r="E2" s="7" t="b"><f aca="false">FALSE()</f><v>0</v></c>'
    xlsx = edited_xlsx(tmp_path, lambda data: data.replace(FALSE, FALSE + xlsx_cell))
    found = {kind: [i for i in api.verify(path).issues if i.balise == "nomMandataire"] for kind, path in (("ods", ods), ("xlsx", xlsx))}
    assert ("texte_date", "F2", shown) in [(i.code, i.cell, i.value) for i in found["ods"]]
    assert [i.render() for i in found["ods"]] == [i.render() for i in found["xlsx"]]


def test_a_date_typed_as_text_in_a_text_column_stays_as_typed(tmp_path):
    FALSE = b'<c r="E2" s="7" t="b"><f aca="false">FALSE()</f><v>0</v></c>'
    path = edited_xlsx(tmp_path, lambda data: data.replace(
        FALSE, FALSE + b'<c r="F2" t="inlineStr"><is><t>2024-03-05 00:00:00</t></is></c>'))
    found = [(i.code, i.value) for i in api.verify(path).issues if i.balise == "nomMandataire"]
    assert found and all(code != "texte_date" and value == "2024-03-05 00:00:00" for code, value in found)


@pytest.mark.parametrize("formula, value, shown", [("TRUE()", "1", "VRAI"), ("FALSE()", "0", "FAUX")])
def test_a_boolean_formula_saved_as_a_number_in_a_count_of_an_xlsx_is_refused_not_read_as_one(
        tmp_path, formula, value, shown):
    """=TRUE() in nbreDossiersDUIActifs of an .xlsx whose writer saved its value as the number
    1 (no `t="b"`: xlsxwriter's write_formula, a hand-edited file) was deposited as 1 dossier,
    where Excel's and LibreOffice's boolean cell, and the .ods, are refused: it is too."""
    path = workbook(tmp_path / "solde.xlsx", seed_000_rows(), fmt="ms2-dui-pde-solde")
    set_cell(path, "OG", "C2", f'<c r="C2" t="n"><f>{formula}</f><v>{value}</v></c>')
    outcome = api.convert(path, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert outcome.rejected == ["00002"] and not outcome.files
    assert [(i.code, i.sheet, i.cell, i.value) for i in outcome.errors] == [("entier_invalide", "OG", "C2", shown)]


def test_a_count_of_one_computed_by_a_formula_in_an_xlsx_stays_one(tmp_path):
    path = workbook(tmp_path / "solde.xlsx", seed_000_rows(), fmt="ms2-dui-pde-solde")
    set_cell(path, "OG", "C2", '<c r="C2"><f>2-1</f><v>1</v></c>')
    outcome = api.convert(path, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert outcome.accepted == ["00002"] and not outcome.errors
    assert b'"nbreDossiersDUIActifs": 1' in outcome.files[0].read_bytes()
