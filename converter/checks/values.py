"""One column at a time: what a typed value means, and whether it is acceptable.

For each field of a definition, `field_check` returns three Polars expressions over the
cleaned text of the column: the normalised value, the error code (or null) and the warning
code (or null). No Python loop runs over rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from ..formats import Field, FormatDefinition
from ..formats.model import Condition
from ..identifiers import finess_key_expr, luhn_expr, rpps_key_expr
from ..reference import operator_codes

_INVISIBLE = r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]"
_SPACE_LIKE = r"[\u00a0\u202f\u2007\t\r\n]"
_ERROR_CELL = r"^#(N/A|DIV/0!|VALUE!|REF!|NAME\?|NUM!|NULL!|SPILL!|CALC!|GETTING_DATA)$"
TRUE_WORDS = ["true", "vrai", "oui", "o", "yes", "y", "1"]
FALSE_WORDS = ["false", "faux", "non", "n", "no", "0"]


def cleaned(col: pl.Expr) -> pl.Expr:
    """Trim ordinary, non-breaking and zero-width spaces; an empty cell becomes null."""
    # `replace`, not when/then: eager, that one computed the cleaning twice
    return col.str.replace_all(_INVISIBLE, "").str.replace_all(_SPACE_LIKE, " ").str.strip_chars().replace("", None)


def is_error_cell(col: pl.Expr) -> pl.Expr:
    return col.str.contains(_ERROR_CELL)


@dataclass(frozen=True)
class FieldCheck:
    value: pl.Expr
    error: pl.Expr  # String code or null
    warning: pl.Expr  # String code or null


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
    return s.str.to_uppercase().str.replace_all(r"\s", "")


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


def _choice(definition: FormatDefinition, f: Field, c: pl.Expr) -> FieldCheck:
    values = allowed_values(definition, f)
    mapping: dict[str, str] = {}
    for v in values:
        mapping.setdefault(v.upper().replace(" ", ""), v)
    value = _choice_key(c).replace_strict(mapping, default=None, return_dtype=pl.String)
    exact = c.is_in(list(values))
    value = pl.when(exact).then(c).otherwise(value)
    return FieldCheck(
        value,
        _codes((value.is_null(), "valeur_non_autorisee")),
        _codes((~exact & value.is_not_null(), "casse_corrigee")),
    )


def _boolean(c: pl.Expr) -> FieldCheck:
    low = c.str.to_lowercase()
    value = pl.when(low.is_in(TRUE_WORDS)).then(True).when(low.is_in(FALSE_WORDS)).then(False).otherwise(None)
    return FieldCheck(value, _codes((value.is_null(), "booleen_invalide")), _NONE)


_MONTHS = {name: f"{i:02d}" for i, names in enumerate(
    (("janvier", "janv"), ("février", "fevrier", "févr", "fevr", "fév", "fev"), ("mars",), ("avril", "avr"),
     ("mai",), ("juin",), ("juillet", "juil"), ("août", "aout"), ("septembre", "sept"), ("octobre", "oct"),
     ("novembre", "nov"), ("décembre", "decembre", "déc", "dec")), start=1) for name in names}


def _date(c: pl.Expr) -> pl.Expr:
    """A real date from Excel (ISO text from the reader), JJ/MM/AAAA-like text or a serial."""
    iso = c.str.extract(r"^(\d{4}-\d{2}-\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$", 1)
    parts = c.str.extract_groups(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
    fr = pl.concat_str(
        parts.struct.field("3"), pl.lit("-"),
        parts.struct.field("2").str.zfill(2), pl.lit("-"),
        parts.struct.field("1").str.zfill(2),
    )
    ymd = c.str.extract_groups(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
    ymd = pl.concat_str(ymd.struct.field("1"), pl.lit("-"), ymd.struct.field("2").str.zfill(2), pl.lit("-"),
                        ymd.struct.field("3").str.zfill(2))
    named = c.str.to_lowercase().str.extract_groups(r"^(\d{1,2})(?:er)?\s+([a-zéû]+)\.?\s+(\d{4})$")
    month = named.struct.field("2").replace_strict(_MONTHS, default=None, return_dtype=pl.String)
    named = pl.concat_str(named.struct.field("3"), pl.lit("-"), month, pl.lit("-"),
                          named.struct.field("1").str.zfill(2))
    fr = pl.coalesce(fr, ymd, named)
    serial = c.str.extract(r"^(\d{5})(?:\.0+)?$", 1).cast(pl.Int64, strict=False)
    from_serial = pl.lit(date(1899, 12, 30)) + pl.duration(days=serial)
    parsed = pl.coalesce(
        pl.coalesce(iso, fr).str.to_date("%Y-%m-%d", strict=False),
        pl.when(serial.is_between(1, 73050)).then(from_serial),
    )
    return pl.when(parsed.dt.year().is_between(1900, 2099)).then(parsed)


def _amount(c: pl.Expr) -> FieldCheck:
    t = c.str.replace_all(r"[\s€]", "")
    t = (
        pl.when(t.str.contains(r"^\d{1,3}(\.\d{3})+,\d+$")).then(t.str.replace_all(r"\.", "").str.replace(",", "."))
        .when(t.str.contains(r"^\d{1,3}(,\d{3})+\.\d+$")).then(t.str.replace_all(",", ""))
        .otherwise(t.str.replace(",", "."))
    )
    parts = t.str.extract_groups(r"^(-?)(\d+)(?:\.(\d*))?$")
    sign, whole, frac = (parts.struct.field(k) for k in ("1", "2", "3"))
    frac = frac.fill_null("").str.strip_chars_end("0")
    whole = whole.str.strip_chars_start("0")
    whole = pl.when(whole == "").then(pl.lit("0")).otherwise(whole)
    value = pl.concat_str(whole, pl.lit("."), pl.concat_str(frac, pl.lit("00")).str.slice(0, 2))
    error = _codes(
        (parts.struct.field("2").is_null(), "montant_invalide"),
        (frac.str.len_chars() > 2, "montant_decimales"),
        ((sign == "-") | (value == "0.00"), "montant_non_positif"),
    )
    return FieldCheck(value, error, _NONE)


def _integer(f: Field, c: pl.Expr) -> FieldCheck:
    value = c.str.extract(r"^(\d+)(?:\.0+)?$", 1).cast(pl.Int64, strict=False)
    checks = [(value.is_null(), "entier_invalide")]
    if f.minimum is not None:
        checks.append((value < f.minimum, "entier_min"))
    return FieldCheck(value, _codes(*checks), _NONE)


def _phone(c: pl.Expr) -> FieldCheck:
    compact = c.str.replace_all(r"[\s.\-]", "")
    value = pl.when(compact.str.starts_with("00")).then(pl.lit("+") + compact.str.slice(2)).otherwise(compact)
    return FieldCheck(
        value,
        _codes((~value.str.contains(r"^\+[1-9]\d{4,}$") | (value.str.len_chars() > 49), "telephone_invalide")),
        _codes((value != c, "telephone_normalise")),
    )


def _identifier(c: pl.Expr, pattern: str, error: str, key: pl.Expr | None = None, key_code: str = "") -> FieldCheck:
    value = c.str.replace_all(r"\s", "").str.to_uppercase()
    bad = ~value.str.contains(pattern)
    # a wrong key matters more than the spaces taken out
    key_warning = [(~bad & ~key, key_code)] if key is not None else []
    return FieldCheck(value, _codes((bad, error)), _codes(*key_warning, _normalised(value, c, bad)))


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
    """Normalised value, error code and warning code of a cleaned, non-null cell."""
    k = f.kind
    if k in ("text", "format_id"):
        return _text(f, c)
    if k == "choice":
        return _choice(definition, f, c)
    if k == "boolean":
        return _boolean(c)
    if k == "date":
        parsed = _date(c)
        return FieldCheck(parsed.dt.strftime("%d/%m/%Y"), _codes((parsed.is_null(), "date_invalide")), _NONE)
    if k == "amount":
        return _amount(c)
    if k == "integer":
        return _integer(f, c)
    if k == "email":
        bad = ~c.str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$") | (c.str.len_chars() > 149)
        return FieldCheck(c, _codes((bad, "email_invalide")), _NONE)
    if k == "phone":
        return _phone(c)
    if k == "finess":
        v = c.str.replace_all(r"\s", "").str.to_uppercase()
        return _identifier(c, r"^(\d{9}|2[AB]\d{7})$", "finess_invalide", finess_key_expr(v), "finess_cle")
    if k == "rpps":
        v = c.str.replace_all(r"\s", "")
        return _identifier(c, r"^\d{11}$", "rpps_invalide", rpps_key_expr(v), "rpps_cle")
    if k == "siret":
        v = c.str.replace_all(r"\s", "")
        return _identifier(c, r"^\d{14}$", "siret_invalide", _siret_key(v), "siret_cle")
    if k == "numero_ans":
        return _identifier(c, r"^\d{10}$", "numero_ans_invalide")
    if k == "numero_editeur":
        value = c.str.replace_all(r"\s", "")
        bad = ~value.str.contains(r"^[A-Za-z0-9]{5}$")
        return FieldCheck(value, _codes((bad, "numero_editeur_invalide")), _codes(_normalised(value, c, bad)))
    if k == "numero_asp":
        value = c.str.replace_all(r"\s", "").str.to_uppercase()
        bad = ~value.str.contains(rf"^{f.prefix}[A-Z0-9]{{{12 - len(f.prefix or '')}}}$")
        return FieldCheck(value, _codes((bad, "numero_asp_invalide")), _codes(_normalised(value, c, bad)))
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
    shown = ", ".join(values) if len(values) <= 12 else ", ".join(values[:6]) + f", … ({len(values)} codes, voir la liste déroulante)"
    return {
        "balise": f.balise, "length": f.length, "max_length": f.max_length,
        "hint": f.pattern_hint or f.pattern, "values": shown, "minimum": f.minimum,
        "prefix": f.prefix,
        "condition": f.presence.condition.describe() if f.presence.condition else "",
    }
