"""Reading a user's workbook into one Polars frame of text columns per sheet.

Every cell is read as text (fastexcel, `dtypes="string"`): the checks decide what a value
means. Each frame keeps `__row`, the row number in the user's workbook, so every message
points at the cell the user sees. Problems that make the whole workbook unusable raise
`WorkbookError` with French issues (exit code 2).

A workbook is untrusted input. Before fastexcel touches it, the package is checked
(container.py): its kind (an `.xls`, `.csv` or encrypted file gets its own message; an `.ods`
of LibreOffice Calc is read as an `.xlsx`, its content.xml scanned as the sheets below), its
zip central directory (total uncompressed size, compression ratio, member count: no zip
bomb), its XML prologs (no DOCTYPE/ENTITY); then each sheet's extent (a stray value in row
1,048,576 must not make the reader allocate a million empty rows). The sheet XML is also
streamed once to find the first non-empty row, cells holding a formula error (fastexcel reads
them as empty) and, only when an identifier looks too short, whether it was typed as a number
(its leading zeros were lost), or when a value has more digits than a spreadsheet shows,
whether it is a number (read as shown: `number_as_shown`), or when a column that is not a
boolean one holds true/false (1/0), whether it is a boolean cell (read VRAI / FAUX). The
limits are the constants here and in container.py; the README (« Classeurs difficiles et
limites ») documents them.

A cell is placed by its own reference (`<c r="D7">`), even inside another row's tag: LibreOffice
reads such a hand-made file the same way (the later of two cells of one reference wins in
both), so the rows checked are the rows the user's spreadsheet shows.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import re
import sys
import threading
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from functools import cache, partial
from difflib import get_close_matches
from pathlib import Path

from defusedxml import DefusedXmlException
from xml.etree.ElementTree import ParseError

import fastexcel
import polars as pl

from . import concurrency, container, launch
from .formats.model import Field, column_letter
from .formats import FormatDefinition, Sheet, UnknownFormat, all_formats, common_header, typed_format
from .issues import Issue, issue
from .kinds import IDENTIFIER_WIDTHS, KINDS, MAX_LOST_ZEROS, as_typed

ROW = "__row"
HEADER_SHEET = "Entête"
# calamine logs in English what it repairs (an .ods row repeated past the last row): the
# French messages say what matters; a program that configures logging still gets them
logging.getLogger("calamine").addHandler(logging.NullHandler())

# --- Limits of a sheet's extent (documented in the README, « Classeurs difficiles et limites »);
# those of the package are in container.py
MAX_DATA_ROWS = 1_000_000  # data rows per sheet (Excel's own maximum is 1,048,576 rows); 100,000 demandes
# × 3 ESMS already fill 300,000 rows of FINESS Géo and Scénarios (issue #6: large vendors)
MAX_SHEET_CELLS = 10_000_000  # rows × columns of the area holding values, per sheet
MAX_MERGED = MAX_DATA_ROWS  # merged ranges looked at a sheet (one a row); beyond, a damaged file's, left out

Value = TypeVar("Value")
_SPACES = r"[\s\u00a0\u202f\u200b\u200c\u200d\u2060\ufeff]"


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
    # sheet → balise → rows whose identifier was typed as a number and got its leading zeros back, or
    # whose date cell in a text column was read as the sheet shows it (the kind's PADDED_CODE warns)
    padded: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    # sheet → balise → rows holding a formula saved without its value (SheetScan.formulas)
    formulas: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    # sheet → balise → row → the text a cell of a kind with a SHOWN_CODE shows, when its number
    # format shows another number than it holds (an amount: SheetScan.shown), or a date with its
    # month before its day (SheetScan.month_first); the kind warns
    shown: dict[str, dict[str, dict[int, str]]] = field(default_factory=dict)
    # sheet → the rows the sheet hides (hidden, or filtered out): read and deposited all the same
    hidden: dict[str, list[int]] = field(default_factory=dict)
    # sheet → the balises whose column the sheet hides: read and deposited all the same
    hidden_columns: dict[str, list[str]] = field(default_factory=dict)
    # sheet → the balises whose column is narrower than a millimetre, not hidden: the same
    narrow_columns: dict[str, list[str]] = field(default_factory=dict)
    # sheet → its merged ranges (SheetScan.merged): the values of the cells a range covers
    # beyond its first are read and deposited all the same
    merged: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)
    # sheet → balise → row → what a cell shows whose number format shows none of its value
    # (« ;;; » nothing, « "à venir" » that text: SheetScan.masked); its value is deposited all the same
    masked: dict[str, dict[str, dict[int, str]]] = field(default_factory=dict)
    # sheet → the name it bears in the user's workbook, when it differs by accents or case only
    renamed: dict[str, str] = field(default_factory=dict)
    # sheet → the Future of `then(raw, sheet)` (read_workbook), started once the sheet was read
    ahead: dict[str, Future[Any]] = field(default_factory=dict)

    def letter(self, sheet: str, balise: str) -> str:
        return self.letters[sheet].get(balise) or self.definition.by_name[sheet].column_letter(balise)


def _fail(code: str, path: Path, **kw) -> WorkbookError:
    return WorkbookError([issue(code, file=str(path), **kw)])


def _malformed(path: Path) -> WorkbookError:
    """The refusal of a package whose XML is malformed."""
    return _fail("fichier_illisible", path, detail=f"archive endommagée : {_damage(ParseError())}")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _fatal(exc: BaseException) -> bool:
    """Exceptions never turned into a French message (Ctrl-C, exit)."""
    return isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit))


# ---------------------------------------------------------------- the container


def _refused(path: Path, check: Callable[..., Any], *args: Any) -> Any:
    """`check(path, *args)` of container.py, a refusal as a WorkbookError."""
    try:
        return check(path, *args)
    except container.Refused as refused:
        raise _fail(refused.code, path, **refused.details) from None


def _check_container(path: Path) -> None:
    _refused(path, container.check_container)


def _check_archive(path: Path, zf: zipfile.ZipFile) -> None:
    _refused(path, container.check_archive, zf)


def _check_package(path: Path, zf: zipfile.ZipFile) -> dict[str, str]:
    return _refused(path, container.check_package, zf)


# ---------------------------------------------------------------- one pass over a sheet's XML

_ROW_WITH_CELLS = re.compile(rb"<(?:\w+:)?row\b[^>]*\br=\"(\d+)\"[^>]*>(.*?)</(?:\w+:)?row>", re.S)
_CELL_VALUE = re.compile(rb"<(?:\w+:)?(?:v|t)\b[^>]*>[^<]")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*\bref=\"([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?\"")
_VALUE_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{1,3})(\d+)\"[^>]*?(?<!/)>")
_ERROR_CELL = re.compile(
    rb"<(?:\w+:)?c\b(?=[^>]*\bt=\"e\")[^>]*?\br=\"([A-Z]{1,3})(\d+)\"[^>]*?(?<!/)>(.*?)</(?:\w+:)?c>", re.S)
_V = re.compile(rb"<(?:\w+:)?v>([^<]*)<")
_CELL_WITH_BODY = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?<!/)>(.*?)</(?:\w+:)?c>", re.S)
_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>([^<]*)<)")
_HAS_VALUE = re.compile(rb"<(?:\w+:)?v>|<(?:\w+:)?is\b")  # `<v/>`, `<v />`: no value saved
_CELL_TAG = re.compile(rb"<(?:\w+:)?c\b([^>]*)>")
_REF = re.compile(rb"\br=\"([A-Z]{1,3})(\d+)\"")
_ROW_NUMBER = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"(\d+)\"")
_BEYOND_XFD = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{4,}\d+)\"")
_TYPE = re.compile(rb"\bt=\"(\w+)\"")
_ROW_CLOSE_BEFORE = re.compile(rb"</(?:\w+:)?$")  # what precedes "row>" in a closing tag


def column_index(letters: str) -> int:
    """
    >>> column_index("A"), column_index("AA"), column_index("XFD")
    (0, 26, 16383)
    """
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _row_chunks(zf: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    """The sheet XML in pieces that end after a complete `</row>` (the last piece: the rest)."""
    rest = b""
    for block in container.member_chunks(zf, member):
        buf = rest + block
        cut = buf.rfind(b"row>")
        while cut >= 0 and not _ROW_CLOSE_BEFORE.search(buf[max(0, cut - 24):cut]):
            cut = buf.rfind(b"row>", 0, cut)
        if cut < 0:
            rest = buf
            continue
        yield buf[:cut + 4]
        rest = buf[cut + 4:]
    if rest:
        yield rest


@dataclass
class SheetScan:
    first_row: int = 1  # first row holding a value (fastexcel skips the blank ones before it)
    errors: dict[tuple[str, int], str] = field(default_factory=dict)  # (letter, row) → "#N/A"
    # formulas saved without their value (a workbook written by a program, never opened in
    # Excel): (letter, row) → "=A1+1"; fastexcel reads them as empty
    formulas: dict[tuple[str, int], str] = field(default_factory=dict)
    # time cells of an .ods (fastexcel reads them as empty): (letter, row) → their value as
    # fastexcel gives a time cell of an .xlsx, « 1899-12-31 14:30:00 »
    times: dict[tuple[str, int], str] = field(default_factory=dict)
    extent: tuple[int, int] | None = None  # (rows, columns) of the area holding values
    value_rows: int | None = None  # rows holding a value (only when the extent was measured)
    far_cell: str | None = None  # the farthest cell holding a value (only when measured)
    beyond_xfd: str | None = None  # a cell right of the last column a sheet has (XFD): a damaged file
    # cells of an .xlsx whose formula is TRUE() or FALSE(), saved with their value: a program
    # may save it as the number 1 or 0, which fastexcel reads so (_booleans_as_shown)
    boolean_formulas: set[tuple[str, int]] = field(default_factory=set)
    # cells holding a number, and a boolean, listed by _scan_ods(listing=True); None: not listed
    numeric: set[tuple[str, int]] | None = None
    booleans: set[tuple[str, int]] | None = None
    # numbers shown as a percentage (0.3 shown « 30 % »): (letter, row) → the text the sheet
    # shows; fastexcel reads the number, an amount of 0.30 €
    percents: dict[tuple[str, int], str] = field(default_factory=dict)
    # numbers whose format shows fewer decimals than they hold (4866.67 shown « 4867 » by the
    # format « 0 »): (letter, row) → the text the sheet shows; the number is read as it is held
    shown: dict[tuple[str, int], str] = field(default_factory=dict)
    # numbers of more decimals than fastexcel gives (it rounds to 9: 4866.6700000001 typed is
    # read 4866.67): (letter, row) → the number to the 15 significant digits a spreadsheet keeps
    digits: dict[tuple[str, int], str] = field(default_factory=dict)
    # rows the sheet hides (`hidden="1"`: hidden by hand, or filtered out; an .ods's
    # `table:visibility` collapse or filter), when they hold a value
    hidden: set[int] = field(default_factory=set)
    # cells whose date format shows the month before the day (container.month_first): (letter,
    # row, attributes, style, attributes) as found in the XML (a text cell among them, `t="s"`,
    # shows its text), the style a key of `date_formats`, style → the strftime pattern of what
    # such a cell shows
    month_first: list[tuple[bytes, bytes, bytes, bytes, bytes]] = field(default_factory=list)
    date_formats: dict[bytes, str] = field(default_factory=dict)
    # cells whose number format shows none of their value (« ;;; » shows nothing, « "à venir" »
    # that text; container.masking): (letter, row) → the text shown
    masked: dict[tuple[str, int], str] = field(default_factory=dict)
    # the columns of an .ods sheet whose cells are by default of a style of `date_formats`:
    # (first, last, style), indexes from 0 (_ods_sheet)
    date_columns: list[tuple[int, int, bytes]] = field(default_factory=list)
    # columns the sheet hides (`<col hidden="1">`; an .ods's `table:table-column` of
    # `table:visibility="collapse"`): (first, last) column indexes from 0, whether or not they hold a value
    hidden_columns: list[tuple[int, int]] = field(default_factory=list)
    # columns narrower than a millimetre, not hidden (`<col width="0">`; an .ods's column style of
    # `style:column-width="0cm"`): (first, last) column indexes from 0; the user sees none of them either
    narrow_columns: list[tuple[int, int]] = field(default_factory=list)
    # merged ranges (`<mergeCell ref="L2:M2"/>`; an .ods's cell of `table:number-columns-spanned`,
    # `…-rows-spanned`): (first column index from 0, first row, last column index, last row); the
    # sheet shows the first cell's value over the range, the others' values are read all the same
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)

    def hides_column(self, letter: str) -> bool:
        index = column_index(letter)
        return any(first <= index <= last for first, last in self.hidden_columns)

    def narrows_column(self, letter: str) -> bool:
        index = column_index(letter)
        return any(first <= index <= last for first, last in self.narrow_columns) and not self.hides_column(letter)


def _scan_sheet(zf: zipfile.ZipFile, member: str, trust_dimension: bool = True,
                styles: container.NumberStyles | None = None) -> SheetScan:
    """The sheet's SheetScan; `styles`: container.number_styles."""
    styles = styles or container.NumberStyles()
    scan = SheetScan(date_formats={b"%d" % style: shows for style, shows in styles.month_first.items()})
    month_first = _month_first_cells(tuple(styles.month_first)) if styles.month_first else None
    styled = [(b' s="%d"' % style, decimals) for style, decimals in styles.percents.items()]
    rounded = _rounded_cells(tuple((s, k) for s, (_, k) in styles.rounding.items())) if styles.rounding else None
    found_first = False
    head = True  # the first piece: it holds all that comes before the rows (`<cols>`)
    measure: bool | None = None if trust_dimension else True
    row_tags, dimension_rows = 0, 0
    wider: re.Pattern[bytes] | None = None  # a cell reference of more letters than the dimension's last column
    last_rows = b""  # the last piece holding rows (trusted dimension)
    top = left = 1 << 30
    bottom = right = before_bottom = before_right = -1  # before_…: the farthest value row and column but one
    down = across = ""  # a cell of the bottom row, the cell of the rightmost column
    last_row, value_rows = -1, 0
    for chunk in _row_chunks(zf, member):
        if measure is None:  # the dimension comes before sheetData: trust it when it is small
            dim = _DIMENSION.search(chunk)
            if dim:
                c1, r1 = column_index(dim.group(1).decode()), int(dim.group(2))
                c2 = column_index(dim.group(3).decode()) if dim.group(3) else c1
                r2 = int(dim.group(4)) if dim.group(4) else r1
                rows, cols = r2 - r1 + 1, c2 - c1 + 1
                measure = rows > MAX_DATA_ROWS + 1 or rows * cols > MAX_SHEET_CELLS
                if not measure:
                    scan.extent, dimension_rows = (rows, cols), r2
                    wider = re.compile(rb'r="[A-Z]{%d}' % (len(dim.group(3) or dim.group(1)) + 1))
            else:
                measure = True
        if not found_first:
            hit = next((m for m in _ROW_WITH_CELLS.finditer(chunk) if _CELL_VALUE.search(m.group(2))), None)
            if hit:
                scan.first_row, found_first = int(hit.group(1)), True
        # no lowercase e, no error cell: most chunks (Excel's cell markup has none), told by memchr
        if b"e" in chunk and b't="e"' in chunk:
            for m in _ERROR_CELL.finditer(chunk):
                v = _V.search(m.group(3))
                scan.errors[(m.group(1).decode(), int(m.group(2)))] = _unescape(v.group(1).decode()) if v else "#N/A"
        # no lowercase f, no formula tag: most chunks of a sheet saved by Excel, told by one fast search
        if b"f" in chunk and (b"<f" in chunk or b":f" in chunk):
            _formula_cells(scan, chunk)
        # a style showing a percentage: in no chunk of most workbooks, told by one search each
        for attribute, decimals in styled:
            if attribute in chunk:
                _percent_cells(scan, chunk, attribute, decimals)
        _seen_otherwise(scan, chunk, styles, rounded, month_first, head)
        head = False
        if not measure:  # rows holding cells (`</row>`; `<row>` without attributes counts twice: measured)
            if rows_here := chunk.count(b"row>"):
                row_tags, last_rows = row_tags + rows_here, chunk
            if wider is not None and wider.search(chunk):  # a cell right of what the dimension says: measure
                return _scan_sheet(zf, member, False, styles)
        if measure:
            if beyond := _BEYOND_XFD.search(chunk):  # no spreadsheet writes it; fastexcel would spread every row to it
                scan.beyond_xfd = beyond.group(1).decode()
                return scan
            for m in _VALUE_CELL.finditer(chunk):
                col, row = m.group(1), int(m.group(2))
                c = column_index(col.decode())
                if row != last_row:
                    value_rows, last_row = value_rows + 1, row
                if row > bottom:
                    before_bottom, bottom, down = bottom, row, f"{col.decode()}{row}"
                if c > right:
                    before_right, right, across = right, c, f"{col.decode()}{row}"
                elif before_right < c < right:
                    before_right = c
                top, left = min(top, row), min(left, c)
    if measure:
        scan.value_rows = value_rows
        scan.extent = (bottom - top + 1, right - left + 1) if bottom >= 0 else (0, 0)
        if bottom >= 0:
            scan.far_cell = _far_cell((top, before_bottom, bottom), (left, before_right, right), down, across)
    elif row_tags > dimension_rows or max(map(int, _ROW_NUMBER.findall(last_rows)), default=0) > dimension_rows:
        # more rows than the dimension says, or a last row below it: it lies, measure
        return _scan_sheet(zf, member, False, styles)
    return scan


