"""From checked frames to deposit JSON text.

Values are turned into JSON literals column by column in Polars (`"00001"`, `true`,
`4866.67`, `null`), child sheets are nested under their parent rows with group-bys, and the
format's Jinja2 template lays the literals out. The template therefore never formats a value:
a `null` can never become the string "null", an amount always has two decimals.
"""

from __future__ import annotations

import copy
import json
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from . import fastrender
from .checks import NE, Checked
from .checks.values import condition_expr
from .formats import DefinitionError, FormatDefinition, Sheet
from .kinds import kind
from .reading import HEADER_SHEET, ROW

_PACKAGE = Path(__file__).parent


def templates_dir() -> Path:
    """templates/ is shipped inside the package by the wheel, and sits beside it in a checkout."""
    for candidate in (_PACKAGE / "templates", _PACKAGE.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("templates/ is missing from the installation")


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()), autoescape=False,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def template(definition: FormatDefinition) -> jinja2.Template:
    return _environment().get_template(definition.template)


def json_literal(definition: FormatDefinition, sheet: Sheet, balise: str) -> pl.Expr:
    """The JSON text of a normalised column of an accepted demande, as its kind writes it."""
    field = sheet.by_balise[balise]
    return kind(field.kind).json_literal(definition, field, pl.col(balise))


def _attachment_name(definition: FormatDefinition, code: str, fmt: pl.Expr) -> pl.Expr:
    """`attachment_name` of _common.yaml (MS2-DUI-Va1-BDC-00001.pdf) as an expression."""
    parts: list[pl.Expr] = []
    for literal, placeholder, _, _ in string.Formatter().parse(definition.limits.attachment_name):
        if literal:
            parts.append(pl.lit(literal))
        if placeholder == "numeroEditeur":
            parts.append(pl.col(NE))
        elif placeholder == "ext":
            parts.append(fmt.str.to_lowercase())
        elif placeholder:
            fixed = {"couloir": definition.couloir, "logiciel": definition.logiciel, "code": code}
            parts.append(pl.lit(fixed[placeholder]))
    return pl.concat_str(parts)


def _sent_attachments(definition: FormatDefinition, demandes: pl.DataFrame, pieces: pl.DataFrame | None,
                      key: str) -> pl.DataFrame:
    """One row per attachment each demande must send (nomFichier from the nomenclature), in
    nomenclature order: `key` of the demande, `__k` the type's rank, then the JSON literals of
    nomFichier, formatFichier, typeFichier."""
    types = definition.attachments.types
    chosen_format = {}
    if pieces is not None and pieces.height:
        formats = pieces.select(NE, "typeFichier", "formatFichier").drop_nulls()
        for t in types:
            chosen_format[t.type] = formats.filter(pl.col("typeFichier") == t.type).select(
                NE, pl.col("formatFichier").alias(f"__fmt_{t.type}")).unique(NE, keep="first")
    for frame in chosen_format.values():
        demandes = demandes.join(frame, on=NE, how="left")

    def listed(name: str) -> pl.Expr:
        """The Pièces sheet has a row of this type for the demande."""
        column = f"__fmt_{name}"
        return pl.col(column).is_not_null() if column in demandes.columns else pl.lit(False)

    sent = []  # the demandes that send it, with its JSON fields, per attachment type
    for k, t in enumerate(types):
        # a type due under a condition is sent when it holds, or when the Pièces sheet lists it
        # anyway (the seeds ask for it « le cas échéant », without forbidding it otherwise)
        applies = (condition_expr(t.when).fill_null(False) | listed(t.type)) if t.when else pl.lit(True)
        if t.group:  # each type of the group listed in Pièces, or else the group's first one
            members = [x.type for x in types if x.group == t.group]
            none_listed = ~pl.any_horizontal(listed(m) for m in members)
            applies = applies & (listed(t.type) | (none_listed if t.type == members[0] else pl.lit(False)))
        fmt = pl.col(f"__fmt_{t.type}").fill_null("PDF") if f"__fmt_{t.type}" in demandes.columns else pl.lit("PDF")
        name = _attachment_name(definition, t.code, fmt)
        sent.append(demandes.filter(applies).select(
            key, pl.lit(k).alias("__k"),
            nomFichier=pl.concat_str(pl.lit('"'), name, pl.lit('"')),
            formatFichier=pl.concat_str(pl.lit('"'), fmt, pl.lit('"')),
            typeFichier=pl.lit(f'"{t.type}"'),
        ))
    if not sent:
        return pl.DataFrame(schema={key: demandes.schema[key], "__k": pl.Int32, **dict.fromkeys(_ATTACHMENT, pl.String)})
    return pl.concat(sent)


