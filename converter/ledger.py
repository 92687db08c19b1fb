"""The ledger (registre): an SQLite record of every demande written into a deposit file.

It answers what a vendor otherwise tracks by hand: which demande went in which file, what
the ASP answered, which numeroASP it gave. One history per numeroAns, found without being
asked for (`locate`): `--registre`, else the environment variable XL2SEGUR_REGISTRE (a team's
shared folder), else `xl2segur.sqlite` in the user's data folder (platformdirs). A ledger an
older version kept in its output folder is taken over (`adopt`), never silently ignored.

- ranks: the daily rank of a deposit file continues after the files the ledger knows, even
  when they were moved out of the folder;
- no double deposit: a numeroEditeur live in a deposit (written, not rejected, not
  withdrawn) is refused, in its format and in the formats that share its numeroEditeur (same
  couloir and nature, e.g. the two MS2 avance variants: `formats.numero_formats`); where the
  format says a rejected demande comes back under a new number (`new_numero_after_rejection`),
  a numeroEditeur the ASP rejected is refused too;
- a file under its final name exists only if it is recorded: it is recorded pending (with
  the run that writes it) in the same transaction as its demandes, then named, and the run
  marks its files done as it goes (each with its next deposit) and as it ends; `reconcile`
  settles what a dead run left (`files.run_alive`);
- a recorded file can be written again (`file_bytes`, for `xl2segur reecrire`), or withdrawn
  before it is uploaded (`withdraw`), which frees its demandes;
- returns: `record_returns` stores the ASP's outcome (accepted / rejected, label, numeroASP)
  on the demande, and keeps every return recorded in the `retours` history (file, digest,
  impId, date, outcome), so a later return never rewrites the past unseen;
- soldes: `avances_for_solde` finds the avance of a solde, `accepted_avances` feeds the
  pre-filled solde workbook.

Several runs, on one machine or several, may share a ledger: one that several machines may
use (`shared`: XL2SEGUR_REGISTRE, or a network share) keeps a rollback journal (DELETE), not
WAL, whose shared memory does not work on a network share; one of this machine alone, WAL
(`_set_journal`); a busy timeout; and every write in a `BEGIN IMMEDIATE` transaction (one
writer at a time; a deposit file's rank is chosen and its demandes recorded under the same
lock).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import sqlite3
import subprocess
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import orjson
import zstandard

from .deposit import LINES, Placed
from .files import OutputError, clean_stale, deposit_temporaries, numbered, publish, run_alive, run_lock_left, why
from .wording import counted

if TYPE_CHECKING:
    from .issues import Issue

DEFAULT_NAME = "xl2segur.sqlite"
ENVIRONMENT = "XL2SEGUR_REGISTRE"  # a ledger shared by a team: its path
BUSY_TIMEOUT_MS = 60_000
SCHEMA_VERSION = 4
ADOPTED_SUFFIX = ".repris"  # an older version's ledger, once taken over
WITHDRAWN = "retires"  # sub-folder of the withdrawn deposit files

# statut of a demande; a withdrawn one (RETIREE) was never uploaded and is free again
DEPOSEE, ACCEPTEE, REJETEE, RETIREE = "deposee", "acceptee", "rejetee", "retiree"
NOT_LIVE = f"('{REJETEE}', '{RETIREE}')"
# what a message says of a demande's statut (withdrawn aside), after its file's name (« 00001 (fichier …, acceptée) »)
STATE_SAID = {DEPOSEE: "déposée, sans retour de l'ASP", ACCEPTEE: "acceptée", REJETEE: "rejetée par l'ASP"}

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
    contenu BLOB,                    -- the file exactly as written, Zstandard-compressed (NULL before version 2)
    en_attente TEXT,                 -- the run naming it (files.RUN_ID) until it is done, then NULL
    retire_le TEXT                   -- withdrawn (never uploaded) on that date, AAAA-MM-JJ
);
CREATE INDEX IF NOT EXISTS fichiers_rang ON fichiers (numero_ans, date_depot);
CREATE INDEX IF NOT EXISTS fichiers_nom ON fichiers (nom);
CREATE INDEX IF NOT EXISTS fichiers_en_attente ON fichiers (en_attente) WHERE en_attente IS NOT NULL;
""" + _DEMANDES.format(name="demandes") + """
CREATE INDEX IF NOT EXISTS demandes_ne ON demandes (numero_ans, numero_editeur);
"""

# The history of the ASP's returns, one row per demande of each return file recorded, the
# index that finds a deposit file's demandes (a return is matched to its file), the one that
# finds the avances of a numeroASP (each return looks for its numbers given to another avance:
# without it, the whole table read, a second for a year's million demandes), the rejections
# alone (each return looks for avances rejected once and live again: `funded_twice`, which read
# every return recorded), the numeroEditeur whatever their case (a conversion looks for those
# differing by case only from its own: `case_twins`), the impIds (each return looks for its
# deposit file answered under another impId, or its impId given to another file:
# `returns._other_imports`), and what the zips of each deposit file held (reecrire --pieces says when the
# pieces no longer give them).
# Added without a new schema version: created, if missing, each time a ledger is opened.
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
CREATE INDEX IF NOT EXISTS retours_rejetee ON retours (demande_id, enregistre_le) WHERE statut = 'rejetee';
CREATE INDEX IF NOT EXISTS retours_imp ON retours (imp_id) WHERE imp_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS archives (
    id INTEGER PRIMARY KEY,
    fichier_id INTEGER NOT NULL REFERENCES fichiers (id) ON DELETE CASCADE,  -- dropped with it, whatever the version
    nom TEXT NOT NULL,               -- JSON-….zip, JSON-…-2.zip: a zip of the file's attachments (--pieces)
    membres TEXT NOT NULL            -- JSON [[nomFichier, size, CRC-32], …]: what it held, as written
);
CREATE INDEX IF NOT EXISTS archives_fichier ON archives (fichier_id);
CREATE INDEX IF NOT EXISTS demandes_fichier ON demandes (fichier_id);
CREATE INDEX IF NOT EXISTS demandes_asp ON demandes (numero_asp) WHERE numero_asp IS NOT NULL;
CREATE INDEX IF NOT EXISTS demandes_ne_casse ON demandes (numero_ans, numero_editeur COLLATE NOCASE);
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

# Version 3: a file is recorded pending before it gets its name; a file can be withdrawn. The
# pending ones are found by an index: a scan would read every file's content (stored before).
_MIGRATE_FROM_2 = """
ALTER TABLE fichiers ADD COLUMN en_attente TEXT;
ALTER TABLE fichiers ADD COLUMN retire_le TEXT;
CREATE INDEX fichiers_nom ON fichiers (nom);
CREATE INDEX fichiers_en_attente ON fichiers (en_attente) WHERE en_attente IS NOT NULL;
"""

# Version 4: each demande's VAT regime (the value of its format's `advance_regime` balise, NULL
# for the other formats), on which its expected advance depends: `etat` read it from every file's
# stored content, decompressed (25 s of a year's ledger). Filled from that content once, in the
# transaction of the migration (`_fill_regimes`): a migration stopped halfway leaves version 3.
_MIGRATE_FROM_3 = """
ALTER TABLE demandes ADD COLUMN regime TEXT;
"""
_MIGRATIONS = {0: _SCHEMA + _MIGRATE_FROM_3, 1: _MIGRATE_FROM_1 + _MIGRATE_FROM_2 + _MIGRATE_FROM_3,
               2: _MIGRATE_FROM_2 + _MIGRATE_FROM_3, 3: _MIGRATE_FROM_3}


_compressors = threading.local()


def pack(data: bytes) -> bytes:
    """A deposit file as the ledger keeps it: Zstandard at its fastest level, a 570 ko file of
    200 demandes in about a millisecond, 13 times smaller (level 3, the default, took a quarter
    longer for the same size; zlib three times as long, for 10 times).

    One compressor per thread (a compressor is not thread-safe), kept: making one for each
    file cost a third more (0.55 against 0.40 ms for a 400 ko file); the bytes are the same.

    >>> unpack(pack(b'{"lignesImport": []}'))
    b'{"lignesImport": []}'
    """
    compressor = getattr(_compressors, "zstd", None)
    if compressor is None:
        compressor = _compressors.zstd = zstandard.ZstdCompressor(level=1)
    return compressor.compress(data)


def unpack(packed: bytes) -> bytes:
    """A recorded deposit file, as written; DamagedLedger when the ledger's copy is damaged."""
    try:
        return zstandard.ZstdDecompressor().decompress(packed)
    except (zstandard.ZstdError, TypeError) as exc:
        raise DamagedLedger() from exc


def readable(packed: bytes | None) -> bytes | None:
    """A recorded deposit file as written, None when the ledger keeps no copy of it (version 1)
    or its copy no longer reads back (damaged): what compares a file with the recorded one,
    which then knows it by its demandes (`demandes`), as a file of version 1."""
    if packed is None:
        return None
    try:
        data = unpack(packed)
        orjson.loads(data)
    except (DamagedLedger, orjson.JSONDecodeError):
        return None
    return data


def _size(packed: bytes) -> int | None:
    """The size of a recorded file, as its packed frame says it; None when it cannot say."""
    try:
        return zstandard.frame_content_size(packed)
    except zstandard.ZstdError:
        return None


class DamagedLedger(Exception):
    """A recorded deposit file that no longer reads back (raised as a LedgerError, below):
    `name`, the file's; none from `unpack` alone, whose callers name it (`readable`, `_document`)."""

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self.name = name


Facts = tuple[str, str | None, str, str, str | None]
"""What the ledger records of one demande besides its file (`lifecycle.facts.demande_lookup`):
(numeroEditeur, montant, finess, rpps, regime); montant, its amount HT as text (« 4866.67 »);
finess and rpps, the JSON lists of its FINESS and RPPS as the ledger keeps them (« ["010002574"] »);
regime, the value of its format's `advance_regime` balise. Plain tuples, bound as they are: the
ledger once took them as one JSON array, which SQLite 3.40 parsed again for each of the five
values of each demande (`json_each`, `json_extract`), two thirds of the recording thread's time."""


@dataclass(frozen=True)
class DepositRecord:
    """One checked deposit file, as `Ledger.record_pending` records it."""

    format_id: str
    nature: str
    numero_ans: str
    siret: str
    day: date
    run: str  # files.RUN_ID: the run that names it
    demandes: Sequence[Facts]  # its demandes' facts, in file order
    packed: bytes  # the file's bytes as `pack` makes them
    formats: tuple[str, ...] = ()  # where a numeroEditeur counts as deposited (default: format_id alone)
    refuse_rejected: bool = False  # a demande rejected by the ASP comes back under a new numeroEditeur

    def __post_init__(self) -> None:
        object.__setattr__(self, "formats", tuple(self.formats) or (self.format_id,))


class Places(Protocol):
    def place(self, floor: int) -> Placed: ...


@dataclass(frozen=True)
class Pending:
    """A deposit file recorded, not yet named."""

    fichier_id: int
    path: Path


class QuietDeposits:
    """An optimisation, nothing more: while no other connection wrote to the ledger (PRAGMA
    data_version), the next deposit of the same run, same formats, numeroAns and day, need not
    look for demandes deposited meanwhile, and its rank follows the last one: two queries
    fewer per deposit file."""

    def __init__(self) -> None:
        self.last: tuple[tuple[object, ...], int] | None = None  # (what was checked, the rank taken)
        self.seen: tuple[object, ...] | None = None

    def floor(self, db: sqlite3.Connection, record: DepositRecord) -> int | None:
        """Inside the deposit's transaction: the last rank taken when nothing changed, else None."""
        self.seen = (db.execute("PRAGMA data_version").fetchone()[0], record.formats, record.numero_ans,
                     record.day.isoformat(), record.refuse_rejected)
        return self.last[1] if self.last is not None and self.last[0] == self.seen else None

    def remember(self, rank: int) -> None:
        """After the commit: its own commit leaves data_version as it was."""
        self.last = (self.seen, rank)

    def clear(self) -> None:
        self.last = None


