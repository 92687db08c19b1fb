"""Checks across rows and sheets, declared in the definition: unique keys, parent links,
required children, and two columns that must hold the same set of values per demande.

Each function returns issue rows (ISSUE_SCHEMA) built with joins, not row loops. The right side
of an anti or semi join is not made unique first: the join's answer is the same, and unique()
cost twice the join (different_sets: 0.19 s against 0.06 s at 100,000 demandes).
"""

from __future__ import annotations

from functools import partial

import polars as pl

from .. import concurrency
from ..formats import FormatDefinition, Sheet
from ..issues import ISSUE_SCHEMA, NO_ROWS, ROWS_HOLE, message, severity
from ..reading import ROW, RawWorkbook
from .values import NE, condition_expr


def issue_rows(frame: pl.DataFrame, *, code: str, msg: str | pl.Expr, sheet: str, column: str | None,
          balise: str | None, value: pl.Expr, rows: pl.Expr = NO_ROWS) -> pl.DataFrame:
    """The ISSUE_SCHEMA rows of `code` on these rows, with the catalogue's severity."""
    return frame.select(
        code=pl.lit(code), message=pl.lit(msg) if isinstance(msg, str) else msg,
        severity=pl.lit(str(severity(code))), sheet=pl.lit(sheet),
        row=pl.col(ROW), column=pl.lit(column, dtype=pl.String), balise=pl.lit(balise, dtype=pl.String),
        value=value.cast(pl.String), numero_editeur=pl.col(NE), rows=rows,
    ).cast(ISSUE_SCHEMA)


def _key_text(keys: tuple[str, ...] | list[str]) -> pl.Expr:
    return pl.concat_str([pl.col(k).cast(pl.String) for k in keys], separator=" / ")


def _describe_keys(keys) -> str:
    return " + ".join(keys)


def duplicates(raw: RawWorkbook, sheet: Sheet, frame: pl.DataFrame) -> pl.DataFrame:
    keys = list(sheet.unique)
    keyed = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
    dup = keyed.filter(pl.len().over(keys) > 1)
    if dup.height == 0:
        return pl.DataFrame(schema=ISSUE_SCHEMA)
    last = keys[-1]
    code = "doublon_garde" if sheet.unique_kept else "doublon"
    msg = message(code, key=_describe_keys(keys), sheet=sheet.name, lignes=ROWS_HOLE)
    return issue_rows(dup, code=code, msg=msg, sheet=sheet.name, column=raw.letter(sheet.name, last),
                 balise=last, value=_key_text(keys), rows=pl.col(ROW).implode().over(keys))


def case_only_duplicates(raw: RawWorkbook, sheet: Sheet, frame: pl.DataFrame) -> pl.DataFrame:
    """Demandes whose keys differ only by case (« ab12c » and « AB12C »): seed 001 says the
    numéro éditeur is « au format alphanumérique » and not whether the ASP tells them apart, so
    both are kept, with a warning; their attachments' names would differ only by case, which
    Windows and macOS take for one name."""
    keys = [k for k in sheet.unique if frame.schema[k] == pl.String]
    if not keys or len(keys) != len(sheet.unique):
        return pl.DataFrame(schema=ISSUE_SCHEMA)
    keyed = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
    folded = [pl.col(k).str.to_lowercase() for k in keys]
    clash = keyed.filter(pl.len().over(folded) > pl.len().over(keys))
    if clash.height == 0:
        return pl.DataFrame(schema=ISSUE_SCHEMA)
    last = keys[-1]
    msg = message("doublon_casse", key=_describe_keys(keys), sheet=sheet.name, lignes=ROWS_HOLE)
    return issue_rows(clash, code="doublon_casse", msg=msg, sheet=sheet.name, column=raw.letter(sheet.name, last),
                 balise=last, value=_key_text(keys), rows=pl.col(ROW).implode().over(folded))


def unknown_parents(raw: RawWorkbook, sheet: Sheet, frame: pl.DataFrame, parent: pl.DataFrame) -> pl.DataFrame:
    link = sheet.parent
    keys = list(link.by)
    known = parent.select(keys).drop_nulls()
    orphans = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys)).join(
        known, on=keys, how="anti", nulls_equal=False
    )
    parent_sheet = raw.definition.by_name[link.sheet]
    anchor, rest = keys[0], [k for k in keys[1:] if parent_sheet.by_balise[k].presence.mode == "required"]
    if rest:  # a parent row of that demande whose key is empty or in error has its own error:
        broken = parent.filter(pl.col(anchor).is_not_null() & pl.any_horizontal(pl.col(k).is_null() for k in rest))
        orphans = orphans.join(broken.select(anchor).unique(), on=anchor, how="anti")  # report it once
    last = keys[-1]
    msg = message("parent_inconnu", parent=link.sheet, key=_describe_keys(keys))
    return issue_rows(orphans, code="parent_inconnu", msg=msg, sheet=sheet.name,
                 column=raw.letter(sheet.name, last), balise=last, value=_key_text(keys))