_ATTACHMENT = ("nomFichier", "formatFichier", "typeFichier")


def _attachments(definition: FormatDefinition, demandes: pl.DataFrame, pieces: pl.DataFrame | None) -> pl.DataFrame:
    """Add the list of attachments each demande must send (structs of JSON literals)."""
    # one row per attachment sent, then a list per demande: twenty times faster than
    # concat_list + drop_nulls on struct columns (the demandes here are unique by numeroEditeur)
    sent = _sent_attachments(definition, demandes, pieces, NE)
    lists = sent.group_by(NE, maintain_order=True).agg(pl.struct(*_ATTACHMENT).alias("attachments"))
    return demandes.join(lists, on=NE, how="left", maintain_order="left") \
        .with_columns(pl.col("attachments").fill_null([]))


def layout_constants(definition: FormatDefinition) -> dict[str, dict[str, str]]:
    """JSON literals of the `const:` leaves of the layout, per sheet in scope: sheet name →
    JSON key → literal. The template receives them beside the balises, so a shared template
    writes `{{ s.profilMetier }}` and a variant whose layout says `profilMetier: {const: null}`
    gets `null` there.

    >>> from converter.formats import get_format
    >>> layout_constants(get_format("ms2-dui-pde-avance"))["Scénarios"]
    {'profilMetier': 'null'}
    """
    found: dict[str, dict[str, str]] = {}

    def walk(node: dict[str, Any], sheet: str) -> None:
        for key, value in node.items():
            if not isinstance(value, dict) or "computed" in value:
                continue
            if "const" in value:
                literal = json.dumps(value["const"], ensure_ascii=False)
                scope = found.setdefault(sheet, {})
                if key in definition.by_name[sheet].by_balise or scope.get(key, literal) != literal:
                    raise DefinitionError(f"{definition.id}: constant {key!r} clashes in sheet {sheet!r}")
                scope[key] = literal
            elif "each" in value:
                if "item" in value:
                    walk(value["item"], value["each"])
            else:
                walk(value, sheet)

    walk(definition.json or {}, definition.demandes.name)
    return found


def _depth(definition: FormatDefinition, sheet: Sheet) -> int:
    depth = 0
    while sheet.parent:
        sheet = definition.by_name[sheet.parent.sheet]
        depth += 1
    return depth


def demande_records(checked: Checked, accepted: list[str]) -> list[dict[str, Any]]:
    """One nested dict per demande of `accepted`, in that order; leaves are JSON literals."""
    return demande_frame(checked, accepted).to_dicts()


def demande_frame(checked: Checked, accepted: list[str]) -> pl.DataFrame:
    """`demande_records` as a frame: one row per accepted demande, children as list columns."""
    return DemandeFrames(checked, accepted).frame(0, len(accepted))


_POSITION = "__position"


class DemandeFrames:
    """`frame(start, stop)`: the `demande_frame` of `numeros[start:stop]`, in that order.

    Each sheet is cut once into the rows of these demandes, sorted by the demande's position
    in `numeros` (then by row): the rows of consecutive demandes are then a slice, where
    filtering every sheet for each batch made rendering a large workbook quadratic."""

    def __init__(self, checked: Checked, numeros: list[str]):
        self.checked, self.numeros = checked, numeros
        positions = pl.DataFrame({NE: numeros, _POSITION: range(len(numeros))},
                                 schema={NE: pl.String, _POSITION: pl.Int64})
        self.sheets = {name: _by_position(_positioned(f, positions))
                       for name, f in checked.frames.items() if name != HEADER_SHEET}

    @property
    def definition(self) -> FormatDefinition:
        return self.checked.definition

    def slices(self, start: int, stop: int) -> dict[str, pl.DataFrame]:
        """Sheet name → the rows of `numeros[start:stop]`."""
        frames = {}
        stop = min(stop, len(self.numeros))
        for name, f in self.sheets.items():
            first, end = f[_POSITION].search_sorted(pl.Series([start, stop]), side="left").to_list()
            frames[name] = f.slice(first, end - first)
        return frames

    def frame(self, start: int, stop: int) -> pl.DataFrame:
        return _nested(self.definition, self.slices(start, stop))

    def with_sheets(self, sheets: dict[str, pl.DataFrame]) -> DemandeFrames:
        """These frames, with `sheets`: the same rows in the same order, more columns."""
        other = copy.copy(self)
        other.sheets = sheets
        return other


