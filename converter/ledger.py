"""The ledger (registre): an SQLite record of every demande written into a deposit file.

It answers what a vendor otherwise tracks by hand: which demande went in which file, what
the ASP answered, which numeroASP it gave. Default place: `<output folder>/xl2segur.sqlite`.

- ranks: the daily rank of a deposit file continues after the files the ledger knows, even
  when they were moved out of the folder;
- no double deposit: a numeroEditeur already deposited and not rejected is refused, in its
  format and in the formats that share its numeroEditeur (same couloir and nature, e.g. the
  two MS2 avance variants: `formats.numero_formats`); where the format says a rejected
  demande comes back under a new number (`new_numero_after_rejection`), a numeroEditeur the
  ASP rejected is refused too;
- returns: `record_returns` stores the ASP's outcome (accepted / rejected, label, numeroASP)
  on the demande, and keeps every return recorded in the `retours` history (file, digest,
  impId, date, outcome), so a later return never rewrites the past unseen;
- soldes: `avances_for_solde` finds the avance of a solde, `accepted_avances` feeds the
  pre-filled solde workbook.

Several runs may share a ledger: WAL journal, a busy timeout, and every write in a
`BEGIN IMMEDIATE` transaction (one writer at a time; a deposit file's rank is chosen and its
demandes recorded under the same lock).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path

import orjson
import zstandard

from .files import OutputError

DEFAULT_NAME = "xl2segur.sqlite"
BUSY_TIMEOUT_MS = 60_000
SCHEMA_VERSION = 2

# statut of a demande
DEPOSEE, ACCEPTEE, REJETEE = "deposee", "acceptee", "rejetee"

_DEMANDES = """
CREATE TABLE IF NOT EXISTS {name} (
    id INTEGER PRIMARY KEY,
    fichier_id INTEGER NOT NULL REFERENCES fichiers (id),
    format TEXT NOT NULL,
    nature TEXT NOT NULL,
    numero_ans TEXT NOT NULL,
    numero_editeur TEXT NOT NULL,
    num_ligne INTEGER NOT NULL,
    montant TEXT,                    -- the demande's amount HT, « 4866.67 »
    finess TEXT NOT NULL,            -- JSON list of every FINESS of the demande
    rpps TEXT NOT NULL,              -- JSON list of every RPPS of the demande
    demande_json TEXT,               -- version 1 only (the demande as written), later read from fichiers.contenu
    statut TEXT NOT NULL DEFAULT 'deposee',
    numero_asp TEXT,
    code_traitement TEXT,
    libelle_traitement TEXT,
    fichier_retour TEXT,
    date_retour TEXT
);
"""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fichiers (
    id INTEGER PRIMARY KEY,
    nom TEXT NOT NULL,
    chemin TEXT NOT NULL,
    format TEXT NOT NULL,
    nature TEXT NOT NULL,
    numero_ans TEXT NOT NULL,
    siret TEXT NOT NULL,
    date_depot TEXT NOT NULL,        -- AAAA-MM-JJ
    rang INTEGER NOT NULL,
    ecrit_le TEXT NOT NULL,
    contenu BLOB                     -- the file exactly as written, Zstandard-compressed (NULL before version 2)
);
CREATE INDEX IF NOT EXISTS fichiers_rang ON fichiers (numero_ans, date_depot);
""" + _DEMANDES.format(name="demandes") + """
CREATE INDEX IF NOT EXISTS demandes_ne ON demandes (numero_ans, numero_editeur);
"""

