"""What the ledger holds, as the user sees it: `xl2segur etat`.

Per format, the demandes written but not yet returned by the ASP, accepted, rejected, and
(for an avance whose format has a solde) accepted with a numeroASP and still awaiting their
solde, each with its amount HT and, for an avance, the advance expected; written as a
workbook: the summary, one row per demande, and every ASP return recorded (the history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from xlsxwriter import Workbook

from .files import write_new_numbered
from .formats import all_formats, numero_formats
from .funding.amounts import avance_demande
from .ledger import ACCEPTEE, DEPOSEE, REJETEE, RETIREE, Ledger

WAITING_SOLDE = "attente_solde"
# a solde the ASP accepted, or left untreated, in a file where another was rejected: not recorded
# by the ASP (seed 000 §1.2, « Les demandes de solde sont définitivement enregistrées dans le portail
# Ségur seulement lorsque l'ensemble des demandes d'un JSON sont passantes »), recorded rejected
# with the ASP's own code and label (« 0 », « Demande acceptée »: returns._whole_file)
WITH_ITS_FILE = "rejet_fichier"
STATES = {DEPOSEE: "Déposées, sans retour de l'ASP", ACCEPTEE: "Acceptées", WAITING_SOLDE: "Acceptées, solde à déposer",
          REJETEE: "Rejetées",
          WITH_ITS_FILE: "Rejetées avec leur fichier (un autre solde y est rejeté) : à déposer de nouveau",
          RETIREE: "Retirées avant dépôt (xl2segur retirer)"}
# In the summary, the avances awaiting their solde are a part of the accepted ones, counted
# again: the line says so, right under « Acceptées » (its figures are not to be added); so are
# the soldes rejected with their file, under « Rejetées ».
SUMMARY_LABELS = {**STATES, WAITING_SOLDE: "  dont solde à déposer (déjà comptées dans « Acceptées »)",
                  WITH_ITS_FILE: "  dont rejetées avec leur fichier, à déposer de nouveau (déjà comptées dans « Rejetées »)"}
PARTS = (WAITING_SOLDE, WITH_ITS_FILE)  # lines of the summary that are a part of the line above


@dataclass
class Count:
    """The demandes of one format in one state."""

    format_id: str
    nature: str
    state: str  # a key of STATES
    demandes: int = 0
    amount: Decimal = Decimal("0.00")  # total HT
    advance: Decimal | None = None  # total expected advance (avances whose format has a rate)

    @property
    def label(self) -> str:
        return SUMMARY_LABELS[self.state]


@dataclass
class LedgerStatus:
    counts: list[Count] = field(default_factory=list)
    demandes: pl.DataFrame = field(default_factory=pl.DataFrame)  # one row per demande recorded
    history: pl.DataFrame = field(default_factory=pl.DataFrame)  # one row per return recorded, oldest first
    twice: list[str] = field(default_factory=list)  # avances that may fund one client twice (returns.funded_twice)


_DEMANDES = (
    "SELECT d.id, d.numero_ans, f.siret, d.format, d.nature, d.numero_editeur, f.nom AS fichier, f.date_depot, "
    "d.statut, d.numero_asp, d.montant, d.code_traitement, d.libelle_traitement, d.fichier_retour, d.date_retour "
    "FROM demandes d JOIN fichiers f ON f.id = d.fichier_id ORDER BY d.format, d.numero_ans, d.id"
)

_HISTORY = (
    "SELECT d.numero_ans AS numeroAns, d.format AS Format, d.numero_editeur AS numeroEditeur, "
    "f.nom AS \"Fichier déposé\", r.fichier_retour AS \"Fichier de retour\", "
    "REPLACE(r.enregistre_le, 'T', ' ') AS \"Enregistré le\", "  # 2024-03-12 14:05:09, as a user reads it
    "CASE r.statut WHEN 'acceptee' THEN 'Acceptée' ELSE 'Rejetée' END AS \"Résultat\", r.numero_asp AS numeroASP, "
    "r.code_traitement AS codeTraitement, r.libelle_traitement AS libelleTraitement, "
    "CASE r.confirme WHEN 1 THEN 'oui' ELSE '' END AS \"Remplacé avec --confirmer\" "
    "FROM retours r JOIN demandes d ON d.id = r.demande_id JOIN fichiers f ON f.id = d.fichier_id ORDER BY r.id"
)


def _advance(format_id: str, amount: str | None, regime: str | None) -> Decimal | None:
    """The advance expected for one demande, by the funding rules (on the TTC amount for a TTC
    supplier: funding.amounts.avance_demande)."""
    definition = all_formats().get(format_id)
    if definition is None or definition.nature != "avance" or definition.advance_rate is None or amount is None:
        return None
    return avance_demande(amount, regime, definition.advance_rate).avance


def _regimes(book: Ledger) -> dict[int, str | None]:
    """demande id → its VAT regime, read from the deposit file as recorded, for the formats
    whose advance depends on it (`advance_regime`): the ledger keeps each file whole, so a
    demande deposited or imported by any version tells its regime the same way."""
    paths = {f: d.json_path(d.advance_regime) for f, d in all_formats().items() if d.advance_regime}
    if not paths:
        return {}

    def regime(demande: Any, keys: tuple[str, ...] | None) -> str | None:
        for key in keys or ():
            demande = demande.get(key) if isinstance(demande, dict) else None
        return demande if isinstance(demande, str) else None

    marks = ", ".join("?" * len(paths))
    found = book.db.execute(
        f"SELECT id, format, fichier_id, num_ligne, demande_json FROM demandes WHERE format IN ({marks}) "
        "ORDER BY fichier_id, num_ligne", list(paths)).fetchall()
    return {row["id"]: regime(book.demande(row), paths[row["format"]]) for row in found}


def ledger_status(book: Ledger) -> LedgerStatus:
    cursor = book.db.execute(_DEMANDES)
    names = [d[0] for d in cursor.description]
    rows = pl.DataFrame(cursor.fetchall(), schema={n: pl.Int64 if n == "id" else pl.String for n in names}, orient="row")
    waiting: set[int] = set()
    formats = all_formats()
    for format_id in rows.filter(pl.col("nature") == "avance")["format"].unique():
        definition = formats.get(format_id)
        if definition is not None and definition.solde_format:
            waiting |= {r["id"] for r in book.accepted_avances(format_id, numero_formats(definition.solde_format))}
    regimes = _regimes(book)
    # the funding rules, per demande; none is paid for a demande rejected or withdrawn
    advances = [_advance(f, m, regimes.get(i)) if s in (DEPOSEE, ACCEPTEE) else None
                for i, f, m, s in zip(rows["id"], rows["format"], rows["montant"], rows["statut"])]
    from .returns import reads_accepted  # not at the top: returns reads and writes more than etat needs

    whole = [f for f, d in formats.items() if d.recorded_only_if_all_pass]
    accepted = [label for label in rows["libelle_traitement"].unique().drop_nulls() if reads_accepted(label)]
    label, code = pl.col("libelle_traitement"), pl.col("code_traitement")
    with_its_file = (pl.col("statut") == REJETEE) & (pl.col("nature") == "solde") & pl.col("format").is_in(whole) \
        & (label.is_in(accepted) | (label.is_null() & code.is_null()))
    rows = rows.with_columns(
        avance=pl.Series(advances, dtype=pl.Decimal(scale=2)),
        montant_ht=pl.col("montant").cast(pl.Decimal(scale=2)).fill_null(0),
        attente=pl.col("id").is_in(pl.Series(list(waiting), dtype=pl.Int64).implode()),
        avec_fichier=with_its_file,
    )
    totals = [pl.len().alias("n"), pl.col("montant_ht").sum().alias("ht"), pl.col("avance").sum().alias("av"),
              pl.col("avance").is_not_null().any().alias("has_av")]
    grouped = pl.concat([
        rows.group_by("format", "nature", "statut").agg(totals),
        rows.filter("attente").group_by("format", "nature").agg(totals).with_columns(statut=pl.lit(WAITING_SOLDE)),
        rows.filter("avec_fichier").group_by("format", "nature").agg(totals).with_columns(statut=pl.lit(WITH_ITS_FILE)),
    ], how="diagonal")
    order = list(STATES)
    counts = sorted((Count(r["format"], r["nature"], r["statut"], r["n"], r["ht"], r["av"] if r["has_av"] else None)
                     for r in grouped.iter_rows(named=True)), key=lambda c: (c.format_id, order.index(c.state)))
    shown = rows.with_columns(
        etat=pl.when("attente").then(pl.lit(STATES[WAITING_SOLDE])).when("avec_fichier").then(pl.lit(STATES[WITH_ITS_FILE]))
        .otherwise(pl.col("statut").replace_strict(STATES)),
        avance=pl.col("avance").cast(pl.String),
    ).select(pl.col(key).alias(title) for key, title in COLUMNS.items())
    cursor = book.db.execute(_HISTORY)
    history = pl.DataFrame(cursor.fetchall(), schema={d[0]: pl.String for d in cursor.description}, orient="row")
    from .returns import funded_twice

    return LedgerStatus(counts, shown, history, list(funded_twice(book).values()))


# ledger column → workbook header
COLUMNS = {"numero_ans": "numeroAns", "siret": "SIRET", "format": "Format", "numero_editeur": "numeroEditeur",
           "etat": "État", "montant": "Montant HT", "avance": "Avance attendue", "numero_asp": "numeroASP",
           "fichier": "Fichier déposé", "date_depot": "Date de dépôt", "code_traitement": "codeTraitement",
           "libelle_traitement": "libelleTraitement", "fichier_retour": "Fichier de retour",
           "date_retour": "Date du retour"}
AMOUNT_COLUMNS = ("Montant HT", "Avance attendue")
SHEET_ROWS = 1_048_575  # an Excel sheet's rows, less its headers' row
SUMMARY = [("Format", 24), ("Nature", 8), ("État", 52), ("Demandes", 10), ("Montant HT", 14), ("Avance attendue", 16)]


def write_status(status: LedgerStatus, target: Path) -> Path:
    """The status workbook: « Synthèse », « Demandes » and « Historique des retours »; every
    value from the ledger is text (never a formula), counts and amounts are numbers."""

    def write(tmp: Path) -> None:
        # each row goes to the file as it is written (rows in order, one sheet after the other):
        # a year's ledger, a million demandes and as many returns, held whole took 3.6 Go
        book = Workbook(str(tmp), {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                   "strings_to_urls": False})
        bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        money = book.add_format({"num_format": "#,##0.00"})
        part = book.add_format({"indent": 1, "italic": True})  # a part of the line above
        part_count = book.add_format({"italic": True})
        part_money = book.add_format({"num_format": "#,##0.00", "italic": True})
        ws = book.add_worksheet("Synthèse")
        for col, (title, width) in enumerate(SUMMARY):
            ws.write_string(0, col, title, bold)
            ws.set_column(col, col, width)
        for row, c in enumerate(status.counts, start=1):
            within = c.state in PARTS
            ws.write_string(row, 0, c.format_id)
            ws.write_string(row, 1, c.nature)
            ws.write_string(row, 2, c.label.strip(), part if within else None)
            ws.write_number(row, 3, c.demandes, part_count if within else None)
            ws.write_number(row, 4, float(c.amount), part_money if within else money)
            if c.advance is not None:
                ws.write_number(row, 5, float(c.advance), part_money if within else money)
        # printed with the figures, as `etat` says them: a client funded twice, not on the console only
        alert = book.add_format({"bold": True, "font_color": "#C00000", "text_wrap": True, "valign": "top"})
        width = sum(w for _, w in SUMMARY)
        for row, said in enumerate(status.twice, start=len(status.counts) + 2):
            ws.merge_range(row, 0, row, len(SUMMARY) - 1, f"Attention : {said}", alert)
            ws.set_row(row, 15 * (len(said) // int(width * 0.9) + 2))  # a merged cell's height is not fitted
        _printed(ws)
        for name, whole in (("Demandes", status.demandes), ("Historique des retours", status.history)):
            # beyond a sheet's rows, the next sheet goes on (« Demandes (2) »): a row past Excel's
            # last one was dropped without a word
            for part, start in enumerate(range(0, max(whole.height, 1), SHEET_ROWS)):
                frame = whole.slice(start, SHEET_ROWS)
                _write_rows(book, name if part == 0 else f"{name} ({part + 1})", frame, bold, money)
        book.close()

    return write_new_numbered(Path(target), write)


def _write_rows(book: Workbook, name: str, frame: pl.DataFrame, bold: Any, money: Any) -> None:
    """One sheet of `frame`'s rows under its headers: every value text, amounts numbers."""
    ws = book.add_worksheet(name)
    widths = frame.select(pl.all().str.len_chars().max()).row(0) if frame.height else [0] * frame.width
    for col, (title, longest) in enumerate(zip(frame.columns, widths)):
        ws.write_string(0, col, title, bold)
        ws.set_column(col, col, min(48, max(10, len(title) + 2, (longest or 0) + 2)))
    amounts = [col for col, title in enumerate(frame.columns) if title in AMOUNT_COLUMNS]
    for row, values in enumerate(frame.iter_rows(), start=1):
        for col, value in enumerate(values):
            if value is None:
                continue
            if col in amounts:  # the ledger's own figures: numbers, to sum
                ws.write_number(row, col, float(value), money)
            else:
                ws.write_string(row, col, value)
    _printed(ws)
    ws.autofilter(0, 0, max(frame.height, 1), len(frame.columns) - 1)


def _printed(ws: Any) -> None:
    """Headers frozen on screen; printed in landscape, one page wide, headers on every page
    (the « Synthèse » printed its figures on a second page, away from their labels)."""
    ws.freeze_panes(1, 0)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)


def default_target(folder: Path) -> Path:
    """The status workbook's default path: in `folder` (the current one for the CLI), since the
    ledger itself may be in the user's data folder or a team's."""
    return Path(folder) / f"etat-registre-{date.today():%Y%m%d}.xlsx"
