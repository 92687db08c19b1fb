"""The files the ASP gives back: `xl2segur retour FICHIER.json…`.

After its 2nd control, the ASP returns each deposit file with, per demande, codeTraitement
and libelleTraitement filled (« Demande acceptée » or the error's label) and, for an
accepted avance, its numeroASP (seeds 000 and 001, §2). Each demande is matched to the
ledger by numeroAns + numeroEditeur (and, among several deposits of that numero — an avance
and its solde share it —, by the JSON keys of its format, then by the file name); its
outcome is recorded; a review workbook lists every demande read. A demande the ledger does
not know is reported, never guessed.

**Inferred**: a demande is accepted when its libelleTraitement reads « Demande acceptée »
(accents, case and spaces aside); codeTraitement's values are not published. A solde file
is recorded only if all its demandes pass (seed 000 §2): when one solde of a return file is
rejected, its accepted soldes are recorded as not recorded (rejected) too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from xlsxwriter import Workbook

from .files import OutputError, write_new_numbered
from .formats import all_formats
from .ledger import ACCEPTEE, REJETEE, Ledger

ACCEPTED_LABEL = "demande acceptee"


class ReturnFileError(OutputError):
    """A return file cannot be read; the message is French and says what to do."""


@dataclass
class ReturnLine:
    """One demande of a return file and what became of it."""

    source: str
    num_ligne: Any
    numero_editeur: str
    code: str | None
    label: str | None
    numero_asp: str | None
    keys: frozenset[str]
    result: str = ""  # Acceptée | Rejetée | Inconnue du registre | Sans traitement ASP
    format_id: str | None = None
    deposit_file: str | None = None
    amount: str | None = None
    remark: str = ""
    demande_id: int | None = None
    nature: str | None = None
    statut: str | None = None


def _plain(text: str) -> str:
    """
    >>> _plain("  Demande  ACCEPTÉE ")
    'demande acceptee'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", bare).strip().casefold()


def read_return(path: Path) -> tuple[str, list[ReturnLine]]:
    """(numeroAns, demandes) of one return file; ReturnFileError if it is not one."""
    path = Path(path)
    where = f"Le fichier de retour « {path} »"
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ReturnFileError(f"{where} est introuvable : vérifiez le chemin.") from None
    except OSError as exc:
        raise ReturnFileError(f"{where} ne peut pas être lu ({exc.strerror}).") from None
    except orjson.JSONDecodeError as exc:
        raise ReturnFileError(f"{where} n'est pas un fichier JSON valide ({exc}). Téléchargez-le à nouveau "
                              "depuis le portail Ségur, sans le modifier.") from None
    if not isinstance(data, dict) or not isinstance(data.get("lignesImport"), list):
        raise ReturnFileError(f"{where} n'est pas un fichier de dépôt ASP : la liste « lignesImport » manque.")
    numero_ans = data.get("numeroAns")
    if not isinstance(numero_ans, str) or not re.fullmatch(r"\d{10}", numero_ans):
        raise ReturnFileError(f"{where} n'a pas de numeroAns valide (10 chiffres) : est-ce bien un fichier de dépôt ASP ?")
    lines = []
    for index, line in enumerate(data["lignesImport"], start=1):
        at = f"{where}, demande n° {index} de lignesImport,"
        if not isinstance(line, dict):
            raise ReturnFileError(f"{at} n'est pas un objet JSON.")
        ne = line.get("numeroEditeur")
        if not isinstance(ne, str) or not ne:
            raise ReturnFileError(f"{at} n'a pas de numeroEditeur.")
        values = {}
        for key in ("codeTraitement", "libelleTraitement", "numeroASP"):
            value = line.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key == "codeTraitement":
                value = str(value)
            if value is not None and not isinstance(value, str):
                raise ReturnFileError(f"{at} a un {key} qui n'est pas un texte ({value!r}).")
            values[key] = value
        lines.append(ReturnLine(source=path.name, num_ligne=line.get("numLigne", index), numero_editeur=ne,
                                code=values["codeTraitement"], label=values["libelleTraitement"],
                                numero_asp=values["numeroASP"], keys=frozenset(line)))
    return numero_ans, lines