class LedgerError(OutputError):
    """The ledger cannot be used; the message is French and says what to do."""


def _damaged(path: Path, name: str | None) -> LedgerError:
    """The copy of the recorded file `name` no longer reads back, and the command needs it. The
    ledger keeps each demande apart from it (numéro, amount, FINESS, state): the commands that
    do not need the copy go on (`readable`)."""
    return LedgerError(f"Le registre « {path} » ne relit plus sa copie du fichier de dépôt « {name} » (abîmée), dont "
                       f"cette commande a besoin. {restoring(path, name)}")


def restoring(path: Path, name: str) -> str:
    """How the copy of the recorded file `name` comes back into the ledger `path`."""
    return (f"Si vous avez gardé « {name} » tel que déposé, « xl2segur importer {name} » (avec ce registre) lui en "
            "redonne la copie ; sinon, remplacez le registre par sa dernière sauvegarde (puis « xl2segur importer » "
            "les fichiers de dépôt écrits depuis). Les autres commandes (convertir, retour, retirer) s'en passent : "
            "le registre garde chaque demande de ce fichier.")


class LedgerNotFound(LedgerError):
    """No ledger at that path. The message names the command-line option that gives the
    ledger: `--registre` unless told otherwise (`for_option`, e.g. `solde --depuis`)."""

    def __init__(self, path: Path, option: str = "--registre", empty: bool = False):
        self.path, self.option, self.empty = Path(path), option, empty
        found = "est un fichier vide" if empty else "est introuvable"
        super().__init__(f"Le registre « {self.path} » {found} : indiquez avec {option} le fichier "
                         "xl2segur.sqlite écrit par « xl2segur convertir ».")

    def for_option(self, option: str) -> LedgerNotFound:
        return LedgerNotFound(self.path, option, self.empty)


class _FolderSide:
    """Part of `Ledger`: the deposit files once their run is over: a folder made to agree with
    the ledger, an older ledger taken over, a file written again or withdrawn."""

    db: sqlite3.Connection
    path: Path
    shared: bool
    read_only: bool
    _quiet: QuietDeposits

    def reconcile(self, folder: Path) -> list[tuple[str, Path]]:
        """Settle what dead runs left in `folder`, then make it agree with the ledger. Returns what
        was done, for the user: (code, path) with code « adopte » (a pending file of a dead
        run found under its name with the recorded content: done), « adopte_repondu » (one no
        longer there, which the ASP answered: done), « abandonne » (one still under its
        temporary name: it never got its name; dropped, its demandes free), « adopte_absent »
        (one under neither name: named, then moved away before anything settled it, perhaps
        uploaded: kept, its demandes deposited; `retirer` frees them).

        A `JSON-…` file of the folder that this ledger does not know was written with another
        ledger (a trial one, a colleague's, an older version's) or by hand: uploaded, it could
        deposit its demandes a second time, and moving it aside would hide a file another
        ledger may rightly hold. LedgerError, nothing moved and nothing written: the user
        chooses another folder, the ledger that wrote it, or `xl2segur importer`."""
        folder = Path(folder)
        done = self.settle(folder)
        try:
            names = [name for name in os.listdir(folder) if _DEPOSIT_NAME.match(name)]
        except OSError:  # no folder yet: nothing in it
            return done
        if not names:
            return done
        rows = self.db.execute(
            "SELECT id, nom, chemin, contenu, ecrit_le FROM fichiers WHERE retire_le IS NULL AND nom IN "
            "(SELECT value FROM json_each(?))", (orjson.dumps(names).decode(),)).fetchall()
        known: dict[str, list[sqlite3.Row]] = {}
        for row in rows:
            known.setdefault(row["nom"], []).append(row)
        strangers = []
        for name in sorted(names):
            path = folder / name
            resolved = str(path.resolve())
            # at its recorded path, still with its demandes (not replaced by another ledger's
            # file of the same name, nor edited); the folder may have been moved: then the same
            # name with the recorded content, or its demandes (an imported file is kept as xl2segur
            # writes it, not byte for byte; a damaged copy's: those the ledger holds of it)
            if not (any(r["chemin"] == resolved and _holds_demandes(path, r) for r in known.get(name, [])) or
                    any(_holds(path, data) or _same_numeros(path, r) if (data := readable(r["contenu"])) is not None
                        else _holds_recorded_numeros(self.db, path, r["id"])
                        for r in known.get(name, []) if r["contenu"] is not None)):
                strangers.append(name)
        if strangers:
            raise LedgerError(self._strangers_message(folder, strangers))
        return done

    def settle(self, folder: Path | None = None) -> list[tuple[str, Path]]:
        """Settle the files dead runs left pending (`reconcile` says how) in `folder`, and in any
        folder whose run is known dead from here; every command that reads the ledger does it
        first (none counts, refuses or withdraws demandes of a file never named). Not read-only."""
        done: list[tuple[str, Path]] = []
        if self.read_only:
            return done
        pending = self.db.execute("SELECT id, chemin, en_attente, contenu FROM fichiers "
                                  "WHERE en_attente IS NOT NULL").fetchall()
        dead: dict[tuple[Path, str], bool] = {}
        here = folder.resolve() if folder is not None else None
        stale: set[Path] = set()  # other folders of dead runs: cleaned once their files are settled
        for row in pending:
            path = Path(row["chemin"])
            key = (path.parent, row["en_attente"])
            if key not in dead:
                # this folder's, or another one's whose run left its own lock file there (a random
                # id, no other run's) held by nobody: killed after recording, that run's demandes
                # would stay deposited in no file, whichever folder the user converts into next.
                # Without its lock file, another folder may be another machine's: left alone; so
                # is one on a network share, where a lock may not reach another machine's run
                # (an SMB share mounted without byte-range locks): its own conversion settles it.
                # A ledger of this machine alone (not `shared`) knows no other machine's run: one
                # holds its lock file in its folder while it lives (a full disk ended it: gone)
                elsewhere = (run_lock_left(path.parent, row["en_attente"]) or
                             (not self.shared and path.parent.is_dir())) and not on_network_share(path)
                dead[key] = (path.parent == here or elsewhere) \
                    and not run_alive(path.parent, row["en_attente"])
                if dead[key] and path.parent != here:
                    stale.add(path.parent)  # its temporaries there, as a conversion into that folder would
            if not dead[key]:
                continue
            data = readable(row["contenu"])  # damaged: its temporary not known, the file kept (adopte_absent)
            there = data is not None and _holds(path, data)
            # answered by the ASP, it got its name and was uploaded, wherever it is now (filed
            # away): kept, its demandes deposited (dropped, its return's history would point nowhere)
            if there or self.answered(row["id"]):
                self._done(row["id"])
                done.append(("adopte" if there else "adopte_repondu", path))
            elif data is not None and any(_holds(tmp, data) for tmp in deposit_temporaries(path.parent, row["en_attente"])):
                _drop_zips(path, data)  # never named: its zips go first, then the file (_drop_zips)
                drop_placeholder(path)
                self._forget(row["id"])
                done.append(("abandonne", path))
            else:  # named, then moved away (uploaded, filed) before anything settled it: kept
                self._done(row["id"])
                done.append(("adopte_absent", path))
        for elsewhere_folder in stale:
            clean_stale(elsewhere_folder)
        return done

    def _strangers_message(self, folder: Path, strangers: list[str]) -> str:
        """Why `convertir` stops on these unknown `JSON-…` files of `folder`, and the way out: a
        file renamed by hand (or copied) holds, byte for byte, a file the ledger recorded; its
        name must come back, since it carries the date and rank the ASP wants and the ledger
        counts the next ranks from; a copy, uploaded, would deposit its demandes twice."""
        renamed, unknown = [], []
        try:  # spelt as listed: a disk that ignores case (FAT, exFAT, Windows, macOS) finds
            present = set(os.listdir(folder))  # « JSON-…-001.json » as « json-…-001.json »
        except OSError:
            present = set()
        for name in strangers:
            recorded = _recorded_as(self.db, folder / name)
            withdrawn = _recorded_as(self.db, folder / name, withdrawn=True) if recorded is None else None
            if withdrawn is not None:
                # not « unknown »: its demandes were freed, maybe deposited again since
                when = date.fromisoformat(withdrawn["retire_le"]).strftime("%d/%m/%Y")
                renamed.append(f"« {name} » est le fichier « {withdrawn['nom']} », retiré du registre le {when} "
                               "(« xl2segur retirer ») : ne le déposez pas, ses demandes ont été libérées ; "
                               f"remettez-le dans le sous-dossier « {WITHDRAWN} » ou supprimez-le")
            elif recorded is None and self.db.execute(
                    "SELECT 1 FROM fichiers WHERE nom = ? AND chemin = ? AND retire_le IS NULL",
                    (name, str((folder / name).resolve()))).fetchone():
                renamed.append(f"« {name} » n'a plus les demandes que le registre a inscrites sous ce nom (modifié à "
                               "la main, ou remplacé par un fichier écrit avec un autre registre) : mettez-le de côté "
                               f"hors de ce dossier sans le déposer, puis « xl2segur reecrire {name} » réécrit celui "
                               "du registre")
            elif recorded is None and (answer := self._asp_return(folder / name)) is not None:
                # the ASP's return saved beside the deposits: not another ledger's file
                renamed.append(f"« {name} » est un fichier de retour de l'ASP, pas un fichier de dépôt : " + (
                    "il est enregistré au registre ; rangez-le hors de ce dossier" if answer else
                    "enregistrez-le avec « xl2segur retour », puis rangez-le hors de ce dossier"))
            elif recorded is None:
                unknown.append(name)
            elif recorded["nom"] in present and (folder / recorded["nom"]).is_file():
                renamed.append(f"« {name} » est une copie de « {recorded['nom']} », inscrit au registre : supprimez-la, "
                               "déposée elle aussi elle déposerait ses demandes deux fois")
            else:
                renamed.append(f"« {name} » est le fichier « {recorded['nom']} » du registre, renommé : rendez-lui son nom "
                               "(il porte la date et le rang que l'ASP demande)")
        parts = []
        if unknown:
            listed = ", ".join(f"« {n} »" for n in unknown[:5]) + (f" et {counted(len(unknown) - 5, 'autre')}"
                                                                  if len(unknown) > 5 else "")
            parts.append(
                f"Le dossier « {folder} » contient {counted(len(unknown), 'fichier')} de dépôt que le registre "
                f"« {self.path} » ne connaît pas : {listed}. Ils ont été écrits avec un autre registre (un registre "
                "d'essai, celui d'un collègue, celui d'une version précédente), avec celui-ci avant qu'il soit "
                "restauré d'une sauvegarde, ou à la main ; rien n'est écrit ni déplacé. S'ils sont déposés ou à déposer, convertissez avec le "
                "registre qui les a écrits (--registre, ou XL2SEGUR_REGISTRE pour une équipe), ou inscrivez-les "
                "d'abord à celui-ci avec « xl2segur importer » : convertir dans un autre dossier déposerait leurs "
                "demandes une seconde fois. Des fichiers d'essai, qui ne seront jamais déposés : convertissez "
                "dans un autre dossier (-o).")
        if renamed:
            parts.append(f"Dans le dossier « {folder} », " + " ; ".join(renamed[:5])
                         + (f" ; et {counted(len(renamed) - 5, 'autre')}" if len(renamed) > 5 else "")
                         + ". Rien n'est écrit ni déplacé ; relancez ensuite la conversion.")
        return " ".join(parts)

    def adopt(self, legacy: Path) -> tuple[int, list[str]]:
        """Take over the ledger an older version kept in its output folder: its files, their
        demandes, the history of their returns and what their zips held join this one (a file
        already here, same name and content, is not taken twice), then it is renamed `….repris`
        (never deleted). Returns the files taken, and « numeroEditeur (file, file) » for each
        demande now live in two files, one of them taken (deposited with each ledger while
        neither knew the other)."""
        with Ledger(legacy, create=False):  # brought to this schema version first
            pass
        self._quiet.clear()
        self.db.execute("ATTACH DATABASE ? AS ancien", (str(legacy),))
        try:
            with self.transaction() as db:
                columns = [r["name"] for r in db.execute("PRAGMA main.table_info(fichiers)") if r["name"] != "id"]
                old = db.execute("SELECT * FROM ancien.fichiers f WHERE NOT EXISTS (SELECT 1 FROM main.fichiers m "
                                 "WHERE m.nom = f.nom AND m.contenu IS f.contenu) ORDER BY id").fetchall()
                demande_columns = [r["name"] for r in db.execute("PRAGMA main.table_info(demandes)")
                                   if r["name"] not in ("id", "fichier_id")]
                taken = []
                for row in old:
                    new_id = db.execute(f"INSERT INTO main.fichiers ({', '.join(columns)}) VALUES "
                                        f"({', '.join('?' * len(columns))})", [row[c] for c in columns]).lastrowid
                    db.execute(f"INSERT INTO main.demandes (fichier_id, {', '.join(demande_columns)}) "
                               f"SELECT ?, {', '.join(demande_columns)} FROM ancien.demandes WHERE fichier_id = ? "
                               "ORDER BY id", (new_id, row["id"]))
                    # the history of its returns (a demande is one line of its file) and what its
                    # zips held: without them, its outcomes came from no return, and the same
                    # return given again was recorded as new
                    db.execute("INSERT INTO main.retours (demande_id, fichier_retour, empreinte, imp_id, enregistre_le, "
                               "statut, numero_asp, code_traitement, libelle_traitement, confirme) "
                               "SELECT n.id, r.fichier_retour, r.empreinte, r.imp_id, r.enregistre_le, r.statut, "
                               "r.numero_asp, r.code_traitement, r.libelle_traitement, r.confirme FROM ancien.retours r "
                               "JOIN ancien.demandes o ON o.id = r.demande_id "
                               "JOIN main.demandes n ON n.fichier_id = ? AND n.num_ligne = o.num_ligne "
                               "WHERE o.fichier_id = ? ORDER BY r.id", (new_id, row["id"]))
                    db.execute("INSERT INTO main.archives (fichier_id, nom, membres) SELECT ?, nom, membres "
                               "FROM ancien.archives WHERE fichier_id = ? ORDER BY id", (new_id, row["id"]))
                    taken.append(new_id)
                twice = [f"{ne} ({names})" for ne, names in db.execute(
                    "SELECT d.numero_editeur, group_concat(f.nom, ', ') FROM main.demandes d "
                    f"JOIN main.fichiers f ON f.id = d.fichier_id WHERE d.statut NOT IN {NOT_LIVE} "
                    "GROUP BY d.nature, d.numero_ans, d.numero_editeur "
                    "HAVING count(*) > 1 AND max(d.fichier_id IN (SELECT value FROM json_each(?))) "
                    "ORDER BY d.numero_editeur", (orjson.dumps(taken).decode(),))]
        finally:
            self.db.execute("DETACH DATABASE ancien")
        _move(legacy, numbered(legacy.with_name(legacy.name + ADOPTED_SUFFIX)))
        return len(old), twice

    # ------------------------------------------------------------ rewriting, withdrawing

    def recorded_file(self, name: str) -> sqlite3.Row:
        """The recorded deposit file of that name (`JSON-….json`, with or without the folder);
        LedgerError when the ledger has none, or several (then the newest)."""
        rows = self.db.execute("SELECT f.*, (SELECT count(*) FROM demandes d WHERE d.fichier_id = f.id) AS demandes "
                               "FROM fichiers f WHERE nom = ? ORDER BY id DESC", (Path(name).name,)).fetchall()
        if not rows:
            renamed = _recorded_as(self.db, Path(name)) if Path(name).is_file() else None
            if renamed is not None:  # renamed by hand, known by its content; answered by the ASP: uploaded, said
                uploaded = (f"l'ASP a déjà répondu pour {n} de ses demandes (« xl2segur retour »), il a donc été "
                            "déposé ; " if (n := self.answered(renamed["id"])) else "")
                raise LedgerError(f"« {Path(name).name} » est le fichier « {renamed['nom']} » du registre, renommé : "
                                  f"{uploaded}rendez-lui son nom (il porte la date et le rang que l'ASP demande), puis "
                                  f"relancez la commande avec « {renamed['nom']} ».")
            raise LedgerError(f"Le registre « {self.path} » ne connaît aucun fichier de dépôt « {Path(name).name} » : "
                              "vérifiez le nom (JSON-<numéro ANS>-<AAAAMMJJ>-<rang>.json) et le registre (--registre).")
        if Path(name).is_file() and all(readable(r["contenu"]) is not None for r in rows) and \
                str(Path(name).resolve()) not in {r["chemin"] for r in rows}:
            # the file the user names is there, away from where it was written: it is the one
            # meant (retirer moves it aside, and frees the demandes the ledger holds for it), not
            # merely one of that name
            found = next((r for r in rows if _same_file(Path(name), readable(r["contenu"]))), None)
            if found is None:
                raise LedgerError(f"« {name} » porte le nom d'un fichier de dépôt du registre, mais pas les demandes que "
                                  f"le registre a inscrites sous ce nom (écrit avec un autre registre, ou modifié à la "
                                  f"main) : rien n'est fait. Pour le fichier du registre, indiquez-le là où il est "
                                  f"(écrit dans « {rows[0]['chemin']} »).")
            return found
        return rows[0]

    def withdraw(self, row: sqlite3.Row) -> int:
        """Withdraw a recorded file that will never be uploaded: its demandes are free again
        (their history stays, statut « retiree »). Refused once the ASP answered for one of
        them: that file was uploaded. Returns how many demandes were freed."""
        self._quiet.clear()
        with self.transaction() as db:
            if row["retire_le"] is not None or db.execute(
                    "SELECT retire_le FROM fichiers WHERE id = ?", (row["id"],)).fetchone()[0] is not None:
                raise LedgerError(f"Le fichier « {row['nom']} » a déjà été retiré du registre.")
            answered = self.answered(row["id"])
            if answered:
                raise LedgerError(f"Le fichier « {row['nom']} » a été déposé : l'ASP a déjà répondu pour {answered} "
                                  "de ses demandes (« xl2segur retour »). Il ne peut plus être retiré.")
            db.execute("UPDATE fichiers SET retire_le = ? WHERE id = ?", (date.today().isoformat(), row["id"]))
            return db.execute("UPDATE demandes SET statut = ? WHERE fichier_id = ?", (RETIREE, row["id"])).rowcount

    def restore(self, row: sqlite3.Row, formats: Iterable[str]) -> int:
        """Undo `withdraw`: the file was uploaded after all (the ASP answers it), and its demandes,
        freed, could have been deposited a second time. They are deposited again (« deposee »:
        a file the ASP had answered could not be withdrawn). Refused while one of them is live
        in another deposit file of `formats` (converted again since): both would count. Returns
        how many demandes are deposited again."""
        self._quiet.clear()
        with self.transaction() as db:
            if db.execute("SELECT retire_le FROM fichiers WHERE id = ?", (row["id"],)).fetchone()[0] is None:
                raise LedgerError(f"Le fichier « {row['nom']} » n'est pas retiré du registre : il n'y a pas de "
                                  "retrait à annuler.")
            numeros = [r[0] for r in db.execute("SELECT numero_editeur FROM demandes WHERE fichier_id = ? ORDER BY id",
                                                (row["id"],))]
            again = self.already_deposited(formats, row["numero_ans"], numeros)
            if again:
                listed = by_file(again)
                raise LedgerError(f"Des demandes de « {row['nom']} » ont été déposées de nouveau depuis son retrait : "
                                  f"{listed}. Si ces fichiers-là n'ont pas été déposés sur le portail, retirez-les "
                                  "(« xl2segur retirer »), puis annulez ce retrait ; s'ils l'ont été, l'ASP a reçu "
                                  "ces demandes deux fois : rien n'est changé au registre.")
            db.execute("UPDATE fichiers SET retire_le = NULL WHERE id = ?", (row["id"],))
            return db.execute("UPDATE demandes SET statut = ? WHERE fichier_id = ?", (DEPOSEE, row["id"])).rowcount