def _formula_cells(scan: SheetScan, chunk: bytes) -> None:
    """The formula cells of `chunk` saved without their value, listed in `scan.formulas`, and
    those computing TRUE() or FALSE(), in `scan.boolean_formulas`."""
    for m in _CELL_WITH_BODY.finditer(chunk):
        body = m.group(2)
        formula = _FORMULA.search(body)
        ref = _REF.search(m.group(1))
        if formula and ref and not _HAS_VALUE.search(body):
            text = _unescape(formula.group(1).decode()) if formula.group(1) else "…"
            scan.formulas[(ref.group(1).decode(), int(ref.group(2)))] = f"={text}"
        elif formula and ref and formula.group(1) in _BOOLEANS:
            scan.boolean_formulas.add((ref.group(1).decode(), int(ref.group(2))))


def _percent_cells(scan: SheetScan, chunk: bytes, attribute: bytes, decimals: int) -> None:
    """The number cells of `chunk` whose style (`attribute`, ` s="9"`) shows a percentage,
    listed in `scan.percents` as the sheet shows them."""
    for m in _CELL_WITH_BODY.finditer(chunk):
        attrs = m.group(1)
        t, ref, v = _TYPE.search(attrs), _REF.search(attrs), _V.search(m.group(2))
        if attribute in b" " + attrs and ref and v and (t is None or t.group(1) == b"n"):
            scan.percents[(ref.group(1).decode(), int(ref.group(2)))] = _percent(v.group(1).decode(), decimals)


def _seen_otherwise(scan: SheetScan, chunk: bytes, styles: container.NumberStyles,
                    rounded: re.Pattern[bytes] | None, month_first: re.Pattern[bytes] | None,
                    head: bool = False) -> None:
    """What the user sees of `chunk` otherwise than it is held: the number cells whose style
    shows another number (`rounded`: _rounded_cells of `styles.rounding`), those of more
    decimals than fastexcel gives, the cells of a date style showing the month first
    (`month_first`: _month_first_cells of `styles.month_first`), the rows hidden; with `head`
    (the sheet's first piece), the columns hidden or narrower than a millimetre; the merged
    ranges."""
    # a date style showing the month first, a format masking the value: in no chunk of most
    # workbooks, told by one search each
    if month_first is not None and any(b' s="%d"' % style in chunk for style in styles.month_first):
        scan.month_first += month_first.findall(chunk)
    if styles.masked and any(b' s="%d"' % style in chunk for style in styles.masked):
        _masked_cells_of(scan, chunk, styles.masked)
    # a row hidden, or filtered out; a column hidden (`<cols>`, before the rows). No lowercase h, no
    # `hidden="`: the chunks of most sheets (Excel's cell and row markup has none), told by memchr,
    # four times faster than the search it spares
    if b"h" in chunk and b'hidden="' in chunk:
        scan.hidden.update(int(m.group(1)) for m in _HIDDEN_ROW.finditer(chunk))
    # the columns (`<cols>`): before the rows, all in the first piece (_row_chunks cuts after a row)
    if head:
        rows = chunk.find(b"sheetData")
        _columns_unseen(scan, chunk if rows < 0 else chunk[:rows])
    # the merged ranges (`<mergeCells>`): after the rows, in the last piece, the only one that does
    # not end with a row; in it, after its last row
    if not chunk.endswith(b"row>") and b"mergeCell" in (tail := chunk[chunk.rfind(b"row>") + 4:]):
        scan.merged += _merged_ranges(tail)[:MAX_MERGED - len(scan.merged)]
    # a style rounding the number shown: in no chunk of most workbooks, told by one search each
    if rounded is not None and any(b' s="%d"' % style in chunk for style in styles.rounding):
        _rounded_cells_of(scan, chunk, rounded, styles.rounding)
    # a number of more than 9 decimals that count (not 4866.6700000000001, Excel's 4866.67); no
    # point, no number of decimals: the chunks of most sheets (their text is in sharedStrings.xml)
    if b"." in chunk:
        for m in _MORE_DECIMALS.finditer(chunk):
            _more_decimals(scan, chunk, m)


_HIDDEN_ROW = re.compile(rb'<(?:\w+:)?row\b(?=[^>]*\bhidden="(?:1|true)")[^>]*?\br="(\d+)"')
_COLUMN = re.compile(rb'<(?:\w+:)?col\b([^>]*)>')
_COLUMN_SPAN = re.compile(rb'\b(min|max)="(\d+)"')
_COLUMN_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_COLUMN_WIDTH = re.compile(rb'\bwidth="([^"]*)"')
# A column narrower than a millimetre shows nothing of its values, hidden or not. LibreOffice
# (7.4) reads an .xlsx column of width 1 (Excel's unit: a digit of the default font) as 0.0972 in,
# 2.47 mm, and one of width 0.1 as 0.0098 in; a width of 0 as its default width (it shows the
# column; Excel does not)
NARROW_MM = 1.0
_EXCEL_WIDTH_MM = 0.0972 * 25.4


def _columns_unseen(scan: SheetScan, head: bytes) -> None:
    """The columns an .xlsx sheet's `<cols>` (in `head`) hides (`<col min="6" max="7" hidden="1"/>`,
    min and max counted from 1), in `scan.hidden_columns`, and those narrower than a millimetre
    (`width="0"`), in `scan.narrow_columns`: (first, last) indexes from 0.

    >>> scan = SheetScan()
    >>> _columns_unseen(scan, b'<cols><col min="1" max="1" width="9"/><col hidden="1" min="6" max="7"/>'
    ...                 b'<col min="9" max="9" hidden="false"/><col min="10" max="11" width="0" customWidth="1"/></cols>')
    >>> scan.hidden_columns, scan.narrow_columns
    ([(5, 6)], [(9, 10)])
    """
    for m in _COLUMN.finditer(head):
        span = {key: int(value) for key, value in _COLUMN_SPAN.findall(m.group(1))}
        if b"min" not in span:
            continue
        found = (span[b"min"] - 1, min(span.get(b"max", span[b"min"]), 16384) - 1)
        if _COLUMN_HIDDEN.search(m.group(1)):
            scan.hidden_columns.append(found)
        elif (width := _COLUMN_WIDTH.search(m.group(1))) and _narrow(width.group(1), _EXCEL_WIDTH_MM):
            scan.narrow_columns.append(found)


def _narrow(width: bytes, mm: float) -> bool:
    """Whether a width (a number of `mm` millimetres each) is under NARROW_MM.

    >>> _narrow(b"0", 2.47), _narrow(b"0.3", 2.47), _narrow(b"0.5", 2.47), _narrow(b"wide", 2.47)
    (True, True, False, False)
    """
    try:
        return 0 <= float(width) * mm < NARROW_MM
    except ValueError:
        return False


_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3})(\d{1,7}):([A-Z]{1,3})(\d{1,7})"')


def _merged_ranges(tail: bytes) -> list[tuple[int, int, int, int]]:
    """The ranges an .xlsx sheet's `<mergeCells>` (in `tail`) merges: (first column index from
    0, first row, last column index, last row).

    >>> _merged_ranges(b'<mergeCells count="2"><mergeCell ref="L2:M2"/><mergeCell ref="A3:A2"/></mergeCells>')
    [(11, 2, 12, 2), (0, 2, 0, 3)]
    """
    found = []
    for m in _MERGE_CELL.finditer(tail):
        (c1, c2), (r1, r2) = sorted((column_index(m.group(1).decode()), column_index(m.group(3).decode()))), \
            sorted((int(m.group(2)), int(m.group(4))))
        if (c1, r1) != (c2, r2):
            found.append((c1, r1, c2, r2))
    return found


@cache
def _rounded_cells(styles: tuple[tuple[int, int], ...]) -> re.Pattern[bytes]:
    """The style attribute (` s="5"`) of a number cell of one of these styles (style, thousands
    it divides by) holding decimals, or any number when its style divides it (group 1 or 2: its
    number); a formula may come before its value. Begun by the literal ` s="`, what the search
    skips to: begun by the cell's tag, it tried every tag (ten times slower)."""
    def cells(ids: list[int], number: bytes) -> bytes:
        return (b"(?:" + b"|".join(b"%d" % s for s in ids) + rb')"[^>]*?(?<!/)>'
                rb"(?:<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>))?<(?:\w+:)?v>(" + number + rb")</")
    decimals = rb"-?\d+\.\d+(?:[eE][-+]?\d+)?|-?\d+[eE]-\d+"
    divided = [s for s, thousands in styles if thousands]
    return re.compile(rb' s="(?:' + b"|".join([cells([s for s, thousands in styles if not thousands] or [-1], decimals),
                                               *([cells(divided, rb"-?\d[^<]*")] if divided else [])]) + b")")


