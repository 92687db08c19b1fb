"""Every workbook xl2segur writes, derived from a format definition, with xlsxwriter.

One layout for the blank template (`xl2segur modele`), a pre-filled workbook and the error
workbook, so that an error workbook, once fixed, converts again:

    [Erreurs]  only in an error workbook, first and active: one row per issue, with a link
    Entête     row 1 = header balises, row 2 = values (the format id is always filled)
    <sheets>   one per definition sheet, in order; row 1 = balises, data from row 2
    Notice     how to fill the workbook, one row per column, attachments, naming rule
    Listes     hidden: the long drop-down lists (operator codes, values with commas/spaces)

User values are always written as strings (`write_string`): `=1+1` stays text, never a
formula; nothing is stripped. Only a pre-filled workbook (solde) writes its own valid dates and
amounts as dates and numbers. Everything shown to the user is derived from the definition.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
import re
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from converter.fastxlsx import AMOUNT, DATE, INTEGER, TEXT, Book, Column, TextWorksheet
from converter.files import write_new, write_new_numbered
from converter.formats.model import DefinitionError, Field, FormatDefinition, Sheet, column_letter
from converter.issues import Issue, Severity, shown
from converter.kinds import kind
from converter.reference import operators

__all__ = ["choices", "describe_format", "field_note", "write_workbook",
           "ERRORS_SHEET", "NOTICE_SHEET", "LISTS_SHEET", "AUXILIARY_SHEETS"]

ERRORS_SHEET = "Erreurs"
NOTICE_SHEET = "Notice"
LISTS_SHEET = "Listes"
# Sheets the converter must ignore when it reads a workbook written here.
AUXILIARY_SHEETS = (ERRORS_SHEET, NOTICE_SHEET, LISTS_SHEET)

TEMPLATE_ROWS = 10_000  # the drop-down lists cover rows 2..max(TEMPLATE_ROWS, written rows + EXTRA_ROWS)
EXTRA_ROWS = 1_000  # (number formats are set on whole columns)
MAX_ISSUE_NOTES = 10_000  # beyond, highlighted cells get their fill but no note (VML size)
MAX_LINKS = 65_530  # Excel's limit of hyperlinks per worksheet
INLINE_LIST_MAX = 255  # Excel's limit for an inline list source
MAX_ROW_HEIGHT = 409  # Excel's highest row, in points
NOTE_ROWS = 64  # rows a note covers at most: 600 pixels high (_note_options), rows of 20 pixels at least


# Colours (Excel's « Mauvais » / « Neutre » styles, readable when printed).
ERROR_FILL, ERROR_FONT = "#FFC7CE", "#9C0006"
WARNING_FILL, WARNING_FONT = "#FFE0B2", "#8A4B00"
REQUIRED_HEADER_FILL = "#9BC2E6"
OTHER_HEADER_FILL = "#DDEBF7"

# The « Lien » of a warning on a row left out of the error workbook, by whether the format makes
# deposits: its demande is not rejected (its order, in an order-check workbook, conforms)
ABSENT_ROW = {True: "Ligne non reprise ici : sa demande n'est pas rejetée",
              False: "Ligne non reprise ici : sa commande est conforme"}

SEVERITY_LABEL = {Severity.ERROR: "Erreur", Severity.WARNING: "Avertissement"}

# The column after the last one of each data sheet of an error workbook: what to correct in the
# row (and, on the demandes sheet, in the demande's rows of the other sheets). Never read back.
EXPLAIN_TITLE = "À corriger (xl2segur)"
EXPLAIN_WIDTH = 70
MAX_EXPLAIN_LINES = 6  # beyond, the cell points at the « Erreurs » sheet


# ---------------------------------------------------------------- derived wording


def choices(definition: FormatDefinition, field: Field) -> list[str]:
    """The values of a field's drop-down list, as its kind gives them ([] when free)."""
    listed = getattr(kind(field.kind), "choices", None)
    return listed(definition, field) if listed else []


def describe_format(definition: FormatDefinition, field: Field) -> str:
    """The expected format of a field, in French: its kind's wording, then the field's own rules."""
    base = kind(field.kind).describe(definition, field)
    extras = []
    if field.length is not None:
        extras.append(f"exactement {field.length} caractères")
    if field.max_length is not None:
        extras.append(f"{field.max_length} caractères au plus")
    if field.pattern_hint:
        extras.append(field.pattern_hint)
    if field.upper:
        extras.append("en MAJUSCULES")
    return ", ".join([base, *extras])


def field_example(definition: FormatDefinition, field: Field) -> str:
    """The example of a column; the Entête's `format` is the workbook's own format id."""
    return definition.id if field.kind == "format_id" else field.example


def field_note(definition: FormatDefinition, field: Field) -> str:
    """The note on a header cell: description, presence rule, format, example."""
    lines = [field.balise, field.note, "",
             f"Présence : {field.presence.describe()}",
             f"Format : {describe_format(definition, field)}"]
    if field_example(definition, field):
        lines.append(f"Exemple : {field_example(definition, field)}")
    return "\n".join(line for line in lines if line is not None)


def _note_options(text: str, width: int = 340) -> dict[str, Any]:
    per_line = max(20, width // 6)
    lines = sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))
    return {"width": width, "height": min(600, 16 * lines + 14), "font_size": 9}