class _ReturnsSide:
    """Part of `Ledger`: the ASP's returns, and what the solde and the status read."""

    db: sqlite3.Connection
    _last_document: tuple[int | None, dict[str, object]]
    _quiet: QuietDeposits

    def demande(self, row: sqlite3.Row) -> dict[str, object]:
        """A recorded demande (a row of `demandes`) as written in its deposit file."""
        if row["demande_json"] is not None:  # recorded by version 1
            return orjson.loads(row["demande_json"])
        return self._document(row["fichier_id"])[LINES][row["num_ligne"] - 1]

    def _document(self, fichier_id: int) -> dict[str, object]:
        """A deposit file as recorded; the last one is kept (a file's demandes come in a row)."""
        if self._last_document[0] != fichier_id:
            packed, name = self.db.execute("SELECT contenu, nom FROM fichiers WHERE id = ?", (fichier_id,)).fetchone()
            try:  # not `readable`: its JSON read once
                self._last_document = (fichier_id, orjson.loads(unpack(packed)))
            except (DamagedLedger, orjson.JSONDecodeError) as exc:
                raise DamagedLedger(name) from exc
        return self._last_document[1]

    def record_returns(self, outcomes: list[tuple[int, str, str | None, str | None, str | None, str]], *,
                       digest: str | None = None, imp_id: str | None = None, confirmed: bool = False) -> None:
        """(demande id, statut, numeroASP, codeTraitement, libelleTraitement, return file) each:
        the demande takes the outcome, and the history (`retours`) keeps it, with the return
        file's digest and impId."""
        now = datetime.now().isoformat(timespec="seconds")
        self._quiet.clear()  # a rejection recorded here: the next deposit looks again
        with self.transaction() as db:
            db.executemany(
                # an acceptance without its number keeps the one given before; a rejection has none
                f"UPDATE demandes SET statut = ?, numero_asp = CASE WHEN ? = '{REJETEE}' THEN NULL "
                "ELSE coalesce(?, numero_asp) END, code_traitement = ?, libelle_traitement = ?, fichier_retour = ?, "
                "date_retour = ? WHERE id = ?",
                [(statut, statut, asp, code, label, source, now[:10], demande_id)
                 for demande_id, statut, asp, code, label, source in outcomes],
            )
            db.executemany(
                "INSERT INTO retours (demande_id, fichier_retour, empreinte, imp_id, enregistre_le, statut, numero_asp, "
                "code_traitement, libelle_traitement, confirme) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(demande_id, source, digest, imp_id, now, statut, asp, code, label, int(confirmed))
                 for demande_id, statut, asp, code, label, source in outcomes],
            )

    def files_holding(self, numero_ans: str, lines: list[tuple[str, int]], withdrawn: bool = False) -> list[sqlite3.Row]:
        """The deposit files of `numero_ans` holding some of these (numeroEditeur, numLigne), each
        with `found` (how many) and `total` (its number of demandes), most found first; a
        withdrawn file was never uploaded: no return answers it (`withdrawn`: those only, to say so)."""
        return self.db.execute(
            "WITH r AS (SELECT json_extract(value, '$[0]') AS ne, json_extract(value, '$[1]') AS ligne "
            "FROM json_each(?)) "
            # not f.*: its content would go through the GROUP BY once per demande
            "SELECT f.id, f.nom, f.format, f.nature, f.retire_le, count(*) AS found, "
            "(SELECT count(*) FROM demandes x WHERE x.fichier_id = f.id) AS total "
            "FROM demandes d JOIN r ON d.numero_editeur = r.ne AND d.num_ligne = r.ligne "
            "JOIN fichiers f ON f.id = d.fichier_id WHERE d.numero_ans = ? "
            f"AND f.retire_le IS {'NOT ' if withdrawn else ''}NULL "
            "GROUP BY f.id ORDER BY found DESC, f.id",
            (orjson.dumps(lines).decode(), numero_ans),
        ).fetchall()

    def avances_numbered(self, numeros_asp: Iterable[str]) -> list[sqlite3.Row]:
        """The live avances holding one of these numeroASP: `id`, `numero_asp`, `numero_editeur`,
        `nom` (their file)."""
        return self.db.execute(
            "SELECT d.id, d.numero_asp, d.numero_editeur, f.nom FROM demandes d JOIN fichiers f ON f.id = d.fichier_id "
            f"WHERE d.nature = 'avance' AND d.statut NOT IN {NOT_LIVE} AND d.numero_asp IN (SELECT value FROM json_each(?)) "
            "ORDER BY d.id", (orjson.dumps(list(numeros_asp)).decode(),)).fetchall()

    def file_demandes(self, fichier_id: int) -> list[sqlite3.Row]:
        """The demandes of one deposit file, in file order."""
        return self.db.execute("SELECT * FROM demandes WHERE fichier_id = ? ORDER BY num_ligne",
                               (fichier_id,)).fetchall()

    def file_lines(self, fichier_id: int) -> list[dict[str, object]]:
        """The `lignesImport` (LINES) of one deposit file as written."""
        return self._document(fichier_id)[LINES]

    def numeros_ans(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT numero_ans FROM fichiers ORDER BY 1")]

    def files_answered_by(self, digests: tuple[str, str], imp_id: str | None) -> dict[int, sqlite3.Row]:
        """The deposit files a return with one of these digests (`return_digests`), or this
        impId, was recorded for: file id → its first such record (`nom`, `fichier_retour`,
        `enregistre_le`)."""
        rows = self.db.execute(
            "SELECT d.fichier_id, f.nom, r.fichier_retour, r.enregistre_le, min(r.id) FROM retours r "
            "JOIN demandes d ON d.id = r.demande_id JOIN fichiers f ON f.id = d.fichier_id "
            "WHERE r.empreinte IN (?, ?) OR (? IS NOT NULL AND r.imp_id = ?) GROUP BY d.fichier_id",
            (*digests, imp_id, imp_id)).fetchall()
        return {r["fichier_id"]: r for r in rows}

    def recorded_answer(self, fichier_id: int, digests: tuple[str, str]) -> sqlite3.Row | None:
        """The first record (`fichier_retour`, `enregistre_le`) of a return with one of these
        digests (`return_digests`) for the deposit file `fichier_id`, None if there is none."""
        return self.db.execute(
            "SELECT r.fichier_retour, r.enregistre_le FROM retours r JOIN demandes d ON d.id = r.demande_id "
            "WHERE d.fichier_id = ? AND r.empreinte IN (?, ?) ORDER BY r.id LIMIT 1", (fichier_id, *digests)).fetchone()

    def funded_twice(self, demande_ids: Iterable[int] | None = None) -> list[sqlite3.Row]:
        """Avances that may fund one client twice: an avance rejected by the ASP, then live again
        (a later return, confirmed, accepted it), beside an avance of the same numeroAns and
        nature written after that rejection under another numeroEditeur (seed 001: « Si la
        demande est rejetée, un nouveau numéro unique doit être généré par l'éditeur pour
        soumettre à nouveau cette demande »), sharing a FINESS with it. Each: `ne`, `nom`,
        `statut`, `format` of the one rejected before, `autre_ne`, `autre_nom`, `autre_statut`,
        `autre_format` of the other, `communs` (the FINESS they share, « , »), and, for `demande`,
        `fichier_id`, `num_ligne`, `demande_json` of each (`autre_…`). `demande_ids`: only
        those where one of these is either avance (else the whole ledger)."""
        ids = None if demande_ids is None else orjson.dumps(list(demande_ids)).decode()
        return self.db.execute(
            # the avances rejected once and live again, a handful: looked for first, each then
            # against the avances of its numeroAns
            "WITH rejected (id, le) AS MATERIALIZED (SELECT r.demande_id, min(r.enregistre_le) FROM retours r "
            f"JOIN demandes d ON d.id = r.demande_id WHERE r.statut = '{REJETEE}' AND d.nature = 'avance' "
            f"AND d.statut NOT IN {NOT_LIVE} GROUP BY r.demande_id) "
            "SELECT * FROM (SELECT a.id, b.id AS autre_id, a.numero_ans, a.numero_editeur AS ne, fa.nom, a.statut, a.format, "
            "a.fichier_id, a.num_ligne, a.demande_json, b.fichier_id AS autre_fichier_id, b.num_ligne AS autre_num_ligne, "
            "b.demande_json AS autre_demande_json, "
            "b.numero_editeur AS autre_ne, fb.nom AS autre_nom, b.statut AS autre_statut, b.format AS autre_format, "
            "(SELECT group_concat(x.value, ', ') FROM json_each(a.finess) x "
            " WHERE x.value IN (SELECT y.value FROM json_each(b.finess) y)) AS communs "
            "FROM rejected JOIN demandes a ON a.id = rejected.id JOIN fichiers fa ON fa.id = a.fichier_id "
            "JOIN demandes b ON b.numero_ans = a.numero_ans AND b.nature = a.nature "
            "AND b.numero_editeur != a.numero_editeur JOIN fichiers fb ON fb.id = b.fichier_id "
            f"WHERE b.statut NOT IN {NOT_LIVE} AND rejected.le <= fb.ecrit_le AND fb.id > fa.id "
            "AND (? IS NULL OR a.id IN (SELECT value FROM json_each(?)) OR b.id IN (SELECT value FROM json_each(?))) "
            "ORDER BY a.id, b.id) WHERE communs IS NOT NULL", (ids, ids, ids)).fetchall()

    def holds_numero_ans(self, numero_ans: str) -> bool:
        """Whether any demande was recorded under `numero_ans`: not before its first conversion,
        when the queries by numbers or FINESS would still read every one given (the index answers)."""
        return self.db.execute("SELECT 1 FROM demandes WHERE numero_ans = ? LIMIT 1", (numero_ans,)).fetchone() is not None

    def live_naming(self, format_id: str, numero_ans: str, numeros: Iterable[str],
                    finess: Iterable[str]) -> list[sqlite3.Row]:
        """The live demandes (neither rejected nor withdrawn) of `format_id` under `numero_ans`,
        other than `numeros`, holding one of `finess` among their FINESS, oldest first, each with
        `nom` (its file)."""
        finess = list(finess)
        if not finess or not self.holds_numero_ans(numero_ans):
            return []
        return self.db.execute(
            "SELECT d.*, f.nom FROM demandes d JOIN fichiers f ON f.id = d.fichier_id "
            f"WHERE d.numero_ans = ? AND d.format = ? AND d.statut NOT IN {NOT_LIVE} "
            "AND d.numero_editeur NOT IN (SELECT value FROM json_each(?)) "
            "AND EXISTS (SELECT 1 FROM json_each(d.finess) x WHERE x.value IN (SELECT value FROM json_each(?))) "
            "ORDER BY d.id", (numero_ans, format_id, orjson.dumps(list(numeros)).decode(),
                              orjson.dumps(finess).decode())).fetchall()

    def case_twins(self, formats: Iterable[str], numero_ans: str, numeros: Iterable[str]) -> dict[str, list[sqlite3.Row]]:
        """numeroEditeur → the demandes (withdrawn ones aside: never uploaded) of these formats under
        `numero_ans` whose numeroEditeur differs from it by case only (« AB12C » for « ab12c »),
        oldest first, each with `nom` (its file)."""
        formats, numeros = list(formats), list(numeros)
        if not formats or not numeros:
            return {}
        rows = self.db.execute(
            "SELECT d.numero_editeur, d.nature, d.statut, f.nom FROM demandes d JOIN fichiers f ON f.id = d.fichier_id "
            f"WHERE d.numero_ans = ? AND d.numero_editeur COLLATE NOCASE IN (SELECT value FROM json_each(?)) "
            f"AND d.format IN (SELECT value FROM json_each(?)) AND d.statut != '{RETIREE}' ORDER BY d.id",
            (numero_ans, orjson.dumps(numeros).decode(), orjson.dumps(formats).decode())).fetchall()
        folded: dict[str, list[sqlite3.Row]] = {}
        for r in rows:
            folded.setdefault(r["numero_editeur"].casefold(), []).append(r)
        found = {ne: [r for r in folded.get(ne.casefold(), ()) if r["numero_editeur"] != ne] for ne in numeros}
        return {ne: twins for ne, twins in found.items() if twins}

    def avances_for_solde(self, avance_formats: Iterable[str], numero_ans: str,
                          numeros: Iterable[str], other_ans: bool = False) -> dict[str, sqlite3.Row]:
        """numeroEditeur → its newest avance neither rejected nor withdrawn (else its newest rejected
        avance, else its newest withdrawn one, `retire_le` set: never uploaded), for a solde; with
        `other_ans`, under another numeroAns than `numero_ans` (a solde whose avance is not under its own)."""
        formats = list(avance_formats)
        numeros = list(numeros)
        if not formats or not numeros:
            return {}
        rows = self.db.execute(
            "SELECT d.*, f.nom AS fichier, f.retire_le FROM demandes d JOIN fichiers f ON f.id = d.fichier_id "
            f"WHERE d.format IN (SELECT value FROM json_each(?)) AND d.numero_ans {'!=' if other_ans else '='} ? "
            "AND d.numero_editeur IN (SELECT value FROM json_each(?)) "
            f"ORDER BY d.statut = '{RETIREE}' DESC, d.statut = '{REJETEE}' DESC, d.id",
            (orjson.dumps(formats).decode(), numero_ans, orjson.dumps(numeros).decode()),
        ).fetchall()
        return {r["numero_editeur"]: r for r in rows}  # later rows win: live, newest

    def accepted_avances(self, format_id: str, solde_formats: Iterable[str]) -> list[sqlite3.Row]:
        """Accepted avances with a numeroASP whose solde was not deposited (or was rejected)
        in any of `solde_formats` (the solde format and those sharing its numeroEditeur)."""
        return self.db.execute(
            "SELECT d.*, f.nom AS fichier, f.siret AS siret FROM demandes d JOIN fichiers f ON f.id = d.fichier_id "
            "WHERE d.format = ? AND d.statut = ? AND d.numero_asp IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM demandes s WHERE s.format IN (SELECT value FROM json_each(?)) "
            "AND s.numero_ans = d.numero_ans AND s.numero_editeur = d.numero_editeur "
            f"AND s.statut NOT IN {NOT_LIVE}) ORDER BY d.numero_ans, f.siret, d.id",
            (format_id, ACCEPTEE, orjson.dumps(list(solde_formats)).decode()),
        ).fetchall()

    def _asp_return(self, path: Path) -> bool | None:
        """None when `path` is not a return file of the ASP (a deposit file the ASP treated:
        codeTraitement or libelleTraitement filled), else whether it is recorded (`retours`)."""
        try:
            data = path.read_bytes()
            lines = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))[LINES]
            treated = any(line.get("codeTraitement") is not None or line.get("libelleTraitement") is not None
                          for line in lines)
        except (OSError, orjson.JSONDecodeError, TypeError, KeyError, AttributeError):
            return None
        if not treated:
            return None
        digests = return_digests(data.removeprefix(b"\xef\xbb\xbf"))
        return self.db.execute("SELECT 1 FROM retours WHERE empreinte IN (?, ?) LIMIT 1", digests).fetchone() is not None

    def repair(self, name: str, packed: bytes, demandes: Sequence[Facts]) -> sqlite3.Row | None:
        """Give its copy back to the recorded file `name` whose stored copy no longer reads back
        (`readable`), from the same file given to `importer` (`packed`, its demandes `demandes`
        as `record_import` takes them): the same numeroEditeur, at the same lines, with the same
        amounts and FINESS as the ledger recorded. Its demandes' regime, unknown when the copy
        was damaged before version 4, is read from it. Returns the file's row, None when no
        damaged file of that name holds these demandes."""
        def amount(text: str | None) -> Decimal | str | None:  # « 1075.0 » imported, « 1075.00 » checked
            try:
                return Decimal(text) if text is not None else None
            except ArithmeticError:
                return text

        given = [(numero, amount(montant), sorted(orjson.loads(finess)), sorted(orjson.loads(rpps)))
                 for numero, montant, finess, rpps, _ in demandes]
        with self.transaction() as db:
            for row in db.execute("SELECT * FROM fichiers WHERE nom = ? AND contenu IS NOT NULL ORDER BY id DESC",
                                  (name,)).fetchall():
                if readable(row["contenu"]) is not None:
                    continue
                held = [(r["numero_editeur"], amount(r["montant"]), sorted(orjson.loads(r["finess"])), sorted(orjson.loads(r["rpps"])))
                        for r in db.execute("SELECT * FROM demandes WHERE fichier_id = ? ORDER BY num_ligne", (row["id"],))]
                if held != given:
                    continue
                db.execute("UPDATE fichiers SET contenu = ? WHERE id = ?", (packed, row["id"]))
                db.executemany("UPDATE demandes SET regime = ? WHERE fichier_id = ? AND num_ligne = ? AND regime IS NULL",
                               [(regime, row["id"], n) for n, (*_, regime) in enumerate(demandes, start=1)
                                if regime is not None])
                self._last_document = (None, {})
                return row
        return None

    def file_bytes(self, row: sqlite3.Row) -> bytes:
        """The deposit file exactly as written."""
        if row["contenu"] is None:
            raise LedgerError(f"Le registre ne garde pas le contenu de « {row['nom']} » (écrit par une version "
                              "antérieure de xl2segur) : il ne peut pas être réécrit.")
        data = readable(row["contenu"])
        if data is None:
            raise DamagedLedger(row["nom"])
        return data

    def stored(self, row: sqlite3.Row) -> bytes | None:
        """The deposit file as written, None when the ledger keeps no readable copy (`readable`)."""
        return readable(row["contenu"])

    def answered(self, fichier_id: int) -> int:
        """How many demandes of a recorded file the ASP answered for: then it was uploaded."""
        return self.db.execute("SELECT count(*) FROM demandes WHERE fichier_id = ? AND statut IN (?, ?)",
                               (fichier_id, ACCEPTEE, REJETEE)).fetchone()[0]