def _rounded_cells_of(scan: SheetScan, chunk: bytes, cells: re.Pattern[bytes],
                      rounding: dict[int, tuple[int, int]]) -> None:
    """The number cells of `chunk` (`cells`: _rounded_cells) whose style shows another number
    than they hold, listed in `scan.shown` as the sheet shows them."""
    for m in cells.finditer(chunk):
        attrs = chunk[chunk.rfind(b"<", 0, m.start()):chunk.find(b">", m.start())]
        t, ref, style = _TYPE.search(attrs), _REF.search(attrs), _STYLE.search(attrs)
        if ref is None or style is None or (t is not None and t.group(1) != b"n"):
            continue
        decimals, thousands = rounding[int(style.group(1))]
        try:
            held = significant((m.group(1) or m.group(2)).decode())
            shown = (held.scaleb(-3 * thousands)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
        except ArithmeticError:  # 1.5E+400: more digits than a number has, no amount shown rounded
            continue
        if thousands or shown != held:
            scan.shown[(ref.group(1).decode(), int(ref.group(2)))] = f"{shown:f}".replace(".", ",")


@cache
def _month_first_cells(styles: tuple[int, ...]) -> re.Pattern[bytes]:
    """A cell of one of these styles (`<c r="D2" s="5"`, its reference before its style, as
    Excel, LibreOffice, openpyxl and xlsxwriter write it): groups letter, row, the attributes
    between, style, the attributes after (SheetScan.month_first). Begun by the literal ` r="`,
    what the search skips to."""
    return re.compile(rb' r="([A-Z]{1,3})(\d+)"([^>]*?) s="(' + b"|".join(b"%d" % s for s in styles) + rb')"([^>]*)')


_STYLE = re.compile(rb'\bs="(\d+)"')
_TEXT_TYPES = (b"s", b"str", b"inlineStr")


def _masked_cells_of(scan: SheetScan, chunk: bytes, masked: dict[int, tuple[str | None, ...]]) -> None:
    """The cells of `chunk` of a style whose format shows none of their value
    (container.NumberStyles.masked), listed in `scan.masked` with the text they show: a number
    as the section of its sign shows it, a text as the fourth section does."""
    pattern = re.compile(rb' s="(' + b"|".join(b"%d" % s for s in masked) + rb')"')
    for m in pattern.finditer(chunk):
        cell = _CELL_WITH_BODY.match(chunk, chunk.rfind(b"<", 0, m.start()))
        if cell is None or (ref := _REF.search(cell.group(1))) is None:
            continue
        t, v = _TYPE.search(cell.group(1)), _V.search(cell.group(2))
        positive, negative, zero, text = masked[int(m.group(1))]
        if t is not None and t.group(1) in _TEXT_TYPES:
            shown = text
        elif (t is None or t.group(1) == b"n") and v is not None:
            try:
                number = float(v.group(1))
            except ValueError:
                continue
            shown = positive if number > 0 else negative if number < 0 else zero
        else:
            continue
        if shown is not None:
            scan.masked[(ref.group(1).decode(), int(ref.group(2)))] = shown
SHOWN_DIGITS = 15  # the significant digits a spreadsheet shows of a number (Excel keeps no more)
# a number of more than 9 decimals (what fastexcel gives: 4866.6700000001 typed is read 4866.67)
# whose 10th and 11th do not begin a run of 0 or 9: not the binary representation of a number of
# fewer decimals, that Excel writes to 17 significant digits (4866.67 saved 4866.6700000000001).
# Below 100,000 only: above, 9 decimals keep the 15 significant digits a spreadsheet keeps. Not
# in scientific notation: written so, a number is below 0.001, no amount (an error anyway). The
# literal point starts it, what the search skips to: begun with `<v>`, it tried every cell (ten
# times slower), and any alternative beside it made it try every byte
_MORE_DECIMALS = re.compile(rb"\.(?<![0-9]{6}\.)[0-9]{9}(?!00|99)[0-9]")


def significant(number: str) -> Decimal:
    """A number as a spreadsheet keeps it: to `SHOWN_DIGITS` significant digits, the rest the
    noise of its binary representation.

    >>> significant("4866.6700000000001"), significant("19.989999999999998"), significant("4866.6700000001")
    (Decimal('4866.67'), Decimal('19.99'), Decimal('4866.6700000001'))
    >>> significant("0.33333333333333331"), significant("5.0000000000000003E-2"), significant("-8.8000000000000007")
    (Decimal('0.333333333333333'), Decimal('0.05'), Decimal('-8.8'))
    """
    exact = Decimal(number)
    if not exact:
        return Decimal(0)
    return exact.quantize(Decimal(1).scaleb(exact.adjusted() - SHOWN_DIGITS + 1), ROUND_HALF_EVEN).normalize()


def _more_decimals(scan: SheetScan, chunk: bytes, m: re.Match[bytes]) -> None:
    """The number cell of `m` (_MORE_DECIMALS, inside its value), listed in `scan.digits` when
    its significant digits go beyond the 9th decimal fastexcel gives."""
    start, end = chunk.rfind(b">", 0, m.start()) + 1, chunk.find(b"<", m.end())
    if chunk[start - 2:start] != b"v>" or chunk[start - 3:start - 2] not in (b"<", b":"):  # not `<v>`, `<x:v>`
        return
    try:
        held = significant(chunk[start:end].decode())
    except (ArithmeticError, UnicodeDecodeError):  # no number (1E-999999999 neither)
        return
    if held.as_tuple().exponent >= -9:  # fastexcel's text holds every digit
        return
    opening = max(chunk.rfind(b"<c ", 0, start), chunk.rfind(b":c ", 0, start))
    tag = _CELL_TAG.match(chunk, chunk.rfind(b"<", 0, opening + 1)) if opening >= 0 else None
    if tag is None:
        return
    t, ref = _TYPE.search(tag.group(1)), _REF.search(tag.group(1))
    if ref is not None and (t is None or t.group(1) == b"n"):
        scan.digits[(ref.group(1).decode(), int(ref.group(2)))] = f"{held:f}"


def _percent(number: str, decimals: int) -> str:
    """A number as a percentage style shows it, in French.

    >>> _percent("0.3", 0), _percent("0.486667", 2), _percent("-1.5", 0), _percent("1E-3", 1), _percent("x", 0)
    ('30 %', '48,67 %', '-150 %', '0,1 %', 'x')
    """
    try:
        shown = (Decimal(number) * 100).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    except ArithmeticError:
        return number
    return f"{shown:f}".replace(".", ",") + " %"


def _far_cell(rows: tuple[int, int, int], columns: tuple[int, int, int], down: str, across: str) -> str:
    """The cell to name when a sheet's values span too much: `down` (in the bottom row) or
    `across` (in the rightmost column), the one whose removal shrinks the span most. rows:
    (top, the value row before the bottom one, bottom); columns: (left, the value column
    before the rightmost one, rightmost); -1 when there is none before.

    >>> _far_cell((1, 1001, 1048576), (0, 6, 7), "A1048576", "H2"), _far_cell((1, 1000, 1001), (0, 7, 16383), "A1001", "XFD2")
    ('A1048576', 'XFD2')
    """
    (top, before_bottom, bottom), (left, before_right, right) = rows, columns
    without_down = (max(before_bottom, top) - top + 1) * (right - left + 1)
    without_across = (bottom - top + 1) * (max(before_right, left) - left + 1)
    return across if without_across < without_down else down


def _cells_where(zf: zipfile.ZipFile, member: str, wanted: set[tuple[str, int]], cells: re.Pattern[bytes],
                 holds: Callable[[re.Match[bytes]], bool]) -> set[tuple[str, int]]:
    """Which of the wanted cells `holds` (given the cell's match of `cells`, group 1 its tag's
    attributes): the sheet read up to the last row wanted."""
    found: set[tuple[str, int]] = set()
    last = max(r for _, r in wanted)
    for chunk in _row_chunks(zf, member):
        for m in cells.finditer(chunk):
            ref = _REF.search(m.group(1))
            if not ref:
                continue
            key = (ref.group(1).decode(), int(ref.group(2)))
            if key in wanted:
                if holds(m):
                    found.add(key)
            elif key[1] > last:
                return found
    return found


def _numeric_cells(zf: zipfile.ZipFile, member: str, wanted: set[tuple[str, int]]) -> set[tuple[str, int]]:
    """Which of the wanted cells hold a number (no `t`, or `t="n"`) rather than text."""
    def number(m: re.Match[bytes]) -> bool:
        t = _TYPE.search(m.group(1))
        return t is None or t.group(1) == b"n"
    return _cells_where(zf, member, wanted, _CELL_TAG, number)


def _boolean_cells(zf: zipfile.ZipFile, member: str, wanted: set[tuple[str, int]]) -> set[tuple[str, int]]:
    """Which of the wanted cells hold a boolean: `t="b"` (Excel), or the formula TRUE() or
    FALSE() of a number (LibreOffice saves VRAI so)."""
    def boolean(m: re.Match[bytes]) -> bool:
        t, formula = _TYPE.search(m.group(1)), _FORMULA.search(m.group(2))
        return (t is not None and t.group(1) == b"b") or (formula is not None and formula.group(1) in _BOOLEANS)
    return _cells_where(zf, member, wanted, _CELL_WITH_BODY, boolean)


_BOOLEANS = (b"TRUE()", b"FALSE()")
_ODF_NAMESPACES = {
    "table": b"urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": b"urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": b"urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "calcext": b"urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0",
}
_DOCUMENT_END = re.compile(rb"</(?:[\w.-]+:)?document-content>\s*\Z")  # the last tag of a whole content.xml
_ODF_NUMBERS = (b"float", b"percentage", b"currency")
_ODF_BOOLEANS = (b"of:=TRUE()", b"of:=FALSE()")
_ODF_DATES = (b"date", b"time")  # listed among the numbers: an .xlsx holds them as numbers
_XML_SPACE_OR_END = (b" ", b">", b"/", b"\n", b"\r", b"\t")


@dataclass(frozen=True)
class _OdsSyntax:
    """The regular expressions of _scan_ods, for the prefixes a content.xml binds (LibreOffice
    writes table:, office:, text:, calcext:; another program may choose others)."""

    table: re.Pattern[bytes]
    row_open: bytes  # `<table:table-row`
    column: re.Pattern[bytes]  # `<table:table-column …>` (group 1: its attributes)
    default_style: re.Pattern[bytes]  # `table:default-cell-style-name` of a column (group 1)
    cell_style: re.Pattern[bytes]  # `table:style-name` of a cell (group 1)
    date_cell: bytes  # `office:value-type="date"`
    cell_open: bytes  # `<table:table-cell`
    covered_open: bytes  # `<table:covered-table-cell` (merged cells)
    spanning: re.Pattern[bytes]  # a cell merged with the next ones: `table:number-columns-spanned`…
    columns_spanned: re.Pattern[bytes]  # group 1: the columns it spans
    rows_spanned: re.Pattern[bytes]  # group 1: the rows it spans
    cell_close: bytes
    # what makes a cell worth a look: an error, a number, a formula (with or without its value)
    marked: re.Pattern[bytes]  # the cells every scan lists: in error, times, formulas
    marked_listing: re.Pattern[bytes]  # those and the numbers and booleans (`listing`)
    name: re.Pattern[bytes]
    rows_repeated: re.Pattern[bytes]
    columns_repeated: re.Pattern[bytes]
    value_type: re.Pattern[bytes]
    calc_type: re.Pattern[bytes]
    formula: re.Pattern[bytes]
    time_value: re.Pattern[bytes]
    annotation: re.Pattern[bytes]
    paragraph: re.Pattern[bytes]
    paragraph_open: bytes  # `<text:p`
    row_end: bytes
    # a number of 10 decimals or more (_MORE_DECIMALS), or whose text shows another number than
    # it holds (its decimals not after a point or comma: « 4867 » for 4866.67); group 1: the
    # number, 2: its decimals. Begun by a literal, what the search skips to (begun by the value
    # type, or by two alternatives, it took six times longer)
    shown_apart: re.Pattern[bytes]
    # a number whose text shows none of its digits (« ;;; » saves `<text:p/>`, « "à venir" » that
    # text; group 1: the text). Begun by a literal, as shown_apart. LibreOffice saves each VRAI
    # or FAUX as the number 1 or 0 computed by =TRUE() or =FALSE(), shown in the words of its
    # language: those of English and French are left out here (every boolean cell of a
    # workbook matched: the scan took 60 % longer), any other by _ods_seen_otherwise
    masked: re.Pattern[bytes]


@cache
def _ods_syntax(t: bytes, o: bytes, x: bytes, c: bytes) -> _OdsSyntax:
    return _OdsSyntax(
        table=re.compile(rb"<" + t + rb":table(?=[\s>])([^>]*)>"),
        row_open=b"<" + t + b":table-row",
        column=re.compile(rb"<" + t + rb":table-column(?=[\s/>])([^>]*)>"),
        default_style=re.compile(rb"\b" + t + rb':default-cell-style-name="([^"]*)"'),
        cell_style=re.compile(rb"\b" + t + rb':style-name="([^"]*)"'),
        date_cell=o + b':value-type="date"',
        masked=re.compile(o + rb':value="[^"]*"[^>]*?(?<!/)>(?:<' + x + rb":p/>|<" + x
                          + rb":p>(?!(?:TRUE|FALSE|VRAI|FAUX)</)([^0-9<]*)</" + x + rb":p>)"),
        cell_open=b"<" + t + b":table-cell",
        covered_open=b"<" + t + b":covered-table-cell",
        spanning=re.compile(rb"<" + t + rb":table-cell\b[^>]*?\b" + t + rb':number-(?:columns|rows)-spanned="'),
        columns_spanned=re.compile(rb"\b" + t + rb':number-columns-spanned="(\d+)"'),
        rows_spanned=re.compile(rb"\b" + t + rb':number-rows-spanned="(\d+)"'),
        cell_close=b"</" + t + b":table-cell>",
        # a formula followed in its tag by a value type has a value: not looked at (LibreOffice
        # saves each VRAI or FAUX so); one preceded by it is, and found to have one
        marked=re.compile(rb':value-type="(?:error|time|percentage)"|:formula="[^"]*"(?![^>]*:value-type=)'),
        marked_listing=re.compile(rb':value-type="(?:error|time|date|float|percentage|currency|boolean)"|:formula="'),
        name=re.compile(rb"\b" + t + rb':name="([^"]*)"'),
        rows_repeated=re.compile(rb"\b" + t + rb':number-rows-repeated="(\d+)"'),
        columns_repeated=re.compile(t + rb':number-columns-repeated="(\d+)"'),  # at a word's start: _repeats
        value_type=re.compile(rb"\b" + o + rb':value-type="(\w+)"'),
        calc_type=re.compile(rb"\b" + c + rb':value-type="(\w+)"'),
        formula=re.compile(rb"\b" + t + rb':formula="([^"]*)"'),
        time_value=re.compile(rb"\b" + o + rb':time-value="([^"]*)"'),
        annotation=re.compile(rb"<" + o + rb":annotation\b.*?</" + o + rb":annotation>", re.S),
        paragraph=re.compile(rb"<" + x + rb":p\b[^>]*?(?:/>|>(.*?)</" + x + rb":p>)", re.S),
        paragraph_open=b"<" + x + b":p",
        row_end=b"</" + t + b":table-row>",
        shown_apart=re.compile(o + rb':value="(-?\d+\.(\d+))"(?:(?<=\d{10}")|[^>]*>(?!<' + x
                               + rb":p>[^<]*[.,](?:\2)0*[^0-9<]*</))"),
    )


class _ContentCheck:
    """content.xml checked well-formed (container.WellFormed), piece by piece as the scan reads
    it, or, when large (concurrency.checked_aside), in a second process meanwhile: each piece
    before the scan reads its rows. fastexcel (calamine) reads a sheet up to its closing tag,
    and a note (office:annotation) of a text cell up to its own, and never stops at the end of
    the document when it does not see them there: a note or the last sheet whose closing tag
    is lost, a quote lost in a tag, a comment, CDATA or an attribute that hides the closing
    tag from it while a search of the bytes still finds it. Each read forever where no Ctrl-C
    reaches it; any of them makes the document malformed XML, whatever else is damaged with it."""

    def __init__(self, path: Path, zf: zipfile.ZipFile) -> None:
        self.path, self.zf, self.xml = path, zf, container.WellFormed("content.xml")
        size = zf.getinfo("content.xml").file_size if "content.xml" in zf.namelist() else 0  # none: the scan says so
        self.aside = container.well_formed_aside(path, "content.xml") if concurrency.checked_aside(size) else None

    def feed(self, data: bytes, final: bool = False) -> None:
        if self.aside is not None:
            return
        try:
            self.xml.feed(data, final)
        except container.Refused as refused:
            raise _fail(refused.code, self.path, **refused.details) from None
        except ParseError:
            raise _malformed(self.path) from None

    def end(self) -> None:
        """The end of the document: its elements all closed; the second process's verdict."""
        if self.aside is None:
            self.feed(b"", final=True)
            return
        verdict = self.aside.wait()
        if verdict == container.ASIDE_MALFORMED:
            raise _malformed(self.path)
        if verdict != container.ASIDE_WELL_FORMED:  # a DOCTYPE, or it could not say: said here
            self.aside = None
            for piece in container.member_chunks(self.zf, "content.xml"):
                self.feed(piece)
            self.end()

    def __enter__(self) -> _ContentCheck:
        return self

    def __exit__(self, *_: Any) -> None:
        if self.aside is not None and self.aside.poll() is None:  # the scan refused the file first
            self.aside.kill()
            self.aside.wait()


def _ods_chunks(blocks: Iterable[bytes], row_end: bytes) -> Iterator[bytes]:
    """content.xml in pieces that end after a complete row (the last piece: the rest)."""
    rest = b""
    for block in blocks:
        buf = rest + block
        cut = buf.rfind(row_end)
        if cut < 0:
            rest = buf
            continue
        yield buf[:cut + len(row_end)]
        rest = buf[cut + len(row_end):]
    if rest:
        yield rest


_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _repeats(syntax: _OdsSyntax, data: bytes) -> list[tuple[int, int]]:
    """(position, count) of each `table:number-columns-repeated` in `data`, its prefix at a
    word's start, as a leading `\\b` said: that one left the search no literal to skip to, and
    every row has one (the empty cells up to column XFD): five times slower (issue #19)."""
    return [(m.start(), int(m.group(1))) for m in syntax.columns_repeated.finditer(data)
            if m.start() == 0 or data[m.start() - 1] not in _WORD_BYTES]


class _OdsRow:
    """The cells of one .ods row (`body`, what its tag holds). A cell's column is the cells
    before it, plus their repeats: counted in C, not cell by cell (plain text cells, most of
    them, need no more). Only the repeats before the last value count: after it come the
    empty cells up to XFD that end every row."""

    def __init__(self, syntax: _OdsSyntax, body: bytes) -> None:
        self.syntax, self.body = syntax, body
        self.last = max(body.rfind(b"value-type"), body.rfind(b"formula="))  # in the last cell holding a value
        self.repeats = _repeats(syntax, body[:self.last]) if body.find(b"repeated", 0, self.last) >= 0 else []

    def tag_at(self, pos: int) -> tuple[int, int]:
        """(start, end) of the tag of the cell holding `pos`."""
        body, syntax = self.body, self.syntax
        opening = max(body.rfind(syntax.cell_open, 0, pos), body.rfind(syntax.covered_open, 0, pos))
        return opening, body.find(b">", opening)

    def column_at(self, opening: int) -> int:
        """The column of the cell whose tag starts at `opening`."""
        body, syntax = self.body, self.syntax
        index = body.count(syntax.cell_open, 0, opening) + body.count(syntax.covered_open, 0, opening)
        return index + sum(n - 1 for at, n in self.repeats if at < opening)

    def width(self, cattrs: bytes) -> int:
        """The columns a cell of these attributes covers."""
        repeated = _repeats(self.syntax, cattrs) if b"repeated" in cattrs else []
        return repeated[0][1] if repeated else 1


def _ods_marked(scan: SheetScan, syntax: _OdsSyntax, cells: _OdsRow, first: int, row: int, listed: int,
                listing: bool) -> int:
    """Lists the marked cells of one .ods row (or run of `first`..`row` identical rows) in
    `scan`: in error, times, percentages, formulas saved without a value, and with `listing`,
    numbers and booleans (percentages among the numbers). Returns the cells listed so far."""
    seen, body = -1, cells.body
    for mark in (syntax.marked_listing if listing else syntax.marked).finditer(body):
        opening, tag_end = cells.tag_at(mark.start())
        if opening == seen or mark.start() > tag_end:  # the same cell again, or text typed in one
            continue
        seen = opening
        cattrs = body[opening:tag_end]
        kind = syntax.calc_type.search(cattrs) or syntax.value_type.search(cattrs)
        if kind is None and not cattrs.endswith(b"/") and syntax.paragraph_open in syntax.annotation.sub(
                b"", body[tag_end:body.find(syntax.cell_close, tag_end)]):
            continue  # LibreOffice saves an empty result (`=IF(…;"";…)`) so: no value type, an empty `<text:p/>`
        if kind is None:  # a formula saved without its value
            formula = syntax.formula.search(cattrs)
            text = "=" + _plain_text(formula.group(1) if formula else b"").split(":", 1)[-1].lstrip("=")
            target = scan.formulas
        elif kind.group(1) == b"error":
            content = body[tag_end + 1:body.find(syntax.cell_close, tag_end)]
            text = "\n".join(_plain_text(p.group(1) or b"") for p in
                             syntax.paragraph.finditer(syntax.annotation.sub(b"", content))) or "#N/A"
            target = scan.errors
        elif kind.group(1) == b"percentage" and not listing:  # shown « 30 % », read 0.3: as shown
            content = body[tag_end + 1:body.find(syntax.cell_close, tag_end)]
            text = "\n".join(_plain_text(p.group(1) or b"") for p in
                             syntax.paragraph.finditer(syntax.annotation.sub(b"", content)))
            if not text:
                continue
            target = scan.percents
        elif kind.group(1) in _ODF_NUMBERS or kind.group(1) == b"boolean" or (listing and kind.group(1) in _ODF_DATES):
            if not listing:  # most marked cells: their column is counted only when listed
                continue
            formula = syntax.formula.search(cattrs)  # LibreOffice saves VRAI as a number 1 computed by =TRUE()
            boolean = kind.group(1) == b"boolean" or (formula is not None and formula.group(1) in _ODF_BOOLEANS)
            text, target = "", None
        elif kind.group(1) == b"time":
            value = syntax.time_value.search(cattrs)
            text, target = _ods_time(value.group(1).decode() if value else ""), scan.times
        else:
            continue
        col = cells.column_at(opening)
        for r in range(first, row + 1):
            if listed > MAX_SHEET_CELLS:
                break
            for c in range(col, col + cells.width(cattrs)):
                listed += 1
                if target is None:
                    (scan.booleans if boolean else scan.numeric).add((column_letter(c), r))
                else:
                    target[(column_letter(c), r)] = text
    return listed


def _ods_shown_apart(scan: SheetScan, syntax: _OdsSyntax, cells: _OdsRow, first: int, row: int) -> None:
    """Lists the number cells of one .ods row (or run of identical rows) whose text shows
    another number than they hold, in `scan.shown` with that text (LibreOffice saves the text
    a cell shows beside its number), and those of more than 9 decimals, in `scan.digits`."""
    body = cells.body
    found: dict[int, list[tuple[dict[tuple[str, int], str], str]]] = {}  # cell's tag → (where, text)
    for m in syntax.shown_apart.finditer(body):
        opening, tag_end = cells.tag_at(m.start())
        kind = syntax.value_type.search(body, opening, tag_end)
        if kind is None or kind.group(1) not in (b"float", b"currency"):
            continue
        content = syntax.annotation.sub(b"", body[tag_end + 1:body.find(syntax.cell_close, tag_end)])
        text = "\n".join(_plain_text(p.group(1) or b"") for p in syntax.paragraph.finditer(content))
        digits = re.sub(r"\D", "", text)
        if digits and digits.rstrip("0") != re.sub(r"\D", "", m.group(1).decode()).rstrip("0"):
            found.setdefault(opening, []).append((scan.shown, text))
        with contextlib.suppress(ArithmeticError):  # a number of a million digits: none a spreadsheet holds
            if len(m.group(2)) > 9 and (held := significant(m.group(1).decode())).as_tuple().exponent < -9:
                found.setdefault(opening, []).append((scan.digits, f"{held:f}"))
    for opening, targets in found.items():
        col, width = cells.column_at(opening), cells.width(body[opening:body.find(b">", opening)])
        for where, text in targets:
            for r in range(first, row + 1):
                if len(where) > MAX_SHEET_CELLS:  # a run of a million rows: its extent is refused anyway
                    break
                where.update(((column_letter(c), r), text) for c in range(col, min(col + width, 16384)))


_ODF_DATE_STYLE = re.compile(rb"<([\w.-]+:)?date-style\b([^>]*)>(.*?)</\1?date-style>", re.S)
# a number style applying another to the values of a condition (`style:map`: the « ;@ » of Excel's
# « [$-409]m/d/yy h:mm AM/PM;@ » is a text style that maps the numbers to a date style)
_ODF_NUMBER_STYLE = re.compile(rb"<([\w.-]+:)?(date|text|number|currency)-style\b([^>]*)>(.*?)</\1?\2-style>", re.S)
_ODF_DIGITS = re.compile(rb":(?:number|scientific-number|fraction)\b")  # the elements of a style showing digits
_ODF_MAP = re.compile(rb'<(?:[\w.-]+:)?map\b[^>]*?:condition="([^"]*)"[^>]*?:apply-style-name="([^"]*)"')
_DATES_UP_TO = 73050  # the serial number of 31 December 2099: a larger number is no date (date_nombre_hors_limites)
_ODF_DATE_PART = re.compile(rb"<(?:[\w.-]+:)?(day|month|year|text|hours|minutes|seconds|am-pm|day-of-week)\b"
                            rb"([^>]*?)(?:/>|>(.*?)</(?:[\w.-]+:)?\1>)", re.S)
_ODF_CELL_STYLE = re.compile(rb"<(?:[\w.-]+:)?style\b(?=[^>]*:family=\"table-cell\")([^>]*)>")
_ODF_STYLE_ATTRIBUTE = re.compile(rb'\b(?:[\w.-]+:)?(name|data-style-name|parent-style-name)="([^"]*)"')
_ODF_STRFTIME = {b"day": ("%-d", "%d"), b"month": ("%-m", "%m"), b"year": ("%y", "%Y"), b"hours": ("%-H", "%H"),
                 b"minutes": ("%-M", "%M"), b"seconds": ("%-S", "%S"), b"day-of-week": ("%a", "%A")}


def _odf_month_first(attributes: bytes, parts: bytes) -> str | None:
    """The strftime pattern of what a date of this ODF date style (`number:date-style`, its
    attributes and its content) shows, when it shows the month as a number before the day (and
    not after the year), in every reader's spreadsheet; None otherwise. A style of
    `number:automatic-order="true"` without a language of its own is shown in the order of the
    reader's settings (the short date LibreOffice saves: 03/04/2024 in a French LibreOffice,
    whatever the order saved); with one (`number:language="en" number:country="US"`), in that
    language's order, the one saved.

    >>> _odf_month_first(b"", b'<number:month number:style="long"/><number:text>/</number:text><number:day/>'
    ...                  b'<number:text>/</number:text><number:year number:style="long"/>')
    '%m/%-d/%Y'
    >>> _odf_month_first(b' number:automatic-order="true"', b'<number:month/><number:text>/</number:text><number:day/>')
    >>> _odf_month_first(b"", b'<number:day/><number:text>/</number:text><number:month/>')
    """
    if b'automatic-order="true"' in attributes and b":language=" not in attributes:
        return None
    found = [(m.group(1), m.group(2), m.group(3) or b"") for m in _ODF_DATE_PART.finditer(parts)]
    kinds = [b"month-name" if k == b"month" and b'textual="true"' in a else k for k, a, _ in found]
    if b"month" not in kinds or b"day" not in kinds or kinds.index(b"month") > kinds.index(b"day") \
            or kinds.index(b"month") > (kinds.index(b"year") if b"year" in kinds else 1 << 30):
        return None
    twelve = b"am-pm" in kinds
    pattern = []
    for kind, (k, a, text) in zip(kinds, found):
        long = b'style="long"' in a
        if kind == b"text":
            pattern.append(_plain_text(text).replace("%", "%%"))
        elif kind == b"month-name":
            pattern.append("%B" if long else "%b")
        elif kind == b"am-pm":
            pattern.append("%p")
        elif kind == b"hours" and twelve:
            pattern.append("%I" if long else "%-I")
        else:
            pattern.append(_ODF_STRFTIME[kind][long])
    return "".join(pattern)


def _holds_for_dates(condition: bytes) -> bool:
    """Whether a `style:map` condition holds for every date (a positive serial number).

    >>> _holds_for_dates(b"value()&gt;=0"), _holds_for_dates(b"value()&lt;=1.7976931348623157E+308"), _holds_for_dates(b"value()&lt;0")
    (True, True, False)
    """
    found = re.fullmatch(rb"value\(\)(&gt;=|&gt;|>=|>|&lt;=|&lt;|<=|<)(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)", condition.replace(b" ", b""))
    if found is None:
        return False
    above, bound = found.group(1).strip(b"=&;").endswith((b"gt", b">")), float(found.group(2))
    return bound <= 0 if above else bound >= _DATES_UP_TO


def _ods_styles(zf: zipfile.ZipFile) -> tuple[dict[bytes, str], bool, frozenset[bytes]]:
    """What the styles of an .ods may show otherwise than a cell holds: the cell styles whose
    date style shows the month first (_odf_month_first), style name → the strftime pattern of
    what its dates show; whether a number style shows no digit (« ;;; », « "à venir" »: its
    numbers are looked for, SheetScan.masked); the column styles narrower than a millimetre
    (_odf_narrow_columns). Date and cell styles live in styles.xml and in content.xml's
    automatic styles (before its body); a cell style may take its date style from its parent
    style. Most workbooks have none of them."""
    xml = b"".join(container.member_chunks(zf, "styles.xml")) if "styles.xml" in zf.namelist() else b""
    for piece in container.member_chunks(zf, "content.xml"):
        xml += piece
        if b"office:body" in xml or b":body>" in xml or len(xml) > 1 << 26:
            break
    shows = {name: p for name, p in ((re.search(rb':name="([^"]*)"', m.group(2)), _odf_month_first(m.group(2), m.group(3)))
                                     for m in _ODF_DATE_STYLE.finditer(xml)) if name is not None and p is not None
             for name in [name.group(1)]}
    # the zero of an accounting format (« - », a style applied to `value()=0`) is no value masked
    zeros, masks = {s for condition, s in _ODF_MAP.findall(xml) if condition == b"value()=0"}, False
    for m in _ODF_NUMBER_STYLE.finditer(xml):  # a style mapping the dates to one of those shows them so
        name = re.search(rb':name="([^"]*)"', m.group(3))
        masks = masks or (m.group(2) in (b"number", b"currency") and not _ODF_DIGITS.search(m.group(4))
                          and (name is None or name.group(1) not in zeros))
        mapped = next((s for condition, s in _ODF_MAP.findall(m.group(4)) if _holds_for_dates(condition)), None)
        if name is not None and name.group(1) not in shows and mapped in shows:
            shows[name.group(1)] = shows[mapped]
    narrow = _odf_narrow_columns(xml)
    if not shows:
        return {}, masks, narrow
    cells = {a[b"name"]: a for a in ({k: v for k, v in _ODF_STYLE_ATTRIBUTE.findall(m.group(1))}
                                      for m in _ODF_CELL_STYLE.finditer(xml)) if b"name" in a}

    def data_style(name: bytes, depth: int = 0) -> bytes | None:
        style = cells.get(name, {})
        if b"data-style-name" in style or depth > 8:
            return style.get(b"data-style-name")
        return data_style(style[b"parent-style-name"], depth + 1) if b"parent-style-name" in style else None
    return {name: shows[data] for name in cells if (data := data_style(name)) in shows}, masks, narrow


_ODF_COLUMN_STYLE = re.compile(rb'<([\w.-]+:)?style\b(?=[^>]*:family="table-column")([^>]*?)(?<!/)>(.*?)</\1?style>', re.S)
_ODF_COLUMN_WIDTH = re.compile(rb':column-width="([0-9.]+)(cm|mm|in|pt|pc|px)"')
_ODF_MM = {b"cm": 10.0, b"mm": 1.0, b"in": 25.4, b"pt": 25.4 / 72, b"pc": 25.4 / 6, b"px": 25.4 / 96}


def _odf_narrow_columns(xml: bytes) -> frozenset[bytes]:
    """The column styles of these styles narrower than a millimetre (NARROW_MM).

    >>> sorted(_odf_narrow_columns(b'<style:style style:name="co1" style:family="table-column"><style:table-column-properties '
    ...     b'style:column-width="0.0098in"/></style:style><style:style style:name="co2" style:family="table-column">'
    ...     b'<style:table-column-properties style:column-width="0.889in"/></style:style>'
    ...     b'<style:style style:name="co3" style:family="table-column"><style:table-column-properties '
    ...     b'style:column-width="0cm"/></style:style>'))
    [b'co1', b'co3']
    """
    found = set()
    for m in _ODF_COLUMN_STYLE.finditer(xml):
        name, width = re.search(rb':name="([^"]*)"', m.group(2)), _ODF_COLUMN_WIDTH.search(m.group(3))
        if name is not None and width is not None and _narrow(width.group(1), _ODF_MM[width.group(2)]):
            found.add(name.group(1))
    return frozenset(found)


def _ods_sheet(syntax: _OdsSyntax, columns: bytes, listing: bool, dates: dict[bytes, str],
               narrow: frozenset[bytes] = frozenset()) -> SheetScan:
    """The SheetScan of an .ods sheet beginning, from its `table:table-column` tags (`columns`,
    before its rows): the columns it hides (LibreOffice marks one `table:visibility="collapse"`),
    as _columns_unseen, those of a style of `narrow` (_ods_styles: narrower than a millimetre),
    and those whose cells are by default of a style of `dates` (_ods_styles: a date shown month
    first). LibreOffice (7.4) saves a row formatted as a whole with each cell's own style, never
    a row's `table:default-cell-style-name`: a cell's style is its own, else its column's."""
    scan = SheetScan(value_rows=0, numeric=set() if listing else None, booleans=set() if listing else None,
                     date_formats=dates)
    at = 0
    for m in syntax.column.finditer(columns):
        repeated = _repeats(syntax, m.group(1)) if b"repeated" in m.group(1) else []
        width, span = repeated[0][1] if repeated else 1, (at, min(at + (repeated[0][1] if repeated else 1), 16384) - 1)
        if b':visibility="collapse"' in m.group(1) and at < 16384:
            scan.hidden_columns.append(span)
        elif narrow and (own := syntax.cell_style.search(m.group(1))) and own.group(1) in narrow and at < 16384:
            scan.narrow_columns.append(span)
        style = syntax.default_style.search(m.group(1)) if dates else None
        if style is not None and style.group(1) in dates and at < 16384:
            scan.date_columns.append((*span, style.group(1)))
        at += width
    return scan


def _ods_seen_otherwise(scan: SheetScan, syntax: _OdsSyntax, cells: _OdsRow, first: int, row: int,
                        shown_apart: bool, masked: bool) -> None:
    """What the user sees of one .ods row (or run of identical rows) otherwise than it is held:
    with `shown_apart` (its chunk holds such a number), the numbers shown rounded or of many
    decimals (_ods_shown_apart); with `masked`, the numbers whose text shows none of their
    digits, in `scan.masked`; the dates of a style showing the month first
    (SheetScan.date_formats: the cell's own style, else its column's), in `scan.month_first`."""
    if shown_apart:
        _ods_shown_apart(scan, syntax, cells, first, row)
    for m in syntax.masked.finditer(cells.body) if masked else ():
        opening, tag_end = cells.tag_at(m.start())
        cattrs, formula = cells.body[opening:tag_end], syntax.formula.search(cells.body, opening, tag_end)
        kind = syntax.value_type.search(cattrs)
        if kind is None or kind.group(1) not in (b"float", b"currency") or (formula and formula.group(1) in _ODF_BOOLEANS):
            continue  # LibreOffice saves VRAI as the number 1 computed by =TRUE(), shown « VRAI »
        col, text = cells.column_at(opening), _plain_text(m.group(1) or b"")
        for r in range(first, min(row, first + MAX_DATA_ROWS) + 1):
            scan.masked.update(((column_letter(c), r), text) for c in range(col, min(col + cells.width(cattrs), 16384)))
    if not scan.date_formats or syntax.date_cell not in cells.body:
        return
    body, at = cells.body, cells.body.find(syntax.date_cell)
    while at >= 0:
        (opening, tag_end), here, at = cells.tag_at(at), at, body.find(syntax.date_cell, at + 1)
        if opening < 0 or here > tag_end:  # not in a cell's tag
            continue
        col = cells.column_at(opening)
        own = syntax.cell_style.search(body, opening, tag_end)
        style = own.group(1) if own else next((s for a, b, s in scan.date_columns if a <= col <= b), None)
        if style in scan.date_formats:
            width = cells.width(body[opening:tag_end])
            scan.month_first += [(column_letter(c).encode(), b"%d" % r, b"", style, b"")
                                 for r in range(first, min(row, first + MAX_DATA_ROWS) + 1)
                                 for c in range(col, min(col + width, 16384))]


def _ods_merged(scan: SheetScan, syntax: _OdsSyntax, body: bytes, first: int, row: int) -> None:
    """The merged ranges of one .ods row (or run of `first`..`row` identical rows), in
    `scan.merged`: a cell spanning columns or rows (`table:number-columns-spanned`,
    `…-rows-spanned`) shows its value over the cells it covers (`table:covered-table-cell`,
    which LibreOffice saves with their values when asked to keep them). Its column: the cells
    before it and their repeats, counted from the previous span (_OdsRow counts them up to the
    row's last value only: a merge may begin after it).

    >>> scan = SheetScan()
    >>> _ods_merged(scan, _ods_syntax(b"table", b"office", b"text", b"calcext"),
    ...             b'<table:table-cell table:number-columns-repeated="3"/><table:table-cell table:number-columns-spanned="2"'
    ...             b' table:number-rows-spanned="1"/><table:covered-table-cell/><table:table-cell/>'
    ...             b'<table:table-cell table:number-rows-spanned="3"><text:p>x</text:p></table:table-cell>', 5, 6)
    >>> scan.merged  # D5:E5 and D6:E6 (rows 5 and 6 alike), G5:G7 and G6:G8
    [(3, 5, 4, 5), (3, 6, 4, 6), (6, 5, 6, 7), (6, 6, 6, 8)]
    """
    col, at = 0, 0
    for m in syntax.spanning.finditer(body):
        before = body[at:m.start()]
        col += before.count(syntax.cell_open) + before.count(syntax.covered_open) + \
            sum(n - 1 for _, n in _repeats(syntax, before))
        at = m.start()
        attrs = body[at:body.find(b">", at)]
        wide, high = (int(found.group(1)) if (found := spanned.search(attrs)) else 1
                      for spanned in (syntax.columns_spanned, syntax.rows_spanned))
        if wide * high > 1:
            scan.merged += [(col, r, col + wide - 1, r + high - 1)
                            for r in range(first, min(row, first + MAX_MERGED - len(scan.merged) - 1) + 1)]


_ODS_DURATION = re.compile(r"^PT(\d+)H(\d+)M(\d+)(?:[.,]\d*)?S$")


def _ods_time(duration: str) -> str:
    """A time cell of an .ods (`office:time-value`, an ISO duration) as fastexcel gives a time
    cell of an .xlsx: Excel's day 0, 31 December 1899, and the time; the duration as saved if
    it is no time of day.

    >>> _ods_time("PT14H30M00S"), _ods_time("PT02H04M24.000S"), _ods_time("PT36H00M00S"), _ods_time("-PT01H00M00S")
    ('1899-12-31 14:30:00', '1899-12-31 02:04:24', 'PT36H00M00S', '-PT01H00M00S')
    """
    found = _ODS_DURATION.match(duration)
    if not found or int(found.group(1)) > 23 or int(found.group(2)) > 59 or int(found.group(3)) > 59:
        return duration
    return "1899-12-31 {:02d}:{:02d}:{:02d}".format(*map(int, found.groups()))


def _scan_ods(path: Path, zf: zipfile.ZipFile, listing: bool = False,
              check: _ContentCheck | None = None) -> dict[str, SheetScan]:
    """What _scan_sheet finds in an .xlsx sheet, for every sheet of an .ods, in one pass over its content.xml:
    first row, extent, cells in error (LibreOffice marks them `calcext:value-type="error"`; fastexcel reads
    them as empty), formulas saved without a value, merged ranges; with `listing`, the cells holding a number
    or a boolean (an identifier typed as a number lost its zeros…), asked for a few cells of a few workbooks
    only (`_cells_of`): listing them all took two thirds of the scan of a workbook typed as Excel types it.
    A run of identical cells or rows is saved once with `number-…-repeated`: it counts that often, and its
    cells are listed one by one up to MAX_SHEET_CELLS a sheet (beyond, the extent is refused anyway). Like
    _scan_sheet, regular expressions over the bytes: an XML parser calling Python for each element takes
    five times longer. `check` (_ContentCheck) is given each piece before its rows are read; none when
    listing (the first scan did)."""
    syntax = _content_syntax(path, zf)
    dates, masks, narrow = ({}, False, frozenset()) if listing else _ods_styles(zf)  # the listing asks for numbers and booleans only
    scans: dict[str, SheetScan] = {}
    scan = SheetScan()
    row = listed = 0
    top = left = 1 << 30
    bottom = right = before_bottom = before_right = -1  # as in _scan_sheet
    down = across = ""

    def close() -> None:
        scan.extent = (bottom - top + 1, right - left + 1) if bottom >= 0 else (0, 0)
        if bottom >= 0:
            scan.far_cell = _far_cell((top, before_bottom, bottom), (left, before_right, right), down, across)

    chunk = b""
    for chunk in _ods_chunks(container.member_chunks(zf, "content.xml"), syntax.row_end):
        if check is not None:
            check.feed(chunk)  # before the scan reads its rows
        # one row a piece, after what comes between rows; plain bytes searches, not regular
        # expressions, for what every row and cell needs: three times faster
        # a number shown rounded, or of many decimals: in no chunk of most workbooks, told by one search
        shown_apart, masked = syntax.shown_apart.search(chunk) is not None, masks and syntax.masked.search(chunk) is not None
        spans = not listing and b"-spanned=" in chunk  # merged cells: in no chunk of most workbooks
        for piece in chunk.split(syntax.row_end):
            at = piece.find(syntax.row_open)
            while at >= 0 and piece[at + len(syntax.row_open):at + len(syntax.row_open) + 1] not in _XML_SPACE_OR_END:
                at = piece.find(syntax.row_open, at + 1)  # <table:table-rows>, <table:table-row-group>
            if at < 0:
                continue
            if (table := syntax.table.search(piece, 0, at)) is not None:  # a sheet begins
                close()
                name = syntax.name.search(table.group(1))
                scan = scans[_plain_text(name.group(1)) if name else ""] = _ods_sheet(syntax, piece[table.end():at], listing, dates, narrow)
                row, listed, top, left, bottom, right, before_bottom, before_right = 0, 0, 1 << 30, 1 << 30, -1, -1, -1, -1
            elif scan.value_rows is None:
                continue  # a row outside any sheet (its tag damaged, well-formed): fastexcel reads none
            tag_end = piece.find(b">", at)
            attrs, body = piece[at + len(syntax.row_open):tag_end], piece[tag_end + 1:]
            repeated = syntax.rows_repeated.search(attrs) if b"repeated" in attrs else None
            first = row + 1
            row += int(repeated.group(1)) if repeated else 1
            if spans and b"-spanned=" in body:  # a merge over the next rows may begin in a row holding no value
                _ods_merged(scan, syntax, body, first, row)
            if b"value-type" not in body and b"formula=" not in body:
                continue  # no value: most rows after the table, told by one search
            if b':visibility="collapse"' in attrs or b':visibility="filter"' in attrs:  # hidden, filtered out
                scan.hidden.update(range(first, min(row, first + MAX_DATA_ROWS) + 1))
            cells = _OdsRow(syntax, body)
            starts = [at for at in (body.find(b"value-type"), body.find(b"formula=")) if at >= 0]
            first_col = cells.column_at(cells.tag_at(min(starts))[0])
            opening, tag_end = cells.tag_at(cells.last)
            far = cells.column_at(opening) + cells.width(body[opening:tag_end]) - 1
            if scan.value_rows == 0:
                scan.first_row = first
            scan.value_rows += row - first + 1
            cell = f"{column_letter(min(far, 16383))}{row}"
            top, left = min(top, first), min(left, first_col)
            before_bottom, bottom, down = (bottom if first == row else row - 1), row, cell
            if far > right:
                before_right, right, across = right, far, cell
            elif before_right < far < right:
                before_right = far
            listed = _ods_marked(scan, syntax, cells, first, row, listed, listing)
            if shown_apart or masked or scan.date_formats:  # none of them in most workbooks: no call a row
                _ods_seen_otherwise(scan, syntax, cells, first, row, shown_apart, masked)
    _check_ods_end(path, chunk, check)
    close()
    return scans


def _content_syntax(path: Path, zf: zipfile.ZipFile) -> _OdsSyntax:
    """The patterns of the .ods's content.xml, with the namespace prefixes its head declares."""
    if "content.xml" not in zf.namelist():
        raise _fail("fichier_illisible", path, detail="archive OpenDocument sans content.xml")
    with zf.open("content.xml") as fh:
        head = fh.read(1 << 16)
    prefixes = {key: re.search(rb'xmlns:([\w.-]+)="' + re.escape(uri) + rb'"', head) for key, uri in _ODF_NAMESPACES.items()}
    return _ods_syntax(*(m.group(1) if m else key.encode() for key, m in prefixes.items()))


def _check_ods_end(path: Path, last: bytes, check: _ContentCheck | None) -> None:
    """After the scan of content.xml (`last`: its last piece, after the last row): a document
    cut short inside a zip that is whole (a program that stopped writing it) said so, then
    `check`'s verdict."""
    if not _DOCUMENT_END.search(last[-1024:]):
        raise _fail("fichier_illisible", path, detail="son contenu (content.xml) s'arrête avant la fin : "
                    "ouvrez-le dans LibreOffice et enregistrez-le de nouveau, ou reprenez-en une copie complète")
    if check is not None:
        check.end()


def _plain_text(xml: bytes) -> str:
    """The text of some XML: its tags dropped, its entities decoded.

    >>> _plain_text(b"<text:span>l&apos;OG &amp; co</text:span>")
    "l'OG & co"
    """
    return _unescape(re.sub(rb"<[^>]+>", b"", xml).decode(), {"&apos;": "'", "&quot;": '"'})


def _unescape(text: str, entities: dict[str, str] | None = None) -> str:
    """`xml.sax.saxutils.unescape`, whose module imports urllib.request, http.client and ssl
    (15 ms at each start): &lt;, &gt;, `entities`, then &amp;.

    >>> _unescape("a &lt; b &amp;amp;")
    'a < b &amp;'
    """
    for entity, char in {"&lt;": "<", "&gt;": ">", **(entities or {})}.items():
        text = text.replace(entity, char)
    return text.replace("&amp;", "&")


# ---------------------------------------------------------------- sheets into frames


def _clean_header(name: str) -> str:
    return re.sub(r"[\s\u00a0\u202f\u200b\u200c\u200d\u2060\ufeff]+", " ", str(name)).strip()


def _loose(name: str) -> str:
    return re.sub(r"[\W_]+", "", name).casefold()


def _match_columns(path: Path, sheet: Sheet, found: list[str], positions: dict[str, int],
                   header_row: int) -> dict[str, str]:
    """balise → column name in the user's sheet; errors name the column actually used.

    A missing `optional_column` has no entry (read as all-empty), unless a column of the sheet
    looks like a misspelling of it: then it is an error, its values would be lost."""
    columns: dict[str, str] = {}
    for name in found:
        columns.setdefault(_clean_header(name), name)
    loose: dict[str, list[str]] = {}
    for name in found:
        loose.setdefault(_loose(_clean_header(name)), []).append(name)
    problems = []
    for b in sheet.balises:
        if b not in columns and len(loose.get(_loose(b), [])) == 1:  # case or spacing differs only
            columns[b] = loose[_loose(b)][0]
        twin = f"{columns.get(b)}_1"
        if b in columns and twin in positions and _clean_header(twin) not in sheet.balises:
            problems.append(issue("colonne_en_double", file=str(path), sheet=sheet.name, row=header_row,
                                  column=column_letter(positions[twin]), balise=b,
                                  detail=column_letter(positions[columns[b]])))
    used = {columns[b] for b in sheet.balises if b in columns}
    unknown = [n for n in found if n not in used and _clean_header(n) not in sheet.balises]
    for b in sheet.balises:
        if b in columns:
            continue
        near = get_close_matches(_loose(b), [_loose(_clean_header(n)) for n in unknown], n=1, cutoff=0.75)
        where = next((n for n in unknown if near and _loose(_clean_header(n)) == near[0]), None)
        detail = (f" La colonne {column_letter(positions[where])} s'intitule « {_clean_header(where)} » : "
                  f"est-ce elle ? Renommez-la « {b} »." if where is not None and where in positions else "")
        if sheet.by_balise[b].optional_column and where is None:
            continue  # a column older templates lack: read as all-empty (unless it looks misspelt)
        problems.append(issue("colonne_manquante", file=str(path), sheet=sheet.name, row=header_row,
                              column=column_letter(positions[where]) if where in positions else None,
                              balise=b, detail=detail))
    if problems:
        raise WorkbookError(problems)
    return columns


HEADER_SEARCH_ROWS = 5  # rows below the first one where misplaced balises are looked for


def _balises_below(path: Path, sheet: Sheet, frame: pl.DataFrame, first_row: int) -> None:
    """A title typed above the table (its columns then all « absentes »): when a row just below
    holds most balises, one message names it and the title, instead of one per column."""
    wanted = {_loose(b) for b in sheet.balises}
    for i, row in enumerate(frame.head(HEADER_SEARCH_ROWS).iter_rows()):
        found = {_loose(_clean_header(v)) for v in row if v is not None} & wanted
        if 2 * len(found) > len(wanted):
            title = next((_clean_header(n) for n in frame.columns if not n.startswith("__UNNAMED__")), "")
            raise _fail("entete_decale", path, sheet=sheet.name, row=first_row, value=title or None,
                        detail=first_row + 1 + i)


def _load(reader: fastexcel.ExcelReader, path: Path, sheet: Sheet, scan: SheetScan,
          name: str | None = None) -> tuple[pl.DataFrame, dict[str, str]]:
    """`sheet`, read from the user's sheet `name` (by default, the same name)."""
    first_row = scan.first_row
    try:
        loaded = reader.load_sheet(name or sheet.name, dtypes="string")
        positions = {c.name: c.absolute_index for c in loaded.available_columns()}
        frame = loaded.to_polars()
    except BaseException as exc:  # fastexcel raises its own types (or a Rust panic) for malformed sheets
        if _fatal(exc):
            raise
        raise _fail("fichier_illisible", path, sheet=sheet.name, detail=_short(exc)) from exc
    try:
        columns = _match_columns(path, sheet, frame.columns, positions, first_row)
    except WorkbookError:
        _balises_below(path, sheet, frame, first_row)
        raise
    frame = frame.select(  # an absent optional column (see _match_columns) is all-empty
        [(pl.col(columns[b]).cast(pl.String) if b in columns else pl.lit(None, dtype=pl.String)).alias(b)
         for b in sheet.balises]
    ).with_row_index(ROW, offset=first_row + 1).with_columns(pl.col(ROW).cast(pl.Int64))
    letters = {b: column_letter(positions[columns[b]]) for b in sheet.balises
               if b in columns and columns[b] in positions}
    by_letter = {letter: b for b, letter in letters.items()}
    exact = {f.balise for f in sheet.fields if getattr(KINDS[f.kind], "SHOWN_FROM", None) == "rounded"}
    digits = {cell: text for cell, text in scan.digits.items() if by_letter.get(cell[0]) in exact}
    if scan.errors or scan.formulas or scan.times or scan.percents or digits:  # fastexcel reads them as
        # empty (a percentage: as a number, an amount: to 9 decimals); put their text back
        updates: dict[str, dict[int, str]] = {}
        for (letter, row), text in {**digits, **scan.percents, **scan.times, **scan.errors, **scan.formulas}.items():
            if letter in by_letter:
                updates.setdefault(by_letter[letter], {})[row] = text
        # fastexcel ends the sheet at its last value: rows below made only of such cells
        # (formulas a program wrote without values) would vanish without a word
        last, below = first_row + frame.height, max((r for rows in updates.values() for r in rows), default=0)
        if below > last:
            frame = pl.concat([frame, pl.DataFrame({ROW: range(last + 1, below + 1)}, schema={ROW: pl.Int64})],
                              how="diagonal")
        frame = frame.with_columns(
            pl.col(ROW).replace_strict(rows, default=pl.col(b), return_dtype=pl.String).alias(b)
            for b, rows in updates.items()
        )
    frame = _without_blank_rows(frame, sheet.balises)
    if frame.height > MAX_DATA_ROWS:
        raise _fail("trop_de_lignes", path, sheet=sheet.name, max=f"{MAX_DATA_ROWS:,}".replace(",", " "),
                    detail=f"{frame.height:,} lignes remplies".replace(",", " "))
    return frame, letters


def blank(b: str) -> pl.Expr:
    """A cell empty or of spaces only: a match, not a replacement (no new string for each cell)."""
    return pl.col(b).is_null() | pl.col(b).str.contains(f"^{_SPACES}*$")


def _without_blank_rows(frame: pl.DataFrame, balises: list[str]) -> pl.DataFrame:
    """The rows holding a value: a row is blank when each of its cells is empty or spaces only.
    Only the rows whose fullest column is blank are tested on every column (most rows have a
    value there: one column matched instead of all of them, on the reading's critical path)."""
    if not balises or frame.height == 0:
        return frame
    fullest = min(balises, key=lambda b: frame[b].null_count())
    maybe = frame.select(ROW, *balises).filter(blank(fullest))
    if maybe.height == 0:
        return frame
    rows = maybe.filter(pl.all_horizontal(blank(b) for b in balises))[ROW]
    return frame.filter(~pl.col(ROW).is_in(rows.implode())) if rows.len() else frame


def _check_extent(path: Path, name: str, scan: SheetScan) -> None:
    """Refuse, before fastexcel allocates it, a sheet whose values span too many rows or cells."""
    if scan.beyond_xfd:
        raise _fail("fichier_illisible", path, sheet=name,
                    detail=f"cellule {scan.beyond_xfd} au-delà de XFD, la dernière colonne d'une feuille")
    limit = f"{MAX_DATA_ROWS:,}".replace(",", " ")
    if scan.value_rows is not None and scan.value_rows > MAX_DATA_ROWS + 1:
        raise _fail("trop_de_lignes", path, sheet=name, max=limit,
                    detail=f"{scan.value_rows - 1:,} lignes remplies".replace(",", " "))
    if scan.extent and scan.extent[0] * scan.extent[1] > MAX_SHEET_CELLS:
        raise _fail("plage_trop_etendue", path, sheet=name, detail=scan.far_cell or "?")


def _matching(sheet: Sheet, frame: pl.DataFrame, letters: dict[str, str], kind: str, pattern: str) -> dict[str, list[int]]:
    """The rows of each column of `kind` whose text matches `pattern`: those the reader may have
    spelled from a cell of another type than the text they show."""
    return {f.balise: frame.filter(pl.col(f.balise).str.contains(pattern))[ROW].to_list()
            for f in sheet.fields if f.kind == kind and f.balise in letters}


def _rewrite_confirmed(frame: pl.DataFrame, letters: dict[str, str], suspects: dict[str, list[int]],
                       confirmed: CellsOf, rewrite: Callable[[str], pl.Expr]
                       ) -> tuple[pl.DataFrame, dict[str, list[int]]]:
    """The rare paths' shape: of the `suspects` (balise → rows), those the sheet's XML confirms
    (`confirmed`: a few cells asked, never the whole sheet listed when there is none) are
    rewritten by `rewrite(balise)`, in one Polars expression a column. Returns the frame and
    the rows rewritten."""
    wanted = {(letters[b], r) for b, rows in suspects.items() for r in rows}
    if not wanted:
        return frame, {}
    found = confirmed(wanted)
    kept = {b: [r for r in rows if (letters[b], r) in found] for b, rows in suspects.items()}
    kept = {b: rows for b, rows in kept.items() if rows}
    return frame.with_columns(
        pl.when(pl.col(ROW).is_in(rows)).then(rewrite(b)).otherwise(pl.col(b)).alias(b) for b, rows in kept.items()
    ), kept


def _pad_identifiers(numeric_cells: CellsOf, sheet: Sheet,
                     frame: pl.DataFrame, letters: dict[str, str]) -> tuple[pl.DataFrame, dict[str, list[int]]]:
    """Rare path: an identifier one or two digits short, typed as a number, gets its zeros back.
    Shorter, or nothing but zeros, it was no identifier that lost its zeros: it stays an error."""
    fields = [(f.balise, IDENTIFIER_WIDTHS[f.kind], MAX_LOST_ZEROS[f.kind])
              for f in sheet.fields if f.kind in IDENTIFIER_WIDTHS and f.balise in letters]
    # the length first, on the whole column; the regular expression on the few rows left
    short = {b: frame.select(ROW, b).filter(pl.col(b).str.len_chars().is_between(w - lost, w - 1))
             .filter(pl.col(b).str.contains(r"^\d*[1-9]\d*$"))[ROW].to_list()
             for b, w, lost in fields}
    widths = {b: w for b, w, _ in fields}
    return _rewrite_confirmed(frame, letters, short, numeric_cells, lambda b: pl.col(b).str.zfill(widths[b]))


_LONG_NUMBER = r"^-?[1-9][0-9]*(?:\.[0-9]+)?$"  # a number as the reader writes it: no exponent, no leading zero
_ZEROS = "0" * 400  # more than the digits of the largest number the reader writes (1.8e308)


def number_as_shown(c: pl.Expr) -> pl.Expr:
    """A number as the reader writes it in text, to `SHOWN_DIGITS` significant digits: the
    number the user sees. The reader spells the exact binary value of a number cell, to 9
    decimals: 987654321.01 is held as 987654321.0099999904… and read « 987654321.00999999 ».
    Only for a number of more digits than that (_LONG_NUMBER); never in scientific notation.

    >>> pl.DataFrame({"c": ["987654321.00999999", "-987654321.00999999", "99999999999999.984375",
    ...                     "123456789012345696", "1234567.123456789", "9999999999999999.5"]}
    ...              ).select(number_as_shown(pl.col("c")))[:, 0].to_list()
    ['987654321.01', '-987654321.01', '100000000000000', '123456789012346000', '1234567.12345679', '10000000000000000']
    """
    body = c.str.strip_prefix("-")
    whole = body.str.find(".", literal=True).fill_null(body.str.len_bytes())  # digits before the point
    digits = body.str.replace(".", "", literal=True)
    kept = (digits.str.slice(0, SHOWN_DIGITS).cast(pl.Int64)
            + (digits.str.slice(SHOWN_DIGITS, 1) >= "5").cast(pl.Int64)).cast(pl.String)
    point = whole + kept.str.len_bytes() - SHOWN_DIGITS  # one more digit before it when 99…9 rounds up
    fraction = kept.str.slice(point).str.strip_chars_end("0")
    return pl.concat_str(pl.when(c.str.starts_with("-")).then(pl.lit("-")).otherwise(pl.lit("")),
                         pl.concat_str(kept, pl.lit(_ZEROS)).str.slice(0, point),
                         pl.when(fraction != "").then(pl.lit(".") + fraction).otherwise(pl.lit("")))


def _numbers_as_shown(numeric_cells: CellsOf, sheet: Sheet,
                      frame: pl.DataFrame, letters: dict[str, str]) -> pl.DataFrame:
    """Rare path: in a column of numbers (amounts, integers, dates…: not the kinds typed as
    text), a number cell of more than `SHOWN_DIGITS` significant digits as the reader gives it
    is read as the number the user sees (`number_as_shown`); the same digits typed as text
    stay as they are."""
    long = {f.balise: frame.select(ROW, f.balise).filter(pl.col(f.balise).str.len_bytes() > SHOWN_DIGITS)
            .filter(pl.col(f.balise).str.contains(_LONG_NUMBER))
            .filter(pl.col(f.balise).str.count_matches("[0-9]") > SHOWN_DIGITS)[ROW].to_list()
            for f in sheet.fields if not KINDS[f.kind].TEXT and f.balise in letters}
    return _rewrite_confirmed(frame, letters, long, numeric_cells, lambda b: number_as_shown(pl.col(b)))[0]


# a boolean cell as the reader spells it (true, false; LibreOffice's =TRUE() 1, 0) → as the sheet shows it
_SPELLED_BOOLEANS = {"true": "VRAI", "false": "FAUX", "1": "VRAI", "0": "FAUX"}


def _booleans_as_shown(boolean_cells: CellsOf, sheet: Sheet, frame: pl.DataFrame, letters: dict[str, str],
                       ods: bool = False, computed: Iterable[tuple[str, int]] = ()) -> pl.DataFrame:
    """Rare path: a boolean cell in a column that is not a boolean one (an amount, a name, a
    list…) is read VRAI or FAUX, as the sheet shows it, not « true » or « 1 » as the reader
    spells it: it is echoed so, and never taken for the amount 1. The same text typed stays
    as typed. In an integer column of an .xlsx only « true » and « false » are looked at, and
    the cells the sheet's scan found computed by TRUE() or FALSE() (`computed`: a program may
    save their value as the number 1 or 0): any other 1 there is most often one, and would make
    every sheet of counts be searched; an .ods reads LibreOffice's VRAI only as 1 (the number
    =TRUE() computes), so there a 1 or 0 is looked at too (its content.xml listed once), never
    deposited as the count 1."""
    words = list(_SPELLED_BOOLEANS)

    def suspects(f: Field) -> list[int]:
        if f.kind != "integer" or ods:
            return frame.filter(pl.col(f.balise).is_in(words))[ROW].to_list()
        typed = frame.filter(pl.col(f.balise).is_in(["true", "false"]))[ROW].to_list()
        return typed + [r for letter, r in computed if letter == letters[f.balise]]
    spelled = {f.balise: suspects(f) for f in sheet.fields if f.kind != "boolean" and f.balise in letters}
    return _rewrite_confirmed(frame, letters, spelled, boolean_cells, lambda b: pl.col(b).replace(_SPELLED_BOOLEANS))[0]


# a date or time cell as the reader gives it: « AAAA-MM-JJ hh:mm:ss » (.xlsx), « AAAA-MM-JJ » or
# « AAAA-MM-JJThh:mm:ss » (.ods), a time alone on Excel's day 0 (« 1899-12-31 14:30:00 »)
_DATE_CELL = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?)?$"


