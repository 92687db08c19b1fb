"""Check a whole workbook against its format definition and decide which demandes pass.

`check_workbook` returns the normalised frames, every issue found (all of them, not the
first per demande as the ASP does), and the numeroEditeur of accepted and rejected demandes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from ..formats import FormatDefinition, Sheet
from ..issues import ISSUE_SCHEMA, NO_ROWS, Issues, issue, message, severity
from ..kinds import shown
from ..formats.model import column_letter
from ..reading import HEADER_SHEET, ROW, RawWorkbook, blank, column_index
from ..wording import counted
from .links import check_links, issue_rows
from .rules import check_rules
from .values import (NE, NULL_TYPED, cleaned_columns, condition_expr, field_check, is_error_cell, message_params,
                     padded_warning, shown_warning)

__all__ = ["Checked", "check_sheet", "check_workbook", "NE"]


@dataclass
class Checked:
    raw: RawWorkbook
    frames: dict[str, pl.DataFrame]  # normalised values per balise + __row + __ne
    issues: pl.DataFrame  # ISSUE_SCHEMA rows, errors then warnings, by sheet, row and column
    accepted: list[str]  # numeroEditeur, in workbook order
    rejected: list[str]
    header_ok: bool

    @property
    def definition(self) -> FormatDefinition:
        return self.raw.definition

    def issue_list(self) -> Issues:
        return Issues(self.issues, file=str(self.raw.path))


CELL_PROBLEMS = ["cellule_en_erreur", "formule_sans_valeur"]  # the cell itself, before any rule

CHECK_ENGINE = "in-memory"
"""The Polars engine a sheet's checks run on. Polars 2 runs a lazy query on its streaming engine
by default; a sheet's checks (one projection of every column, its sub-expressions computed once)
took an eighth more computing there: 100,000 demandes, five sheets, six alternations,
0.60 → 0.52 s (« excel »), 0.82 → 0.74 s (« texte »); the same frames. `demande_lookup` (joins,
group-by) stays on the default engine, a third faster there."""


def check_sheet(raw: RawWorkbook, sheet: Sheet) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Normalise one sheet; return (frame of values, issue rows). It reads nothing of the other
    sheets: read_workbook may start it as soon as the sheet is read (`then`)."""
    checked = _cell_values(raw, sheet, *_cleaned_cells(raw.frames[sheet.name], sheet))
    if "numeroEditeur" in sheet.by_balise:
        # a row belongs to the demande its numeroEditeur names as the links read it and the
        # deposit file writes it (« 000 01 » is 00001), not as typed: else its errors rejected
        # no demande and the deposit file left the row out
        checked = checked.with_columns(pl.coalesce(pl.col("numeroEditeur"), pl.col(NE)).alias(NE))
    checked = _presence(raw.definition, sheet, checked)
    # an invalid value never travels further
    checked = checked.with_columns(
        pl.when(pl.col(f"{f.balise}__err").is_null()).then(pl.col(f.balise)).alias(f.balise)
        for f in sheet.fields if not f.is_text
    ).collect(engine=CHECK_ENGINE)
    values = checked.select(pl.col(ROW), pl.col(NE), *(pl.col(f.balise) for f in sheet.fields))
    found = _hidden_columns(raw, sheet, _hidden_rows(raw, sheet, values, _issue_rows(raw, sheet, checked)))
    return values, _merged_cells(raw, sheet, values, _masked_cells(raw, sheet, values, found))


