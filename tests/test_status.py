"""`xl2segur etat`: what the ledger holds, per format and state, with amounts, as a workbook."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from converter import api, fastxlsx, status
from converter.cli import app
from converter.ledger import default_path
from tests.builders import workbook
from tests.test_cycle import DAY, _solde, asp_return, avance_rows


def test_the_ledger_status_per_format_and_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The avance rows are TTC: each advance is 30 % of HT × 1,2 (seed 000 §3.1)."""
    out = tmp_path / "depot"
    registre = default_path()
    rows = avance_rows("00001", "00002", "00003", "00004")
    rows["Demandes"][3]["montantSegurHT"] = "1000.05"
    avances = api.convert(workbook(tmp_path / "a.xlsx", rows), out, DAY)
    returned = asp_return(avances.files[0], tmp_path / "r.json", {
        "00001": "FINMS2000001", "00002": "FINMS2000002", "00003": "=HYPERLINK(\"http://x\")", "00004": "FINMS2000004"})
    api.ingest_returns([returned], registre)
    api.convert(workbook(tmp_path / "s.xlsx", _solde("ms2-dui-pds-solde", "00001", "FINMS2000001"),
                         "ms2-dui-pds-solde"), out, DAY)
    api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00005")), out, DAY)

    monkeypatch.chdir(tmp_path)
    found, written = api.ledger_status(registre)
    assert written == tmp_path / f"etat-registre-{date.today():%Y%m%d}.xlsx"  # in the current folder
    # the avances awaiting their solde are a part of the accepted ones (00002 and 00004 of
    # 00001, 00002, 00004): the line says so and comes right under « Acceptées »; it read
    # « Acceptées, solde à déposer » after « Rejetées », as if it were one more state to add
    part = "  dont solde à déposer (déjà comptées dans « Acceptées »)"
    assert [(c.format_id, c.label, c.demandes, c.amount, c.advance) for c in found.counts] == [
        ("ms2-dui-pds-avance", "Déposées, sans retour de l'ASP", 1, Decimal("4866.67"), Decimal("1752.00")),
        ("ms2-dui-pds-avance", "Acceptées", 3, Decimal("10733.39"), Decimal("3864.02")),
        ("ms2-dui-pds-avance", part, 2, Decimal("5866.72"), Decimal("2112.02")),
        ("ms2-dui-pds-avance", "Rejetées", 1, Decimal("4866.67"), None),
        ("ms2-dui-pds-solde", "Déposées, sans retour de l'ASP", 1, Decimal("4866.67"), None)]

    book = openpyxl.load_workbook(written)
    assert book.sheetnames == ["Synthèse", "Demandes", "Historique des retours"]
    summary = [[c.value for c in row] for row in book["Synthèse"].iter_rows(min_row=2)]
    assert summary[1][2:4] == ["Acceptées", 3]
    assert summary[2][2:4] == ["dont solde à déposer (déjà comptées dans « Acceptées »)", 2]
    assert book["Synthèse"]["C4"].alignment.indent == 1
    for sheet in book:  # printed one page wide, in landscape: figures next to their labels
        assert sheet.page_setup.orientation == "landscape" and sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
        assert sheet.print_title_rows == "$1:$1" and sheet.freeze_panes == "A2"
    history = [[c.value for c in row] for row in book["Historique des retours"].iter_rows()]
    assert [r[2] for r in history[1:]] == ["00001", "00002", "00003", "00004"]
    assert history[1][4:8] == ["r.json", history[1][5], "Acceptée", "FINMS2000001"] and history[3][6] == "Rejetée"
    # a day and a time as the user reads them (2026-12-05 12:11:36), not ISO's 2026-12-05T12:11:36
    assert re.fullmatch(rf"{date.today().isoformat()} \d\d:\d\d:\d\d", history[1][5]), history[1][5]
    table = [[c.value for c in row] for row in book["Demandes"].iter_rows()]
    assert table[0][:7] == ["numeroAns", "SIRET", "Format", "numeroEditeur", "État", "Montant HT", "Avance attendue"]
    by_ne = {(r[2], r[3]): r for r in table[1:]}
    assert by_ne[("ms2-dui-pds-avance", "00004")][4:8] == ["Acceptées, solde à déposer", 1000.05, 360.02, "FINMS2000004"]
    assert by_ne[("ms2-dui-pds-avance", "00003")][5:7] == [4866.67, None]  # rejected: no advance is paid
    assert by_ne[("ms2-dui-pds-avance", "00003")][11] == "=HYPERLINK(\"http://x\")"  # text, never a formula
    assert all(c.data_type == "s" for row in book["Demandes"].iter_rows(min_row=2) for c in row
               if c.value is not None and c.column not in (6, 7))  # the amounts are numbers, to sum

    result = CliRunner().invoke(app, ["etat", "--registre", str(registre), "-o", str(tmp_path / "etat.xlsx")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "ms2-dui-pds-avance (avance)" in lines
    accepted = lines.index("  Acceptées : 3 — 10 733,39 € HT — avance attendue 3 864,02 €")
    assert lines[accepted + 1] == ("    dont solde à déposer (déjà comptées dans « Acceptées ») : 2 — 5 866,72 € HT"
                                   " — avance attendue 2 112,02 €")
    assert "  Déposées, sans retour de l'ASP : 1 — 4 866,67 € HT" in lines
    assert (tmp_path / "etat.xlsx").is_file()


def test_etat_without_ledger(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["etat", "--registre", str(tmp_path / "x.sqlite")])
    assert result.exit_code == 2 and "introuvable : indiquez avec --registre" in " ".join(result.output.split())
    assert not (tmp_path / "x.sqlite").exists()


def test_the_status_takes_the_advance_of_a_ttc_supplier_on_the_ttc_amount(tmp_path: Path) -> None:
    """Seed 000 §3.1: « perçoit 30% de 5840.00€ TTC soit 1752.00€ TTC » for 4 866,67 € HT; the
    sample holds two TTC demandes and one HT: the ledger's sum is the conversion's."""
    out = tmp_path / "depot"
    converted = api.convert(Path("samples/ms2-dui-pds-avance.xlsx"), out, DAY)
    assert converted.advance == Decimal("6132.00")
    found, _ = api.ledger_status(default_path(), tmp_path / "etat.xlsx")
    assert [(c.label, c.demandes, c.advance) for c in found.counts] == [
        ("Déposées, sans retour de l'ASP", 3, Decimal("6132.00"))]


def test_demandes_beyond_a_sheets_rows_go_on_in_the_next_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A year of deposits outgrows an Excel sheet (1,048,576 rows): the rows past the last one
    were dropped from the etat workbook without a word. They go on in « Demandes (2) »… (here
    with sheets of two rows, as a million demandes would)."""
    registre = tmp_path / "registre.sqlite"
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002", "00003", "00004", "00005")),
                tmp_path / "depot", DAY, registre=registre)
    monkeypatch.setattr(status, "SHEET_ROWS", 2, raising=False)
    _, written = api.ledger_status(registre, tmp_path / "etat.xlsx")
    book = openpyxl.load_workbook(written)
    assert book.sheetnames == ["Synthèse", "Demandes", "Demandes (2)", "Demandes (3)", "Historique des retours"]
    numeros = [row[3] for name in book.sheetnames[1:4] for row in book[name].iter_rows(min_row=2, values_only=True)]
    assert numeros == ["00001", "00002", "00003", "00004", "00005"]
    assert all(book[name]["D1"].value == "numeroEditeur" for name in book.sheetnames[1:4])


def test_the_status_workbook_is_written_without_holding_every_cell(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The etat workbook of a year's ledger (a million demandes, as many returns) was built
    whole in memory before being written: 3.6 Go for `etat`. The rows now go to the file a
    slice at a time (`ROWS_AT_ONCE`, here 500): four times the rows, not four times the memory."""
    import tracemalloc

    monkeypatch.setattr(fastxlsx, "ROWS_AT_ONCE", 500)

    import polars as pl

    def peak(rows: int) -> int:
        frame = pl.DataFrame({"numeroEditeur": [f"{i:05d}" for i in range(rows)],
                              "État": ["Acceptées"] * rows, "Montant HT": ["4866.67"] * rows})
        tracemalloc.start()
        try:
            status.write_status(status.LedgerStatus(demandes=frame, history=frame.head(0)),
                                tmp_path / f"etat-{rows}.xlsx")
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(1_000), peak(4_000)
    assert large < 1.5 * small, (small, large)



def test_etat_prints_its_figures_before_writing_the_workbook_of_a_large_ledger(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A year's ledger (a million demandes) took a minute to count and seven more to write
    every demande into the workbook, the figures shown only at the end: they are now printed
    as soon as they are known, then, for a large ledger, that the workbook is being written."""
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), tmp_path / "depot", DAY)
    target = tmp_path / "etat.xlsx"
    seen = []
    found, written = api.ledger_status(default_path(), target, lambda s: seen.append((s, target.exists())))
    assert written == target and seen == [(found, False)]

    from converter import cli
    real = status.write_status

    def writing(found_: status.LedgerStatus, path: Path) -> Path:
        cli.out.print("<écriture>")
        return real(found_, path)

    monkeypatch.setattr(status, "write_status", writing)
    monkeypatch.setattr(cli, "STATUS_ROWS_SAID", 2)
    result = CliRunner().invoke(app, ["etat", "-o", str(tmp_path / "e.xlsx")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines.index("  Déposées, sans retour de l'ASP : 2 — 9 733,34 € HT — avance attendue 3 504,00 €") \
        < lines.index("Écriture du classeur d'état (2 demandes, 0 lignes de retours)…") \
        < lines.index("<écriture>") < len(lines) - 1
    assert lines[-1].startswith("Classeur d'état : ")
    monkeypatch.setattr(cli, "STATUS_ROWS_SAID", 3)  # a small ledger: no such line
    result = CliRunner().invoke(app, ["etat", "-o", str(tmp_path / "e.xlsx")])
    assert "Écriture du classeur" not in result.output
