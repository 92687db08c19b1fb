"""The library API behind the CLI: write a template, check a workbook, convert it.

Tests and other programs call these functions directly; the CLI only prints their results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from . import build, deposit
from .checks import NE, Checked, check_workbook
from .files import write_new_numbered
from .formats import FormatDefinition, get_format
from .issues import ISSUE_SCHEMA, Issue, Severity, message
from .reading import HEADER_SHEET, ROW, WorkbookError, read_workbook
from .workbook import write_workbook


@dataclass
class Outcome:
    """What a check or a conversion found and wrote; rendered by the CLI and the JSON report."""

    workbook: Path
    format_id: str | None = None
    demandes: int = 0
    accepted: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    error_workbook: Path | None = None
    total_ht: Decimal = Decimal("0.00")
    advance_rate: Decimal | None = None
    unreadable: bool = False

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.is_error]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.is_error]

    @property
    def advance(self) -> Decimal | None:
        if self.advance_rate is None:
            return None
        return (self.total_ht * self.advance_rate).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")

    @property
    def exit_code(self) -> int:
        """0 all accepted, 1 some rejected, 2 workbook unusable."""
        if self.unreadable:
            return 2
        return 1 if self.rejected or self.errors else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "classeur": str(self.workbook), "format": self.format_id,
            "demandes_lues": self.demandes, "demandes_acceptees": len(self.accepted),
            "demandes_rejetees": len(self.rejected),
            "numeros_acceptes": self.accepted, "numeros_rejetes": self.rejected,
            "fichiers": [str(p) for p in self.files],
            "classeur_erreurs": str(self.error_workbook) if self.error_workbook else None,
            "total_ht": f"{self.total_ht:.2f}",
            "taux_avance": f"{self.advance_rate}" if self.advance_rate is not None else None,
            "avance_attendue": f"{self.advance:.2f}" if self.advance is not None else None,
            "erreurs": len(self.errors), "avertissements": len(self.warnings),
            "problemes": [i.to_dict() for i in self.issues],
            "code_retour": self.exit_code,
        }


def write_template(format_id: str, target: Path) -> Path:
    """The blank workbook of a format, to fill in Excel or LibreOffice."""
    return write_workbook(get_format(format_id), Path(target))


def check(workbook: Path) -> tuple[Outcome, Checked | None]:
    """Read and check a workbook; nothing is written."""
    workbook = Path(workbook)
    try:
        raw = read_workbook(workbook)
    except WorkbookError as exc:
        return Outcome(workbook=workbook, issues=exc.issues, unreadable=True), None
    checked = check_workbook(raw)
    definition = checked.definition
    demandes = checked.frames[definition.demandes.name]
    outcome = Outcome(
        workbook=workbook, format_id=definition.id, demandes=demandes.height,
        accepted=list(checked.accepted), rejected=list(checked.rejected),
        issues=checked.issue_list(), advance_rate=definition.advance_rate,
    )
    outcome.total_ht = _total(checked, outcome.accepted)
    return outcome, checked


def verify(workbook: Path) -> Outcome:
    return check(workbook)[0]


def _total(checked: Checked, accepted: list[str]) -> Decimal:
    definition = checked.definition
    amount = next((f.balise for f in definition.demandes.fields if f.kind == "amount"), None)
    if amount is None or not accepted:
        return Decimal("0.00")
    values = checked.frames[definition.demandes.name].filter(
        pl.col(NE).is_in(pl.Series(accepted, dtype=pl.String).implode())
    )[amount].drop_nulls()
    return sum((Decimal(v) for v in values), Decimal("0.00"))


def convert(workbook: Path, output: Path, deposit_date: date | None = None) -> Outcome:
    """Check, then write the deposit files of the accepted demandes and the error workbook."""
    outcome, checked = check(workbook)
    if checked is None:
        return outcome
    output = Path(output)
    day = deposit_date or date.today()
    definition = checked.definition
    header = build.header_literals(checked)
    numero_ans = checked.frames[HEADER_SHEET]["numeroAns"][0]
    if outcome.accepted:
        records = build.demande_records(checked, outcome.accepted)
        records = _drop_schema_failures(checked, outcome, header, records)
        size = definition.limits.max_demandes_per_file
        for start in range(0, len(records), size):
            text = build.render(definition, header, records[start:start + size])
            outcome.files.append(deposit.write_deposit(output, numero_ans, day, text))
        outcome.total_ht = _total(checked, outcome.accepted)
    if outcome.rejected or outcome.errors:
        outcome.error_workbook = write_error_workbook(checked, outcome, output)
    return outcome


def _drop_schema_failures(checked: Checked, outcome: Outcome, header: dict[str, str],
                          records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Last guard: a demande the schema refuses never reaches a deposit file."""
    definition = checked.definition
    size = definition.limits.max_demandes_per_file
    refused: dict[str, str] = {}
    for start in range(0, len(records), size):
        chunk = records[start:start + size]
        for index, text in deposit.validate(definition.id, build.render(definition, header, chunk)):
            if index is not None:
                refused.setdefault(chunk[index][NE], text)
    if not refused:
        return records
    extra = [Issue(code="controle_schema", message=f"Refusée par le contrôle de structure ASP ({why}).",
                   severity=Severity.ERROR, sheet=definition.demandes.name, numero_editeur=ne,
                   file=str(outcome.workbook)) for ne, why in refused.items()]
    outcome.issues.extend(extra)
    outcome.accepted = [ne for ne in outcome.accepted if ne not in refused]
    outcome.rejected.extend(refused)
    return [r for r in records if r[NE] not in refused]


