"""Worksheet rows written fast: the rows of a sheet, given whole as a Polars frame, rendered by
Polars string expressions into the XML xlsxwriter writes, then spliced into the workbook
xlsxwriter wrote around them (its headers, widths, lists, notes, filters, other sheets).

xlsxwriter writes a cell in some 20 µs of Python (its checks, escapes, XML): a year's ledger
(`etat`, 7 million cells) took 3 minutes, a solde workbook of 40,000 demandes (880,000 cells)
two thirds of its 10 s. Rendered by Polars a slice of `ROWS_AT_ONCE` rows at a time, they cost
a few hundred nanoseconds each.

Its serial twin (`concurrency.SERIAL`) writes the same rows cell by cell with xlsxwriter
(`write_string`, `write_number`, `write_datetime`): the workbook's parts are the same bytes,
which tests/test_fastxlsx.py checks, hostile values included. Both twins take the same frame
and `Column`s; which cells are numbers is decided by one function (`_number`) for both.

What both write differently from plain xlsxwriter (`Book`):
- a text that begins with « <r> » and ends with « </r> » is text, escaped: xlsxwriter takes it
  for its own rich text and writes it unescaped (`<r>a & b</r>` made a workbook Excel refuses);
- in constant_memory (the only mode where rows may be given whole), each format gets its style
  number when it is made (`Book.add_format`), not when a cell first uses it: the numbers no
  longer depend on the order cells are written in.

The rows given to a sheet are its last: nothing is written by xlsxwriter in that sheet on or
after their first row (checked when the workbook is closed, `_spliced`).
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from xlsxwriter import Workbook
from xlsxwriter.format import Format
# _datetime_to_excel_datetime: the function write_datetime itself calls, for the same number
from xlsxwriter.utility import _datetime_to_excel_datetime, xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from . import concurrency

TEXT, NUMBER, DATE, AMOUNT, INTEGER = "text", "number", "date", "amount", "integer"
ROWS_AT_ONCE = 5_000  # rows rendered together; 20,000 held 33 Mio more at the peak of `solde` (355 Mio), same CPU
TEXT_LIMIT = 32_767  # Excel's longest text, in UTF-16 units (xlsxwriter cuts beyond)


@dataclass(frozen=True)
class Column:
    """How the cells of one column of a frame are written. `name`: the frame's column, text
    (null: no cell). `write`: TEXT, always a text; NUMBER, always a number (the text of one);
    DATE, AMOUNT, INTEGER, a date or a number when the text is one as xl2segur writes it
    (JJ/MM/AAAA, 4866.67, 120), else the text. `style`: the cell's format, else its column's."""

    name: str
    style: Format | None = None
    write: str = TEXT


_PLAIN_AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


def _number(write: str, text: str) -> float | int | datetime | None:
    """The value `text` is written as in a column of `write`: a number or a date, or None (a text)."""
    if write == TEXT:
        return None
    if write == NUMBER:  # the ledger's amounts: a text that is no finite number stays a text
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    if write == DATE:
        try:
            return datetime.strptime(text, "%d/%m/%Y")
        except ValueError:
            return None
    if not _PLAIN_AMOUNT.fullmatch(text) or (write == INTEGER and "." in text):
        return None
    return float(text) if "." in text else int(text)


class TextWorksheet(Worksheet):
    """A worksheet whose texts are all plain text: xlsxwriter writes one that begins with
    « <r> » and ends with « </r> » as its own rich text, unescaped (xl2segur writes no rich
    text): as text, escaped, like any other."""

    def _xml_rich_inline_string(self, string: str, attributes: Any = ()) -> None:
        self._xml_inline_string(string, _PRESERVED.search(string), list(attributes))


_PRESERVED = re.compile(r"^\s|\s$")  # xlsxwriter's own test (utility._preserve_whitespace)


class Book(Workbook):
    """An xlsxwriter workbook at `target`, whose sheets may be given their rows whole (`rows`).
    Fast (the default): xlsxwriter writes the rest in memory, and `close` writes the workbook
    with the rows rendered by Polars; `concurrency.SERIAL`: cell by cell, by xlsxwriter. A
    workbook without rows given whole is xlsxwriter's, as written."""

    worksheet_class = TextWorksheet

    def __init__(self, target: Path | str, options: dict[str, Any]):
        self.serial = concurrency.SERIAL
        self.target = Path(target)
        self.pending: dict[str, tuple[Worksheet, pl.DataFrame, list[Column], int]] = {}
        self.made = False
        super().__init__(str(target), options)
        self.made = True
        if self.default_date_format is not None and self.constant_memory:  # a date's given none (`_renderer`)
            self.default_date_format._get_xf_index()

    def add_format(self, properties: dict[str, Any] | None = None) -> Format:
        fmt = super().add_format(properties)
        # the rows rendered after xlsxwriter wrote the styles need theirs; rows are only given
        # whole in constant_memory: elsewhere, xlsxwriter's own order (at first use), as always
        if self.made and self.constant_memory:  # not xlsxwriter's own defaults: they keep theirs
            fmt._get_xf_index()
        return fmt

    def rows(self, ws: Worksheet, frame: pl.DataFrame, columns: list[Column], first: int) -> None:
        """The cells of `frame`'s rows, from row `first` (0-based) of `ws`, its columns from
        the first: `columns[i]` says how the i-th is written."""
        if not self.constant_memory:  # its texts would be shared strings, not those rendered here
            raise ValueError("rows given whole need a workbook in constant_memory")
        if self.serial:
            _write_cells(ws, frame, columns, first)
        elif frame.height:
            self.pending[f"xl/worksheets/sheet{ws.index + 1}.xml"] = (ws, frame, columns, first)

    def close(self) -> None:
        if not self.pending:  # serial, or no rows given whole: xlsxwriter writes the workbook
            super().close()
            return
        self.filename = written = io.BytesIO()  # the rest, small, in memory
        super().close()
        written.seek(0)
        with open(self.target, "wb") as out:
            _spliced(written, out, self.pending)


