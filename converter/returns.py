"""The files the ASP gives back: `xl2segur retour FICHIER.json…`.

After its 2nd control, the ASP returns each deposit file with, per demande, codeTraitement
and libelleTraitement filled (seeds 000 and 001, §2: « l'ASP met à disposition sur le portail
Ségur du fournisseur le fichier JSON avec, pour chaque demande, un code de traitement et
libellé de traitement (« Demande acceptée » ou libellé de l'erreur en cas de demande
rejetée) ») and, for an accepted avance, its numeroASP (seed 001: « Les demandes acceptées
se voient attribuer un numéro ASP dans le fichier JSON »).

A return file is matched to the deposit file it answers by its content, never by its name
(a browser saves it again as « … (1).json »): the deposit file of its numeroAns that holds
exactly its demandes (numeroEditeur at the same numLigne) in the format of its JSON keys (in
none, the one whose demandes are those returned: an avance's return is not its solde's, which
shares its numeroEditeur); among several, the one of the format of its JSON keys, then the one `--depot` names when the user knows it (it must be one
of them: the user's word comes before any guess), else the one whose demandes are those
returned (the ASP's fields aside), then the one a copy of this very return (same content,
whatever its encoding, or same impId) answered before, then the one still awaiting its
return (a rejected solde deposited again unchanged). Without an impId, a return identical to
one recorded for one of them while another still awaits its return may be either: nothing is
guessed. A return holding a withdrawn file's demandes as written proves that file was uploaded:
not recorded for a live file they went into again (said, with the way out), nor, the same
content in both, guessed between them (--depot names the live one). One return answers one deposit: recorded for one file, it is not recorded for another
that `--depot` names, unless confirmed (the ASP gave both the same answer). None or several
left: the file is refused with the reason, nothing of it recorded.

Every return recorded is kept in the ledger's history (`retours`), once: the same return
given again (same content) records nothing new, even when a later return replaced it since
(given again among the older returns, it would bring back an outdated answer), unless it is
given with --confirmer and alone (the only return of the command): a
mistaken --confirmer is undone so, the answer brought back recorded again, confirmed. A return that contradicts the outcome or the
numeroASP already recorded for a demande is refused, the whole file, unless confirmed
(`confirm`, the CLI's `--confirmer`); it is reported either way. --confirmer confirms only the
return given alone: among several (`retour retours/*.json --confirmer`), it confirmed too the
contradiction of a file the user had never seen; each is then refused, with the way to confirm
it alone. Refused even when confirmed:
a return contradicting another return of the same command (which one is newer?), and one
accepting demandes recorded rejected that were deposited again since (live twice).

impId « sera rempli par l'ASP pour identifier le fichier JSON » (seeds 000, 001, 003): a deposit
answered under a second impId was imported twice (its demandes may be twice at the ASP), and
one impId given to two deposits means one of the two returns is not what it seems. Both are said
loudly (`_other_imports`), nothing guessed: a return that agrees is recorded, a contradiction
refused as ever, its way out (--confirmer) no longer offered as « the newer answer » but as the
ASP's word that this import's answer replaces the first; confirmed so, the double import is not
said again.

**Inferred**: codeTraitement's values are not published, so a demande is accepted when its
libelleTraitement reads « Demande acceptée » whatever its case, accents, spaces and
punctuation (« DEMANDE ACCEPTEE. »), or, for an avance, when the ASP gave it a numeroASP
(seed 001 above). The codes met are shown with the outcome they came with. A solde file is
recorded only if all its demandes pass where its format says so (`recorded_only_if_all_pass`,
the MS2 soldes: seed 000 §1.2, « Les demandes de solde sont définitivement enregistrées dans le
portail Ségur seulement lorsque l'ensemble des demandes d'un JSON sont passantes »): when one
solde of such a return file is rejected, its other soldes, accepted or left untreated, are
recorded as not recorded (rejected) too; when none is rejected but one is left untreated, the
accepted ones may not be recorded by the ASP: the file is refused, nothing of it recorded.
Seed 003 (mdv-lgc-solde) says only « Les demandes rejetées à la suite de ce deuxième contrôle
ne sont pas intégrées en base »: an accepted MDV solde stays accepted.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import orjson

from .deposit import LINES
from .fastxlsx import Book
from .files import OutputError, why, write_new_numbered
from .formats import FormatDefinition, all_formats, numero_formats
from .kinds import numero_ans as numero_ans_kind
from .ledger import ACCEPTEE, DEPOSEE, REJETEE, STATE_SAID, Ledger, by_file, return_digests
from .lifecycle.rows import json_values
from .wording import command_arg

ACCEPTED_LABEL = "demande acceptee"
ASP_FIELDS = ("codeTraitement", "libelleTraitement", "numeroASP")  # what the ASP fills in a return
ALERT = "ATTENTION : "  # before each warning in a demande's remark (`_alert`): the console names a repeated one
ACCEPTED, REJECTED, UNKNOWN, UNTREATED, REFUSED = (
    "Acceptée", "Rejetée", "Inconnue du registre", "Sans traitement ASP", "Non enregistrée")
RESULTS = (ACCEPTED, REJECTED, UNKNOWN, UNTREATED, REFUSED)
_UTF8_BOM = b"\xef\xbb\xbf"


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
    data: dict[str, Any] = field(repr=False, default_factory=dict)  # the demande as returned
    result: str = ""  # one of RESULTS
    format_id: str | None = None
    deposit_file: str | None = None
    amount: str | None = None
    remark: str = ""
    demande_id: int | None = None
    nature: str | None = None
    statut: str | None = None
    warning: str = ""  # said loudly: this avance and another may fund one client twice (`funded_twice`), or share a
    # numeroASP; its amount is not the one deposited (`_amounts_changed`)


@dataclass
class ReturnFile:
    """One return file as read: its numeroAns, impId, digests (`ledger.return_digests`: its
    content's, recorded, and its bytes') and demandes."""

    path: Path
    numero_ans: str
    imp_id: str | None
    digests: tuple[str, str]
    lines: list[ReturnLine]


def _plain(text: str) -> str:
    """A label without case, accents, punctuation and extra spaces.

    >>> _plain("  Demande  ACCEPTÉE. "), _plain("Demande acceptée !"), _plain("demande-acceptée")
    ('demande acceptee', 'demande acceptee', 'demande acceptee')
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", " ", bare).strip().casefold()


def reads_accepted(label: str | None) -> bool:
    """Whether a libelleTraitement reads « Demande acceptée », whatever its case, accents, spaces
    and punctuation (the module's **Inferred**).

    >>> reads_accepted("DEMANDE ACCEPTEE."), reads_accepted("Facture illisible"), reads_accepted(None)
    (True, False, False)
    """
    return label is not None and _plain(label) == ACCEPTED_LABEL


