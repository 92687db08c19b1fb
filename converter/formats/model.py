"""The declarative model of a deposit format, loaded from `converter/formats/*.yaml`.

A definition says everything about a format: its sheets and columns (balises), each
column's kind, presence rule and note, the cross-sheet links, the attachments and the JSON
layout. The workbook template, the checks, the JSON Schema and the Notice all read it.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from ..kinds import KINDS as _KIND_MODULES

KINDS = set(_KIND_MODULES)  # one module each: converter/kinds/
# The lists a choice can take its values from (`values_from:`): the 355 messaging operators of
# the ASP's annex, the format's attachment types, the attachment formats of _common.yaml.
VALUE_LISTS = ("operateurs-messagerie", "attachments", "attachment_formats")
# What `attachment_name` (_common.yaml) may contain.
ATTACHMENT_NAME_PLACEHOLDERS = {"couloir", "logiciel", "code", "numeroEditeur", "ext"}
# Kinds whose values are typed as text (identifiers: leading zeros matter).
TEXT_KINDS = {name for name, kind in _KIND_MODULES.items() if kind.TEXT}


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

        if len(self.alternatives) > 1 and all(len(alt) == 1 for alt in self.alternatives) \
                and len({alt[0][0] for alt in self.alternatives}) == 1:  # one balise, several values
            values = [value(alt[0][1]) for alt in self.alternatives]
            return f"{self.alternatives[0][0][0]} vaut {', '.join(values[:-1])} ou {values[-1]}"
        parts = [" et ".join(f"{b} vaut {value(v)}" for b, v in alt) for alt in self.alternatives]
        return " ou ".join(f"({p})" if len(parts) > 1 else p for p in parts)


@dataclass(frozen=True)
class Presence:
    """required | optional | required_if COND (empty otherwise) | optional_if COND (empty otherwise)
    | expected_if COND (empty otherwise).

    `null_if: COND2` beside a conditional mode narrows « empty otherwise » to where the seed
    says « null »: outside COND and COND2 the seed is silent, and a value there is kept with a
    warning (FORMATS.md §6, « where a seed is silent, warn »). `otherwise: kept` says the seed
    is silent everywhere outside COND (no « null » at all): a value there is kept with that
    warning. `expected_if` is for a balise the seed names under COND without « Obligatoire »:
    left empty under COND, it is written null, with a warning."""

    mode: str = "required"
    condition: Condition | None = None
    null_if: Condition | None = None
    kept_otherwise: bool = False

    @classmethod
    def parse(cls, raw: Any, where: str) -> Presence:
        if raw is None or raw == "required":
            return cls()
        if raw == "optional":
            return cls("optional")
        if isinstance(raw, dict) and 1 <= len(raw) <= 2:
            rest = {k: v for k, v in raw.items() if k not in ("null_if", "otherwise")}
            null_if = Condition.parse(raw["null_if"], where) if "null_if" in raw else None
            if "otherwise" in raw and raw["otherwise"] != "kept":
                raise DefinitionError(f"{where}: otherwise: must be « kept »")
            if len(rest) == 1:
                (mode, cond), = rest.items()
                if mode in ("required_if", "optional_if", "expected_if"):
                    return cls(mode, Condition.parse(cond, where), null_if, "otherwise" in raw)
        raise DefinitionError(f"{where}: unknown presence {raw!r}")

    @property
    def balises(self) -> set[str]:
        return (self.condition.balises if self.condition else set()) | (self.null_if.balises if self.null_if else set())

    def _null_elsewhere(self) -> bool:
        """null_if is the other side of the condition (one boolean, VRAI / FAUX): no « ailleurs »."""
        assert self.condition is not None and self.null_if is not None
        cond, null = self.condition.alternatives, self.null_if.alternatives
        if len(cond) != 1 or len(null) != 1 or len(cond[0]) != 1 or len(null[0]) != 1:
            return False
        ((balise, value),), ((other, other_value),) = cond[0], null[0]
        return balise == other and isinstance(value, bool) and other_value is (not value)

    def describe(self) -> str:
        if self.mode == "required":
            return "Obligatoire"
        if self.mode == "optional":
            return "Facultatif"
        assert self.condition is not None
        mode = {"required_if": "Obligatoire", "optional_if": "Facultatif", "expected_if": "Attendu"}[self.mode]
        head = f"{mode} si {self.condition.describe()}"
        if self.mode == "expected_if":
            head += " (sans être obligatoire : vide, il est écrit null, avec un avertissement)"
        if self.null_if is not None and self._null_elsewhere():
            return f"{head}, vide si {self.null_if.describe()}"
        if self.null_if is not None:
            return f"{head}, vide si {self.null_if.describe()} ; ailleurs, une valeur est gardée avec un avertissement"
        if self.kept_otherwise:
            return f"{head} ; ailleurs, une valeur est gardée avec un avertissement"
        return f"{head}, vide sinon"


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
    # an amount (`kind: amount`) that must be above zero: refused at zero or below; else kept,
    # with a warning (the deposit seeds give the amounts no minimum)
    positive: bool = False
    # The column may be missing from the user's sheet (a workbook made from an older template,
    # before the column was added): it is then read as all-empty. Only for a column whose
    # values are optional (`presence: optional`); any other missing column is an error.
    optional_column: bool = False

    @property
    def is_text(self) -> bool:
        return self.kind in TEXT_KINDS


@dataclass(frozen=True)
class ParentLink:
    """How the rows of a child sheet attach to their parent row (`parent:` in the YAML).

    required: every parent row needs at least one row here.
    required_if: COND — a parent row whose values meet COND needs at least one row here.
    forbidden_unless: COND — a parent row whose values do not meet COND may have no row here
      (its list is `[]` in the JSON). COND tests balises of the PARENT sheet, e.g. on a list
      of RPPS: `required_if: {commandePour: LIBERAL}` and `forbidden_unless: {commandePour:
      LIBERAL}` = « at least one RPPS for a LIBERAL order, none otherwise ». A parent row
      whose tested value is missing or invalid is not judged (that value has its own error).
    """

    sheet: str
    by: tuple[str, ...]
    required: bool = False
    required_if: Condition | None = None
    forbidden_unless: Condition | None = None
    # warn_unless: COND — where the seed only says « obligatoire si COND »: a parent row whose
    # values do not meet COND may still have rows here, kept with a warning (FORMATS.md §6)
    warn_unless: Condition | None = None


@dataclass(frozen=True)
class SameSet:
    """The values of a column, per key, must be exactly those of another sheet's column."""

    sheet: str
    column: str
    by: tuple[str, ...]