def _hidden_rows(raw: RawWorkbook, sheet: Sheet, values: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    """`found`, and a warning for each row the sheet hides (RawWorkbook.hidden): the seeds say
    nothing of a workbook's rows, a hidden row is read and deposited like the others, but the
    user reading the sheet does not see it."""
    hidden = raw.hidden.get(sheet.name)
    if not hidden:
        return found
    return pl.concat([found, issue_rows(values.filter(pl.col(ROW).is_in(hidden)), code="ligne_masquee",
                                        msg=message("ligne_masquee", sheet=sheet.name), sheet=sheet.name,
                                        column=None, balise=None, value=pl.lit(None))])


def _hidden_columns(raw: RawWorkbook, sheet: Sheet, found: pl.DataFrame) -> pl.DataFrame:
    """`found`, and a warning for each column the sheet hides (RawWorkbook.hidden_columns), or
    narrower than a millimetre (RawWorkbook.narrow_columns), that holds a value, once, with the
    count of its rows holding one: the seeds say nothing of a workbook's columns, its values are
    read and deposited like the others, but the user reading the sheet does not see them."""
    unseen = [(code, b) for code, columns in (("colonne_masquee", raw.hidden_columns), ("colonne_etroite", raw.narrow_columns))
              for b in columns.get(sheet.name, [])]
    if not unseen:
        return found
    filled = raw.frames[sheet.name].select((~blank(b)).sum() for _, b in unseen).row(0)
    warned = [issue(code, sheet=sheet.name, column=raw.letter(sheet.name, b), balise=b,
                    compte=counted(n, "ligne")).to_dict()
              for (code, b), n in zip(unseen, filled) if n]
    if not warned:
        return found
    return pl.concat([found, pl.DataFrame([{k: v for k, v in w.items() if k in ISSUE_SCHEMA} for w in warned],
                                          schema=ISSUE_SCHEMA)])


def _masked_cells(raw: RawWorkbook, sheet: Sheet, values: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    """`found`, and a warning for each cell holding a value that its number format does not
    show (RawWorkbook.masked: « ;;; » shows nothing, « "à venir" » that text): the seeds say
    nothing of a cell's format, the value is read and deposited like the others, but the user
    reading the sheet does not see it."""
    masked = raw.masked.get(sheet.name)
    if not masked:
        return found
    before, after = message("valeur_masquee_format", affiche="\x01").split("\x01")
    parts = [found]
    for b, rows in masked.items():
        shows = pl.col(ROW).replace_strict(rows, default=None, return_dtype=pl.String)
        affiche = pl.when(shows.str.strip_chars() == "").then(pl.lit("n'affiche rien (elle paraît vide)")) \
            .otherwise(pl.concat_str(pl.lit("affiche « "), shows, pl.lit(" »")))
        kind = sheet.by_balise[b].kind
        masking = (raw.frames[sheet.name].filter(pl.col(ROW).is_in(list(rows)) & ~blank(b))
                   .join(values.select(ROW, NE, pl.col(b).alias("__value")), on=ROW, how="left")
                   .filter(shows.ne_missing(shown(kind, pl.col("__value").cast(pl.String)))))  # « FAUX » shown, FAUX held: seen
        parts.append(issue_rows(masking, code="valeur_masquee_format", msg=pl.concat_str(pl.lit(before), affiche, pl.lit(after)),
                                sheet=sheet.name, column=raw.letter(sheet.name, b), balise=b, value=shown(kind, pl.col(b))))
    return pl.concat(parts)


_RANGES = {"range": pl.Int64, "c1": pl.Int64, "r1": pl.Int64, "c2": pl.Int64, "r2": pl.Int64}


def _merged_cells(raw: RawWorkbook, sheet: Sheet, values: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    """`found`, and a warning for each merged range (RawWorkbook.merged) holding a value beyond
    its first cell, at the first such cell, with its value: the seeds say nothing of merged
    cells, the value is read and deposited like the others, but the sheet shows the first cell's
    over the range (L2:M2 shows L2; A2:A3, A2 over both rows). One Polars join a column."""
    merged = raw.merged.get(sheet.name)
    letters = raw.letters.get(sheet.name, {})
    if not merged or not letters:
        return found
    ranges = pl.DataFrame([(n, *r) for n, r in enumerate(merged)], schema=_RANGES, orient="row")
    hits = []
    for f in sheet.fields:
        if f.balise not in letters:
            continue
        c = column_index(letters[f.balise])
        mine = ranges.filter((pl.col("c1") <= c) & (pl.col("c2") >= c))
        if mine.height == 0:
            continue
        hits.append(raw.frames[sheet.name].filter(~blank(f.balise)).select(
            ROW, column=pl.lit(letters[f.balise]), index=pl.lit(c), balise=pl.lit(f.balise),
            value=shown(f.kind, pl.col(f.balise)),
        ).join_where(mine.with_columns(top=pl.col("r1") + (pl.col("c1") == c).cast(pl.Int64)),
                     pl.col(ROW) >= pl.col("top"), pl.col(ROW) <= pl.col("r2")))
    if not hits:
        return found
    # the first cell of each range holding a value (by row, then column), and how many others do
    first = pl.concat(hits).sort("range", ROW, "index").group_by("range", maintain_order=True).agg(
        pl.all().first(), others=pl.len() - 1)
    if first.height == 0:
        return found
    corners = {n: (f"{column_letter(c1)}{r1}", f"{column_letter(c2)}{r2}")
               for n, c1, r1, c2, r2 in first.select("range", "c1", "r1", "c2", "r2").iter_rows()}
    others = {n: "" if n == 0 else f" ; {counted(n, 'autre cellule', 'autres cellules')} de la fusion en "
                                   f"{'contient' if n == 1 else 'contiennent'} aussi une"
              for n in first["others"].unique().to_list()}
    template = message("cellule_fusionnee_masquee", sheet=sheet.name, plage="\x01", premiere="\x02", autres="\x03")
    fill = {"\x01": pl.col("range").replace_strict({n: f"{a}:{b}" for n, (a, b) in corners.items()}, return_dtype=pl.String),
            "\x02": pl.col("range").replace_strict({n: a for n, (a, _) in corners.items()}, return_dtype=pl.String),
            "\x03": pl.col("others").replace_strict(others, return_dtype=pl.String)}
    pieces = re.split("([\x01-\x03])", template)
    text = pl.concat_str([fill[p] if p in fill else pl.lit(p) for p in pieces if p])
    return pl.concat([found, first.join(values.select(ROW, NE), on=ROW, how="left").select(
        code=pl.lit("cellule_fusionnee_masquee"), message=text,
        severity=pl.lit(str(severity("cellule_fusionnee_masquee"))), sheet=pl.lit(sheet.name), row=pl.col(ROW),
        column=pl.col("column"), balise=pl.col("balise"), value=pl.col("value"), numero_editeur=pl.col(NE), rows=NO_ROWS,
    ).cast(ISSUE_SCHEMA)])


def _cleaned_cells(frame: pl.DataFrame, sheet: Sheet) -> tuple[pl.LazyFrame, set[str]]:
    """The cleaned text of each cell (`<balise>__c`), computed once: every check starts from it;
    « null » typed as the ASP's guides say is read as an empty cell, and said (`<balise>__null`).
    Also the balises of the plain columns (`cleaned_columns`): no cell need be tested for an
    error cell or « null »."""
    names = [f.balise for f in sheet.fields]
    columns = dict(zip(names, cleaned_columns(frame, names)))
    nulls = [n for n in names if not columns[n].plain]
    frame = frame.lazy().with_columns(column.cleaned.alias(f"{n}__c") for n, column in columns.items())
    ne = pl.col("numeroEditeur__c") if "numeroEditeur" in sheet.by_balise else pl.lit(None, dtype=pl.String)
    return frame.with_columns(
        ne.alias(NE),
        *(pl.col(f"{n}__c").is_in(NULL_TYPED).fill_null(False).alias(f"{n}__null") for n in nulls),
        *(pl.lit(False).alias(f"{n}__null") for n in names if n not in nulls),
    ).with_columns(
        pl.when(pl.col(f"{n}__null")).then(None).otherwise(pl.col(f"{n}__c")).alias(f"{n}__c") for n in nulls
    ), {n for n, column in columns.items() if column.plain}


def _cell_values(raw: RawWorkbook, sheet: Sheet, frame: pl.LazyFrame,
                 plain: set[str]) -> pl.LazyFrame:
    """Pass 1: each value on its own, as its kind checks it, after the intermediate columns
    its check reads: `<balise>` (normalised), `__err`, `__warn`, `__empty`, `__raw`."""
    checks = {f.balise: field_check(raw.definition, f, pl.col(f"{f.balise}__c")) for f in sheet.fields}
    for stage in range(max((len(check.steps) for check in checks.values()), default=0)):
        frame = frame.with_columns(**{name: expr for check in checks.values() if stage < len(check.steps)
                                      for name, expr in check.steps[stage].items()})
    exprs = []
    for f in sheet.fields:
        c = pl.col(f"{f.balise}__c")
        check = checks[f.balise]
        formula_rows = raw.formulas.get(sheet.name, {}).get(f.balise)
        unsaved = pl.col(ROW).is_in(formula_rows) if formula_rows else pl.lit(False)
        broken = unsaved if f.balise in plain else is_error_cell(c) | unsaved
        exprs += [
            pl.when(c.is_null() | broken).then(None).otherwise(check.value).alias(f.balise),
            pl.when(unsaved).then(pl.lit("formule_sans_valeur"))
            .when(broken).then(pl.lit("cellule_en_erreur"))
            .when(c.is_not_null()).then(check.error).alias(f"{f.balise}__err"),
            pl.when(pl.col(f"{f.balise}__null")).then(pl.lit("null_lu_vide"))
            .when(c.is_not_null() & ~broken).then(shown_warning(
                f, check, padded_warning(f, check.warning, raw.padded.get(sheet.name, {}).get(f.balise)),
                raw.shown.get(sheet.name, {}).get(f.balise))
            ).alias(f"{f.balise}__warn"),
            c.is_null().alias(f"{f.balise}__empty"),
            pl.col(f.balise).alias(f"{f.balise}__raw"),
        ]
    return frame.select(pl.col(ROW), pl.col(NE), *exprs)  # lazy: shared sub-expressions once


def _presence(definition: FormatDefinition, sheet: Sheet, checked: pl.LazyFrame) -> pl.LazyFrame:
    """Pass 2: presence rules, which look at the other normalised values of the row."""
    presence, silent = [], []
    # where the seed is silent, a value is kept: in a deposit file, or, in an order-check
    # workbook (no deposit file), beside the values the checks read
    kept = "valeur_non_exigee_commande" if definition.nature == "commandes" else "valeur_non_exigee"
    for f in sheet.fields:
        empty = pl.col(f"{f.balise}__empty")
        p = f.presence
        warnings = []
        if p.mode == "required":
            code = pl.when(empty).then(pl.lit("obligatoire"))
        elif p.mode == "optional":
            code = pl.lit(None, dtype=pl.String)
        else:
            cond = condition_expr(p.condition)
            if p.null_if is None and not p.kept_otherwise:
                code = pl.when(~cond & ~empty).then(pl.lit("doit_etre_vide"))
            else:  # « null » only where the seed says so; elsewhere it is silent: a warning
                null = condition_expr(p.null_if) if p.null_if is not None else pl.lit(False)
                code = pl.when(null & ~empty).then(pl.lit("doit_etre_vide_si"))
                warnings.append(pl.when(~cond & ~null & ~empty & pl.col(f"{f.balise}__err").is_null())
                                .then(pl.lit(kept)))
            if p.mode == "required_if":
                code = pl.when(cond & empty).then(pl.lit("obligatoire_si")).otherwise(code)
            elif p.mode == "expected_if":  # named by the seed under COND, never « Obligatoire »
                warnings.append(pl.when(cond & empty).then(pl.lit("attendue_si")))
        if warnings:
            silent.append(pl.coalesce(*warnings, pl.col(f"{f.balise}__warn")).alias(f"{f.balise}__warn"))
        presence.append(
            pl.coalesce(
                pl.when(pl.col(f"{f.balise}__err").is_in(CELL_PROBLEMS)).then(pl.col(f"{f.balise}__err")),
                code, pl.col(f"{f.balise}__err"),
            ).alias(f"{f.balise}__err")
        )
    return checked.with_columns(*presence, *silent)


def _issue_rows(raw: RawWorkbook, sheet: Sheet, checked: pl.DataFrame) -> pl.DataFrame:
    """One ISSUE_SCHEMA row per code found; its severity is the catalogue's (converter/issues.py)."""
    issue_parts = []
    found = checked.select(pl.col(f"{f.balise}__{kind}").count() for f in sheet.fields for kind in ("err", "warn"))
    for f in sheet.fields:
        params = message_params(raw.definition, f)
        letter = raw.letter(sheet.name, f.balise)
        for col in (f"{f.balise}__err", f"{f.balise}__warn"):
            if not found[col][0]:
                continue
            hits = checked.filter(pl.col(col).is_not_null())
            codes = hits[col].unique().to_list()
            # « {written} » in a message: the value as written in the deposit file, row by row;
            # « {affiche} », the text the cell shows (RawWorkbook.shown)
            messages = {c: message(c, **params, written="\x00", affiche="\x01") for c in codes}
            text = pl.col(col).replace_strict(messages, return_dtype=pl.String)
            shows = raw.shown.get(sheet.name, {}).get(f.balise, {})
            row_shows = pl.col(ROW).replace_strict(shows, default=None, return_dtype=pl.String)
            for c, m in messages.items():
                if "\x00" in m or "\x01" in m:
                    pieces = [pl.lit(piece) for piece in re.split("[\x00\x01]", m)]
                    filled = [pl.col(f.balise) if mark == "\x00" else row_shows for mark in re.findall("[\x00\x01]", m)]
                    parts = [x for pair in zip(pieces, [*filled, None]) for x in pair if x is not None]
                    text = pl.when(pl.col(col) == c).then(pl.concat_str(parts)).otherwise(text)
            issue_parts.append(hits.select(
                code=pl.col(col), message=text,
                severity=pl.col(col).replace_strict({c: str(severity(c)) for c in codes}, return_dtype=pl.String),
                sheet=pl.lit(sheet.name), row=pl.col(ROW),
                column=pl.lit(letter), balise=pl.lit(f.balise), value=shown(f.kind, pl.col(f"{f.balise}__raw")),
                numero_editeur=pl.col(NE), rows=NO_ROWS,
            ).cast(ISSUE_SCHEMA))
    return pl.concat(issue_parts) if issue_parts else pl.DataFrame(schema=ISSUE_SCHEMA)


def _without_faulty_cells(frames: dict[str, pl.DataFrame], issues: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Hide values that already have an error, so one typo in a key is reported once,
    not again as « no matching row » in every linked sheet."""
    faulty = issues.filter(pl.col("severity") == "erreur").select("sheet", "balise", "row").drop_nulls()
    hidden = {}
    for name, frame in frames.items():
        mine = faulty.filter(pl.col("sheet") == name)
        if mine.height == 0:
            hidden[name] = frame
            continue
        hidden[name] = frame.with_columns(
            pl.when(pl.col(ROW).is_in(rows["row"].implode())).then(None).otherwise(pl.col(balise)).alias(balise)
            for (balise,), rows in mine.group_by("balise") if balise in frame.columns
        )
    return hidden


def check_workbook(raw: RawWorkbook) -> Checked:
    definition = raw.definition
    frames: dict[str, pl.DataFrame] = {}
    parts: list[pl.DataFrame] = []
    for sheet in (definition.header, *definition.sheets):
        ahead = raw.ahead.get(sheet.name)  # check_sheet, started by read_workbook
        frames[sheet.name], found = ahead.result() if ahead is not None else check_sheet(raw, sheet)
        parts.append(found)
    header_format = frames[HEADER_SHEET]["format"][0]  # the id it stands for, whatever its case (format_id)
    if header_format is not None and header_format != definition.id:
        row = frames[HEADER_SHEET][ROW][0]
        typed = raw.frames[HEADER_SHEET].filter(pl.col(ROW) == row)["format"][0]
        parts.append(pl.DataFrame([{
            "code": "format_different", "message": message("format_different", detail=header_format),
            "severity": str(severity("format_different")), "sheet": HEADER_SHEET, "row": row,
            "column": raw.letter(HEADER_SHEET, "format"), "balise": "format", "value": typed,
            "numero_editeur": None,
        }], schema=ISSUE_SCHEMA))
    if raw.renamed:  # a sheet found under its name typed without accent or in another case
        parts.append(pl.DataFrame([{k: v for k, v in issue("feuille_renommee", sheet=name, value=typed).to_dict().items()
                                    if k in ISSUE_SCHEMA} for name, typed in raw.renamed.items()], schema=ISSUE_SCHEMA))
    parts += check_links(raw, _without_faulty_cells(frames, pl.concat(parts)))
    # generic row rules declared in the definition (`rules:`), after the cell checks
    parts += check_rules(raw, frames, pl.concat(parts))
    # in the order every renderer lists them: one frame, not a sorted copy beside it
    issues = pl.concat(parts).sort(["severity", "sheet", "row", "column"], nulls_last=True, maintain_order=True)

    errors = issues.filter(pl.col("severity") == "erreur")
    header_ok = errors.filter(pl.col("sheet") == HEADER_SHEET).height == 0
    demandes = frames[definition.demandes.name]
    bad = errors["numero_editeur"].drop_nulls().unique()
    rejected_mask = pl.col(NE).is_in(bad.implode()) | pl.col(NE).is_null() | (not header_ok)
    all_ne = demandes.select(NE, rejected=rejected_mask)
    accepted = all_ne.filter(~pl.col("rejected"))[NE].to_list()
    rejected = all_ne.filter(pl.col("rejected"))[NE].drop_nulls().unique(maintain_order=True).to_list()
    return Checked(raw=raw, frames=frames, issues=issues, accepted=accepted, rejected=rejected,
                   header_ok=header_ok)