def _positioned(rows: pl.DataFrame, positions: pl.DataFrame) -> pl.DataFrame:
    """The `rows` of the demandes of `positions`, each with the demande's position: a join,
    unless the rows are those demandes' alone, in their order, each demande's together (a
    workbook without rejected demandes): then a demande's position is its run's rank, a
    tenth of the join's cost before the first file renders."""
    numero = pl.col(NE)
    first = rows.select(numero.ne_missing(numero.shift(1)) | (pl.int_range(pl.len()) == 0)).to_series()  # of a run
    if rows[NE].filter(first).equals(positions[NE]):
        return rows.with_columns((first.cum_sum() - 1).cast(pl.Int64).alias(_POSITION))
    return rows.join(positions, on=NE, how="inner", maintain_order="left")


def _by_position(rows: pl.DataFrame) -> pl.DataFrame:
    """`rows` sorted by demande position, then row: most workbooks already are."""
    if rows[_POSITION].is_sorted() and rows[ROW].is_sorted():
        return rows
    return rows.sort(_POSITION, ROW)


def _nested(definition: FormatDefinition, frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per row of the demandes sheet in `frames`, its children nested in list columns
    and every value a JSON literal."""
    encoded: dict[str, pl.DataFrame] = {}
    constants = layout_constants(definition)
    for sheet in definition.sheets:
        frame = frames[sheet.name]
        encoded[sheet.name] = frame.with_columns(
            json_literal(definition, sheet, b).alias(f"j:{b}") for b in sheet.balises
        ).with_columns(pl.lit(v).alias(f"j:{k}") for k, v in constants.get(sheet.name, {}).items())
    # nest children into parents, deepest first
    for sheet in sorted(definition.sheets, key=lambda s: -_depth(definition, s)):
        if not sheet.parent:
            continue
        keys = list(sheet.parent.by)
        nested = [s.alias for s in definition.children(sheet)]
        own = [*sheet.balises, *constants.get(sheet.name, {})]
        item = pl.struct([pl.col(f"j:{b}").alias(b) for b in own] + [pl.col(n) for n in nested])
        grouped = encoded[sheet.name].group_by(keys, maintain_order=True).agg(item.alias(sheet.alias))
        parent = encoded[sheet.parent.sheet]
        encoded[sheet.parent.sheet] = parent.join(grouped, on=keys, how="left", maintain_order="left") \
            .with_columns(pl.col(sheet.alias).fill_null([]))
    demandes_sheet = definition.demandes
    pieces = next((frames[s.name] for s in definition.sheets if s.alias == "pieces"), None)
    demandes = _attachments(definition, encoded[demandes_sheet.name], pieces)
    children = [s.alias for s in definition.children(demandes_sheet)]
    own = [*demandes_sheet.balises, *constants.get(demandes_sheet.name, {})]
    return demandes.select(
        *(pl.col(f"j:{b}").alias(b) for b in own), *children, "attachments", NE
    )


def header_literals(checked: Checked) -> dict[str, str]:
    header = checked.frames[HEADER_SHEET]
    sheet = checked.definition.header
    return header.select(json_literal(checked.definition, sheet, b).alias(b) for b in sheet.balises).row(0, named=True)


def render(definition: FormatDefinition, header: dict[str, str], demandes: list[dict[str, Any]]) -> str:
    return template(definition).render(entete=header, demandes=demandes)


@cache
def _compiled(template_name: str) -> fastrender.Compiled | None:
    return fastrender.compile_template(_environment().get_template(template_name))


class _NullText(Exception):
    """A value without JSON literal (a bug upstream): Jinja shows it as it is."""


@dataclass(frozen=True)
class _Step:
    """A loop of a row's text: its items are the rows of `sheet` (None: the demande's attachments),
    `item` the text of one, `keys` the columns that tie them to the row, `nested` their own loops."""

    loop: fastrender.Loop
    sheet: Sheet | None
    keys: list[str]
    item: pl.Expr
    nested: list[_Step]


def _single_value(loop: fastrender.Loop) -> bool:
    return len(loop.body) == 1 and isinstance(loop.body[0], fastrender.Field)


class _Texts:
    """The compiled template as Polars expressions, built once per Renderer: `of(frames)` is
    NE, then the text of each demande of `frames` cut at loop.index ("a", "b"), in their order.

    Each row of a child sheet is rendered flat, deepest first, and its parent row gets the
    joined texts of its children: no list or struct column, and only the JSON literals the
    template writes are computed."""

    def __init__(self, definition: FormatDefinition, compiled: fastrender.Compiled):
        self.definition = definition
        constants = layout_constants(definition)

        def field(sheet: Sheet) -> Callable[[str], pl.Expr]:
            own = constants.get(sheet.name, {})
            return lambda name: pl.lit(own[name]) if name in own else json_literal(definition, sheet, name)

        def steps(sheet: Sheet, parts: tuple[object, ...]) -> list[_Step]:
            found = []
            for loop in fastrender.loops(parts):
                if sheet is definition.demandes and loop.attr == "attachments":
                    found.append(_Step(loop, None, [_POSITION], fastrender.text(loop.body, pl.col), []))
                else:
                    child = {c.alias: c for c in definition.children(sheet)}[loop.attr]
                    found.append(_Step(loop, child, list(child.parent.by), fastrender.text(loop.body, field(child)),
                                       steps(child, loop.body)))
            return found

        self.steps = steps(definition.demandes, compiled.demande)
        before, after = compiled.expressions(field(definition.demandes))
        self.texts = (NE, before.alias("a"), (after if after is not None else pl.lit(None, pl.String)).alias("b"))
        self.numbered = compiled.numbered

    def ahead(self, demandes: DemandeFrames) -> DemandeFrames:
        """`demandes` whose sheets hold the texts of the small loops of all their rows, rendered
        once: the attachments (from the nomenclature, a few Polars calls per type, they were a
        third of the calls of each batch) and each loop of a single value (FINESS Géo in OG),
        whose text weighs what that value's column weighs. The others stay per batch, which
        bounds the memory."""
        sheets = dict(demandes.sheets)

        def render(sheet: str, steps: list[_Step]) -> None:
            for step in steps:
                if step.sheet is not None:
                    render(step.sheet.name, step.nested)  # deepest first
            once = [s for s in steps if s.sheet is None or _single_value(s.loop)]
            if once:
                sheets[sheet] = self._with_loops(sheets[sheet], once, sheets)

        render(self.definition.demandes.name, self.steps)
        return demandes.with_sheets(sheets)

    def of(self, frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
        sheet = self.definition.demandes
        texts = self._with_loops(frames[sheet.name], self.steps, frames).select(self.texts)
        if texts["a"].null_count() or (self.numbered and texts["b"].null_count()):
            raise _NullText(sheet.alias)
        return texts

    def _with_loops(self, rows: pl.DataFrame, steps: list[_Step], frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
        """`rows` with the text of the loop of each step (its column; "" without items). A value
        without JSON literal makes the texts that hold it null, up to the demande's (`of`)."""
        for step in steps:
            keys, loop = step.keys, step.loop
            if loop.column in rows.columns:  # rendered ahead
                continue
            if step.sheet is None:
                pieces = next((frames[s.name] for s in self.definition.sheets if s.alias == "pieces"), None)
                items = _sent_attachments(self.definition, rows, pieces, _POSITION)
            else:
                items = self._with_loops(frames[step.sheet.name], step.nested, frames)
            grouped = items.select(*keys, step.item.alias("__item")).group_by(keys, maintain_order=True).agg("__item") \
                .select(*keys, loop.joined(pl.col("__item")).alias(loop.column))
            if grouped.select(keys).equals(rows.select(keys), null_equal=False):  # each row has items, in order
                rows = rows.with_columns(grouped[loop.column])
            else:  # "" for a row without items; a null text stays null
                rows = rows.join(grouped.with_columns(__items=pl.lit(True)), on=keys, how="left",
                                 maintain_order="left") \
                    .with_columns(pl.when(pl.col("__items")).then(pl.col(loop.column)).otherwise(pl.lit(""))) \
                    .drop("__items")
        return rows