def missing_children(raw: RawWorkbook, sheet: Sheet, frame: pl.DataFrame, parent_sheet: Sheet,
                     parent: pl.DataFrame) -> pl.DataFrame:
    keys = list(sheet.parent.by)
    present = frame.select(keys).drop_nulls()
    lonely = parent.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys)).join(
        present, on=keys, how="anti"
    )
    msg = message("sans_enfant", child=sheet.name)
    return issue_rows(lonely, code="sans_enfant", msg=msg, sheet=parent_sheet.name, column=None,
                 balise=None, value=_key_text(keys))


def conditional_children(raw: RawWorkbook, sheet: Sheet, frame: pl.DataFrame, parent_sheet: Sheet,
                         parent: pl.DataFrame) -> list[pl.DataFrame]:
    """`required_if` / `forbidden_unless` of a parent link: a list that must not be empty, or
    must be empty, depending on values of the parent row (a parent value that is missing or
    invalid leaves the rule undecided: that value has its own error)."""
    link = sheet.parent
    keys = list(link.by)
    keyed = pl.all_horizontal(pl.col(k).is_not_null() for k in keys)
    found = []
    if link.required_if is not None:
        cond = link.required_if
        present = frame.select(keys).drop_nulls()
        lonely = parent.filter(keyed & condition_expr(cond).fill_null(False)).join(present, on=keys, how="anti")
        first = cond.alternatives[0][0][0]
        msg = message("sans_enfant_si", condition=cond.describe(), child=sheet.name,
                      balises=_describe_balises(cond))
        # the cell as typed (« VRAI », « oui »), not its normalised value (« true »)
        typed = raw.frames[parent_sheet.name].select(ROW, pl.col(first).alias("__typed"))
        found.append(issue_rows(lonely.join(typed, on=ROW, how="left"), code="sans_enfant_si", msg=msg,
                           sheet=parent_sheet.name, column=raw.letter(parent_sheet.name, first), balise=first,
                           value=pl.col("__typed")))
    for cond, code in ((link.forbidden_unless, "enfant_interdit"), (link.warn_unless, "enfant_non_exige")):
        if cond is None:
            continue
        verdict = parent.filter(keyed).select(*keys, __allowed=condition_expr(cond)).unique(keys, keep="first")
        extra = frame.filter(keyed).join(verdict, on=keys, how="inner").filter(pl.col("__allowed") == False)  # noqa: E712
        shown = next((b for b in sheet.balises if b not in keys), keys[-1])
        msg = message(code, condition=cond.describe(), parent=parent_sheet.name, balises=_describe_balises(cond))
        found.append(issue_rows(extra, code=code, msg=msg, sheet=sheet.name, column=raw.letter(sheet.name, shown),
                           balise=shown, value=pl.col(shown)))
    return found


def _describe_balises(cond) -> str:
    names = sorted(cond.balises)
    return " et ".join(names)


def unexpected_attachments(raw: RawWorkbook, definition: FormatDefinition, pieces_sheet: Sheet,
                           pieces: pl.DataFrame, demandes: pl.DataFrame) -> list[pl.DataFrame]:
    """Rows of the Pièces sheet for an attachment the demande is not asked for, sent all the
    same, with a warning: a type whose `when` condition is false for the demande (seed 001 asks
    for « La preuve que le fournisseur est soumis au régime de TVA HT le cas échéant » without
    forbidding it otherwise); a second type of the same `group` (seed 003 says « L'attestation de
    vérification d'aptitude ou la MOM le cas échéant » but lists both types without forbidding
    them together)."""
    types = definition.attachments.types
    rows = pieces.filter(pl.col(NE).is_not_null() & pl.col("typeFichier").is_not_null())
    column = raw.letter(pieces_sheet.name, "typeFichier")
    found = []
    for t in types:
        if t.when is None:
            continue
        tested = sorted(t.when.balises)
        values = demandes.filter(pl.col(NE).is_not_null()).select(NE, *tested).unique(NE, keep="first")
        bad = rows.filter(pl.col("typeFichier") == t.type).join(values, on=NE, how="inner") \
            .filter(condition_expr(t.when) == False)  # noqa: E712 (null: undecided)
        msg = message("piece_non_exigee", detail=f"{t.type} que si {t.when.describe()}",
                      sheet=pieces_sheet.name, balises=_describe_balises(t.when), parent=definition.demandes.name)
        found.append(issue_rows(bad, code="piece_non_exigee", msg=msg, sheet=pieces_sheet.name,
                           column=column, balise="typeFichier", value=pl.col("typeFichier")))
    groups: dict[str, list[str]] = {}
    for t in types:
        if t.group:
            groups.setdefault(t.group, []).append(t.type)
    for members in groups.values():
        listed = rows.filter(pl.col("typeFichier").is_in(members)).sort(ROW)
        extra = listed.filter(pl.col(ROW).rank("ordinal").over(NE) > 1)
        msg = message("pieces_du_meme_groupe", detail=", ".join(members))
        found.append(issue_rows(extra, code="pieces_du_meme_groupe", msg=msg, sheet=pieces_sheet.name,
                           column=column, balise="typeFichier", value=pl.col("typeFichier")))
    return found


