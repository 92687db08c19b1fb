"""Checks across rows and sheets, declared in the definition: unique keys, parent links,
required children, and two columns that must hold the same set of values per demande.

Each function returns issue rows (ISSUE_SCHEMA) built with joins, not row loops.
"""

from __future__ import annotations

import polars as pl

from ..formats import FormatDefinition, Sheet
from ..issues import ISSUE_SCHEMA, message
from ..reading import ROW, RawWorkbook

NE = "__ne"  # the numeroEditeur of the row, as typed (cleaned), to attach issues to a demande


def _rows(frame: pl.DataFrame, *, code: str, msg: str, sheet: str, column: str | None,
          balise: str | None, value: pl.Expr) -> pl.DataFrame:
    return frame.select(
        code=pl.lit(code), message=pl.lit(msg), severity=pl.lit("erreur"), sheet=pl.lit(sheet),
        row=pl.col(ROW), column=pl.lit(column, dtype=pl.String), balise=pl.lit(balise, dtype=pl.String),
        value=value.cast(pl.String), numero_editeur=pl.col(NE),
    ).cast(ISSUE_SCHEMA)


def _key_text(keys: tuple[str, ...] | list[str]) -> pl.Expr:
    return pl.concat_str([pl.col(k).cast(pl.String) for k in keys], separator=" / ")


def _describe_keys(keys) -> str:
    return " + ".join(keys)


def duplicates(raw: RawWorkbook, sheet: Sheet, frame: pl.DataFrame) -> pl.DataFrame:
    keys = list(sheet.unique)
    keyed = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
    dup = keyed.with_columns(
        __n=pl.len().over(keys),
        __rows=pl.col(ROW).cast(pl.String).implode().over(keys).list.join(", "),
    ).filter(pl.col("__n") > 1)
    if dup.height == 0:
        return pl.DataFrame(schema=ISSUE_SCHEMA)
    last = keys[-1]
    out = []
    for rows, part in dup.group_by("__rows", maintain_order=True):
        msg = message("doublon", key=_describe_keys(keys), sheet=sheet.name, detail=rows[0])
        out.append(_rows(part, code="doublon", msg=msg, sheet=sheet.name,
                         column=raw.letter(sheet.name, last), balise=last, value=_key_text(keys)))
    return pl.concat(out)


def unknown_parents(raw: RawWorkbook, sheet: Sheet, frame: pl.DataFrame, parent: pl.DataFrame) -> pl.DataFrame:
    link = sheet.parent
    keys = list(link.by)
    known = parent.select(keys).drop_nulls().unique()
    orphans = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys)).join(
        known, on=keys, how="anti", nulls_equal=False
    )
    last = keys[-1]
    msg = message("parent_inconnu", parent=link.sheet, key=_describe_keys(keys))
    return _rows(orphans, code="parent_inconnu", msg=msg, sheet=sheet.name,
                 column=raw.letter(sheet.name, last), balise=last, value=_key_text(keys))


def missing_children(raw: RawWorkbook, sheet: Sheet, frame: pl.DataFrame, parent_sheet: Sheet,
                     parent: pl.DataFrame) -> pl.DataFrame:
    keys = list(sheet.parent.by)
    present = frame.select(keys).drop_nulls().unique()
    lonely = parent.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys)).join(
        present, on=keys, how="anti"
    )
    msg = message("sans_enfant", child=sheet.name)
    return _rows(lonely, code="sans_enfant", msg=msg, sheet=parent_sheet.name, column=None,
                 balise=None, value=_key_text(keys))


def different_sets(raw: RawWorkbook, sheet: Sheet, frame: pl.DataFrame, other_sheet: Sheet,
                   other: pl.DataFrame) -> pl.DataFrame:
    rule = sheet.same_set_as
    keys = [*rule.by, rule.column]
    mine = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
    theirs = other.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
    extra = mine.join(theirs.select(keys).unique(), on=keys, how="anti")
    missing = theirs.join(mine.select(keys).unique(), on=keys, how="anti")
    return pl.concat([
        _rows(extra, code="ensemble_en_trop",
              msg=message("ensemble_en_trop", column=rule.column, other=other_sheet.name),
              sheet=sheet.name, column=raw.letter(sheet.name, rule.column), balise=rule.column,
              value=pl.col(rule.column)),
        _rows(missing, code="ensemble_manquant",
              msg=message("ensemble_manquant", column=rule.column, other=sheet.name),
              sheet=other_sheet.name, column=raw.letter(other_sheet.name, rule.column),
              balise=rule.column, value=pl.col(rule.column)),
    ])


def check_links(raw: RawWorkbook, frames: dict[str, pl.DataFrame]) -> list[pl.DataFrame]:
    definition: FormatDefinition = raw.definition
    found: list[pl.DataFrame] = []
    for sheet in definition.sheets:
        frame = frames[sheet.name]
        if sheet.unique:
            found.append(duplicates(raw, sheet, frame))
        if sheet.parent:
            parent_sheet = definition.by_name[sheet.parent.sheet]
            parent = frames[parent_sheet.name]
            found.append(unknown_parents(raw, sheet, frame, parent))
            if sheet.parent.required:
                found.append(missing_children(raw, sheet, frame, parent_sheet, parent))
        if sheet.same_set_as:
            other_sheet = definition.by_name[sheet.same_set_as.sheet]
            found.append(different_sets(raw, sheet, frame, other_sheet, frames[other_sheet.name]))
    return found