def _dates_in_text(numeric_cells: CellsOf, sheet: Sheet,
                   frame: pl.DataFrame, padded: dict[str, list[int]], letters: dict[str, str]
                   ) -> tuple[pl.DataFrame, dict[str, list[int]]]:
    """Rare path: a date or time cell in a free-text column (4.2 typed for a version becomes
    the date 04/02 in a French spreadsheet) is read as the sheet shows it, JJ/MM/AAAA (hh:mm),
    as `kinds.as_typed` echoes a date: the reader's ISO text differed between an .xlsx and an
    .ods of the same data, and was deposited. Its rows join `padded`: the text kind's
    PADDED_CODE warns. The same text typed as text stays as typed."""
    frame, dated = _rewrite_confirmed(frame, letters, _matching(sheet, frame, letters, "text", _DATE_CELL),
                                      numeric_cells, lambda b: as_typed(pl.col(b)))
    return frame, {**padded, **dated}


_SERIAL = r"^\d{1,5}(?:\.0+)?$"  # a date typed as a number, as the reader gives it in text


def _dates_from_1904(numeric_cells: CellsOf, sheet: Sheet,
                     frame: pl.DataFrame, letters: dict[str, str]) -> pl.DataFrame:
    """Rare path: in a workbook that counts its dates from 1904 (container.uses_1904_dates), a
    date held as a number (a cell of format Standard) is that many days after 1 January 1904,
    not after 30 December 1899 as kinds/date.py reads a serial number: it is rewritten as the
    date it is, « AAAA-MM-JJ », as the reader gives a date cell. Text typed as digits stays."""
    def from_1904(balise: str) -> pl.Expr:
        days = pl.col(balise).str.extract(r"^(\d+)", 1).cast(pl.Int64)
        return (pl.lit(date(1904, 1, 1)) + pl.duration(days=days)).dt.strftime("%Y-%m-%d")

    return _rewrite_confirmed(frame, letters, _matching(sheet, frame, letters, "date", _SERIAL), numeric_cells,
                              from_1904)[0]


