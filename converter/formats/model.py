"""The declarative model of a deposit format, loaded from `converter/formats/*.yaml`.

A definition says everything about a format: its sheets and columns (balises), each
column's kind, presence rule and note, the cross-sheet links, the attachments and the JSON
layout. The workbook template, the checks, the JSON Schema and the Notice all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

KINDS = {
    "text", "choice", "boolean", "date", "amount", "integer", "email", "phone",
    "finess", "rpps", "siret", "numero_ans", "numero_editeur", "numero_asp", "format_id",
}
# Kinds whose values are identifiers typed as text (leading zeros matter).
TEXT_KINDS = KINDS - {"boolean", "date", "amount", "integer"}


class DefinitionError(ValueError):
    """A format definition file is malformed (a bug of the project, not of the user)."""


@dataclass(frozen=True)
class Condition:
    """An OR of ANDs of `balise == value` tests on the same row."""

    alternatives: tuple[tuple[tuple[str, Any], ...], ...]

    @classmethod
    def parse(cls, raw: Any, where: str) -> Condition:
        items = raw if isinstance(raw, list) else [raw]
        if not items or not all(isinstance(i, dict) and i for i in items):
            raise DefinitionError(f"{where}: condition must be a mapping or a list of mappings")
        return cls(tuple(tuple(i.items()) for i in items))

    @property
    def balises(self) -> set[str]:
        return {b for alt in self.alternatives for b, _ in alt}

    def describe(self) -> str:
        """French wording, e.g. « isMandataire vaut VRAI »."""

        def value(v: Any) -> str:
            if v is True:
                return "VRAI"
            if v is False:
                return "FAUX"
            return str(v)

        parts = [" et ".join(f"{b} vaut {value(v)}" for b, v in alt) for alt in self.alternatives]
        return " ou ".join(f"({p})" if len(parts) > 1 else p for p in parts)


@dataclass(frozen=True)
class Presence:
    """required | optional | required_if COND (empty otherwise) | optional_if COND (empty otherwise)."""

    mode: str = "required"
    condition: Condition | None = None

    @classmethod
    def parse(cls, raw: Any, where: str) -> Presence:
        if raw is None or raw == "required":
            return cls()
        if raw == "optional":
            return cls("optional")
        if isinstance(raw, dict) and len(raw) == 1:
            (mode, cond), = raw.items()
            if mode in ("required_if", "optional_if"):
                return cls(mode, Condition.parse(cond, where))
        raise DefinitionError(f"{where}: unknown presence {raw!r}")

    def describe(self) -> str:
        if self.mode == "required":
            return "Obligatoire"
        if self.mode == "optional":
            return "Facultatif"
        assert self.condition is not None
        if self.mode == "required_if":
            return f"Obligatoire si {self.condition.describe()}, vide sinon"
        return f"Facultatif si {self.condition.describe()}, vide sinon"


@dataclass(frozen=True)
class Field:
    balise: str
    kind: str
    note: str
    example: str = ""
    presence: Presence = Presence()
    values: tuple[str, ...] = ()
    values_from: str | None = None
    max_length: int | None = None
    length: int | None = None
    pattern: str | None = None
    pattern_hint: str | None = None
    upper: bool = False
    minimum: int | None = None
    prefix: str | None = None

    @property
    def is_text(self) -> bool:
        return self.kind in TEXT_KINDS


@dataclass(frozen=True)
class ParentLink:
    sheet: str
    by: tuple[str, ...]
    required: bool = False  # every parent row needs at least one row here


@dataclass(frozen=True)
class SameSet:
    """The values of a column, per key, must be exactly those of another sheet's column."""

    sheet: str
    column: str
    by: tuple[str, ...]


@dataclass(frozen=True)
class Sheet:
    name: str
    alias: str
    fields: tuple[Field, ...]
    role: str | None = None
    parent: ParentLink | None = None
    unique: tuple[str, ...] = ()
    same_set_as: SameSet | None = None
    optional: bool = False

    @cached_property
    def by_balise(self) -> dict[str, Field]:
        return {f.balise: f for f in self.fields}

    @property
    def balises(self) -> list[str]:
        return [f.balise for f in self.fields]

    def column_letter(self, balise: str) -> str:
        return column_letter(self.balises.index(balise))


@dataclass(frozen=True)
class AttachmentType:
    type: str
    code: str
    label: str
    when: Condition | None = None
    group: str | None = None  # exactly one type of a group is sent (first one by default)


@dataclass(frozen=True)
class Attachments:
    balise: str
    types: tuple[AttachmentType, ...]

    @property
    def type_names(self) -> tuple[str, ...]:
        return tuple(t.type for t in self.types)


@dataclass(frozen=True)
class Limits:
    max_demandes_per_file: int
    max_attachment_bytes: int
    max_zip_bytes: int
    attachment_formats: tuple[str, ...]
    attachment_name: str