def _display(definition: FormatDefinition, checked: Checked, sheet_name: str, keep: pl.Expr) -> list[dict[str, Any]]:
    """Rows to echo in the error workbook: the normalised value when valid, else what was typed."""
    sheet = definition.by_name[sheet_name]
    raw = checked.raw.frames[sheet_name]
    values = checked.frames[sheet_name]
    joined = raw.join(values, on=ROW, how="left", suffix="__v")
    cols = []
    for f in sheet.fields:
        typed = pl.col(f.balise)
        if f.kind == "boolean":
            norm = pl.when(pl.col(f"{f.balise}__v")).then(pl.lit("VRAI")).when(~pl.col(f"{f.balise}__v")).then(pl.lit("FAUX"))
        elif f.kind in ("date", "amount", "integer"):
            norm = pl.col(f"{f.balise}__v").cast(pl.String)
        else:
            norm = pl.lit(None, dtype=pl.String)
        cols.append(pl.coalesce(norm, typed).alias(f.balise))
    return joined.filter(keep).sort(ROW).select(ROW, *cols).rename({ROW: "__row"}).to_dicts()


def write_error_workbook(checked: Checked, outcome: Outcome, output: Path) -> Path:
    """Exactly the rejected demandes (all their rows in every sheet), cells highlighted."""
    definition = checked.definition
    issues = pl.DataFrame([i.to_dict() for i in outcome.issues], schema={**ISSUE_SCHEMA, "file": pl.String}) \
        if outcome.issues else pl.DataFrame(schema=ISSUE_SCHEMA)
    error_ne = issues.filter(pl.col("severity") == "erreur")["numero_editeur"].drop_nulls().unique()
    bad = pl.Series(list(outcome.rejected), dtype=pl.String).append(error_ne).implode()
    rows = {}
    for sheet in definition.sheets:
        ne = checked.frames[sheet.name].select(ROW, NE)
        keep_rows = ne.filter(pl.col(NE).is_in(bad) | pl.col(NE).is_null() | (not checked.header_ok))[ROW].implode()
        rows[sheet.name] = _display(definition, checked, sheet.name, pl.col(ROW).is_in(keep_rows))
    header = _display(definition, checked, HEADER_SHEET, pl.lit(True))[0]
    target = output / f"erreurs-{outcome.workbook.stem}.xlsx"
    return write_workbook(definition, target, header=header, rows=rows, issues=outcome.issues, numbered=True)


def write_report(outcome: Outcome, target: Path) -> Path:
    data = orjson.dumps({**outcome.to_dict(), "date": datetime.now().isoformat(timespec="seconds")},
                        option=orjson.OPT_INDENT_2)
    return write_new_numbered(Path(target), lambda tmp: tmp.write_bytes(data))


def header_issue_message() -> str:
    return message("entete_invalide")