def _column_index(letter: str | None) -> int | None:
    if not letter or not letter.isascii() or not letter.isalpha():
        return None
    index = 0
    for ch in letter.upper():
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def _sheet_ref(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


# ---------------------------------------------------------------- the writer


def write_workbook(definition: FormatDefinition, target: Path, *,
                   header: dict[str, str | None] | None = None,
                   rows: dict[str, list[dict[str, Any]]] | None = None,
                   issues: Sequence[Issue] | None = None,
                   numbered: bool = False, typed: bool = False) -> Path:
    """Write a template, a pre-filled workbook or (with `issues`) an error workbook.

    header: Entête values by balise (the format id is always definition.id).
    rows: sheet name → rows; each row maps balise → display text (str or None), plus an
      optional "__row": its row number in the user's original workbook (default: i + 2),
      used to place the issues, whose `row` is the original row.
    issues: when given (even empty), an error workbook: an « Erreurs » sheet first, and the
      cells in question filled and annotated.
    numbered: True → `name-2.xlsx`, `name-3.xlsx`… when taken; False → refuse to overwrite
      (OutputError). Returns the path written.
    typed: the rows are xl2segur's own values (a pre-filled solde workbook): its valid dates
      (JJ/MM/AAAA), amounts and integers are written as dates and numbers, not as text.
    """
    writer = _Writer(definition, header or {}, rows or {}, issues, typed and issues is None)
    target = Path(target)
    with _without_cycle_collection():
        return (write_new_numbered if numbered else write_new)(target, writer.write)


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """No cyclic garbage collector while a workbook is written: xlsxwriter keeps an object per
    cell until it saves, freed by their counts, and the collections their creation set off
    grew with the heap (an error workbook of 20,000 rejected demandes: 22.7 → 18.9 s)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Writer:
    def __init__(self, definition: FormatDefinition, header: dict[str, str | None],
                 rows: dict[str, list[dict[str, Any]]], issues: Sequence[Issue] | None, typed: bool = False):
        self.d = definition
        names = [s.name for s in (definition.header, *definition.sheets)]
        clash = set(names) & set(AUXILIARY_SHEETS)
        if clash:
            raise DefinitionError(f"{definition.id}: sheet names reserved by the workbook: {sorted(clash)}")
        unknown = set(rows) - {s.name for s in definition.sheets}
        if unknown:
            raise ValueError(f"rows given for sheets that are not in {definition.id}: {sorted(unknown)}")
        self.header_values = {**header}
        for f in definition.header.fields:
            if f.kind == "format_id":
                self.header_values[f.balise] = definition.id
        self.rows = rows
        self.issues = issues
        self.typed = typed

    # -------------------------------------------------------------- formats

    def _fmt(self, key: tuple, props: dict[str, Any]) -> Format:
        fmt = self.formats.get(key)
        if fmt is None:
            fmt = self.formats[key] = self.wb.add_format(props)
        return fmt

    @staticmethod
    def _num_format(field: Field) -> str | None:
        return "@" if field.is_text else kind(field.kind).NUM_FORMAT

    def cell_format(self, field: Field, severity: Severity | None = None) -> Format | None:
        num = self._num_format(field)
        # an error workbook's rows can be high (the « À corriger » column): values at their top
        top = self.issues is not None
        if severity is None and num is None and not top:
            return None
        props: dict[str, Any] = {"num_format": num} if num else {}
        if top:
            props["valign"] = "top"
        if severity is not None:
            fill, font = (ERROR_FILL, ERROR_FONT) if severity == Severity.ERROR else (WARNING_FILL, WARNING_FONT)
            props.update({"bg_color": fill, "font_color": font, "border": 1, "border_color": font})
        return self._fmt(("cell", num, severity), props)

    def header_format(self, field: Field, severity: Severity | None = None) -> Format:
        required = field.presence.mode == "required"
        props: dict[str, Any] = {
            "bold": True, "border": 1, "valign": "top",
            "bg_color": REQUIRED_HEADER_FILL if required else OTHER_HEADER_FILL,
        }
        if severity is not None:
            props.update({"bg_color": ERROR_FILL if severity == Severity.ERROR else WARNING_FILL,
                          "font_color": ERROR_FONT if severity == Severity.ERROR else WARNING_FONT})
        return self._fmt(("header", required, severity), props)

    # -------------------------------------------------------------- whole workbook

    def write(self, path: Path) -> None:
        self.formats: dict[tuple, Format] = {}
        self.lists: dict[tuple[str, ...], str] = {}
        # an error workbook can hold 100,000 rejected demandes and a million problems, a solde
        # workbook (typed) a year's accepted avances: each of its sheets goes row by row to a
        # temporary file (texts inline), not held whole until saved (400 Mo for 40,000 soldes),
        # so each row is written complete, once, in order (a solde workbook's given whole, fastxlsx)
        self.wb = wb = Book(path, {
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
            "constant_memory": self.issues is not None or self.typed,
        })
        wb.set_properties({"title": self.d.title, "subject": self.d.id, "author": "xl2segur"})
        errors_ws = wb.add_worksheet(ERRORS_SHEET, _ErrorsWorksheet) if self.issues is not None else None
        sheets = (self.d.header, *self.d.sheets)
        data_ws = {s.name: wb.add_worksheet(s.name, _Sheet) for s in sheets}
        notice_ws = wb.add_worksheet(NOTICE_SHEET)
        self.lists_ws = wb.add_worksheet(LISTS_SHEET)
        self._write_lists(sheets)

        # where each original row went, per sheet (0-based rows of this workbook)
        self.row_map: dict[str, dict[int, int]] = {}
        for s in self.d.sheets:
            rows = self.rows.get(s.name, [])
            self.row_map[s.name] = {int(r.get("__row", i + 2)): i + 1 for i, r in enumerate(rows)}
        if self.issues is not None:
            self.issues = self._rows_placed(self.issues)

        marks = self._locate_issues() if self.issues is not None else {}
        self.explanations = _Explanations(self, marks) if self.issues is not None else None
        # the cells given a note, up to MAX_ISSUE_NOTES, the first issues' first
        self.noted: set[tuple[str, int, int]] = set()
        for s in sheets:
            for r, c in marks.get(s.name, {}):
                if r != 0 and len(self.noted) < MAX_ISSUE_NOTES:
                    self.noted.add((s.name, r, c))
        if errors_ws is not None:  # a note is placed from the heights of the rows above it and those it covers
            for s in sheets:
                data_ws[s.name].sized_until = max((r for name, r, _ in self.noted if name == s.name), default=0) + NOTE_ROWS
            errors_ws.sized_until = NOTE_ROWS  # its notes are on its first row
        for s in sheets:
            if s is self.d.header:
                values = [self.header_values]
            else:
                values = self.rows.get(s.name, [])
            self._data_sheet(data_ws[s.name], s, values, s is self.d.header,
                             marks.get(s.name, {}))
        _Notice(self, notice_ws).write()
        if errors_ws is not None:
            _errors_sheet(self, errors_ws)
            errors_ws.activate()
        else:
            data_ws[self.d.header.name].activate()
        self.lists_ws.hide()
        wb.close()

    def _rows_placed(self, issues: Sequence[Issue]) -> list[Issue]:
        """A message that names rows of its sheet (a duplicate) names them where they are now,
        then where they were (only those sheets' rows mapped again: 500,000 of them when
        100,000 demandes are rejected). Made objects once: `issues` may be `issues.Issues`."""
        issues = list(issues)
        named = {i.sheet for i in issues if i.rows and i.sheet in self.row_map}
        placed = {name: {row: r + 1 for row, r in self.row_map[name].items()} for name in named}
        return [i.rows_placed(placed[i.sheet]) if i.sheet in placed and i.rows else i for i in issues]

    # -------------------------------------------------------------- data sheets

    def _data_sheet(self, ws: Worksheet, sheet: Sheet, rows: list[dict[str, Any]],
                    is_header: bool, marks: dict[tuple[int, int], list[Issue]]) -> None:
        fields = sheet.fields
        n = len(rows)
        last = 1 if is_header else max(TEMPLATE_ROWS - 1, n + EXTRA_ROWS)
        sample = rows[:200]
        formats = []
        for c, f in enumerate(fields):
            fmt = self.cell_format(f)
            formats.append(fmt)
            longest = max((len(str(r.get(f.balise) or "")) for r in sample), default=0)
            width = max(len(f.balise) + 4, len(f.example) + 2, min(longest, 40) + 2, 10)
            if f.kind == "date":
                width = max(width, 12)
            ws.set_column(c, c, min(width, 45), fmt)

        for c, f in enumerate(fields):
            cell_marks = marks.get((0, c))
            note = field_note(self.d, f)
            if cell_marks:
                sev = _worst(cell_marks)
                ws.write_string(0, c, f.balise, self.header_format(f, sev))
                note = _issue_text(cell_marks) + "\n\n" + note
            else:
                ws.write_string(0, c, f.balise, self.header_format(f))
            ws.write_comment(0, c, note, _note_options(note))
        ws.set_row(0, 20)
        ws.freeze_panes(1, 0)
        explained = self.issues is not None and not is_header
        ws.autofilter(0, 0, max(n, 1) if is_header else n, len(fields) - (0 if explained else 1))
        ws.ignore_errors({"number_stored_as_text": "A1:XFD1048576"})

        explain = _explain_head(self, ws, len(fields)) if explained else None
        marked: dict[int, list[int]] = {}  # row → its highlighted columns
        for r, c in marks:
            if r != 0:
                marked.setdefault(r, []).append(c)

        if self.typed:
            # a pre-filled workbook (solde): the rows given whole, rendered by Polars (40,000 soldes
            # spent 7 of their 10 s written cell by cell), its dates as dates, its amounts as
            # numbers (to sum). Not an error workbook's Entête alone: its other sheets, written cell
            # by cell, would then be read whole and written again around it (52 Mio more at 10,000
            # rejected demandes); nor a template's (shared texts, as Excel writes them)
            schema = {f.balise: pl.String for f in fields}
            frame = pl.from_dicts(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
            self.wb.rows(ws, frame, [Column(f.balise, formats[c], f.kind if f.kind in _TYPED else TEXT)
                                     for c, f in enumerate(fields)], 1)
        else:
            self._marked_rows(ws, sheet, rows, marks, marked, formats, explain)

        for c, f in enumerate(fields):
            self._validation(ws, f, c, 1, last)

        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)

    def _marked_rows(self, ws: Worksheet, sheet: Sheet, rows: list[dict[str, Any]],
                     marks: dict[tuple[int, int], list[Issue]], marked: dict[int, list[int]],
                     formats: list[Format | None], explain: dict[Severity, Format] | None) -> None:
        """The rows of a sheet cell by cell (an error workbook's, a template's Entête): the
        highlighted cells (`marked` columns of each row) in their colour, with a note, each
        row's « À corriger » cell; every value echoes what was typed, as text."""
        fields, n = sheet.fields, len(rows)
        # xlsxwriter's undecorated writers: no « A1 » notation to convert (a row and a column)
        write_string, write_blank = ws._write_string, ws._write_blank
        for r in range(1, max(n, *marked) + 1 if marked else n + 1):
            row = rows[r - 1] if r <= n else {}
            highlighted = marked.get(r, ())
            for c, f in enumerate(fields):
                value = row.get(f.balise)
                if c in highlighted:
                    found = marks[(r, c)]
                    fmt = self.cell_format(f, _worst(found))
                    if value is None:
                        write_blank(r, c, None, fmt)
                    else:
                        write_string(r, c, value if isinstance(value, str) else str(value), fmt)
                    if (sheet.name, r, c) in self.noted:
                        text = _issue_text(found)
                        ws.write_comment(r, c, text, _note_options(text, 300))
                    continue
                if value is not None:
                    write_string(r, c, value if isinstance(value, str) else str(value), formats[c])
            if explain is not None and (found := self.explanations.of(sheet, r, row)):
                _explain_cell(ws, r, len(fields), found, explain)

    def _validation(self, ws: Worksheet, field: Field, col: int, first: int, last: int) -> None:
        values = choices(self.d, field)
        if not values:
            return
        source: Any = values if self._inline(values) else self.lists[tuple(values)]
        message = kind(field.kind).drop_down_message(values)
        # an order-check workbook (nature commandes) is checked, never converted
        when = "à la conversion" if self.d.produces_deposit else "à la vérification (xl2segur verifier)"
        ws.data_validation(first, col, last, col, {
            "validate": "list", "source": source, "ignore_blank": True,
            "error_type": "warning", "error_title": "Valeur inattendue",
            "error_message": f"{message} Une autre valeur sera signalée {when}."[:255],
        })

    def _write_lists(self, sheets: Iterable[Sheet]) -> None:
        """The hidden « Listes » sheet: a column per long drop-down list (and the labels of the
        operator codes), in the order the data sheets' columns name them, written row by row."""
        self.lists: dict[tuple[str, ...], str] = {}
        columns: list[tuple[str, list[str], Format | None, int]] = []  # title, values, format, width
        text = self._fmt(("lists-text",), {"num_format": "@"})
        for s in sheets:
            for field in s.fields:
                values = choices(self.d, field)
                if not values or self._inline(values) or tuple(values) in self.lists:
                    continue
                letter = column_letter(len(columns))
                self.lists[tuple(values)] = f"={LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}"
                width = max(len(field.balise), *(len(v) for v in values)) + 2
                columns.append((field.balise, values, text, min(width, 40)))
                if field.values_from == "operateurs-messagerie":
                    labels = dict(operators())
                    columns.append(("libellé", [labels.get(v, "") for v in values], None, 50))
        if not columns:
            return
        ws = self.lists_ws
        bold = self._fmt(("lists-title",), {"bold": True})
        for c, (title, _, _, width) in enumerate(columns):
            ws.write_string(0, c, title, bold)
            ws.set_column(c, c, width)
        for r in range(1, max(len(values) for _, values, _, _ in columns) + 1):
            for c, (_, values, fmt, _) in enumerate(columns):
                if r <= len(values):
                    ws.write_string(r, c, values[r - 1], fmt)

    @staticmethod
    def _inline(values: list[str]) -> bool:
        """A drop-down list short and plain enough to be given in the validation itself."""
        return (sum(len(v) for v in values) + len(values) - 1 <= INLINE_LIST_MAX
                and not any(ch in v for v in values for ch in ', "'))

    # -------------------------------------------------------------- issues

    def _locate(self, issue: Issue) -> tuple[str, int, int, bool] | None:
        """(sheet, row, column, highlight) of an issue in this workbook (0-based)."""
        sheet = self.d.by_name.get(issue.sheet or "")
        if sheet is None:
            return None
        col = None
        if issue.balise and issue.balise in sheet.by_balise:
            col = sheet.balises.index(issue.balise)
        else:
            letter_col = _column_index(issue.column)
            if letter_col is not None and letter_col < len(sheet.fields):
                col = letter_col
        is_header = sheet is self.d.header
        if issue.row == 1 or (issue.row is None and not is_header):
            # a column header, or a whole-sheet issue (link only)
            return (sheet.name, 0, col, True) if col is not None else (sheet.name, 0, 0, False)
        if is_header:
            row = 1 if issue.row in (None, 2) else None
        else:
            row = self.row_map[sheet.name].get(issue.row) if issue.row is not None else None
        if row is None:
            return None
        return sheet.name, row, col if col is not None else 0, True

    def _locate_issues(self) -> dict[str, dict[tuple[int, int], list[Issue]]]:
        marks: dict[str, dict[tuple[int, int], list[Issue]]] = {}
        for issue in self.issues or ():  # where each is: found again by the Erreurs sheet, not kept for a million
            spot = self._locate(issue)
            if spot and spot[3]:
                marks.setdefault(spot[0], {}).setdefault((spot[1], spot[2]), []).append(issue)
        return marks


def _explain_head(writer: _Writer, ws: Worksheet, col: int) -> dict[Severity, Format]:
    """The head of the « À corriger » column, after the last one of a data sheet; returns the
    formats of its cells (`_explain_cell`)."""
    title = writer._fmt(("explain-head",), {"bold": True, "border": 1, "valign": "top",
                                          "bg_color": ERROR_FILL, "font_color": ERROR_FONT})
    ws.write_string(0, col, EXPLAIN_TITLE, title)
    others = (f" et, sur la feuille « {writer.d.demandes.name} », dans les lignes de la demande des autres "
              "feuilles") if len(writer.d.sheets) > 1 else ""  # an order workbook has one sheet
    read = "à la conversion" if writer.d.produces_deposit else "à la vérification"
    note = (f"Écrite par xl2segur : ce qu'il faut corriger dans cette ligne{others} (le détail "
            f"et un lien vers chaque cellule sont dans la feuille « {ERRORS_SHEET} »). Cette colonne "
            f"n'est pas lue {read} : inutile de la vider ou de la supprimer.")
    ws.write_comment(0, col, note, _note_options(note))
    ws.set_column(col, col, EXPLAIN_WIDTH)
    return {
        Severity.ERROR: writer._fmt(("explain", Severity.ERROR), {
            "text_wrap": True, "valign": "top", "font_color": ERROR_FONT}),
        Severity.WARNING: writer._fmt(("explain", Severity.WARNING), {
            "text_wrap": True, "valign": "top", "font_color": WARNING_FONT}),
    }


def _explain_cell(ws: Worksheet, r: int, col: int, found: list[tuple[bool, str]],
                  formats: dict[Severity, Format]) -> None:
    """A row's cell of the « À corriger » column: its problems, errors first, in words."""
    texts = list(dict.fromkeys(text for _, text in found))
    if len(texts) > MAX_EXPLAIN_LINES:
        rest = len(texts) - MAX_EXPLAIN_LINES + 1
        texts = texts[:MAX_EXPLAIN_LINES - 1] + [f"… et {rest} autres : voir la feuille « {ERRORS_SHEET} »."]
    text = "\n".join(texts)
    worst = Severity.ERROR if any(is_error for is_error, _ in found) else Severity.WARNING
    ws.write_string(r, col, text, formats[worst])
    lines = _line_count(text, EXPLAIN_WIDTH)
    if lines > 1:  # LibreOffice does not fit row heights on opening
        ws.set_row(r, min(15 * lines + 2, MAX_ROW_HEIGHT))


class _Explanations:
    """The « À corriger » column, row by row as each sheet is written (`of`): the row's own
    problems by column, errors first, then (demandes sheet) the errors of the Entête, which
    reject every demande, and those of the demande's rows in the other sheets. Only where
    they are is kept (`marks`, and the marked rows of each demande): a text for each problem,
    and each again in its demande's row, made in advance, held 590 octets a problem (927,000
    problems, 100,000 demandes: most of the 1.40 Gio the command took)."""

    def __init__(self, writer: _Writer, marks: dict[str, dict[tuple[int, int], list[Issue]]]) -> None:
        self.d, self.marks = writer.d, marks
        self.columns: dict[str, dict[int, list[int]]] = {}  # sheet → written row → its marked columns, in order
        for name, cells in marks.items():
            rows = self.columns[name] = {}
            for r, c in sorted(cells):
                if r != 0:
                    rows.setdefault(r, []).append(c)
        demandes = self.d.demandes
        self.own = _numero_balise(demandes)
        self.header = [(True, f"Feuille « {self.d.header.name} » — {text}")
                       for is_error, text in self._cells(self.d.header, 1) if is_error]
        self.elsewhere: dict[str, list[tuple[Sheet, int]]] = {}  # demande → its other sheets' marked rows, in order
        for sheet in self.d.sheets:
            numero = _numero_balise(sheet)
            if sheet is demandes or not numero:
                continue
            for r in self.columns.get(sheet.name, {}):
                value = writer.rows[sheet.name][r - 1].get(numero)
                if value:
                    self.elsewhere.setdefault(_numero_key(value), []).append((sheet, r))

    def _cells(self, sheet: Sheet, r: int) -> Iterator[tuple[bool, str]]:
        """(is error, text) of each problem of row `r` of `sheet`, by column, in their order."""
        cells = self.marks.get(sheet.name, {})
        for c in self.columns.get(sheet.name, {}).get(r, ()):
            for it in cells[(r, c)]:
                yield it.is_error, (f"{sheet.fields[c].balise} : " if (it.balise or it.column) else "") + it.message

    def of(self, sheet: Sheet, r: int, row: dict[str, Any]) -> list[tuple[bool, str]]:
        """(is error, text) of row `r` of `sheet` (`row`: its values), in order."""
        own = list(self._cells(sheet, r))
        found = [x for x in own if x[0]] + [x for x in own if not x[0]]
        if sheet is not self.d.demandes or not self.own or not row.get(self.own):
            return found
        found += self.header
        for other, at in self.elsewhere.get(_numero_key(row[self.own]), ()):
            found += [(True, f"Feuille « {other.name} », ligne {at + 1} — {text}")
                      for is_error, text in self._cells(other, at) if is_error]
        return found


def _numero_balise(sheet: Sheet) -> str | None:
    """The column holding the numéro éditeur that ties a row to its demande, if any."""
    return next((f.balise for f in sheet.fields if f.kind == "numero_editeur"), None)


class _Sheet(TextWorksheet):
    """A sheet of many rows (data sheets, « Erreurs »). In constant_memory, xlsxwriter escapes
    each text of a row by two substitutions and two replacements (control characters, texts
    like « _x0041_ », U+FFFE, U+FFFF), a twelfth of writing the error workbook of 10,000
    demandes rejected in bulk: a text holding none of them, found by one search, is written
    as it is, which is what they leave it."""

    # rows whose height xlsxwriter keeps once written (`sized_until`, None: all): in constant_memory
    # it keeps each row's, for the notes it places at the end; an error workbook of 100,000
    # demandes rejected in bulk sets the height of ~1.8 million rows (« À corriger », « Erreurs »)
    sized_until: int | None = None

    @staticmethod
    def _escape_control_characters(data: Any) -> Any:
        if isinstance(data, str) and not _TO_ESCAPE.search(data):
            return data
        return TextWorksheet._escape_control_characters(data)

    def _write_single_row(self, current_row_num: int = 0) -> None:
        written = self.previous_row
        super()._write_single_row(current_row_num)
        if self.sized_until is not None and written > self.sized_until:  # below every note: read no more
            self.row_info.pop(written, None)
            self.row_sizes.pop(written, None)


# what xlsxwriter's _escape_control_characters changes (xmlwriter.re_control_chars_1, _2, U+FFFE/F)
_TO_ESCAPE = re.compile(r"_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f\ufffe\uffff]")


class _ErrorsWorksheet(_Sheet):
    """The « Erreurs » sheet. Its links beyond Excel's limit are formulas xl2segur makes,
    `=HYPERLINK("#'Feuille'!B12","Aller à la cellule")`, where xlsxwriter looks for 28
    functions to rename (`_xlfn.`), each by a regular expression: a tenth of writing the
    workbook of 10,000 demandes rejected in bulk (35,000 such links). Each it looks for is
    « NOM( », none HYPERLINK: a formula whose only parenthesis is that of HYPERLINK is written
    as it is, as xlsxwriter would have written it."""

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        if (formula.startswith(_LINK_FORMULA) and formula.count("(") == 1 and formula.endswith(")")
                and not (self.use_future_functions or expand_future_functions)):
            return formula[1:]
        return super()._prepare_formula(formula, expand_future_functions)


_LINK_FORMULA = "=HYPERLINK("


def _errors_sheet(writer: _Writer, ws: Worksheet) -> None:
    """The Erreurs sheet of an error workbook: one row per issue, with a link to its cell."""
    order = {s.name: i for i, s in enumerate((writer.d.header, *writer.d.sheets))}

    def key(it: Issue) -> int:  # (warning, sheet, row, column) in one small number: no tuple per issue
        column = min(_column_index(it.column) or 0, (1 << 16) - 1)  # XFD is 16,383; a sheet has 2**20 rows
        return ((not it.is_error) << 60 | min(order.get(it.sheet or "", -1) + 1, 255) << 50
                | min(it.row or 0, (1 << 34) - 1) << 16 | column)

    head = writer._fmt(("errors-head",), {"bold": True, "border": 1, "bg_color": OTHER_HEADER_FILL,
                                        "valign": "top", "text_wrap": True})
    wrap = writer._fmt(("errors-wrap",), {"text_wrap": True, "valign": "top"})
    top = writer._fmt(("errors-top",), {"valign": "top"})
    text = writer._fmt(("errors-text",), {"num_format": "@", "valign": "top", "text_wrap": True})
    link = writer._fmt(("errors-link",), {"font_color": "blue", "underline": 1, "valign": "top"})
    sev_fmt = {
        Severity.ERROR: writer._fmt(("errors-sev", Severity.ERROR), {
            "bg_color": ERROR_FILL, "font_color": ERROR_FONT, "bold": True, "valign": "top"}),
        Severity.WARNING: writer._fmt(("errors-sev", Severity.WARNING), {
            "bg_color": WARNING_FILL, "font_color": WARNING_FONT, "bold": True, "valign": "top"}),
    }
    titles = ["Gravité", "Feuille", "Ligne", "Ligne d'origine", "Colonne", "Balise", "Valeur", "Message", "Lien"]
    widths = [15, 14, 8, 10, 9, 24, 24, 80, 20]
    for c, (t, w) in enumerate(zip(titles, widths)):
        ws.write_string(0, c, t, head)
        ws.set_column(c, c, w)
    ws.set_row(0, 32)
    ws.write_comment(0, 2, "Numéro de la ligne dans ce classeur, celle à corriger (le lien y mène).",
                     {"font_size": 9})
    ws.write_comment(0, 3, "Numéro de la ligne dans le classeur converti (celui que vous aviez fourni), "
                     "comme l'a affiché la commande.", {"font_size": 9})
    ws.write_comment(0, 8, "Lien vers la cellule en question dans ce classeur : corrigez-la, puis "
                     "convertissez de nouveau ce classeur.", {"font_size": 9, "width": 260})
    links = 0
    # xlsxwriter's undecorated writers: no « A1 » notation to convert (a row and a column)
    string, number = ws._write_string, ws._write_number
    for r, it in enumerate(sorted(writer.issues or (), key=key), start=1):
        spot = writer._locate(it)
        string(r, 0, SEVERITY_LABEL.get(it.severity, str(it.severity)), sev_fmt.get(it.severity, top))
        if it.sheet:
            string(r, 1, it.sheet, top)
        if spot and spot[3]:
            number(r, 2, spot[1] + 1, top)
        if it.row is not None:
            number(r, 3, it.row, top)
        letter = column_letter(spot[2]) if spot and spot[3] else it.column
        if letter:
            string(r, 4, letter, top)
        if it.balise:
            string(r, 5, it.balise, top)
        value = shown(it.value) if it.value is not None else None
        if value is not None:
            string(r, 6, value, text)
        # a problem of a whole file (a deposit file the ledger took back): named, as the console does
        said = f"{it.whole_file()} : {it.message}" if it.whole_file() else it.message
        string(r, 7, said, wrap)
        # a warning on a row of a demande that is not rejected: that row is not in this workbook
        absent = not spot and it.row is not None and not it.is_error and it.sheet in writer.row_map
        absent_row = ABSENT_ROW[writer.d.produces_deposit]
        lines = max(_line_count(said, widths[7]), _line_count(value or "", widths[6]),
                    _line_count(absent_row, widths[8]) if absent else 1)
        if lines > 1:  # LibreOffice does not fit row heights on opening
            ws.set_row(r, min(15 * lines + 2, MAX_ROW_HEIGHT))
        if spot:
            cell = f"{column_letter(spot[2])}{spot[1] + 1}"
            label = "Aller à la cellule" if spot[3] else "Aller à la feuille"
            if links < MAX_LINKS:
                ws.write_url(r, 8, f"internal:{_sheet_ref(spot[0])}!{cell}", link, label)
                links += 1
            else:  # beyond Excel's hyperlink limit: the same link as a formula
                ws.write_formula(r, 8, f'{_LINK_FORMULA}"#{_sheet_ref(spot[0])}!{cell}","{label}")', link, label)
        elif absent:
            string(r, 8, absent_row, wrap)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(writer.issues or ()), 1), len(titles) - 1)
    ws.ignore_errors({"number_stored_as_text": "A1:XFD1048576"})
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)