@dataclass(frozen=True)
class ExpectedIn:
    """What a seed says a column holds, short of a rule: per key, each value of `column` should
    be one of the `other` column of `sheet`, for a parent row that meets `when`; a value
    outside is kept, with a warning that names both lists."""

    column: str
    sheet: str
    other: str
    by: tuple[str, ...]
    when: Condition | None = None


@dataclass(frozen=True)
class RowRule:
    """A generic row rule declared under a sheet's `rules:` (see converter/checks/rules.py).

    `rule` names a function of the rules registry; `params` maps its parameters to
    columns of the sheet (or of the Entête) and to constants.
    """

    rule: str
    params: tuple[tuple[str, Any], ...]

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.params).get(key, default)


@dataclass(frozen=True)
class Sheet:
    name: str
    alias: str
    fields: tuple[Field, ...]
    role: str | None = None
    parent: ParentLink | None = None
    unique: tuple[str, ...] = ()
    # unique_kept: where the seed is silent on a value listed twice, a duplicate is kept (written
    # as many times) with a warning rather than refused (FORMATS.md §6)
    unique_kept: bool = False
    same_set_as: SameSet | None = None
    expected_in: ExpectedIn | None = None
    optional: bool = False
    rules: tuple[RowRule, ...] = ()

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
    balise: str | None  # None when the format has no attachments (nature `commandes`)
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
    template: str | None  # None for nature `commandes`: checked, never converted
    attachments: Attachments
    header: Sheet
    sheets: tuple[Sheet, ...]
    json: dict[str, Any] | None
    envelope: dict[str, Any]
    limits: Limits
    notes: tuple[str, ...] = field(default=())
    solde_format: str | None = None  # avance only: id of the format of its demande de solde
    # A demande rejected by the ASP comes back under a new numeroEditeur (seed 001 for the
    # MS2 avances: « Si la demande est rejetée, un nouveau numéro unique doit être généré »):
    # the ledger then refuses a numeroEditeur already deposited and rejected. Not for a
    # solde, which keeps the numeroEditeur of its avance when it comes back (seed 000).
    new_numero_after_rejection: bool = False
    # solde only: the ASP records the soldes of a deposit file only when all of them pass its 2nd
    # control (seed 000: « Les demandes de solde sont définitivement enregistrées dans le portail
    # Ségur seulement lorsque l'ensemble des demandes d'un JSON sont passantes »): a return with
    # one rejected solde leaves its accepted ones unrecorded. Not for mdv-lgc-solde, whose seed
    # 003 only says that « Les demandes rejetées […] ne sont pas intégrées en base ».
    recorded_only_if_all_pass: bool = False
    # avance only: the balise of the demandes sheet holding the supplier's VAT regime; « TTC »
    # puts the advance on HT × 1,2 (funding.amounts.avance_demande)
    advance_regime: str | None = None
    # avance only: the JSON key of a demande whose values identify its client, funded once per
    # format (one SONS: seed 002, « Chaque Client éligible ne peut bénéficier que d'une Prestation
    # Ségur financée au titre du SONS »); two live avances naming one may fund it twice
    # (`returns.funded_twice`)
    client: str | None = None

    @property
    def produces_deposit(self) -> bool:
        """False for order-check workbooks (nature `commandes`): no JSON, no template."""
        return self.template is not None

    @cached_property
    def by_name(self) -> dict[str, Sheet]:
        return {s.name: s for s in (self.header, *self.sheets)}

    @property
    def demandes(self) -> Sheet:
        return next(s for s in self.sheets if s.role == "demandes")

    def children(self, sheet: Sheet) -> list[Sheet]:
        return [s for s in self.sheets if s.parent and s.parent.sheet == sheet.name]

    def json_path(self, balise: str) -> tuple[str, ...] | None:
        """The JSON keys leading from a demande's object to a balise of the demandes sheet, by
        the `json:` layout (None when the layout does not write it there).

        >>> from converter.formats import get_format
        >>> get_format("ms2-dui-pds-avance").json_path("regimeTVA")
        ('commande', 'regimeTVA')
        """
        def walk(layout: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, ...] | None:
            for key, node in layout.items():
                if node == balise:
                    return (*keys, key)
                if isinstance(node, dict) and (found := walk(node, (*keys, key))):
                    return found
            return None

        return walk(self.json or {}, ())

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
             "max_length", "length", "pattern", "pattern_hint", "upper", "minimum", "prefix",
             "optional_column", "positive"}
    unknown = set(raw) - known
    if unknown:
        raise DefinitionError(f"{where}: unknown keys {sorted(unknown)}")
    if raw.get("kind") not in KINDS:
        raise DefinitionError(f"{where}: unknown kind {raw.get('kind')!r}")
    if raw["kind"] == "choice" and not (raw.get("values") or raw.get("values_from")):
        raise DefinitionError(f"{where}: a choice needs values or values_from")
    if raw.get("values_from") not in (None, *VALUE_LISTS):
        raise DefinitionError(f"{where}: unknown values_from {raw['values_from']!r} (known: {list(VALUE_LISTS)})")
    where = f"{where}.{raw['balise']}"
    presence = Presence.parse(raw.get("presence"), where)
    if raw.get("positive") and raw["kind"] != "amount":
        raise DefinitionError(f"{where}: positive is for an amount")
    if raw.get("optional_column") and presence.mode != "optional":
        raise DefinitionError(f"{where}: optional_column needs presence: optional")
    return Field(
        balise=raw["balise"], kind=raw["kind"], note=raw.get("note", ""),
        example=str(raw.get("example", "")),
        presence=presence,
        values=tuple(str(v) for v in raw.get("values", ())),
        values_from=raw.get("values_from"), max_length=raw.get("max_length"),
        length=raw.get("length"), pattern=raw.get("pattern"),
        pattern_hint=raw.get("pattern_hint"), upper=bool(raw.get("upper", False)),
        minimum=raw.get("minimum"), prefix=raw.get("prefix"), positive=bool(raw.get("positive", False)),
        optional_column=bool(raw.get("optional_column", False)),
    )


