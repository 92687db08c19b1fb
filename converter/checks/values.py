"""One column at a time: what a typed value means, and whether it is acceptable.

Every cell is cleaned first (`cleaned`); then, for each field of a definition, its kind
(converter/kinds/) returns three Polars expressions over the cleaned text of the column: the
normalised value, the error code (or null) and the warning code (or null), and the
intermediate columns they read (`FieldCheck.steps`). No Python loop runs over rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import polars as pl

from ..formats import Field, FormatDefinition
from ..formats.model import Condition
from ..kinds import FieldCheck, choice, kind

# taken out of a cell: zero-width characters, the soft hyphen, and the control characters that
# are no space (a BEL or an ESC pasted from another program, which Excel keeps as _x0007_):
# none shows, and a deposit file carried them as \u0007
_INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad",
              *map(chr, [*range(0x00, 0x09), *range(0x0e, 0x20)]))
# read as an ordinary space: every other Unicode space (tabs, line breaks, non-breaking spaces…)
_SPACE_LIKE = ("\t", "\n", "\x0b", "\x0c", "\r", "\x85", "\u00a0", "\u1680",
               *map(chr, range(0x2000, 0x200B)), "\u2028", "\u2029", "\u202f", "\u205f", "\u3000")
NE = "__ne"  # the numeroEditeur of the row, as typed (cleaned), to attach issues to a demande
# Excel's errors, and LibreOffice's own (Err:502…), which an .ods keeps as their text
_ERROR_CELL = r"^(#(N/A|DIV/0!|VALUE!|REF!|NAME\?|NUM!|NULL!|SPILL!|CALC!|GETTING_DATA)|Err:\d{3})$"


# a character that NFC may change or compose with the one before it (a combining mark, a
# Hangul vowel or final jamo, a canonical singleton such as the ohm sign): where a column holds
# none, its cells are NFC already (tests/test_cleaning.py checks every code point)
_NOT_NFC = ("[\\p{M}\u0374\u037e\u0387\u0958-\u0f69\u1161-\u1175\u11a8-\u11c2\u1f00-\u2001\u2126\u212a\u212b"
            "\u2329\u232a\u2adc\uf900-\ufaff\ufb1d-\ufb4f\U0001d15e-\U0001d1c0\U0002f800-\U0002fa1f]")


def cleaned(col: pl.Expr, composed: bool = False) -> pl.Expr:
    """Zero-width characters out, every space an ordinary one, accents composed (NFC: macOS
    types and pastes « é » as « e » + accent, which counted two characters against a length
    limit), trimmed; an empty cell becomes null. A cleaned value holds no whitespace but the
    ordinary space. `composed`: the column holds no character NFC changes (`_NOT_NFC`).

    >>> pl.DataFrame({"c": ["\u00a00 1\u2003\u200b2\t", " ", None, "DURAND\x07", "\x1b[31mA", "LE\u0301A"]}).select(cleaned(pl.col("c")))["c"].to_list()
    ['0 1 2', None, None, 'DURAND', '[31mA', 'LÉA']
    """
    # one pass (Aho-Corasick) for both replacements; `replace`, not when/then: eager, that one
    # computed the cleaning twice
    text = col.str.replace_many([*_INVISIBLE, *_SPACE_LIKE], [""] * len(_INVISIBLE) + [" "] * len(_SPACE_LIKE))
    if not composed:  # ten times the cost of the replacements: only where it may change something
        text = text.str.normalize("NFC")
    return text.str.strip_chars().replace("", None)


# « null » in any case: a lookup, not a regex on every cell (no other character folds to n, u or l);
# `_NOT_PLAIN` below finds it in a joined column
NULL_TYPED = ["".join(typed) for typed in product("nN", "uU", "lL", "lL")]

# the cells of a column joined by DEL (which `cleaned` keeps): a match where a cell may have
# something to clean (a character out of printable ASCII, a space at either end) or may be an
# error cell or « null »; a DEL of a cell's own can only make it match more, never less
_JOINED_BY = "\x7f"
_NOT_PLAIN = r"[^ -~\x7f]|(?:^|\x7f)(?: |#|Err:|[nN][uU][lL][lL](?:\x7f|$))| (?:\x7f|$)"


@dataclass(frozen=True)
class Column:
    cleaned: pl.Expr
    # printable ASCII, no space at either end, no error cell (`is_error_cell`) and no « null »:
    # each cell as it is, nothing to look for in any of them
    plain: bool


def cleaned_columns(frame: pl.DataFrame, names: list[str]) -> list[Column]:
    """`cleaned` of each column, decided once per column rather than on every cell: a plain
    column has nothing to take out or trim (one regex over the joined column costs a third of
    the replacements, error cells and « null » looked for on each cell). A character NFC may
    change is looked for only in the columns that are not plain (printable ASCII holds none):
    most columns are plain, and that search cost as much as the first."""
    joined = {n: pl.col(n).str.join(_JOINED_BY) for n in names}
    plain = dict(zip(names, frame.select(j.str.contains(_NOT_PLAIN).not_().alias(f"p{i}")
                                         for i, j in enumerate(joined.values())).row(0))) if names else {}
    others = [n for n in names if not plain[n]]
    composed = dict(zip(others, frame.select(joined[n].str.contains(_NOT_NFC).not_().alias(f"c{i}")
                                             for i, n in enumerate(others)).row(0))) if others else {}
    return [Column(pl.col(n).replace("", None), True) if plain[n] else Column(cleaned(pl.col(n), composed[n]), False)
            for n in names]


def is_error_cell(col: pl.Expr) -> pl.Expr:
    return col.str.contains(_ERROR_CELL)


def field_check(definition: FormatDefinition, f: Field, c: pl.Expr) -> FieldCheck:
    """Normalised value, error code and warning code of a cleaned, non-null cell, as its kind
    checks it; the intermediate columns of the steps are named after the balise (`<balise>__s…`)."""
    return kind(f.kind).check(definition, f, c, f"{f.balise}__s")


def padded_warning(f: Field, warning: pl.Expr, rows: list[int] | None) -> pl.Expr:
    """The reader gave back the leading zeros of these rows (typed as numbers): say so, unless
    the value already has a warning of its own (a wrong key matters more)."""
    if not rows:
        return warning
    code = kind(f.kind).PADDED_CODE
    return pl.when(pl.col("__row").is_in(rows) & warning.is_null()).then(pl.lit(code)).otherwise(warning)


def shown_warning(f: Field, check: FieldCheck, warning: pl.Expr, rows: dict[int, str] | None) -> pl.Expr:
    """The cells of these rows show another number than they hold (RawWorkbook.shown): say so,
    unless the value has an error (which echoes it) or a warning of its own."""
    if not rows:
        return warning
    return pl.when(pl.col("__row").is_in(list(rows)) & check.error.is_null() & warning.is_null()) \
        .then(pl.lit(kind(f.kind).SHOWN_CODE)).otherwise(warning)


def condition_expr(condition: Condition) -> pl.Expr:
    """True/false/null (unknown when a tested value is itself missing or invalid)."""
    alternatives = [
        pl.all_horizontal(pl.col(b) == pl.lit(v) for b, v in alt) for alt in condition.alternatives
    ]
    return pl.any_horizontal(alternatives)


def message_params(definition: FormatDefinition, f: Field) -> dict[str, object]:
    values = choice.allowed_values(definition, f)
    # each value quoted on its own: « DMP », « INS », « DMP, INS » (a value may hold a comma)
    quoted = [f"« {v} »" for v in values]
    shown = ", ".join(quoted) if len(values) <= 12 else ", ".join(quoted[:6]) + f", … ({len(values)} codes, voir la liste déroulante)"
    return {
        "balise": f.balise, "length": f.length, "max_length": f.max_length,
        "hint": f.pattern_hint or f.pattern, "values": shown, "minimum": f.minimum,
        "prefix": f.prefix,
        "condition": f.presence.condition.describe() if f.presence.condition else "",
        "null_condition": f.presence.null_if.describe() if f.presence.null_if else "",
        "condition_balises": ", ".join(sorted(f.presence.condition.balises)) if f.presence.condition else "",
    }
