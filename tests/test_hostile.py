"""Hostile and messy workbooks: every one gets a French answer naming what and where; none
crashes the tool, leaks a formula or corrupts an output.

Most of the corpus is generated here; tests/corpus/ holds only what cannot be generated
without LibreOffice (an .xls, a LibreOffice-saved .xlsx).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
from decimal import Decimal
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from converter import api, concurrency, container, files, reading
from converter.checks import check_sheet, check_workbook
from converter.cli import app
from converter.formats import get_format
from converter.reading import WorkbookError, read_workbook

from .builders import HEADER, merge, seed_001_rows, workbook

CORPUS = Path(__file__).parent / "corpus"
FMT = "ms2-dui-pds-avance"
DAY = date(2024, 3, 12)
runner = CliRunner()


# ------------------------------------------------------------------ helpers


def plain(path: Path, rows=None, header=None, *, order=None, extra=None, rename=None, sheets=None) -> Path:
    """A bare workbook as other software writes it (openpyxl): no styles, no validations.

    order: sheet → balises in the column order wanted; extra: sheet → extra header names;
    rename: sheet → {balise: header written instead}."""
    definition = get_format(FMT)
    rows = rows if rows is not None else seed_001_rows()
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    values = {"Entête": [{**HEADER, "format": FMT, **(header or {})}], **rows}
    for sheet in (definition.header, *definition.sheets):
        if sheets is not None and sheet.name not in sheets:
            continue
        ws = wb.create_sheet(sheet.name)
        names = list((order or {}).get(sheet.name, sheet.balises)) + list((extra or {}).get(sheet.name, []))
        ws.append([(rename or {}).get(sheet.name, {}).get(b, b) for b in names])
        for row in values.get(sheet.name, []):
            ws.append([row.get(b) for b in names])
    wb.save(path)
    return path


def members(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return reading._check_package(path, zf)


def rewrite(path: Path, member: str, edit) -> Path:
    """Rewrite one zip member in place (edit: bytes → bytes), as a hand-edited file would be."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, edit(data) if info.filename == member else data)
    tmp.replace(path)
    return path


