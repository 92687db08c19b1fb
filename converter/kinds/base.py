"""What every field kind shares: the `FieldCheck` it returns, and the helpers its module uses.

A kind module (`converter/kinds/<kind>.py`) holds everything about one kind of column:

    NAME          the `kind:` of the YAML definitions
    CODES         the issue codes its check can give (severity: converter/issues.py's catalogue)
    check         the Polars check: (definition, field, cleaned cell, step prefix) → FieldCheck
    validate      the same check on one value, python-stdnum style (`is_valid` beside it)
    json_schema   its JSON Schema fragment
    describe      its expected format in French, for the Notice and the header notes
    json_literal  how a normalised column is written in a deposit file
    TEXT          its values are typed as text (identifiers: leading zeros matter)
    NUM_FORMAT    the template's number format (date, amount, integer)
    WIDTH, MAX_LOST_ZEROS, PADDED_CODE   identifiers Excel may have typed as numbers
    SHOWN_CODE    values whose cell format may show another value than they hold: the code
                  warns naming what the cell shows; SHOWN_FROM says which: « rounded » (amounts:
                  a number shown with fewer decimals, read to all its digits), « month_first »
                  (dates: a date format showing the month before the day)
    shown         a cell as the user typed it, to echo it (messages, error workbook); by
                  default `as_typed`
    choices, drop_down_message           only the kinds the template gives a drop-down list
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from ..formats.model import Field, FormatDefinition

NONE = pl.lit(None, dtype=pl.String)


@dataclass(frozen=True)
class FieldCheck:
    value: pl.Expr
    error: pl.Expr  # String code or null
    warning: pl.Expr  # String code or null
    # intermediate columns that value, error and warning read, computed before them, one stage
    # after the other: Polars does not reliably compute a repeated sub-expression once (a
    # parsed date read three times was parsed three times)
    steps: tuple[dict[str, pl.Expr], ...] = ()


class Invalid(ValueError):
    """A value a kind refuses; `code` is its issue code (converter/issues.py)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def codes(*pairs: tuple[pl.Expr, str]) -> pl.Expr:
    """The code of the first true condition, else null."""
    expr = None
    for cond, code in pairs:
        expr = pl.when(cond).then(pl.lit(code)) if expr is None else expr.when(cond).then(pl.lit(code))
    return expr.otherwise(NONE) if expr is not None else NONE


# A date cell as the reader gives it: « AAAA-MM-JJ hh:mm:ss » from an .xlsx; « AAAA-MM-JJ », or
# « AAAA-MM-JJThh:mm:ss » with a time, from an .ods
_CELL_DATE = r"^([0-9]{4})-([0-9]{2})-([0-9]{2})"


def as_typed(c: pl.Expr) -> pl.Expr:
    """A cell's text as the user typed it: a date cell, which the reader gives in ISO form,
    as JJ/MM/AAAA (and its time when it has one), a time alone as hh:mm; any other value as
    it is. Midnight on Excel's day 0 is a date cell of 30 or 31 December 1899 (the serial 0 or
    1 LibreOffice shows so), as the date kind refuses it, not the time 00:00.

    >>> pl.DataFrame({"c": ["2204-05-15 00:00:00", "2024-03-05 12:30:00", "2024-03-05T12:30:15",
    ...                     "1899-12-31 12:30:00", "1899-12-31 02:04:24", "2204-05-15", "4866.67", "2204-05-15 x",
    ...                     "1899-12-31 00:00:00", "1899-12-30 00:00:00"]}
    ...              ).select(as_typed(pl.col("c")))[:, 0].to_list()
    ['15/05/2204', '05/03/2024 12:30', '05/03/2024 12:30:15', '12:30', '02:04:24', '15/05/2204', '4866.67', '2204-05-15 x', '31/12/1899', '30/12/1899']
    """
    return (c.str.replace(r"^1899-12-3([01])[ T]00:00(?::00)?$", "3$1/12/1899")
            .str.replace(r"^1899-12-3[01][ T]([0-9]{2}:[0-9]{2})(?::00)?$", "$1")  # Excel's day 0
            .str.replace(r"^1899-12-3[01][ T]([0-9]{2}:[0-9]{2}:[0-9]{2})$", "$1")
            .str.replace(_CELL_DATE + r"(?: 00:00:00)?$", "$3/$2/$1")
            .str.replace(_CELL_DATE + r"[ T]([0-9]{2}:[0-9]{2}):00$", "$3/$2/$1 $4")
            .str.replace(_CELL_DATE + r"[ T]([0-9]{2}:[0-9]{2}:[0-9]{2})$", "$3/$2/$1 $4"))


def without_spaces(c: pl.Expr) -> pl.Expr:
    """A cleaned value without its spaces (the ordinary space is the only one left)."""
    return c.str.replace_all(" ", "", literal=True)


def scalar(check: Any, kind: str, value: str, field: Field | None = None,
           definition: FormatDefinition | None = None) -> Any:
    """Run a kind's Polars `check` on one cleaned value: the normalised value, or `Invalid`.
    The scalar form IS the column form, so the two cannot disagree."""
    if field is None:
        from ..formats.model import Field  # the definitions' model asks the kinds: imported late
        field = Field("valeur", kind, "")
    name = f"{field.balise}__s"
    found = check(definition, field, pl.col("c"), name)
    frame = pl.LazyFrame({"c": [value]}, schema={"c": pl.String})
    for stage in found.steps:
        frame = frame.with_columns(**stage)
    row = frame.select(v=found.value, e=found.error).collect().row(0)
    if row[1] is not None:
        raise Invalid(row[1])
    return row[0]


UPPER_PATTERN = r"^[^a-zà-ÿ]*$"  # a value in capitals (`upper: true`), as the deposit file's schema holds it


def string_schema(field: Field, pattern: str | None = None, max_length: int | None = None) -> dict[str, Any]:
    """The schema of a text value: the kind's pattern and length, then the field's own."""
    s: dict[str, Any] = {"type": "string"}
    if pattern is not None:
        s["pattern"] = pattern
    if max_length is not None:
        s["maxLength"] = max_length
    if field.length is not None:
        s["minLength"] = s["maxLength"] = field.length
    if field.max_length is not None:
        s["maxLength"] = field.max_length
    if field.pattern:
        s["allOf"] = [{"pattern": field.pattern}]
    if field.upper:
        s.setdefault("allOf", []).append({"pattern": UPPER_PATTERN})
    return s


def quoted(col: pl.Expr) -> pl.Expr:
    """JSON string of a value the check holds to a pattern without quote, backslash or control
    character: quoted as it is, twice as fast as JSON-encoding it."""
    return pl.concat_str(pl.lit('"'), col, pl.lit('"')).fill_null("null")


def encoded(col: pl.Expr) -> pl.Expr:
    """JSON string of any text value."""
    return pl.struct(v=col).struct.json_encode().str.strip_prefix('{"v":').str.strip_suffix("}")


def predicate(validate: Callable[..., Any]) -> Callable[..., bool]:
    """`is_valid` of a kind: whether its `validate` accepts the value."""
    def is_valid(*args: Any) -> bool:
        try:
            validate(*args)
        except Invalid:
            return False
        return True
    return is_valid


def scalar_forms(check: Any, kind: str) -> tuple[Callable[..., Any], Callable[..., bool]]:
    """`validate` and `is_valid` of a kind: its Polars `check` run on one value (`scalar`)."""
    def validate(value: str, field: Field | None = None, definition: FormatDefinition | None = None) -> Any:
        return scalar(check, kind, value, field, definition)
    return validate, predicate(validate)