def _json_problem(exc: orjson.JSONDecodeError, size: int) -> str:
    """What is wrong with a file orjson cannot read, in French."""
    if "UTF-8" in exc.msg:
        return "il n'est pas encodé en UTF-8"
    if not size:
        return "il est vide"
    if exc.pos >= size or "end of data" in exc.msg or "EOF" in exc.msg:
        return (f"il s'arrête avant la fin (ligne {exc.lineno}, colonne {exc.colno}) : le téléchargement a "
                "sans doute été interrompu")
    return f"contenu invalide ligne {exc.lineno}, colonne {exc.colno}"


# files given for a JSON file that are not text at all: « not UTF-8 » would send the user looking for an encoding
_NOT_JSON = {b"PK\x03\x04": ("une archive .zip, comme un classeur .xlsx ou .ods (si elle contient le fichier .json, "
                             "extrayez-le et donnez-le)"),
             b"\xd0\xcf\x11\xe0": "un classeur Excel .xls ou un autre document Office",
             b"%PDF": "un document PDF"}
PORTAL_ADVICE = "Téléchargez-le à nouveau depuis le portail Ségur, sans le modifier."


def read_json(path: Path, where: str, advice: str = PORTAL_ADVICE) -> tuple[Any, bytes]:
    """(the JSON of a file the ASP or a tool wrote, its bytes without BOM); ReturnFileError,
    in French, when it cannot be read. `where`: « Le fichier … « path » », the message's subject;
    `advice`, what to do when it is not JSON."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ReturnFileError(f"{where} est introuvable : vérifiez le chemin.") from None
    except IsADirectoryError:
        raise ReturnFileError(f"{where} est un dossier : donnez le chemin d'un fichier .json.") from None
    except OSError as exc:
        raise ReturnFileError(f"{where} ne peut pas être lu ({why(exc)}).") from None
    body = raw.removeprefix(_UTF8_BOM)  # Windows tools save UTF-8 with a BOM; JSON allows none
    try:
        return orjson.loads(body), body
    except orjson.JSONDecodeError as exc:
        if kind := next((k for magic, k in _NOT_JSON.items() if body.startswith(magic)), None):
            raise ReturnFileError(f"{where} n'est pas un fichier JSON : c'est {kind}. {advice}") from None
        raise ReturnFileError(f"{where} n'est pas un fichier JSON valide ({_json_problem(exc, len(body))}). "
                              f"{advice}") from None


def _as_json(value: Any) -> str:
    """A value read from a return file, written as the file writes it (true, ["a"]), never as
    Python would (True, ['a'])."""
    return orjson.dumps(value).decode()


def read_return(path: Path) -> ReturnFile:
    """One return file; ReturnFileError if it is not one (a deposit file not yet treated by
    the ASP included)."""
    path = Path(path)
    where = f"Le fichier de retour « {path} »"
    data, body = read_json(path, where)
    if not isinstance(data, dict) or not isinstance(data.get(LINES), list):
        raise ReturnFileError(f"{where} n'est pas un fichier de dépôt ASP : la liste « {LINES} » manque.")
    numero_ans = data.get("numeroAns")
    if not isinstance(numero_ans, str) or not re.fullmatch(numero_ans_kind.PATTERN, numero_ans):
        raise ReturnFileError(f"{where} n'a pas de numeroAns valide (10 chiffres) : est-ce bien un fichier de dépôt ASP ?")
    if not data[LINES]:
        raise ReturnFileError(f"{where} ne contient aucune demande ({LINES} est vide).")
    lines = []
    for index, line in enumerate(data[LINES], start=1):
        at = f"{where}, demande n° {index} de {LINES},"
        if not isinstance(line, dict):
            raise ReturnFileError(f"{at} n'est pas un objet JSON.")
        ne = line.get("numeroEditeur")
        if ne is not None and ne != "" and not isinstance(ne, str):  # « 00001 » read as a number on its way
            raise ReturnFileError(f"{at} a un numeroEditeur qui n'est pas un texte ({_as_json(ne)}) : ses zéros de tête sont "
                                  "peut-être perdus. Téléchargez-le à nouveau depuis le portail Ségur, sans le modifier.")
        if not ne:
            raise ReturnFileError(f"{at} n'a pas de numeroEditeur.")
        values = {}
        for key in ASP_FIELDS:
            value = line.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key == "codeTraitement":
                value = str(value)
            if value is not None and not isinstance(value, str):
                raise ReturnFileError(f"{at} a un {key} qui n'est pas un texte ({_as_json(value)}).")
            values[key] = value if value is None or value.strip() else None  # « » is no answer, no number
        num_ligne = line.get("numLigne", index)
        lines.append(ReturnLine(source=path.name, num_ligne=num_ligne, numero_editeur=ne,
                                code=values["codeTraitement"], label=values["libelleTraitement"],
                                numero_asp=values["numeroASP"], keys=frozenset(line), data=line))
    first: dict[str, int] = {}
    for index, line in enumerate(lines, start=1):
        if (before := first.setdefault(line.numero_editeur, index)) != index:
            # seeds 000 and 001, §2: « pour chaque demande, un code de traitement et libellé de
            # traitement »; counted once each, its two answers would hide another demande's none
            raise ReturnFileError(f"{where} nomme deux fois la demande {line.numero_editeur} (demandes n° {before} et "
                                  f"{index} de {LINES}) : l'ASP donne une réponse par demande, rien n'est enregistré. "
                                  "Téléchargez-le à nouveau depuis le portail Ségur, sans le modifier.")
    if all(x.code is None and x.label is None for x in lines):
        raise ReturnFileError(f"{where} n'a été traité par l'ASP pour aucune de ses demandes (codeTraitement et "
                              "libelleTraitement vides) : c'est un fichier de dépôt, pas un retour. Donnez le fichier "
                              "que l'ASP met à disposition sur le portail Ségur après son deuxième contrôle.")
    imp_id = data.get("impId")
    return ReturnFile(path=path, numero_ans=numero_ans, imp_id=None if imp_id is None else str(imp_id),
                      digests=return_digests(body), lines=lines)


def _without_asp(line: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k not in ASP_FIELDS}


def _line_key(line: ReturnLine) -> tuple[str, int]:
    return line.numero_editeur, line.num_ligne if isinstance(line.num_ligne, int) else -1


# a return none of whose demandes the ledger holds: its deposit was recorded elsewhere, or never
ELSEWHERE = ("s'il répond à un dépôt fait avec un autre registre (celui d'un collègue, un registre d'essai), "
             "enregistrez-le avec ce registre (--registre, ou XL2SEGUR_REGISTRE pour une équipe) ; à un dépôt fait "
             "sans xl2segur, ou que ce registre a oublié (restauré d'une sauvegarde), inscrivez-le avec « xl2segur "
             "importer » : le fichier de retour contient le dépôt, et ses réponses sont enregistrées avec lui")


UNRECOGNISED = "Fichier non reconnu : "  # no deposit file, live or withdrawn, holds exactly its demandes
RECOGNISED = "Retour reconnu, non enregistré : "  # they are held, but which deposit it answers is not certain


def match_file(book: Ledger, returned: ReturnFile, deposit: str | None = None,
               confirm: bool = False) -> tuple[sqlite3.Row | None, str]:
    """(the deposit file this return answers, or None with the reason, in French; with a file, a
    remark for its demandes, or '')."""
    wanted = [_line_key(x) for x in returned.lines]
    held = book.files_holding(returned.numero_ans, wanted)
    exact = [f for f in held if f["found"] == f["total"] == len(wanted)]
    withdrawn = [f for f in book.files_holding(returned.numero_ans, wanted, withdrawn=True)
                 if f["found"] == f["total"] == len(wanted)]
    if not exact:
        if withdrawn:  # not « unknown »: the user said it would never be uploaded, and the ASP answers it
            return None, _withdrawn(withdrawn[0])
        if not held:
            known = book.numeros_ans()
            if returned.numero_ans not in known:
                return None, (f"{UNRECOGNISED}le registre ne connaît aucun fichier déposé pour le numeroAns {returned.numero_ans} "
                              f"(numeroAns du registre : {', '.join(known) or 'aucun'}) : {ELSEWHERE}")
            return None, (f"{UNRECOGNISED}aucun fichier déposé pour le numeroAns {returned.numero_ans} ne contient ces numéros "
                          f"éditeur à ces numéros de ligne : {ELSEWHERE}")
        near = held[0]
        return None, (f"{UNRECOGNISED}aucun fichier déposé pour le numeroAns {returned.numero_ans} ne contient exactement ces "
                      f"{len(wanted)} demandes (numeroEditeur et numLigne) ; le plus proche, {near['nom']}, en "
                      f"contient {near['found']} sur ses {near['total']}")
    layout = {fid: frozenset(d.json) for fid, d in all_formats().items() if d.json}
    keys = frozenset().union(*(x.keys for x in returned.lines))
    mine = [_without_asp(x.data) for x in returned.lines]

    def same(f: sqlite3.Row) -> bool:  # its demandes are those returned, the ASP's fields aside
        return [_without_asp(line) for line in book.file_lines(f["id"])] == mine

    # the format of its JSON keys; in none, the deposit whose demandes these are: an avance and its
    # solde share their numeroEditeur, the avance's return (deposited elsewhere) is not the solde's
    found = [f for f in exact if layout.get(f["format"]) == keys] or [f for f in exact if same(f)]
    if not found:
        return None, _not_its_return(exact)
    answered = book.files_answered_by(returned.digests, returned.imp_id) if len(found) > 1 or withdrawn else {}
    if deposit is not None:  # the user's word comes before any rule that guesses
        named = [f for f in found if f["nom"] == Path(deposit).name]
        if not named and (aside := [f for f in withdrawn if f["nom"] == Path(deposit).name]):
            # the file the user names was withdrawn: said, not « does not hold »
            return None, _withdrawn(aside[0], found)
        if not named:
            return None, (f"le fichier {Path(deposit).name} donné par --depot ne contient pas exactement ces "
                          f"{len(wanted)} demandes (numeroEditeur et numLigne, dans le format de ce retour) ; "
                          f"les fichiers déposés qui les contiennent : {', '.join(f['nom'] for f in found)}")
        chosen = named[0]
        # one return answers one deposit: recorded for another file already, it is that file's
        # copy unless the user says the ASP gave the same answer to both (--confirmer)
        if chosen["id"] not in answered and (before := [answered[f["id"]] for f in found if f["id"] in answered]):
            if not confirm:
                return None, _answered_elsewhere(before[0], chosen["nom"])
            return chosen, (f"Enregistré pour {chosen['nom']} comme demandé (--depot, --confirmer), bien "
                            f"qu'identique au retour {before[0]['fichier_retour']} enregistré pour {before[0]['nom']}.")
        return chosen, ""
    # a withdrawn file holding them too: the return may be its own (uploaded after all), said;
    # unless this very return was recorded for a live file already (--depot): given again, as before
    if (aside := [f for f in withdrawn if same(f)]) and not any(f["id"] in answered for f in found):
        if not (live := [f for f in found if same(f)]):
            return None, _withdrawn(aside[0], found)  # it is that file's, not the live one's
        return None, _withdrawn_or_live(aside[0], live)
    if len(found) > 1:
        found = [f for f in found if same(f)] or found
    if len(found) > 1 and (before := [f for f in found if f["id"] in answered]):
        # a copy of a return recorded before, or, without an impId to tell, the identical return
        # of a file deposited again unchanged (a rejected solde) that still awaits its answer
        waiting = [f for f in found if f["id"] not in answered and _awaits(book, f)]
        if waiting and returned.imp_id is None:
            return None, _identical_return(answered[before[0]["id"]], waiting)
        found = before
    if len(found) > 1 and all(f["id"] in answered for f in found):
        return found[0], ""  # recorded for each of them already (--depot, --confirmer): nothing new either way
    if len(found) > 1:
        found = [f for f in found if _awaits(book, f)] or found
    if len(found) == 1:
        return found[0], ""
    names = ", ".join(f["nom"] for f in found)
    return None, (f"plusieurs fichiers déposés contiennent exactement ces demandes ({names}) : rien n'est deviné. "
                  "Vérifiez sur le portail Ségur à quel dépôt ce retour répond, puis relancez avec --depot et son nom")


def _not_its_return(exact: list[sqlite3.Row]) -> str:
    """Why a return is recorded for none of the files `exact` holding its numeroEditeur at its
    numLigne: neither in their format nor their demandes (an avance's return, its solde here)."""
    names = ", ".join(f"{f['nom']} ({f['format']})" for f in exact)
    return (f"{UNRECOGNISED}le registre connaît ces numéros éditeur à ces numéros de ligne ({names}), mais ce retour ne "
            "répond pas à ce dépôt : ses balises ne sont pas celles de son format, et ses demandes ne sont pas les "
            "siennes (une avance et son solde portent le même numéro éditeur) ; c'est le retour d'un autre dépôt : "
            f"{ELSEWHERE}")


def _awaits(book: Ledger, file: sqlite3.Row) -> bool:
    """Whether the deposit file `file` still awaits its return (none of its demandes answered)."""
    return all(r["statut"] == DEPOSEE for r in book.file_demandes(file["id"]))


def _recorded_on(record: sqlite3.Row) -> str:
    return datetime.fromisoformat(record["enregistre_le"]).strftime("%d/%m/%Y")


def _answered_elsewhere(record: sqlite3.Row, named: str) -> str:
    """Why a return recorded for the deposit file of `record` is not recorded for the file `named`
    by --depot too, and what to do."""
    return (f"ce retour (même contenu, ou même impId) est déjà enregistré pour le dépôt {record['nom']} (fichier "
            f"{record['fichier_retour']}, le {_recorded_on(record)}) : un retour répond à un seul dépôt, rien n'est "
            f"enregistré pour {named}. Si c'est une copie de ce retour-là, il n'y a rien à faire ; si l'ASP a bien "
            f"rendu pour {named} un retour identique (mêmes demandes, mêmes réponses), vérifiez-le sur le portail "
            f"Ségur, puis relancez avec --depot {named} --confirmer")


def _identical_return(record: sqlite3.Row, waiting: list[sqlite3.Row]) -> str:
    """Why a return identical to one recorded for the deposit file of `record`, without an impId,
    is not taken for it while the files `waiting`, holding the same demandes, await theirs."""
    names = ", ".join(f["nom"] for f in waiting)
    return (f"ce retour, sans impId, est identique au retour {record['fichier_retour']} enregistré le "
            f"{_recorded_on(record)} pour le dépôt {record['nom']}, et {names}, qui contient les mêmes demandes, "
            f"attend encore son retour : rien n'est deviné. Si c'est une copie du retour de {record['nom']}, il n'y "
            f"a rien à faire ; si l'ASP l'a rendu pour {waiting[0]['nom']} (vérifiez-le sur le portail Ségur), "
            f"relancez avec --depot {waiting[0]['nom']} --confirmer")


def _withdrawn(file: sqlite3.Row, again: list[sqlite3.Row] = ()) -> str:
    """Why a return answering the withdrawn file `file` is not recorded, and what to do; `again`:
    the live files its demandes were deposited in again since (then its withdrawal cannot be
    undone until they are withdrawn)."""
    when = date.fromisoformat(file["retire_le"]).strftime("%d/%m/%Y")
    said = (f"ces demandes sont exactement celles du fichier {file['nom']}, retiré du registre le {when} (« xl2segur "
            f"retirer ») comme jamais déposé : si l'ASP y répond, il a été déposé ; ")
    if not again:
        return said + (f"annulez son retrait (« xl2segur retirer --annuler {file['nom']} »), puis enregistrez de "
                       "nouveau ce retour ; ses demandes, libérées par le retrait, ne doivent pas être déposées une "
                       "seconde fois")
    names = ", ".join(f["nom"] for f in again)
    command = f"xl2segur retirer {again[0]['nom']}" if len(again) == 1 else "xl2segur retirer NOM"
    return said + (f"ses demandes, libérées par le retrait, ont été déposées de nouveau depuis dans {names}. Si {names} "
                   f"n'a pas été déposé sur le portail, retirez-le (« {command} »), annulez le retrait de "
                   f"{file['nom']} (« xl2segur retirer --annuler {file['nom']} »), puis enregistrez de nouveau ce "
                   "retour ; s'il l'a été aussi, l'ASP a reçu ces demandes deux fois : signalez-le-lui")


def _withdrawn_or_live(file: sqlite3.Row, live: list[sqlite3.Row]) -> str:
    """Why a return is recorded neither for the withdrawn file `file` nor for the live files
    `live`, which hold the same demandes, the same content: it may answer either."""
    when = date.fromisoformat(file["retire_le"]).strftime("%d/%m/%Y")
    name = live[0]["nom"]
    return (f"ces demandes sont exactement celles du dépôt {name}, et aussi celles du fichier {file['nom']}, retiré "
            f"du registre le {when} (« xl2segur retirer ») comme jamais déposé, au même contenu : ce retour répond à "
            f"l'un ou à l'autre, rien n'est deviné. Vérifiez sur le portail Ségur le fichier déposé : si c'est {name}, "
            f"relancez avec --depot {name} ; si c'est {file['nom']}, il a été déposé malgré son retrait : si {name} "
            f"ne l'a pas été, retirez-le (« xl2segur retirer {name} »), annulez le retrait de {file['nom']} "
            f"(« xl2segur retirer --annuler {file['nom']} »), puis enregistrez de nouveau ce retour ; si les deux "
            "l'ont été, l'ASP a reçu ces demandes deux fois : signalez-le-lui")


def _outcome(line: ReturnLine) -> None:
    """The statut and result of one matched demande the ASP treated."""
    accepted = reads_accepted(line.label) or (line.nature == "avance" and bool(line.numero_asp))
    line.statut, line.result = (ACCEPTEE, ACCEPTED) if accepted else (REJETEE, REJECTED)
    if accepted and line.nature == "avance":
        if not line.numero_asp:
            line.remark = "Avance acceptée sans numéro ASP dans le retour : le solde ne pourra pas être pré-rempli."
        elif len(line.numero_asp) != 12:
            line.remark = "Numéro ASP inhabituel (12 caractères attendus) : vérifiez-le sur le portail."
        elif not reads_accepted(line.label):
            line.remark = ("Acceptée parce que l'ASP lui a donné un numéro ASP, malgré le libellé « "
                           f"{line.label or ''} » : vérifiez-la sur le portail.")
    if not accepted:
        line.numero_asp = None


def _amounts_changed(lines: list[ReturnLine], definition: FormatDefinition | None) -> None:
    """Said loudly, kept: a demande of a return whose amount is not the one deposited. Seeds 000 and 001, §1.2:
    « l'ASP met à disposition sur le portail Ségur du fournisseur le fichier JSON avec, pour chaque
    demande, un code de traitement et libellé de traitement »: the deposit file, its answers filled;
    they say nothing of an amount the ASP would change. The return is recorded, the ledger keeps the
    amount deposited (`etat`, the solde's ceiling), and the user is told to check it."""
    balise = next((f.balise for f in definition.demandes.fields if f.kind == "amount"), None) if definition else None
    for line in lines if balise else ():
        if line.amount is None:
            continue
        value: Any = line.data
        for key in definition.json_path(balise) or ():
            value = value.get(key) if isinstance(value, dict) else None
        try:
            same = isinstance(value, (int, float, str)) and not isinstance(value, bool) and \
                Decimal(str(value)) == Decimal(line.amount)
        except InvalidOperation:
            same = False
        if same:
            continue
        returned = "absent" if value is None else orjson.dumps(value).decode()
        said = (f"le {balise} de la demande {line.numero_editeur} dans ce retour ({returned}) n'est pas celui du "
                f"dépôt {line.deposit_file} ({line.amount}) : l'ASP rend le fichier déposé, ses réponses remplies. Le "
                "retour est enregistré, le registre garde le montant déposé ; vérifiez sur le portail Ségur le montant "
                "de cette demande, et que ce retour est bien celui de ce dépôt.")
        _alert([line], said)


def _contradiction(line: ReturnLine, row: sqlite3.Row) -> str:
    """The outcome recorded before that this one contradicts, and how ('' when it does not)."""
    if row["statut"] == DEPOSEE:
        return ""
    before = {ACCEPTEE: ACCEPTED, REJETEE: REJECTED}.get(row["statut"], row["statut"])
    if line.statut != row["statut"]:
        change = f"{before} → {line.result}"
    elif line.numero_asp and row["numero_asp"] and line.numero_asp != row["numero_asp"]:
        change = f"numéro ASP {row['numero_asp']} → {line.numero_asp}"
    else:
        return ""
    day = date.fromisoformat(row["date_retour"]).strftime("%d/%m/%Y") if row["date_retour"] else "?"
    return f"le retour enregistré le {day} (fichier {row['fichier_retour']}) : {change}"


def ingest(paths: list[Path], book: Ledger, *, confirm: bool = False, deposit: str | None = None) -> list[ReturnLine]:
    """Read every return file (all of them, before recording anything), then match each to
    its deposit file and record it; a file unknown, ambiguous or contradicting the ledger
    (unless `confirm`) is reported, not recorded."""
    read = [read_return(p) for p in paths]
    everything: list[ReturnLine] = []
    recorded: dict[int, str] = {}  # demande id → the return file of this command that answered it
    named = [{(returned.numero_ans, x.numero_editeur) for x in returned.lines} for returned in read]
    # --confirmer confirms the return given alone (the same file twice aside): among several, it
    # confirmed too a contradiction of another file the user had never seen (`retour *.json`)
    single = len({returned.digests[0] for returned in read}) == 1
    for i, returned in enumerate(read):
        everything += returned.lines
        # no other return of the command (another content) names one of its demandes: whatever
        # the arguments' order, an older return it alone can be brought back (--confirmer)
        alone = not any(named[i] & named[j] for j, other in enumerate(read) if other.digests[0] != returned.digests[0])
        # under the write lock from the match to the record: two `retour` at once cannot both
        # find no contradiction, then both record
        with book.transaction():
            _ingest_file(returned, book, confirm=confirm, deposit=deposit, recorded=recorded, alone=alone,
                         single=single)
    return everything


def _given_alone(path: Path) -> str:
    """How to confirm one return of a command that gave several (`ingest`: --confirmer then confirms none)."""
    return (f"relancez avec ce seul fichier et --confirmer (« xl2segur retour {command_arg(path)} --confirmer ») : --confirmer "
            "ne vaut que pour un fichier de retour donné seul, il ne confirme jamais une contradiction que vous "
            "n'avez pas vue")


def _ingest_file(returned: ReturnFile, book: Ledger, *, confirm: bool, deposit: str | None,
                 recorded: dict[int, str], alone: bool = True, single: bool = True) -> None:
    """Match one return file to its deposit file and record it (`ingest`), or say why not.
    `recorded`: the demandes the command's files before it answered (their file), added to;
    `alone`: no other return of the command names its demandes (an older return recorded
    before, replaced since, is then brought back when confirmed: a mistaken --confirmer undone);
    `single`: the only return of the command, the one `confirm` may confirm."""
    lines = returned.lines
    found, reason = match_file(book, returned, deposit, confirm := confirm and single)
    if found is None:
        return _unmatched(lines, reason, None if single else returned.path)
    rows = {(r["numero_editeur"], r["num_ligne"]): r for r in book.file_demandes(found["id"])}
    definition = all_formats().get(found["format"])
    for line in lines:
        row = rows[_line_key(line)]
        line.format_id, line.deposit_file, line.amount = found["format"], found["nom"], row["montant"]
        line.demande_id, line.nature = row["id"], row["nature"]
        if line.code is None and line.label is None:
            line.result = UNTREATED
            line.remark = "codeTraitement et libelleTraitement sont vides : l'ASP ne l'a pas traitée."
            continue
        _outcome(line)
    if refusal := _whole_file(lines, definition):
        return _refuse(lines, refusal)
    treated = [x for x in lines if x.statut]
    back = None  # the first record of this very return, when it is brought back
    if (before := book.recorded_answer(found["id"], returned.digests)) is not None:
        if not (confirm and alone and any(_contradiction(x, rows[_line_key(x)]) for x in treated)):
            return _recorded_before(lines, rows, before, recorded, hint=alone)
        back = before
    twice, shared = _other_imports(book, found, returned)
    revived = [x for x in treated if rows[_line_key(x)]["statut"] == REJETEE and x.statut != REJETEE]
    again = _deposited_again(book, found, returned.numero_ans, revived)
    if again:
        listed = by_file(again)  # briefly: a whole file of 200 may be deposited again
        files = ", ".join(dict.fromkeys(again.values()))
        _refuse(lines, (
            f"Ce retour dit acceptées des demandes rejetées d'après le registre, et déposées de nouveau depuis ce "
            f"rejet : {listed}. Enregistré, il les laisserait déposées deux fois : rien n'est enregistré pour ce "
            f"fichier. Si {files} n'a pas été déposé sur le portail, retirez-le (« xl2segur retirer NOM »), puis "
            "enregistrez de nouveau ce retour ; s'il l'a été, l'ASP a reçu ces demandes deux fois : signalez-le-lui."))
        return _alert(lines, twice, shared)
    clashes = {x.numero_editeur: clash for x in treated if (clash := _contradiction(x, rows[_line_key(x)]))}
    among = {x.numero_editeur: recorded[x.demande_id] for x in treated
             if x.numero_editeur in clashes and x.demande_id in recorded}
    if among:  # nothing tells which of two returns given together is the newer: not the arguments' order
        _refuse(lines, (
            "Ce retour contredit le retour " + ", ".join(dict.fromkeys(among.values())) + ", donné dans la même "
            f"commande, pour {', '.join(among)} : rien n'est deviné, rien n'est enregistré pour ce fichier. "
            "Vérifiez sur le portail Ségur lequel des deux est le plus récent : si c'est celui-ci, enregistrez-le "
            "seul, avec --confirmer."))
        return _alert(lines, twice, shared)
    if clashes and not confirm:
        _contradicted(returned, clashes, single, twice)
        return _alert(lines, twice, shared)
    for x in treated:
        if x.numero_editeur in clashes and back is not None:
            x.remark = (f"Rétabli, comme demandé (--confirmer) : ce retour, enregistré le {_recorded_on(back)} (fichier "
                        f"{back['fichier_retour']}), remplace de nouveau {clashes[x.numero_editeur]}.")
        elif x.numero_editeur in clashes:
            x.remark = f"Remplace, comme demandé (--confirmer), {clashes[x.numero_editeur]}."
    _name_soldes_deposited(book, definition, returned.numero_ans,
                           [(x, rows[_line_key(x)]) for x in treated
                            if x.numero_editeur in clashes or rows[_line_key(x)]["statut"] == DEPOSEE])
    _amounts_changed(lines, definition)
    book.record_returns([(x.demande_id, x.statut, x.numero_asp, x.code, x.label, x.source) for x in treated],
                        digest=returned.digests[0], imp_id=returned.imp_id, confirmed=bool(clashes))
    recorded |= {x.demande_id: x.source for x in treated}
    for x in lines:  # recorded for the file --depot names, though recorded for another before
        x.remark = " ".join(filter(None, (reason, x.remark)))
    # confirmed over a contradiction, the user said this answer replaces the first import's
    _alert(lines, "" if clashes else twice, shared)
    accepted = {x.demande_id: x for x in treated if x.nature == "avance" and x.statut == ACCEPTEE}
    _numbered_twice(book, list(accepted.values()))
    for (one, other), said in funded_twice(book, list(accepted)).items():
        _alert([x for x in (accepted.get(one), accepted.get(other)) if x is not None], said)


def _contradicted(returned: ReturnFile, clashes: dict[str, str], single: bool, twice: str) -> None:
    """Nothing of the file recorded: its demandes that contradict the ledger (`clashes`: how)
    say so, and how to confirm it (`single`: given alone); the others, why. `twice`: the deposit
    was answered under another impId (`_other_imports`): not a newer answer to the same import,
    the first one still holds."""
    when = (f"si l'ASP vous confirme que ce retour, d'un autre import de ce dépôt (impId {returned.imp_id}), "
            "remplace sa première réponse, " if twice else "si ce retour est bien le plus récent, ")
    for x in returned.lines:
        if x.numero_editeur in clashes:
            x.remark = (f"{x.result} dans ce retour, qui contredit {clashes[x.numero_editeur]}. Rien n'est enregistré "
                        f"pour ce fichier : {when}"
                        + ("relancez avec --confirmer." if single else f"{_given_alone(returned.path)}."))
        else:
            x.remark = "Fichier non enregistré : une autre de ses demandes contredit le registre."
        x.result = REFUSED


def _other_imports(book: Ledger, found: sqlite3.Row, returned: ReturnFile) -> tuple[str, str]:
    """(what to say of the deposit file `found` answered before under another impId than this
    return's, what to say of this return's impId given before to another deposit file), each ''
    when there is nothing to say. Seeds 000, 001 and 003: impId « sera rempli par l'ASP pour
    identifier le fichier JSON »: one impId per file the ASP imports. Two for one deposit, it
    was imported twice (uploaded twice on the portal: its demandes may be there twice); one for
    two deposits, one of the two returns is not the file it seems. Neither tells which answer
    holds: said loudly, nothing is guessed (a contradiction is refused as ever)."""
    if returned.imp_id is None:
        return "", ""
    found_id, name = found["id"], found["nom"]
    twice = shared = ""
    # the first record of each (impId, file): under another impId for this file, under this one for
    # another file (a copy of this very return aside, recorded for another with --depot --confirmer)
    for r in book.db.execute(
            "SELECT * FROM (SELECT r.imp_id, d.fichier_id, f.nom, r.fichier_retour, r.enregistre_le, min(r.id) AS n "
            "FROM demandes d JOIN retours r ON r.demande_id = d.id JOIN fichiers f ON f.id = d.fichier_id "
            "WHERE d.fichier_id = ? AND r.imp_id IS NOT NULL AND r.imp_id != ? GROUP BY r.imp_id "
            "UNION ALL SELECT r.imp_id, d.fichier_id, f.nom, r.fichier_retour, r.enregistre_le, min(r.id) AS n "
            "FROM retours r JOIN demandes d ON d.id = r.demande_id JOIN fichiers f ON f.id = d.fichier_id "
            "WHERE r.imp_id = ? AND d.fichier_id != ? AND coalesce(r.empreinte, '') NOT IN (?, ?) "
            "GROUP BY d.fichier_id) ORDER BY n",
            (found_id, returned.imp_id, returned.imp_id, found_id, *returned.digests)).fetchall():
        if r["fichier_id"] == found_id and not twice:
            twice = (f"ce retour porte l'impId {returned.imp_id}, et le retour {r['fichier_retour']}, enregistré le "
                     f"{_recorded_on(r)} pour le même dépôt {name}, l'impId {r['imp_id']} : l'ASP remplit l'impId « pour "
                     "identifier le fichier JSON » qu'elle importe, ce dépôt a donc été importé deux fois sur le portail "
                     "Ségur. Vérifiez-le sur le portail : si ses demandes y sont deux fois, signalez-le à l'ASP (numeroAns "
                     f"{returned.numero_ans}, fichier {name}) pour qu'elle n'en traite qu'une.")
        elif r["fichier_id"] != found_id and not shared:
            shared = (f"l'impId {returned.imp_id} de ce retour est aussi celui du retour {r['fichier_retour']}, enregistré "
                      f"le {_recorded_on(r)} pour un autre dépôt, {r['nom']} : l'ASP remplit l'impId « pour identifier "
                      "le fichier JSON », un seul fichier par impId. L'un de ces deux fichiers de retour n'est pas celui "
                      f"qu'il paraît (modifié, ou rendu pour un autre dépôt) : vérifiez sur le portail Ségur les réponses "
                      f"de l'ASP aux dépôts {name} et {r['nom']}.")
    return twice, shared


def _alert(lines: list[ReturnLine], *said: str) -> None:
    """Said loudly (`retour`'s « Attention : », in red in the review): each text of `said` for
    every demande of `lines`."""
    for text in filter(None, said):
        for x in lines:
            x.warning = " ".join(filter(None, (x.warning, text)))
            x.remark = " ".join(filter(None, (x.remark, f"{ALERT}{text}")))


def _numbered_twice(book: Ledger, accepted: list[ReturnLine]) -> None:
    """Said loudly, kept as given: an accepted avance whose numeroASP another live avance holds
    (in this return or recorded before). **Inferred**: seed 001 does not say it is unique, but it
    is the « Référence ASP de la demande », which « permettra de faire le lien avec le fichier de
    demande de solde »: two avances under one number, the solde of one would name the other's."""
    holders: dict[str, list[sqlite3.Row]] = {}
    for r in book.avances_numbered({x.numero_asp for x in accepted if x.numero_asp}):
        holders.setdefault(r["numero_asp"], []).append(r)
    for x in accepted:
        if others := [r for r in holders.get(x.numero_asp or "", ()) if r["id"] != x.demande_id]:
            said = (f"le numéro ASP {x.numero_asp} de l'avance {x.numero_editeur} est aussi celui "
                    + ("de l'avance " if len(others) == 1 else "des avances ")
                    + ", ".join(f"{r['numero_editeur']} (fichier {r['nom']})" for r in others)
                    + " au registre : l'ASP donne à chaque demande acceptée sa propre référence, que reprend son solde. "
                    "Rien n'est changé : vérifiez sur le portail Ségur le numéro ASP de chacune avant de préparer "
                    "leur solde.")
            _alert([x], said)


def funded_twice(book: Ledger, demande_ids: list[int] | None = None) -> dict[tuple[int, int], str]:
    """(avance rejected before, the other) ids → what to tell the user, in French, for each pair
    of avances that may fund one client twice (`Ledger.funded_twice`: the first rejected by the
    ASP, then accepted by a later return, confirmed; the other written since under a new number,
    as seed 001 asks, « Si la demande est rejetée, un nouveau numéro unique doit être généré par
    l'éditeur pour soumettre à nouveau cette demande », sharing a FINESS with it), in the same
    family of formats. Nothing tells which one the ASP pays: the user checks, the ledger says
    both numbers. Seed 002 (and 004, « ne peut bénéficier que d'une seule commande »): « Chaque
    Client éligible ne peut bénéficier que d'une Prestation Ségur financée au titre du SONS »:
    once per SONS (one format, its avances; in another, a client may be funded again), where
    the format says what identifies its client (`FormatDefinition.client`: an ESMS, by its
    FINESSGeo, seed 000 §3.1; not the OG, whose ESMS are funded each), else by any FINESS."""
    formats = all_formats()
    said = {}
    for r in book.funded_twice(demande_ids):
        if r["autre_format"] != r["format"]:
            continue
        shared = r["communs"]
        if (key := getattr(formats.get(r["format"]), "client", None)) is not None:
            mine = json_values(book.demande(r), key)
            other = json_values(book.demande({k.removeprefix("autre_"): r[k] for k in
                                          ("autre_fichier_id", "autre_num_ligne", "autre_demande_json")}), key)
            shared = ", ".join(sorted(mine & other))
            if not shared:
                continue
        said[(r["id"], r["autre_id"])] = (
            f"l'avance {r['ne']} (fichier {r['nom']}, {STATE_SAID[r['statut']]}) avait été rejetée par l'ASP, et l'avance "
            f"{r['autre_ne']} (fichier {r['autre_nom']}, {STATE_SAID[r['autre_statut']]}), déposée depuis ce rejet sous un "
            f"nouveau numéro éditeur, a des {key or 'FINESS'} en commun avec elle ({shared}) : toutes deux sont en cours au "
            "registre, le même client serait financé deux fois. Vérifiez sur le portail Ségur : si le fichier "
            f"{r['autre_nom']} n'a pas été déposé, retirez-le (« xl2segur retirer {r['autre_nom']} ») ; s'il l'a été, "
            f"signalez-le à l'ASP (demandes {r['ne']} et {r['autre_ne']}, numeroAns {r['numero_ans']}) pour qu'elle "
            "n'en finance qu'une.")
    return said


def _recorded_before(lines: list[ReturnLine], rows: dict[tuple[str, int], sqlite3.Row], before: sqlite3.Row,
                     recorded: dict[int, str], hint: bool = False) -> None:
    """The same return again (saved again, re-encoded): its answer is recorded once, never a
    second time, unless a later return replaced it since and it is given with --confirmer, and
    alone (`_ingest_file`): given again among the older returns (`retour retours/*.json`) it
    would bring back an outdated answer. `hint`: given alone, without --confirmer, the way to
    bring it back is said. Its demandes join `recorded`: a return of the same command
    contradicting it is refused, as it would have been in the command that recorded it."""
    when = datetime.fromisoformat(before["enregistre_le"]).strftime("%d/%m/%Y")
    for x in lines:
        row = rows[_line_key(x)]
        note = f"Ce retour est déjà enregistré le {when} (fichier {before['fichier_retour']}) : rien de nouveau."
        if x.statut and _contradiction(x, row):
            day = date.fromisoformat(row["date_retour"]).strftime("%d/%m/%Y") if row["date_retour"] else "?"
            now = {ACCEPTEE: ACCEPTED, REJETEE: REJECTED}[row["statut"]] + (
                f", numéro ASP {row['numero_asp']}" if row["numero_asp"] else "")
            note = (f"Ce retour est déjà enregistré le {when} (fichier {before['fichier_retour']}), et le retour "
                    f"{row['fichier_retour']}, enregistré le {day}, l'a remplacé depuis ({now}) : rien n'est changé.")
            if hint:
                note += (f" Si c'est au contraire ce retour-ci le plus récent ({row['fichier_retour']} enregistré par "
                         "erreur), donnez-le seul avec --confirmer : il le remplacera de nouveau.")
        elif x.statut:
            recorded[x.demande_id] = x.source
        x.remark = " ".join(filter(None, (x.remark, note)))


def _unmatched(lines: list[ReturnLine], reason: str, among: Path | None = None) -> None:
    """The lines of a return matched to no deposit file (`match_file`'s `reason`): « Inconnue du
    registre » when no deposit file holds its demandes; else recognised, « Non enregistrée »: the
    deposit it answers is uncertain (several, a withdrawn twin), not unknown. `among`: its path,
    given among other returns (--confirmer, which the reason may ask for, then confirms none)."""
    if among is not None and "--confirmer" in reason:
        reason = f"{reason} ; pour cela, {_given_alone(among)}"
    known = not reason.startswith(UNRECOGNISED)
    for line in lines:
        line.result = REFUSED if known else UNKNOWN
        line.remark = f"{RECOGNISED if known else ''}{reason}. Rien n'est enregistré."


def _refuse(lines: list[ReturnLine], remark: str) -> None:
    """Nothing of the file recorded: every demande « Non enregistrée », with the reason."""
    for x in lines:
        x.result, x.remark = REFUSED, remark


def _whole_file(lines: list[ReturnLine], definition: FormatDefinition | None) -> str:
    """Where the file's format is recorded only if all its demandes pass (seed 000 §1.2: « Les
    demandes de solde sont définitivement enregistrées dans le portail Ségur seulement lorsque
    l'ensemble des demandes d'un JSON sont passantes »): one solde rejected, the others,
    accepted or left untreated, are rejected too; none rejected but one left untreated, the
    accepted ones may not be recorded: the reason to refuse the file (else '')."""
    whole = definition is None or definition.recorded_only_if_all_pass
    soldes = [x for x in lines if x.nature == "solde"]
    if whole and any(x.statut == REJETEE for x in soldes):
        for x in soldes:
            if x.statut != REJETEE:  # a rejection has no numéro ASP (`_outcome`): none in the history either
                x.statut, x.result, x.numero_asp = REJETEE, REJECTED, None
                x.remark = ("Non enregistrée par l'ASP : une autre demande de ce fichier de solde est rejetée "
                            "(un fichier de solde n'est enregistré que si toutes ses demandes passent). "
                            "Redéposez-la dans un nouveau fichier.")
    elif whole and any(x.statut == ACCEPTEE for x in soldes) and any(x.statut is None for x in soldes):
        left = ", ".join(x.numero_editeur for x in soldes if x.statut is None)
        return (f"L'ASP n'a pas traité {left} dans ce retour (codeTraitement et libelleTraitement vides) : un fichier "
                "de solde n'est enregistré que si toutes ses demandes passent, les soldes acceptées de ce fichier ne "
                "le sont peut-être pas. Rien n'est enregistré pour ce fichier : vérifiez sur le portail Ségur, puis "
                "enregistrez le retour où toutes ses demandes sont traitées.")
    return ""


def _name_soldes_deposited(book: Ledger, definition: FormatDefinition | None, numero_ans: str,
                           changed: list[tuple[ReturnLine, sqlite3.Row]]) -> None:
    """For each avance this return answers for the first time, or whose outcome or numeroASP it
    replaces (`changed`: the line and what the ledger held), the solde deposited already, if
    any (a solde may be converted before its avance's return, with a warning), named in its
    remark when its avance is now rejected, or when it carries another numeroASP than the one
    the ASP gives the avance (seed 000: « C'est le même numéro renseigné pour l'avance que pour
    le solde », and the solde names its avance's dossier ASP)."""
    avances = [(x, row) for x, row in changed if x.nature == "avance"]
    if not avances or definition is None or not definition.solde_format:
        return
    soldes = book.live_deposits(numero_formats(definition.solde_format), numero_ans, [x.numero_editeur for x, _ in avances])
    formats = all_formats()
    for x, row in avances:
        solde = soldes.get(x.numero_editeur)
        if solde is None:
            continue
        if x.statut == REJETEE:
            x.remark = " ".join(filter(None, (x.remark, (
                f"Son solde est déjà déposé (fichier {solde['nom']}) pour cette avance désormais rejetée, qui n'en a "
                f"pas : s'il n'a pas été déposé sur le portail, retirez-le (« xl2segur retirer {solde['nom']} »), "
                "« xl2segur solde » prépare de nouveau les autres soldes qu'il contient ; s'il l'a été, voyez avec "
                "l'ASP."))))
            continue
        given = _numero_asp_of(formats.get(solde["format"]), book.demande(solde))
        if given and x.numero_asp and given != x.numero_asp:
            x.remark = " ".join(filter(None, (x.remark, (
                f"Son solde est déjà déposé (fichier {solde['nom']}) avec le numéro ASP {given} : s'il n'a pas été "
                f"déposé sur le portail, retirez-le (« xl2segur retirer {solde['nom']} ») puis préparez-le de nouveau "
                "(« xl2segur solde ») ; s'il l'a été, voyez avec l'ASP."))))


def _numero_asp_of(solde: FormatDefinition | None, demande: dict[str, Any]) -> str | None:
    """The numeroASP a deposited solde names (its balise of kind `numero_asp`)."""
    balise = next((f.balise for f in solde.demandes.fields if f.kind == "numero_asp"), None) if solde else None
    value: Any = demande
    for key in (solde.json_path(balise) or ()) if balise else ():
        value = value.get(key) if isinstance(value, dict) else None
    return value if balise and isinstance(value, str) else None


def _deposited_again(book: Ledger, found: sqlite3.Row, numero_ans: str, revived: list[ReturnLine]) -> dict[str, str]:
    """numeroEditeur → deposit file, for the demandes of `revived` (recorded rejected, now
    accepted: live again in `found`) live meanwhile in another deposit file of a format sharing
    their numeroEditeur (a rejected solde comes back under its number: seed 000, « C'est le même
    numéro renseigné pour l'avance que pour le solde »)."""
    if not revived:
        return {}
    family = numero_formats(found["format"]) if found["format"] in all_formats() else (found["format"],)
    return book.already_deposited(family, numero_ans, [x.numero_editeur for x in revived])


def codes_met(lines: list[ReturnLine]) -> dict[str, dict[str, int]]:
    """codeTraitement → {result: count}, for the codes the ASP gave (they are not published), with
    the outcome the ASP gave them: a solde it accepted but recorded rejected with its file
    (`_whole_file`) is counted accepted, or its « 0 » would read as a rejection's code."""
    found: dict[str, dict[str, int]] = {}
    for x in lines:
        if x.code is not None and x.result in (ACCEPTED, REJECTED):
            result = ACCEPTED if reads_accepted(x.label) else x.result
            counts = found.setdefault(x.code, {})
            counts[result] = counts.get(result, 0) + 1
    return found


COLUMNS = [("Fichier de retour", 34), ("numLigne", 9), ("numeroEditeur", 14), ("Format", 22), ("Résultat", 20),
           ("numeroASP", 15), ("codeTraitement", 15), ("libelleTraitement", 50), ("Fichier déposé", 34),
           ("Montant HT", 12), ("Remarque", 60)]


def write_review(lines: list[ReturnLine], target: Path) -> Path:
    """The review workbook: one row per demande read; numLigne and the amount are numbers (to
    sort and sum), every other cell text (values read from files are never formulas)."""

    def write(tmp: Path) -> None:
        # texts inline (constant_memory, rows written in order): Book's worksheets write a text
        # like « <r>…</r> » as text, where xlsxwriter takes it for its own rich text, unescaped
        book = Book(tmp, {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
                          "constant_memory": True})
        ws = book.add_worksheet("Retour ASP")
        bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        # at the top of their cells: a row grown for its long remark reads from its first line
        fills = {"Acceptée": book.add_format({"bg_color": "#E2EFDA", "valign": "top"}),
                 "Rejetée": book.add_format({"bg_color": "#FCE4D6", "valign": "top"})}
        other = book.add_format({"bg_color": "#FFF2CC", "valign": "top"})
        money = book.add_format({"num_format": "#,##0.00", "valign": "top"})
        top = book.add_format({"valign": "top"})
        # a long remark wrapped in its column: overflowing, it shrank the page printed one page wide
        wrapped = book.add_format({"text_wrap": True, "valign": "top"})
        alert = book.add_format({"text_wrap": True, "valign": "top", "bold": True, "font_color": "#C00000"})
        for col, (title, width) in enumerate(COLUMNS):
            ws.write_string(0, col, title, bold)
            ws.set_column(col, col, width)
        for row, x in enumerate(lines, start=1):
            values = [x.source, str(x.num_ligne), x.numero_editeur, x.format_id, x.result, x.numero_asp, x.code,
                      x.label, x.deposit_file, x.amount, x.remark]
            for col, value in enumerate(values):
                if col == 1 and isinstance(x.num_ligne, int):
                    ws.write_number(row, col, x.num_ligne)
                elif col == 9 and _is_amount(x.amount):
                    ws.write_number(row, col, float(x.amount), money)
                elif col == 10:  # the remark, said loudly when this avance may fund a client twice
                    ws.write_string(row, col, value, alert if x.warning else wrapped)
                    if len(value) > 55:  # its height is not fitted on opening: about 55 characters a line
                        ws.set_row(row, 15 * (len(value) // 55 + 1), top)
                else:
                    ws.write_string(row, col, "" if value is None else str(value),
                                    fills.get(x.result, other) if col == 4 else None)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(lines), 1), len(COLUMNS) - 1)
        # printed one page wide: a demande's result on the same page as its numeroEditeur
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        book.close()

    return write_new_numbered(Path(target), write)


def _is_amount(value: object) -> bool:
    """An amount as the ledger keeps it (« 4866.67 »): written as a number."""
    return isinstance(value, str) and re.fullmatch(r"\d{1,13}(\.\d{1,2})?", value) is not None


def default_review(folder: Path) -> Path:
    """The review workbook's default path: beside the return files (the ledger may be a
    per-user or a team's file, no place for it)."""
    return Path(folder) / f"retour-ASP-{date.today():%Y%m%d}.xlsx"
