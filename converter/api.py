"""The library API behind the CLI: write a template, check a workbook, convert it.

Tests and other programs call these functions directly; the CLI only prints their results.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from . import attachments, build, concurrency, deposit, ledger, schema
from .lifecycle import advances, against_ledger, facts
from .checks import NE, Checked, check_sheet, check_workbook
from .files import RUN_ID, NameTaken, OutputError, as_json, why, as_xlsx, clean_stale, into_folder, publish, reason, removed_if_failed, running, writable, write_new, write_new_numbered
from .funding.amounts import AvanceDemande
from .formats import FormatDefinition, all_formats, get_format, numero_formats
from .issues import Issue, Issues, issue
from .wording import command_arg, counted
from .kinds import shown
from .reading import HEADER_SHEET, ROW, WorkbookError, read_workbook, release_freed_memory


@dataclass
class Outcome:
    """What a check or a conversion found and wrote; rendered by the CLI and the JSON report."""

    workbook: Path
    format_id: str | None = None
    demandes: int = 0
    accepted: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    issues: Issues = field(default_factory=Issues)  # a list given is taken as the problems found later
    files: list[Path] = field(default_factory=list)
    error_workbook: Path | None = None
    archives: list[Path] = field(default_factory=list)  # zip archives of the attachments (--pieces)
    registre: Path | None = None  # the ledger the conversion recorded into
    advance_rate: Decimal | None = None
    unreadable: bool = False
    # accepted demandes, in order: numeroEditeur, regime (regimeTVA, avance formats), ht (amount
    # HT in cents): a frame, turned into Decimals only where they are shown (advances.py)
    amount_frame: pl.DataFrame = field(default_factory=advances.NO_AMOUNTS.clear)
    produces_deposit: bool = True  # False for order-check workbooks (nature commandes)

    def __post_init__(self) -> None:
        if not isinstance(self.issues, Issues):
            self.issues = Issues(later=self.issues)

    @property
    def errors(self) -> Issues:
        return self.issues.errors

    @property
    def warnings(self) -> Issues:
        return self.issues.warnings

    @property
    def total_ht(self) -> Decimal:
        """Sum of the amounts HT of the accepted demandes (none for an order-check workbook, whose
        amounts are each in its row's VAT regime: see `_amounts`)."""
        return advances.total(self.amount_frame)

    @property
    def amounts(self) -> dict[str, Decimal]:
        """Accepted numeroEditeur → amount HT."""
        return {ne: advances.euros(ht) for ne, ht in self.amount_frame.select(advances.NUMERO, advances.HT).iter_rows()}

    def expected_advances(self) -> advances.ExpectedAdvances | None:
        """Each accepted demande's amounts and expected advance (funding.amounts.avance_demande:
        on the TTC amount for a TTC supplier, the HT one otherwise, computed over the column of
        amounts by lifecycle/advances.py), and their totals. None when the format has no advance."""
        if self.advance_rate is None:
            return None
        return advances.expected_advances(self.amount_frame, self.advance_rate)

    @property
    def advances(self) -> dict[str, AvanceDemande]:
        """Each accepted demande's amount HT, TTC (TTC regime) and expected advance."""
        expected = self.expected_advances()
        return expected.each if expected else {}

    @property
    def advance(self) -> Decimal | None:
        """Total expected advance: the sum of the per-demande advances (each paid on its own)."""
        expected = self.expected_advances()
        return expected.total if expected else None

    @property
    def total_ttc(self) -> Decimal:
        """Sum of the TTC amounts of the accepted demandes whose regime is TTC."""
        expected = self.expected_advances()
        return expected.total_ttc if expected else Decimal("0.00")

    @property
    def exit_code(self) -> int:
        """0 all accepted, 1 some rejected, 2 workbook unusable."""
        if self.unreadable:
            return 2
        return 1 if self.rejected or self.errors else 0

    def to_dict(self, problems: bool = True) -> dict[str, Any]:
        """The report's content (`problems`: with its list of problems; write_report writes
        them a batch at a time)."""
        expected = self.expected_advances()
        return {
            "classeur": str(self.workbook), "format": self.format_id,
            "demandes_lues": self.demandes, "demandes_acceptees": len(self.accepted),
            "demandes_rejetees": len(self.rejected),
            "numeros_acceptes": self.accepted, "numeros_rejetes": self.rejected,
            "fichiers": [str(p) for p in self.files],
            "archives_pieces": [str(p) for p in self.archives],
            "registre": str(self.registre) if self.registre else None,
            "classeur_erreurs": str(self.error_workbook) if self.error_workbook else None,
            # an unusable workbook (no format, nothing read) has no amount: null, as its advance keys
            "total_ht": f"{self.total_ht:.2f}" if self.produces_deposit and not self.unreadable else None,
            "total_ttc": f"{expected.total_ttc:.2f}" if expected else None,
            "taux_avance": f"{self.advance_rate}" if self.advance_rate is not None else None,
            "avance_attendue": f"{expected.total:.2f}" if expected else None,
            "avances_par_demande": expected.report_rows() if expected else [],
            "erreurs": len(self.errors), "avertissements": len(self.warnings),
            "problemes": [i.to_dict() for i in self.issues] if problems else [],
            "code_retour": self.exit_code,
        }


TEMPLATE_NAME = "demandes.xlsx"  # `xl2segur modele`'s, and its name inside a folder given for it


def write_template(format_id: str, target: Path | str) -> Path:
    """The blank workbook of a format, to fill in Excel or LibreOffice (always an .xlsx)."""
    from .workbook import write_workbook  # xlsxwriter: imported only by the commands that write a workbook

    return write_workbook(get_format(format_id), as_xlsx(into_folder(target, TEMPLATE_NAME)))


Progress = Callable[[str, int, int], None]
"""`progress(stage, done, total)`: a French stage name and how far it is, `done` out of `total`
(0, 0 when the stage cannot tell). The CLI shows it on the terminal."""


def _step(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


def check(workbook: Path, progress: Progress | None = None) -> tuple[Outcome, Checked | None]:
    """Read and check a workbook; nothing is written."""
    workbook = Path(workbook)
    checked, unreadable = _read_and_check(workbook, progress)
    if checked is None:
        return Outcome(workbook=workbook, issues=unreadable, unreadable=True), None
    return _outcome(workbook, checked), checked


def _read_and_check(workbook: Path, progress: Progress | None) -> tuple[Checked | None, list[Issue]]:
    """The checked workbook, or None and why it cannot be read."""
    _step(progress, "Lecture du classeur", 0, 0)
    try:
        raw = read_workbook(workbook, then=check_sheet)  # each sheet checked while the next loads
    except WorkbookError as exc:
        return None, exc.issues
    _step(progress, "Contrôle des demandes", 0, 0)
    checked = check_workbook(raw)
    release_freed_memory()  # what the checks computed and dropped
    return checked, []


class NotConvertible(Exception):
    """An order-check workbook (nature commandes) given to `convert`; str() is French."""


def verify(workbook: Path, errors: Path | str | None = None, progress: Progress | None = None) -> Outcome:
    """Check a workbook; with `errors`, also write the error workbook there (never
    overwritten: `name-2.xlsx`… when taken) if anything is rejected. Works for every format."""
    outcome, checked = check(workbook, progress=progress)
    if errors is not None and checked is not None and (outcome.rejected or outcome.errors):
        target = as_xlsx(into_folder(errors, errors_name(workbook)))  # xl2segur writes .xlsx only
        outcome.error_workbook = write_error_workbook(checked, outcome, target.parent, target=target)
    return outcome


def _amounts(checked: Checked, accepted: list[str]) -> pl.DataFrame:
    """The accepted demandes that have an amount (the demandes sheet's first amount column), in
    the order of `accepted`: numeroEditeur, its VAT regime (the definition's `advance_regime`
    balise, when it has one) and its amount in cents (Outcome.amount_frame). None for an
    order-check workbook: its montantCommande is TTC or HT as its row's regimeTVA says, and a sum of
    them is no amount HT."""
    definition = checked.definition
    amount = next((f.balise for f in definition.demandes.fields if f.kind == "amount"), None)
    if amount is None or not accepted or not definition.produces_deposit:
        return advances.NO_AMOUNTS.clear()
    regime = pl.col(definition.advance_regime) if definition.advance_regime else pl.lit(None, pl.String)
    frame = checked.frames[definition.demandes.name].filter(pl.col(amount).is_not_null()).select(
        pl.col(NE).alias(advances.NUMERO), regime.alias(advances.REGIME), pl.col(amount).alias(advances.HT))
    ordered = pl.DataFrame({advances.NUMERO: accepted}, schema={advances.NUMERO: pl.String}).join(
        frame.unique(advances.NUMERO, keep="last", maintain_order=True), on=advances.NUMERO, maintain_order="left")
    return ordered.with_columns(advances.cents(pl.col(advances.HT)))


def _outcome(workbook: Path, checked: Checked, later: list[Issue] = (), **written: Any) -> Outcome:
    """What a check or a conversion found, built once: the checks' verdicts, then the issues
    found later (the ledger, the attachments, the JSON Schema), in order; a demande with an
    error among them leaves the accepted ones. `written`: the files, archives, ledger."""
    definition = checked.definition
    accepted = _still_accepted(checked, later)
    rejected = list(checked.rejected)
    known = set(rejected)
    rejected += [ne for ne in dict.fromkeys(i.numero_editeur for i in later if i.is_error) if ne not in known]
    found = checked.issue_list()
    return Outcome(
        workbook=workbook, format_id=definition.id, demandes=checked.frames[definition.demandes.name].height,
        accepted=accepted, rejected=rejected, issues=Issues(found.frame, found.file, later),
        advance_rate=definition.advance_rate, produces_deposit=definition.produces_deposit,
        amount_frame=_amounts(checked, accepted), **written)


def convert(workbook: Path, output: Path, deposit_date: date | None = None, pieces: Path | None = None,
            registre: Path | None = None, progress: Progress | None = None) -> Outcome:
    """Check, then write the deposit files of the accepted demandes and the error workbook.

    pieces: the folder of the attachments; each demande's are checked before any deposit
      file is written, then zipped beside its deposit file (converter/attachments.py).
    registre: the ledger (default: ledger.locate).
    progress: called as `progress(stage, done, total)` (French stage name) while it works.

    The steps: read and check the workbook; check against the ledger and the attachments;
    render the files and verify each against the JSON Schema; publish and record each.
    """
    workbook, output = Path(workbook), Path(output)
    checked, unreadable = _read_and_check(workbook, progress)
    if checked is None:
        return Outcome(workbook=workbook, issues=unreadable, unreadable=True)
    _refuse_unconvertible(checked, workbook, pieces)
    day = deposit_date or date.today()
    registre, later = ledger.locate(registre, output)
    published: list[deposit.Published] = []
    # the ledger's facts of the accepted demandes (one Polars query, which lets go of the GIL):
    # computed while the ledger is checked and the first files prepared, on a core idle then
    facts_ahead = concurrency.ahead(lambda: facts.demande_lookup(checked.definition, checked.frames, checked.accepted))
    with removed_if_failed(output), running(output), ledger.Ledger(registre) as book, facts_ahead as lookup:
        later += _reconciled(book.reconcile(output), registre)
        clean_stale(output)  # after: a dead run's temporaries tell the ledger what it never named
        if checked.accepted:
            later += against_ledger.ledger_issues(checked, book, _still_accepted(checked, later))
        found, faults = _attachments(checked, workbook, _still_accepted(checked, later), pieces)
        later += faults
        if accepted := _still_accepted(checked, later):
            _step(progress, "Écriture des fichiers de dépôt", 0, len(accepted))
            demandes = build.DemandeFrames(checked, accepted)
            refused: dict[str, str] = {}  # numeroEditeur → why the JSON Schema refused it
            try:
                files = _valid_files(checked, demandes, output, refused, progress)
                published = _publish_all(checked, book, files, found, output, day, lookup, skipped := [])
            except deposit.DayFull as exc:
                raise OutputError(_day_full(exc, len(accepted))) from exc
            finally:
                book.finish()
            later += _schema_refusals(checked, workbook, refused)
            later += [issue("archive_seule_rang_saute", file=str(output / name), detail=name) for name in skipped]
    outcome = _outcome(workbook, checked, later, registre=registre, files=[p.path for p in published],
                       archives=[a for p in published for a in p.archives])
    if outcome.rejected or outcome.errors:
        _step(progress, "Écriture du classeur d'erreurs", 0, 0)
        outcome.error_workbook = write_error_workbook(checked, outcome, output)
    return outcome


def _day_full(exc: deposit.DayFull, accepted: int) -> str:
    """The day's file numbers ran out midway: what was written (recorded, to deposit) and what
    is in no file yet, and how to deposit the rest."""
    if not exc.files:
        return str(exc)
    files = counted(exc.files, "fichier")
    left = accepted - exc.demandes
    return (f"{exc} Cette conversion a d'abord écrit {files} de dépôt ({counted(exc.demandes, 'demande')}), inscrits au "
            f"registre : déposez-les. {counted(left, 'demande').capitalize()} ne {'sont' if left > 1 else 'est'} dans aucun "
            "fichier : relancez la même conversion avec la date du jour où vous les déposerez (--date-depot "
            "AAAAMMJJ) ; les demandes déjà dans un fichier seront écartées (« déjà déposée »).")


def _refuse_unconvertible(checked: Checked, workbook: Path, pieces: Path | None) -> None:
    """An order-check workbook, or a missing attachments folder: before any folder or ledger is created."""
    if not checked.definition.produces_deposit:
        raise NotConvertible(
            f"le classeur « {workbook.name} » est au format « {checked.definition.id} » : "
            "ce classeur se vérifie avec xl2segur verifier, il ne produit pas de fichier de dépôt "
            f"(xl2segur verifier {command_arg(workbook)} --erreurs erreurs.xlsx).")
    if pieces is not None and not Path(pieces).is_dir():
        raise OutputError(attachments.missing_folder(Path(pieces)))


def _still_accepted(checked: Checked, later: list[Issue]) -> list[str]:
    bad = {i.numero_editeur for i in later if i.is_error}
    return [ne for ne in checked.accepted if ne not in bad]


def _attachments(checked: Checked, workbook: Path, accepted: list[str],
                 pieces: Path | None) -> tuple[dict[str, list[attachments.Attachment]], list[Issue]]:
    """Each accepted demande's attachments, all found and good (--pieces), and the faults of the others."""
    if pieces is None or not accepted:
        return {}, []
    records = build.demande_frame(checked, accepted).select(NE, "attachments").to_dicts()
    return attachments.collect(checked, records, Path(pieces), str(workbook))


def _publish_all(checked: Checked, book: ledger.Ledger, files: Iterator[deposit.CheckedFile],
                 found: dict[str, list[attachments.Attachment]], output: Path, day: date,
                 lookup: Future[dict[str, ledger.Facts]], skipped: list[str]) -> list[deposit.Published]:
    """Record and name each checked file (`_publish_recorded`), while the next files render
    and are verified (concurrency.record_each). `lookup`: the accepted demandes' facts
    (facts.demande_lookup); `skipped` receives the names of the zip archives alone in the
    folder whose ranks the files skipped (deposit.DepositFolder.skipped)."""
    definition = checked.definition
    header = checked.frames[HEADER_SHEET]
    numero_ans, siret = header["numeroAns"][0], header["SIRET"][0]
    family = tuple(numero_formats(definition.id))
    folder = deposit.DepositFolder(output, numero_ans, day)
    published: list[deposit.Published] = []
    written: list[int] = []  # the demandes of each file published
    unsettled: list[Path] = []  # temporaries of files the ledger could not forget: left for the next run

    def record(item: deposit.CheckedFile) -> None:
        entry = ledger.DepositRecord(
            format_id=definition.id, nature=definition.nature, numero_ans=numero_ans, siret=siret, day=day,
            run=RUN_ID, demandes=facts.demande_records(item.numeros, lookup.result()), packed=item.packed,
            formats=family, refuse_rejected=definition.new_numero_after_rejection)
        try:
            published.append(_publish_recorded(
                book, entry, folder, item.written,
                lambda path: attachments.write_zips(path, [a for ne in item.numeros for a in found.get(ne, [])],
                                                    definition, day), unsettled))
            written.append(len(item.numeros))
        finally:
            drop(item)

    def drop(item: deposit.CheckedFile) -> None:
        if item.written not in unsettled:  # its deposit name stays (a hard link)
            item.written.unlink(missing_ok=True)

    with contextlib.closing(files), concurrency.checkpointed_aside(book.path, book.db, not book.shared):
        try:
            concurrency.record_each(files, record, discard=drop)
        except deposit.DayFull as exc:  # the files published before stay: said
            raise deposit.DayFull(str(exc), len(published), sum(written)) from exc
        finally:
            skipped += folder.skipped
    return published


def _publish_recorded(book: ledger.Ledger, record: ledger.DepositRecord, folder: deposit.DepositFolder, written: Path,
                     zips: Callable[[Path], list[Path]], unsettled: list[Path] | None = None) -> deposit.Published:
    """Record `written` pending, zip its attachments beside its deposit name (`zips(path)`),
    then give it that name (never over another file: a name taken meanwhile, the file's or one
    of its zips', is forgotten, and the next rank tried). Should a zip or the naming fail, its
    zips go and the ledger forgets it: a file under its final name exists only if it is recorded.
    Should the ledger fail to forget it (its disk full), `written` goes into `unsettled`: left
    where it is, that temporary tells the next run the file was never named (Ledger.reconcile)."""
    while True:
        pending = book.record_pending(record, folder)
        archives: list[Path] = []
        try:
            archives = zips(pending.path)
            if archives:
                book.record_archives(pending, archives)
            if publish(written, pending.path, synced=True):
                book.named(pending)
                return deposit.Published(pending.path, archives)
        except NameTaken:  # a zip's name, taken since the folder was listed (deposit.existing_ranks)
            pass
        except BaseException:
            _remove(archives)
            _forget(book, pending, written, unsettled, quiet=True)
            raise
        _remove(archives)
        _forget(book, pending, written, unsettled)


def _forget(book: ledger.Ledger, pending: ledger.Pending, written: Path, unsettled: list[Path] | None,
            quiet: bool = False) -> None:
    """`book.forget(pending)`. Should the ledger fail to (its disk full), `written` goes into
    `unsettled`, and the failure is raised unless `quiet` (another one is on its way)."""
    try:
        book.forget(pending)
    except BaseException:
        if unsettled is None:
            raise
        unsettled.append(written)
        if not quiet:
            raise


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _schema_refusals(checked: Checked, workbook: Path, refused: dict[str, str]) -> list[Issue]:
    """The demandes the JSON Schema refused (the last guard, `_valid_files`), each on the
    numéro éditeur of its row, as the ledger's refusals are."""
    if not refused:
        return []
    sheet = checked.definition.demandes
    rows = dict(checked.frames[sheet.name].select(NE, ROW).unique(NE, keep="first").iter_rows())
    balise = next((f.balise for f in sheet.fields if f.kind == "numero_editeur"), None)
    column = checked.raw.letter(sheet.name, balise) if balise else None
    return [issue("controle_schema", detail=why, sheet=sheet.name, row=rows.get(ne), column=column, balise=balise,
                  value=ne, numero_editeur=ne, file=str(workbook)) for ne, why in refused.items()]


def _reconciled(done: list[tuple[str, Path]], registre: Path) -> list[Issue]:
    """What `Ledger.reconcile` did, as warnings for the user."""
    return [issue(f"fichier_{code}", file=str(path), registre=registre, detail=path.parent, nom=path.name)
            for code, path in done]


def _valid_files(checked: Checked, demandes: build.DemandeFrames, output: Path, refused: dict[str, str],
                 progress: Progress | None) -> Iterator[deposit.CheckedFile]:
    """Each deposit file of `demandes`, rendered, checked against the JSON Schema once and
    written in `output` under a temporary name; the caller names the file and removes the
    temporary name. The demandes the schema refuses go to `refused` (numeroEditeur → why).
    Last guard: a demande the schema refuses never reaches a deposit file; the file is
    rendered again without it, and the next demandes fill its place, so the files are those
    of the accepted demandes cut in runs of `max_demandes_per_file`. The next files render
    while one is checked (concurrency.RenderAhead)."""
    definition = checked.definition
    size = definition.limits.max_demandes_per_file
    numeros = demandes.numeros  # the accepted demandes, as DemandeFrames cut them
    position, total = 0, len(numeros)

    def files_from(start: int) -> Iterator[tuple[tuple[list[int], int], bytes]]:
        """((positions, end), rendered file) of the next files from `start`, leaving out the refused demandes."""
        end = start
        while end < total:
            taken = []
            while len(taken) < size and end < total:
                if numeros[end] not in refused:
                    taken.append(end)
                end += 1
            if taken:
                yield (taken, end), renderer.file(taken)

    file_schema = schema.json_schema(definition.id)
    with concurrency.FileChecker(file_schema, concurrency.second_process(total), output) as checker:
        # after the second process starts: it imports meanwhile (the template compiles in 0.15 s)
        renderer = build.Renderer(definition, build.header_literals(checked), demandes)
        checks = concurrency.RenderAhead(checker, files_from(position), concurrency.files_ahead(renderer.batch // size))
        for (taken, end), found in checks:
            if not found.errors:  # valid, and written under a temporary name: handed over at once
                yield deposit.CheckedFile([numeros[p] for p in taken], found.written, found.packed)
                position = end
                _step(progress, "Écriture des fichiers de dépôt", position, total)
                continue
            bad = {numeros[taken[index]]: why for index, why in reversed(found.errors) if index is not None}
            if not bad:  # outside any demande (the header): none of them can go
                bad = {numeros[p]: found.errors[0][1] for p in taken}
            # the files rendered after this one held it or moved with it: plan them again
            refused.update(bad)
            checks.restart(files_from(position))


def _display(definition: FormatDefinition, checked: Checked, sheet_name: str, keep: pl.Expr) -> list[_Shown]:
    """Rows to echo in the error workbook: the normalised value when valid, else what was typed
    (a date cell as the user typed it, `kinds.shown`)."""
    sheet = definition.by_name[sheet_name]
    raw = checked.raw.frames[sheet_name]
    values = checked.frames[sheet_name]
    joined = raw.join(values, on=ROW, how="left", suffix="__v")
    cols = []
    for f in sheet.fields:
        typed = shown(f.kind, pl.col(f.balise))
        if f.kind == "boolean":
            norm = pl.when(pl.col(f"{f.balise}__v")).then(pl.lit("VRAI")).when(~pl.col(f"{f.balise}__v")).then(pl.lit("FAUX"))
        elif f.kind in ("date", "amount", "integer"):
            norm = pl.col(f"{f.balise}__v").cast(pl.String)
        else:
            norm = pl.lit(None, dtype=pl.String)
        cols.append(pl.coalesce(norm, typed).alias(f.balise))
    frame = joined.filter(keep).sort(ROW).select(ROW, *cols).rename({ROW: "__row"})
    columns = []
    for name, dtype in frame.schema.items():
        values = frame.get_column(name).to_list()
        if dtype == pl.String:  # one object per distinct text of a column (dates, VRAI, a FINESS…)
            seen: dict[str | None, str | None] = {}
            values = [seen.setdefault(v, v) for v in values]
        columns.append(values)
    at = {name: i for i, name in enumerate(frame.columns)}
    return [_Shown(at, values) for values in zip(*columns)]


class _Shown:
    """A row of the error workbook as `write_workbook` reads it (a mapping: balise → text): its
    values in a tuple, the balises' positions shared by the rows of its sheet. A dict per row
    held the 500,000 rows of 100,000 rejected demandes in ~550 MiB."""

    __slots__ = ("_at", "_values")

    def __init__(self, at: dict[str, int], values: tuple[Any, ...]):
        self._at, self._values = at, values

    def get(self, key: str, default: Any = None) -> Any:
        i = self._at.get(key)
        return default if i is None else self._values[i]

    def __getitem__(self, key: str) -> Any:
        return self._values[self._at[key]]

    def keys(self) -> Iterable[str]:
        return self._at.keys()


NAME_BYTES = 255  # a file name's limit, in octets (Linux, macOS) or UTF-16 units (Windows)


def errors_name(workbook: Path) -> str:
    """`erreurs-<classeur>.xlsx`, the workbook's name shortened to leave room for `-999` when it
    would pass the system's limit (a name of 250 octets was refused: « nom trop long »).

    >>> len(errors_name(Path("é" * 127 + ".xlsx")).encode()), errors_name(Path("a.ods"))
    (251, 'erreurs-a.xlsx')
    """
    stem, room = workbook.stem, NAME_BYTES - len("erreurs-") - len("-999") - len(".xlsx")
    while len(stem.encode()) > room:
        stem = stem[:-1]
    return f"erreurs-{stem.rstrip()}.xlsx"


def write_error_workbook(checked: Checked, outcome: Outcome, output: Path, target: Path | None = None) -> Path:
    """Exactly the rejected demandes (all their rows in every sheet), cells highlighted."""
    from .workbook import write_workbook  # xlsxwriter: not imported by a conversion that rejects nothing

    definition = checked.definition
    # (not a frame of every issue's dict: 110,000 of them for 100,000 rejected demandes)
    error_ne = outcome.errors.numeros()
    bad = pl.Series([*outcome.rejected, *error_ne], dtype=pl.String).implode()
    rows = {}
    for sheet in definition.sheets:
        ne = checked.frames[sheet.name].select(ROW, NE)
        keep_rows = ne.filter(pl.col(NE).is_in(bad) | pl.col(NE).is_null() | (not checked.header_ok))[ROW].implode()
        rows[sheet.name] = _display(definition, checked, sheet.name, pl.col(ROW).is_in(keep_rows))
    header = _display(definition, checked, HEADER_SHEET, pl.lit(True))[0]
    target = target or output / errors_name(outcome.workbook)
    return write_workbook(definition, target, header=header, rows=rows, issues=outcome.issues, numbered=True)


REPORT_BATCH = 10_000
"""Problems rendered at a time into the report (write_report)."""


def write_report(outcome: Outcome, target: Path | str) -> Path:
    """The report, the bytes `orjson.dumps(outcome.to_dict() + date, OPT_INDENT_2)` gives,
    written a batch of problems at a time: a dict for each of 927,000 problems and the whole
    text at once (344 Mo) held some 900 Mio beside the checked workbook."""
    whole = {**outcome.to_dict(problems=False), "problemes": [],
             "date": datetime.now().isoformat(timespec="seconds")}
    head, _, tail = orjson.dumps(whole, option=orjson.OPT_INDENT_2).partition(b'\n  "problemes": []')

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            fh.write(head + b'\n  "problemes": [' if outcome.issues else head + b'\n  "problemes": []')
            for start in range(0, len(outcome.issues), REPORT_BATCH):
                batch = [i.to_dict() for i in outcome.issues[start:start + REPORT_BATCH]]
                listed = orjson.dumps(batch, option=orjson.OPT_INDENT_2)[1:-2]  # its items, each line 2 deeper
                fh.write((b"," if start else b"") + listed.replace(b"\n", b"\n  "))
            fh.write(b"\n  ]" + tail if outcome.issues else tail)

    return write_new_numbered(report_path(target), write)


def report_path(target: Path | str) -> Path:
    """Where `write_report` writes (before numbering): `rapport.json` in a folder, a .json name."""
    return as_json(into_folder(target, "rapport.json"))



def ingest_returns(files: list[Path], registre: Path, target: Path | str | None = None, *, confirm: bool = False,
                   deposit: str | None = None) -> tuple[list[Any], Path]:
    """Record the ASP's return files in the ledger; write the review workbook.

    confirm: record a return that contradicts an outcome already recorded (else refused).
    deposit: the name of the deposit file the returns answer, when several hold the same demandes.
    Returns (one `returns.ReturnLine` per demande read, review workbook). Raises
    OutputError (a missing ledger, a malformed return file, a deposit file not treated by
    the ASP: nothing is recorded).
    """
    from . import returns

    default = returns.default_review(Path(files[0]).parent)
    review = as_xlsx(into_folder(target, default.name)) if target else default
    try:  # before anything is recorded: recorded, then « impossible d'écrire » (exit 2), it looked undone
        writable(review.parent)
    except OutputError as exc:
        raise OutputError(f"Impossible d'écrire le classeur de bilan dans le dossier « {review.parent} » ({reason(exc)}) : "
                          "rien n'est enregistré. Donnez-lui un dossier accessible en écriture (-o DOSSIER/), puis "
                          "relancez.") from exc
    with ledger.Ledger(Path(registre), create=False) as book:
        book.settle()
        lines = returns.ingest([Path(f) for f in files], book, confirm=confirm, deposit=deposit)
    try:
        return lines, returns.write_review(lines, review)
    except OutputError as exc:  # its disk full meanwhile: what is recorded stays, and says so when given again
        raise OutputError(f"{exc} Le registre, lui, est à jour : relancez la même commande une fois le problème réglé "
                          "pour écrire le bilan (les retours seront dits « déjà enregistrés »).") from exc


def write_solde_workbooks(registre: Path, format_id: str | None, output: Path) -> tuple[str | None, list[tuple[Path, int]]]:
    """The pre-filled solde workbook(s) of the accepted avances of the ledger (lifecycle/solde.py).

    No workbook (an empty list) when no accepted avance with a numeroASP awaits its solde;
    LedgerNotFound when there is no ledger at `registre`."""
    from .lifecycle import solde

    with ledger.Ledger(Path(registre), create=False, reading=True) as book:
        book.settle()
        return solde.write_solde_workbooks(book, format_id, Path(output))


def ledger_status(registre: Path, target: Path | str | None = None,
                  known: Callable[[Any], None] | None = None) -> tuple[Any, Path]:
    """What the ledger holds, per format and state (status.py), and its workbook.

    Returns (`status.LedgerStatus`, workbook written: by default etat-registre-AAAAMMJJ.xlsx in the
    current folder). LedgerNotFound when there is no ledger.
    known: called with the `LedgerStatus` before the workbook is written (a year's ledger, a
      million demandes: the figures in a minute, the workbook of every demande minutes later)."""
    from . import status

    with ledger.Ledger(Path(registre), create=False, reading=True) as book:
        book.settle()  # a file a dead run never named holds no demande
        found = status.ledger_status(book)
    if known is not None:
        known(found)
    default = status.default_target(Path.cwd())
    return found, status.write_status(found, as_xlsx(into_folder(target, default.name)) if target else default)


def import_deposits(files: list[Path], registre: Path, format_id: str | None = None) -> list[Any]:
    """Bring deposit files made before xl2segur (or their ASP returns) into the ledger
    (imports.py): one `imports.Imported` per file. Raises OutputError (a file that is not
    JSON: nothing is recorded)."""
    from . import imports

    return imports.import_files([Path(f) for f in files], Path(registre), format_id)


def find_ledger(registre: Path | None, folder: Path | None = None, create: bool = True) -> tuple[Path, list[Issue]]:
    """The ledger a command uses (ledger.locate): `registre` (--registre), else XL2SEGUR_REGISTRE,
    else the user's own; an older version's ledger in `folder` (default `depot/`) is taken over.
    Returns (its path, warnings to show). LedgerNotFound without `create` when there is none."""
    return ledger.locate(None if registre is None else Path(registre), folder, create=create)


@dataclass
class Rewritten:
    """What `rewrite` wrote: the deposit file (None when it was already there, identical) and
    its zip archives."""

    name: str
    path: Path | None
    archives: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # zip archives already there, identical
    folder: Path = Path(".")
    warnings: list[Issue] = field(default_factory=list)  # an attachment found under a name close to its own
    renamed: str | None = None  # the name it was found under, on a disk that ignores case, given its own back


def rewrite(name: str, registre: Path, output: Path | None = None, pieces: Path | None = None) -> Rewritten:
    """Write a recorded deposit file again, exactly as recorded, under its own name, in
    `output` (default: the folder it was written in), with its zip archives when `pieces` is
    given (the attachments under their nomenclature names). Never over an existing file: a
    file already there with the recorded content is left as it is. Raises OutputError."""
    with ledger.Ledger(Path(registre), create=False, reading=True) as book:  # only read: a read-only share will do
        book.settle()  # a file a dead run never named is not written now
        row = book.recorded_file(name)
        if row["retire_le"] is not None:
            raise ledger.LedgerError(f"Le fichier « {row['nom']} » a été retiré le {row['retire_le']} : ses demandes "
                                     "sont libres, reconvertissez-les.")
        data = book.file_bytes(row)
        answered = book.answered(row["id"])
        recorded = book.recorded_archives(row["id"])
    folder = Path(output) if output is not None else Path(row["chemin"]).parent
    if output is None and not folder.is_dir():  # moved: created again there, the deposits would be in two folders
        raise OutputError(f"Le dossier « {folder} », où « {row['nom']} » a été écrit, n'existe plus (déplacé, renommé "
                          "ou supprimé) : indiquez où le réécrire avec -o DOSSIER, le dossier de dépôt là où il est "
                          "maintenant.")
    target = folder / row["nom"]
    found, warnings = attachments.of_document(orjson.loads(data), Path(pieces), get_format(row["format"])) \
        if pieces is not None else ([], [])
    if answered:  # uploaded already: the copy is for the archives, uploaded again it deposits twice
        warnings = [issue("fichier_deja_depose", file=row["nom"], detail=counted(answered, "demande")), *warnings]
    done = Rewritten(row["nom"], None, folder=folder, warnings=warnings)
    for item in (target, *ledger.zips_of(target)):  # the empty name a run killed on a disk without hard links left
        ledger.drop_placeholder(item)
    if target.exists() and not _same_deposit(target.read_bytes(), data):
        raise OutputError(f"Le fichier « {target} » existe déjà avec un autre contenu que celui inscrit au "
                          "registre : il n'est jamais écrasé. Déplacez-le, ou réécrivez ailleurs (-o DOSSIER).")
    if target.exists():
        done.renamed = _own_spelling(target)
    # the zips first, as convertir does: an archive already there with other bytes stops it before the file
    done.archives = attachments.write_zips(target, found, get_format(row["format"]), date.fromisoformat(row["date_depot"]),
                                           kept=done.kept)
    if not target.exists():
        try:
            done.path = write_new(target, lambda tmp: tmp.write_bytes(data))
        except BaseException:  # no zip written without its file
            for archive in done.archives:
                archive.unlink(missing_ok=True)
            raise
    if recorded:
        done.warnings += _archives_changed(recorded, [*done.kept, *done.archives])
    return done


def _own_spelling(target: Path) -> str | None:
    """On a disk that ignores case (FAT, exFAT, Windows, macOS), the deposit file `target` found
    under another spelling (`json-….json`): renamed to its own, the name the ASP asks for (seed
    000: « JSON-numeroAns-AAAAMMJJ-numéroFichier.json »). Returns the name it had, else None.
    Raises OutputError."""
    try:
        listed = os.listdir(target.parent)
        if target.name in listed:
            return None
        spelt = next((n for n in listed if n.casefold() == target.name.casefold()), None)
        if spelt is not None:
            os.rename(target.parent / spelt, target)  # the same file: only its name's case changes
        return spelt
    except OSError as exc:
        raise OutputError(f"Le fichier « {target} » n'a pas pu reprendre son nom ({why(exc)}) : renommez-le "
                          "vous-même.") from exc


def _same_deposit(found: bytes, recorded: bytes) -> bool:
    """Whether a file holds the recorded deposit file: its bytes, or its JSON (an imported file
    is recorded as deposited, not byte for byte: saved with a BOM, CRLF, indented otherwise)."""
    if found == recorded:
        return True
    try:
        return orjson.loads(found.removeprefix(b"\xef\xbb\xbf")) == orjson.loads(recorded)
    except orjson.JSONDecodeError:
        return False


def _archives_changed(recorded: dict[str, list[list[object]]], archives: list[Path]) -> list[Issue]:
    """A warning for each zip of `archives` that does not hold what the conversion wrote under
    its name (`recorded`, Ledger.recorded_archives): the pieces changed, came or went since."""
    found = []
    for archive in archives:
        now = {name: (size, crc) for name, size, crc in ledger.members(archive)}
        then = {name: (size, crc) for name, size, crc in recorded.get(archive.name, [])}
        ecarts = [f"{one if len(names) == 1 else several} : {', '.join(names)}" for one, several, names in (
            ("pièce au contenu changé depuis", "pièces au contenu changé depuis",
             [n for n in now if n in then and now[n] != then[n]]),
            ("pièce qu'elle ne contenait pas", "pièces qu'elle ne contenait pas", [n for n in now if n not in then]),
            ("pièce qu'elle contenait et qui n'y est plus", "pièces qu'elle contenait et qui n'y sont plus",
             [n for n in then if n not in now])) if names]
        if ecarts:
            found.append(issue("archive_differente", detail=archive.name, ecarts=" ; ".join(ecarts)))
    return found


def withdrawal(name: str, registre: Path) -> sqlite3.Row:
    """The recorded deposit file `withdraw` would withdraw (for the confirmation); with
    `demandes`, how many it holds. Raises OutputError."""
    with ledger.Ledger(Path(registre), create=False) as book:
        book.settle()
        return book.recorded_file(name)


def restore(name: str, registre: Path, kept: list[Path] | None = None) -> tuple[int, Path | None]:
    """Undo `withdraw`: the file was uploaded after all (ledger.Ledger.restore). It comes back
    from `retires/`, with its zip archives, under its name, when it is there and the name is
    free; an archive whose name another file of the folder holds stays in `retires/` (that file
    is neither replaced nor renamed): `kept`, when given, lists those. Returns (demandes
    deposited again, where the file is, None when neither there nor under its name). Raises
    OutputError."""
    with ledger.Ledger(Path(registre), create=False) as book:
        book.settle()
        row = book.recorded_file(name)
        path = Path(row["chemin"])
        aside = path.parent / ledger.WITHDRAWN / path.name
        given = Path(name).parent.parent if Path(name).parent.name == ledger.WITHDRAWN else Path(name).parent
        data = book.stored(row)  # None: no copy, or a damaged one
        if not aside.is_file() and given != Path(".") and data is not None:
            # withdrawn by its path where the user had moved it (`withdraw`): set aside there
            there = given / ledger.WITHDRAWN / path.name
            if there.is_file() and _same_deposit(there.read_bytes(), data):
                path, aside = given / path.name, there
        if row["retire_le"] is None and not path.exists() and aside.is_file() and data is not None \
                and _same_deposit(aside.read_bytes(), data):
            restored = row["demandes"]  # restored by a run killed before it brought the file back: done now
        else:
            family = numero_formats(row["format"]) if row["format"] in all_formats() else (row["format"],)
            restored = book.restore(row, family)
    if aside.is_file() and not path.exists():
        stayed: list[Path] = []
        ledger.move_with_zips(aside, path.parent, stayed)
        if kept is not None:
            kept.extend(stayed)
    return restored, path if path.is_file() else None


def _can_set_aside(path: Path) -> None:
    """Before a withdrawal is recorded: the deposit file `path` and its zip archives can leave
    their folder for `retires/` (both folders writable). Else the ledger would free demandes
    whose file stays under its name, to be uploaded beside their next deposit. OutputError."""
    if not path.is_file() and not ledger.zips_of(path):
        return  # nothing to move
    for folder in (path.parent, path.parent / ledger.WITHDRAWN):
        try:
            writable(folder)
        except OutputError as exc:
            raise OutputError(f"« {path.name} » ne peut pas être mis de côté dans « {path.parent / ledger.WITHDRAWN} » "
                              f"(impossible d'écrire dans « {folder} » : {reason(exc)}) : rien n'est retiré. Rendez ce "
                              "dossier accessible en écriture, puis relancez la commande.") from exc


def withdraw(name: str, registre: Path, zips: list[Path] | None = None) -> tuple[int, Path | None]:
    """Withdraw a recorded deposit file that will never be uploaded: its demandes are free
    again (ledger.Ledger.withdraw), and the file, with its zip archives, is moved into the
    sub-folder `retires/` of its folder (never deleted); no longer there (its folder moved),
    the file `name` names, when it is the recorded one. Returns (demandes freed, where the file
    went, None when it was found in neither place; its zip archives go all the same, left
    beside its name they could be uploaded: `zips`, when given, lists those found). Raises
    OutputError."""
    aside = contextlib.ExitStack()  # a refused withdrawal leaves no empty `retires/` it made
    with aside, ledger.Ledger(Path(registre), create=False) as book:
        book.settle()  # a file a dead run never named is forgotten, not withdrawn
        row = book.recorded_file(name)
        data = book.stored(row)  # None: no copy, or a damaged one; the ledger's demandes are enough
        path = Path(row["chemin"])
        aside_file = path.parent / ledger.WITHDRAWN / path.name
        if row["retire_le"] is not None and data is not None and path.is_file() and _same_deposit(path.read_bytes(), data):
            freed = row["demandes"]  # withdrawn by a run killed before it set the file aside: done now
        elif row["retire_le"] is not None and data is not None and ledger.zips_of(path) and aside_file.is_file() \
                and _same_deposit(aside_file.read_bytes(), data):
            freed = row["demandes"]  # killed once the file was set aside, before its zips: they follow it now
        else:
            if not path.is_file() and data is not None and Path(name).is_file() \
                    and _same_deposit(Path(name).read_bytes(), data):
                path = Path(name)  # left where the user found it, it could still be uploaded
            aside.enter_context(removed_if_failed(path.parent / ledger.WITHDRAWN))
            _can_set_aside(path)
            freed = book.withdraw(row)
    if zips is not None:
        zips.extend(ledger.zips_of(path))
    try:
        moved = ledger.move_with_zips(path, path.parent / ledger.WITHDRAWN)  # its zips, even the file gone
    except ledger.LedgerError as exc:
        if not path.is_file():
            raise  # the file set aside: only some of its zips stayed, none uploadable without it
        # still under its name (`retires/` on a full disk, another disk that failed): it could be
        # uploaded, so its demandes are not left free, to be deposited a second time
        with ledger.Ledger(Path(registre), create=False) as book:
            book.restore(row, numero_formats(row["format"]) if row["format"] in all_formats() else (row["format"],))
        raise ledger.LedgerError(
            f"« {path.name} » ne peut pas être mis de côté dans « {path.parent / ledger.WITHDRAWN} » ({reason(exc)}) : "
            "rien n'est retiré, ses demandes restent déposées au registre. Libérez de la place sur ce disque ou "
            "rendez-le accessible, puis relancez la commande.") from exc
    if moved is None and row["retire_le"] is not None and aside_file.is_file():
        moved = aside_file  # set aside by the run killed before its zips
    return freed, moved
