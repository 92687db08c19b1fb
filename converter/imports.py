"""Deposits made before xl2segur, by hand or by another tool: `xl2segur importer FICHIER.json…`.

Each file is checked against its format's JSON Schema (converter/schema.py) as the ASP's
first control would (seeds 000 and 001, §2: « 1er contrôle : contrôle sur la structure du
fichier JSON. Si le fichier n'est pas valide, il est immédiatement rejeté sur le portail »),
then recorded in the ledger as it is, like a file xl2segur wrote: its demandes are then
refused if converted again, and their soldes prepared the same way. A file the ASP returned
(codeTraitement, libelleTraitement filled) is its deposit file too: its outcomes are recorded
at once (converter/returns.py).

- the format is the one whose schema the file meets, once the fields the ASP fills are
  emptied (`impId`, `codeTraitement`, `libelleTraitement`, an avance's `numeroASP`); when
  several formats fit (a PDS and a PDE avance without profilMetier), the one whose names the
  attachments bear (« MS2-DUI PDE-Va1-… » is a PDE's); when that does not tell, or none
  fits, `--format` says which;
- the file's date and rank come from its name when it is named as the ASP wants,
  « JSON-<numeroAns>-<AAAAMMJJ>-<rang>.json », so that xl2segur's next file takes the next
  rank; otherwise (**inferred**, no seed names another rule) the date is the file's
  modification date, and rank 0 claims no rank;
- a file whose demandes the ledger already holds (deposited and not rejected, in a format
  sharing their numeroEditeur) is refused whole, with the reason: nothing is recorded twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import polars as pl

from . import schema
from .checks import NE
from .deposit import LINES
from .formats import FormatDefinition, all_formats, get_format, numero_formats
from .ledger import Facts, Ledger, LedgerError, pack
from .lifecycle.facts import demande_lookup, demande_records
from .lifecycle.rows import rows_from_json
from .returns import ReturnFileError, ReturnLine, ingest, read_json, read_return
from .validation import pattern_hints, said
from .wording import counted

ERRORS_SHOWN = 5
# a file that is not JSON: a deposit file is the user's own (not downloaded again from the
# portal, as a return is); a workbook goes to convertir
IMPORT_ADVICE = ("Donnez le fichier .json tel qu'il a été déposé sur le portail Ségur, ou son fichier de retour "
                 "téléchargé depuis le portail (un classeur .xlsx ou .ods se convertit avec « xl2segur convertir » ; "
                 "un fichier JSON enregistré en UTF-16 par un éditeur de texte s'enregistre de nouveau en UTF-8).")


@dataclass
class Imported:
    """One file given to `importer` and what became of it."""

    path: Path
    format_id: str | None = None
    demandes: int = 0
    day: date | None = None
    refused: str = ""  # why the file was not recorded (French), empty when recorded
    already: bool = False  # recorded before under its name, as it is (imported again: a rerun)
    repaired: bool = False  # recorded before, its stored copy damaged: given back (ledger.Ledger.repair)
    returns: list[ReturnLine] = field(default_factory=list)  # its ASP outcomes, for a return file


def _as_deposited(definition: FormatDefinition, data: dict[str, Any]) -> dict[str, Any]:
    """The file as it was deposited: the values the layout fixes to null (what the ASP fills in
    its return) emptied again."""
    def empty(layout: dict[str, Any]) -> list[str]:
        return [k for k, node in layout.items() if isinstance(node, dict) and node.get("const", 0) is None]

    lines = [{**line, **dict.fromkeys(empty(definition.json or {}))} if isinstance(line, dict) else line
             for line in data.get(LINES) or []]
    return {**data, **dict.fromkeys(empty(definition.envelope)), LINES: lines}


@cache
def _validator(format_id: str) -> Any:
    return jsonschema_rs.validator_for(schema.json_schema(format_id))


def _errors(format_id: str, document: dict[str, Any]) -> list[str]:
    hints = pattern_hints(schema.json_schema(format_id))
    return [f"{'/'.join(map(str, e.instance_path)) or 'fichier'} : {said(e, hints)}"
            for e in _validator(format_id).iter_errors(document)]


def _format(data: dict[str, Any], format_id: str | None) -> tuple[FormatDefinition | None, str]:
    """(the format the file meets, or None with the reason)."""
    choices = [get_format(format_id)] if format_id else \
        [d for d in all_formats().values() if d.produces_deposit and d.json]
    if not choices[0].produces_deposit:
        return None, f"le format {format_id} ne produit pas de fichier de dépôt : indiquez avec --format un format de dépôt"
    fits = [d for d in choices if _validator(d.id).is_valid(_as_deposited(d, data))]  # listing errors costs more
    if len(fits) > 1:  # e.g. a PDS and a PDE avance without profilMetier: their attachments' names differ
        fits = [d for d in fits if _named_as(d, data)] or fits
    if len(fits) == 1:
        return fits[0], ""
    if fits:
        return None, (f"il respecte le schéma de plusieurs formats ({', '.join(d.id for d in fits)}) : "
                      "indiquez lequel avec --format")
    found = {d.id: _errors(d.id, _as_deposited(d, data)) for d in choices}
    closest = min(found, key=lambda k: len(found[k]))
    listed = " ; ".join(found[closest][:ERRORS_SHOWN]) + (" ; …" if len(found[closest]) > ERRORS_SHOWN else "")
    hint = "" if format_id else " (le plus proche ; --format en impose un autre)"
    return None, (f"il ne respecte pas le schéma du format {closest}{hint}, tel que xl2segur le lit dans les "
                  f"documents de l'ASP : {counted(len(found[closest]), 'erreur')}, dont {listed}"
                  f"{_attachment_key_said(get_format(closest), data)}")


def _attachment_key_said(definition: FormatDefinition, data: dict[str, Any]) -> str:
    """What is known of the attachments' key, when the file spells it another way than the
    format: an inference, not a rule of the ASP (seed 001 shows only the label « Pièces
    justificatives »; the solde seeds 000 and 003 spell it « piecesjustificatives »). Nothing
    says the ASP refused it; xl2segur only records what it can read back the way it writes it."""
    if definition.attachments is None:
        return ""
    balise = definition.attachments.balise
    other = {k for line in data.get(LINES) or [] if isinstance(line, dict) for k in line
             if k != balise and k.lower() == balise.lower()}
    if not other:
        return ""
    return (f". La balise des pièces justificatives y est écrite « {', '.join(sorted(other))} », "
            f"xl2segur l'écrit « {balise} » pour ce format : c'est une lecture des documents de l'ASP "
            "(l'avance n'en montre qu'un libellé, « Pièces justificatives » ; les soldes l'écrivent "
            "« piecesjustificatives »), rien ne dit que l'ASP refuse l'autre écriture ; mais xl2segur "
            "n'inscrit que les fichiers écrits comme il les écrit")


def _named_as(definition: FormatDefinition, data: dict[str, Any]) -> bool:
    """Whether the file names its attachments as `definition` does, by its couloir and logiciel
    (seed 000, §3.3: « CodeCouloir-Logiciel-Va1-CodeTypeFichier-NuméroEditeurDeLaDemande.format »,
    « MS2-DUI PDE-Va1-FACTURE-00001.pdf » for a DUI PDE; seed 001: « MS2-DUI-Va1-BDC-00001.pdf »).
    False when it declares none: nothing tells."""
    codes = {t.type: t.code for t in definition.attachments.types} if definition.attachments else {}
    pieces = [(line.get("numeroEditeur"), piece) for line in data[LINES] if isinstance(line, dict)
              for piece in line.get(definition.attachments.balise) or [] if isinstance(piece, dict)] \
        if definition.attachments else []
    return bool(pieces) and all(
        piece.get("typeFichier") in codes and isinstance(piece.get("formatFichier"), str) and isinstance(ne, str)
        and piece.get("nomFichier") == definition.attachment_name(codes[piece["typeFichier"]], ne, piece["formatFichier"])
        for ne, piece in pieces)


def _records(definition: FormatDefinition, lines: list[dict[str, Any]]) -> list[Facts]:
    """The ledger's view of the file's demandes (`lifecycle.facts.demande_records`), from their JSON."""
    rows: dict[str, list[dict[str, Any]]] = {s.name: [] for s in definition.sheets}
    for line in lines:
        for name, found in rows_from_json(definition, line).items():
            rows[name] += [{**r, NE: line["numeroEditeur"]} for r in found]
    frames = {s.name: pl.DataFrame(rows[s.name], schema={NE: pl.String, **{b: pl.String for b in s.balises}})
              for s in definition.sheets}
    lookup = demande_lookup(definition, frames)
    return demande_records([line["numeroEditeur"] for line in lines], lookup)


def _day_and_rank(path: Path, numero_ans: str) -> tuple[date, int]:
    # « .JSON » too (Windows): its rank is claimed all the same, or xl2segur's next file would
    # take it (a name that differs only by case, the same file for Windows and the ASP)
    named = re.fullmatch(rf"JSON-{re.escape(numero_ans)}-(\d{{8}})-(\d{{3}})\.json", path.name, re.IGNORECASE)
    if named:
        try:
            return datetime.strptime(named[1], "%Y%m%d").date(), int(named[2])
        except ValueError:
            pass
    return date.fromtimestamp(path.stat().st_mtime), 0


def read_deposit(path: Path, format_id: str | None) -> tuple[Imported, dict[str, Any] | None]:
    """(the file, its JSON when it can be imported). ReturnFileError when it is not JSON."""
    imported = Imported(Path(path))
    data, _ = read_json(path, f"Le fichier « {path} »", IMPORT_ADVICE)
    if not isinstance(data, dict) or not isinstance(data.get(LINES), list) or not data[LINES]:
        imported.refused = f"ce n'est pas un fichier de dépôt ASP : la liste « {LINES} » manque ou est vide"
        return imported, None
    definition, why = _format(data, format_id)
    if definition is None:
        imported.refused = why
        return imported, None
    first: dict[str, int] = {}
    for index, line in enumerate(data[LINES], start=1):
        if (before := first.setdefault(line["numeroEditeur"], index)) != index:
            # seeds 000 and 001: « Ce numéro unique généré par l'éditeur sert à relier une demande à
            # ses PJ associées »; recorded twice, its return could never be recorded (returns.py)
            imported.refused = (f"il nomme deux fois la demande {line['numeroEditeur']} (demandes n° {before} et "
                                f"{index} de {LINES}) : le numeroEditeur est unique par demande, l'ASP relie par lui "
                                "une demande à ses pièces et à sa réponse. Corrigez le fichier (un nouveau numéro "
                                "pour l'une d'elles) avant de le déposer et de l'inscrire")
            return imported, None
    if cents := _beyond_the_cent(definition, data[LINES]):
        imported.refused = cents
        return imported, None
    imported.format_id, imported.demandes = definition.id, len(data[LINES])
    return imported, data


def _beyond_the_cent(definition: FormatDefinition, lines: list[dict[str, Any]]) -> str:
    """Why an amount of the file is refused: more than two decimals, which the schema lets pass
    (a JSON number) and the ledger would round (FORMATS.md: « Never round a user's amount
    silently: more than two decimals is an error that shows the value »); empty when none is."""
    for balise in (f.balise for f in definition.demandes.fields if f.kind == "amount"):
        for index, line in enumerate(lines, start=1):
            value: Any = line
            for key in definition.json_path(balise) or ():
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, float) and (exact := Decimal(str(value))) != exact.quantize(Decimal("0.01")):
                return (f"la demande n° {index} ({line['numeroEditeur']}) a un {balise} de {value} : plus de deux "
                        "décimales, quand l'ASP veut un montant au centime (FLOAT à 2 chiffres après la virgule) ; "
                        "xl2segur ne l'arrondit pas : corrigez le fichier")
    return ""


def _treated(data: dict[str, Any]) -> bool:
    """Whether the ASP answered one of the file's demandes (codeTraitement or libelleTraitement)."""
    return any(isinstance(line, dict) and (line.get("codeTraitement") is not None or
                                           line.get("libelleTraitement") is not None) for line in data[LINES])


