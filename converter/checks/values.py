"""One column at a time: what a typed value means, and whether it is acceptable.

For each field of a definition, `field_check` returns three Polars expressions over the
cleaned text of the column: the normalised value, the error code (or null) and the warning
code (or null), and the intermediate columns they read (`FieldCheck.steps`). No Python loop
runs over rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from ..formats import Field, FormatDefinition
from ..formats.model import Condition
from ..identifiers import finess_key_expr, luhn_expr, rpps_key_expr
from ..reference import operator_codes

# taken out of a cell: zero-width characters and the soft hyphen
_INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")
# read as an ordinary space: every other Unicode space (tabs, line breaks, non-breaking spaces…)
_SPACE_LIKE = ("\t", "\n", "\x0b", "\x0c", "\r", "\x85", "\u00a0", "\u1680",
               *map(chr, range(0x2000, 0x200B)), "\u2028", "\u2029", "\u202f", "\u205f", "\u3000")
# Excel's errors, and LibreOffice's own (Err:502…), which an .ods keeps as their text
_ERROR_CELL = r"^(#(N/A|DIV/0!|VALUE!|REF!|NAME\?|NUM!|NULL!|SPILL!|CALC!|GETTING_DATA)|Err:\d{3})$"
TRUE_WORDS = ["true", "vrai", "oui", "o", "yes", "y", "1"]
FALSE_WORDS = ["false", "faux", "non", "n", "no", "0"]


def cleaned(col: pl.Expr) -> pl.Expr:
    """Zero-width characters out, every space an ordinary one, trimmed; an empty cell becomes
    null. A cleaned value holds no whitespace but the ordinary space.

    >>> pl.DataFrame({"c": ["\u00a00 1\u2003\u200b2\t", " ", None]}).select(cleaned(pl.col("c")))["c"].to_list()
    ['0 1 2', None, None]
    """
    # one pass (Aho-Corasick) for both replacements; `replace`, not when/then: eager, that one
    # computed the cleaning twice
    return col.str.replace_many([*_INVISIBLE, *_SPACE_LIKE], [""] * len(_INVISIBLE) + [" "] * len(_SPACE_LIKE)) \
        .str.strip_chars().replace("", None)


def _without_spaces(c: pl.Expr) -> pl.Expr:
    """A cleaned value without its spaces (the ordinary space is the only one left)."""
    return c.str.replace_all(" ", "", literal=True)


def is_error_cell(col: pl.Expr) -> pl.Expr:
    return col.str.contains(_ERROR_CELL)


@dataclass(frozen=True)
class FieldCheck:
    value: pl.Expr
    error: pl.Expr  # String code or null
    warning: pl.Expr  # String code or null
    # intermediate columns that value, error and warning read, computed before them, one stage
    # after the other: Polars does not reliably compute a repeated sub-expression once (a
    # parsed date read three times was parsed three times)
    steps: tuple[dict[str, pl.Expr], ...] = ()


def _codes(*pairs: tuple[pl.Expr, str]) -> pl.Expr:
    """The code of the first true condition, else null."""
    expr = None
    for cond, code in pairs:
        expr = pl.when(cond).then(pl.lit(code)) if expr is None else expr.when(cond).then(pl.lit(code))
    return expr.otherwise(pl.lit(None, dtype=pl.String)) if expr is not None else pl.lit(None, dtype=pl.String)


_NONE = pl.lit(None, dtype=pl.String)


def allowed_values(definition: FormatDefinition, field: Field) -> tuple[str, ...]:
    if field.values_from == "operateurs-messagerie":
        return operator_codes()
    if field.values_from == "attachments":
        return definition.attachments.type_names
    if field.values_from == "attachment_formats":
        return definition.limits.attachment_formats
    return field.values


def _choice_key(s: pl.Expr) -> pl.Expr:
    return _without_spaces(s.str.to_uppercase())


def _text(f: Field, c: pl.Expr) -> FieldCheck:
    value = c.str.to_uppercase() if f.upper else c
    warning = _codes((value != c, "majuscules")) if f.upper else _NONE
    n = value.str.len_chars()
    checks = []
    if f.length is not None:
        checks.append((n != f.length, "longueur_exacte"))
    if f.max_length is not None:
        checks.append((n > f.max_length, "longueur_max"))
    if f.pattern:
        checks.append((~value.str.contains(f.pattern), "motif"))
    return FieldCheck(value, _codes(*checks), warning)


def _choice(definition: FormatDefinition, f: Field, c: pl.Expr, name: str) -> FieldCheck:
    values = allowed_values(definition, f)
    mapping: dict[str, str] = {}
    for v in values:
        mapping.setdefault(v.upper().replace(" ", ""), v)
    value, exact = pl.col(f"{name}value"), pl.col(f"{name}exact")
    found = pl.when(exact).then(c).otherwise(_choice_key(c).replace_strict(mapping, default=None, return_dtype=pl.String))
    return FieldCheck(
        value,
        _codes((value.is_null(), "valeur_non_autorisee")),
        _codes((~exact & value.is_not_null(), "casse_corrigee")),
        ({f"{name}exact": c.is_in(list(values))}, {f"{name}value": found}),
    )


def _boolean(c: pl.Expr, name: str) -> FieldCheck:
    low = c.str.to_lowercase()
    value = pl.when(low.is_in(TRUE_WORDS)).then(True).when(low.is_in(FALSE_WORDS)).then(False).otherwise(None)
    parsed = pl.col(f"{name}value")
    return FieldCheck(parsed, _codes((parsed.is_null(), "booleen_invalide")), _NONE, ({f"{name}value": value},))


_MONTHS = {name: f"{i:02d}" for i, names in enumerate(
    (("janvier", "janv"), ("février", "fevrier", "févr", "fevr", "fév", "fev"), ("mars",), ("avril", "avr"),
     ("mai",), ("juin",), ("juillet", "juil"), ("août", "aout"), ("septembre", "sept"), ("octobre", "oct"),
     ("novembre", "nov"), ("décembre", "decembre", "déc", "dec")), start=1) for name in names}


_YEAR = r"((?:19|20)\d\d)"  # 1900 to 2099: a year outside was mistyped
# (pattern, replacement): the text forms of a date, rewritten as « =AAAA-M-J », the only text
# read as a date (a value matching none stays as typed, and is no date)
_AS_ISO = (
    (rf"^{_YEAR}-(\d\d)-(\d\d)(?:[ T]\d{{2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?)?$", "=$1-$2-$3"),  # from Excel
    (rf"^(\d{{1,2}})[/.\-](\d{{1,2}})[/.\-]{_YEAR}$", "=$3-$2-$1"),  # JJ/MM/AAAA
    (rf"^{_YEAR}[/.](\d{{1,2}})[/.](\d{{1,2}})$", "=$1-$2-$3"),  # AAAA/MM/JJ
)
_SERIAL_DAYS = (2, 73050)  # Excel serial numbers of 1 January 1900 and 31 December 2099


def _date(c: pl.Expr) -> pl.Expr:
    """A real date from Excel (ISO text from the reader), JJ/MM/AAAA-like text, « 1er mars
    2024 » or a serial; null unless in 1900–2099.

    >>> pl.DataFrame({"c": ["2024-03-05 00:00:00", "5/3/2024", "2024.03.05", "5 mars 2024",
    ...                     "45356", "31/02/2024", "5/3/2124", "2150-03-05"]}).select(_date(pl.col("c")))[:, 0].to_list()
    [datetime.date(2024, 3, 5), datetime.date(2024, 3, 5), datetime.date(2024, 3, 5), datetime.date(2024, 3, 5), datetime.date(2024, 3, 5), None, None, None]
    """
    text = c
    for pattern, replacement in _AS_ISO:  # a value matches one pattern at most
        text = text.str.replace(pattern, replacement)
    # the month in words: only read in the cells holding letters (the others skip it, null)
    words = pl.when(c.str.contains("[a-zA-Zéû]")).then(c.str.to_lowercase()) \
        .str.extract_groups(rf"^(\d{{1,2}})(?:er)?\s+([a-zéû]+)\.?\s+{_YEAR}$")
    month = words.struct.field("2").replace_strict(_MONTHS, default=None, return_dtype=pl.String)
    named = pl.concat_str(pl.lit("="), words.struct.field("3"), pl.lit("-"), month, pl.lit("-"), words.struct.field("1"))
    serial = c.str.extract(r"^(\d{5})(?:\.0+)?$", 1).cast(pl.Int64, strict=False)
    return pl.coalesce(
        pl.coalesce(named, text).str.to_date("=%Y-%m-%d", strict=False),  # chrono reads 2024-3-5
        pl.when(serial.is_between(*_SERIAL_DAYS)).then(pl.lit(date(1899, 12, 30)) + pl.duration(days=serial)),
    )


def _amount(c: pl.Expr, name: str) -> FieldCheck:
    t = c.str.replace_many([" ", "€"], ["", ""])
    text, parts, frac, value = (pl.col(f"{name}{k}") for k in ("text", "parts", "frac", "value"))
    normalised = (  # 1.234,56 and 1,234.56 lose their thousands separator; a decimal comma becomes a point
        pl.when(text.str.contains(r"^\d{1,3}(\.\d{3})+,\d+$"))
        .then(text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True))
        .when(text.str.contains(r"^\d{1,3}(,\d{3})+\.\d+$")).then(text.str.replace_all(",", "", literal=True))
        .otherwise(text.str.replace(",", ".", literal=True))
    )
    whole = parts.struct.field("2").str.strip_chars_start("0")
    error = _codes(
        (parts.struct.field("2").is_null(), "montant_invalide"),
        (frac.str.len_chars() > 2, "montant_decimales"),
        ((parts.struct.field("1") == "-") | (value == "0.00"), "montant_non_positif"),
    )
    steps = (
        {f"{name}text": t},
        {f"{name}parts": normalised.str.extract_groups(r"^(-?)(\d+)(?:\.(\d*))?$")},
        {f"{name}frac": parts.struct.field("3").fill_null("").str.strip_chars_end("0")},
        {f"{name}value": pl.concat_str(pl.when(whole == "").then(pl.lit("0")).otherwise(whole), pl.lit("."),
                                       pl.concat_str(frac, pl.lit("00")).str.slice(0, 2))},
    )
    return FieldCheck(value, error, _NONE, steps)


def _integer(f: Field, c: pl.Expr, name: str) -> FieldCheck:
    value = pl.col(f"{name}value")
    checks = [(value.is_null(), "entier_invalide")]
    if f.minimum is not None:
        checks.append((value < f.minimum, "entier_min"))
    parsed = c.str.extract(r"^(\d+)(?:\.0+)?$", 1).cast(pl.Int64, strict=False)
    return FieldCheck(value, _codes(*checks), _NONE, ({f"{name}value": parsed},))


def _phone(c: pl.Expr, name: str) -> FieldCheck:
    compact = c.str.replace_many([" ", ".", "-"], ["", "", ""])
    value = pl.col(f"{name}value")
    return FieldCheck(
        value,
        _codes((~value.str.contains(r"^\+[1-9]\d{4,}$") | (value.str.len_chars() > 49), "telephone_invalide")),
        _codes((compact.str.starts_with("00"), "telephone_indicatif"), (value != c, "telephone_normalise")),
        ({f"{name}value": pl.when(compact.str.starts_with("00")).then(pl.lit("+") + compact.str.slice(2))
          .otherwise(compact)},),
    )


def _identifier(c: pl.Expr, name: str, pattern: str, error: str, key: Callable[[pl.Expr], pl.Expr] | None = None,
                key_code: str = "", upper: bool = True) -> FieldCheck:
    """An identifier without its spaces (upper-cased), of the `pattern`; `key(value)` is its
    check key, a warning."""
    value = pl.col(f"{name}value")
    bad = pl.col(f"{name}bad")
    normalised = _without_spaces(c)
    steps = [{f"{name}value": normalised.str.to_uppercase() if upper else normalised},
             {f"{name}bad": ~value.str.contains(pattern)}]
    # a wrong key matters more than the spaces taken out
    key_warning = [(~bad & ~key(value), key_code)] if key is not None else []
    return FieldCheck(value, _codes((bad, error)), _codes(*key_warning, _normalised(value, c, bad)), tuple(steps))


def _normalised(value: pl.Expr, typed: pl.Expr, bad: pl.Expr) -> tuple[pl.Expr, str]:
    """Spaces taken out of a valid identifier (or letters upper-cased): listed as a warning."""
    return ~bad & (value != typed), "identifiant_normalise"


def _siret_key(v: pl.Expr) -> pl.Expr:
    """As python-stdnum checks it: Luhn over the 14 digits (La Poste's establishments, SIREN
    356000000 except its head office 35600000000048: digit sum multiple of 5), and the SIREN's
    own Luhn key over the first 9 digits."""
    digit_sum = pl.sum_horizontal(v.str.slice(i, 1).cast(pl.Int32, strict=False) for i in range(14))
    la_poste = v.str.starts_with("356000000") & (v != "35600000000048")
    return pl.when(la_poste).then(digit_sum % 5 == 0).otherwise(luhn_expr(v, 14)) & luhn_expr(v.str.slice(0, 9), 9)


def field_check(definition: FormatDefinition, f: Field, c: pl.Expr) -> FieldCheck:
    """Normalised value, error code and warning code of a cleaned, non-null cell; the
    intermediate columns of the steps are named after the balise (`<balise>__s…`)."""
    k, name = f.kind, f"{f.balise}__s"
    if k in ("text", "format_id"):
        return _text(f, c)
    if k == "choice":
        return _choice(definition, f, c, name)
    if k == "boolean":
        return _boolean(c, name)
    if k == "date":
        parsed = pl.col(f"{name}date")
        return FieldCheck(parsed.dt.strftime("%d/%m/%Y"), _codes((parsed.is_null(), "date_invalide")), _NONE,
                          ({f"{name}date": _date(c)},))
    if k == "amount":
        return _amount(c, name)
    if k == "integer":
        return _integer(f, c, name)
    if k == "email":
        # the seed's own rule: « le champ doit contenir un "@" au-delà du premier caractère et un
        # point », VARCHAR(<150) (seeds 000, 001); an address it lets through but an ordinary one
        # would not be (no dot after the @, a space, two @) is kept, with a warning
        bad = ~c.str.contains(r"^.+@") | ~c.str.contains(".", literal=True) | (c.str.len_chars() > 149)
        odd = ~bad & ~c.str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
        return FieldCheck(c, _codes((bad, "email_invalide")), _codes((odd, "email_inhabituel")))
    if k == "phone":
        return _phone(c, name)
    if k == "finess":
        return _identifier(c, name, r"^(\d{9}|2[AB]\d{7})$", "finess_invalide", finess_key_expr, "finess_cle")
    if k == "rpps":
        return _identifier(c, name, r"^\d{11}$", "rpps_invalide", rpps_key_expr, "rpps_cle")
    if k == "siret":
        return _identifier(c, name, r"^\d{14}$", "siret_invalide", _siret_key, "siret_cle")
    if k == "numero_ans":
        return _identifier(c, name, r"^\d{10}$", "numero_ans_invalide")
    if k == "numero_editeur":
        return _identifier(c, name, r"^[A-Za-z0-9]{5}$", "numero_editeur_invalide", upper=False)
    if k == "numero_asp":
        return _identifier(c, name, rf"^{f.prefix}[A-Z0-9]{{{12 - len(f.prefix or '')}}}$", "numero_asp_invalide")
    raise ValueError(f"unknown kind {k}")


PADDED_WARNING = {"finess": "finess_complete", "numero_editeur": "numero_editeur_complete"}


def padded_warning(f: Field, warning: pl.Expr, rows: list[int] | None) -> pl.Expr:
    """The reader gave back the leading zeros of these rows (typed as numbers): say so, unless
    the value already has a warning of its own (a wrong key matters more)."""
    if not rows:
        return warning
    code = PADDED_WARNING.get(f.kind, "identifiant_complete")
    return pl.when(pl.col("__row").is_in(rows) & warning.is_null()).then(pl.lit(code)).otherwise(warning)


def condition_expr(condition: Condition) -> pl.Expr:
    """True/false/null (unknown when a tested value is itself missing or invalid)."""
    alternatives = [
        pl.all_horizontal(pl.col(b) == pl.lit(v) for b, v in alt) for alt in condition.alternatives
    ]
    return pl.any_horizontal(alternatives)


def message_params(definition: FormatDefinition, f: Field) -> dict[str, object]:
    values = allowed_values(definition, f)
    # each value quoted on its own: « DMP », « INS », « DMP, INS » (a value may hold a comma)
    quoted = [f"« {v} »" for v in values]
    shown = ", ".join(quoted) if len(values) <= 12 else ", ".join(quoted[:6]) + f", … ({len(values)} codes, voir la liste déroulante)"
    return {
        "balise": f.balise, "length": f.length, "max_length": f.max_length,
        "hint": f.pattern_hint or f.pattern, "values": shown, "minimum": f.minimum,
        "prefix": f.prefix,
        "condition": f.presence.condition.describe() if f.presence.condition else "",
        "null_condition": f.presence.null_if.describe() if f.presence.null_if else "",
    }