def _parent_link(raw: dict[str, Any], where: str) -> ParentLink:
    unknown = set(raw) - {"sheet", "by", "required", "required_if", "forbidden_unless", "warn_unless"}
    if unknown:
        raise DefinitionError(f"{where}.parent: unknown keys {sorted(unknown)}")
    return ParentLink(
        raw["sheet"], tuple(raw["by"]), bool(raw.get("required")),
        required_if=Condition.parse(raw["required_if"], f"{where}.parent.required_if")
        if "required_if" in raw else None,
        forbidden_unless=Condition.parse(raw["forbidden_unless"], f"{where}.parent.forbidden_unless")
        if "forbidden_unless" in raw else None,
        warn_unless=Condition.parse(raw["warn_unless"], f"{where}.parent.warn_unless")
        if "warn_unless" in raw else None,
    )


def _rule(raw: Any, where: str) -> RowRule:
    if not isinstance(raw, dict) or not isinstance(raw.get("rule"), str):
        raise DefinitionError(f"{where}: a rule is a mapping with a `rule:` name")
    return RowRule(raw["rule"], tuple((k, v) for k, v in raw.items() if k != "rule"))


def _sheet(raw: dict[str, Any]) -> Sheet:
    where = f"sheet {raw.get('name')!r}"
    parent = raw.get("parent")
    same = raw.get("same_set_as")
    expected = raw.get("expected_in")
    sheet = Sheet(
        name=raw["name"], alias=raw["alias"], role=raw.get("role"),
        fields=tuple(_field(f, where) for f in raw["fields"]),
        parent=_parent_link(parent, where) if parent else None,
        unique=tuple(raw.get("unique", ())),
        unique_kept=bool(raw.get("unique_kept", False)),
        same_set_as=SameSet(same["sheet"], same["column"], tuple(same["by"])) if same else None,
        expected_in=ExpectedIn(
            expected["column"], expected["sheet"], expected["other"], tuple(expected["by"]),
            Condition.parse(expected["when"], f"{where}.expected_in.when") if "when" in expected else None,
        ) if expected else None,
        optional=bool(raw.get("optional", False)),
        rules=tuple(_rule(r, where) for r in raw.get("rules", ())),
    )
    for f in sheet.fields:
        if f.presence.condition:
            missing = f.presence.balises - set(sheet.balises)
            if missing:
                raise DefinitionError(f"{where}.{f.balise}: condition on unknown {missing}")
    for name in (*sheet.unique, *(sheet.parent.by if sheet.parent else ())):
        if name not in sheet.by_balise:
            raise DefinitionError(f"{where}: key {name!r} is not a column")
        if sheet.by_balise[name].optional_column:
            raise DefinitionError(f"{where}: key {name!r} cannot be an optional_column")
    return sheet