class _Notice:
    """The Notice sheet: how to fill the workbook, each column, the attachments, the notes."""

    WIDTHS = [16, 9, 26, 30, 42, 70, 20]

    def __init__(self, w: _Writer, ws: Worksheet):
        self.d, self.ws, self.r = w.d, ws, 0
        # the Balise column holds each balise, in bold, on one line (categorieFINESSGeographique)
        longest = max(len(f.balise) for s in (w.d.header, *w.d.sheets) for f in s.fields)
        self.WIDTHS = [*self.WIDTHS[:2], max(self.WIDTHS[2], math.ceil(longest * 1.2) + 1), *self.WIDTHS[3:]]
        for c, width in enumerate(self.WIDTHS):
            ws.set_column(c, c, width)
        self.title = w._fmt(("n-title",), {"bold": True, "font_size": 16, "valign": "vcenter"})
        self.section = w._fmt(("n-section",), {"bold": True, "font_size": 13, "font_color": "#1F4E79",
                                               "bottom": 2, "bottom_color": "#1F4E79"})
        self.para = w._fmt(("n-para",), {"text_wrap": True, "valign": "top"})
        self.head = w._fmt(("n-head",), {"bold": True, "border": 1, "bg_color": REQUIRED_HEADER_FILL,
                                         "text_wrap": True, "valign": "top"})
        self.cell = w._fmt(("n-cell",), {"border": 1, "border_color": "#BFBFBF", "text_wrap": True,
                                         "valign": "top", "num_format": "@"})
        self.bal = w._fmt(("n-bal",), {"border": 1, "border_color": "#BFBFBF", "text_wrap": True,
                                       "valign": "top", "bold": True})

    def paragraph(self, text: str) -> None:
        lines = _line_count(text, sum(self.WIDTHS))
        self.ws.merge_range(self.r, 0, self.r, len(self.WIDTHS) - 1, "", self.para)
        self.ws.write_string(self.r, 0, text, self.para)
        self.ws.set_row(self.r, 15 * lines + 4)
        self.r += 1

    def heading(self, text: str) -> None:
        self.r += 1
        self.ws.merge_range(self.r, 0, self.r, len(self.WIDTHS) - 1, "", self.section)
        self.ws.write_string(self.r, 0, text, self.section)
        self.ws.set_row(self.r, 22)
        self.r += 1

    def table(self, titles: list[str], lines: Iterable[list[str]], bold_col: int) -> None:
        ws, widths = self.ws, self.WIDTHS
        for c, t in enumerate(titles):
            ws.write_string(self.r, c, t, self.head)
        ws.set_row(self.r, 15 * max(_line_count(t, widths[c]) for c, t in enumerate(titles)) + 3)
        self.r += 1
        for line in lines:
            for c, v in enumerate(line):
                ws.write_string(self.r, c, v, self.bal if c == bold_col else self.cell)
            # LibreOffice does not fit row heights on opening: set them
            ws.set_row(self.r, 15 * max(_line_count(v, widths[c]) for c, v in enumerate(line)) + 3)
            self.r += 1

    def write(self) -> None:
        d, ws = self.d, self.ws
        ws.write_string(self.r, 0, f"xl2segur — {d.title}", self.title)
        ws.set_row(self.r, 26)
        self.r += 1
        self.paragraph(f"Format « {d.id} » — {d.source}.")

        self.heading("Comment remplir ce classeur")
        for text in _how_to(d):
            self.paragraph("• " + text)

        self.heading("Les colonnes, feuille par feuille")
        self.paragraph("Chaque en-tête de colonne porte aussi cette description dans une note (survolez la "
                       "cellule). En-tête bleu foncé : colonne toujours obligatoire ; bleu clair : "
                       "obligatoire sous condition ou facultative.")
        self.table(["Feuille", "Colonne", "Balise", "Obligatoire ?", "Format", "Description", "Exemple"],
                   ([s.name, column_letter(i), f.balise, f.presence.describe(), describe_format(d, f),
                     f.note, field_example(d, f)]
                    for s in (d.header, *d.sheets) for i, f in enumerate(s.fields)), bold_col=2)
        if d.attachments.types:  # order-check workbooks (nature commandes) have none
            self._attachments()
        if d.notes:
            self.heading("Remarques sur ce format")
            for note in d.notes:
                self.paragraph("• " + note)

        ws.hide_gridlines(2)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)

    def _attachments(self) -> None:
        from converter.attachments import megabytes  # the Mo of the attachment checks (which it imports)

        d = self.d
        self.heading("Pièces justificatives")
        lim = d.limits
        example_ne = next((f.example for f in d.demandes.fields if f.kind == "numero_editeur"), "00001") or "00001"
        fmts = lim.attachment_formats
        formats = ", ".join(fmts[:-1]) + f" ou {fmts[-1]}" if len(fmts) > 1 else "".join(fmts)
        rule = d.attachment_name("CodeTypeFichier", "numeroEditeur", "ext")
        self.paragraph(
            f"Chaque demande joint les pièces ci-dessous (balise {d.attachments.balise}), au format "
            f"{formats}, de {megabytes(lim.max_attachment_bytes)} au plus chacune ; elles sont déposées dans "
            f"des fichiers .zip de {megabytes(lim.max_zip_bytes)} au plus.\n"
            f"Nom de chaque fichier : {rule}, où ext est le format en minuscules "
            f"(par exemple {d.attachment_name(d.attachments.types[0].code, example_ne, fmts[0])}). "
            f"xl2segur écrit ces noms à partir de la demande.")
        groups: dict[str, list[str]] = {}
        for t in d.attachments.types:
            if t.group:
                groups.setdefault(t.group, []).append(t.type)

        def when(t: Any) -> str:
            text = (f"si {t.when.describe()} (sinon, une ligne de la feuille Pièces l'envoie, avec un avertissement)"
                    if t.when else "toujours")
            if t.group:
                members = groups[t.group]
                text += (f" ; une pièce parmi {', '.join(members)}"
                         f" ({members[0]} par défaut ; plusieurs : gardées, avec un avertissement)")
            return text

        self.table(["Type", "Code", "Libellé", "Quand ?", "Exemple de nom de fichier"],
                   ([t.type, t.code, t.label, when(t),
                     d.attachment_name(t.code, example_ne, fmts[0])] for t in d.attachments.types), bold_col=0)