_BEFORE_MARCH_1900 = r"^(?:1899-|1900-0[12]-)"  # a date the reader counts as Excel does, a day after Calc


def _serials(zf: zipfile.ZipFile, member: str, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], float]:
    """The numbers the wanted number cells hold (a date cell: its serial number)."""
    found: dict[tuple[str, int], float] = {}

    def number(m: re.Match[bytes]) -> bool:
        t, v, ref = _TYPE.search(m.group(1)), _V.search(m.group(2)), _REF.search(m.group(1))
        if ref and v and (t is None or t.group(1) == b"n"):
            with contextlib.suppress(ValueError):
                found[(ref.group(1).decode(), int(ref.group(2)))] = float(v.group(1))
        return False
    _cells_where(zf, member, wanted, _CELL_WITH_BODY, number)
    return found


def _dates_of_calc(serials: Callable[[set[tuple[str, int]]], dict[tuple[str, int], float]], sheet: Sheet,
                   frame: pl.DataFrame, letters: dict[str, str]) -> pl.DataFrame:
    """Rare path: in an .xlsx LibreOffice saved (container.written_by_calc), a date cell before
    1 March 1900 is the day LibreOffice shows, 30 December 1899 plus its serial number: the
    reader counts it as Excel does, a day later (15/12/1899 typed was read 16/12/1899, and
    echoed so by the message refusing its year; 30/12/1899, its serial 0, was echoed « 00:00 »).
    A time of day alone (a serial between 0 and 1) stays."""
    early = _matching(sheet, frame, letters, "date", _BEFORE_MARCH_1900)
    wanted = {(letters[b], r) for b, rows in early.items() for r in rows}
    if not wanted:
        return frame
    found = serials(wanted)
    for balise, rows in early.items():
        days = {r: math.floor(found[(letters[balise], r)]) for r in rows
                if (letters[balise], r) in found and not 0 < found[(letters[balise], r)] < 1}
        if days:
            shown = {r: (date(1899, 12, 30) + timedelta(days=d)).isoformat() for r, d in days.items()}
            frame = frame.with_columns(
                pl.concat_str(pl.col(ROW).replace_strict(shown, default=None, return_dtype=pl.String),
                              pl.col(balise).str.slice(10)).fill_null(pl.col(balise)).alias(balise))
    return frame