def _write_cells(ws: Worksheet, frame: pl.DataFrame, columns: list[Column], first: int) -> None:
    """The serial twin: each cell by xlsxwriter, in order."""
    for r, values in enumerate(frame.select(c.name for c in columns).iter_rows(), start=first):
        for c, (value, column) in enumerate(zip(values, columns)):
            if value is None:
                continue
            number = _number(column.write, value)
            if number is None:
                ws.write_string(r, c, value, column.style)
            elif isinstance(number, datetime):
                ws.write_datetime(r, c, number, column.style)
            else:
                ws.write_number(r, c, number, column.style)


def _spliced(written: io.BytesIO, out: Any, pending: dict[str, tuple[Worksheet, pl.DataFrame, list[Column], int]]) -> None:
    """The workbook xlsxwriter `written`, into `out`, each sheet of `pending` with its rows
    rendered and compressed a slice at a time, its dimension widened to them."""
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for item in source.infolist():
            data = source.read(item)
            if item.filename not in pending:
                zf.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
                continue
            ws, frame, columns, first = pending[item.filename]
            if ws.dim_rowmax is not None and ws.dim_rowmax >= first:
                raise RuntimeError(f"{ws.name}: xlsxwriter wrote row {ws.dim_rowmax + 1}, among the rows given whole")
            filled = frame.select(pl.any_horizontal(pl.col(c.name).is_not_null() for c in columns).arg_true())[:, 0]
            if filled.is_empty():  # no cell: the sheet as xlsxwriter wrote it
                zf.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
                continue
            used = frame.select(pl.col(c.name).is_not_null().any() for c in columns).row(0)
            left, right = used.index(True), len(used) - 1 - used[::-1].index(True)
            text = _widened(data.decode(), ws, first + filled[0], first + filled[-1], left, right)
            end = re.search(r"</sheetData>|<sheetData/>", text)  # the sheet's own rows end, or it has none
            head, tail = text[:end.start()] + ("<sheetData>" if end[0] == "<sheetData/>" else ""), text[end.end():]
            renders = [_renderer(ws, c, column, frame) for c, column in enumerate(columns)]
            # a number's text found once for the whole sheet: a mapping of every distinct value per slice took seconds
            frame = frame.with_columns(**{k: v for ahead, _ in renders for k, v in ahead.items()})
            with zf.open(item.filename, "w", force_zip64=True) as part:  # compressed as the ZipFile says
                part.write(head.encode())
                kept = _Kept(part)
                for start in range(0, frame.height, ROWS_AT_ONCE):
                    chunk = frame.slice(start, ROWS_AT_ONCE)
                    # written by Polars as one column of CSV, never quoted, nothing between rows: no
                    # Python text per row (2 ko held per row of a solde workbook)
                    try:
                        chunk.select(_row([cell for _, cell in renders], columns, first + start)).write_csv(
                            kept, include_header=False, quote_style="never", line_terminator="")
                    except OSError:
                        if kept.failure is None:
                            raise
                        raise kept.failure from None
                part.write(("</sheetData>" + tail).encode())


class _Kept:
    """A part of the workbook, for Polars to write into, that keeps the OSError its write raised
    (a full disk): Polars raises another, its message alone, without the errno that
    files.why says in French (« le disque est plein »)."""

    def __init__(self, part: Any):
        self.part, self.failure = part, None

    def write(self, data: bytes) -> int:
        try:
            return self.part.write(data)
        except OSError as exc:
            self.failure = exc
            raise