def _match(book: Ledger, numero_ans: str, line: ReturnLine):
    candidates = book.candidates(numero_ans, line.numero_editeur)
    if not candidates:
        return None
    formats = all_formats()
    layout = {fid: frozenset(d.json) for fid, d in formats.items() if d.json}
    same = [c for c in candidates if layout.get(c["format"]) == line.keys] or \
           [c for c in candidates if layout.get(c["format"], frozenset()) <= line.keys] or candidates
    for rule in (lambda c: c["fichier"] == line.source, lambda c: c["statut"] == "deposee", lambda c: True):
        chosen = [c for c in same if rule(c)]
        if chosen:
            return chosen[0]  # newest first
    return None


def ingest(paths: list[Path], book: Ledger) -> list[ReturnLine]:
    """Read every return file (all of them, before recording anything), then record."""
    read = [read_return(p) for p in paths]
    everything: list[ReturnLine] = []
    for numero_ans, lines in read:
        for line in lines:
            found = _match(book, numero_ans, line)
            if found is None:
                line.result = "Inconnue du registre"
                line.remark = "Aucun dépôt de ce numéro éditeur pour ce numeroAns dans le registre : rien n'est enregistré."
                continue
            line.format_id, line.deposit_file, line.amount = found["format"], found["fichier"], found["montant"]
            line.demande_id, line.nature = found["id"], found["nature"]
            if line.code is None and line.label is None:
                line.result = "Sans traitement ASP"
                line.remark = "codeTraitement et libelleTraitement sont vides : ce n'est pas un fichier traité par l'ASP."
                continue
            accepted = line.label is not None and _plain(line.label) == ACCEPTED_LABEL
            line.statut = ACCEPTEE if accepted else REJETEE
            line.result = "Acceptée" if accepted else "Rejetée"
            if accepted and line.nature == "avance":
                if not line.numero_asp:
                    line.remark = "Avance acceptée sans numéro ASP dans le retour : le solde ne pourra pas être pré-rempli."
                elif len(line.numero_asp) != 12:
                    line.remark = "Numéro ASP inhabituel (12 caractères attendus) : vérifiez-le sur le portail."
            if not accepted:
                line.numero_asp = None
        soldes = [x for x in lines if x.nature == "solde" and x.statut]
        if any(x.statut == REJETEE for x in soldes):
            for x in soldes:
                if x.statut == ACCEPTEE:
                    x.statut, x.result = REJETEE, "Rejetée"
                    x.remark = ("Non enregistrée par l'ASP : une autre demande de ce fichier de solde est rejetée "
                                "(un fichier de solde n'est enregistré que si toutes ses demandes passent). "
                                "Redéposez-la dans un nouveau fichier.")
        everything += lines
    book.record_returns([(x.demande_id, x.statut, x.numero_asp, x.code, x.label, x.source)
                         for x in everything if x.demande_id is not None and x.statut])
    return everything


COLUMNS = [("Fichier de retour", 34), ("numLigne", 9), ("numeroEditeur", 14), ("Format", 22), ("Résultat", 20),
           ("numeroASP", 15), ("codeTraitement", 15), ("libelleTraitement", 50), ("Fichier déposé", 34),
           ("Montant HT", 12), ("Remarque", 60)]


def write_review(lines: list[ReturnLine], target: Path) -> Path:
    """The review workbook: one row per demande read; every cell is text."""

    def write(tmp: Path) -> None:
        book = Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False})
        ws = book.add_worksheet("Retour ASP")
        bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        fills = {"Acceptée": book.add_format({"bg_color": "#E2EFDA"}), "Rejetée": book.add_format({"bg_color": "#FCE4D6"})}
        other = book.add_format({"bg_color": "#FFF2CC"})
        for col, (title, width) in enumerate(COLUMNS):
            ws.write_string(0, col, title, bold)
            ws.set_column(col, col, width)
        for row, x in enumerate(lines, start=1):
            values = [x.source, str(x.num_ligne), x.numero_editeur, x.format_id, x.result, x.numero_asp, x.code,
                      x.label, x.deposit_file, x.amount, x.remark]
            for col, value in enumerate(values):
                ws.write_string(row, col, "" if value is None else str(value), fills.get(x.result, other) if col == 4 else None)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(lines), 1), len(COLUMNS) - 1)
        book.close()

    return write_new_numbered(Path(target), write)


def default_review(folder: Path, day: date | None = None) -> Path:
    """The review workbook's default path: beside the return files (the ledger may be a
    per-user or a team's file, no place for it)."""
    return Path(folder) / f"retour-ASP-{(day or date.today()):%Y%m%d}.xlsx"