def read_workbook(path: Path, definition: FormatDefinition | None = None,
                  then: Callable[[RawWorkbook, Sheet], Any] | None = None) -> RawWorkbook:
    """Read every sheet of the format; the format comes from the Entête sheet unless given.
    With `then`, `then(raw, sheet)` of each sheet read starts at once (`RawWorkbook.ahead`)."""
    path = Path(path)
    _check_container(path)
    try:
        with zipfile.ZipFile(path) as zf:
            raw = _read(path, zf, definition, then)
        release_freed_memory()
        return raw
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ParseError, DefusedXmlException,
            NotImplementedError, OSError, zlib.error) as exc:
        # NotImplementedError: zip compression method unknown to Python; OSError: read failure;
        # zlib.error: a damaged stream that zipfile inflates (an XML prolog, a sheet re-read)
        raise _fail("fichier_illisible", path, detail=f"archive endommagée : {_damage(exc)}") from exc


def _damage(exc: BaseException) -> str:
    """What is wrong with a damaged package, in French (zipfile and zlib say it in English).

    >>> _damage(zipfile.BadZipFile("File is not a zip file"))
    'fichier incomplet ou abîmé, par une copie ou un téléchargement interrompu : reprenez-en une copie complète'
    >>> _damage(zipfile.BadZipFile("Bad CRC-32 for file 'xl/worksheets/sheet2.xml'"))
    'une partie du fichier est abîmée (somme de contrôle fausse) : reprenez-en une copie complète'
    """
    text = str(exc)
    if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile):
        from .files import why  # its French reason; imported on this path only
        return f"lecture impossible : {why(exc)}"
    if "CRC" in text:
        return "une partie du fichier est abîmée (somme de contrôle fausse) : reprenez-en une copie complète"
    if isinstance(exc, NotImplementedError):
        return "méthode de compression non prise en charge : ouvrez-le dans Excel ou LibreOffice et enregistrez-le de nouveau"
    if isinstance(exc, (ParseError, DefusedXmlException)):
        return "le XML d'une de ses parties est mal formé ou interdit : ouvrez-le dans Excel ou LibreOffice et enregistrez-le de nouveau"
    if isinstance(exc, zlib.error):
        return "données compressées abîmées : reprenez-en une copie complète"
    return "fichier incomplet ou abîmé, par une copie ou un téléchargement interrompu : reprenez-en une copie complète"


