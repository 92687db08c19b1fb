"""Hypothesis strategies derived from a format's definition (converter/formats/*.yaml).

`cases(format_id)` draws a valid workbook's content: the Entête, 1 to `max_demandes`
demandes and their child rows (OG, FINESS Géo, scénarios, RPPS, pièces… as the format has
them), each value drawn from its field's kind and constraints (lengths, patterns, lists,
identifiers with a valid check key), conditional balises filled exactly where their
condition holds. Nothing is written per format: a new definition is drawn the same way.

A `Case` holds the drawn values twice: as the cells a user types (`rows`, `header`: text)
and as what they stand for (`values`: bool, Decimal, int, date, str), from which
`expected_demandes` builds the JSON the definition's `json:` layout promises.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from converter.formats import get_format
from converter.formats.model import Condition, Field, FormatDefinition, Sheet
from converter.kinds import luhn
from converter.kinds.boolean import FALSE, FALSE_WORDS, TRUE, TRUE_WORDS
from converter.kinds.choice import allowed_values
from converter.kinds.numero_asp import pattern as numero_asp_pattern

DIGITS = "0123456789"
# free text: letters, digits, punctuation, symbols and the ordinary space (what a user types;
# the reader turns every other space into this one and takes out invisible characters)
TEXT_CHARS = st.characters(categories=("L", "N", "P", "S"), include_characters=" ",
                           exclude_characters="\ufffe\uffff")


@dataclass
class Case:
    """One drawn workbook: `rows[sheet]` the typed cells (text), `values[sheet]` the values
    they stand for, row for row; `header` / `header_values` the same for the Entête."""

    format_id: str
    header: dict[str, str]
    header_values: dict[str, Any]
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    values: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # the warnings the case deserves, drawn on purpose where a seed is silent (a value kept
    # outside its condition, an expected one left empty, a row kept that is not asked for, a
    # value outside the expected list, a duplicate kept): (code, sheet, numeroEditeur)
    deserved: set[tuple[str, str, str]] = field(default_factory=set)

    @property
    def definition(self) -> FormatDefinition:
        return get_format(self.format_id)

    def numeros(self) -> list[str]:
        return [v["numeroEditeur"] for v in self.values[self.definition.demandes.name]]


# ------------------------------------------------------------------ one value per kind


def _with_luhn_key(body: str) -> str:
    """body + the digit that makes the Luhn checksum valid."""
    return next(body + d for d in DIGITS if luhn.is_valid(body + d))


@st.composite
def finess(draw) -> str:
    """9 digits, or 2A / 2B then 7 digits (Corsica, counted as 20 for the key), key valid."""
    if draw(st.integers(0, 9)) == 0:
        head = draw(st.sampled_from(["2A", "2B"]))
        body = draw(st.text(DIGITS, min_size=6, max_size=6))
        return head + _with_luhn_key("20" + body)[2:]
    # no département 00: a FINESS typed as a number gets back one lost zero at the most
    first = draw(st.text(DIGITS, min_size=2, max_size=2).filter(lambda d: d != "00"))
    return _with_luhn_key(first + draw(st.text(DIGITS, min_size=6, max_size=6)))


@st.composite
def rpps(draw) -> str:
    return _with_luhn_key(draw(st.sampled_from("123456789")) + draw(st.text(DIGITS, min_size=9, max_size=9)))


@st.composite
def siret(draw) -> str:
    """14 digits, SIREN key and SIRET key valid (no La Poste's 356000000, which keys otherwise)."""
    siren = _with_luhn_key(draw(st.sampled_from("123456789")) + draw(st.text(DIGITS, min_size=7, max_size=7)))
    if siren.startswith("356000000"):
        siren = "7328293" + "20"
    return _with_luhn_key(siren + draw(st.text(DIGITS, min_size=4, max_size=4)))


@st.composite
def free_text(draw, f: Field) -> str:
    if f.pattern:
        return draw(st.from_regex(f.pattern, fullmatch=True).filter(lambda s: _clean(s) == s))
    low = f.length or 1
    high = f.length or min(f.max_length or 60, 60)
    # in capitals (`upper`): what the template's users type there (names)
    chars = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZÉÈÀÇÔÏ '-0123456789") if f.upper else TEXT_CHARS
    return draw(st.text(chars, min_size=low, max_size=high)
                .map(lambda s: unicodedata.normalize("NFC", s))
                .filter(lambda s: _clean(s) == s and low <= len(s) <= high))


def amount_spellings(d: Decimal) -> st.SearchStrategy[str]:
    """How a user types an amount in a text cell: 4866.67, 4866,67, 4 866,67 €, 4.866,67,
    4,866.67, and 4866.7 / 4866 where the cents allow it."""
    whole, cents = f"{d:.2f}".split(".")
    grouped = f"{int(whole):,}"
    forms = [f"{whole}.{cents}", f"{whole},{cents}", f"{grouped.replace(',', ' ')},{cents} €",
             f"{grouped.replace(',', ' ')},{cents}€"]
    if int(whole) >= 1000:
        forms += [f"{grouped.replace(',', '.')},{cents}", f"{grouped}.{cents}"]
    if cents.endswith("0") and cents != "00":
        forms.append(f"{whole},{cents[0]}")
    if cents == "00":
        forms.append(whole)
    return st.sampled_from(forms)


MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]


