"""converter/fastxlsx.py: the rows rendered by Polars are the bytes xlsxwriter writes cell by cell
(its serial twin, concurrency.SERIAL), every part of the workbook, hostile values included."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from converter import concurrency, fastxlsx
from converter.fastxlsx import AMOUNT, DATE, INTEGER, NUMBER, Book, Column

HOSTILE = ["=1+1", "@x", "+33 6", "-2", " un espace devant", "après ", "\tet\n", "\u00a0insécable", "fin\u3000",
           "\x85", "ligne\u2028", "\x01contrôle\x1f", "_x0001_ écrit tel quel", "_X00e9_", "\ufffe", "\uffff",
           "]]>", "a < b & c > d", '"guillemets"', "'", "<r>a & b</r>", "<r><t>x</t></r>", "😀 émoji 🇫🇷",
           "x" * 40_000, "😀" * 20_000, "é" + "😀" * 16_383, "", "00123", "12", "1.5", "4866.67", "0.07",
           "1" * 20 + ".05", "1e400", "nan", "31/12/2024", "01/01/1900", "28/02/1900", "01/03/1900",
           "1/2/2024", " 1/02/2024", "31/02/2024", "01/01/0000", "29/02/2023", "2024-01-31"]
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _frame() -> pl.DataFrame:
    values = HOSTILE + [None]
    shifted = values[7:] + values[:7]
    return pl.DataFrame({"texte": values, "nombre": [v if v and v[0].isdigit() else None for v in values],
                         "date": shifted, "montant": values, "entier": shifted, "vide": [None] * len(values)},
                        schema={k: pl.String for k in ("texte", "nombre", "date", "montant", "entier", "vide")})


def _book(path: Path, frame: pl.DataFrame) -> None:
    book = Book(path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                       "strings_to_urls": False})
    book.set_properties({"created": datetime(2026, 12, 5)})  # else the time each was made
    bold = book.add_format({"bold": True})
    dated = book.add_format({"num_format": "dd/mm/yyyy"})
    money = book.add_format({"num_format": "#,##0.00"})
    text = book.add_format({"num_format": "@"})
    unused = book.add_format({"italic": True})  # a style no cell uses, made before those the rows use
    first = book.add_worksheet("Première")
    first.write_string(0, 0, "avant", unused)
    for n, rows in enumerate((frame, frame.head(3), frame.clear())):
        ws = book.add_worksheet(f"Lignes {n}")
        for c, name in enumerate(frame.columns):
            ws.write_string(0, c, name, bold)
            ws.set_column(c, c, 12, text if name == "texte" else None)
        ws.write_comment(0, 1, "une note")
        ws.data_validation(1, 2, 100, 2, {"validate": "list", "source": ["a", "b"]})
        ws.autofilter(0, 0, max(rows.height, 1), len(frame.columns) - 1)
        book.rows(ws, rows, [Column("texte"), Column("nombre", money, NUMBER), Column("date", dated, DATE),
                             Column("montant", money, AMOUNT), Column("entier", None, INTEGER), Column("vide")], 1)
    book.add_worksheet("Dernière").write_string(0, 0, "après")
    book.close()


def _read(text: str) -> str:
    """A text as Excel reads it: each _xHHHH_ the character it stands for."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m[1], 16)), text)


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _twins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frame: pl.DataFrame) -> tuple[dict[str, bytes], dict[str, bytes]]:
    _book(tmp_path / "rapide.xlsx", frame)
    monkeypatch.setattr(concurrency, "SERIAL", True)
    _book(tmp_path / "serie.xlsx", frame)
    return _parts(tmp_path / "rapide.xlsx"), _parts(tmp_path / "serie.xlsx")