def release_freed_memory() -> None:
    """Give the C library's freed memory back to the system. fastexcel's cells, freed once the
    sheets are frames, stay in glibc's per-thread arenas otherwise: at 100,000 demandes, 200 Mio
    of the process's memory held for nothing until it ends. Elsewhere than glibc: nothing to do.
    (In a thread of its own, it kept the others waiting on the arenas it locks: no gain.)"""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@cache
def _libc() -> ctypes.CDLL | None:
    # the process's own symbols hold the C library's: ctypes.util.find_library would run
    # ldconfig in a subprocess (a quarter of a second, at the end of every read)
    try:
        libc = ctypes.CDLL(None) if sys.platform.startswith("linux") else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def _open(path: Path, ods: bool = False) -> fastexcel.ExcelReader:
    """fastexcel's reader; it tells the kind of a file named by its extension, so a file whose
    extension lies (an .ods renamed .xlsx) is handed over as bytes, told by its content; so is
    a file whose name is no UTF-8 (bytes of another encoding, that Python keeps as « \\udce9 »):
    fastexcel refused it in English (« source must be a string or bytes »)."""
    named = path.suffix.lower() in ((".ods",) if ods else (".xlsx", ".xlsm")) and _utf8(str(path))
    try:
        return fastexcel.read_excel(path if named else path.read_bytes())
    except BaseException as exc:
        if _fatal(exc):
            raise
        raise _fail("fichier_illisible", path, detail=_short(exc)) from exc