def _check_layout(node: Any, sheet: Sheet, sheets: dict[str, Sheet], where: str) -> None:
    """Every leaf of the `json:` layout names a balise of the sheet in scope (or is a
    `const:` / `computed:`), every `each:` a known sheet."""
    for key, value in node.items():
        here = f"{where}.{key}"
        if isinstance(value, str):
            if value not in sheet.by_balise:
                raise DefinitionError(f"{here}: {value!r} is not a column of sheet {sheet.name!r}")
        elif not isinstance(value, dict):
            raise DefinitionError(f"{here}: expected a balise name or a mapping")
        elif "each" in value:
            child = sheets.get(value["each"])
            if child is None:
                raise DefinitionError(f"{here}: unknown sheet {value['each']!r}")
            if "value" in value:
                _check_layout({key: value["value"]}, child, sheets, where)
            else:
                _check_layout(value["item"], child, sheets, here)
        elif "const" not in value and "computed" not in value:
            _check_layout(value, sheet, sheets, here)


def parse_definition(raw: dict[str, Any], common: dict[str, Any]) -> FormatDefinition:
    where = f"format {raw.get('id')!r}"
    # nature `commandes`: an order-check workbook, no deposit JSON (FORMATS.md §5)
    if raw.get("nature") != "commandes" and not (raw.get("template") and raw.get("json")):
        raise DefinitionError(f"{where}: a deposit format needs `template:` and `json:`")
    att = raw.get("attachments") or {"balise": None, "types": []}
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
        for ref in filter(None, [s.parent and s.parent.sheet, s.same_set_as and s.same_set_as.sheet,
                                 s.expected_in and s.expected_in.sheet]):
            if ref not in names:
                raise DefinitionError(f"{where}: sheet {s.name!r} refers to unknown sheet {ref!r}")
    by_name = {s.name: s for s in sheets}
    for s in sheets:
        link = s.parent
        for cond in filter(None, (link and link.required_if, link and link.forbidden_unless, link and link.warn_unless)):
            missing = cond.balises - set(by_name[link.sheet].balises)
            if missing:
                raise DefinitionError(f"{where}: sheet {s.name!r}: parent condition on unknown {missing}")
    if sum(s.role == "demandes" for s in sheets) != 1:
        raise DefinitionError(f"{where}: exactly one sheet must have role: demandes")
    if raw.get("json"):
        _check_layout(raw["json"], next(s for s in sheets if s.role == "demandes"), by_name, f"{where}: json")
    renumber = raw.get("new_numero_after_rejection", False)
    if not isinstance(renumber, bool):
        raise DefinitionError(f"{where}: new_numero_after_rejection must be true or false")
    if renumber and raw.get("template") is None:
        raise DefinitionError(f"{where}: new_numero_after_rejection needs a deposit format (`template:`)")
    whole = raw.get("recorded_only_if_all_pass", False)
    if not isinstance(whole, bool):
        raise DefinitionError(f"{where}: recorded_only_if_all_pass must be true or false")
    if whole and raw.get("nature") != "solde":
        raise DefinitionError(f"{where}: recorded_only_if_all_pass is for a solde format")
    placeholders = {f for _, f, _, _ in string.Formatter().parse(common["attachment_name"]) if f}
    if placeholders - ATTACHMENT_NAME_PLACEHOLDERS:
        raise DefinitionError(f"attachment_name: unknown placeholders {sorted(placeholders - ATTACHMENT_NAME_PLACEHOLDERS)}")
    header_raw = dict(common["header"])
    header_raw["fields"] = list(header_raw["fields"]) + list(raw.get("header_fields", []))
    rate = raw.get("advance_rate")
    regime = raw.get("advance_regime")
    if regime is not None and regime not in next(s for s in sheets if s.role == "demandes").by_balise:
        raise DefinitionError(f"{where}: advance_regime names no balise of the demandes sheet: {regime!r}")
    client = raw.get("client")
    if client is not None and (not isinstance(client, str) or raw.get("nature") != "avance"):
        raise DefinitionError(f"{where}: client is the JSON key of an avance's client (a text): {client!r}")
    return FormatDefinition(
        id=raw["id"], title=raw["title"], source=raw["source"], nature=raw["nature"],
        couloir=raw["couloir"], logiciel=raw["logiciel"],
        advance_rate=Decimal(str(rate)) if rate is not None else None,
        template=raw.get("template"), attachments=attachments, header=_sheet(header_raw),
        sheets=sheets, json=raw.get("json"), envelope=common["envelope"],
        limits=Limits(
            max_demandes_per_file=common["max_demandes_per_file"],
            max_attachment_bytes=common["max_attachment_bytes"],
            max_zip_bytes=common["max_zip_bytes"],
            attachment_formats=tuple(common["attachment_formats"]),
            attachment_name=common["attachment_name"],
        ),
        notes=tuple(raw.get("notes", ())),
        solde_format=raw.get("solde_format"),
        new_numero_after_rejection=renumber,
        recorded_only_if_all_pass=whole,
        advance_regime=regime,
        client=client,
    )