def _how_to(d: FormatDefinition) -> list[str]:
    """The « Comment remplir ce classeur » paragraphs of the Notice."""
    h = d.header
    texts = [
        "Ne renommez pas les feuilles et ne modifiez pas la ligne 1 de chaque feuille (les "
        "balises) : la conversion les lit telles quelles. Les données commencent en ligne 2. "
        "Les feuilles Notice, Listes et Erreurs ne sont pas lues.",
    ]
    fill = [f.balise for f in h.fields if f.kind != "format_id"]
    fixed = [f.balise for f in h.fields if f.kind == "format_id"]
    # an order-check workbook (nature commandes) holds purchase orders, not demandes
    row, rows = ("demande", "demandes") if d.produces_deposit else ("bon de commande", "commandes")
    text = f"Feuille « {h.name} » : remplissez la ligne 2 ({', '.join(fill)})"
    if fixed:
        text += f" ; {', '.join(fixed)} est pré-rempli ({d.id}) : ne le modifiez pas"
    texts.append(text + f". Elle vaut pour toutes les {rows} du classeur.")
    dem = d.demandes
    texts.append(f"Feuille « {dem.name} » : une ligne par {row}, identifiée par "
                 f"{' + '.join(dem.unique)}, qui doit être unique.")
    texts += [_sheet_how_to(s) for s in d.sheets if s is not dem]
    links = sorted({b for s in d.sheets if s.parent for b in s.parent.by})
    if links:
        several = len(links) > 1
        texts.append(f"{' et '.join(links)} relie{'nt' if several else ''} les lignes des "
                     f"différentes feuilles : recopiez-{'les' if several else 'le'} exactement.")
    texts.append(
        "Saisie : les colonnes d'identifiants (FINESS, SIRET, numéros…) sont au format Texte "
        "pour garder les zéros initiaux ; dates au format JJ/MM/AAAA ; montants avec au plus "
        "2 décimales ; VRAI ou FAUX pour les questions oui / non. Les menus déroulants "
        "donnent les valeurs permises (listes longues : feuille masquée « Listes »). Laissez "
        "vide une cellule sans valeur (n'écrivez pas « null »).")
    if not d.produces_deposit:  # nature commandes: checked, never converted
        texts.append(
            "Vérification : « xl2segur verifier classeur.xlsx --erreurs erreurs.xlsx » contrôle "
            "chaque ligne (plafond, éligibilité, calendrier, client en double) et écrit un "
            "classeur d'erreurs présenté comme celui-ci, avec une feuille « Erreurs » en tête. "
            "Ce classeur ne produit pas de fichier de dépôt.")
        return texts
    texts.append(
        f"Conversion : xl2segur contrôle le classeur puis écrit les fichiers JSON de dépôt ASP "
        f"(au plus {d.limits.max_demandes_per_file} demandes par fichier). Une demande "
        "invalide n'est jamais mise dans un fichier : xl2segur produit alors un classeur "
        "d'erreurs, présenté comme celui-ci, avec une feuille « Erreurs » en tête (un lien "
        "par problème), les cellules en cause en rouge (erreur) ou orange (avertissement) "
        "et une note qui explique chacune ; la colonne « " + EXPLAIN_TITLE + " », après la "
        "dernière de chaque feuille, les redit en face de chaque ligne (sur la feuille "
        f"« {dem.name} », avec celles des autres feuilles de la demande) et n'est pas lue. "
        "Corrigez ce classeur puis convertissez-le de nouveau.")
    return texts


