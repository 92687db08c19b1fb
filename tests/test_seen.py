"""What the user sees in a cell is what is deposited: a number format that hides decimals, the
digits a spreadsheet keeps, in an .xlsx as in an .ods."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from converter import api

from .builders import seed_001_rows, workbook
from .test_desktop import SAVED, edited_ods, edited_xlsx
from .test_hostile import set_cell

DAY = date(2024, 6, 3)


def formatted(tmp_path: Path, value: float, number_format: str, ref: str = "D2", name: str = "montant.xlsx") -> Path:
    """Seed 001's workbook, its amount (Demandes D2, or the cell `ref`) holding `value` in a cell
    of this format, saved by openpyxl as Excel saves a number cell (its style's format in styles.xml)."""
    path = workbook(tmp_path / name, seed_001_rows())
    book = openpyxl.load_workbook(path)
    cell = book["Demandes"][ref]
    cell.value, cell.number_format = value, number_format
    book.save(path)
    return path


def deposited_amount(outcome: api.Outcome) -> str:
    (written,) = outcome.files
    return re.search(r'"montantSegurHT":\s*([0-9.]+)', written.read_text(encoding="utf-8")).group(1)


def amount_issues(outcome: api.Outcome) -> list[tuple]:
    return [(i.code, i.severity, i.cell, i.value) for i in outcome.issues if i.balise == "montantSegurHT"]


@pytest.mark.parametrize("number_format, shown", [
    ("#,##0", "4867"),  # Excel's built-in « Nombre » without decimals (numFmtId 3)
    ("0", "4867"),  # built in too (numFmtId 1)
    ('#,##0 "€"', "4867"),  # the workbook's own format, a currency without cents
    ("0.0", "4866,7"),
    ("#,##0,", "5"),  # in thousands
])
def test_an_amount_whose_format_hides_its_cents_is_deposited_as_held_with_a_warning(tmp_path, number_format, shown):
    """The cell shows 4867, the deposit carried 4866.67 without a word: the number held is the
    amount (« Never round a user's amount silently »), and the warning names both."""
    outcome = api.convert(formatted(tmp_path, 4866.67, number_format), tmp_path / "depot", DAY,
                          registre=tmp_path / "registre.sqlite")
    assert outcome.accepted == ["00001"] and deposited_amount(outcome) == "4866.67"
    (warning,) = [i for i in outcome.issues if i.balise == "montantSegurHT"]
    assert (warning.code, warning.severity, warning.cell, warning.value) == \
        ("montant_affiche_arrondi", "avertissement", "D2", "4866.67")
    assert f"La cellule affiche {shown}, mais le montant qu'elle contient, déposé tel quel, est 4866.67" in warning.message


@pytest.mark.parametrize("value, number_format", [(4867.0, "#,##0"), (4866.67, "#,##0.00"), (4866.67, "General")])
def test_an_amount_shown_as_held_has_no_warning(tmp_path, value, number_format):
    outcome = api.verify(formatted(tmp_path, value, number_format))
    assert outcome.accepted == ["00001"] and amount_issues(outcome) == []


def test_an_amount_of_more_decimals_hidden_by_its_format_is_refused_showing_them(tmp_path):
    """4866.674 shown « 4867 »: more than two decimals is an error showing the value held,
    without a second message."""
    outcome = api.verify(formatted(tmp_path, 4866.674, "0"))
    assert amount_issues(outcome) == [("montant_decimales", "erreur", "D2", "4866.674")]


def test_the_rounding_warning_is_in_the_report_and_on_the_console(tmp_path):
    from typer.testing import CliRunner
    from converter.cli import app
    path = formatted(tmp_path, 4866.67, "#,##0")
    done = CliRunner().invoke(app, ["verifier", str(path), "--rapport", str(tmp_path / "rapport.json")])
    assert done.exit_code == 0, done.output
    assert "colonne D (montantSegurHT) — valeur « 4866.67 » : La cellule affiche 4867" in done.output
    report = json.loads((tmp_path / "rapport.json").read_text(encoding="utf-8"))
    assert [(p["code"], p["value"]) for p in report["problemes"] if p["balise"] == "montantSegurHT"] == \
        [("montant_affiche_arrondi", "4866.67")]


# ------------------------------------------------------------------ the digits a spreadsheet keeps
# Excel writes a number to 17 significant digits: 4866.67 typed is saved 4866.6700000000001, the
# nearest binary number (learn.microsoft.com, « Excel XML worksheet export has unprecise
# numbers »: 68.4 saved 68.400000000000006); it shows and keeps 15. fastexcel gives 9 decimals.


@pytest.mark.parametrize("saved", ["4866.6700000000001", "4866.6699999999996", "19.989999999999998"])
def test_excel_s_binary_noise_is_no_decimal(tmp_path, saved):
    path = set_cell(workbook(tmp_path / "bruit.xlsx", seed_001_rows()), "Demandes", "D2",
                    f'<c r="D2" s="4" t="n"><v>{saved}</v></c>')
    outcome = api.convert(path, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert outcome.accepted == ["00001"] and amount_issues(outcome) == []
    assert deposited_amount(outcome) == str(Decimal(saved).quantize(Decimal("0.01")))


@pytest.mark.parametrize("saved, held", [
    ("4866.6700000001", "4866.6700000001"),  # as openpyxl or LibreOffice save it
    ("4866.6700000001001", "4866.6700000001"),  # as Excel does, to 17 significant digits
    ("12345.6700000001", "12345.6700000001"),  # 15 significant digits
    ("0.050000000010000001", "0.05000000001"),
])
def test_a_typed_tenth_decimal_is_never_rounded_away(tmp_path, saved, held):
    """fastexcel gives 9 decimals: 4866.6700000001 typed was deposited as 4866.67 without a word."""
    path = set_cell(workbook(tmp_path / "decimales.xlsx", seed_001_rows()), "Demandes", "D2",
                    f'<c r="D2" s="4" t="n"><v>{saved}</v></c>')
    outcome = api.verify(path)
    assert outcome.rejected == ["00001"]
    assert amount_issues(outcome) == [("montant_decimales", "erreur", "D2", held)]


def test_a_tenth_decimal_typed_as_text_stays_as_typed(tmp_path):
    path = set_cell(workbook(tmp_path / "texte.xlsx", seed_001_rows()), "Demandes", "D2",
                    '<c r="D2" s="4" t="inlineStr"><is><t>4866.6700000001</t></is></c>')
    assert amount_issues(api.verify(path)) == [("montant_decimales", "erreur", "D2", "4866.6700000001")]


# ------------------------------------------------------------------ LibreOffice Calc (.ods)
# LibreOffice saves beside each number the text its cell shows (`<text:p>`), as it shows it


def ods_amount(tmp_path: Path, value: str, text: str) -> Path:
    """The LibreOffice-saved .ods, its first amount (Demandes D2) holding `value` shown `text`."""
    return edited_ods(tmp_path, lambda data: re.sub(
        rb'<table:table-cell office:value-type="float" office:value="4866.67".*?</table:table-cell>',
        lambda _: (b'<table:table-cell table:style-name="ce9" office:value-type="float" office:value="'
                   + value.encode() + b'" calcext:value-type="float"><text:p>' + text.encode()
                   + b"</text:p></table:table-cell>"), data, count=1, flags=re.S))


@pytest.mark.parametrize("text", ["4867", "4 867", "4\u202f867 €", "4866,7"])
def test_an_ods_amount_whose_format_hides_its_cents_warns_with_the_text_shown(tmp_path, text):
    outcome = api.verify(ods_amount(tmp_path, "4866.67", text))
    assert [(i.code, i.cell, i.value) for i in outcome.issues if i.balise == "montantSegurHT" and i.row == 2] == \
        [("montant_affiche_arrondi", "D2", "4866.67")]
    (warning,) = [i for i in outcome.issues if i.code == "montant_affiche_arrondi"]
    assert f"La cellule affiche {text}, mais le montant qu'elle contient, déposé tel quel, est 4866.67" in warning.message


@pytest.mark.parametrize("text", ["4866,67", "4 866,67 €", "4,866.67", "4866,670"])
def test_an_ods_amount_shown_whole_has_no_warning(tmp_path, text):
    outcome = api.verify(ods_amount(tmp_path, "4866.67", text))
    assert [i.code for i in outcome.issues if i.balise == "montantSegurHT" and i.row == 2] == []


def test_an_ods_amount_of_a_tenth_decimal_is_refused_showing_it(tmp_path):
    outcome = api.verify(ods_amount(tmp_path, "4866.6700000001", "4866,6700000001"))
    assert [(i.code, i.cell, i.value) for i in outcome.issues if i.balise == "montantSegurHT" and i.row == 2] == \
        [("montant_decimales", "D2", "4866.6700000001")]


def test_the_same_rounded_amount_warns_alike_from_an_xlsx_and_an_ods(tmp_path):
    """The .xlsx LibreOffice saved beside the .ods, its amount in a style of format « 0 »."""
    xlsx = edited_xlsx(tmp_path, lambda data: data.replace(
        b'<c r="D2" s="4" t="n"><v>4866.67</v></c>', b'<c r="D2" s="16" t="n"><v>4866.67</v></c>'))
    from .test_hostile import rewrite
    rewrite(xlsx, "xl/styles.xml", lambda data: data.replace(
        b"</cellXfs>", b'<xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'))
    found = {kind: [i.render() for i in api.verify(path).issues if i.code == "montant_affiche_arrondi"]
             for kind, path in (("xlsx", xlsx), ("ods", ods_amount(tmp_path, "4866.67", "4867")))}
    assert found["xlsx"] == found["ods"] and len(found["xlsx"]) == 1


# ------------------------------------------------------------------ rows the user cannot see
# The seeds say nothing of a workbook's rows: a hidden row is deposited like the others, with a
# warning, since the user reading the sheet does not see that demande


def test_a_hidden_row_is_deposited_with_a_warning(tmp_path):
    path = workbook(tmp_path / "masquee.xlsx", seed_001_rows())
    book = openpyxl.load_workbook(path)
    book["Demandes"].row_dimensions[2].hidden = True
    book.save(path)
    outcome = api.convert(path, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert outcome.accepted == ["00001"] and len(outcome.files) == 1
    (warning,) = [i for i in outcome.issues if i.code == "ligne_masquee"]
    assert (warning.severity, warning.sheet, warning.row, warning.column, warning.numero_editeur) == \
        ("avertissement", "Demandes", 2, None, "00001")
    assert "masquée" in warning.message and "supprimez-la" in warning.message


@pytest.mark.parametrize("visibility", ["collapse", "filter"])
def test_an_ods_row_hidden_or_filtered_out_warns_alike(tmp_path, visibility):
    """LibreOffice marks a hidden row `collapse`, a row a filter leaves out `filter`; the
    FINESS Géo sheet's second row here."""
    def hide(data: bytes) -> bytes:
        table = data.index(b'<table:table table:name="FINESS G')
        at = data.index(b"<table:table-row", data.index(b"<table:table-row", table) + 1)
        end = data.index(b">", at)
        return data[:end] + b' table:visibility="' + visibility.encode() + b'"' + data[end:]
    outcome = api.verify(edited_ods(tmp_path, hide))
    assert sorted((i.sheet, i.row) for i in outcome.issues if i.code == "ligne_masquee") == \
        [("FINESS Géo", 2), ("OG", 5)]  # OG 5: hidden in the saved workbook already


def test_a_row_libreoffice_saved_hidden_warns_from_its_ods_and_its_xlsx():
    """The corpus workbook, saved by LibreOffice with the OG sheet's row 5 hidden."""
    found = {kind: [(i.sheet, i.row, i.numero_editeur) for i in api.verify(path).issues if i.code == "ligne_masquee"]
             for kind, path in SAVED.items()}
    assert found == {"xlsx": [("OG", 5, "00002")], "ods": [("OG", 5, "00002")]}


def test_a_hidden_row_is_found_in_a_piece_of_the_sheet_holding_rows_only():
    """A large sheet's XML is scanned in pieces of rows (reading._row_chunks): a piece of
    Excel's row and cell markup alone, nothing else of the sheet around it, holds its hidden
    row all the same (a first, cheaper search decides which pieces are searched)."""
    from converter import container, reading

    piece = (b'<row r="6" spans="1:3"><c r="A6" s="1" t="s"><v>12</v></c><c r="B6"><v>4866.67</v></c></row>'
             b'<row r="7" spans="1:3" hidden="1"><c r="A7" t="b"><v>1</v></c></row>'
             b'<x:row r="8" hidden="true"><x:c r="C8"><x:v>3</x:v></x:c></x:row>')
    scan = reading.SheetScan()
    reading._seen_otherwise(scan, piece, container.NumberStyles(), None, None)
    assert scan.hidden == {7, 8}


def test_a_row_hidden_in_no_sheet_has_no_warning(tmp_path):
    outcome = api.verify(workbook(tmp_path / "visible.xlsx", seed_001_rows()))
    assert [i for i in outcome.issues if i.code == "ligne_masquee"] == []


@pytest.mark.parametrize("saved, code", [("1.5E+400", "montant_invalide"), ("1.5E-99999999999", "montant_nul_ou_negatif")])
def test_a_number_beyond_any_amount_in_a_rounding_format_is_an_issue_not_a_crash(tmp_path, saved, code):
    """A hand-made file: 1.5E+400 in a cell of format « 0 » made the reader's rounding raise."""
    from .test_hostile import members, rewrite
    path = formatted(tmp_path, 4866.67, "0")
    rewrite(path, members(path)["Demandes"], lambda data: data.replace(b"<v>4866.67</v>", f"<v>{saved}</v>".encode()))
    assert [i.code for i in api.verify(path).issues if i.balise == "montantSegurHT"] == [code]


def test_an_ods_number_of_a_million_digits_is_an_error_not_a_crash(tmp_path):
    outcome = api.verify(ods_amount(tmp_path, "1" * 1_000_010 + ".1234567890", "1"))
    assert "00001" in outcome.rejected


# ------------------------------------------------------------------ columns the user cannot see
# The seeds say nothing of a workbook's columns either: a value in a hidden column is deposited
# like the others, with one warning a column (not one a cell), since the user does not see it


def hidden_columns(tmp_path: Path, *spans: str) -> Path:
    """Seed 001's workbook, these columns of its OG sheet hidden by openpyxl (`<col hidden="1">`);
    F, contractualisationEditeur, is empty there, O is past its last balise."""
    path = workbook(tmp_path / "colonnes.xlsx", seed_001_rows())
    book = openpyxl.load_workbook(path)
    for span in spans:
        first, _, last = span.partition(":")
        book["OG"].column_dimensions.group(first, last or first, hidden=True)
    book.save(path)
    return path


def column_warnings(outcome: api.Outcome) -> list[tuple]:
    return [(i.severity, i.sheet, i.row, i.column, i.balise, i.value, i.numero_editeur)
            for i in outcome.issues if i.code == "colonne_masquee"]


def test_a_value_in_a_hidden_column_is_deposited_with_one_warning_for_the_column(tmp_path):
    outcome = api.convert(hidden_columns(tmp_path, "G", "F", "O"), tmp_path / "depot", DAY,
                          registre=tmp_path / "registre.sqlite")
    assert outcome.accepted == ["00001"] and '"numeroCarteCPX": "A123456789"' in outcome.files[0].read_text("utf-8")
    assert column_warnings(outcome) == [("avertissement", "OG", None, "G", "numeroCarteCPX", None, None)]
    (warning,) = [i for i in outcome.issues if i.code == "colonne_masquee"]
    assert warning.render().startswith("feuille « OG », colonne G (numeroCarteCPX) : La colonne G (numeroCarteCPX) "
                                       "est masquée dans la feuille « OG » et contient une valeur sur 1 ligne :")


def test_a_hidden_span_of_columns_warns_for_each_column_holding_values_with_their_count(tmp_path):
    rows = seed_001_rows()
    rows["FINESS Géo"].append({"numeroEditeur": "00001", "FINESSJuridique": "345678912", "FINESSGeo": "010000024"})
    path = workbook(tmp_path / "plage.xlsx", rows)
    book = openpyxl.load_workbook(path)
    book["FINESS Géo"].column_dimensions.group("B", "C", hidden=True)  # one <col min="2" max="3">
    book.save(path)
    found = [(i.column, i.balise, i.message.split(" : ")[0]) for i in api.verify(path).issues if i.code == "colonne_masquee"]
    assert found == [
        ("B", "FINESSJuridique", "La colonne B (FINESSJuridique) est masquée dans la feuille « FINESS Géo » et contient une valeur sur 3 lignes"),
        ("C", "FINESSGeo", "La colonne C (FINESSGeo) est masquée dans la feuille « FINESS Géo » et contient une valeur sur 3 lignes"),
    ]


def test_no_column_hidden_no_warning(tmp_path):
    assert column_warnings(api.verify(hidden_columns(tmp_path, "F", "O"))) == []


def hide_ods_column(data: bytes, sheet: bytes, index: int) -> bytes:
    """content.xml, the `index`th `table:table-column` of `sheet` (no repeat before it) marked
    hidden as LibreOffice marks it: `table:visibility="collapse"` after its style."""
    at = data.index(b'<table:table table:name="' + sheet)
    for _ in range(index + 1):
        at = data.index(b"<table:table-column ", at + 1)
    end = data.index(b'"', data.index(b'table:style-name="', at) + 18) + 1
    return data[:end] + b' table:visibility="collapse"' + data[end:]


def test_an_ods_column_hidden_warns_as_in_an_xlsx(tmp_path):
    """Column G of the OG sheet, numeroCarteCPX, hidden in the LibreOffice-saved workbook."""
    outcome = api.verify(edited_ods(tmp_path, lambda data: hide_ods_column(data, b"OG", 6)))
    assert [(i.sheet, i.column, i.balise, i.message.split(" : ")[0]) for i in outcome.issues if i.code == "colonne_masquee"] == \
        [("OG", "G", "numeroCarteCPX", "La colonne G (numeroCarteCPX) est masquée dans la feuille « OG » et contient une valeur sur 3 lignes")]


def test_an_ods_column_after_a_repeated_one_is_placed_by_the_repeat(tmp_path):
    """OG's 8th `table:table-column` is repeated twice (H, I): the one after it is J."""
    outcome = api.verify(edited_ods(tmp_path, lambda data: hide_ods_column(data, b"OG", 8)))
    assert [(i.column, i.balise) for i in outcome.issues if i.code == "colonne_masquee"] == [("J", "emailAdminTechnique")]


def _saved_by_libreoffice(tmp_path: Path, source: Path, code: str) -> dict[str, list[str]]:
    """`source` saved by LibreOffice as .ods and as .xlsx: each one's problems of `code`, rendered."""
    found = {}
    for kind in ("ods", "xlsx"):
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                        "--convert-to", kind, "--outdir", str(tmp_path / kind), str(source)],
                       check=True, capture_output=True, timeout=180)
        found[kind] = [i.render() for i in api.verify(tmp_path / kind / f"{source.stem}.{kind}").issues if i.code == code]
    return found


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice absent : les .ods modifiés ci-dessus le remplacent")
def test_columns_libreoffice_saved_hidden_warn_alike_from_its_ods_and_xlsx(tmp_path):
    source = hidden_columns(tmp_path, "G", "F", "O")
    found = _saved_by_libreoffice(tmp_path, source, "colonne_masquee")
    assert found["ods"] == found["xlsx"] == [r for r in (i.render() for i in api.verify(source).issues) if "masquée" in r]
    assert len(found["ods"]) == 1


# ------------------------------------------------------------------ dates shown month first
# A date format showing the month before the day (« mm/dd/yyyy ») shows 04/03/2024 for 3 April,
# which a French reader reads 4 March. The seeds fix the deposit's form only (« VARCHAR (format
# « JJ/MM/AAAA ») », seed 000): the date held is deposited, with a warning naming both


def dated(tmp_path: Path, value, number_format: str) -> Path:
    """Seed 001's workbook, its dateCommande (Demandes B2) holding `value` in a cell of this format."""
    return formatted(tmp_path, value, number_format, "B2", "date.xlsx")


def date_issues(outcome: api.Outcome) -> list[tuple]:
    return [(i.code, i.severity, i.cell, i.value) for i in outcome.issues if i.balise == "dateCommande"]


APRIL_3 = datetime(2024, 4, 3)


@pytest.mark.parametrize("number_format, shown", [
    ("mm/dd/yyyy", "04/03/2024"),
    ("m/d/yy", "4/3/24"),
    ("[$-409]mm/dd/yyyy", "04/03/2024"),
    ("[$-409]m/d/yy h:mm AM/PM;@", "4/3/24 12:00 AM"),  # Excel's « 3/14/12 1:30 PM » (English)
    ("mm/dd/yy", "04/03/24"),  # what an English LibreOffice writes for its short date in an .xlsx
    ("MM/DD/YYYY", "04/03/2024"),
])
def test_a_date_shown_month_first_is_deposited_as_held_with_a_warning(tmp_path, number_format, shown):
    outcome = api.convert(dated(tmp_path, APRIL_3, number_format), tmp_path / "depot", DAY,
                          registre=tmp_path / "registre.sqlite")
    assert outcome.accepted == ["00001"] and '"dateCommande": "03/04/2024"' in outcome.files[0].read_text("utf-8")
    assert date_issues(outcome) == [("date_affichee_mois_jour", "avertissement", "B2", "03/04/2024")]
    (warning,) = [i for i in outcome.issues if i.balise == "dateCommande"]
    assert warning.message.startswith(f"La cellule affiche {shown}, le mois avant le jour (son format de date est à "
                                      "l'américaine), mais la date qu'elle contient, déposée telle quelle, est le 03/04/2024")


@pytest.mark.parametrize("value, number_format", [
    (datetime(2024, 4, 13), "mm/dd/yyyy"),  # 4/13: no month 13, no one misreads it
    (datetime(2024, 4, 4), "mm/dd/yyyy"),  # the same either way
    (APRIL_3, "dd/mm/yyyy"),
    (APRIL_3, "mm-dd-yy"),  # Excel's built-in short date (numFmtId 14): shown in the reader's order
    (APRIL_3, "yyyy-mm-dd"),  # ISO: the year first, then the month
    (APRIL_3, "mmm d, yyyy"),  # the month in words
    ("2024-04-03", "mm/dd/yyyy"),  # text: shown as typed, whatever the cell's format
    ("03/04/2024", "mm/dd/yyyy"),  # text: read day first, as always
])
def test_a_date_not_misread_has_no_warning(tmp_path, value, number_format):
    outcome = api.verify(dated(tmp_path, value, number_format))
    assert outcome.accepted == ["00001"] and date_issues(outcome) == []


def test_the_month_first_warning_is_on_the_console_and_in_the_report(tmp_path):
    from typer.testing import CliRunner
    from converter.cli import app
    done = CliRunner().invoke(app, ["verifier", str(dated(tmp_path, APRIL_3, "mm/dd/yyyy")),
                                    "--rapport", str(tmp_path / "rapport.json")])
    assert done.exit_code == 0, done.output
    assert "colonne B (dateCommande) — valeur « 03/04/2024 » : La cellule affiche 04/03/2024" in done.output
    report = json.loads((tmp_path / "rapport.json").read_text(encoding="utf-8"))
    assert [(p["code"], p["value"]) for p in report["problemes"] if p["balise"] == "dateCommande"] == \
        [("date_affichee_mois_jour", "03/04/2024")]


# In an .ods, LibreOffice saves its short date (the one a date typed gets) with
# `number:automatic-order="true"` and no language: each LibreOffice shows it in its own order,
# whatever the order saved. Saved by an English LibreOffice (month first, `<text:p>04/03/24`),
# a French LibreOffice shows 03/04/24: no warning (checked with LibreOffice 7.4 under
# LC_ALL=en_US.UTF-8 and fr_FR.UTF-8, its « as shown » CSV export). A format typed (MM/DD/YYYY
# in a French LibreOffice) is saved without it, as is Excel's « [$-409]mm/dd/yyyy » saved with
# its language (en-US): both show month first in every LibreOffice, and warn.
US_DATE = (b'<number:date-style style:name="N900"{}><number:month number:style="long"/><number:text>/</number:text>'
           b'<number:day number:style="long"/><number:text>/</number:text><number:year number:style="long"/>'
           b'</number:date-style><style:style style:name="ce900" style:family="table-cell" '
           b'style:parent-style-name="Default" style:data-style-name="N900"/></office:automatic-styles>')


def ods_dates(tmp_path: Path, attributes: bytes = b"", own: bool = False) -> Path:
    """The LibreOffice-saved .ods, its dateCommande column (Demandes B: 12, 13, 14 March 2024)
    of a month-first date style of these attributes: by default (the column's default cell
    style, the cells of none of their own, as LibreOffice saves a column formatted), or `own`,
    the first date's own style."""
    def edit(data: bytes) -> bytes:
        data = data.replace(b"</office:automatic-styles>", US_DATE.replace(b"{}", attributes), 1)
        if own:
            return data.replace(b'<table:table-cell office:value-type="date" office:date-value="2024-03-12"',
                                b'<table:table-cell table:style-name="ce900" office:value-type="date" '
                                b'office:date-value="2024-03-12"', 1)
        at = data.index(b'table:default-cell-style-name="ce3"', data.index(b'<table:table table:name="Demandes"'))
        return data[:at] + b'table:default-cell-style-name="ce900"' + data[at + len(b'table:default-cell-style-name="ce3"'):]
    return edited_ods(tmp_path, edit)


@pytest.mark.parametrize("attributes, own", [
    (b"", False),  # MM/DD/YYYY typed in a French LibreOffice, the column formatted
    (b"", True),
    (b' number:language="en" number:country="US" number:automatic-order="true"', False),  # [$-409]mm/dd/yyyy
])
def test_an_ods_date_shown_month_first_warns(tmp_path, attributes, own):
    outcome = api.verify(ods_dates(tmp_path, attributes, own))
    assert [(i.code, i.cell, i.value) for i in outcome.issues if i.balise == "dateCommande"] == \
        [("date_affichee_mois_jour", "B2", "12/03/2024")]
    (warning,) = [i for i in outcome.issues if i.code == "date_affichee_mois_jour"]
    assert warning.message.startswith("La cellule affiche 03/12/2024, le mois avant le jour")


def test_an_ods_date_style_reached_through_a_map_warns(tmp_path):
    """Excel's « [$-409]m/d/yy h:mm AM/PM;@ » saved by LibreOffice: a text style whose
    `style:map` applies the date style to every number."""
    mapped = (b'<number:text-style style:name="N901"><number:text-content/><style:map style:condition='
              b'"value()&lt;=1.7976931348623157E+308" style:apply-style-name="N900"/></number:text-style>'
              b'<style:style style:name="ce901" style:family="table-cell" style:data-style-name="N901"/>')
    outcome = api.verify(edited_ods(tmp_path, lambda data: data.replace(
        b"</office:automatic-styles>", US_DATE.replace(b"{}", b"").replace(b"</office:automatic-styles>", mapped)
        + b"</office:automatic-styles>", 1).replace(
        b'<table:table-cell office:value-type="date" office:date-value="2024-03-12"',
        b'<table:table-cell table:style-name="ce901" office:value-type="date" office:date-value="2024-03-12"', 1)))
    assert [(i.code, i.cell) for i in outcome.issues if i.balise == "dateCommande"] == [("date_affichee_mois_jour", "B2")]


def test_an_ods_short_date_saved_month_first_is_shown_in_the_reader_s_order(tmp_path):
    outcome = api.verify(ods_dates(tmp_path, b' number:automatic-order="true"'))
    assert [i for i in outcome.issues if i.code == "date_affichee_mois_jour"] == []


def test_the_same_month_first_date_warns_alike_from_an_xlsx_and_an_ods(tmp_path):
    """The .xlsx LibreOffice saved beside the .ods, its first date in a style of format mm/dd/yyyy."""
    xlsx = edited_xlsx(tmp_path, lambda data: re.sub(rb'<c r="B2" s="\d+"', b'<c r="B2" s="16"', data, count=1))
    from .test_hostile import rewrite
    rewrite(xlsx, "xl/styles.xml", lambda data: data.replace(
        b"</numFmts>", b'<numFmt numFmtId="190" formatCode="mm/dd/yyyy"/></numFmts>').replace(
        b"</cellXfs>", b'<xf numFmtId="190" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'))
    found = {kind: [i.render() for i in api.verify(path).issues if i.code == "date_affichee_mois_jour"]
             for kind, path in (("xlsx", xlsx), ("ods", ods_dates(tmp_path, own=True)))}
    assert found["xlsx"] == found["ods"] and len(found["xlsx"]) == 1


# ------------------------------------------------------------------ a format that masks the value
# A custom number format may show none of a value: « ;;; » shows nothing, « "à venir" » that
# text, « "FAUX";"FAUX";"VRAI" » FAUX for 1. The seeds say nothing of a cell's format: the
# value held is deposited, with a warning naming what the cell shows


@pytest.mark.parametrize("cell, value, number_format, shows", [
    ("D2", 4866.67, ";;;", "n'affiche rien (elle paraît vide)"),  # French negation: never « affiche rien »
    ("D2", 4866.67, '"à venir"', "affiche « à venir »"),
    ("D2", 4866.67, '0.00 "€";;;', None),  # a positive amount shown: only negatives and zero masked
    ("E2", 1, '"FAUX";"FAUX";"VRAI"', "affiche « FAUX »"),  # isMandataire: shown FAUX, held VRAI
    ("E2", 0, '"VRAI";"VRAI";"FAUX"', None),  # shown FAUX, held FAUX: what is seen is deposited
])
def test_a_value_a_format_masks_warns_naming_what_the_cell_shows(tmp_path, cell, value, number_format, shows):
    path = workbook(tmp_path / "masque.xlsx", seed_001_rows())
    book = openpyxl.load_workbook(path)
    book["Demandes"][cell].value, book["Demandes"][cell].number_format = value, number_format
    book.save(path)
    found = [(i.severity, i.cell, i.value, i.numero_editeur, i.message) for i in api.verify(path).issues
             if i.code == "valeur_masquee_format"]
    assert found == ([] if shows is None else [
        ("avertissement", cell, str(value), "00001", f"La cellule {shows}, mais elle contient cette valeur, "
         "lue et déposée telle quelle : son format de nombre (personnalisé) la masque. Vérifiez-la ; mettez la "
         "cellule au format Standard pour la voir telle qu'elle est déposée.")])


def test_a_text_a_format_hides_warns_and_is_deposited(tmp_path):
    path = workbook(tmp_path / "texte.xlsx", seed_001_rows())
    book = openpyxl.load_workbook(path)
    book["OG"]["H2"].number_format = ";;;"  # nomAdminTechnique, MARTIN
    book.save(path)
    outcome = api.convert(path, tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert outcome.accepted == ["00001"] and '"nomAdminTechnique": "MARTIN"' in outcome.files[0].read_text("utf-8")
    assert [(i.cell, i.value) for i in outcome.issues if i.code == "valeur_masquee_format"] == [("H2", "MARTIN")]


@pytest.mark.parametrize("text, shows", [(b"", "n'affiche rien (elle paraît vide)"), ("à venir".encode(), "affiche « à venir »")])
def test_an_ods_number_whose_text_shows_none_of_it_warns_alike(tmp_path, text, shows):
    """LibreOffice saves a format showing no digit as a number style without a number element,
    and the text a number cell shows: nothing for « ;;; », « à venir »."""
    style = (b'<number:number-style style:name="N902"><number:text>' + text + b"</number:text></number:number-style>"
             b'<style:style style:name="ce902" style:family="table-cell" style:data-style-name="N902"/>')
    outcome = api.verify(edited_ods(tmp_path, lambda data: re.sub(
        rb'<table:table-cell (office:value-type="float" office:value="4866.67" calcext:value-type="float">)'
        rb"<text:p>[^<]*</text:p>", lambda m: b'<table:table-cell table:style-name="ce902" ' + m.group(1)
        + (b"<text:p>" + text + b"</text:p>" if text else b"<text:p/>"), data, count=1).replace(
        b"</office:automatic-styles>", style + b"</office:automatic-styles>", 1)))
    assert [(i.cell, i.value, i.message.split(", mais")[0]) for i in outcome.issues if i.code == "valeur_masquee_format"] == \
        [("D2", "4866.67", f"La cellule {shows}")]


def test_libreoffice_s_true_shown_vrai_is_no_masked_number():
    """LibreOffice saves VRAI as the number 1 computed by =TRUE(), shown « VRAI »."""
    assert [i for i in api.verify(SAVED["ods"]).issues if i.code == "valeur_masquee_format"] == []


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice absent : les .ods modifiés ci-dessus le remplacent")
def test_numbers_a_format_masks_warn_alike_from_the_ods_libreoffice_saves(tmp_path):
    path = workbook(tmp_path / "masques.xlsx", seed_001_rows())
    book = openpyxl.load_workbook(path)
    book["Demandes"]["D2"].value, book["Demandes"]["D2"].number_format = 4866.67, '"à venir"'
    book["Demandes"]["E2"].value, book["Demandes"]["E2"].number_format = 0, ";;;"
    book.save(path)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "ods", "--outdir", str(tmp_path / "ods"), str(path)],
                   check=True, capture_output=True, timeout=180)
    found = {p.suffix: [i.render() for i in api.verify(p).issues if i.code == "valeur_masquee_format"]
             for p in (path, tmp_path / "ods" / "masques.ods")}
    assert found[".ods"] == found[".xlsx"] and [r.split(" : ")[0] for r in found[".ods"]] == [
        "feuille « Demandes », ligne 2, colonne D (montantSegurHT) — valeur « 4866.67 »",
        "feuille « Demandes », ligne 2, colonne E (isMandataire) — valeur « 0 »"]