class Ledger(_FolderSide, _ReturnsSide):
    """The ledger of deposits: opening it, and the deposit side (`_FolderSide`, `_ReturnsSide`: the rest)."""

    def __init__(self, path: Path, *, create: bool = True, reading: bool = False):
        """`reading`: the command only reads (etat, solde): a ledger it cannot write (on a
        read-only medium, a share where one may only read) is read as it is."""
        self.path = Path(path)
        self._last_document: tuple[int | None, dict[str, object]] = (None, {})
        self._quiet = QuietDeposits()
        self._named: list[int] = []  # files named, to mark done (`named`)
        self._folders: dict[Path, Path] = {}  # deposit folder → resolved (`_resolved`)
        self.read_only = False  # `reading`, and read as it is (`_read_only`)
        if not create:
            _found(self.path, create)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file where its folder should be, a folder one may not create
            raise LedgerError(f"Le dossier du registre « {self.path.parent} » ne peut pas être créé ({why(exc)}) : "
                              "vérifiez le chemin donné (--registre ou XL2SEGUR_REGISTRE).") from exc
        try:
            # one thread at a time, but not always the one that opened it (concurrency.record_each)
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                      check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _refuse_foreign(self.db, self.path)
            self.shared = shared(self.path)
            self._set_journal("DELETE" if self.shared else "WAL")
            # WAL with NORMAL, or a rollback journal with FULL, never corrupts the ledger; a power
            # cut may lose the last commits with WAL, not break the file. FULL in WAL made each
            # deposit file wait on two syncs.
            self.db.execute(f"PRAGMA synchronous = {'FULL' if self.shared else 'NORMAL'}")
            self.db.execute("PRAGMA foreign_keys = ON")
            with self.transaction():
                version = self.db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise LedgerError(f"Le registre « {self.path} » a été écrit par une version plus récente "
                                      "de xl2segur : mettez xl2segur à jour.")
                _upgrade(self.db, version)
        except sqlite3.DatabaseError as exc:
            if hasattr(self, "db"):  # else it failed to open
                self.db.close()
            if reading and _not_writable(self.path, exc):
                self.db, self.shared, self.read_only = _read_only(self.path), shared(self.path), True
                return
            raise _unusable(self.path, exc) from exc

    def _set_journal(self, mode: str) -> None:
        """WAL on a local disk (a commit in half a millisecond; a rollback journal syncs three
        times, 15 ms a deposit file, 7 s for 500 files); DELETE for a shared ledger (`shared`):
        WAL keeps its index in shared memory, which two machines do not share (SQLite: « WAL
        does not work over a network filesystem »)."""
        _unlocked(self.db, f"PRAGMA journal_mode = {mode}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        """Closes the ledger. SQLite failing meanwhile (its disk full, a file made read-only, a
        lock held by another conversion for longer than the wait) is said as the ledger's, in
        French: the transaction it stopped was rolled back, nothing it did not record was done."""
        try:
            self.close()
        except sqlite3.OperationalError as closing:
            exc = exc or closing
        if isinstance(exc, DamagedLedger):
            raise _damaged(self.path, exc.name) from exc
        # the file or its disk (full, read-only, locked, damaged), not a query of ours (IntegrityError…: a bug)
        if isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError:
            advice = next((a for en, a in _SQLITE_ADVICE.items() if en in _said(exc)), "Vérifiez son disque")
            raise LedgerError(f"Le registre « {self.path} » n'a pas pu être mis à jour ({_french(exc)}) : ce qui "
                              f"n'y est pas inscrit n'a pas été fait, rien n'est perdu. {advice}, puis relancez la "
                              "commande.") from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One writer at a time: BEGIN IMMEDIATE takes the write lock (waiting up to the busy timeout).
        Inside another transaction, it joins it: what the outer one read under the lock and what
        this one writes commit together (returns.ingest: a contradiction checked, then recorded)."""
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            if self.db.in_transaction:  # SQLite rolls some back by itself (a full disk): its error is the one to say
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ------------------------------------------------------------ deposits

    def max_rank(self, numero_ans: str, day: date) -> int:
        found = self.db.execute("SELECT max(rang) FROM fichiers WHERE numero_ans = ? AND date_depot = ?",
                                (numero_ans, day.isoformat())).fetchone()[0]
        return found or 0

    def already_deposited(self, formats: Iterable[str], numero_ans: str, numeros: Iterable[str]) -> dict[str, str]:
        """numeroEditeur → file name, for those live in a deposit of one of these formats
        (written, pending included, and neither rejected nor withdrawn)."""
        return {ne: r["nom"] for ne, r in self.live_deposits(formats, numero_ans, numeros).items()}

    def live_deposits(self, formats: Iterable[str], numero_ans: str, numeros: Iterable[str]) -> dict[str, sqlite3.Row]:
        """numeroEditeur → its newest live deposit in one of these formats: the file's name
        (`nom`) and what the ledger holds of the demande (`montant`, `finess`, `rpps`)."""
        return self._deposits(formats, numero_ans, numeros, f"d.statut NOT IN {NOT_LIVE}")

    def rejected_deposits(self, formats: Iterable[str], numero_ans: str, numeros: Iterable[str]) -> dict[str, str]:
        """numeroEditeur → file name of its newest deposit rejected by the ASP, in one of these formats."""
        return {ne: r["nom"] for ne, r in self.rejected_rows(formats, numero_ans, numeros).items()}

    def rejected_rows(self, formats: Iterable[str], numero_ans: str, numeros: Iterable[str]) -> dict[str, sqlite3.Row]:
        """numeroEditeur → its newest deposit rejected by the ASP in one of these formats (`nom`: its file)."""
        return self._deposits(formats, numero_ans, numeros, f"d.statut = '{REJETEE}'")

    def _deposits(self, formats: Iterable[str], numero_ans: str, numeros: Iterable[str],
                  status: str) -> dict[str, sqlite3.Row]:
        formats, numeros = list(formats), list(numeros)
        if not formats or not numeros:
            return {}
        # nothing deposited for that numeroAns (a first conversion): the query below would still
        # read the whole list (23 ms for 100,000 numbers), the index answers at once
        if not self.holds_numero_ans(numero_ans):
            return {}
        rows = self.db.execute(
            "SELECT d.*, f.nom, f.chemin, f.en_attente FROM demandes d "
            "JOIN fichiers f ON f.id = d.fichier_id "
            f"WHERE d.format IN (SELECT value FROM json_each(?)) AND d.numero_ans = ? AND {status} "
            "AND d.numero_editeur IN (SELECT value FROM json_each(?)) ORDER BY d.id",
            (orjson.dumps(formats).decode(), numero_ans, orjson.dumps(numeros).decode()),
        ).fetchall()
        return {r["numero_editeur"]: r for r in rows}  # later rows win: the newest

    def record_pending(self, record: DepositRecord, folder: Places) -> Pending:
        """Record one checked deposit file pending (`record.run`), with its demandes, under the
        path `folder.place(floor)` gives: the next free rank, at least one more than the highest
        the ledger knows for that numeroAns and day. Committed BEFORE the caller names the file
        (deposit.publish): whatever stops the process then, no file bears a name the ledger does
        not know. The caller then names it, or `forget`s it (the name was taken meanwhile: it
        records again, at the next rank); `finish(run)` marks the run's files done; `reconcile`
        settles those of a dead run.

        A demande deposited meanwhile by another run (same numeroAns and numeroEditeur, in one of
        `record.formats`) stops the deposit; so does, with `record.refuse_rejected`, a demande
        whose rejection by the ASP was recorded meanwhile.
        """
        done = list(self._named)
        with self.transaction() as db:
            floor = self._quiet.floor(db, record)
            if floor is None:  # another connection wrote since this run's last deposit: look again
                self._refuse_deposited_meanwhile(record)
                floor = self.max_rank(record.numero_ans, record.day)
            placed = folder.place(floor + 1)
            fichier_id = self._insert(db, self._resolved(placed.path), record.format_id, record.nature, record.numero_ans,
                                      record.siret, record.day, placed.rank, record.packed, record.demandes,
                                      pending=record.run)
            self._mark_done(db, done)
        del self._named[:len(done)]
        self._quiet.remember(placed.rank)
        return Pending(fichier_id, placed.path)

    def _resolved(self, path: Path) -> Path:
        """`path.resolve()` of a name not taken yet, its folder resolved once: `resolve` looks
        at each part of a path, a dozen system calls for each deposit file, in the recording
        thread (each one gives the GIL away, and waits to get it back)."""
        folder = self._folders.get(path.parent)
        if folder is None:
            folder = self._folders[path.parent] = path.parent.resolve()
        return folder / path.name

    def named(self, pending: Pending) -> None:
        """`pending` got its name: it is marked done with the next deposit (`record_pending`, in
        the same transaction), or by `finish`. Marking each file done rewrites its row, content
        included: in the recording thread, while the next files render, rather than all at the
        end of the run."""
        self._named.append(pending.fichier_id)

    @staticmethod
    def _mark_done(db: sqlite3.Connection, fichier_ids: list[int]) -> None:
        if fichier_ids:
            db.execute("UPDATE fichiers SET en_attente = NULL WHERE id IN (SELECT value FROM json_each(?))",
                       (orjson.dumps(fichier_ids).decode(),))

    def _refuse_deposited_meanwhile(self, record: DepositRecord) -> None:
        numeros = [facts[0] for facts in record.demandes]
        twice = self.already_deposited(record.formats, record.numero_ans, numeros)
        if twice:
            listed = by_file(twice)
            raise LedgerError(f"Des demandes viennent d'être déposées par une autre conversion : {listed}. "
                              "Relancez la conversion : elles seront signalées.")
        rejected = self.rejected_deposits(record.formats, record.numero_ans, numeros) if record.refuse_rejected else {}
        if rejected:
            listed = by_file(rejected)
            raise LedgerError(f"Le rejet par l'ASP de demandes vient d'être enregistré au registre : {listed}. "
                              "Relancez la conversion : elles seront signalées.")

    def record_archives(self, pending: Pending, archives: list[Path]) -> None:
        """What the zips of `pending`, just written, hold (`members`), before it is named."""
        with self.transaction() as db:
            db.executemany("INSERT INTO archives (fichier_id, nom, membres) VALUES (?, ?, ?)",
                           [(pending.fichier_id, a.name, orjson.dumps(members(a)).decode()) for a in archives])

    def recorded_archives(self, fichier_id: int) -> dict[str, list[list[object]]]:
        """Zip name → what it held when the conversion wrote it (empty: written without --pieces,
        or by an older version)."""
        return {r["nom"]: orjson.loads(r["membres"]) for r in
                self.db.execute("SELECT nom, membres FROM archives WHERE fichier_id = ? ORDER BY id", (fichier_id,))}

    def forget(self, pending: Pending) -> None:
        """Drop a pending file that never got its name, and its demandes."""
        self._forget(pending.fichier_id)

    def _done(self, fichier_id: int) -> None:
        """A pending file settled as named: done."""
        with self.transaction() as db:
            db.execute("UPDATE fichiers SET en_attente = NULL WHERE id = ?", (fichier_id,))

    def _forget(self, fichier_id: int) -> None:
        """Drop a pending file that never got its name, and its demandes."""
        self._quiet.clear()
        with self.transaction() as db:
            db.execute("DELETE FROM demandes WHERE fichier_id = ?", (fichier_id,))
            db.execute("DELETE FROM fichiers WHERE id = ?", (fichier_id,))  # its archives too (ON DELETE CASCADE)

    def finish(self) -> None:
        """The files this conversion recorded and named are done (one statement for those not marked yet).
        Only those named: one the run could not `forget` (its disk full) stays pending, for the
        next run to settle by its temporary (`reconcile`), never marked done without a file."""
        with self.transaction() as db:
            self._mark_done(db, self._named)
        self._named.clear()


    @staticmethod
    def _insert(db: sqlite3.Connection, path: Path, format_id: str, nature: str, numero_ans: str, siret: str,
                day: date, rank: int, packed: bytes, demandes: Sequence[Facts], pending: str | None = None) -> int:
        """Record one deposit file (`path`, resolved) and its demandes (their `Facts`, in file order),
        inside a transaction; `pending`: the run that has yet to name it. Returns the file's id."""
        cursor = db.execute(
            "INSERT INTO fichiers (nom, chemin, format, nature, numero_ans, siret, date_depot, rang, ecrit_le, "
            "contenu, en_attente) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (path.name, str(path), format_id, nature, numero_ans, siret, day.isoformat(), rank,
             datetime.now().isoformat(timespec="seconds"), packed, pending),
        )
        # one statement for the file's demandes (as many as SQLite binds values): executemany
        # lets go of the GIL, and waits to get it back, once per row
        per_statement = (db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - 4) // 6
        for start in range(0, len(demandes), per_statement):
            rows = demandes[start:start + per_statement]
            values: list[object] = [cursor.lastrowid, format_id, nature, numero_ans]
            for line, (numero, montant, finess, rpps, regime) in enumerate(rows, start=start + 1):
                values += (numero, line, montant, finess, rpps, regime)
            db.execute(_inserting_demandes(len(rows)), values)
        return cursor.lastrowid

    def record_import(self, *, path: Path, format_id: str, nature: str, numero_ans: str, siret: str, day: date,
                      rank: int, packed: bytes, demandes: Sequence[Facts], formats: Iterable[str],
                      refuse_rejected: bool = False) -> None:
        """Record a deposit file written before xl2segur (`xl2segur importer`) as it is, under the
        write lock. LedgerError, nothing recorded, when one of its demandes is already in the
        ledger, deposited and not rejected, in one of `formats` (or rejected, with
        `refuse_rejected`), or when a file of that name is."""
        self._quiet.clear()  # the next deposit looks again
        with self.transaction() as db:
            numeros = [facts[0] for facts in demandes]
            for found, reason in ((self.already_deposited(formats, numero_ans, numeros), "déjà déposées, non rejetées"),
                                  (self.rejected_deposits(formats, numero_ans, numeros) if refuse_rejected else {},
                                   "rejetées par l'ASP, qui exige un nouveau numéro éditeur")):
                if found:
                    listed = by_file(found)
                    raise LedgerError(f"des demandes sont au registre, {reason} : {listed}")
            same = db.execute("SELECT retire_le FROM fichiers WHERE nom = ? ORDER BY id DESC", (path.name,)).fetchone()
            if same and same["retire_le"] is not None:  # withdrawn, then found to be uploaded after all
                raise LedgerError(f"un fichier nommé {path.name} est au registre, retiré le {same['retire_le']} : s'il a "
                                  f"été déposé sur le portail, annulez ce retrait avec « xl2segur retirer --annuler "
                                  f"{path.name} » (ses demandes sont de nouveau inscrites, son retour s'enregistre "
                                  "ensuite)")
            if same:  # another deposit under that name: written with another ledger the same day, same rank
                raise LedgerError(f"un autre fichier de dépôt, avec d'autres demandes, est déjà inscrit au registre sous "
                                  f"le nom {path.name} (écrit avec un autre registre le même jour, au même rang) : deux "
                                  "dépôts ne peuvent pas y porter le même nom. Si celui-ci a bien été déposé sur le "
                                  f"portail, inscrivez-en une copie sous un autre nom (par exemple « collegue-{path.name} »), "
                                  "datée du jour de sa dernière modification")
            self._insert(db, path.resolve(), format_id, nature, numero_ans, siret, day, rank, packed, demandes)