def _utf8(text: str) -> bool:
    """
    >>> _utf8("é.xlsx"), _utf8("caf\\udce9.xlsx")
    (True, False)
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@cache
def _data_sheet_names() -> frozenset[str]:
    """The sheets some format reads, besides the Entête."""
    return frozenset(s.name for d in all_formats().values() for s in d.sheets)


def _ready(value: Value) -> Future[Value]:
    done: Future[Value] = Future()
    done.set_result(value)
    return done


def _read(path: Path, zf: zipfile.ZipFile, definition: FormatDefinition | None,
          then: Callable[[RawWorkbook, Sheet], Any] | None) -> RawWorkbook:
    if container.is_ods(zf):  # LibreOffice Calc: its sheets share one content.xml, scanned before reading
        _check_archive(path, zf)
        _refused(path, container.check_ods, zf)
        with _ContentCheck(path, zf) as check:
            scans = _scan_ods(path, zf, check=check)
        read = {_sheet_key(n) for n in (HEADER_SHEET, *_data_sheet_names())}
        for name, scan in scans.items():  # before fastexcel opens it: it loads every sheet at once
            if _sheet_key(name) in read:
                _check_extent(path, name, scan)
        return _read_sheets(path, zf, definition, {}, {n: _ready(s) for n, s in scans.items()}, True, then)
    members = _check_package(path, zf)
    # fastexcel releases the GIL while it opens a workbook or loads a sheet: meanwhile, one
    # thread scans the sheets' XML (SheetScan), each ahead of its sheet's load. A second reader
    # parses the shared strings again and its Arrow export holds the GIL: only a large workbook
    # gets one (concurrency.TWO_READERS_FROM; issue #19, docs/performance.md)
    scanned = {name: member for name, member in members.items() if name in _data_sheet_names()}
    styles = container.number_styles(zf)
    with concurrency.computed_ahead(partial(_scan_sheet, zf, styles=styles), scanned) as ahead:
        return _read_sheets(path, zf, definition, members, ahead, then=then)


def _header_format(reader: Any, path: Path, scan: SheetScan, sheet_name: str) -> FormatDefinition:
    """The definition the header sheet's `format` cell names; a French WorkbookError when it is
    empty or unknown."""
    header, _ = _load(reader, path, format_only_header(), scan, sheet_name)
    fmt = header["format"].drop_nulls().str.strip_chars().to_list()[:1]
    if not fmt:
        filled, _ = _load(reader, path, common_header(), scan, sheet_name)
        if filled.height:  # numeroAns or SIRET typed, but not the format
            raise _fail("format_absent", path, sheet=HEADER_SHEET, row=int(filled[ROW][0]),
                        column=common_header().column_letter("format"), balise="format")
        raise _fail("entete_vide", path, sheet=HEADER_SHEET)
    try:
        return typed_format(fmt[0])  # « MS2-DUI-PDS-SOLDE » too: the Entête's check warns
    except UnknownFormat:
        raise _fail("format_inconnu", path, sheet=HEADER_SHEET, row=int(header[ROW][0]),
                    column=common_header().column_letter("format"), balise="format", value=fmt[0]) from None


@dataclass
class _SheetRead:
    """One sheet read (`_read_sheets`), before it goes into the RawWorkbook."""

    frame: pl.DataFrame
    letters: dict[str, str]
    formulas: dict[str, list[int]]  # balise → rows holding a formula saved without its value
    padded: dict[str, list[int]]  # balise → rows whose identifier got its leading zeros back
    shown: dict[str, dict[int, str]] = field(default_factory=dict)  # RawWorkbook.shown of the sheet
    hidden: list[int] = field(default_factory=list)  # RawWorkbook.hidden of the sheet
    hidden_columns: list[str] = field(default_factory=list)  # RawWorkbook.hidden_columns of the sheet
    masked: dict[str, dict[int, str]] = field(default_factory=dict)  # RawWorkbook.masked of the sheet
    narrow_columns: list[str] = field(default_factory=list)  # RawWorkbook.narrow_columns of the sheet
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # RawWorkbook.merged of the sheet


def _read_sheets(path: Path, zf: zipfile.ZipFile, definition: FormatDefinition | None, members: dict[str, str],
                 ahead: dict[str, Future[SheetScan]], ods: bool = False,
                 then: Callable[[RawWorkbook, Sheet], Any] | None = None) -> RawWorkbook:
    # a large .xlsx is read by two fastexcel readers, each loading its share of the sheets in a
    # thread of its own (one reader cannot be shared), the second opening meanwhile; an .ods
    # has one reader: fastexcel loads all its sheets at once. The command opened them ahead,
    # while Python imported the rest (launch.py)
    readers = [] if ods else launch.opened(path)
    sizes = {name: zf.getinfo(member).file_size for name, member in members.items()}
    opening = None
    if not ods and concurrency.two_readers(container.sheet_bytes(zf, members)):
        opening = _ready(readers[1]) if len(readers) > 1 else concurrency.started(partial(_open, path))
    try:
        return _read_opened(path, zf, definition, members, ahead, ods, then, opening, sizes, readers[:1])
    except BaseException:  # the second reader, if it is still opening, ends first
        if opening is not None:
            with contextlib.suppress(BaseException):
                concurrency.results([opening])
        raise


CellsOf = Callable[[set[tuple[str, int]]], set[tuple[str, int]]]  # which of these cells hold…


def _cells_of(path: Path, zf: zipfile.ZipFile, members: dict[str, str], ods: bool
              ) -> Callable[[str], tuple[CellsOf, CellsOf] | None]:
    """For a sheet, (numbers, booleans): which of the cells asked hold a number, a boolean.
    An .xlsx sheet's XML is searched for the cells asked (`_numeric_cells`, `_boolean_cells`);
    an .ods's content.xml is listed once (`_scan_ods(listing=True)`), when a sheet first asks.
    None: a sheet of no XML member."""
    listed: dict[str, SheetScan] = {}
    listing = threading.Lock()

    def among(user: str, which: str, wanted: set[tuple[str, int]]) -> set[tuple[str, int]]:
        with listing:
            if not listed:
                listed.update(_scan_ods(path, zf, listing=True))
        return wanted & (getattr(listed.get(user, SheetScan()), which) or set())

    def of(user: str) -> tuple[CellsOf, CellsOf] | None:
        if ods:
            return partial(among, user, "numeric"), partial(among, user, "booleans")
        if user in members:
            return partial(_numeric_cells, zf, members[user]), partial(_boolean_cells, zf, members[user])
        return None
    return of


def _read_opened(path: Path, zf: zipfile.ZipFile, definition: FormatDefinition | None, members: dict[str, str],
                 ahead: dict[str, Future[SheetScan]], ods: bool, then: Callable[[RawWorkbook, Sheet], Any] | None,
                 opening: Future[fastexcel.ExcelReader] | None, sizes: dict[str, int],
                 opened: list[fastexcel.ExcelReader]) -> RawWorkbook:
    reader = opened[0] if opened else _open(path, ods)
    try:
        names = reader.sheet_names
    except BaseException as exc:
        if _fatal(exc):
            raise
        raise _fail("fichier_illisible", path, detail=_short(exc)) from exc
    actual = _find_sheets(path, names, [HEADER_SHEET])
    if HEADER_SHEET not in actual:
        raise _fail("feuille_manquante", path, sheet=HEADER_SHEET)
    scans: dict[str, SheetScan] = {}

    def scan(sheet: str) -> SheetScan:
        """The sheet's scan (the one started ahead, if any), its extent checked."""
        name = actual[sheet]
        if name not in scans:
            if name in ahead:
                scans[name] = ahead[name].result()
            else:
                scans[name] = _scan_sheet(zf, members[name]) if name in members else SheetScan()
            _check_extent(path, name, scans[name])
        return scans[name]

    if definition is None:
        definition = _header_format(reader, path, scan(HEADER_SHEET), actual[HEADER_SHEET])
    raw = RawWorkbook(path=path, definition=definition, frames={}, letters={})
    from_1904, from_calc = (container.uses_1904_dates(zf), container.written_by_calc(zf)) if members else (False, False)
    cells_of = _cells_of(path, zf, members, ods)

    def read(sheet: Sheet, by: fastexcel.ExcelReader = reader) -> _SheetRead:
        """`sheet`, loaded by the reader `by`, its identifiers padded and its unsaved formulas listed."""
        user = actual[sheet.name]
        frame, letters = _load(by, path, sheet, scan(sheet.name), user)
        by_letter = {letter: b for b, letter in letters.items()}
        formulas, shown, masked = _noted(sheet, by_letter, scans[user])
        hidden = sorted(scans[user].hidden)
        columns = [b for b, letter in letters.items() if scans[user].hides_column(letter)]
        unseen = {"narrow_columns": [b for b, at in letters.items() if scans[user].narrows_column(at)], "merged": scans[user].merged}
        if (kinds := cells_of(user)) is None:
            return _SheetRead(frame, letters, formulas, {}, shown, hidden, columns, masked, **unseen)
        numeric, booleans = kinds
        frame = _numbers_as_shown(numeric, sheet, frame, letters)
        frame = _booleans_as_shown(booleans, sheet, frame, letters, ods, scans[user].boolean_formulas)
        frame, padded = _dates_in_text(numeric, sheet, *_pad_identifiers(numeric, sheet, frame, letters), letters)
        if from_1904:
            frame = _dates_from_1904(numeric, sheet, frame, letters)
        elif from_calc:  # an .xlsx: its sheets have members
            frame = _dates_of_calc(partial(_serials, zf, members[user]), sheet, frame, letters)
        return _SheetRead(frame, letters, formulas, padded, {**shown, **_dates_shown(sheet, frame, letters, scans[user])},
                          hidden, columns, masked, **unseen)

    def read_second(sheet: Sheet) -> None:
        """`sheet`, loaded by the second reader and published at once: its check starts."""
        assert opening is not None
        publish(sheet, read(sheet, opening.result()))

    def publish(sheet: Sheet, done: _SheetRead) -> None:
        """`sheet` into `raw`; `then(raw, sheet)` starts, while fastexcel loads the next sheets."""
        raw.frames[sheet.name], raw.letters[sheet.name] = done.frame, done.letters
        for noted in ("formulas", "padded", "shown", "hidden", "hidden_columns", "masked", "narrow_columns", "merged"):
            if getattr(done, noted):
                getattr(raw, noted)[sheet.name] = getattr(done, noted)
        if then is not None:
            raw.ahead[sheet.name] = concurrency.started(partial(then, raw, sheet))

    try:
        with contextlib.ExitStack() as stack:
            def later(sheets: list[Sheet]) -> dict[str, Future[None]]:
                share = _second_share(sheets, [sizes.get(actual[s.name], 0) for s in sheets]) if opening else []
                return stack.enter_context(concurrency.computed_ahead(read_second, {s.name: s for s in share})) \
                    if share else {}
            return _read_all(path, raw, names, actual, read, publish, later)
    except BaseException:  # the sheets' checks already started end first (concurrency.results)
        with contextlib.suppress(BaseException):
            concurrency.results(list(raw.ahead.values()))
        raise


def _noted(sheet: Sheet, by_letter: dict[str, str], scan: SheetScan
           ) -> tuple[dict[str, list[int]], dict[str, dict[int, str]], dict[str, dict[int, str]]]:
    """What the scan noted of a sheet's columns (`by_letter`: letter → balise): balise → the
    rows holding a formula saved without its value; and RawWorkbook.shown, the cells of a kind
    shown rounded (`SHOWN_FROM`) whose number format shows another number than they hold,
    balise → row → the text shown; and RawWorkbook.masked, balise → row → the text shown by a
    cell whose format shows none of its value."""
    formulas: dict[str, list[int]] = {}
    for (letter, row) in scan.formulas:
        if letter in by_letter:
            formulas.setdefault(by_letter[letter], []).append(row)
    shown: dict[str, dict[int, str]] = {}
    for (letter, row), text in scan.shown.items():
        if letter in by_letter and getattr(KINDS[sheet.by_balise[by_letter[letter]].kind], "SHOWN_FROM", None) == "rounded":
            shown.setdefault(by_letter[letter], {})[row] = text
    masked: dict[str, dict[int, str]] = {}
    for (letter, row), text in scan.masked.items():
        if letter in by_letter:
            masked.setdefault(by_letter[letter], {})[row] = text
    return formulas, shown, masked


_MONTH_FIRST_CELLS = {"letter": pl.Binary, "row": pl.Binary, "before": pl.Binary, "style": pl.Binary, "after": pl.Binary}
_TEXT_CELL = r'\bt="(?:s|str|inlineStr)"'  # a cell of text shows its text, whatever its number format


def _dates_shown(sheet: Sheet, frame: pl.DataFrame, letters: dict[str, str], scan: SheetScan
                 ) -> dict[str, dict[int, str]]:
    """Rare path: in a date column, the date cells whose format shows the month before the day
    (SheetScan.month_first) and whose day is also a month (at most 12, not the month: 04/03/2024
    for 3 April): balise → row → what the cell shows (RawWorkbook.shown). One Polars join a
    column, never a loop over the cells."""
    balises = {letters[f.balise]: f.balise for f in sheet.fields
               if getattr(KINDS[f.kind], "SHOWN_FROM", None) == "month_first" and f.balise in letters}
    if not scan.month_first or not balises:
        return {}
    cells = pl.DataFrame(scan.month_first, schema=_MONTH_FIRST_CELLS, orient="row").select(
        pl.col("letter").cast(pl.String), pl.col("row").cast(pl.String).cast(pl.Int64).alias(ROW), "style",
        pl.concat_str(pl.col("before").cast(pl.String), pl.col("after").cast(pl.String)).str.contains(_TEXT_CELL).alias("text"),
    ).filter(~pl.col("text") & pl.col("letter").is_in(list(balises)))
    found: dict[str, dict[int, str]] = {}
    for (letter,), mine in cells.group_by("letter"):
        b = balises[letter]
        held = pl.col(b).str.slice(0, 19).str.replace("T", " ", literal=True)
        when = pl.coalesce(held.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False),
                           held.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")))
        shows = pl.lit(None, dtype=pl.String)
        for style, pattern in scan.date_formats.items():
            shows = pl.when(pl.col("style") == style).then(when.dt.strftime(pattern)).otherwise(shows)
        ambiguous = frame.select(ROW, b).join(mine.select(ROW, "style"), on=ROW).filter(
            (when.dt.day() <= 12) & (when.dt.day() != when.dt.month())).select(ROW, shows.alias("shows")).drop_nulls()
        if ambiguous.height:
            found[b] = dict(zip(ambiguous[ROW].to_list(), ambiguous["shows"].to_list()))
    return found


def _second_share(sheets: list[Sheet], sizes: list[int]) -> list[Sheet]:
    """The sheets a second reader loads: the last ones, as many as balance the two readers'
    bytes of sheet XML (the first also reads the Entête, a few hundred bytes). The benchmark's
    « excel » workbook at 100,000 demandes (Mio):

    >>> _second_share(["Demandes", "OG", "FINESS Géo", "Scénarios", "Pièces"], [20, 41, 28, 52, 0])
    ['FINESS Géo', 'Scénarios', 'Pièces']
    """
    cut = min(range(1, len(sheets)), default=len(sheets), key=lambda k: max(sum(sizes[:k]), sum(sizes[k:])))
    return sheets[cut:]


def _read_all(path: Path, raw: RawWorkbook, names: list[str], actual: dict[str, str],
              read: Callable[[Sheet], _SheetRead], publish: Callable[[Sheet, _SheetRead], None],
              later: Callable[[list[Sheet]], dict[str, Future[None]]]) -> RawWorkbook:
    """Every sheet of `raw.definition`, in its order, read into `raw` and published. `later` starts
    reading and publishing elsewhere (the second reader) the last of the sheets present: each is
    waited for in turn, so the sheet that fails first in the format's order is the one reported."""
    definition = raw.definition
    first = read(definition.header)
    header = first.frame
    if header.height == 0:
        raise _fail("entete_vide", path, sheet=HEADER_SHEET)
    if header.height > 1:  # a second numeroAns or SIRET would be silently dropped
        raise _fail("entete_plusieurs_lignes", path, sheet=HEADER_SHEET, row=int(header[ROW][1]))
    publish(definition.header, first)
    actual.update(_find_sheets(path, names, [s.name for s in definition.sheets]))
    missing = [s for s in definition.sheets if s.name not in actual and not s.optional]
    if missing:
        raise WorkbookError([issue("feuille_manquante", file=str(path), sheet=s.name) for s in missing])
    elsewhere = later([s for s in definition.sheets if s.name in actual])
    for sheet in definition.sheets:  # in the format's order: the first sheet that fails is the one reported
        if sheet.name in elsewhere:
            elsewhere[sheet.name].result()
        elif sheet.name in actual:
            publish(sheet, read(sheet))
        else:
            publish(sheet, _SheetRead(pl.DataFrame(
                {**{b: pl.Series([], dtype=pl.String) for b in sheet.balises}, ROW: pl.Series([], dtype=pl.Int64)}
            ), {}, {}, {}))
    if raw.frames[definition.demandes.name].height == 0:
        # an order-check workbook (nature commandes) holds purchase orders, not demandes
        raise _fail("aucune_demande", path, sheet=definition.demandes.name,
                    detail="demande" if definition.produces_deposit else "bon de commande")
    raw.renamed = {n: u for n, u in actual.items() if n != u}
    order = [definition.header.name, *(s.name for s in definition.sheets)]
    for found in ("frames", "letters", "padded", "formulas", "shown", "hidden", "hidden_columns", "masked",
                  "narrow_columns", "merged"):  # in the format's order, whoever read them
        setattr(raw, found, {name: getattr(raw, found)[name] for name in order if name in getattr(raw, found)})
    return raw


def _sheet_key(name: str) -> str:
    """A sheet name as a user may retype it: without accents, in any case, spaces collapsed.

    >>> _sheet_key("FINESS Géo") == _sheet_key(" finess  geo") == _sheet_key("FINESS GÉO")
    True
    """
    bare = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _find_sheets(path: Path, names: list[str], wanted: list[str]) -> dict[str, str]:
    """wanted sheet → the user's sheet holding it: the same name, else the one sheet whose name
    differs by accents, case or spaces only (« Scenarios », « finess geo »); two such sheets
    are an error, the reader cannot choose. A sheet absent either way has no entry."""
    found: dict[str, str] = {}
    problems = []
    for name in wanted:
        if name in names:
            found[name] = name
            continue
        near = [n for n in names if n not in wanted and _sheet_key(n) == _sheet_key(name)]
        if len(near) == 1:
            found[name] = near[0]
        elif near:
            problems.append(issue("feuille_ambigue", file=str(path), sheet=name,
                                  detail=" et ".join(f"« {n} »" for n in near)))
    if problems:
        raise WorkbookError(problems)
    return found


def format_only_header() -> Sheet:
    """The Entête sheet reduced to its `format` column, read before the format is known."""
    header = common_header()
    return replace(header, fields=tuple(f for f in header.fields if f.balise == "format"))