# ---------------------------------------------------------------- variants (extends:)

_LAYOUT_LEAF_KEYS = {"const", "computed", "each"}


def _merge_layout(base: Any, override: Any) -> Any:
    """Deep-merge two `json:` layouts; a leaf node (`const`, `computed`, `each`, a balise
    name) of the override replaces the base's node whole."""
    if not isinstance(base, dict) or not isinstance(override, dict) or _LAYOUT_LEAF_KEYS & set(override):
        return override
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge_layout(base[key], value) if key in base else value
    return merged


def resolve_extends(raw: dict[str, Any], load: Any, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """A definition may start from another one: `extends: <id>` (a variant).

    The variant's top-level keys replace the base's, except:
    - `json:` is deep-merged into the base's layout (a mapping merges key by key; a leaf
      such as `{const: null}` replaces the base's node);
    - `remove_fields: {<sheet>: [balise, ...]}` removes columns from the base's sheets
      (their JSON keys must then be given a `const:` in `json:`);
    - `replace_fields: {<sheet>: [field, ...]}` replaces, in place, the base's column of the
      same balise by the variant's own (a note naming the variant's attachments).
    `load(id)` returns the raw mapping of another definition. Returns a plain definition.

    >>> base = {"id": "a", "logiciel": "X", "sheets": [{"name": "S", "fields": [{"balise": "p"}, {"balise": "q"}]}],
    ...         "json": {"k": {"p": "p", "q": "q"}}}
    >>> v = resolve_extends({"extends": "a", "id": "b", "logiciel": "Y", "remove_fields": {"S": ["q"]},
    ...                      "json": {"k": {"q": {"const": None}}}}, {"a": base}.__getitem__)
    >>> v["id"], v["logiciel"], [f["balise"] for f in v["sheets"][0]["fields"]], v["json"]
    ('b', 'Y', ['p'], {'k': {'p': 'p', 'q': {'const': None}}})
    """
    parent_id = raw.get("extends")
    if parent_id is None:
        return raw
    if parent_id in seen:
        raise DefinitionError(f"format {raw.get('id')!r}: extends loop through {parent_id!r}")
    base = resolve_extends(load(parent_id), load, (*seen, raw.get("id", "")))
    merged = {k: v for k, v in base.items()}
    for key, value in raw.items():
        if key in ("extends", "remove_fields", "replace_fields"):
            continue
        merged[key] = _merge_layout(base.get("json", {}), value) if key == "json" else value
    removals = raw.get("remove_fields") or {}
    replacements = raw.get("replace_fields") or {}
    sheets = []
    for sheet in merged["sheets"]:
        drop = set(removals.get(sheet["name"], ()))
        own = {f["balise"]: f for f in replacements.get(sheet["name"], ())}
        missing = set(own) - {f["balise"] for f in sheet["fields"]}
        if missing:
            raise DefinitionError(f"format {raw.get('id')!r}: replace_fields names unknown columns "
                                  f"{sorted(missing)} of sheet {sheet['name']!r}")
        sheets.append({**sheet, "fields": [own.get(f["balise"], f) for f in sheet["fields"] if f["balise"] not in drop]}
                      if drop or own else sheet)
    unknown = (set(removals) | set(replacements)) - {s["name"] for s in sheets}
    if unknown:
        raise DefinitionError(f"format {raw.get('id')!r}: remove_fields or replace_fields names unknown sheets "
                              f"{sorted(unknown)}")
    merged["sheets"] = sheets
    return merged