@lru_cache(maxsize=16)
def _inserting_demandes(count: int) -> str:
    """The statement that records `count` demandes of one file: the file's values bound once
    (?1 to ?4), then six for each demande, in file order (ids follow the lines).

    >>> _inserting_demandes(2).count("?")
    20
    """
    return ("INSERT INTO demandes (fichier_id, format, nature, numero_ans, numero_editeur, num_ligne, montant, finess, "
            "rpps, regime) VALUES " + ", ".join(["(?1, ?2, ?3, ?4, ?, ?, ?, ?, ?, ?)"] * count))


_SQLITE_FRENCH = {
    "unable to open database file": "impossible d'ouvrir ou de créer le fichier",
    "attempt to write a readonly database": "fichier ou dossier en lecture seule",
    "file is not a database": "ce n'est pas une base SQLite",
    "database disk image is malformed": "fichier abîmé",
    "database or disk is full": "disque plein",
    "disk I/O error": "erreur de lecture ou d'écriture sur le disque",
    "database is locked": "occupé par une autre commande xl2segur depuis plus d'une minute",
}
_SQLITE_ADVICE = {
    "database or disk is full": "Libérez de la place sur son disque",
    "readonly": "Rendez-le accessible en écriture, lui et son dossier",
    "database is locked": "Attendez la fin de l'autre commande",
    "malformed": "Remplacez-le par sa dernière sauvegarde (puis « xl2segur importer » les fichiers de dépôt écrits depuis)",
}