def set_cell(path: Path, sheet: str, ref: str, xml: str) -> Path:
    """Replace cell `ref` of `sheet` with raw SpreadsheetML (a formula, an error, a number…)."""
    pattern = re.compile(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', re.S)

    def edit(data: bytes) -> bytes:
        new, n = pattern.subn(xml.encode(), data, count=1)
        assert n == 1, f"cell {ref} not found"
        return new
    return rewrite(path, members(path)[sheet], edit)


def unreadable(path: Path, code: str) -> str:
    """The workbook is refused with `code`; return the rendered message."""
    outcome = api.verify(path)
    assert outcome.unreadable and outcome.exit_code == 2
    assert [i.code for i in outcome.errors] == [code], outcome.errors
    return outcome.errors[0].render()


def cli(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def found(outcome: api.Outcome, code: str) -> list:
    return [i for i in outcome.issues if i.code == code]


def flat(text: str) -> str:
    """CLI output without rich's line wrapping."""
    return " ".join(text.split())


def values_of(document, key: str) -> list:
    """Every value of `key` anywhere in a JSON document, in document order."""
    if isinstance(document, dict):
        return [v for k, item in document.items() for v in ([item] if k == key else []) + values_of(item, key)]
    if isinstance(document, list):
        return [v for item in document for v in values_of(item, key)]
    return []


def deposit(outcome: api.Outcome):
    (path,) = outcome.files
    return json.loads(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ files that are not .xlsx


def test_empty_file(tmp_path):
    path = tmp_path / "vide.xlsx"
    path.write_bytes(b"")
    text = unreadable(path, "fichier_illisible")
    assert "vide.xlsx" in text and "fichier vide" in text


def test_stdin_is_not_read_and_the_message_says_so(tmp_path, monkeypatch):
    # « xl2segur verifier - » (a workbook piped in, as other tools read one) said « Le fichier
    # est introuvable » about a file the user never meant
    monkeypatch.chdir(tmp_path)
    text = unreadable(Path("-"), "entree_standard")
    assert "entrée standard" in text and "chemin du classeur" in text and "introuvable" not in text
    result = cli("verifier", "-")
    assert result.exit_code == 2 and "entrée standard" in result.output
    (tmp_path / "-").write_bytes((CORPUS / "libreoffice-saisie.xlsx").read_bytes())  # a file named « - »: read
    assert not api.verify(Path("-")).unreadable


def test_csv_gets_save_as_guidance(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("numeroEditeur;dateCommande\n00001;12/03/2024\n", encoding="utf-8")
    text = unreadable(path, "format_non_pris_en_charge")
    assert "« .csv »" in text and "Classeur Excel (.xlsx)" in text and "export.csv" in text


@pytest.mark.parametrize("name", ["JSON-0123456789-20240312-001.json", "retour.txt"])
def test_a_json_file_given_for_the_workbook_is_sent_to_the_right_command(tmp_path, name):
    # a deposit file or an ASP return given to verifier or convertir was told to be opened in
    # Excel and saved as .xlsx (« Les fichiers « .json » ne sont pas lus »), or « pas un .xlsx »
    path = tmp_path / name
    path.write_bytes(b'\xef\xbb\xbf{\n  "impId": null,\n  "numeroAns": "0123456789", "lignesImport": []}')
    text = unreadable(path, "fichier_json")
    assert "fichier JSON" in text and "« xl2segur retour »" in text and "« xl2segur importer »" in text
    assert "Enregistrez" not in text and "ouvrez" not in text.lower()


def test_a_flat_ods_gets_save_as_guidance(tmp_path):
    # LibreOffice's « Feuille de calcul ODF à plat » (.fods): one XML file, not a zip; it was
    # « ce n'est pas un fichier .xlsx », as for a file of unknown kind
    path = tmp_path / "demandes.fods"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<office:document '
                    'office:mimetype="application/vnd.oasis.opendocument.spreadsheet"/>', encoding="utf-8")
    text = unreadable(path, "format_non_pris_en_charge")
    assert "« .fods »" in text and "Classeur Excel (.xlsx)" in text


def test_a_broken_ods_is_recognised_even_renamed(tmp_path):
    for name in ("classeur.ods", "classeur-renomme.xlsx"):
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
            zf.writestr("content.xml", "<office:document-content/>")
        assert name in unreadable(path, "fichier_illisible")


def test_legacy_xls_from_corpus():
    text = unreadable(CORPUS / "ancien-format.xls", "format_non_pris_en_charge")
    assert ".xls" in text and "Classeur Excel (.xlsx)" in text


def test_corrupt_and_truncated_zip(tmp_path):
    good = workbook(tmp_path / "bon.xlsx", seed_001_rows())
    data = good.read_bytes()
    broken = tmp_path / "tronque.xlsx"
    broken.write_bytes(data[: len(data) // 2])
    assert "tronque.xlsx" in unreadable(broken, "fichier_illisible")
    garbage = tmp_path / "abime.xlsx"
    garbage.write_bytes(b"PK\x03\x04" + os.urandom(2000))
    unreadable(garbage, "fichier_illisible")
    other_zip = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("lisezmoi.txt", "rien")
    assert "archive sans classeur Excel" in unreadable(other_zip, "fichier_illisible")


def _sheet_zip(path: Path, text: bytes, method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", text)
    return path


_SHEET_TEXT = b"".join(b'<row r="%d"><c r="A%d" t="s"><v>%d</v></c></row>' % (i, i, i % 97) for i in range(1, 40_000))


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
@pytest.mark.parametrize("block", [7, 4096, 1 << 15, 1 << 20])
def test_a_sheet_is_inflated_as_zipfile_inflates_it(tmp_path, method, block):
    """container.member_chunks (zlib-ng, a handle of its own) gives zipfile's bytes, whatever
    the pieces; a stored member goes through zipfile."""
    with zipfile.ZipFile(_sheet_zip(tmp_path / "a.xlsx", _SHEET_TEXT, method)) as zf:
        pieces = list(container.member_chunks(zf, "xl/worksheets/sheet1.xml", block=block))
        assert b"".join(pieces) == zf.read("xl/worksheets/sheet1.xml") == _SHEET_TEXT
        assert len(pieces) > 1 or block == 1 << 20  # the whole member in one read


@pytest.mark.parametrize("lie", ["longer", "shorter", "crc", "data"])
def test_a_sheet_unlike_what_its_archive_declares_is_refused(tmp_path, lie):
    """As zipfile: never more than the declared size inflated (a zip bomb lying in its
    central directory), and a wrong length, CRC-32 or deflate stream is « archive endommagée »."""
    path = _sheet_zip(tmp_path / "a.xlsx", _SHEET_TEXT)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
        offset, size = info.header_offset, info.compress_size
    if lie == "data":  # a few bytes of the deflate stream changed
        data = bytearray(path.read_bytes())
        start = offset + 30 + len(info.filename.encode())
        data[start + size // 3:start + size // 3 + 40] = bytes(b ^ 0x5A for b in data[start + size // 3:start + size // 3 + 40])
        path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
        if lie == "longer":
            info.file_size -= 10
        elif lie == "shorter":
            info.file_size += 10
        elif lie == "crc":
            info.CRC ^= 1
        given: list[bytes] = []
        with pytest.raises(zipfile.BadZipFile):
            for piece in container.member_chunks(zf, "xl/worksheets/sheet1.xml", block=4096):
                given.append(piece)
        assert sum(map(len, given)) <= info.file_size


def test_a_sheet_is_read_from_the_file_opened_even_replaced_since(tmp_path):
    """The archive's file replaced by another after it was opened: its own handle would read
    the other; zipfile's (the file opened) is read."""
    path = _sheet_zip(tmp_path / "a.xlsx", _SHEET_TEXT)
    with zipfile.ZipFile(path) as zf:
        os.replace(_sheet_zip(tmp_path / "b.xlsx", b"<autre/>" * 1000), path)
        assert b"".join(container.member_chunks(zf, "xl/worksheets/sheet1.xml")) == _SHEET_TEXT


def test_a_workbook_whose_sheet_is_damaged_inside_is_refused_in_french(tmp_path):
    good = workbook(tmp_path / "bon.xlsx", seed_001_rows())
    with zipfile.ZipFile(good) as zf:
        info = max((i for i in zf.infolist() if i.filename.startswith("xl/worksheets/")), key=lambda i: i.compress_size)
    data = bytearray(good.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    data[middle:middle + 20] = bytes(b ^ 0x5A for b in data[middle:middle + 20])
    broken = tmp_path / "abime.xlsx"
    broken.write_bytes(bytes(data))
    assert "abime.xlsx" in unreadable(broken, "fichier_illisible")


def test_a_workbook_damaged_where_zipfile_inflates_it_is_refused_in_french(tmp_path):
    """A few bytes changed inside a small sheet, which the prolog guard reads through zipfile
    (zlib): « archive endommagée », never zlib's exception."""
    good = workbook(tmp_path / "bon.xlsx", seed_001_rows())
    with zipfile.ZipFile(good) as zf:
        info = min((i for i in zf.infolist() if i.filename.startswith("xl/worksheets/") and i.compress_size > 400),
                   key=lambda i: i.compress_size)
    data = bytearray(good.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 3:start + info.compress_size // 3 + 40] = \
        bytes(b ^ 0x5A for b in data[start + info.compress_size // 3:start + info.compress_size // 3 + 40])
    broken = tmp_path / "abime.xlsx"
    broken.write_bytes(bytes(data))
    assert "archive endommagée" in unreadable(broken, "fichier_illisible")


@pytest.mark.skipif(sys.platform != "linux", reason="a file name of bytes that are no UTF-8: Linux keeps them")
@pytest.mark.parametrize("source", [CORPUS / "libreoffice-saisie.xlsx", CORPUS / "libreoffice-saisie.ods"])
def test_a_workbook_whose_name_is_no_utf8_is_read(tmp_path, source):
    # a name in Latin-1 (an old archive, a Windows share): fastexcel refused the path, in English
    path = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9" + source.suffix.encode()))
    shutil.copy(source, path)
    outcome, saved = api.verify(path), api.verify(source)
    assert not outcome.unreadable and outcome.demandes == saved.demandes > 0


def test_not_a_workbook_at_all(tmp_path):
    path = tmp_path / "image.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    assert "n'est pas un fichier .xlsx" in unreadable(path, "fichier_illisible")


def test_password_protected_workbook(tmp_path):
    msoffcrypto = pytest.importorskip("msoffcrypto")  # test extra; a plain install lacks it
    from msoffcrypto.format.ooxml import OOXMLFile

    plain_path = workbook(tmp_path / "clair.xlsx", seed_001_rows())
    locked = tmp_path / "protege.xlsx"
    with plain_path.open("rb") as src, locked.open("wb") as dst:
        OOXMLFile(src).encrypt("secret", dst)
    assert msoffcrypto.olefile.isOleFile(str(locked))
    assert "mot de passe" in unreadable(locked, "classeur_protege")


def test_xlsm_is_read(tmp_path):
    path = workbook(tmp_path / "macros.xlsx", seed_001_rows())
    path = path.rename(tmp_path / "macros.xlsm")
    outcome = api.verify(path)
    assert outcome.exit_code == 0 and outcome.accepted == ["00001"]


# ------------------------------------------------------------------ LibreOffice


def test_libreoffice_saved_workbook_from_corpus(tmp_path):
    outcome = api.convert(CORPUS / "libreoffice.xlsx", tmp_path, DAY)
    assert outcome.exit_code == 0, outcome.errors
    data = json.loads(outcome.files[0].read_text(encoding="utf-8"))
    assert data["lignesImport"][0]["numeroEditeur"] == "00001"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice absent : seul le fichier du corpus est testé")
def test_libreoffice_round_trip(tmp_path):
    source = workbook(tmp_path / "source.xlsx", seed_001_rows())
    out = tmp_path / "lo"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "xlsx", "--outdir", str(out), str(source)],
                   check=True, capture_output=True, timeout=180)
    expected = api.convert(source, tmp_path / "a", DAY, registre=tmp_path / "a.sqlite")
    saved = api.convert(out / "source.xlsx", tmp_path / "b", DAY, registre=tmp_path / "b.sqlite")
    assert saved.exit_code == expected.exit_code == 0
    assert saved.files[0].read_text(encoding="utf-8") == expected.files[0].read_text(encoding="utf-8")


# ------------------------------------------------------------------ sheets and columns


@pytest.mark.parametrize("digits", ["\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",  # Arabic-Indic
                                    "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19"])  # full width
def test_digits_of_other_scripts_are_not_ascii_digits(tmp_path, digits):
    # a regex « \d » matches any Unicode digit: a FINESS typed in other digits passed silently
    # as a FINESS (it has the 9 characters the seeds ask, « VARCHAR (=9) »: kept, with a warning
    # that it is no FINESS's shape), and an amount of them (« ٠ ») ended in a crash
    rows = seed_001_rows()
    rows["OG"][0]["FINESSJuridique"] = digits
    rows["Demandes"][0]["montantSegurHT"] = "\u0660"
    outcome = api.verify(workbook(tmp_path / "chiffres.xlsx", rows))
    assert {(i.code, i.sheet) for i in outcome.errors} >= {("montant_invalide", "Demandes")}
    assert ("finess_inhabituel", "OG") in {(i.code, i.sheet) for i in outcome.warnings if i.value == digits}


def test_missing_sheet(tmp_path):
    path = plain(tmp_path / "sans-og.xlsx", sheets={"Entête", "Demandes", "FINESS Géo", "Scénarios"})
    text = unreadable(path, "feuille_manquante")
    assert "« OG »" in text


@pytest.mark.parametrize("above", [1, 2])
def test_a_title_typed_above_the_balises_is_named_not_every_column(tmp_path, above):
    # a user inserts a title row above the table: every column was « absente de la ligne
    # d'en-tête (ligne 1) … Rétablissez son en-tête », for balises the user sees, one row down
    path = plain(tmp_path / "titre.xlsx")
    book = openpyxl.load_workbook(path)
    book["OG"].insert_rows(1, above)
    book["OG"]["A1"] = "Organismes gestionnaires 2024"
    book.save(path)
    text = unreadable(path, "entete_decale")
    assert "feuille « OG », ligne 1" in text and f"sont en ligne {above + 1}" in text
    assert "« Organismes gestionnaires 2024 »" in text and "supprimez" in text.lower()


def test_missing_and_renamed_column_names_the_letter_used(tmp_path):
    path = plain(tmp_path / "renomme.xlsx", rename={"OG": {"FINESSJuridique": "FINESS Juridique (OG)"}})
    outcome = api.verify(path)
    assert outcome.exit_code == 2
    (problem,) = outcome.errors
    assert problem.code == "colonne_manquante" and problem.sheet == "OG" and problem.column == "B"
    assert "FINESS Juridique (OG)" in problem.message and "FINESSJuridique" in problem.message


def test_extra_columns_and_other_order_errors_name_the_real_letter(tmp_path):
    sheet = get_format(FMT).by_name["Demandes"]
    order = {"Demandes": list(reversed(sheet.balises))}
    rows = seed_001_rows()
    rows["Demandes"][0]["montantSegurHT"] = "douze"
    path = plain(tmp_path / "desordre.xlsx", rows, order=order, extra={"Demandes": ["Commentaire", "Total"]})
    outcome = api.verify(path)
    (bad,) = [i for i in outcome.errors if i.balise == "montantSegurHT"]
    expected = chr(ord("A") + order["Demandes"].index("montantSegurHT"))
    assert bad.column == expected != sheet.column_letter("montantSegurHT")
    assert bad.cell == f"{expected}2" and f"colonne {expected}" in bad.render()


def test_header_cells_with_spaces_and_case(tmp_path):
    rename = {"OG": {"FINESSJuridique": "  FINESSJuridique\u00a0 ", "nomResponsableOG": "nomresponsableog"}}
    outcome = api.verify(plain(tmp_path / "espaces.xlsx", rename=rename))
    assert outcome.exit_code == 0, outcome.errors


def test_workbook_read_as_another_format_than_its_entete_says(tmp_path):
    # the format may be given to read_workbook (the API reads it from the Entête): a workbook
    # made for another format is refused as a whole, on its Entête cell
    from converter.checks import check_workbook

    path = workbook(tmp_path / "pds.xlsx", seed_001_rows())
    checked = check_workbook(read_workbook(path, get_format("ms2-dui-pde-avance")))
    errors = [i for i in checked.issue_list() if i.is_error]
    assert [(i.code, i.sheet, i.cell, i.value) for i in errors] == [
        ("format_different", "Entête", "C2", FMT)]
    assert f"au format « {FMT} »" in errors[0].message
    assert checked.accepted == [] and checked.rejected == ["00001"] and not checked.header_ok
    # read as its own format, the same workbook passes
    same = check_workbook(read_workbook(path, get_format(FMT)))
    assert same.accepted == ["00001"] and not [i for i in same.issue_list() if i.is_error]


@pytest.mark.parametrize("typed", ["MS2-DUI-PDS-AVANCE", "Ms2-Dui-Pds-Avance", "ms2 - dui - pds - avance"])
def test_the_entete_format_retyped_in_another_case_is_read_with_a_warning(tmp_path, typed):
    """« MS2-DUI-PDS-AVANCE » in the Entête was « Format inconnu » (code 2), while a drop-down
    value typed in capitals is corrected with a warning."""
    path = plain(tmp_path / "casse.xlsx", header={"format": typed})
    outcome = api.verify(path)
    assert outcome.exit_code == 0 and outcome.format_id == FMT and outcome.errors == [], outcome.errors
    (warning,) = found(outcome, "format_ecriture_corrigee")
    assert (warning.sheet, warning.cell, warning.value) == ("Entête", "C2", typed)
    assert f"il est lu « {FMT} »" in warning.message
    # read as the format it names, nothing differs; as another, it is that one that differs
    checked = check_workbook(read_workbook(path, get_format("ms2-dui-pde-avance")))
    assert [(i.code, i.value) for i in checked.issue_list() if i.is_error] == [("format_different", typed)]
    assert f"au format « {FMT} »" in [i for i in checked.issue_list() if i.is_error][0].message
    same = check_workbook(read_workbook(path, get_format(FMT)))
    assert same.accepted == ["00001"] and not [i for i in same.issue_list() if i.is_error]


@pytest.mark.parametrize("typed", ["ms2-dui-pds-\u200bavance", "\ufeffms2-dui-pds-avance", "ms2\u2060-dui-pds-avance",
                                   "ms2-dui-pds-avance\u00a0"])
def test_the_entete_format_with_an_invisible_character_is_found(tmp_path, typed):
    """A zero-width space or a BOM pasted into the Entête format cell made it « Format inconnu »
    (code 2), while the cleaning of every cell takes these characters out."""
    path = plain(tmp_path / "invisible.xlsx", header={"format": typed})
    outcome = api.verify(path)
    assert outcome.exit_code == 0 and outcome.format_id == FMT and outcome.errors == [], outcome.errors


def test_the_format_on_the_command_line_is_found_whatever_its_case(tmp_path):
    """« xl2segur modele MS2-DUI-PDS-AVANCE » said « format inconnu » while the same id typed so
    in the Entête is read; « --format » of solde and importer go through the same look-up."""
    result = runner.invoke(app, ["modele", "MS2-DUI-PDS-Avance", "-o", str(tmp_path / "m.xlsx")])
    assert result.exit_code == 0, result.output
    assert api.verify(plain(tmp_path / "w.xlsx")).format_id == FMT
    assert get_format(" MS2-DUI-PDS-SOLDE ").id == "ms2-dui-pds-solde"
    result = runner.invoke(app, ["modele", "MS2-DUI-PDS", "-o", str(tmp_path / "z.xlsx")])
    assert result.exit_code == 2 and "format inconnu « MS2-DUI-PDS »" in " ".join(result.output.split())


def test_an_entete_format_of_another_spelling_stays_unknown(tmp_path):
    outcome = api.verify(plain(tmp_path / "autre.xlsx", header={"format": "ms2_dui_pds_avance"}))
    assert outcome.unreadable and [(i.code, i.value) for i in outcome.errors] == [("format_inconnu", "ms2_dui_pds_avance")]


def test_duplicate_column(tmp_path):
    outcome = api.verify(plain(tmp_path / "double.xlsx", extra={"OG": ["FINESSJuridique"]}))
    (problem,) = outcome.errors
    assert problem.code == "colonne_en_double" and problem.sheet == "OG" and "colonnes B" in problem.message


# ------------------------------------------------------------------ cells


def test_formula_cached_value_is_used_never_evaluated(tmp_path):
    path = workbook(tmp_path / "formules.xlsx", seed_001_rows())
    # the cached value says 1234.5 while the formula would give 4866.67: the cached value wins
    set_cell(path, "Demandes", "D2", '<c r="D2"><f>4866.67*1</f><v>1234.5</v></c>')
    outcome = api.convert(path, tmp_path / "depot", DAY)
    assert outcome.errors == [] and outcome.amounts == {"00001": Decimal("1234.50")}


@pytest.mark.parametrize("cell", [
    '<c r="M2"><f>"DUR"&amp;"AND"</f></c>',  # no value at all
    '<c r="M2"><f>"DUR"&amp;"AND"</f><v /></c>',  # as openpyxl writes it
])
def test_formula_saved_without_its_value_is_named_as_such(tmp_path, cell):
    # xl2segur never computes: the user learns the cell holds a formula nobody calculated
    path = set_cell(workbook(tmp_path / "formules.xlsx", seed_001_rows()), "OG", "M2", cell)
    outcome = api.convert(path, tmp_path / "depot", DAY)
    assert [(i.code, i.cell, i.value) for i in outcome.errors] == [("formule_sans_valeur", "M2", '="DUR"&"AND"')]
    assert "enregistrez-le" in outcome.errors[0].message and outcome.files == []


def test_a_last_row_of_formulas_saved_without_values_is_not_dropped(tmp_path):
    """A demande written by a program as formulas only (openpyxl: `<v />`), below the others:
    fastexcel ends the sheet at its last value, and the demande vanished without a word
    (only formulas: « aucune ligne remplie »)."""
    path = workbook(tmp_path / "formules.xlsx", seed_001_rows())
    book = openpyxl.load_workbook(path)
    for column, formula in zip("ABCDE", ['="00002"', "=DATE(2024,3,12)", '="TTC"', "=1000+1", '="FAUX"']):
        book["Demandes"][f"{column}3"] = formula
    book.save(path)
    outcome = api.verify(path)
    assert outcome.demandes == 2 and outcome.accepted == ["00001"] and len(outcome.rejected) == 1
    assert {(i.code, i.cell) for i in outcome.errors if i.row == 3} == \
        {("formule_sans_valeur", f"{column}3") for column in "ABCDE"}
    for column in "BCDE":  # the first demande gone too: every one of them is still named
        book["Demandes"][f"{column}2"] = "=1"
    book["Demandes"]["A2"] = '="00001"'
    book.save(path)
    outcome = api.verify(path)
    assert outcome.demandes == 2 and outcome.accepted == [] and outcome.exit_code == 1


def test_formula_whose_saved_result_is_empty_is_an_empty_cell(tmp_path):
    path = set_cell(workbook(tmp_path / "formules.xlsx", seed_001_rows()), "OG", "M2",
                    '<c r="M2" t="str"><f>IF(1,"","x")</f><v></v></c>')
    assert [(i.code, i.cell) for i in api.verify(path).errors] == [("obligatoire", "M2")]


def test_error_cells_are_reported_where_they_are(tmp_path):
    path = workbook(tmp_path / "erreurs.xlsx", seed_001_rows())
    set_cell(path, "Demandes", "D2", '<c r="D2" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
    set_cell(path, "OG", "B2", '<c r="B2" t="e"><f>VLOOKUP(A2,X:Y,2,0)</f><v>#N/A</v></c>')
    outcome = api.verify(path)
    got = {(i.sheet, i.cell, i.value) for i in found(outcome, "cellule_en_erreur")}
    assert got == {("Demandes", "D2", "#DIV/0!"), ("OG", "B2", "#N/A")}
    assert outcome.rejected == ["00001"]


def test_a_boolean_cell_of_a_boolean_column_is_echoed_vrai_as_the_sheet_shows_it(tmp_path):
    """VRAI typed in Excel (a boolean cell) where the column must stay empty was echoed « true »."""
    rows = seed_001_rows()
    rows["OG"][0].update(demandeCertificatServeur=False, contractualisationOG=True)
    outcome = api.verify(plain(tmp_path / "booleens.xlsx", rows))
    assert [(i.code, i.value) for i in outcome.errors if i.balise == "contractualisationOG"] == [("doit_etre_vide", "VRAI")]


def test_merged_cells_leave_the_other_rows_empty(tmp_path):
    rows = seed_001_rows()
    path = plain(tmp_path / "fusion.xlsx", rows)
    wb = openpyxl.load_workbook(path)
    ws = wb["FINESS Géo"]
    ws.merge_cells("B2:B3")  # FINESSJuridique typed once for both ESMS
    wb.save(path)
    outcome = api.verify(path)
    assert {(i.code, i.sheet, i.cell) for i in outcome.errors} >= {("obligatoire", "FINESS Géo", "B3")}


def test_hidden_rows_and_sheets_are_read(tmp_path):
    path = plain(tmp_path / "cache.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Scénarios"].row_dimensions[3].hidden = True
    wb["FINESS Géo"].sheet_state = "hidden"
    wb.create_sheet("Brouillon").sheet_state = "veryHidden"
    wb.save(path)
    raw = read_workbook(path)
    assert raw.frames["Scénarios"].height == 2 and raw.frames["FINESS Géo"].height == 2
    assert api.verify(path).exit_code == 0


def test_far_empty_formatted_tail_stays_correct(tmp_path):
    path = workbook(tmp_path / "queue.xlsx", seed_001_rows())

    def edit(data: bytes) -> bytes:
        data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', data)
        return data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="1"/></row></sheetData>')
    rewrite(path, members(path)["Demandes"], edit)
    raw = read_workbook(path)
    assert raw.frames["Demandes"].height == 1
    assert api.verify(path).exit_code == 0


def test_stray_value_far_away_is_refused_with_its_cell(tmp_path):
    path = workbook(tmp_path / "espace-perdu.xlsx", seed_001_rows())

    def edit(data: bytes) -> bytes:
        data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:T1048576"/>', data)
        return data.replace(b"</sheetData>", b'<row r="1048576"><c r="T1048576" t="inlineStr"><is><t> </t></is></c></row></sheetData>')
    rewrite(path, members(path)["Demandes"], edit)
    text = unreadable(path, "plage_trop_etendue")
    assert "T1048576" in text and "« Demandes »" in text


def test_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_DATA_ROWS", 3)
    rows = seed_001_rows()
    rows["Demandes"] = [{**rows["Demandes"][0], "numeroEditeur": f"{n:05d}"} for n in range(1, 6)]
    text = unreadable(workbook(tmp_path / "long.xlsx", rows), "trop_de_lignes")
    assert "« Demandes »" in text and "5 lignes" in text


def test_a_dimension_smaller_than_the_rows_is_not_trusted(tmp_path, monkeypatch):
    rows = seed_001_rows()
    rows["Demandes"] = [{**rows["Demandes"][0], "numeroEditeur": f"{n:05d}"} for n in range(1, 6)]
    path = workbook(tmp_path / "menteur.xlsx", rows)
    rewrite(path, members(path)["Demandes"],
            lambda data: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:H2"/>', data))
    with zipfile.ZipFile(path) as zf:
        scan = reading._scan_sheet(zf, members(path)["Demandes"])
    assert scan.value_rows == 6  # counted, so the limit holds before fastexcel loads the sheet
    monkeypatch.setattr(reading, "MAX_DATA_ROWS", 3)
    _demandes_never_loaded(monkeypatch)
    assert "5 lignes" in unreadable(path, "trop_de_lignes")


def _demandes_never_loaded(monkeypatch) -> None:
    """Make fastexcel loading the « Demandes » sheet fail the test: the sheet must be refused
    from its scan, before fastexcel allocates it."""
    real = reading._load

    def load(reader, path, sheet, scan, name=None):
        assert sheet.name != "Demandes", "loaded before its extent was checked"
        return real(reader, path, sheet, scan, name)

    monkeypatch.setattr(reading, "_load", load)


def _five_demandes_and(tmp_path: Path, dimension: bytes, stray: bytes) -> Path:
    """Five demandes (rows 2 to 6 of « Demandes »), its dimension said `dimension`, and the
    cell `stray` (a space) typed into row 2."""
    rows = seed_001_rows()
    rows["Demandes"] = [{**rows["Demandes"][0], "numeroEditeur": f"{n:05d}"} for n in range(1, 6)]
    path = workbook(tmp_path / "colonne-perdue.xlsx", rows)

    def edit(data: bytes) -> bytes:
        data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="' + dimension + b'"/>', data)
        row_2 = re.search(rb'<row r="2"[^>]*>.*?(</row>)', data, re.S)
        cell = b'<c r="' + stray + b'" t="inlineStr"><is><t> </t></is></c>'
        return data[:row_2.start(1)] + cell + data[row_2.start(1):]
    return rewrite(path, members(path)["Demandes"], edit)


def test_a_stray_value_far_right_is_named_not_the_last_row_of_the_table(tmp_path, monkeypatch):
    # the message named the last cell read (A6, a demande of the user's) as the one to delete
    path = _five_demandes_and(tmp_path, b"A1:XFD6", b"XFD2")
    monkeypatch.setattr(reading, "MAX_SHEET_CELLS", 50_000)  # 6 × 16,384 cells
    text = unreadable(path, "plage_trop_etendue")
    assert "(cellule XFD2," in text and "A6" not in text


def test_a_dimension_narrower_than_the_cells_is_not_trusted(tmp_path, monkeypatch):
    # « A1:H6 » for a cell in XFD2: the extent was never measured and fastexcel spread each of
    # the rows over 16,384 columns (1 Gio for 1,000 rows; 10,000 rows ran out of memory)
    path = _five_demandes_and(tmp_path, b"A1:H6", b"XFD2")
    monkeypatch.setattr(reading, "MAX_SHEET_CELLS", 50_000)
    _demandes_never_loaded(monkeypatch)
    assert "(cellule XFD2," in unreadable(path, "plage_trop_etendue")


def test_a_dimension_above_the_last_row_is_not_trusted(tmp_path, monkeypatch):
    # « A1:H6 » and as many rows, the last one numbered 2,000,000: fastexcel allocated them all
    path = _five_demandes_and(tmp_path, b"A1:H6", b"A2")
    rewrite(path, members(path)["Demandes"], lambda data: re.sub(rb'r="([A-Z]*)6"', rb'r="\g<1>2000000"', data))
    with zipfile.ZipFile(path) as zf:
        assert reading._scan_sheet(zf, members(path)["Demandes"]).far_cell == "A2000000"
    assert "(cellule A2000000," in unreadable(path, "plage_trop_etendue")


def test_a_cell_beyond_the_last_column_a_sheet_has_is_refused(tmp_path):
    # ZZZZ1, past XFD: no spreadsheet writes it; fastexcel spread the rows over 475,254
    # columns (minutes, then more)
    path = _five_demandes_and(tmp_path, b"A1:H6", b"ZZZZ2")
    text = unreadable(path, "fichier_illisible")
    assert "cellule ZZZZ2 au-delà de XFD" in text and "« Demandes »" in text


def test_a_cell_is_read_where_its_own_reference_puts_it_as_spreadsheets_show_it(tmp_path):
    # `<c r="D7">` inside `<row r="2">` (a hand-made file): LibreOffice and fastexcel both place
    # the value by the cell's reference (checked with soffice --convert-to csv), and the later
    # of two cells of one reference wins in both. What is checked is what the user's spreadsheet
    # shows: row 2 lost its amount, row 7 holds one without a demande, both said where they are.
    path = workbook(tmp_path / "reference.xlsx", seed_001_rows())
    assert api.verify(path).accepted == ["00001"]
    rewrite(path, members(path)["Demandes"], lambda data: data.replace(b'r="D2"', b'r="D7"'))
    outcome = api.verify(path)
    assert not outcome.unreadable and outcome.rejected == ["00001"]
    assert ("Demandes", 2, "D", "obligatoire") in {(i.sheet, i.row, i.column, i.code) for i in outcome.errors}
    assert any(i.row == 7 and i.sheet == "Demandes" for i in outcome.errors)


# ------------------------------------------------------------------ zip and XML bombs


def test_zip_total_size_limit(tmp_path, monkeypatch):
    path = workbook(tmp_path / "gros.xlsx", seed_001_rows())
    monkeypatch.setattr(container, "MAX_UNCOMPRESSED_BYTES", 10_000)
    assert "sécurité" in unreadable(path, "classeur_trop_gros")


def test_zip_compression_ratio_limit(tmp_path):
    path = workbook(tmp_path / "bombe.xlsx", seed_001_rows())
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/vide.bin", b"\0" * (container.RATIO_FLOOR_BYTES + 1))
    assert "taux de compression" in unreadable(path, "classeur_trop_gros")


@pytest.mark.parametrize("member", ["xl/workbook.xml", "xl/sharedStrings.xml"])
def test_xml_entities_are_refused(tmp_path, member):
    path = workbook(tmp_path / "entites.xlsx", seed_001_rows())
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>')
    rewrite(path, member, lambda data: bomb + re.sub(rb"^<\?xml[^>]*\?>", b"", data.lstrip()))
    assert "DOCTYPE/ENTITY" in unreadable(path, "fichier_illisible")


@pytest.mark.parametrize("serial", [False, True])
def test_sheets_checked_as_soon_as_read_give_what_checking_afterwards_gives(tmp_path, monkeypatch, serial):
    """Issue #19: with `then=check_sheet`, each sheet is checked in a thread of its own while
    the next one loads (concurrency.SERIAL: when asked for); the checked workbook is the same."""
    rows = merge(*(seed_001_rows(f"{i:05d}") for i in range(1, 4)))
    rows["OG"][1]["FINESSJuridique"] = "12345"
    rows["Demandes"][1]["dateCommande"] = "31/02/2024"
    path = set_cell(workbook(tmp_path / "w.xlsx", rows), "OG", "M2", '<c r="M2"><f>"DUR"&amp;"AND"</f></c>')
    set_cell(path, "Demandes", "A2", '<c r="A2"><v>1</v></c>')  # its zeros given back, with a warning
    afterwards = check_workbook(read_workbook(path))
    monkeypatch.setattr(concurrency, "SERIAL", serial)
    raw = read_workbook(path, then=check_sheet)
    assert list(raw.ahead) == ["Entête", "Demandes", "OG", "FINESS Géo", "Scénarios", "Pièces"]
    ahead = check_workbook(raw)
    assert {"formule_sans_valeur", "date_invalide", "finess_invalide", "numero_editeur_complete"} \
        <= set(afterwards.issues["code"])
    assert ahead.issues.equals(afterwards.issues) and ahead.frames.keys() == afterwards.frames.keys()
    assert all(ahead.frames[name].equals(frame) for name, frame in afterwards.frames.items())
    assert (ahead.accepted, ahead.rejected) == (afterwards.accepted, afterwards.rejected) == (["00003"], ["00001", "00002"])


def test_a_workbook_refused_at_a_later_sheet_waits_for_the_checks_already_started(tmp_path):
    """The sheets read before the one refused were already being checked, each in a thread:
    those end before the French error is raised (a thread still inside Polars when the
    command exits would take the process down)."""
    import threading
    import time

    path = plain(tmp_path / "renomme.xlsx", rename={"Scénarios": {"profilMetier": "profil"}})
    ended = []

    def slow(raw, sheet):
        time.sleep(0.2)
        ended.append((sheet.name, threading.current_thread().name))

    with pytest.raises(WorkbookError) as refused:
        read_workbook(path, then=slow)
    assert refused.value.issues[0].code == "colonne_manquante"
    assert ended and sorted(ended) == sorted((name, "xl2segur-check") for name in
                                             ["Entête", "Demandes", "OG", "FINESS Géo"])


# ------------------------------------------------------------------ values


def test_identifiers_typed_as_numbers_get_their_zeros_back(tmp_path):
    rows = seed_001_rows()
    path = workbook(tmp_path / "nombres.xlsx", rows, header={"numeroAns": "0123456789"})
    # FINESS 010000024 stored as the number 10000024; numeroEditeur 00001 as 1; numeroAns as 123456789
    set_cell(path, "OG", "B2", '<c r="B2"><v>10000024</v></c>')
    set_cell(path, "Demandes", "A2", '<c r="A2"><v>1</v></c>')
    set_cell(path, "Entête", "A2", '<c r="A2"><v>123456789</v></c>')
    raw = read_workbook(path)
    assert raw.frames["OG"]["FINESSJuridique"].to_list() == ["010000024"]
    assert raw.padded == {"OG": {"FINESSJuridique": [2]}, "Demandes": {"numeroEditeur": [2]},
                          "Entête": {"numeroAns": [2]}}
    outcome = api.verify(path)
    warned = {(i.code, i.sheet, i.cell) for i in outcome.warnings}
    assert {("numero_editeur_complete", "Demandes", "A2"), ("identifiant_complete", "Entête", "A2")} <= warned
    # 010000024 has a wrong FINESS key: that (more useful) warning is kept for the cell
    assert any(i.sheet == "OG" and i.cell == "B2" for i in outcome.warnings)
    assert not any(i.code == "finess_invalide" for i in outcome.errors)


def test_short_identifier_typed_as_text_stays_an_error(tmp_path):
    rows = seed_001_rows()
    rows["OG"][0]["FINESSJuridique"] = "45678912"
    outcome = api.verify(workbook(tmp_path / "texte.xlsx", rows))
    assert [(i.code, i.sheet, i.cell) for i in outcome.errors if i.code == "finess_invalide"] == [
        ("finess_invalide", "OG", "B2")]
    assert not found(outcome, "finess_complete")


def test_padding_warning_for_a_valid_finess(tmp_path):
    rows = seed_001_rows()
    path = workbook(tmp_path / "finess.xlsx", rows)
    set_cell(path, "OG", "B2", '<c r="B2"><v>10000024</v></c>')
    raw = read_workbook(path)
    from converter.checks import check_workbook
    checked = check_workbook(raw)
    codes = checked.issues.filter(checked.issues["sheet"] == "OG")["code"].to_list()
    assert "finess_complete" in codes or "finess_cle" in codes


@pytest.mark.parametrize("number", ["0", "1", "4567891"])
def test_a_number_too_short_to_have_lost_its_zeros_stays_an_error(tmp_path, number):
    path = workbook(tmp_path / "court.xlsx", seed_001_rows())
    set_cell(path, "OG", "B2", f'<c r="B2"><v>{number}</v></c>')  # FINESS of 9 digits
    set_cell(path, "Entête", "B2", '<c r="B2"><v>1</v></c>')  # SIRET of 14 digits
    raw = read_workbook(path)
    assert raw.frames["OG"]["FINESSJuridique"].to_list() == [number] and "OG" not in raw.padded
    outcome = api.verify(path)
    assert {(i.code, i.sheet, i.cell) for i in outcome.errors} >= {
        ("finess_invalide", "OG", "B2"), ("siret_invalide", "Entête", "B2")}


def test_a_second_entete_row_is_refused_not_dropped(tmp_path):
    path = workbook(tmp_path / "deux.xlsx", seed_001_rows())
    book = openpyxl.load_workbook(path)
    book["Entête"].append(["9999999999", "73282932000074", "ms2-dui-pds-avance"])
    book.save(path)
    outcome = api.verify(path)
    assert outcome.exit_code == 2
    [error] = outcome.errors
    assert (error.code, error.sheet, error.row) == ("entete_plusieurs_lignes", "Entête", 3)


def test_spaces_taken_out_of_an_identifier_are_listed(tmp_path):
    rows = seed_001_rows()
    rows["OG"][0]["FINESSJuridique"] = "345 678 912"  # as the FINESS Géo sheet has it, spaces apart
    path = workbook(tmp_path / "espaces.xlsx", rows, header={"SIRET": "732 829 320 00074"})
    outcome = api.convert(path, tmp_path / "depot", DAY)
    assert outcome.exit_code == 0
    warned = {(i.code, i.sheet, i.balise) for i in outcome.warnings}
    assert ("identifiant_normalise", "Entête", "SIRET") in warned
    # 345678912 (seed 001's) has a wrong FINESS key: that warning is the one its cell gets
    assert ("finess_cle", "OG", "FINESSJuridique") in warned
    document = json.loads(outcome.files[0].read_text(encoding="utf-8"))
    assert document["SIRET"] == "73282932000074"


def test_the_padding_warning_names_no_missing_value(tmp_path):
    path = workbook(tmp_path / "ans.xlsx", seed_001_rows(), header={"numeroAns": "0123456789"})
    set_cell(path, "Entête", "A2", '<c r="A2"><v>123456789</v></c>')
    outcome = api.verify(path)
    [warning] = [i for i in outcome.warnings if i.code == "identifiant_complete"]
    assert "None" not in warning.message and "rétablis" in warning.message


@pytest.mark.parametrize("typed", ["12/03/2024", "12-03-2024", "12.3.2024", "2024-03-12", "2024/03/12",
                                   "12 mars 2024", "12 MARS 2024", "45363", "45363.0", "2024-03-12 00:00:00"])
def test_dates_in_several_forms(tmp_path, typed):
    rows = seed_001_rows()
    rows["Demandes"][0]["dateCommande"] = typed
    outcome = api.convert(workbook(tmp_path / "dates.xlsx", rows), tmp_path / "depot", DAY)
    assert outcome.exit_code == 0, outcome.errors
    assert values_of(deposit(outcome), "dateCommande") == ["12/03/2024"]


@pytest.mark.parametrize("typed", ["12/03/2024 14:30", "12/03/2024 14:30:05", "12-03-2024 9:05", "45363.6",
                                   datetime(2024, 3, 12, 14, 30)])
def test_a_date_with_a_time_keeps_its_date_with_a_warning(tmp_path, typed):
    """A date-time cell, a serial with a fraction (45363.6) or « 12/03/2024 14:30 » typed: the
    seeds ask for JJ/MM/AAAA; the day is unambiguous, it is deposited and the time dropped, said
    (they were refused as « Date invalide », or the time dropped unsaid)."""
    rows = seed_001_rows()
    rows["Demandes"][0]["dateCommande"] = "12/03/2024"
    path = workbook(tmp_path / "dates.xlsx", rows)
    book = openpyxl.load_workbook(path)
    book["Demandes"]["B2"].value = typed
    book["Demandes"]["B2"].number_format = "dd/mm/yyyy hh:mm" if isinstance(typed, datetime) else "@"
    book.save(path)
    outcome = api.convert(path, tmp_path / "depot", DAY)
    assert outcome.exit_code == 0, outcome.errors
    assert values_of(deposit(outcome), "dateCommande") == ["12/03/2024"]
    assert [(i.code, i.cell) for i in outcome.warnings if i.balise == "dateCommande"] == [("date_heure_ignoree", "B2")]


@pytest.mark.parametrize("typed", ["12/03/2024 00:00", "2024-03-12 00:00:00", "45363.0", datetime(2024, 3, 12)])
def test_a_date_at_midnight_has_no_time_to_warn_of(tmp_path, typed):
    rows = seed_001_rows()
    path = workbook(tmp_path / "dates.xlsx", rows)
    book = openpyxl.load_workbook(path)
    book["Demandes"]["B2"].value = typed
    book.save(path)
    outcome = api.verify(path)
    assert outcome.errors == [] and not [i for i in outcome.warnings if i.balise == "dateCommande"]


@pytest.mark.parametrize("typed", ["01/01/1900", "31/12/2099", "1900-01-01", "31 décembre 2099"])
def test_dates_at_the_ends_of_the_accepted_years(tmp_path, typed):
    rows = seed_001_rows()
    rows["Demandes"][0]["dateCommande"] = typed
    assert api.verify(workbook(tmp_path / "dates.xlsx", rows)).errors == []


@pytest.mark.parametrize("typed, code", [
    *((typed, "date_invalide") for typed in ("31/02/2024", "hier", "12 brumaire 2024", "12/13/26", 1,
                                             "12/03/2024 25:00", "12/03/2024 midi")),
    # a year of two digits: the century is not guessed (seeds: « JJ/MM/AAAA »), the message says so
    *((typed, "date_annee_deux_chiffres") for typed in ("12/03/24", "1.3.26", "5-3-26", "1er mars 26")),
    # a number that would be a date past 2099 (a date cell formatted as a number)
    *((typed, "date_nombre_hors_limites") for typed in (73051, 80000, 150000, "99999")),
    # a year outside 1900-2099, likely mistyped, said as such: kept, with a warning (the seeds
    # ask « JJ/MM/AAAA », no range)
    *((typed, "date_annee_hors_limites") for typed in ("31/12/1899", "01/01/2100", "12/03/0224", "2204-03-12",
                                                       "12 mars 2240"))])
def test_bad_dates(tmp_path, typed, code):
    rows = seed_001_rows()
    rows["Demandes"][0]["dateCommande"] = typed
    outcome = api.verify(workbook(tmp_path / "dates.xlsx", rows))
    assert [(i.code, i.cell) for i in outcome.issues if i.balise == "dateCommande"] == [(code, "B2")]
    assert outcome.accepted == ([] if code != "date_annee_hors_limites" else ["00001"])


def test_invisible_spaces_emoji_and_rtl(tmp_path):
    rows = seed_001_rows()
    rows["OG"][0]["FINESSJuridique"] = "\u200b345\u00a0678\u202f912\u00a0"
    rows["OG"][0]["nomResponsableOG"] = "DURAND 🚀 دوران"
    rows["Demandes"][0]["numeroEditeur"] = "00001\u200b"
    outcome = api.convert(workbook(tmp_path / "unicode.xlsx", rows), tmp_path / "depot", DAY)
    assert outcome.exit_code == 0, outcome.errors
    data = deposit(outcome)
    assert values_of(data, "FINESSJuridique") == ["345678912"]
    assert values_of(data, "nomResponsableOG") == ["DURAND 🚀 دوران"]
    assert values_of(data, "numeroEditeur") == ["00001"]


def test_a_row_of_nothing_but_spaces_is_no_row(tmp_path):
    """Spaces of any kind (no-break, narrow, zero-width) and nothing else: the row is blank and
    skipped; one visible character among them, and it is read."""
    rows = seed_001_rows()
    rows["Demandes"].append({"numeroEditeur": " \u00a0", "dateCommande": "\u200b\u202f", "regimeTVA": "\ufeff"})
    rows["OG"].append({"numeroEditeur": "\u00a0x\u00a0"})
    raw = read_workbook(workbook(tmp_path / "espaces.xlsx", rows))
    assert raw.frames["Demandes"].height == 1
    assert raw.frames["OG"]["numeroEditeur"].to_list() == ["00001", "\u00a0x\u00a0"]


def test_blank_rows_found_through_the_fullest_column_are_those_of_every_column():
    """reading._without_blank_rows tests every column only where the fullest one is blank: the
    rows it keeps, on random cells (empty, spaces of any kind, values), are those kept by
    testing every column of every row."""
    import random

    import polars as pl

    rng = random.Random(19)
    cells = [None, "", " ", "\u00a0\u202f", "\u200b", "x", " 0 ", "\u00a0y"]
    balises = ["a", "b", "c"]
    for weights in ([1, 1, 1, 1, 1, 1, 1, 1], [8, 1, 1, 1, 1, 0, 0, 1], [0, 0, 0, 0, 0, 1, 1, 1]):
        frame = pl.DataFrame({b: rng.choices(cells, weights, k=500) for b in balises},
                             schema=dict.fromkeys(balises, pl.String))
        frame = frame.with_row_index(reading.ROW, offset=2).with_columns(pl.col(reading.ROW).cast(pl.Int64))
        blank = pl.all_horizontal(pl.col(b).is_null() | pl.col(b).str.contains(f"^{reading._SPACES}*$") for b in balises)
        assert reading._without_blank_rows(frame, balises).equals(frame.filter(~blank))


@pytest.mark.parametrize("typed", ["=1+1", "+33 6 12", "-1", "@SUM(A1)", '=HYPERLINK("http://x","y")'])
def test_formula_looking_values_stay_text_in_the_error_workbook(tmp_path, typed):
    rows = seed_001_rows()
    rows["OG"][0]["nomAdminTechnique"] = typed
    rows["Demandes"][0]["montantSegurHT"] = typed
    rows["Demandes"][0]["regimeTVA"] = "TVA"  # rejected whatever the typed value (-1 is an amount, kept)
    outcome = api.convert(workbook(tmp_path / "formules.xlsx", rows), tmp_path / "depot", DAY)
    assert outcome.error_workbook is not None and not outcome.files
    wb = openpyxl.load_workbook(outcome.error_workbook)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == typed]
    assert cells and all(c.data_type == "s" for c in cells)
    with zipfile.ZipFile(outcome.error_workbook) as zf:
        assert not any(b"<f>" in zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/"))


# ------------------------------------------------------------------ outputs


def _crash_while_writing(folder: str) -> None:  # runs in a child process
    def write(tmp: Path) -> None:
        tmp.write_text('{"lignesImport": [', encoding="utf-8")
        os._exit(9)  # killed midway: no cleanup runs
    files.write_first_free([Path(folder) / "JSON-0123456789-20240312-001.json"], write)


def test_killed_run_leaves_no_partial_json_and_numbering_continues(tmp_path):
    out = tmp_path / "depot"
    runs = [workbook(tmp_path / f"run{n}.xlsx", seed_001_rows(f"0000{n}")) for n in (1, 2, 3)]
    first = api.convert(runs[0], out, DAY)
    proc = multiprocessing.get_context("spawn").Process(target=_crash_while_writing, args=(str(out),))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 9
    leftovers = list(out.glob(f"{files.TMP_PREFIX}*"))
    assert len(leftovers) == 1 and sorted(p.name for p in out.glob("*.json")) == [first.files[0].name]
    again = api.convert(runs[1], out, DAY)
    assert again.files[0].name.endswith("-002.json")
    assert not leftovers[0].exists()  # its run is dead (it holds no lock): removed at once, whatever its age
    assert sorted(p.name[-8:] for p in out.glob("*.json")) == ["001.json", "002.json"]


def test_a_deposit_file_the_ledger_could_not_record_is_removed(tmp_path, monkeypatch):
    import contextlib

    from converter import ledger

    class Interrupted:  # Ctrl-C once the file got its name, while its demandes are recorded
        def __init__(self, db):
            self.db = db

        def execute(self, sql, *args):
            if sql.startswith("INSERT INTO demandes"):
                raise KeyboardInterrupt
            return self.db.execute(sql, *args)

        def __getattr__(self, name):  # the rest of the connection (getlimit…)
            return getattr(self.db, name)

    opened = ledger.Ledger.transaction

    @contextlib.contextmanager
    def transaction(self):
        with opened(self) as db:
            yield Interrupted(db)

    path = workbook(tmp_path / "w.xlsx", seed_001_rows())
    out = tmp_path / "depot"
    monkeypatch.setattr(ledger.Ledger, "transaction", transaction)
    with pytest.raises(KeyboardInterrupt):
        api.convert(path, out, DAY)
    assert list(out.glob("*.json")) == []  # nor a file the next run would deposit again
    monkeypatch.undo()
    again = api.convert(path, out, DAY)
    assert again.exit_code == 0 and again.files[0].name.endswith("-001.json")


def test_when_the_days_999_file_numbers_are_taken_the_message_says_so(tmp_path):
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", seed_001_rows("00009")), out, DAY)
    (out / first.files[0].name).rename(out / f"JSON-0123456789-{DAY:%Y%m%d}-999.json")
    with sqlite3.connect(first.registre) as db:  # the ledger knows it under rank 999
        db.execute("UPDATE fichiers SET nom = ?, chemin = ?, rang = 999",
                   (f"JSON-0123456789-{DAY:%Y%m%d}-999.json", str((out / f"JSON-0123456789-{DAY:%Y%m%d}-999.json").resolve())))
    with pytest.raises(files.OutputError, match="999 numéros de fichier"):
        api.convert(workbook(tmp_path / "w.xlsx", seed_001_rows()), out, DAY)


def test_exception_during_write_leaves_nothing(tmp_path):
    def write(tmp: Path) -> None:
        tmp.write_text("partiel", encoding="utf-8")
        raise RuntimeError("panne")
    with pytest.raises(RuntimeError):
        files.write_new(tmp_path / "x.json", write)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_temporaries_are_ordinary_files_with_their_bytes(tmp_path):
    """write_temporary writes on the descriptor itself: every byte there, 0o666 less the umask
    (as any file the user writes), hidden until named."""
    data = os.urandom(3 << 20)
    with files.running(tmp_path / "depot"):
        tmp = files.write_temporary(tmp_path / "depot", data)
    assert tmp.name.startswith(f"{files.TMP_PREFIX}{files.RUN_ID}-") and tmp.read_bytes() == data
    mask = os.umask(0)
    os.umask(mask)
    assert tmp.stat().st_mode & 0o777 == 0o666 & ~mask
    named = tmp_path / "depot" / "JSON-0123456789-20240312-001.json"
    assert files.publish(tmp, named) and named.read_bytes() == data


def test_unwritable_output_folder_is_a_french_error(tmp_path):
    path = workbook(tmp_path / "ok.xlsx", seed_001_rows())
    blocker = tmp_path / "un_fichier.txt"
    blocker.write_text("x")
    result = cli("convertir", str(path), "-o", str(blocker / "depot"), "--date-depot", "20240312")
    assert result.exit_code == 2
    assert "un_fichier.txt" in flat(result.output) and "pas un dossier" in flat(result.output)


def _convert_into(args: tuple[str, str]) -> list[str]:
    path, out = args
    return [p.name for p in api.convert(Path(path), Path(out), DAY).files]


def test_two_runs_at_once_never_share_a_name(tmp_path):
    paths = [workbook(tmp_path / f"run{n}.xlsx", seed_001_rows(f"0000{n}")) for n in range(1, 5)]
    out = tmp_path / "depot"
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        names = pool.map(_convert_into, [(str(p), str(out)) for p in paths])
    flat = [n for group in names for n in group]
    assert len(flat) == len(set(flat)) == 4
    assert sorted(p.name for p in out.glob("JSON-*.json")) == sorted(flat)


# ------------------------------------------------------------------ the CLI boundary


CORPUS_CASES = {
    "vide.xlsx": b"",
    "texte.csv": b"a;b\n1;2\n",
    "abime.xlsx": b"PK\x03\x04" + b"\x00" * 300,
    "ole.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
    "binaire.bin": bytes(range(256)) * 4,
}


@pytest.mark.parametrize("name", sorted(CORPUS_CASES))
@pytest.mark.parametrize("command", ["verifier", "convertir"])
def test_cli_never_shows_a_traceback(tmp_path, name, command):
    path = tmp_path / name
    path.write_bytes(CORPUS_CASES[name])
    args = [command, str(path)] + (["-o", str(tmp_path / "depot")] if command == "convertir" else [])
    result = cli(*args)
    assert result.exit_code == 2 and ("Erreur" in result.output or "ERREUR" in result.output)
    assert name in flat(result.output)


def test_cli_turns_an_unexpected_failure_into_a_french_message(tmp_path, monkeypatch):
    path = workbook(tmp_path / "ok.xlsx", seed_001_rows())

    def boom(*_a, **_k):
        raise ValueError("valeur inattendue dans la bibliothèque")
    monkeypatch.setattr(reading.fastexcel, "read_excel", boom)
    with pytest.raises(WorkbookError):  # the library says what happened …
        read_workbook(path)
    monkeypatch.setattr(api, "check", boom)
    result = cli("verifier", str(path))  # … and the CLI never shows a traceback
    assert result.exit_code == 2 and "n'a pas pu être traité" in flat(result.output)


@pytest.mark.parametrize("failure, shown", [
    (FileNotFoundError("templates/ is missing from the installation"), "templates/ is missing from the installation"),
    (PermissionError(13, "Permission denied", "/ailleurs/verrou"), "« /ailleurs/verrou » : "),
])
def test_an_os_error_names_the_path_it_is_about_never_the_workbook_by_default(tmp_path, monkeypatch, failure, shown):
    """An OSError raised with a plain message (no path, no errno: a broken installation) said
    « <the workbook> : FileNotFoundError. Vérifiez le chemin », blaming a file that was there.
    It now says what it is; one about a path names that path."""
    path = workbook(tmp_path / "ok.xlsx", seed_001_rows())

    def boom(*_a, **_k):
        raise failure
    monkeypatch.setattr(api, "check", boom)
    result = cli("verifier", str(path))
    assert result.exit_code == 2 and shown in flat(result.output)
    assert "Traceback" not in result.output


def test_cli_via_subprocess_has_no_traceback(tmp_path):
    path = tmp_path / "vide.xlsx"
    path.write_bytes(b"")
    done = subprocess.run([sys.executable, "-m", "converter", "verifier", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    assert "vide.xlsx" in done.stdout + done.stderr


def _read_by(path: Path, monkeypatch, readers: int):
    """read_workbook with one reader (concurrency.SERIAL) or two (whatever the size): the frames
    and what was found, or the issues refusing the workbook; and the readers opened."""
    opened = []
    monkeypatch.setattr(reading, "_open", lambda *a, _open=reading._open: opened.append(1) or _open(*a))
    monkeypatch.setattr(concurrency, "SERIAL", readers == 1)
    monkeypatch.setattr(concurrency, "TWO_READERS_FROM", 0)
    try:
        raw = read_workbook(path, then=check_sheet)
    except WorkbookError as exc:
        return [i.render() for i in exc.issues], len(opened)
    found = (raw.letters, raw.padded, raw.formulas, raw.renamed, sorted(raw.ahead))
    return ({name: frame.rows() for name, frame in raw.frames.items()}, list(raw.frames), found), len(opened)


def _headless(data: bytes) -> bytes:
    """A sheet whose first column lost its header."""
    return re.sub(rb'<c r="A1"[^>]*?(?:/>|>.*?</c>)', b"", data, count=1, flags=re.S)


@pytest.mark.parametrize("breaks", [
    [],  # padded identifiers, cells in error, an unsaved formula: found by either reader
    [("Scénarios", _headless)],  # the second reader's sheet fails: reported
    [("OG", _headless), ("Scénarios", _headless)],  # both: the first in the format's order
    [("Demandes", lambda data: data.replace(b"</sheetData>", b'<row r="1048576"><c r="T1048576" t="inlineStr">'
                                             b'<is><t>x</t></is></c></row></sheetData>')),
     ("FINESS Géo", _headless)],  # an extent refused before fastexcel reads the sheet
])
def test_two_readers_read_what_one_reads(tmp_path, monkeypatch, breaks):
    """A large workbook is read by two fastexcel readers in two threads (concurrency.two_readers),
    the second loading the format's last sheets: the same frames, the same findings, and, when
    sheets are broken, the same error, the first sheet that fails in the format's order."""
    rows = seed_001_rows()
    path = workbook(tmp_path / "deux.xlsx", merge(rows, seed_001_rows("00002")))
    set_cell(path, "OG", "B2", '<c r="B2"><v>10000024</v></c>')
    set_cell(path, "FINESS Géo", "B3", '<c r="B3" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
    set_cell(path, "Scénarios", "C2", '<c r="C2"><f>"DUR"&amp;"AND"</f></c>')
    for sheet, edit in breaks:
        rewrite(path, members(path)[sheet], edit)
    one, opened_one = _read_by(path, monkeypatch, readers=1)
    two, opened_two = _read_by(path, monkeypatch, readers=2)
    assert (opened_one, opened_two) == (1, 2) and two == one
    if breaks:
        assert f"« {breaks[0][0]} »" in one[0]
    else:
        assert one[2][1:3] == ({"OG": {"FINESSJuridique": [2]}}, {"Scénarios": {"ancienneVersion": [2]}})


@pytest.mark.parametrize("command", ["convertir", "verifier"])
def test_a_report_that_cannot_be_written_is_refused_before_anything_is_written(tmp_path, command):
    """--rapport under a name that is a file: the deposit files were written and recorded, then
    the command ended in « impossible d'écrire » on the report (exit 2), as if it had failed.
    It now refuses at once, and writes nothing."""
    path = workbook(tmp_path / "ok.xlsx", seed_001_rows())
    (tmp_path / "occupe").write_text("un fichier, pas un dossier")
    depot = tmp_path / "depot"
    args = [command, str(path), "--rapport", str(tmp_path / "occupe" / "r.json")]
    result = cli(*args, *(["-o", str(depot), "--date-depot", "20240312"] if command == "convertir" else []))
    assert result.exit_code == 2 and "impossible d'écrire dans le dossier" in flat(result.output)
    assert "Fichiers de dépôt écrits" not in result.output and not depot.exists()
    ok = cli(*args[:2], "--rapport", str(tmp_path / "rapports" / "r.json"),
             *(["-o", str(depot), "--date-depot", "20240312"] if command == "convertir" else []))
    assert ok.exit_code == 0 and (tmp_path / "rapports" / "r.json").is_file()
    assert sorted(p.name for p in (tmp_path / "rapports").iterdir()) == ["r.json"]  # no lock left behind


def test_a_truncated_workbook_is_said_incomplete_in_french(tmp_path):
    # « archive endommagée : File is not a zip file »: zipfile's English in a French message
    whole = workbook(tmp_path / "bon.xlsx", seed_001_rows()).read_bytes()
    cut = tmp_path / "coupe.xlsx"
    cut.write_bytes(whole[:len(whole) // 2])
    text = unreadable(cut, "fichier_illisible")
    assert "fichier incomplet" in text and "zip file" not in text


def test_a_shared_strings_count_no_memory_can_hold_is_refused_in_french(tmp_path):
    # fastexcel reserves room for the announced count before reading one text: a damaged
    # uniqueCount ended the real command on « memory allocation … failed » and a Rust backtrace
    path = workbook(tmp_path / "compte.xlsx", seed_001_rows())
    rewrite(path, "xl/sharedStrings.xml", lambda data: re.sub(rb'uniqueCount="\d+"', b'uniqueCount="99999999999"', data))
    done = subprocess.run([sys.executable, "-m", "converter", "verifier", str(path)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert done.returncode == 2, done.stderr[-2000:]
    assert "annonce 99999999999 textes" in done.stdout + done.stderr
    assert "memory allocation" not in done.stderr and "backtrace" not in done.stderr
    assert "annonce 99999999999 textes" in unreadable(path, "fichier_illisible")


def test_an_xml_declaration_naming_an_unknown_encoding_is_a_damaged_part(tmp_path):
    path = workbook(tmp_path / "encodage.xlsx", seed_001_rows())
    rewrite(path, "xl/workbook.xml", lambda data: re.sub(rb'encoding="[^"]*"', b'encoding="time"', data, count=1))
    assert "mal formé" in unreadable(path, "fichier_illisible")


def _ods_content_edited(path: Path, edit, member: str = "content.xml") -> Path:
    """libreoffice-saisie.ods with its content.xml (or `member`) edited, in a zip otherwise whole."""
    source = zipfile.ZipFile(CORPUS / "libreoffice-saisie.ods")
    with zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            data = source.read(info.filename)
            out.writestr(info.filename, edit(data) if info.filename == member else data,
                         compress_type=zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED)
    return path


def _verified_in_a_process(path: Path) -> str:
    """What `xl2segur verifier` says of `path`, run in its own process: one that fastexcel
    reads forever is killed after a minute (no Ctrl-C reaches it), failing the test."""
    done = subprocess.run([sys.executable, "-m", "converter", "verifier", str(path)],
                          capture_output=True, text=True, timeout=60, cwd=path.parent,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert done.returncode == 2
    return done.stdout + done.stderr


def test_an_ods_whose_content_stops_inside_a_note_is_refused_not_read_forever(tmp_path):
    # a content.xml cut short in a whole zip (a program that stopped writing it): cut inside a
    # cell's note (every header of the template has one), fastexcel read it forever, and no
    # Ctrl-C reaches it there
    def cut(content: bytes) -> bytes:
        return content[:re.search(rb"<office:annotation[^>]*>.*?<text:p[^>]*>", content).end() + 5]

    path = _ods_content_edited(tmp_path / "coupe.ods", cut)
    assert "s'arrête avant la fin" in _verified_in_a_process(path)
    assert "s'arrête avant la fin" in unreadable(path, "fichier_illisible")


def _note_cut_then_a_quote_lost(content: bytes) -> bytes:
    # found by mutating the XML: `</text:p><text:p text:style-name="P1">` of a note cut into
    # `<">`, one quote lost further on; fastexcel took the XML between the two for one tag's
    # attributes, the note's closing tag among it
    content = content.replace(b'</text:p><text:p text:style-name="P1">Format', b'<">Format', 1)
    last = content.rfind(b'table:style-name="ro2"')
    return content[:last] + b'table:style-name=ro2"' + content[last + len(b'table:style-name="ro2"'):]


def _last_note_unclosed(content: bytes) -> bytes:
    last = content.rfind(b"</office:annotation>")
    return content[:last] + content[last + len(b"</office:annotation>"):]


def _last_sheet_unclosed(content: bytes) -> bytes:
    last = content.rfind(b"</table:table>")
    return content[:last] + content[last + len(b"</table:table>"):]


def _hidden(tag: bytes, opening: bytes, closing: bytes):
    """The last `tag` of content.xml hidden from an XML reader inside `opening`…`closing`,
    where a search of the bytes still finds it."""
    def damage(content: bytes) -> bytes:
        last = content.rfind(tag)
        return content[:last] + opening + tag + closing + content[last + len(tag):]
    damage.__name__ = f"_hidden_{opening.decode()}"
    return damage


@pytest.mark.parametrize("damage", [
    _note_cut_then_a_quote_lost, _last_note_unclosed, _last_sheet_unclosed,
    # each hid the closing tag from fastexcel, not from the scan's searches of the bytes
    _hidden(b"</table:table>", b"<!--", b"-->"), _hidden(b"</table:table>", b'<x a="', b'"/>'),
    _hidden(b"</office:annotation>", b"<![CDATA[", b"]]>")])
def test_an_ods_whose_content_fastexcel_would_read_forever_is_refused_as_malformed(tmp_path, monkeypatch, damage):
    # each made fastexcel (calamine) read past the end of content.xml forever, waiting for the
    # end of a note or of the last sheet; expat, fed each piece the scan reads, refuses them
    path = _ods_content_edited(tmp_path / "abime.ods", damage)
    assert "mal formé" in _verified_in_a_process(path)
    assert "mal formé" in unreadable(path, "fichier_illisible")
    monkeypatch.setattr(concurrency, "CHECK_ASIDE_FROM", 0)  # checked in a second process, as a large one
    assert "mal formé" in unreadable(path, "fichier_illisible")


def test_an_ods_whose_sheet_tag_is_renamed_is_read_without_that_sheet(tmp_path):
    # well-formed, the first sheet's tag renamed (`table:tablex`, closed so): its rows came
    # before any sheet, and the scan stopped on a TypeError (« Erreur inattendue »)
    def renamed(content: bytes) -> bytes:
        at, end = content.index(b"<table:table "), content.index(b"</table:table>")
        return (content[:at] + b"<table:tablex " + content[at + 13:end] + b"</table:tablex>"
                + content[end + len(b"</table:table>"):])

    outcome = api.verify(_ods_content_edited(tmp_path / "renomme.ods", renamed))
    assert outcome.unreadable and [i.code for i in outcome.errors] == ["feuille_manquante"]


@pytest.mark.parametrize("aside", [False, True])
def test_an_ods_whose_doctype_follows_a_long_prolog_is_refused(tmp_path, monkeypatch, aside):
    # check_archive looks for a DOCTYPE in the first 64 Kio of each part only
    def declared(content: bytes) -> bytes:
        at = content.index(b"?>") + 2
        return content[:at] + b"<!--" + b"x" * 70_000 + b'--><!DOCTYPE a [<!ENTITY e "x">]>' + content[at:]

    if aside:  # the second process's verdict: said here, in French
        monkeypatch.setattr(concurrency, "CHECK_ASIDE_FROM", 0)
    text = unreadable(_ods_content_edited(tmp_path / "doctype.ods", declared), "fichier_illisible")
    assert "DOCTYPE/ENTITY interdite dans content.xml" in text


@pytest.mark.parametrize("aside", [False, True])
def test_an_ods_whose_notes_are_whole_is_read(tmp_path, monkeypatch, aside):
    # content.xml checked in pieces (or in a second process, as a large one): neither a note
    # nor the end of a sheet is refused for lack of a parser's namespaces, nor a note's end
    # across the rows
    if aside:
        monkeypatch.setattr(concurrency, "CHECK_ASIDE_FROM", 0)
    path = _ods_content_edited(tmp_path / "entier.ods", lambda content: content)
    outcome, saved = api.verify(path), api.verify(CORPUS / "libreoffice-saisie.ods")
    assert not outcome.unreadable and outcome.demandes == saved.demandes > 0
    assert [i.code for i in outcome.issues] == [i.code for i in saved.issues]


@pytest.mark.parametrize("member", ["styles.xml", "meta.xml", "settings.xml", "META-INF/manifest.xml"])
def test_an_ods_whose_styles_or_settings_are_malformed_is_refused_as_an_xlsx_is(tmp_path, member):
    # found by mutating the XML: a quote typed into a tag of styles.xml; LibreOffice opens no
    # such file (« source file could not be loaded »), an .xlsx of malformed styles is refused,
    # the .ods was converted and its demandes deposited
    def spoiled(data: bytes) -> bytes:
        at = data.index(b"<", 200)
        return data[:at + 1] + b'"' + data[at + 1:]

    path = _ods_content_edited(tmp_path / "abime.ods", spoiled, member)
    assert "mal formé" in unreadable(path, "fichier_illisible")