def _sheet_how_to(s: Sheet) -> str:
    """How to fill one sheet of demande details: its rows, its link to its parent sheet."""
    text = f"Feuille « {s.name} » : "
    if s.parent:
        own = [b for b in s.unique if b not in s.parent.by] or list(s.unique)
        scope = [b for b in s.unique if b not in own]
        text += f"une ligne par {' + '.join(own)}"
        if scope:
            text += f" pour un même {' + '.join(scope)}"
        text += (f", rattachée à la feuille « {s.parent.sheet} » par "
                 f"{' + '.join(s.parent.by)}")
        if s.parent.required:
            text += f" ; chaque ligne de « {s.parent.sheet} » en a au moins une"
        if s.parent.required_if:
            text += (f" ; au moins une ligne pour chaque ligne de « {s.parent.sheet} » "
                     f"où {s.parent.required_if.describe()}")
        if s.parent.forbidden_unless:
            text += f" ; aucune ligne sauf si {s.parent.forbidden_unless.describe()}"
        if s.parent.warn_unless:
            text += (f" ; hors du cas où {s.parent.warn_unless.describe()}, une ligne est gardée, "
                     "avec un avertissement")
    else:
        text += f"une ligne par {' + '.join(s.unique)}"
    if s.same_set_as:
        o = s.same_set_as
        text += (f" ; les {o.column} doivent être exactement ceux de la feuille « {o.sheet} » "
                 f"pour un même {' + '.join(o.by)}, chacun une fois")
    if s.expected_in:
        e = s.expected_in
        text += (f" ; chaque {e.column} devrait figurer parmi les {e.other} de la feuille « {e.sheet} » "
                 f"pour un même {' + '.join(e.by)}"
                 + (f" quand {e.when.describe()}" if e.when else "") + " (avertissement sinon)")
    text += "."
    if s.optional:
        text += " Feuille facultative : laissez-la vide si elle ne sert pas."
    return text


