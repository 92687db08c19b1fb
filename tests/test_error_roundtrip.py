"""The error workbook as a user works with it: read next to each row, fixed, converted again
(after openpyxl or LibreOffice saved it), into the same folder with the same ledger."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import fastexcel
import openpyxl
import pytest

from converter import api
from converter.formats import get_format
from converter.workbook import EXPLAIN_TITLE
from tests.builders import sample_avance_rows, workbook

DAY = date(2024, 6, 3)


def _row_of(sheet, numero: str) -> list:
    return next(list(r) for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == numero)


def test_each_row_says_next_to_it_what_to_correct_even_on_another_sheet(tmp_path):
    """A demande rejected for a cell of « OG » showed nothing on its « Demandes » row (the
    reason was in a note of another sheet, seen only by hovering it): the column after the
    last one says it on every row, and converting again does not read it."""
    rows = sample_avance_rows()
    rows["OG"][0]["emailResponsableOG"] = "sans-arobase"  # demande 00001
    rows["Demandes"][1]["dateCommande"] = "31/02/2024"  # demande 00002
    outcome = api.convert(workbook(tmp_path / "demandes.xlsx", rows), tmp_path / "depot", DAY)
    assert sorted(outcome.rejected) == ["00001", "00002"]
    book = openpyxl.load_workbook(outcome.error_workbook)
    demandes, og = book["Demandes"], book["OG"]
    width = len(get_format("ms2-dui-pds-avance").by_name["Demandes"].fields)
    assert demandes.cell(1, width + 1).value == EXPLAIN_TITLE
    first = _row_of(demandes, "00001")[width]
    assert "« OG », ligne 2" in first and "emailResponsableOG" in first and "Adresse électronique invalide" in first
    second = _row_of(demandes, "00002")[width]
    assert "dateCommande" in second and "Date invalide" in second and "OG" not in second
    og_width = len(get_format("ms2-dui-pds-avance").by_name["OG"].fields)
    assert og.cell(1, og_width + 1).value == EXPLAIN_TITLE
    assert "Adresse électronique invalide" in _row_of(og, "00001")[og_width]
    assert _row_of(og, "00002")[og_width] is None  # 00002's OG row is right: nothing to say

    # fixed and converted again: the column is not read, no warning about it
    for row in og.iter_rows(min_row=2):
        if row[0].value == "00001":
            row[[c.value for c in og[1]].index("emailResponsableOG")].value = "direction@og.fr"
    for row in demandes.iter_rows(min_row=2):
        if row[0].value == "00002":
            row[1].value = "29/02/2024"
    book.save(tmp_path / "corrige.xlsx")
    again = api.convert(tmp_path / "corrige.xlsx", tmp_path / "depot", DAY)
    assert again.errors == [] and sorted(again.accepted) == ["00001", "00002"]
    assert not [i for i in again.issues if i.code not in ("finess_cle",)], [i.render() for i in again.issues]
    assert [p.name for p in again.files] == ["JSON-0123456789-20240603-002.json"]


def _og_row_twice(tmp_path):
    """The sample converted with a fourth demande, 00004, whose OG row is typed twice (rows 6 and
    7 of OG): 00004 is rejected as a duplicate."""
    rows = sample_avance_rows()
    twice = {**rows["OG"][0], "numeroEditeur": "00004", "FINESSJuridique": "750000010"}
    rows["Demandes"].append({**rows["Demandes"][0], "numeroEditeur": "00004"})
    rows["OG"] += [twice, dict(twice)]  # rows 6 and 7 of OG
    rows["FINESS Géo"].append({"numeroEditeur": "00004", "FINESSJuridique": "750000010", "FINESSGeo": "750000028"})
    rows["Scénarios"].append({**rows["Scénarios"][2], "numeroEditeur": "00004"})
    outcome = api.convert(workbook(tmp_path / "demandes.xlsx", rows), tmp_path / "depot", DAY)
    return outcome


def test_rows_named_in_the_error_workbook_are_its_own_and_the_original_ones(tmp_path):
    """A duplicate OG row at rows 6 and 7 of the converted workbook lands at rows 2 and 3 of the
    error workbook: its message said « lignes 6, 7 » (in the cell's note, the « À corriger »
    column and the « Erreurs » sheet, whose only row column was « Ligne d'origine »), while the
    « À corriger » column of « Demandes » said « ligne 2 », and rows 6 and 7 of this workbook are
    empty. Every message now names the rows of this workbook, then the original ones; the
    « Erreurs » sheet gives both; a warning on a row left out (its demande is accepted) says so."""
    outcome = _og_row_twice(tmp_path)
    assert outcome.rejected == ["00004"]
    [dup] = {i.message for i in outcome.errors}
    assert "(lignes 6, 7)" in dup  # the console speaks of the converted workbook
    book = openpyxl.load_workbook(outcome.error_workbook)
    og = book["OG"]
    assert [r[0] for r in og.iter_rows(min_row=2, max_row=3, values_only=True)] == ["00004", "00004"]
    here = "(lignes 2, 3 de ce classeur ; lignes 6, 7 du classeur d'origine)"
    width = len(get_format("ms2-dui-pds-avance").by_name["OG"].fields)
    for r in (2, 3):
        assert here in og.cell(r, 2).comment.text and "lignes 6, 7)" not in og.cell(r, 2).comment.text
        assert here in og.cell(r, width + 1).value
    asked = _row_of(book["Demandes"], "00004")[-1]
    assert "Feuille « OG », ligne 2 — " in asked and here in asked
    errors = book["Erreurs"]
    head = [c.value for c in errors[1]]
    assert head[:4] == ["Gravité", "Feuille", "Ligne", "Ligne d'origine"]
    table = [dict(zip(head, r)) for r in errors.iter_rows(min_row=2, values_only=True)]
    found = [(t["Ligne"], t["Ligne d'origine"], t["Message"]) for t in table if t["Gravité"] == "Erreur"]
    assert [(a, b) for a, b, _ in found] == [(2, 6), (3, 7)] and all(here in m for _, _, m in found)
    links = [c.hyperlink.location for c in errors["I"][1:] if c.hyperlink]
    assert links[:2] == ["'OG'!B2", "'OG'!B3"]
    # 00001's FINESS warnings: its rows are not here, and the sheet says so rather than pointing
    # at row 2 of this workbook, which holds 00004
    left_out = [t for t in table if t["Feuille"] == "OG" and t["Ligne d'origine"] == 2]
    assert left_out and all(t["Ligne"] is None and "non reprise" in t["Lien"] for t in left_out)


def test_the_rows_a_duplicate_names_are_data_in_the_report_and_the_error_workbook(tmp_path):
    """The rows of a duplicate group were only words in its message (« lignes 6, 7 »), which
    the error workbook parsed back with a regular expression to renumber them: the report gives
    them as a list (`rows`), and each renderer names them from it, the CLI and the report as the
    converted workbook numbers them, the error workbook as it numbers them."""
    outcome = _og_row_twice(tmp_path)
    assert [(i.row, i.rows) for i in outcome.errors] == [(6, (6, 7)), (7, (6, 7))]
    report = json.loads(api.write_report(outcome, tmp_path / "rapport.json").read_text())
    found = [p for p in report["problemes"] if p["code"] == "doublon"]
    assert [(p["row"], p["rows"]) for p in found] == [(6, [6, 7]), (7, [6, 7])]
    assert all("(lignes 6, 7)" in p["message"] for p in found)
    assert {p["rows"] for p in report["problemes"] if p["code"] != "doublon"} == {None}
    table = list(openpyxl.load_workbook(outcome.error_workbook)["Erreurs"].iter_rows(min_row=2, values_only=True))
    assert [m for *_, m, _ in table if m.startswith("Doublon")] == [
        "Doublon : la même valeur de numeroEditeur + FINESSJuridique figure plusieurs fois dans la feuille « OG » "
        "(lignes 2, 3 de ce classeur ; lignes 6, 7 du classeur d'origine). Gardez une seule ligne."] * 2


def test_a_row_emptied_but_for_its_explanation_is_no_row(tmp_path):
    """The user clears the cells of a duplicate row (Suppr on its values) and leaves the
    « À corriger » cell: the row is read as empty, not as a demande missing everything."""
    rows = sample_avance_rows()
    rows["Demandes"].append(dict(rows["Demandes"][2]))  # 00003 twice
    outcome = api.convert(workbook(tmp_path / "demandes.xlsx", rows), tmp_path / "depot", DAY)
    assert outcome.rejected == ["00003"]
    book = openpyxl.load_workbook(outcome.error_workbook)
    sheet = book["Demandes"]
    width = len(get_format("ms2-dui-pds-avance").by_name["Demandes"].fields)
    last = [r for r in sheet.iter_rows(min_row=2) if r[0].value == "00003"][-1]
    assert "Doublon" in last[width].value
    for cell in last[:width]:
        cell.value = None
    book.save(tmp_path / "corrige.xlsx")
    again = api.convert(tmp_path / "corrige.xlsx", tmp_path / "depot", DAY)
    assert again.errors == [] and again.accepted == ["00003"], [i.render() for i in again.errors]


# ------------------------------------------------------------------ through LibreOffice

# The round trip as users do it in LibreOffice Calc: `_original` typed as in a spreadsheet
# (dates as dates, amounts as numbers, VRAI/FAUX as booleans, a FINESS typed as a number that
# lost its leading zero), converted; its error workbook fixed (`_fix`: 00001's e-mail and
# 00002's date; 00003's phone left wrong), then saved by LibreOffice 7.4 as .xlsx and as .ods
# (`soffice --headless --convert-to xlsx|ods`): the two files of CORPUS, made once by
# `_make_corpus` (run by the last test when LibreOffice is installed, which checks it again).
CORPUS = Path(__file__).parent / "corpus"
FIXED = {kind: CORPUS / f"libreoffice-erreurs-corrige.{kind}" for kind in ("xlsx", "ods")}


def _original(path: Path) -> Path:
    rows = sample_avance_rows()
    rows["OG"][0]["emailResponsableOG"] = "direction-og.fr"  # 00001: no @
    rows["Demandes"][1]["dateCommande"] = "31/02/2024"  # 00002
    rows["OG"][3]["telephoneResponsableOG"] = "0612"  # 00003: no international prefix
    for sheet in ("OG", "FINESS Géo"):  # 00001's OG: a FINESS with a leading zero
        for row in rows[sheet]:
            if row["numeroEditeur"] == "00001":
                row["FINESSJuridique"] = "010000024"
    rows = {sheet: [*found, *({**r, "numeroEditeur": "00004"} for r in found if r["numeroEditeur"] == "00001")]
            for sheet, found in rows.items()}  # 00004: 00001 as it should be
    rows["OG"][-1]["emailResponsableOG"] = "direction@og.fr"
    workbook(path, rows)
    book = openpyxl.load_workbook(path)
    for name in ("Demandes", "OG", "FINESS Géo", "Scénarios"):
        sheet = book[name]
        head = [c.value for c in sheet[1]]
        for row in sheet.iter_rows(min_row=2):
            for cell, balise in zip(row, head):
                if cell.value in ("VRAI", "FAUX"):
                    cell.value = cell.value == "VRAI"
                elif balise == "dateCommande" and cell.value == "12/03/2024":
                    cell.value, cell.number_format = datetime(2024, 3, 12), "DD/MM/YYYY"
                elif balise == "montantSegurHT":
                    cell.value, cell.number_format = float(cell.value), "#,##0.00"
                elif balise == "FINESSJuridique" and cell.value == "010000024":
                    cell.value, cell.number_format = 10000024, "General"
    book.save(path)
    return path


def _fix(error_workbook: Path, target: Path) -> Path:
    book = openpyxl.load_workbook(error_workbook)
    for name, balise, numero, value in (("OG", "emailResponsableOG", "00001", "direction@og.fr"),
                                        ("Demandes", "dateCommande", "00002", "29/02/2024")):
        sheet = book[name]
        col = [c.value for c in sheet[1]].index(balise)
        row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == numero)
        row[col].value = value
    book.save(target)
    return target


def _first_conversion(tmp_path: Path) -> api.Outcome:
    first = api.convert(_original(tmp_path / "demandes.xlsx"), tmp_path / "depot", DAY,
                        registre=tmp_path / "registre.sqlite")
    assert first.accepted == ["00004"] and sorted(first.rejected) == ["00001", "00002", "00003"]
    assert [p.name for p in first.files] == ["JSON-0123456789-20240603-001.json"]
    return first


def _check_second_conversion(tmp_path: Path, fixed: Path, first: api.Outcome) -> None:
    before = first.error_workbook.read_bytes()
    second = api.convert(fixed, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert sorted(second.accepted) == ["00001", "00002"], [i.render() for i in second.errors]
    assert second.rejected == ["00003"]
    assert [(i.code, i.sheet, i.balise) for i in second.errors] == [("telephone_invalide", "OG", "telephoneResponsableOG")]
    assert [p.name for p in second.files] == ["JSON-0123456789-20240603-002.json"]
    # the still-wrong demande comes back in a new error workbook; the first one is untouched
    assert second.error_workbook != first.error_workbook and second.error_workbook.exists()
    assert first.error_workbook.read_bytes() == before
    again = openpyxl.load_workbook(second.error_workbook)
    assert [r[0] for r in again["Demandes"].iter_rows(min_row=2, values_only=True) if r[0]] == ["00003"]
    # the values typed right the first time are as valid after the round trip
    deposited = {d["numeroEditeur"]: d for d in json.loads(second.files[0].read_text(encoding="utf-8"))["lignesImport"]}
    one, two = deposited["00001"], deposited["00002"]
    assert one["commande"] == {"dateCommande": "12/03/2024", "regimeTVA": "TTC", "montantSegurHT": 4866.67}
    assert b'"montantSegurHT": 4866.67' in second.files[0].read_bytes()
    assert one["beneficiaires"]["isMandataire"] is False
    og = one["beneficiaires"]["etablissementsClients"][0]
    assert og["FINESSJuridique"] == "010000024" and og["emailResponsableOG"] == "direction@og.fr"
    assert og["demandeCertificatServeur"] is True and og["contractualisationOG"] is True
    assert two["commande"]["dateCommande"] == "29/02/2024" and two["beneficiaires"]["isMandataire"] is True
    assert b'"montantSegurHT": 9733.33' in second.files[0].read_bytes()
    # converting the same fixed workbook again deposits nothing twice
    third = api.convert(fixed, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert third.accepted == [] and third.files == []
    assert {i.code for i in third.errors} >= {"deja_deposee"}


def test_an_error_workbook_fixed_with_openpyxl_deposits_exactly_the_fixed_demandes(tmp_path):
    first = _first_conversion(tmp_path)
    _check_second_conversion(tmp_path, _fix(first.error_workbook, tmp_path / "corrige.xlsx"), first)


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_an_error_workbook_fixed_then_saved_by_libreoffice_deposits_exactly_the_fixed_demandes(tmp_path, kind):
    first = _first_conversion(tmp_path)
    _check_second_conversion(tmp_path, FIXED[kind], first)


def _make_corpus(tmp_path: Path, into: Path) -> dict[str, Path]:
    """The files of FIXED, written into `into` by LibreOffice (`soffice` on the PATH)."""
    first = _first_conversion(tmp_path)
    (tmp_path / "lo").mkdir()
    fixed = _fix(first.error_workbook, tmp_path / "lo" / "libreoffice-erreurs-corrige.xlsx")
    made = {}
    for kind in ("xlsx", "ods"):
        out = tmp_path / f"lo-{kind}"
        subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/profil",
                        "--convert-to", kind, "--outdir", str(out), str(fixed)],
                       check=True, capture_output=True, timeout=180)
        made[kind] = into / fixed.with_suffix(f".{kind}").name
        made[kind].parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / fixed.with_suffix(f".{kind}").name, made[kind])
    return made


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) n'est pas installé")
@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_the_libreoffice_round_trip_holds_with_the_libreoffice_installed_here(tmp_path, kind):
    made = _make_corpus(tmp_path / "make", tmp_path / "made")
    _check_second_conversion(tmp_path, made[kind], _first_conversion(tmp_path))


HOSTILE = {  # OG column → what was typed: each makes its demande rejected, and is echoed as text
    "nomAdminTechnique": "=cmd|' /C calc'!A0",
    "nomResponsableOG": '=HYPERLINK("http://exemple.invalid","clic")',
    "numeroCarteCPX": "\t=1+1",
    "emailAdminTechnique": "@SUM(A1)",
    "telAdminTechnique": "-2+3",
    "emailResponsableOG": "+direction 😀 مرحبا",
    "telephoneResponsableOG": "+33 6\u202e12" + "9" * 60,
}


def test_values_shaped_like_formulas_or_hostile_text_come_back_as_typed(tmp_path):
    rows = sample_avance_rows()
    rows["OG"][0].update(HOSTILE)  # demande 00001, certificate asked: every column above is read
    outcome = api.convert(workbook(tmp_path / "demandes.xlsx", rows), tmp_path / "depot", DAY)
    assert "00001" in outcome.rejected
    book = openpyxl.load_workbook(outcome.error_workbook)
    og = book["OG"]
    head = [c.value for c in og[1]]
    row = next(r for r in og.iter_rows(min_row=2) if r[0].value == "00001")
    for balise in HOSTILE:
        cell = row[head.index(balise)]
        assert cell.data_type == "s", (balise, cell.value)
    with zipfile.ZipFile(outcome.error_workbook) as zf:
        assert not any(b"<f>" in zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/"))
    # what the converter reads back is what was typed, tab and all
    frame = fastexcel.read_excel(outcome.error_workbook).load_sheet("OG", dtypes="string").to_polars()
    again = frame.filter(frame["numeroEditeur"] == "00001").to_dicts()[0]
    assert {b: again[b] for b in HOSTILE} == HOSTILE
    shown = {r[5]: r[6] for r in book["Erreurs"].iter_rows(min_row=2, values_only=True) if r[1] == "OG" and r[3] == 2}
    assert shown["nomAdminTechnique"] == HOSTILE["nomAdminTechnique"]
    assert book["Erreurs"].cell(2, 7).data_type == "s"


def test_a_date_cell_is_echoed_as_the_user_typed_it(tmp_path):
    """15/05/2204 typed in a date cell (a typo for 2024) was echoed « 2204-05-15 00:00:00 », the
    reader's ISO text, in the console, the report, the « Erreurs » sheet and the error
    workbook's cell; so was 12/03/2024 typed in the amount column, where Excel made it a date.
    Each kind shows a cell as typed (`kinds.shown`): « 15/05/2204 », « 12/03/2024 »."""
    path = workbook(tmp_path / "demandes.xlsx", sample_avance_rows())
    book = openpyxl.load_workbook(path)
    sheet = book["Demandes"]
    balises = [c.value for c in sheet[1]]
    sheet.cell(3, balises.index("dateCommande") + 1, datetime(2204, 5, 15)).number_format = "DD/MM/YYYY"
    sheet.cell(3, balises.index("montantSegurHT") + 1, datetime(2024, 3, 12)).number_format = "DD/MM/YYYY"
    book.save(path)
    outcome = api.convert(path, tmp_path / "depot", DAY)
    # the year is kept with a warning (seeds: « JJ/MM/AAAA », no range), the amount refused
    [year] = [i for i in outcome.issues if i.code == "date_annee_hors_limites"]
    assert [(i.code, i.value) for i in (year, *outcome.errors)] == [
        ("date_annee_hors_limites", "15/05/2204"), ("montant_invalide", "12/03/2024")]
    assert "valeur « 15/05/2204 »" in year.render() and "« 15/05/2204 »" in year.message
    report = json.loads(api.write_report(outcome, tmp_path / "rapport.json").read_text())
    assert [p["value"] for p in report["problemes"] if p["balise"] in ("dateCommande", "montantSegurHT")] == [
        "15/05/2204", "12/03/2024"]
    errors = openpyxl.load_workbook(outcome.error_workbook)
    assert {r[5]: r[6] for r in errors["Erreurs"].iter_rows(min_row=2, values_only=True) if r[1] == "Demandes"} == {
        "dateCommande": "15/05/2204", "montantSegurHT": "12/03/2024"}
    assert _row_of(errors["Demandes"], "00002")[1] == "15/05/2204"
    assert _row_of(errors["Demandes"], "00002")[3] == "12/03/2024"
