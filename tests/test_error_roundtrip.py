"""The error workbook as a user works with it: read next to each row, fixed, converted again
(after openpyxl or LibreOffice saved it), into the same folder with the same ledger."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl

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