FIRST_BATCH = 1_000
"""Demandes of the first batch a Renderer renders (the next ones: `batch`). The second process
checks nothing until the first file is rendered: a batch of 5,000 kept it waiting 0.17 s, one
of 1,000 (five files of 200) 0.05 s."""


class Renderer:
    """The deposit files of some demandes: `file(positions)` is the text of one file holding the
    demandes at those positions of `numeros`, in that order.

    The demandes are rendered `batch` at a time, which bounds the memory. The template is
    compiled into Polars expressions when it can be (converter/fastrender.py: the same bytes as
    Jinja) and `_Texts` renders the batch from `demandes.slices` (from the second batch on, the
    small loops are rendered once for all: `_Texts.ahead`); else, or when a value has no JSON
    literal, Jinja renders the batch's records (`demandes.frame`). A file of consecutive
    demandes of one batch is cut out of it, any other taken demande by demande."""

    def __init__(self, definition: FormatDefinition, header: dict[str, str], demandes: DemandeFrames,
                 batch: int = 5_000):
        self.definition, self.header, self.demandes, self.batch = definition, header, demandes, batch
        self.numeros = demandes.numeros
        self.compiled = _compiled(definition.template)
        self._texts = _Texts(definition, self.compiled) if self.compiled is not None else None
        self._ahead: DemandeFrames | None = None  # `demandes` with what `_Texts.ahead` renders once
        self._start, self._stop = 0, 0  # the batch rendered last
        self._before: list[bytes] = []  # compiled: each demande's text, cut at loop.index (Compiled.document)
        self._after: list[bytes] | None = None
        self._records: list[dict[str, Any]] | None = None  # else the batch's records, for Jinja

    def _fill(self, position: int) -> None:
        # the first batch at most FIRST_BATCH: its files reach the second process sooner
        stop = min(position + (self.batch if self._stop else min(self.batch, FIRST_BATCH)), len(self.numeros))
        cols = None
        if self._texts is not None:
            if self._ahead is None and self._stop:  # not before the first batch: its files reach the checks sooner
                self._ahead = self._texts.ahead(self.demandes)
            try:
                cols = self._texts.of((self._ahead or self.demandes).slices(position, stop))
            except _NullText:
                pass  # Jinja renders the batch
        frame = cols if cols is not None else self.demandes.frame(position, stop)
        self._check_order(frame, position, stop)
        records = None
        if cols is None:
            records = frame.to_dicts()
        else:  # as UTF-8 bytes, which the file is: decoding each text to str, then the file back, cost more
            self._before = cols["a"].cast(pl.Binary).to_list()
            self._after = cols["b"].cast(pl.Binary).to_list() if self._texts.numbered else None
        self._start, self._stop, self._records = position, stop, records

    def _check_order(self, frame: pl.DataFrame, position: int, stop: int) -> None:
        if frame[NE].to_list() != self.numeros[position:stop]:
            raise ValueError("demande_frame order differs from the numeros")

    def _get(self, position: int) -> dict[str, Any] | tuple[bytes, bytes | None]:
        """The record of the demande at `position` (Jinja), or its texts (compiled)."""
        if not self._start <= position < self._stop:
            self._fill(position)
        at = position - self._start
        if self._records is not None:
            return self._records[at]
        return self._before[at], self._after[at] if self._after is not None else None

    def file(self, positions: list[int]) -> bytes:
        """The file's UTF-8 bytes."""
        if positions:
            self._get(positions[0])  # its batch
            at, end = positions[0] - self._start, positions[-1] + 1 - self._start
            if self._records is None and end <= self._stop - self._start \
                    and positions == list(range(positions[0], positions[-1] + 1)):  # consecutive, in this batch
                after = self._after[at:end] if self._after is not None else None
                return self.compiled.document(self.header, self._before[at:end], after)
        items = [self._get(p) for p in positions]
        if self.compiled is None or any(isinstance(item, dict) for item in items):
            # Jinja (not compiled, or a null literal to show); a file across a compiled batch and a Jinja one
            records = [item if isinstance(item, dict) else self.demandes.frame(p, p + 1).to_dicts()[0]
                       for p, item in zip(positions, items)]
            return render(self.definition, self.header, records).encode()
        after = [b for _, b in items] if self._texts.numbered else None
        return self.compiled.document(self.header, [a for a, _ in items], after)
