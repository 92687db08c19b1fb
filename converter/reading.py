"""Reading a user's workbook into one Polars frame of text columns per sheet.

Every cell is read as text (fastexcel, `dtypes="string"`): the checks decide what a value
means. Each frame keeps `__row`, the row number in the user's workbook, so every message
points at the cell the user sees. Problems that make the whole workbook unusable raise
`WorkbookError` with French issues (exit code 2).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from xml.etree import ElementTree

import fastexcel
import polars as pl

from .formats.model import column_letter
from .formats import FormatDefinition, Sheet, UnknownFormat, common_header, get_format
from .issues import Issue, issue

ROW = "__row"
HEADER_SHEET = "Entête"

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"


class WorkbookError(Exception):
    """The workbook cannot be used at all; `issues` say why, in French."""

    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(i.render() for i in issues))
        self.issues = issues


@dataclass
class RawWorkbook:
    path: Path
    definition: FormatDefinition
    frames: dict[str, pl.DataFrame]  # sheet name → text columns (balises) + __row
    letters: dict[str, dict[str, str]]  # sheet name → balise → column letter in the user's sheet

    def letter(self, sheet: str, balise: str) -> str:
        return self.letters[sheet].get(balise) or self.definition.by_name[sheet].column_letter(balise)


def _fail(code: str, path: Path, **kw) -> WorkbookError:
    return WorkbookError([issue(code, file=str(path), **kw)])


def _check_container(path: Path) -> None:
    if not path.is_file():
        raise _fail("fichier_introuvable", path)
    with path.open("rb") as fh:
        head = fh.read(8)
    suffix = path.suffix.lower()
    if head.startswith(_OLE_MAGIC):
        if suffix in (".xlsx", ".xlsm"):  # an encrypted OOXML package is an OLE container
            raise _fail("classeur_protege", path)
        raise _fail("format_non_pris_en_charge", path, detail=f"« {suffix or 'sans extension'} » (ancien format Excel)")
    if suffix in (".ods", ".csv", ".xls", ".txt", ".json"):
        raise _fail("format_non_pris_en_charge", path, detail=f"« {suffix} »")
    if not head.startswith(_ZIP_MAGIC):
        detail = "fichier vide" if not head else "ce n'est pas un fichier .xlsx"
        raise _fail("fichier_illisible", path, detail=detail)


_SHEET_REL = re.compile(rb"<(?:\w+:)?row\b[^>]*\br=\"(\d+)\"[^>]*>(.*?)</(?:\w+:)?row>", re.S)
_CELL_VALUE = re.compile(rb"<(?:\w+:)?(?:v|t)\b[^>]*>[^<]")


def _header_rows(path: Path, names: list[str]) -> dict[str, int]:
    """Row number of the first non-empty row of each sheet (fastexcel skips leading blanks)."""
    rows: dict[str, int] = {}
    with zipfile.ZipFile(path) as zf:
        ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
              "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
        book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels}
        for sheet in book.iterfind("m:sheets/m:sheet", ns):
            name = sheet.get("name")
            if name not in names:
                continue
            target = targets.get(sheet.get(f"{{{ns['r']}}}id"), "")
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            rows[name] = 1
            with zf.open(member) as fh:
                chunk = b""
                while len(chunk) < 4_000_000:
                    block = fh.read(65536)
                    if not block:
                        break
                    chunk += block
                    found = next((m for m in _SHEET_REL.finditer(chunk) if _CELL_VALUE.search(m.group(2))), None)
                    if found:
                        rows[name] = int(found.group(1))
                        break
    return rows


def _clean_header(name: str) -> str:
    return re.sub(r"[\s\u00a0\u202f\u200b\u200c\u200d\ufeff]+", " ", str(name)).strip()


def _load(reader: fastexcel.ExcelReader, path: Path, sheet: Sheet, first_row: int) -> tuple[pl.DataFrame, dict[str, str]]:
    try:
        loaded = reader.load_sheet(sheet.name, dtypes="string")
        positions = {c.name: c.absolute_index for c in loaded.available_columns()}
        frame = loaded.to_polars()
    except Exception as exc:  # fastexcel raises its own types for malformed sheets
        raise _fail("fichier_illisible", path, sheet=sheet.name, detail=str(exc).splitlines()[0][:200]) from exc
    columns: dict[str, str] = {}
    for name in frame.columns:
        columns.setdefault(_clean_header(name), name)
    missing = [b for b in sheet.balises if b not in columns]
    if missing:
        raise WorkbookError([
            issue("colonne_manquante", file=str(path), sheet=sheet.name, row=first_row, balise=b)
            for b in missing
        ])
    frame = frame.select(
        [pl.col(columns[b]).cast(pl.String).alias(b) for b in sheet.balises]
    ).with_row_index(ROW, offset=first_row + 1).with_columns(pl.col(ROW).cast(pl.Int64))
    blank = pl.all_horizontal(
        pl.col(b).is_null() | (pl.col(b).str.replace_all(r"[\s\u00a0\u202f\u200b\u200c\u200d\ufeff]", "") == "")
        for b in sheet.balises
    )
    letters = {b: column_letter(positions[columns[b]]) for b in sheet.balises if columns[b] in positions}
    return frame.filter(~blank), letters


def read_workbook(path: Path, definition: FormatDefinition | None = None) -> RawWorkbook:
    """Read every sheet of the format; the format comes from the Entête sheet unless given."""
    path = Path(path)
    _check_container(path)
    try:
        reader = fastexcel.read_excel(path)
        names = reader.sheet_names
    except Exception as exc:
        raise _fail("fichier_illisible", path, detail=str(exc).splitlines()[0][:200]) from exc
    if HEADER_SHEET not in names:
        raise _fail("feuille_manquante", path, sheet=HEADER_SHEET)
    try:
        first_rows = _header_rows(path, names)
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError) as exc:
        raise _fail("fichier_illisible", path, detail=str(exc)[:200]) from exc

    header_sheet = definition.header if definition else format_only_header()
    header, _ = _load(reader, path, header_sheet, first_rows.get(HEADER_SHEET, 1))
    if definition is None:
        fmt = header["format"].drop_nulls().str.strip_chars().to_list()[:1]
        if not fmt:
            raise _fail("entete_vide", path, sheet=HEADER_SHEET)
        try:
            definition = get_format(fmt[0])
        except UnknownFormat:
            raise _fail("format_inconnu", path, sheet=HEADER_SHEET, row=int(header[ROW][0]),
                        column=common_header().column_letter("format"), balise="format", value=fmt[0]) from None
    header, header_letters = _load(reader, path, definition.header, first_rows.get(HEADER_SHEET, 1))
    if header.height == 0:
        raise _fail("entete_vide", path, sheet=HEADER_SHEET)

    frames = {HEADER_SHEET: header.head(1)}
    letters = {HEADER_SHEET: header_letters}
    missing = [s for s in definition.sheets if s.name not in names and not s.optional]
    if missing:
        raise WorkbookError([issue("feuille_manquante", file=str(path), sheet=s.name) for s in missing])
    for sheet in definition.sheets:
        if sheet.name in names:
            frames[sheet.name], letters[sheet.name] = _load(reader, path, sheet, first_rows.get(sheet.name, 1))
        else:
            letters[sheet.name] = {}
            frames[sheet.name] = pl.DataFrame(
                {**{b: pl.Series([], dtype=pl.String) for b in sheet.balises}, ROW: pl.Series([], dtype=pl.Int64)}
            )
    if frames[definition.demandes.name].height == 0:
        raise _fail("aucune_demande", path, sheet=definition.demandes.name)
    return RawWorkbook(path=path, definition=definition, frames=frames, letters=letters)


def format_only_header() -> Sheet:
    """The Entête sheet reduced to its `format` column, read before the format is known."""
    header = common_header()
    return replace(header, fields=tuple(f for f in header.fields if f.balise == "format"))