def different_sets(raw: RawWorkbook, sheet: Sheet, frame: pl.DataFrame, other_sheet: Sheet,
                   other: pl.DataFrame) -> pl.DataFrame:
    rule = sheet.same_set_as
    keys = [*rule.by, rule.column]
    mine = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
    theirs = other.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
    extra = mine.join(theirs.select(keys), on=keys, how="anti")
    missing = theirs.join(mine.select(keys), on=keys, how="anti")
    return pl.concat([
        issue_rows(extra, code="ensemble_en_trop",
              msg=message("ensemble_en_trop", column=rule.column, other=other_sheet.name),
              sheet=sheet.name, column=raw.letter(sheet.name, rule.column), balise=rule.column,
              value=pl.col(rule.column)),
        issue_rows(missing, code="ensemble_manquant",
              msg=message("ensemble_manquant", column=rule.column, other=sheet.name),
              sheet=other_sheet.name, column=raw.letter(other_sheet.name, rule.column),
              balise=rule.column, value=pl.col(rule.column)),
    ])


def outside_expected(raw: RawWorkbook, sheet: Sheet, frame: pl.DataFrame, other: pl.DataFrame,
                     parent: pl.DataFrame) -> pl.DataFrame:
    """`expected_in`: a value that is not among the other sheet's values for the same key
    (a parent row meeting `when`): a warning that names both lists."""
    rule = sheet.expected_in
    keys = list(rule.by)
    mine = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in [*keys, rule.column]))
    if rule.when is not None:
        mine = mine.join(parent.filter(condition_expr(rule.when).fill_null(False)).select(keys), on=keys, how="semi")
    theirs = other.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in [*keys, rule.other])) \
        .select(*keys, pl.col(rule.other).alias(rule.column))
    listed = [
        mine.group_by(keys).agg(__mine=pl.col(rule.column).unique(maintain_order=True).str.join(", ")),
        theirs.group_by(keys).agg(__theirs=pl.col(rule.column).unique(maintain_order=True).str.join(", ")),
    ]
    outside = mine.join(theirs, on=[*keys, rule.column], how="anti")
    for lists in listed:
        outside = outside.join(lists, on=keys, how="left")
    # the catalogue's message, with the two lists of each demande put in its placeholders
    text = message("hors_liste_attendue", column=rule.column, other=rule.other, sheet=rule.sheet,
                   mine="\x00", theirs="\x01")
    head, rest = text.split("\x00")
    middle, tail = rest.split("\x01")
    msg = pl.concat_str(pl.lit(head), pl.col("__mine"), pl.lit(middle),
                        pl.col("__theirs").fill_null("aucun"), pl.lit(tail))
    return issue_rows(outside, code="hors_liste_attendue", msg=msg, sheet=sheet.name,
                 column=raw.letter(sheet.name, rule.column), balise=rule.column, value=pl.col(rule.column))


def check_links(raw: RawWorkbook, frames: dict[str, pl.DataFrame]) -> list[pl.DataFrame]:
    """The links of each sheet, in the definition's order; each sheet's in a thread of its own
    (Polars lets go of the GIL: both cores work, issue #19)."""
    pending = [concurrency.started(partial(_sheet_links, raw, sheet, frames)) for sheet in raw.definition.sheets]
    return [part for links in concurrency.results(pending) for part in links]


def _sheet_links(raw: RawWorkbook, sheet: Sheet, frames: dict[str, pl.DataFrame]) -> list[pl.DataFrame]:
    definition: FormatDefinition = raw.definition
    found: list[pl.DataFrame] = []
    frame = frames[sheet.name]
    if sheet.unique:
        found.append(duplicates(raw, sheet, frame))
        if sheet is definition.demandes:
            found.append(case_only_duplicates(raw, sheet, frame))
    if sheet.parent:
        parent_sheet = definition.by_name[sheet.parent.sheet]
        parent = frames[parent_sheet.name]
        found.append(unknown_parents(raw, sheet, frame, parent))
        if sheet.parent.required:
            found.append(missing_children(raw, sheet, frame, parent_sheet, parent))
        if sheet.parent.required_if or sheet.parent.forbidden_unless or sheet.parent.warn_unless:
            found += conditional_children(raw, sheet, frame, parent_sheet, parent)
    if sheet.same_set_as:
        other_sheet = definition.by_name[sheet.same_set_as.sheet]
        found.append(different_sets(raw, sheet, frame, other_sheet, frames[other_sheet.name]))
    if sheet.expected_in:
        found.append(outside_expected(raw, sheet, frame, frames[sheet.expected_in.sheet],
                                      frames[sheet.parent.sheet]))
    if sheet.alias == "pieces" and "typeFichier" in sheet.by_balise:
        found += unexpected_attachments(raw, definition, sheet, frame, frames[definition.demandes.name])
    return found