def date_spellings(d: date) -> st.SearchStrategy[str]:
    """How a user types a date in a text cell: 05/03/2024, 5/3/2024, 05.03.2024, 5-3-2024,
    2024/03/05, 5 mars 2024 (1er mars 2024)."""
    day = "1er" if d.day == 1 else str(d.day)
    return st.sampled_from([d.strftime("%d/%m/%Y"), f"{d.day}/{d.month}/{d.year:04d}", d.strftime("%d.%m.%Y"),
                            f"{d.day}-{d.month}-{d.year:04d}", d.strftime("%Y/%m/%d"),
                            f"{day} {MONTHS[d.month - 1]} {d.year:04d}"])


def _clean(s: str) -> str | None:
    """What the reader keeps of a text cell, roughly: None for what it reads as empty
    (« null » in any case, an Excel error shown as text), the text trimmed otherwise."""
    t = s.strip(" ")
    if not t or t.lower() == "null" or t.startswith("#") or t.startswith("Err:"):
        return None
    if t != unicodedata.normalize("NFC", t):
        return None
    return t


def kind_value(f: Field, definition: FormatDefinition) -> st.SearchStrategy[tuple[str, Any]]:
    """(the cell as typed, the value it stands for) for one field."""
    k = f.kind

    def same(s: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, Any]]:
        return s.map(lambda v: (v, v))

    if k == "numero_editeur":
        return same(st.text(DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=5, max_size=5))
    if k == "finess":
        return same(finess())
    if k == "rpps":
        return same(rpps())
    if k == "siret":
        return same(siret())
    if k == "numero_ans":
        return same(st.text(DIGITS, min_size=10, max_size=10))
    if k == "numero_asp":
        return same(st.from_regex(numero_asp_pattern(f.prefix).replace("^", r"\A").replace("$", r"\Z")))
    if k == "boolean":  # VRAI / FAUX, or a word the reader takes for them, in any case
        return st.booleans().flatmap(lambda b: st.tuples(
            st.one_of(st.just(TRUE if b else FALSE), st.sampled_from(TRUE_WORDS if b else FALSE_WORDS).flatmap(
                lambda w: st.tuples(*(st.sampled_from([ch.lower(), ch.upper()]) for ch in w)).map("".join))),
            st.just(b)))
    if k == "choice":
        return same(st.sampled_from(allowed_values(definition, f)))
    if k == "amount":
        return st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2).flatmap(
            lambda d: st.tuples(amount_spellings(d), st.just(d)))
    if k == "integer":
        return st.integers(min_value=f.minimum if f.minimum is not None else 0, max_value=10**6).flatmap(
            lambda n: st.tuples(st.sampled_from([str(n), f"{n:,}".replace(",", " "), f"{n}.0"]), st.just(n)))
    if k == "date":
        return st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)).flatmap(
            lambda d: st.tuples(date_spellings(d), st.just(d)))
    if k == "email":
        local = st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=20).filter(
            lambda s: s[0] not in "." and s[-1] not in ".")
        domain = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)
        tld = st.sampled_from(["fr", "com", "org", "re", "bzh"])
        return same(st.builds(lambda a, b, c: f"{a}@{b}.{c}", local, domain, tld))
    if k == "phone":
        return same(st.builds(lambda cc, n: f"+{cc}{n}", st.sampled_from(["33", "262", "590", "32", "1"]),
                              st.text(DIGITS, min_size=6, max_size=12)))
    if k == "text":
        return same(free_text(f))
    raise NotImplementedError(f"no strategy for kind {k!r}")


