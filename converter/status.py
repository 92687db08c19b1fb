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

import orjson
import polars as pl

from .fastxlsx import NUMBER, Book, Column
from .files import write_new_numbered
from .formats import all_formats, numero_formats
from .funding.amounts import AVANCE_ON_TTC, AVANCE_VAT_FACTOR, avance_demande
from .ledger import ACCEPTEE, DEPOSEE, REJETEE, RETIREE, Ledger, readable, restoring
from .lifecycle.advances import CENTS, euros_text, times_half_up

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
    unread: list[str] = field(default_factory=list)  # advances unknown: their file's stored copy is damaged (`_unread`)

    @property
    def alerts(self) -> list[str]:
        """What `etat` says with its figures, on the console and in the workbook."""
        return self.twice + self.unread


_DEMANDES = (
    "SELECT d.id, d.numero_ans, f.siret, d.format, d.nature, d.numero_editeur, f.nom AS fichier, f.date_depot, "
    "d.statut, d.numero_asp, d.montant, d.regime, d.code_traitement, d.libelle_traitement, d.fichier_retour, d.date_retour "
    "FROM demandes d JOIN fichiers f ON f.id = d.fichier_id"  # ordered by Polars (`ORDER`): SQLite's sort took seconds
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


# an amount as the ledger keeps it, the text of its checked or imported value (« 4866.67 »,
# « 1075.0 », « -12.5 »): its cents computed in integers; any other text by the Decimal rule itself
_PLAIN = r"^(-?)(\d{1,34})(?:\.(\d*))?$"


def _ledger_cents(amount: pl.Expr) -> pl.Expr:
    """An amount of the ledger in cents, rounded half away from zero as funding.amounts.round_cent
    (the third decimal decides, exactly); null when it is not of the plain form (`_PLAIN`)."""
    parts = amount.str.extract_groups(_PLAIN)
    decimals = parts.struct[2].fill_null("") + "000"
    whole = (parts.struct[1].cast(CENTS) * pl.lit(100, CENTS) + decimals.str.slice(0, 2).cast(CENTS)
             + (decimals.str.slice(2, 1).cast(CENTS) >= pl.lit(5, CENTS)).cast(CENTS))
    return pl.when(parts.struct[0] == "-").then(pl.lit(0, CENTS) - whole).otherwise(whole)


def _advances(rows: pl.DataFrame) -> pl.Series:
    """The advance expected for each demande of `rows` (format, montant, regime, statut), as text
    (« 1460.00 »): funding.amounts.avance_demande (on the TTC amount, HT × 1,2 to the cent, for a
    TTC supplier), over columns of integer cents (lifecycle.advances, the rule of a conversion's
    summary); an amount of another form goes through avance_demande itself. None for a demande
    rejected or withdrawn (none is paid), of a format without an advance rate, without an amount."""
    out = pl.Series("avance", [None] * rows.height, dtype=pl.String)
    paid = pl.col("statut").is_in([DEPOSEE, ACCEPTEE]) & pl.col("montant").is_not_null()
    for format_id, definition in all_formats().items():
        rate = definition.advance_rate
        if definition.nature != "avance" or rate is None:
            continue
        mine = rows.with_row_index("i").filter(paid & (pl.col("format") == format_id)).with_columns(
            ht=_ledger_cents(pl.col("montant")))
        ttc = pl.when(pl.col("regime") == AVANCE_ON_TTC).then(times_half_up(pl.col("ht"), AVANCE_VAT_FACTOR))
        plain = mine.filter(pl.col("ht").is_not_null())
        out = out.scatter(plain["i"], plain.select(euros_text(times_half_up(pl.coalesce(ttc, "ht"), Decimal(rate))))[:, 0])
        other = mine.filter(pl.col("ht").is_null())
        out = out.scatter(other["i"], [str(avance_demande(m, r, rate).avance) for m, r in zip(other["montant"], other["regime"])])
    return out


ORDER = ["format", "numero_ans", "id"]  # the rows of the workbook (text compared byte by byte, as SQLite does)
FETCHED_AT_ONCE = 20_000  # rows of the ledger held as Python values at once


def _frame(cursor: Any, integers: tuple[str, ...] = ()) -> pl.DataFrame:
    """The rows of `cursor` as a DataFrame, every column text but `integers`, built a slice at
    a time: a year's 300,000 demandes held as Python tuples took 300 Mo more."""
    schema = {d[0]: pl.Int64 if d[0] in integers else pl.String for d in cursor.description}
    parts = [pl.DataFrame(schema=schema)]
    while found := cursor.fetchmany(FETCHED_AT_ONCE):
        parts.append(pl.DataFrame(found, schema=schema, orient="row"))
    return pl.concat(parts, rechunk=False)


def ledger_status(book: Ledger) -> LedgerStatus:
    rows = _frame(book.db.execute(_DEMANDES), integers=("id",)).sort(ORDER)
    waiting: set[int] = set()
    formats = all_formats()
    for format_id in rows.filter(pl.col("nature") == "avance")["format"].unique():
        definition = formats.get(format_id)
        if definition is not None and definition.solde_format:
            waiting |= {r["id"] for r in book.accepted_avances(format_id, numero_formats(definition.solde_format))}
    from .returns import reads_accepted  # not at the top: returns reads and writes more than etat needs

    whole = [f for f, d in formats.items() if d.recorded_only_if_all_pass]
    accepted = [label for label in rows["libelle_traitement"].unique().drop_nulls() if reads_accepted(label)]
    label, code = pl.col("libelle_traitement"), pl.col("code_traitement")
    with_its_file = (pl.col("statut") == REJETEE) & (pl.col("nature") == "solde") & pl.col("format").is_in(whole) \
        & (label.is_in(accepted) | (label.is_null() & code.is_null()))
    unread = _unread(book)
    rows = rows.with_columns(
        avance=pl.when(pl.col("regime").is_null() & pl.col("fichier").is_in(list(unread)))
        .then(None).otherwise(_advances(rows)).cast(pl.Decimal(38, 2)),
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
    history = _frame(book.db.execute(_HISTORY))
    from .returns import funded_twice

    said = [f"L'avance attendue {'de la demande' if n == 1 else f'des {n} demandes'} du fichier « {name} » n'est pas "
            "comptée : leur régime de TVA (TTC ou HT), que le registre tirait de sa copie de ce fichier quand il a été "
            f"mis à jour (version 4), est inconnu, cette copie étant abîmée. {restoring(book.path, name)}"
            for name, n in sorted(unread.items())]
    return LedgerStatus(counts, shown, history, list(funded_twice(book).values()), said)


def _unread(book: Ledger) -> dict[str, int]:
    """File name → how many of its demandes still paid have an advance depending on a VAT regime
    the ledger does not know: recorded before version 4, from a copy (the file's, or the
    demande's own under version 1) that no longer read back when the ledger was migrated
    (ledger._fill_regimes). Only the copies of such demandes are read, none in a sound ledger."""
    wanted = [f for f, d in all_formats().items() if d.advance_regime and d.advance_rate is not None]
    found: dict[str, int] = {}
    sound: dict[int, bool] = {}
    for fichier_id, name, own in book.db.execute(
            "SELECT f.id, f.nom, d.demande_json FROM demandes d JOIN fichiers f ON f.id = d.fichier_id "
            f"WHERE d.regime IS NULL AND d.statut IN ('{DEPOSEE}', '{ACCEPTEE}') "
            "AND d.format IN (SELECT value FROM json_each(?)) AND (d.demande_json IS NOT NULL OR f.contenu IS NOT NULL)",
            (orjson.dumps(wanted).decode(),)):
        if own is not None:
            try:
                orjson.loads(own)
                continue
            except orjson.JSONDecodeError:
                pass
        elif fichier_id not in sound:
            packed = book.db.execute("SELECT contenu FROM fichiers WHERE id = ?", (fichier_id,)).fetchone()[0]
            sound[fichier_id] = readable(packed) is not None
        if own is not None or not sound[fichier_id]:
            found[name] = found.get(name, 0) + 1
    return found


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
        # the rows of « Demandes » and « Historique des retours » are given whole (`_write_rows`),
        # rendered by Polars a slice at a time (fastxlsx). A year's ledger, 300,000 demandes and
        # as many returns, took 3 minutes cell by cell; held whole by xlsxwriter, 3.6 Go
        book = Book(tmp, {"constant_memory": True, "strings_to_formulas": False,
                          "strings_to_numbers": False, "strings_to_urls": False})
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
        for row, said in enumerate(status.alerts, start=len(status.counts) + 2):
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


def _write_rows(book: Book, name: str, frame: pl.DataFrame, bold: Any, money: Any) -> None:
    """One sheet of `frame`'s rows under its headers: every value text, amounts numbers."""
    ws = book.add_worksheet(name)
    widths = frame.select(pl.all().str.len_chars().max()).row(0) if frame.height else [0] * frame.width
    for col, (title, longest) in enumerate(zip(frame.columns, widths)):
        ws.write_string(0, col, title, bold)
        ws.set_column(col, col, min(48, max(10, len(title) + 2, (longest or 0) + 2)))
    _printed(ws)
    ws.autofilter(0, 0, max(frame.height, 1), len(frame.columns) - 1)
    # the ledger's own figures: numbers, to sum
    book.rows(ws, frame, [Column(title, money, NUMBER) if title in AMOUNT_COLUMNS else Column(title)
                          for title in frame.columns], 1)


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