def _upgrade(db: sqlite3.Connection, version: int) -> None:
    """Bring the ledger `db`, of schema `version`, to this one (in the caller's transaction),
    and add the tables added without a new schema version (`_ADDITIONS`)."""
    if version < SCHEMA_VERSION:
        # PRAGMA foreign_keys cannot change inside a transaction; the rebuild keeps the ids
        for statement in filter(str.strip, _MIGRATIONS[version].split(";")):
            db.execute(statement)
        if version:
            _fill_regimes(db)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    for statement in filter(str.strip, _ADDITIONS.split(";")):
        db.execute(statement)


def _fill_regimes(db: sqlite3.Connection) -> None:
    """The `regime` of every demande recorded before version 4, read as `etat` read it: from the
    demande as deposited (`_ReturnsSide.demande`: its own JSON under version 1, else its line of
    its file's stored content), at its format's `advance_regime` balise, when it is text. Each
    file decompressed once. A file whose stored content no longer reads back leaves its
    demandes' regime unknown (NULL): before version 4, only the commands that read it failed on
    it (etat, reecrire); refusing the migration locked every command out (`status.unread` names
    it, `importer` gives the copy back: `fill_regimes_of`)."""
    from .formats import all_formats  # not at the top: the ledger opens without the formats otherwise

    paths = {f: d.json_path(d.advance_regime) or () for f, d in all_formats().items() if d.advance_regime}
    if not paths:
        return
    listed = orjson.dumps(list(paths)).decode()
    found = []
    for i, f, own in db.execute("SELECT id, format, demande_json FROM demandes WHERE demande_json IS NOT NULL "
                                "AND format IN (SELECT value FROM json_each(?))", (listed,)):
        with contextlib.suppress(orjson.JSONDecodeError):
            found.append((_regime(orjson.loads(own), paths[f]), i))
    db.executemany("UPDATE demandes SET regime = ? WHERE id = ?", [r for r in found if r[0] is not None])
    files = db.execute("SELECT DISTINCT d.fichier_id, d.format FROM demandes d JOIN fichiers f ON f.id = d.fichier_id "
                       "WHERE d.demande_json IS NULL AND d.format IN (SELECT value FROM json_each(?)) "
                       "AND f.contenu IS NOT NULL", (listed,)).fetchall()
    for fichier_id, format_id in files:
        packed = db.execute("SELECT contenu FROM fichiers WHERE id = ?", (fichier_id,)).fetchone()[0]
        fill_regimes_of(db, fichier_id, readable(packed), paths[format_id])


def fill_regimes_of(db: sqlite3.Connection, fichier_id: int, data: bytes | None, path: tuple[str, ...]) -> None:
    """The `regime` of each demande of the recorded file `fichier_id`, from its content `data`
    (the value at `path` of its line, when it is text); nothing when `data` is None or not a
    deposit file's JSON."""
    try:
        lines = orjson.loads(data)[LINES] if data is not None else None
        found = [(_regime(line, path), fichier_id, n) for n, line in enumerate(lines or (), start=1)]
    except (orjson.JSONDecodeError, TypeError, KeyError):
        return
    db.executemany("UPDATE demandes SET regime = ? WHERE fichier_id = ? AND num_ligne = ? AND demande_json IS NULL",
                   [r for r in found if r[0] is not None])