_TYPED = (DATE, AMOUNT, INTEGER)  # kinds whose valid values a pre-filled workbook writes typed


def _line_count(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column `width` characters wide (Calibri 11, roughly).
    Line by line: one that fits, without a tab (textwrap widens a tab to 8 spaces), is one
    line, not measured; a longer one is measured once (`_wrapped_lines`). An « À corriger »
    text names its row (« Feuille « OG », ligne 12 — … »): whole texts seldom repeat, and
    textwrap took a seventh of writing the error workbook of 10,000 demandes rejected in bulk."""
    chars = max(4, int(width * 1.1) - 1)
    return sum(1 if len(part) <= chars and "\t" not in part else _wrapped_lines(part, chars)
               for part in text.split("\n"))


@functools.lru_cache(maxsize=8192)
def _wrapped_lines(part: str, chars: int) -> int:
    """Lines one line of text takes wrapped at `chars` characters (few distinct: messages)."""
    return len(textwrap.wrap(part, chars, break_long_words=True)) or 1


def _numero_key(value: Any) -> str:
    return str(value).strip().upper()


def _worst(found: list[Issue]) -> Severity:
    return Severity.ERROR if any(i.is_error for i in found) else Severity.WARNING


def _issue_text(found: list[Issue]) -> str:
    seen: list[str] = []
    for i in sorted(found, key=lambda i: not i.is_error):
        line = f"{SEVERITY_LABEL.get(i.severity, str(i.severity))} : {i.message}"
        if line not in seen:
            seen.append(line)
    return "\n".join(seen)