# The history of the ASP's returns, one row per demande of each return file recorded, and the
# index that finds a deposit file's demandes (a return is matched to its file). Added without a
# new schema version: created, if missing, each time a ledger is opened.
_ADDITIONS = """
CREATE TABLE IF NOT EXISTS retours (
    id INTEGER PRIMARY KEY,
    demande_id INTEGER NOT NULL REFERENCES demandes (id),
    fichier_retour TEXT NOT NULL,    -- the return file's name
    empreinte TEXT,                  -- SHA-256 of the return file: the same file saved again is known
    imp_id TEXT,                     -- the ASP's impId, when the return has one
    enregistre_le TEXT NOT NULL,     -- AAAA-MM-JJTHH:MM:SS
    statut TEXT NOT NULL,
    numero_asp TEXT,
    code_traitement TEXT,
    libelle_traitement TEXT,
    confirme INTEGER NOT NULL DEFAULT 0  -- 1: replaced a contradicting outcome, with --confirmer
);
CREATE INDEX IF NOT EXISTS retours_demande ON retours (demande_id);
CREATE INDEX IF NOT EXISTS demandes_fichier ON demandes (fichier_id);
"""

# Version 1 kept each demande's JSON in demandes.demande_json (NOT NULL): 100,000 demandes
# wrote 170 Mo into SQLite. Version 2 keeps each file once, compressed (about 14 times
# smaller); SQLite cannot drop a NOT NULL, so the table is rebuilt (same columns, same ids).
_MIGRATE_FROM_1 = """
ALTER TABLE fichiers ADD COLUMN contenu BLOB;
""" + _DEMANDES.format(name="demandes_2") + """
INSERT INTO demandes_2 SELECT * FROM demandes;
DROP TABLE demandes;
ALTER TABLE demandes_2 RENAME TO demandes;
CREATE INDEX demandes_ne ON demandes (numero_ans, numero_editeur);
"""


def pack(data: bytes) -> bytes:
    """A deposit file as the ledger keeps it: Zstandard at its fastest level, a 570 ko file of
    200 demandes in about a millisecond, 13 times smaller (level 3, the default, took a quarter
    longer for the same size; zlib three times as long, for 10 times).

    >>> unpack(pack(b'{"lignesImport": []}'))
    b'{"lignesImport": []}'
    """
    return zstandard.ZstdCompressor(level=1).compress(data)  # one per call: a compressor is not thread-safe