def _recorded_before(book: Ledger, name: str, deposited: dict[str, Any]) -> Any:
    """The ledger's file of that name holding the file as it is, not withdrawn (imported, or
    written, before: a command run again, after it was stopped midway), or None."""
    for row in book.db.execute("SELECT * FROM fichiers WHERE nom = ? AND retire_le IS NULL AND en_attente IS NULL "
                               "AND contenu IS NOT NULL", (name,)).fetchall():
        if (stored := book.stored(row)) is not None and orjson.loads(stored) == deposited:
            return row
    return None


def _new_outcomes(book: Ledger, row: Any, path: Path) -> list[ReturnLine]:
    """The outcomes of the return file `path`, whose deposit file the ledger holds (`row`),
    recorded now if they were not (an import stopped between its two steps); none when they were."""
    try:
        returned = read_return(path)
    except ReturnFileError:  # emptied fields only (impId…), no outcome: a deposit file
        return []
    if book.recorded_answer(row["id"], returned.digests) is not None:
        return []
    return ingest([path], book)


def import_files(paths: list[Path], registre: Path, format_id: str | None = None) -> list[Imported]:
    """Check every file, then record in the ledger (created if need be) those that pass, and
    the ASP's outcomes of those that are return files. Nothing is written when no file passes."""
    read = [read_deposit(Path(p), format_id) for p in paths]
    if not any(data is not None for _, data in read):
        return [imported for imported, _ in read]
    with Ledger(Path(registre)) as book:
        book.settle()  # the demandes of a file a dead run never named are free
        for imported, data in read:
            if data is None:
                continue
            definition = get_format(imported.format_id)
            deposited = _as_deposited(definition, data)
            imported.day, rank = _day_and_rank(imported.path, data["numeroAns"])
            records = _records(definition, deposited[LINES])
            # the file as deposited: its own bytes (but a BOM), else as importer records it
            copy = imported.path.read_bytes().removeprefix(b"\xef\xbb\xbf") if deposited == data else orjson.dumps(deposited)
            if (repaired := book.repair(imported.path.name, pack(copy), records)) is not None:
                imported.already = imported.repaired = True
                imported.day = date.fromisoformat(repaired["date_depot"])
                if deposited != data:
                    imported.returns = _new_outcomes(book, repaired, imported.path)
                continue
            before = _recorded_before(book, imported.path.name, deposited)
            if before is not None and (deposited == data or before["chemin"] == str(imported.path.resolve())):
                # a return file imported before from this very path (a rerun): its outcomes recorded
                # then, or now if the run was stopped in between (else it goes to « xl2segur retour »)
                imported.already, imported.day = True, date.fromisoformat(before["date_depot"])
                if deposited != data:
                    imported.returns = _new_outcomes(book, before, imported.path)
                continue
            try:
                book.record_import(
                    path=imported.path, format_id=definition.id, nature=definition.nature,
                    numero_ans=data["numeroAns"], siret=data["SIRET"], day=imported.day, rank=rank,
                    packed=pack(orjson.dumps(deposited)), demandes=records,
                    formats=numero_formats(definition.id), refuse_rejected=definition.new_numero_after_rejection)
            except LedgerError as exc:
                imported.refused = str(exc)
                if _treated(data):  # its outcomes not recorded either: where they go
                    imported.refused += (f" ; c'est un retour de l'ASP : enregistrez-le avec « xl2segur retour "
                                         f"{imported.path} »")
                continue
            if deposited != data:  # the ASP's return: its outcomes too
                try:
                    imported.returns = ingest([imported.path], book)
                except ReturnFileError:  # emptied fields only (impId…), no outcome: a deposit file
                    pass
    return [imported for imported, _ in read]