@dataclass(frozen=True)
class FormatDefinition:
    id: str
    title: str
    source: str
    nature: str
    couloir: str
    logiciel: str
    advance_rate: Decimal | None
    template: str
    attachments: Attachments
    header: Sheet
    sheets: tuple[Sheet, ...]
    json: dict[str, Any]
    envelope: dict[str, Any]
    limits: Limits
    notes: tuple[str, ...] = field(default=())

    @cached_property
    def by_name(self) -> dict[str, Sheet]:
        return {s.name: s for s in (self.header, *self.sheets)}

    @property
    def demandes(self) -> Sheet:
        return next(s for s in self.sheets if s.role == "demandes")

    def children(self, sheet: Sheet) -> list[Sheet]:
        return [s for s in self.sheets if s.parent and s.parent.sheet == sheet.name]

    def attachment_name(self, code: str, numero_editeur: str, fmt: str) -> str:
        return self.limits.attachment_name.format(
            couloir=self.couloir, logiciel=self.logiciel, code=code,
            numeroEditeur=numero_editeur, ext=fmt.lower(),
        )


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA.

    >>> column_letter(0), column_letter(27)
    ('A', 'AB')
    """
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# ---------------------------------------------------------------- parsing


def _field(raw: dict[str, Any], where: str) -> Field:
    known = {"balise", "kind", "note", "example", "presence", "values", "values_from",
             "max_length", "length", "pattern", "pattern_hint", "upper", "minimum", "prefix"}
    unknown = set(raw) - known
    if unknown:
        raise DefinitionError(f"{where}: unknown keys {sorted(unknown)}")
    if raw.get("kind") not in KINDS:
        raise DefinitionError(f"{where}: unknown kind {raw.get('kind')!r}")
    if raw["kind"] == "choice" and not (raw.get("values") or raw.get("values_from")):
        raise DefinitionError(f"{where}: a choice needs values or values_from")
    where = f"{where}.{raw['balise']}"
    return Field(
        balise=raw["balise"], kind=raw["kind"], note=raw.get("note", ""),
        example=str(raw.get("example", "")),
        presence=Presence.parse(raw.get("presence"), where),
        values=tuple(str(v) for v in raw.get("values", ())),
        values_from=raw.get("values_from"), max_length=raw.get("max_length"),
        length=raw.get("length"), pattern=raw.get("pattern"),
        pattern_hint=raw.get("pattern_hint"), upper=bool(raw.get("upper", False)),
        minimum=raw.get("minimum"), prefix=raw.get("prefix"),
    )


def _sheet(raw: dict[str, Any]) -> Sheet:
    where = f"sheet {raw.get('name')!r}"
    parent = raw.get("parent")
    same = raw.get("same_set_as")
    sheet = Sheet(
        name=raw["name"], alias=raw["alias"], role=raw.get("role"),
        fields=tuple(_field(f, where) for f in raw["fields"]),
        parent=ParentLink(parent["sheet"], tuple(parent["by"]), bool(parent.get("required")))
        if parent else None,
        unique=tuple(raw.get("unique", ())),
        same_set_as=SameSet(same["sheet"], same["column"], tuple(same["by"])) if same else None,
        optional=bool(raw.get("optional", False)),
    )
    for f in sheet.fields:
        if f.presence.condition:
            missing = f.presence.condition.balises - set(sheet.balises)
            if missing:
                raise DefinitionError(f"{where}.{f.balise}: condition on unknown {missing}")
    for name in (*sheet.unique, *(sheet.parent.by if sheet.parent else ())):
        if name not in sheet.by_balise:
            raise DefinitionError(f"{where}: key {name!r} is not a column")
    return sheet


def parse_definition(raw: dict[str, Any], common: dict[str, Any]) -> FormatDefinition:
    where = f"format {raw.get('id')!r}"
    att = raw["attachments"]
    attachments = Attachments(
        balise=att["balise"],
        types=tuple(
            AttachmentType(
                type=t["type"], code=t["code"], label=t["label"],
                when=Condition.parse(t["when"], where) if "when" in t else None,
                group=t.get("group"),
            )
            for t in att["types"]
        ),
    )
    sheets = tuple(_sheet(s) for s in raw["sheets"])
    names = {s.name for s in sheets}
    for s in sheets:
        for ref in filter(None, [s.parent and s.parent.sheet, s.same_set_as and s.same_set_as.sheet]):
            if ref not in names:
                raise DefinitionError(f"{where}: sheet {s.name!r} refers to unknown sheet {ref!r}")
    if sum(s.role == "demandes" for s in sheets) != 1:
        raise DefinitionError(f"{where}: exactly one sheet must have role: demandes")
    header_raw = dict(common["header"])
    header_raw["fields"] = list(header_raw["fields"]) + list(raw.get("header_fields", []))
    rate = raw.get("advance_rate")
    return FormatDefinition(
        id=raw["id"], title=raw["title"], source=raw["source"], nature=raw["nature"],
        couloir=raw["couloir"], logiciel=raw["logiciel"],
        advance_rate=Decimal(str(rate)) if rate is not None else None,
        template=raw["template"], attachments=attachments, header=_sheet(header_raw),
        sheets=sheets, json=raw["json"], envelope=common["envelope"],
        limits=Limits(
            max_demandes_per_file=common["max_demandes_per_file"],
            max_attachment_bytes=common["max_attachment_bytes"],
            max_zip_bytes=common["max_zip_bytes"],
            attachment_formats=tuple(common["attachment_formats"]),
            attachment_name=common["attachment_name"],
        ),
        notes=tuple(raw.get("notes", ())),
    )