def _widened(xml: str, ws: Worksheet, top: int, bottom: int, left: int, right: int) -> str:
    """The sheet's <dimension> over xlsxwriter's own cells and the rows' (as _write_dimension)."""
    rows = [r for r in (ws.dim_rowmin, ws.dim_rowmax) if r is not None] + [top, bottom]
    cols = [c for c in (ws.dim_colmin, ws.dim_colmax) if c is not None] + [left, right]
    first, last = xl_rowcol_to_cell(min(rows), min(cols)), xl_rowcol_to_cell(max(rows), max(cols))
    ref = first if first == last else f"{first}:{last}"
    return re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{ref}"/>', xml, count=1)


# what xlsxwriter writes of a text cell (constant_memory: an inline string): a control character
# as _xHHHH_, a text of that form escaped first (« _x005F_x0001_ »), then &, <, > as entities
_CONTROLS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20))]
_ESCAPED = [f"_x{ord(c):04X}_" for c in _CONTROLS] + ["_xFFFE_", "_xFFFF_"]


def _text_cell(value: pl.Expr) -> pl.Expr:
    """`t="inlineStr"><is><t…>text</t></is></c>` of a text (already cut to Excel's limit)."""
    text = value.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F$1")
    text = text.str.replace_many([*_CONTROLS, "\ufffe", "\uffff"], _ESCAPED)
    preserve = pl.when(text.str.contains(r"^\s|\s$")).then(pl.lit(' xml:space="preserve"')).otherwise(pl.lit(""))
    return pl.concat_str(pl.lit(' t="inlineStr"><is><t'), preserve, pl.lit(">"),
                         text.str.replace_many(["&", "<", ">"], ["&amp;", "&lt;", "&gt;"]), pl.lit("</t></is></c>"))


def _cut(value: str) -> str:
    """A text as xlsxwriter keeps it: at most TEXT_LIMIT UTF-16 units, no character split."""
    length = 0
    for index, char in enumerate(value):
        length += 2 if ord(char) > 0xFFFF else 1
        if length > TEXT_LIMIT:
            return value[:index]
    return value


def _style(fmt: Format | None) -> str:
    return f' s="{fmt._get_xf_index()}"' if fmt is not None else ""


def _renderer(ws: Worksheet, col: int, column: Column, frame: pl.DataFrame
              ) -> tuple[dict[str, pl.Expr], Callable[[pl.Expr], pl.Expr]]:
    """The XML of a cell of `column` (the `col`-th), as xlsxwriter writes it: (the columns it
    reads, computed once over the whole frame; ref → the cell, null for no cell). Its style is
    xlsxwriter's (the cell's, else a date's default, else the column's); a number's text is
    xlsxwriter's (`%.16G`), found once per distinct value by `_number`."""
    own = ws.col_info[col].column_format if col in ws.col_info else None
    style = _style(column.style or own)
    value, ahead = pl.col(column.name), {}
    long = frame.filter(value.str.len_chars() > TEXT_LIMIT // 2).get_column(column.name).unique().to_list()
    if cuts := {v: _cut(v) for v in long if _cut(v) != v}:
        ahead[f"__text{col}"] = value.replace(list(cuts), list(cuts.values()))
    text = _text_cell(pl.col(f"__text{col}") if cuts else value)
    distinct = frame.get_column(column.name).drop_nulls().unique() if column.write != TEXT else None
    if distinct is None or distinct.is_empty():
        return ahead, lambda ref: pl.concat_str(pl.lit("<c r=\""), ref, pl.lit(f'"{style}'), text)
    numbers = [_number(column.write, v) for v in distinct.to_list()]
    shown = ["%.16G" % (_datetime_to_excel_datetime(n, ws.date_1904, ws.remove_timezone) if isinstance(n, datetime) else n)
             if n is not None else None for n in numbers]
    ahead[f"__number{col}"] = value.replace_strict(distinct, pl.Series(shown, dtype=pl.String), default=None)
    number = pl.col(f"__number{col}")
    dated = _style(column.style or ws.default_date_format or own) if column.write == DATE else style
    return ahead, lambda ref: pl.when(number.is_not_null()).then(
        pl.concat_str(pl.lit("<c r=\""), ref, pl.lit(f'"{dated}><v>'), number, pl.lit("</v></c>"))
    ).otherwise(pl.concat_str(pl.lit("<c r=\""), ref, pl.lit(f'"{style}'), text))


def _row(cells: list[Callable[[pl.Expr], pl.Expr]], columns: list[Column], first: int) -> pl.Expr:
    """Each row's XML (`first`: the 0-based row of the first), nothing for a row without cells."""
    number = pl.int_range(first + 1, first + 1 + pl.len()).cast(pl.String)
    row = pl.concat_str([pl.lit('<row r="'), number, pl.lit('">'),
                         *(cell(pl.concat_str(pl.lit(xl_col_to_name(c)), number)).fill_null("") for c, cell in enumerate(cells)),
                         pl.lit("</row>")])
    return pl.when(pl.any_horizontal(pl.col(c.name).is_not_null() for c in columns)).then(row).otherwise(pl.lit(""))