def test_the_fast_rows_are_the_bytes_xlsxwriter_writes_cell_by_cell(tmp_path, monkeypatch):
    monkeypatch.setattr(fastxlsx, "ROWS_AT_ONCE", 7)  # several slices, one of them short
    fast, serial = _twins(tmp_path, monkeypatch, _frame())
    assert list(fast) == list(serial)
    for name in serial:
        assert fast[name] == serial[name], name
    sheet = fast["xl/worksheets/sheet2.xml"].decode()
    assert f'<dimension ref="A1:F{len(HOSTILE) + 2}"/>' in sheet  # its rows, under its headers
    assert 'r="F2"' not in sheet and "<f>" not in sheet  # no cell for a missing value, no formula


def test_every_value_is_kept_as_text_in_well_formed_xml(tmp_path, monkeypatch):
    """xlsxwriter wrote « <r>a & b</r> » unescaped, as its own rich text: a part Excel refuses.
    Each text is read back as it was given (cut to Excel's limit), never a formula."""
    fast, serial = _twins(tmp_path, monkeypatch, _frame())
    for parts in (fast, serial):
        root = ET.fromstring(parts["xl/worksheets/sheet2.xml"])
        found = {c.get("r"): _read("".join(t.text or "" for t in c.iterfind(".//m:t", NS)))
                 for c in root.iterfind(".//m:c", NS) if c.get("r")[0] == "A"}
        for row, value in enumerate(HOSTILE, start=2):
            assert found[f"A{row}"] == (value if len(value) < 16_000 else found[f"A{row}"])
        assert {len(found[f"A{row}"].encode("utf-16-le")) // 2 for row, v in enumerate(HOSTILE, start=2)
                if len(v) >= 16_000} == {32_766, 32_767}  # cut as Excel's limit says, no character split


def test_typed_cells_are_numbers_only_when_written_as_xl2segur_writes_them(tmp_path, monkeypatch):
    fast, _ = _twins(tmp_path, monkeypatch, _frame())
    root = ET.fromstring(fast["xl/worksheets/sheet2.xml"])
    cells = {c.get("r"): c for c in root.iterfind(".//m:c", NS)}
    row = {v: i for i, v in enumerate(HOSTILE, start=2)}
    assert cells[f"D{row['4866.67']}"].find("m:v", NS).text == "4866.67"
    assert cells[f"D{row['0.07']}"].find("m:v", NS).text == "0.07000000000000001"  # xlsxwriter's %.16G
    assert cells[f"D{row['1.5']}"].get("t") is None and cells[f"D{row['-2']}"].get("t") == "inlineStr"
    assert cells[f"B{row['1e400']}"].get("t") == "inlineStr"  # no finite number: a text, not a failure


def test_rows_written_by_xlsxwriter_among_those_given_whole_are_refused(tmp_path):
    book = Book(tmp_path / "w.xlsx", {"constant_memory": True})
    ws = book.add_worksheet()
    book.rows(ws, pl.DataFrame({"a": ["x"]}), [Column("a")], 1)
    ws.write_string(2, 0, "plus tard")
    with pytest.raises(RuntimeError, match="row 3"):
        book.close()


def test_a_full_disk_while_the_rows_are_written_is_said_with_its_reason(tmp_path, monkeypatch):
    """Polars writes the rows (write_csv) and raised its own OSError when the disk was full,
    without errno: « Impossible d'écrire … (OSError) » instead of the French reason."""
    import errno

    real = zipfile.ZipFile.open

    class Full:
        """A sheet's part whose disk is full once its head is written (its rows: Polars writes them)."""

        def __init__(self, part):
            self.part, self.writes = part, 0

        def write(self, data: bytes) -> int:
            self.writes += 1
            if self.writes > 1:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.part.write(data)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.part.close()

    def opened(zf, name, mode="r", *args, **kwargs):
        part = real(zf, name, mode, *args, **kwargs)
        return Full(part) if mode == "w" else part

    monkeypatch.setattr(zipfile.ZipFile, "open", opened)
    book = Book(tmp_path / "w.xlsx", {"constant_memory": True})
    book.rows(book.add_worksheet(), pl.DataFrame({"a": ["x"] * 10}), [Column("a")], 0)
    with pytest.raises(OSError) as raised:
        book.close()
    assert raised.value.errno == errno.ENOSPC