def _regime(demande: object, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        demande = demande.get(key) if isinstance(demande, dict) else None
    return demande if isinstance(demande, str) else None


def _refuse_foreign(db: sqlite3.Connection, path: Path) -> None:
    """Another program's SQLite database given as the ledger (--registre, XL2SEGUR_REGISTRE) is
    refused before anything is written into it: neither our tables nor the journal mode. A
    ledger is a new database (no table, version 0: it becomes one) or has our tables and a
    version; every version of xl2segur set it in the transaction that made the tables."""
    # one statement, one read: another run creating the same new ledger commits in between
    version, names = _unlocked(
        db, "SELECT (SELECT user_version FROM pragma_user_version), (SELECT json_group_array(name) FROM "
        "(SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name))")[0]
    tables = orjson.loads(names)
    if (version == 0 and not tables) or (version > 0 and {"fichiers", "demandes"} <= set(tables)):
        return
    db.close()
    held = f"ses tables : {', '.join(tables[:5])}{'…' if len(tables) > 5 else ''}" if tables else "aucune table"
    raise LedgerError(f"Le fichier « {path} » n'est pas un registre xl2segur : c'est la base SQLite d'un "
                      f"autre programme ({held}). Rien n'y a été écrit. Indiquez avec --registre (ou "
                      "XL2SEGUR_REGISTRE) le fichier xl2segur.sqlite écrit par « xl2segur convertir », ou un "
                      "nom de fichier qui n'existe pas encore pour commencer un registre.")


def _unlocked(db: sqlite3.Connection, statement: str) -> list[sqlite3.Row]:
    """`statement`'s rows. SQLite answers « locked » at once, without waiting on the busy
    timeout, while another connection creates or switches the same file: retry."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            return db.execute(statement).fetchall()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)


def by_file(found: dict[str, str], shown: int = 5) -> str:
    """numeroEditeur → file, said briefly: by file, the first few of each, then how many more.

    >>> by_file({"00001": "JSON-a.json", "00002": "JSON-a.json", "00003": "JSON-b.json"})
    '00001, 00002 (JSON-a.json), 00003 (JSON-b.json)'
    >>> by_file({f"{i:05d}": "JSON-a.json" for i in range(1, 201)})
    '00001, 00002, 00003, 00004, 00005 et 195 autres (JSON-a.json)'
    """
    files: dict[str, list[str]] = {}
    for ne, name in found.items():
        files.setdefault(name, []).append(ne)
    return ", ".join(", ".join(numeros[:shown]) + (f" et {len(numeros) - shown} autres" if len(numeros) > shown else "")
                     + f" ({name})" for name, numeros in files.items())


def _unusable(path: Path, exc: sqlite3.DatabaseError) -> LedgerError:
    """Why the ledger `path` could not be opened, and what to do."""
    if _not_writable(path, exc):
        return LedgerError(f"Le registre « {path} » est en lecture seule (son disque, son dossier ou lui-même) : cette "
                           "commande doit y écrire, rien n'a été fait. Rendez-le accessible en écriture, lui et son "
                           "dossier, puis relancez la commande (« xl2segur etat » le lit tel quel).")
    # held by another command, its disk full: the file is sound, and nothing was done yet
    if "database is locked" in str(exc) or "database or disk is full" in _said(exc):
        advice = next(a for en, a in _SQLITE_ADVICE.items() if en in _said(exc))
        return LedgerError(f"Le registre « {path} » n'est pas utilisable ({_french(exc)}) : rien n'a été fait. "
                           f"{advice}, puis relancez la commande.")
    return LedgerError(f"Le registre « {path} » n'est pas utilisable ({_french(exc)}) : vérifiez qu'il s'agit bien "
                       "d'un fichier xl2segur.sqlite, et que lui et son dossier sont accessibles en écriture.")


def _read_only(path: Path) -> sqlite3.Connection:
    """The ledger `path` opened read-only, as it is, no table added nor migrated (`Ledger`,
    `reading`). A ledger in WAL mode needs its shared-memory file beside it, which a read-only
    medium cannot hold: then it is read as immutable (no one writes there)."""
    uri = Path(os.path.abspath(path)).as_uri()
    for options in ("?mode=ro", "?mode=ro&immutable=1"):
        if options.endswith("immutable=1"):
            _refuse_unread_journal(path)
        db = sqlite3.connect(uri + options, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                             check_same_thread=False)
        db.row_factory = sqlite3.Row
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            break
        except sqlite3.OperationalError as exc:
            db.close()
            if options.endswith("immutable=1"):
                raise LedgerError(f"Le registre « {path} » ne peut pas être lu ({_french(exc)}) : vérifiez que lui "
                                  "et son dossier sont accessibles.") from exc
    if version > SCHEMA_VERSION:
        db.close()
        raise LedgerError(f"Le registre « {path} » est en lecture seule (disque ou fichier) et a été écrit par une "
                          "version plus récente de xl2segur : il ne peut pas être lu ici. Mettez xl2segur à jour.")
    if version < SCHEMA_VERSION:
        # an older version's: brought up to date in memory, as opening it writable would on disk
        # (the file is not written); a year's ledger is a few tens of Mo
        upgraded = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        upgraded.row_factory = sqlite3.Row
        try:
            db.backup(upgraded)
        finally:
            db.close()
        _upgrade(upgraded, version)
        return upgraded
    # the tables added without a schema version (_ADDITIONS), missing from a ledger of version 3
    # written before them: empty, as opening it writable would add them, in the connection's
    # own temporary schema (the file is not written); « no such table » is no disk's fault
    for statement in filter(str.strip, _ADDITIONS.split(";")):
        table = re.match(r"\s*CREATE TABLE IF NOT EXISTS (\w+)", statement)
        if table and db.execute("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?",
                                (table[1],)).fetchone() is None:
            db.execute(statement.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
    return db


def _refuse_unread_journal(path: Path) -> None:
    """Read as immutable, a ledger is read without its `-wal` journal: the last deposits and
    returns written there (a ledger copied while a command used it, a command killed) would be
    missing from what etat, solde and reecrire show, and nothing would say so. LedgerError."""
    wal = Path(f"{path}-wal")
    try:
        held = wal.stat().st_size > 0
    except OSError:
        return  # no journal: the file holds everything
    if held:
        raise LedgerError(f"Le registre « {path} » est en lecture seule (disque ou fichier), et son journal « {wal.name} », "
                          "à côté de lui, contient peut-être des enregistrements qu'il n'a pas encore intégrés (registre "
                          "copié pendant qu'une commande l'utilisait, ou commande interrompue) : lu ici sans ce journal, "
                          "il pourrait être incomplet. Copiez le registre et son fichier « -wal » ensemble dans un dossier "
                          "accessible en écriture, et donnez cette copie à la commande (--registre).")


def _not_writable(path: Path, exc: sqlite3.Error) -> bool:
    """Whether SQLite failed on the ledger `path` because it cannot write there (a read-only
    medium, file or folder), the file being there to read."""
    return ("readonly" in str(exc) or "unable to open database file" in str(exc)) and path.is_file() \
        and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def _said(exc: sqlite3.Error) -> str:
    """What SQLite says of `exc`; « disk I/O error » when it could not grow the shared-memory
    index of the write-ahead log (`xl2segur.sqlite-shm`) is its disk full, as its extended code
    (SQLITE_IOERR_SHMSIZE) tells: said so, not « check that it is a ledger »."""
    return "database or disk is full" if getattr(exc, "sqlite_errorname", None) == "SQLITE_IOERR_SHMSIZE" else str(exc)


def _french(exc: sqlite3.Error) -> str:
    """SQLite's reason in French when we know it, else as SQLite says it."""
    text = _said(exc)
    return next((fr for en, fr in _SQLITE_FRENCH.items() if en in text), text)


_DEPOSIT_NAME = re.compile(r"^JSON-.*\.json$", re.IGNORECASE)


def _recorded_as(db: sqlite3.Connection, path: Path, withdrawn: bool = False) -> sqlite3.Row | None:
    """The file recorded in the ledger `db`, not withdrawn (or withdrawn), whose content `path`
    holds byte for byte (or as JSON, or, its stored copy damaged, by its demandes): its `nom`
    and `retire_le`."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    rows = db.execute("SELECT id, nom, retire_le, contenu, numero_ans FROM fichiers WHERE contenu IS NOT NULL "
                      f"AND retire_le IS {'NOT ' if withdrawn else ''}NULL ORDER BY id DESC").fetchall()
    for row in rows:
        # the packed frame tells its size: only a file of the same size is unpacked
        if _size(row["contenu"]) == len(data) and readable(row["contenu"]) == data:
            return row
    # an imported file is recorded as deposited, not byte for byte (a BOM, CRLF, indented):
    # its JSON, among the files of its numeroAns
    try:
        document = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError:
        return None
    numero_ans = document.get("numeroAns") if isinstance(document, dict) else None
    mine = [row for row in rows if row["numero_ans"] == numero_ans]
    found = next((row for row in mine if (stored := readable(row["contenu"])) is not None
                  and orjson.loads(stored) == document), None)
    # a file whose stored copy is damaged: known by the demandes the ledger holds of it
    return found or next((row for row in mine if readable(row["contenu"]) is None
                          and _holds_recorded_numeros(db, path, row["id"])), None)


def _holds_demandes(path: Path, row: sqlite3.Row) -> bool:
    """Whether the file `path`, at the path where the file `row` was recorded (`contenu`,
    `ecrit_le`), still holds its demandes: untouched since (its size, no later change; reading
    every file of a folder of 500 would cost a second), else the same numeroEditeur in the same
    order (a file written again, or imported: kept as deposited, written anew).

    « No later change » reads two times: a copy keeps the modification time of its source
    (Windows Explorer, the Finder, `cp -p`, a backup restored), so an older file of the same
    size copied over this one would pass on it alone; its change time (POSIX: any write,
    rename or copy sets it, no program can set it back) or its creation time (Windows) is the
    copy's. A file that fails this is read: slower, never wrong."""
    if row["contenu"] is None:  # version 1 kept no content: nothing to compare
        return True
    try:
        found = path.stat()
        if found.st_size == _size(row["contenu"]) and \
                max(found.st_mtime, found.st_ctime) <= datetime.fromisoformat(row["ecrit_le"]).timestamp() + 2:
            return True
        return _same_numeros(path, row)
    except (OSError, ValueError):
        return False


def _same_numeros(path: Path, row: sqlite3.Row) -> bool:
    """Whether the file `path` holds the demandes of the recorded file `row` (`contenu`): the
    same numeroEditeur, in the same order."""
    try:
        data = readable(row["contenu"])
        if data is None:  # damaged: the ledger's demandes tell (`_holds_recorded_numeros`)
            return False
        recorded = _numeros(data)
        return recorded is not None and _numeros(path.read_bytes()) == recorded
    except OSError:
        return False


def _holds_recorded_numeros(db: sqlite3.Connection, path: Path, fichier_id: int) -> bool:
    """Whether the file `path` holds the demandes the ledger recorded for the file
    `fichier_id` (their numeroEditeur, in order): a file whose stored copy is damaged."""
    try:
        found = _numeros(path.read_bytes())
    except OSError:
        return False
    return found == [ne for (ne,) in db.execute(
        "SELECT numero_editeur FROM demandes WHERE fichier_id = ? ORDER BY num_ligne", (fichier_id,))]


def _numeros(data: bytes) -> list[object] | None:
    """The numeroEditeur of a deposit file's demandes, in order; None when it is not one. A BOM
    is no part of it: a file saved by a Windows tool, imported as it is (`importer` reads it)."""
    try:
        lines = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))[LINES]
        return [line["numeroEditeur"] for line in lines]
    except (orjson.JSONDecodeError, TypeError, KeyError):
        return None


def return_digests(body: bytes) -> tuple[str, str]:
    """(digest of its content, digest of its bytes) of a return file (without its BOM): the
    first is recorded (`retours.empreinte`), both are looked for (versions before it recorded
    the bytes'). The content's is the JSON with its keys sorted, compact: the same return
    opened and saved again by an editor (indented, CRLF line ends, keys in another order) is
    known as the same. SHA-256 of both; `body` is JSON already read."""
    content = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(content).hexdigest(), hashlib.sha256(body).hexdigest()


def _same_file(path: Path, data: bytes) -> bool:
    """Whether the file `path` holds the recorded file `data`: its bytes, or its JSON (an
    imported file is recorded as deposited, not byte for byte)."""
    try:
        found = path.read_bytes()
        return found == data or orjson.loads(found.removeprefix(b"\xef\xbb\xbf")) == orjson.loads(data)
    except (OSError, orjson.JSONDecodeError):
        return False


def _holds(path: Path, data: bytes) -> bool:
    """Whether the file `path` exists with exactly `data`."""
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def zips_of(path: Path) -> list[Path]:
    """The zip archives of the deposit file `path` (`<stem>.zip`, `<stem>-N.zip`) beside it."""
    return [z for z in path.parent.glob(f"{path.stem}*.zip") if re.fullmatch(rf"{re.escape(path.stem)}(-\d+)?\.zip", z.name)]


def members(archive: Path) -> list[list[object]]:
    """[name, size, CRC-32] of each member of the zip `archive` (its central directory)."""
    with zipfile.ZipFile(archive) as zf:
        return [[info.filename, info.file_size, info.CRC] for info in zf.infolist()]