def unpack(packed: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompress(packed)


class LedgerError(OutputError):
    """The ledger cannot be used; the message is French and says what to do."""


class LedgerNotFound(LedgerError):
    """No ledger at that path. The message names the command-line option that gives the
    ledger: `--registre` unless told otherwise (`for_option`, e.g. `solde --depuis`)."""

    def __init__(self, path: Path, option: str = "--registre"):
        self.path, self.option = Path(path), option
        super().__init__(f"Le registre « {self.path} » est introuvable : indiquez avec {option} le fichier "
                         "xl2segur.sqlite écrit par « xl2segur convertir ».")

    def for_option(self, option: str) -> LedgerNotFound:
        return LedgerNotFound(self.path, option)


class Ledger:
    def __init__(self, path: Path, *, create: bool = True):
        self.path = Path(path)
        self._last_document: tuple[int | None, dict[str, object]] = (None, {})
        # (what the last deposit checked, the rank it took): while no other connection writes
        # (PRAGMA data_version), the next deposit of the same run need not look again
        self._last_deposit: tuple[tuple[object, ...], int] | None = None
        if not create and not self.path.is_file():
            raise LedgerNotFound(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # one thread at a time, but not always the one that opened it (api._in_background)
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                      check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._use_wal()
            # WAL with synchronous NORMAL never corrupts the ledger; a power cut may lose the
            # last commits, not break the file. FULL made each deposit file wait on two syncs.
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            with self.transaction():
                version = self.db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise LedgerError(f"Le registre « {self.path} » a été écrit par une version plus récente "
                                      "de xl2segur : mettez xl2segur à jour.")
                if version < SCHEMA_VERSION:
                    # PRAGMA foreign_keys cannot change inside a transaction; the rebuild keeps the ids
                    steps = _MIGRATE_FROM_1 if version == 1 else _SCHEMA
                    for statement in filter(str.strip, steps.split(";")):
                        self.db.execute(statement)
                    self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                for statement in filter(str.strip, _ADDITIONS.split(";")):
                    self.db.execute(statement)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"Le registre « {self.path} » n'est pas utilisable ({_french(exc)}) : vérifiez "
                              "qu'il s'agit bien d'un fichier xl2segur.sqlite, et que lui et son dossier "
                              "sont accessibles en écriture.") from exc

    def _use_wal(self) -> None:
        """Switch to the WAL journal. SQLite answers « locked » at once, without waiting on the
        busy timeout, while another connection creates or switches the same file: retry."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        pause = 0.005
        while True:
            try:
                self.db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.2)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One writer at a time: BEGIN IMMEDIATE takes the write lock (waiting up to the busy timeout)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ------------------------------------------------------------ deposits

    def max_rank(self, numero_ans: str, day: date) -> int:
        found = self.db.execute("SELECT max(rang) FROM fichiers WHERE numero_ans = ? AND date_depot = ?",
                                (numero_ans, day.isoformat())).fetchone()[0]
        return found or 0

    def already_deposited(self, formats: Iterable[str], numero_ans: str, numeros: Iterable[str]) -> dict[str, str]:
        """numeroEditeur → file name, for those deposited in one of these formats and not rejected."""
        return {ne: r["nom"] for ne, r in self.live_deposits(formats, numero_ans, numeros).items()}

    def live_deposits(self, formats: Iterable[str], numero_ans: str, numeros: Iterable[str]) -> dict[str, sqlite3.Row]:
        """numeroEditeur → its newest deposit in one of these formats not rejected: the file's
        name (`nom`) and what the ledger holds of the demande (`montant`, `finess`, `rpps`)."""
        return self._deposits(formats, numero_ans, numeros, "d.statut != ?")

    def rejected_deposits(self, formats: Iterable[str], numero_ans: str, numeros: Iterable[str]) -> dict[str, str]:
        """numeroEditeur → file name of its newest deposit rejected by the ASP, in one of these formats."""
        return {ne: r["nom"] for ne, r in self.rejected_rows(formats, numero_ans, numeros).items()}

    def rejected_rows(self, formats: Iterable[str], numero_ans: str, numeros: Iterable[str]) -> dict[str, sqlite3.Row]:
        """numeroEditeur → its newest deposit rejected by the ASP in one of these formats (`nom`: its file)."""
        return self._deposits(formats, numero_ans, numeros, "d.statut = ?")

    def _deposits(self, formats: Iterable[str], numero_ans: str, numeros: Iterable[str],
                  status: str) -> dict[str, sqlite3.Row]:
        formats, numeros = list(formats), list(numeros)
        if not formats or not numeros:
            return {}
        rows = self.db.execute(
            "SELECT d.*, f.nom FROM demandes d "
            "JOIN fichiers f ON f.id = d.fichier_id "
            f"WHERE d.format IN (SELECT value FROM json_each(?)) AND d.numero_ans = ? AND {status} "
            "AND d.numero_editeur IN (SELECT value FROM json_each(?)) ORDER BY d.id",
            (orjson.dumps(formats).decode(), numero_ans, REJETEE, orjson.dumps(numeros).decode()),
        ).fetchall()
        return {r["numero_editeur"]: r for r in rows}  # later rows win: the newest

    def deposit(self, *, format_id: str, nature: str, numero_ans: str, siret: str, day: date,
                write: Callable[[int], Path], demandes: str, packed: bytes,
                formats: Iterable[str] | None = None, refuse_rejected: bool = False) -> Path:
        """Write one deposit file with `write(first_rank)` and record it, under the write lock;
        `packed` is the file's bytes as `pack` makes them, `demandes` a JSON array of its
        demandes in file order, each `{"numeroEditeur", "montant", "finess": [...], "rpps": [...]}`
        (`cycle.demande_records`).

        The rank floor is one more than the highest rank the ledger knows for that numeroAns
        and day; `write` also skips the ranks present in its folder. A demande deposited
        meanwhile by another run (same numeroAns and numeroEditeur, in one of `formats`, by
        default `format_id` alone) stops the deposit; so does, with `refuse_rejected`, a
        demande whose rejection by the ASP was recorded meanwhile.
        """
        formats = [format_id] if formats is None else list(formats)
        path: Path | None = None
        try:
            with self.transaction() as db:
                checked = (db.execute("PRAGMA data_version").fetchone()[0], tuple(formats), numero_ans,
                           day.isoformat(), refuse_rejected)
                # the same run's previous deposit, and nobody else wrote since: it saw what there is to see
                quiet = self._last_deposit is not None and self._last_deposit[0] == checked
                numeros = [] if quiet else [d["numeroEditeur"] for d in orjson.loads(demandes)]
                twice = {} if quiet else self.already_deposited(formats, numero_ans, numeros)
                if twice:
                    listed = ", ".join(f"{ne} ({name})" for ne, name in twice.items())
                    raise LedgerError(f"Des demandes viennent d'être déposées par une autre conversion : {listed}. "
                                      "Relancez la conversion : elles seront signalées.")
                rejected = self.rejected_deposits(formats, numero_ans, numeros) if refuse_rejected and not quiet else {}
                if rejected:
                    listed = ", ".join(f"{ne} ({name})" for ne, name in rejected.items())
                    raise LedgerError(f"Le rejet par l'ASP de demandes vient d'être enregistré au registre : {listed}. "
                                      "Relancez la conversion : elles seront signalées.")
                path = write((self._last_deposit[1] if quiet else self.max_rank(numero_ans, day)) + 1)
                rank = int(path.stem.rsplit("-", 1)[1])
                self._insert(db, path, format_id, nature, numero_ans, siret, day, rank, packed, demandes)
            self._last_deposit = (checked, rank)  # committed: its own commit leaves data_version as it was
        except BaseException:
            # written but not recorded (Ctrl-C, the ledger's disk full…): a file the ledger does not
            # know would be deposited again by the next run, so it goes
            if path is not None:
                path.unlink(missing_ok=True)
            raise
        return path

    @staticmethod
    def _insert(db: sqlite3.Connection, path: Path, format_id: str, nature: str, numero_ans: str, siret: str,
                day: date, rank: int, packed: bytes, demandes: str) -> None:
        """Record one deposit file and its demandes (`deposit`'s JSON array), inside a transaction."""
        cursor = db.execute(
            "INSERT INTO fichiers (nom, chemin, format, nature, numero_ans, siret, date_depot, rang, ecrit_le, "
            "contenu) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (path.name, str(path.resolve()), format_id, nature, numero_ans, siret, day.isoformat(), rank,
             datetime.now().isoformat(timespec="seconds"), packed),
        )
        # one statement for the file's demandes: executemany lets go of the GIL, and waits to
        # get it back, once per row
        db.execute(
            "INSERT INTO demandes (fichier_id, format, nature, numero_ans, numero_editeur, num_ligne, montant, "
            "finess, rpps) SELECT ?, ?, ?, ?, json_extract(value, '$.numeroEditeur'), key + 1, "
            "json_extract(value, '$.montant'), json_extract(value, '$.finess'), json_extract(value, '$.rpps') "
            "FROM json_each(?) ORDER BY key",
            (cursor.lastrowid, format_id, nature, numero_ans, demandes),
        )

    def record_import(self, *, path: Path, format_id: str, nature: str, numero_ans: str, siret: str, day: date,
                      rank: int, packed: bytes, demandes: str, formats: Iterable[str],
                      refuse_rejected: bool = False) -> None:
        """Record a deposit file written before xl2segur (`xl2segur importer`) as it is, under the
        write lock. LedgerError, nothing recorded, when one of its demandes is already in the
        ledger, deposited and not rejected, in one of `formats` (or rejected, with
        `refuse_rejected`), or when a file of that name is."""
        self._last_deposit = None  # the next deposit looks again
        with self.transaction() as db:
            numeros = [d["numeroEditeur"] for d in orjson.loads(demandes)]
            for found, why in ((self.already_deposited(formats, numero_ans, numeros), "déjà déposées, non rejetées"),
                               (self.rejected_deposits(formats, numero_ans, numeros) if refuse_rejected else {},
                                "rejetées par l'ASP, qui exige un nouveau numéro éditeur")):
                if found:
                    listed = ", ".join(f"{ne} ({name})" for ne, name in found.items())
                    raise LedgerError(f"des demandes sont au registre, {why} : {listed}")
            if db.execute("SELECT 1 FROM fichiers WHERE nom = ?", (path.name,)).fetchone():
                raise LedgerError(f"un fichier nommé {path.name} est déjà au registre")
            self._insert(db, path, format_id, nature, numero_ans, siret, day, rank, packed, demandes)

    # ------------------------------------------------------------ returns and soldes

    def demande(self, row: sqlite3.Row) -> dict[str, object]:
        """A recorded demande (a row of `demandes`) as written in its deposit file."""
        if row["demande_json"] is not None:  # recorded by version 1
            return orjson.loads(row["demande_json"])
        return self._document(row["fichier_id"])["lignesImport"][row["num_ligne"] - 1]

    def _document(self, fichier_id: int) -> dict[str, object]:
        """A deposit file as recorded; the last one is kept (a file's demandes come in a row)."""
        if self._last_document[0] != fichier_id:
            packed = self.db.execute("SELECT contenu FROM fichiers WHERE id = ?", (fichier_id,)).fetchone()[0]
            self._last_document = (fichier_id, orjson.loads(unpack(packed)))
        return self._last_document[1]

    def record_returns(self, outcomes: list[tuple[int, str, str | None, str | None, str | None, str]], *,
                       digest: str | None = None, imp_id: str | None = None, confirmed: bool = False) -> None:
        """(demande id, statut, numeroASP, codeTraitement, libelleTraitement, return file) each:
        the demande takes the outcome, and the history (`retours`) keeps it, with the return
        file's digest and impId."""
        now = datetime.now().isoformat(timespec="seconds")
        self._last_deposit = None  # a rejection recorded here: the next deposit looks again
        with self.transaction() as db:
            db.executemany(
                "UPDATE demandes SET statut = ?, numero_asp = coalesce(?, numero_asp), code_traitement = ?, "
                "libelle_traitement = ?, fichier_retour = ?, date_retour = ? WHERE id = ?",
                [(statut, asp, code, label, source, now[:10], demande_id)
                 for demande_id, statut, asp, code, label, source in outcomes],
            )
            db.executemany(
                "INSERT INTO retours (demande_id, fichier_retour, empreinte, imp_id, enregistre_le, statut, numero_asp, "
                "code_traitement, libelle_traitement, confirme) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(demande_id, source, digest, imp_id, now, statut, asp, code, label, int(confirmed))
                 for demande_id, statut, asp, code, label, source in outcomes],
            )

    def files_holding(self, numero_ans: str, lines: list[tuple[str, int]]) -> list[sqlite3.Row]:
        """The deposit files of `numero_ans` holding some of these (numeroEditeur, numLigne), each
        with `found` (how many) and `total` (its number of demandes), most found first."""
        return self.db.execute(
            "WITH r AS (SELECT json_extract(value, '$[0]') AS ne, json_extract(value, '$[1]') AS ligne "
            "FROM json_each(?)) "
            # not f.*: its content would go through the GROUP BY once per demande
            "SELECT f.id, f.nom, f.format, f.nature, count(*) AS found, "
            "(SELECT count(*) FROM demandes x WHERE x.fichier_id = f.id) AS total "
            "FROM demandes d JOIN r ON d.numero_editeur = r.ne AND d.num_ligne = r.ligne "
            "JOIN fichiers f ON f.id = d.fichier_id WHERE d.numero_ans = ? GROUP BY f.id ORDER BY found DESC, f.id",
            (orjson.dumps(lines).decode(), numero_ans),
        ).fetchall()

    def file_demandes(self, fichier_id: int) -> list[sqlite3.Row]:
        """The demandes of one deposit file, in file order."""
        return self.db.execute("SELECT * FROM demandes WHERE fichier_id = ? ORDER BY num_ligne",
                               (fichier_id,)).fetchall()

    def file_lines(self, fichier_id: int) -> list[dict[str, object]]:
        """The `lignesImport` of one deposit file as written."""
        return self._document(fichier_id)["lignesImport"]

    def numeros_ans(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT numero_ans FROM fichiers ORDER BY 1")]

    def files_answered_by(self, digest: str, imp_id: str | None) -> set[int]:
        """The deposit files a return with this digest (or this impId) was recorded for."""
        rows = self.db.execute(
            "SELECT DISTINCT d.fichier_id FROM retours r JOIN demandes d ON d.id = r.demande_id "
            "WHERE r.empreinte = ? OR (? IS NOT NULL AND r.imp_id = ?)", (digest, imp_id, imp_id)).fetchall()
        return {r[0] for r in rows}

    def avances_for_solde(self, avance_formats: Iterable[str], numero_ans: str,
                          numeros: Iterable[str]) -> dict[str, sqlite3.Row]:
        """numeroEditeur → its newest avance not rejected (else its newest avance), for a solde."""
        formats = list(avance_formats)
        numeros = list(numeros)
        if not formats or not numeros:
            return {}
        rows = self.db.execute(
            "SELECT d.*, f.nom AS fichier FROM demandes d JOIN fichiers f ON f.id = d.fichier_id "
            "WHERE d.format IN (SELECT value FROM json_each(?)) AND d.numero_ans = ? "
            "AND d.numero_editeur IN (SELECT value FROM json_each(?)) "
            "ORDER BY d.statut = 'rejetee' DESC, d.id",
            (orjson.dumps(formats).decode(), numero_ans, orjson.dumps(numeros).decode()),
        ).fetchall()
        return {r["numero_editeur"]: r for r in rows}  # later rows win: not rejected, newest

    def accepted_avances(self, format_id: str, solde_formats: Iterable[str]) -> list[sqlite3.Row]:
        """Accepted avances with a numeroASP whose solde was not deposited (or was rejected)
        in any of `solde_formats` (the solde format and those sharing its numeroEditeur)."""
        return self.db.execute(
            "SELECT d.*, f.nom AS fichier, f.siret AS siret FROM demandes d JOIN fichiers f ON f.id = d.fichier_id "
            "WHERE d.format = ? AND d.statut = ? AND d.numero_asp IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM demandes s WHERE s.format IN (SELECT value FROM json_each(?)) "
            "AND s.numero_ans = d.numero_ans AND s.numero_editeur = d.numero_editeur AND s.statut != ?) "
            "ORDER BY d.numero_ans, f.siret, d.id",
            (format_id, ACCEPTEE, orjson.dumps(list(solde_formats)).decode(), REJETEE),
        ).fetchall()


_SQLITE_FRENCH = {
    "unable to open database file": "impossible d'ouvrir ou de créer le fichier",
    "attempt to write a readonly database": "fichier ou dossier en lecture seule",
    "file is not a database": "ce n'est pas une base SQLite",
    "database disk image is malformed": "fichier abîmé",
    "database or disk is full": "disque plein",
}


def _french(exc: sqlite3.Error) -> str:
    """SQLite's reason in French when we know it, else as SQLite says it."""
    text = str(exc)
    return next((fr for en, fr in _SQLITE_FRENCH.items() if en in text), text)


def default_path(output: Path) -> Path:
    return Path(output) / DEFAULT_NAME