# ------------------------------------------------------------------ rows


def holds(condition: Condition | None, values: dict[str, Any]) -> bool:
    if condition is None:
        return True
    return any(all(values.get(b) == v for b, v in alt) for alt in condition.alternatives)


def _present(f: Field, values: dict[str, Any], draw, silent: bool) -> tuple[bool, str | None]:
    """Whether a valid row fills this field, and the warning it deserves for it: a required
    one always; a conditional one where its condition holds; an optional one, at random. With
    `silent`, also where the seed is silent (a value kept outside the condition, not « null »
    there: `valeur_non_exigee`; an expected value left empty: `attendue_si`)."""
    p = f.presence
    if p.mode == "required":
        return True, None
    if p.mode == "optional":
        return draw(st.booleans()), None
    if not holds(p.condition, values):
        kept = p.kept_otherwise or (p.null_if is not None and not holds(p.null_if, values))
        if silent and kept and draw(st.booleans()):
            return True, "valeur_non_exigee"
        return False, None
    if p.mode == "expected_if" and silent and not draw(st.booleans()):
        return False, "attendue_si"
    return (True if p.mode in ("required_if", "expected_if") else draw(st.booleans())), None


@st.composite
def row(draw, definition: FormatDefinition, sheet: Sheet, fixed: dict[str, tuple[str, Any]],
        taken: set[str], deserved: set[tuple[str, str, str]] | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    """One row: `fixed` balises (its parent's key) as given, the others drawn, conditions
    first. Identifiers (FINESS, RPPS) are drawn outside `taken`, which they join: no ESMS or
    OG under two demandes (a warning)."""
    cells: dict[str, str] = {b: c for b, (c, _) in fixed.items()}
    values: dict[str, Any] = {b: v for b, (_, v) in fixed.items()}
    decided: set[str] = set(fixed)
    pending = [f for f in sheet.fields if f.balise not in fixed]
    while pending:
        ready = [f for f in pending if f.presence.balises <= decided]
        assert ready, f"{definition.id}: circular conditions in {sheet.name}"
        for f in ready:
            pending.remove(f)
            decided.add(f.balise)
            if f.optional_column:  # fichierSource: names a file of --pieces, which no case has
                continue
            present, warning = _present(f, values, draw, deserved is not None)
            if warning is not None:
                deserved.add((warning, sheet.name, values["numeroEditeur"]))
            if not present:
                continue
            strategy = kind_value(f, definition)
            if f.kind in ("finess", "rpps"):
                strategy = strategy.filter(lambda cv: cv[0] not in taken)
            cell, value = draw(strategy)
            if f.kind in ("finess", "rpps"):
                taken.add(cell)
            cells[f.balise], values[f.balise] = cell, value
    return cells, values


def _how_many(draw, sheet: Sheet, parent_values: dict[str, Any], most: int) -> int:
    link = sheet.parent
    assert link is not None
    if link.forbidden_unless is not None and not holds(link.forbidden_unless, parent_values):
        return 0
    if link.warn_unless is not None and not holds(link.warn_unless, parent_values):
        return 0
    if link.required or (link.required_if is not None and holds(link.required_if, parent_values)):
        return draw(st.integers(1, most))
    return draw(st.integers(0, most))


@st.composite
def cases(draw, format_id: str, max_demandes: int = 3, max_children: int = 3, silent: bool = True) -> Case:
    """A valid case of `format_id`; with `silent`, also values where the seed is silent, each
    kept with the warning it deserves (`Case.deserved`)."""
    d = get_format(format_id)
    header_cells, header_values = {}, {}
    for f in d.header.fields:
        if f.kind == "format_id":
            continue
        if f.presence.mode != "required" and not draw(st.booleans()):
            continue
        header_cells[f.balise], header_values[f.balise] = draw(kind_value(f, d))
    case = Case(format_id, header_cells, header_values, {s.name: [] for s in d.sheets},
                {s.name: [] for s in d.sheets})
    taken: set[str] = set()
    numeros = draw(st.lists(kind_value(d.demandes.by_balise["numeroEditeur"], d), min_size=1,
                            max_size=max_demandes, unique_by=lambda cv: cv[0].upper()))
    for numero in numeros:
        _rows_under(draw, d, case, d.demandes, {"numeroEditeur": numero}, taken, max_children, silent)
    return case


def _rows_under(draw, d: FormatDefinition, case: Case, sheet: Sheet, fixed: dict[str, tuple[str, Any]],
                taken: set[str], most: int, silent: bool) -> None:
    """Draw one row of `sheet` and, depth first, the rows of its children."""
    deserved = case.deserved if silent else None
    cells, values = draw(row(d, sheet, fixed, taken, deserved))
    case.rows[sheet.name].append(cells)
    case.values[sheet.name].append(values)
    for child in d.children(sheet):
        key = {b: (cells[b], values[b]) for b in child.parent.by}
        if child.same_set_as is not None:  # one row per value of the other sheet's column (Scénarios)
            continue
        if child.alias == "pieces":
            _pieces(draw, d, case, child, cells, values)
            continue
        n = _how_many(draw, child, values, most)
        numero = values["numeroEditeur"]
        link = child.parent
        if silent and n == 0 and link.warn_unless is not None and not holds(link.warn_unless, values) \
                and draw(st.booleans()):  # rows kept where they are not asked for
            n = draw(st.integers(1, most))
            case.deserved.add(("enfant_non_exige", child.name, numero))
        if child.expected_in is not None and holds(child.expected_in.when, values):
            # its values among the other sheet's, for the same key (identDMP among the RPPS)
            other = [v for v in case.values[child.expected_in.sheet]
                     if all(v[b] == values[b] for b in child.expected_in.by)]
            pool = [v[child.expected_in.other] for v in other]
            chosen = draw(st.lists(st.sampled_from(pool), min_size=min(n, 1), max_size=min(n, len(pool)),
                                   unique=True)) if pool else []
            if silent and chosen and draw(st.booleans()):  # one outside the list, kept
                chosen.append(draw(kind_value(child.by_balise[child.expected_in.column], d)
                                   .filter(lambda cv: cv[0] not in pool and cv[0] not in taken))[0])
                case.deserved.add(("hors_liste_attendue", child.name, numero))
            for value in chosen:
                fixed_child = {**key, child.expected_in.column: (value, value)}
                c, v = draw(row(d, child, fixed_child, taken, deserved))
                case.rows[child.name].append(c)
                case.values[child.name].append(v)
        else:
            for _ in range(n):
                _rows_under(draw, d, case, child, key, taken, most, silent)
        if silent and child.unique_kept and n and draw(st.booleans()):  # a row listed twice, kept twice
            mine = [i for i, v in enumerate(case.values[child.name]) if v["numeroEditeur"] == numero]
            if mine:
                i = draw(st.sampled_from(mine))
                case.rows[child.name].append(dict(case.rows[child.name][i]))
                case.values[child.name].append(dict(case.values[child.name][i]))
                case.deserved.add(("doublon_garde", child.name, numero))
    # the sheets whose rows are exactly one per value of another sheet's column, per key
    if sheet.role == "demandes":
        for child in d.sheets:
            rule = child.same_set_as
            if rule is None or child.parent is None or child.parent.sheet != sheet.name:
                continue
            mine = [v[rule.column] for v in case.values[rule.sheet] if all(v[b] == values[b] for b in rule.by)]
            for value in mine:
                fixed_child = {**{b: (cells[b], values[b]) for b in rule.by}, rule.column: (value, value)}
                c, v = draw(row(d, child, fixed_child, taken, deserved))
                case.rows[child.name].append(c)
                case.values[child.name].append(v)


def applicable_attachments(d: FormatDefinition, values: dict[str, Any]) -> list[Any]:
    return [t for t in d.attachments.types if holds(t.when, values)]


def _pieces(draw, d: FormatDefinition, case: Case, sheet: Sheet, cells: dict[str, str],
            values: dict[str, Any]) -> None:
    """Rows of the Pièces sheet: some of the attachments the demande sends (at most one per
    group: a listed member of a group is the one sent), each with its format."""
    types = applicable_attachments(d, values)
    chosen = draw(st.lists(st.sampled_from(types), max_size=len(types), unique_by=lambda t: t.group or t.type)) \
        if types else []
    for t in chosen:
        fmt = draw(st.sampled_from(d.limits.attachment_formats))
        fixed = {"numeroEditeur": (cells["numeroEditeur"], values["numeroEditeur"]),
                 "typeFichier": (t.type, t.type), "formatFichier": (fmt, fmt)}
        c, v = draw(row(d, sheet, fixed, set()))
        case.rows[sheet.name].append(c)
        case.values[sheet.name].append(v)


# ------------------------------------------------------------------ the JSON promised


def json_value(f: Field | None, value: Any) -> Any:
    """A drawn value as the deposit file holds it (json.loads with parse_float=Decimal)."""
    if value is None:
        return None
    if f is not None and f.kind == "date":
        return value.strftime("%d/%m/%Y")
    return value


def expected_demandes(case: Case) -> list[dict[str, Any]]:
    """The `lignesImport` the definition's `json:` layout promises for the case."""
    d = case.definition
    return [_layout(case, d.demandes, values, d.json, i)
            for i, values in enumerate(case.values[d.demandes.name], start=1)]


def _layout(case: Case, sheet: Sheet, values: dict[str, Any], node: Any, number: int) -> Any:
    d = case.definition
    if isinstance(node, str):
        return json_value(sheet.by_balise[node], values.get(node))
    if "const" in node:
        return node["const"]
    if "computed" in node:
        if node["computed"] == "numLigne":
            return number
        assert node["computed"] == "attachments"
        return _attachments(case, values)
    if "each" in node:
        child = d.by_name[node["each"]]
        items = [v for v in case.values[child.name] if all(v[b] == values[b] for b in child.parent.by)]
        if "value" in node:
            return [json_value(child.by_balise[node["value"]], v.get(node["value"])) for v in items]
        return [_layout(case, child, v, node["item"], number) for v in items]
    return {k: _layout(case, sheet, values, v, number) for k, v in node.items()}


def expected_file(case: Case) -> dict[str, Any]:
    """The deposit file the definition promises: its envelope, its demandes."""
    d = case.definition
    envelope: dict[str, Any] = {}
    for key, node in d.envelope.items():
        if isinstance(node, str):
            envelope[key] = case.header_values.get(node)
        elif "const" in node:
            envelope[key] = node["const"]
        else:
            envelope[key] = expected_demandes(case)
    return envelope


def _attachments(case: Case, values: dict[str, Any]) -> list[dict[str, str]]:
    d = case.definition
    pieces = next((s.name for s in d.sheets if s.alias == "pieces"), None)
    listed = {v["typeFichier"]: v["formatFichier"] for v in case.values.get(pieces, [])
              if v["numeroEditeur"] == values["numeroEditeur"]}
    sent = []
    for t in d.attachments.types:
        if not holds(t.when, values):
            continue
        if t.group:
            members = [x.type for x in d.attachments.types if x.group == t.group]
            if not (t.type in listed or (not any(m in listed for m in members) and t.type == members[0])):
                continue
        fmt = listed.get(t.type, "PDF")
        sent.append({"nomFichier": d.attachment_name(t.code, values["numeroEditeur"], fmt),
                     "formatFichier": fmt, "typeFichier": t.type})
    return sent