def _drop_zips(path: Path, data: bytes) -> None:
    """Remove the zip archives written for the deposit file `path` (content `data`), still under
    its temporary name: its zips were written before it would be named, and a zip must never
    stay under its name without its file. Those whose members are all attachments it declares
    (a zip of the user's own under that name is left alone); before the ledger forgets it, so
    that a run killed in between does it again."""
    try:
        lines = orjson.loads(data)[LINES]
        declared = {piece["nomFichier"] for line in lines for value in line.values() if isinstance(value, list)
                    for piece in value if isinstance(piece, dict) and "nomFichier" in piece}
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return
    for archive in zips_of(path):
        drop_placeholder(archive)
        try:
            with zipfile.ZipFile(archive) as zf:
                names = zf.namelist()
        except (OSError, zipfile.BadZipFile):
            continue
        if names and set(names) <= declared:
            with contextlib.suppress(OSError):
                archive.unlink()


def drop_placeholder(path: Path) -> bool:
    """Remove the empty file that holds the name `path` of a file never named there: on a disk
    without hard links (FAT, exFAT), `files.publish` creates the name empty (only one run gets
    it), then replaces it with the file; a run killed in between left it, and the folder would
    be refused for it (a `JSON-…` file the ledger does not know). An empty file holds nobody's
    work. Returns whether it was one."""
    try:
        if path.is_file() and path.stat().st_size == 0:
            path.unlink()
            return True
    except OSError:
        pass
    return False


def move_with_zips(path: Path, into: Path, kept: list[Path] | None = None) -> Path | None:
    """Move a deposit file, and its zip archives (`<stem>.zip`, `<stem>-N.zip`), into the folder
    `into`; the file gone (moved by hand), its zips all the same, left beside its name they could
    be uploaded. Never over a file there: should a name be taken, the file and its zips all take
    one suffix « (2) », « (3) »… (`JSON-…-001 (2).json`, `JSON-…-001 (2).zip`,
    `JSON-…-001 (2)-2.zip`), never `JSON-…-001-2.zip`, the name of a deposit file's second
    archive. Returns the file's new path, None when it was not there (or, `kept` given, stayed).

    `kept` given (a file brought back from retires/ into its deposit folder): each takes its own
    name or stays where it is, listed in `kept`, never suffixed: a deposit file and its archives
    are uploaded under their exact names, and a file of the folder holding one of them (a zip
    no ledger knows) is neither replaced nor renamed. The file moves last: a run stopped
    halfway leaves it in retires/, where `retirer --annuler` run again finds it, with the rest.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     for name in ("JSON-1-20240312-001.json", "JSON-1-20240312-001.zip", "retires/JSON-1-20240312-001.zip"):
    ...         (Path(d) / name).parent.mkdir(exist_ok=True)
    ...         _ = (Path(d) / name).write_bytes(b"{}")
    ...     move_with_zips(Path(d) / "JSON-1-20240312-001.json", Path(d) / "retires").name
    ...     sorted(p.name for p in (Path(d) / "retires").iterdir())
    'JSON-1-20240312-001 (2).json'
    ['JSON-1-20240312-001 (2).json', 'JSON-1-20240312-001 (2).zip', 'JSON-1-20240312-001.zip']
    """
    # an empty file under one of these names, here or there, is the name a move killed on a disk
    # without hard links created before the file replaced it (`drop_placeholder`): dropped, it
    # would take the file's name (set aside as « (2) »), or come back in its stead
    items = [item for item in ([path] if path.is_file() else []) + zips_of(path) if not drop_placeholder(item)]
    for item in items:
        drop_placeholder(into / item.name)
    if kept is not None:
        items = items[::-1]  # the file last (see above); its zips' order does not matter
    if not items:
        return None
    try:
        into.mkdir(exist_ok=True)
    except OSError as exc:
        raise LedgerError(f"Impossible de créer le dossier « {into} » ({why(exc)}) : vérifiez les droits d'accès.") from exc
    if kept is not None:
        back = {}
        for item in items:
            try:
                moved_to = into / item.name
                if publish(item, moved_to, synced=True):
                    item.unlink(missing_ok=True)  # a hard link: the old name goes
                    back[item] = moved_to
                else:
                    kept.append(item)
            except OSError as exc:
                raise LedgerError(f"Impossible de déplacer « {item} » vers « {into} » ({why(exc)}) : vérifiez les "
                                  "droits d'accès, ou déplacez-le vous-même.") from exc
        return back.get(path)
    n = 1
    while any((into / _aside_name(item.name, path.stem, n)).exists() for item in items):
        n += 1
    moved = {item: _move(item, (into / _aside_name(item.name, path.stem, k) for k in itertools.count(n)))
             for item in items}
    return moved.get(path)


def _aside_name(name: str, stem: str, n: int) -> str:
    """`name` (the deposit file `stem`'s, or one of its archives') with the suffix « (n) » after
    `stem`, none for n = 1.

    >>> _aside_name("JSON-1-20240312-001-2.zip", "JSON-1-20240312-001", 3)
    'JSON-1-20240312-001 (3)-2.zip'
    """
    return name if n == 1 else f"{stem} ({n}){name[len(stem):]}"


def _move(item: Path, candidates: Iterable[Path]) -> Path:
    """Rename `item` as the first of `candidates` that is free (never over a file); returns it."""
    try:
        for candidate in candidates:
            if publish(item, candidate, synced=True):
                item.unlink(missing_ok=True)  # a hard link: the old name goes
                return candidate
    except OSError as exc:
        raise LedgerError(f"Impossible de déplacer « {item} » vers « {candidate.parent} » ({why(exc)}) : vérifiez les "
                          "droits d'accès, ou déplacez-le vous-même.") from exc
    raise AssertionError("the candidates never end")


# file systems of a network share (Linux /proc/self/mountinfo, macOS `mount`)
_NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "smb", "ncpfs", "afs", "afpfs", "9p", "ceph",
                        "glusterfs", "lustre", "gpfs", "beegfs", "ocfs2", "gfs2", "webdav", "davfs", "virtiofs"}


def shared(path: Path) -> bool:
    """Whether the ledger may be used from several machines: given by XL2SEGUR_REGISTRE (the
    way a team shares one), or on a network share. Such a ledger uses a rollback journal."""
    return bool(os.environ.get(ENVIRONMENT, "").strip()) or on_network_share(path)


def on_network_share(path: Path) -> bool:
    """Whether `path` lies on a network file system (unknown: assumed so, the safe side)."""
    folder = Path(os.path.abspath(path)).parent
    if os.name == "nt":
        import ctypes
        drive = os.path.splitdrive(str(folder))[0]
        if drive.startswith("\\\\"):  # \\serveur\partage
            return True
        return ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == 4  # DRIVE_REMOTE
    try:
        if os.path.exists("/proc/self/mountinfo"):
            with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
                return filesystem_type(str(folder), fh.read()) in _NETWORK_FILESYSTEMS
        mounts = subprocess.run(["mount"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return True
    # macOS / BSD: « //u@serveur/partage on /Volumes/partage (smbfs, nodev, …) »
    found = [(m.group(1), m.group(2)) for m in re.finditer(r" on (.+?) \((\w+)", mounts)]
    best = max((m for m in found if _inside(str(folder), m[0])), key=lambda m: len(m[0]), default=None)
    return best is None or best[1] in _NETWORK_FILESYSTEMS


def _inside(path: str, mount_point: str) -> bool:
    return path == mount_point or path.startswith(mount_point.rstrip("/") + "/")


def filesystem_type(folder: str, mountinfo: str) -> str | None:
    """The file system type of `folder` in a /proc/self/mountinfo text (its deepest mount).

    >>> filesystem_type("/mnt/partage/segur", "22 1 0:21 / / rw - ext4 /dev/sda1 rw\\n"
    ...                 "30 22 0:40 / /mnt/partage rw - cifs //serveur/segur rw\\n")
    'cifs'
    >>> filesystem_type("/home/marie", "22 1 0:21 / / rw - ext4 /dev/sda1 rw\\n30 22 0:40 / /mnt/partage rw - cifs //s/x rw\\n")
    'ext4'
    """
    best: tuple[int, str] | None = None
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        if " - " not in line or len(fields) < 5:
            continue
        mount_point = fields[4].replace("\\040", " ")
        kind = line.split(" - ", 1)[1].split(" ")[0]
        if _inside(folder, mount_point) and (best is None or len(mount_point) >= best[0]):
            best = (len(mount_point), kind)
    return best[1] if best else None


def default_path() -> Path:
    """The ledger of this user: XL2SEGUR_REGISTRE, else the user's data folder."""
    shared = os.environ.get(ENVIRONMENT, "").strip()
    if shared:
        return Path(shared).expanduser()
    import platformdirs
    return Path(platformdirs.user_data_dir("xl2segur", appauthor=False)) / DEFAULT_NAME


def locate(registre: Path | None, folder: Path | None = None, *, create: bool = True) -> tuple[Path, list[Issue]]:
    """How every command finds its ledger: `registre` (--registre) when given, else
    `default_path()`. A ledger an older version kept in `folder` (`<folder>/xl2segur.sqlite`,
    else in `depot/`, the older versions' default output folder) is taken over: its files
    and demandes join the ledger found, and it is renamed `xl2segur.sqlite.repris`, so that
    changing folder never starts a blank history. With `registre` given, it is not taken over
    (a trial ledger must not swallow the real history): a conversion into that folder is
    refused (its files, unknown to `registre`, would be set aside), another command says so.
    Returns (path, warnings saying so).
    LedgerNotFound without `create` when there is no ledger there (nor one to take over)."""
    from .issues import issue  # not at the top: the second process (concurrency.py) imports this module without Polars

    path = Path(registre) if registre is not None else default_path()
    notices: list[Issue] = []
    in_folder = folder is not None and (Path(folder) / DEFAULT_NAME).is_file()
    # else `depot/` too, for a conversion: converting into another folder, the first after an
    # update, would start a blank history beside the older versions' one, and deposit again
    legacy = Path(folder if in_folder else "depot") / DEFAULT_NAME
    if legacy.is_file() and not (path.exists() and legacy.resolve() == path.resolve()):
        if registre is not None and in_folder:
            raise LedgerError(f"Le dossier « {folder} » contient le registre « {legacy} » d'une version précédente "
                              f"de xl2segur, et --registre en désigne un autre ({path}) : ses fichiers de dépôt "
                              "seraient mis de côté. Convertissez sans --registre (ce registre sera repris dans le "
                              "registre habituel), ou dans un autre dossier de sortie.")
        if registre is not None:
            return _found(path, create), [issue("registre_ancien_ignore", file=str(path), detail=legacy)]
        with Ledger(path) as book:
            files, twice = book.adopt(legacy)
        notices.append(issue("registre_repris", file=str(path), detail=legacy, fichiers=counted(files, "fichier"),
                             nom=f"{legacy.name}{ADOPTED_SUFFIX}"))
        if twice:
            notices.append(issue("registre_repris_deux_fois", file=str(path), detail=legacy,
                                 demandes=", ".join(twice[:10]) + (f" et {counted(len(twice) - 10, 'autre')}"
                                                                   if len(twice) > 10 else "")))
    return _found(path, create), notices


def _found(path: Path, create: bool) -> Path:
    """`path`, unless a command that reads a ledger finds none there (LedgerNotFound), or an
    empty file: SQLite would make a ledger of it, writing over a file of the user's."""
    try:
        if path.is_dir():
            raise LedgerError(f"Le registre « {path} » est un dossier : indiquez le fichier du registre (--registre "
                              f"ou XL2SEGUR_REGISTRE), par exemple « {path / DEFAULT_NAME} ».")
        if not create and not path.is_file():
            raise LedgerNotFound(path)
        if not create and path.stat().st_size == 0:
            raise LedgerNotFound(path, empty=True)
    except OSError as exc:  # a name too long for the system…
        raise LedgerError(f"Le registre « {path} » ne peut pas être lu ({why(exc)}) : vérifiez le chemin donné "
                          "(--registre ou XL2SEGUR_REGISTRE).") from exc
    return path