# ------------------------------------------------------------------ columns too narrow to see
# A column of width 0 (or under a millimetre) without the hidden flag shows nothing either: its
# values are deposited, with one warning a column, as for a hidden column (the seeds are silent)


def narrow_column(tmp_path: Path, width: bytes, hidden: bool = False) -> Path:
    """Seed 001's workbook, column G of its OG sheet (numeroCarteCPX, A123456789) of this width."""
    from .test_hostile import members, rewrite
    path = workbook(tmp_path / "etroite.xlsx", seed_001_rows())
    old = b'<col min="7" max="7" width="18.7109375" style="1" customWidth="1"/>'
    new = b'<col min="7" max="7" width="' + width + b'" style="1" customWidth="1"' + (b' hidden="1"' if hidden else b"") + b"/>"
    return rewrite(path, members(path)["OG"], lambda data: data.replace(old, new) if old in data else pytest.fail("no column G"))


@pytest.mark.parametrize("width, hidden, codes", [
    (b"0", False, ["colonne_etroite"]),
    (b"0.3", False, ["colonne_etroite"]),  # 0.7 mm as LibreOffice reads it
    (b"0.5", False, []),  # 1.2 mm: a sliver shows
    (b"0", True, ["colonne_masquee"]),  # hidden: said once, as hidden
])
def test_a_value_in_a_column_narrower_than_a_millimetre_is_deposited_with_a_warning(tmp_path, width, hidden, codes):
    outcome = api.convert(narrow_column(tmp_path, width, hidden), tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert outcome.accepted == ["00001"] and '"numeroCarteCPX": "A123456789"' in outcome.files[0].read_text("utf-8")
    found = [i for i in outcome.issues if i.code in ("colonne_etroite", "colonne_masquee")]
    assert [i.code for i in found] == codes
    if codes == ["colonne_etroite"]:
        assert (found[0].sheet, found[0].column, found[0].balise, found[0].row) == ("OG", "G", "numeroCarteCPX", None)
        assert found[0].message.startswith("La colonne G (numeroCarteCPX) de la feuille « OG » est large de moins d'un "
                                           "millimètre et contient une valeur sur 1 ligne : xl2segur les lit et les dépose")


def narrow_ods_column(data: bytes, sheet: bytes, index: int, width: bytes) -> bytes:
    """content.xml, the `index`th `table:table-column` of `sheet` (no repeat before it) of a
    column style of this width, as LibreOffice saves an .xlsx column of width 0.1 (0.0098in)."""
    at = data.index(b'<table:table table:name="' + sheet)
    for _ in range(index + 1):
        at = data.index(b"<table:table-column ", at + 1)
    start = data.index(b'table:style-name="', at) + 18
    data = data[:start] + b"co900" + data[data.index(b'"', start):]
    return data.replace(b"</office:automatic-styles>", b'<style:style style:name="co900" style:family="table-column">'
                        b'<style:table-column-properties fo:break-before="auto" style:column-width="' + width + b'"/>'
                        b"</style:style></office:automatic-styles>", 1)


@pytest.mark.parametrize("width, warned", [(b"0.0098in", True), (b"0cm", True), (b"0.9mm", True), (b"0.0484in", False)])
def test_an_ods_column_narrower_than_a_millimetre_warns(tmp_path, width, warned):
    outcome = api.verify(edited_ods(tmp_path, lambda data: narrow_ods_column(data, b"OG", 6, width)))
    assert [(i.sheet, i.column, i.balise, i.message.split(" : ")[0]) for i in outcome.issues if i.code == "colonne_etroite"] == \
        ([("OG", "G", "numeroCarteCPX", "La colonne G (numeroCarteCPX) de la feuille « OG » est large de moins d'un "
           "millimètre et contient une valeur sur 3 lignes")] if warned else [])


# ------------------------------------------------------------------ merged cells
# A merged range shows its first cell's value over the range; the values of the cells it
# covers stay in the file (LibreOffice keeps them when asked to, « conserver le contenu des
# cellules masquées »; another program may write them) and fastexcel reads them. The seeds say
# nothing of merged cells: they are deposited, with one warning a range


def merged(tmp_path: Path, *ranges: str) -> Path:
    """Seed 001's workbook, these ranges (« OG!L2:M2 ») merged by openpyxl with the values of
    the cells they cover kept, as LibreOffice writes them (openpyxl empties them when it merges,
    and when it loads a merged range: once only)."""
    from openpyxl.worksheet.cell_range import CellRange
    path = workbook(tmp_path / "fusion.xlsx", seed_001_rows())
    book = openpyxl.load_workbook(path)
    for sheet, _, ref in (r.partition("!") for r in ranges):
        book[sheet].merged_cells.add(CellRange(ref))  # not merge_cells()
    book.save(path)
    return path


def merge_warnings(outcome: api.Outcome) -> list[tuple]:
    return [(i.severity, i.sheet, i.cell, i.balise, i.value, i.numero_editeur)
            for i in outcome.issues if i.code == "cellule_fusionnee_masquee"]


def test_a_value_a_merged_range_covers_is_deposited_with_a_warning(tmp_path):
    """L2:M2 merged: the sheet shows L2 (DURAND) over both; M2 holds direction@og.fr."""
    outcome = api.convert(merged(tmp_path, "OG!L2:M2"), tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")
    assert outcome.accepted == ["00001"] and '"emailResponsableOG": "direction@og.fr"' in outcome.files[0].read_text("utf-8")
    assert merge_warnings(outcome) == [("avertissement", "OG", "M2", "emailResponsableOG", "direction@og.fr", "00001")]
    (warning,) = [i for i in outcome.issues if i.code == "cellule_fusionnee_masquee"]
    assert warning.render().startswith(
        "feuille « OG », ligne 2, colonne M (emailResponsableOG) — valeur « direction@og.fr » : Cette cellule est "
        "recouverte par la fusion L2:M2 de la feuille « OG », qui n'affiche que sa première cellule, L2 : sa valeur est "
        "lue et déposée telle quelle, mais qui lit la feuille ne la voit pas. Annulez la fusion")


def test_a_range_over_rows_shows_its_first_row_and_warns_for_the_next(tmp_path):
    """FINESS Géo B2:B3 merged (the same FINESS juridique, typed twice): B2 shows over both rows."""
    outcome = api.verify(merged(tmp_path, "FINESS Géo!B2:B3"))
    assert merge_warnings(outcome) == [("avertissement", "FINESS Géo", "B3", "FINESSJuridique", "345678912", "00001")]


def test_one_warning_a_range_at_its_first_covered_value_with_the_count_of_the_others(tmp_path):
    outcome = api.verify(merged(tmp_path, "OG!K2:N2", "OG!H2:J3", "OG!E2:F2", "OG!A1:A2"))
    # E2:F2 covers F2, empty; A1:A2 covers A2, 00001, under the header
    assert merge_warnings(outcome) == [
        ("avertissement", "OG", "A2", "numeroEditeur", "00001", "00001"),
        ("avertissement", "OG", "I2", "telAdminTechnique", "+33612345678", "00001"),
        ("avertissement", "OG", "L2", "nomResponsableOG", "DURAND", "00001"),
    ]
    messages = [i.message for i in outcome.issues if i.code == "cellule_fusionnee_masquee"]
    assert "fusion A1:A2 de la feuille « OG », qui n'affiche que sa première cellule, A1 : sa valeur" in messages[0]
    assert "fusion H2:J3 de la feuille « OG », qui n'affiche que sa première cellule, H2 : sa valeur" in messages[1]
    assert "la voit pas ; 1 autre cellule de la fusion en contient aussi une." in messages[1]  # J2 (I3, J3 empty)
    assert "la voit pas ; 2 autres cellules de la fusion en contiennent aussi une." in messages[2]  # M2, N2


def test_no_merged_range_or_none_covering_a_value_no_warning(tmp_path):
    assert merge_warnings(api.verify(merged(tmp_path, "OG!E2:F2", "OG!O2:P3"))) == []
    assert merge_warnings(api.verify(workbook(tmp_path / "simple.xlsx", seed_001_rows()))) == []


def test_an_ods_covered_cell_holding_a_value_warns_as_in_an_xlsx(tmp_path):
    """L4:M4 of the LibreOffice-saved .ods's OG sheet merged, M4 kept as LibreOffice keeps it:
    a `table:covered-table-cell` holding its value."""
    cells = (b'<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>DURAND</text:p></table:table-cell>'
             b'<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>direction@og.fr</text:p></table:table-cell>')
    spanned = (b'<table:table-cell office:value-type="string" calcext:value-type="string" table:number-columns-spanned="2" '
               b'table:number-rows-spanned="1"><text:p>DURAND</text:p></table:table-cell><table:covered-table-cell '
               b'office:value-type="string" calcext:value-type="string"><text:p>direction@og.fr</text:p></table:covered-table-cell>')
    outcome = api.verify(edited_ods(tmp_path, lambda data: data.replace(cells, spanned, 1) if cells in data else pytest.fail("no L4")))
    assert merge_warnings(outcome) == [("avertissement", "OG", "M4", "emailResponsableOG", "direction@og.fr", "00001")]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice absent : l'.ods modifié ci-dessus le remplace")
def test_merged_ranges_warn_alike_from_the_ods_libreoffice_saves(tmp_path):
    """LibreOffice keeps the covered cells' values in the .ods (`table:covered-table-cell`), a
    range over rows too (`table:number-rows-spanned`), and in the .xlsx it saves."""
    source = merged(tmp_path, "OG!L2:M2", "FINESS Géo!B2:B3")
    found = _saved_by_libreoffice(tmp_path, source, "cellule_fusionnee_masquee")
    assert found["ods"] == found["xlsx"] == [i.render() for i in api.verify(source).issues if i.code == "cellule_fusionnee_masquee"]
    assert [r.split(" — ")[0] for r in found["ods"]] == ["feuille « FINESS Géo », ligne 3, colonne B (FINESSJuridique)",
                                                          "feuille « OG », ligne 2, colonne M (emailResponsableOG)"]
