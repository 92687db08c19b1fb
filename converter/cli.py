"""`xl2segur`: a thin typer layer over converter.api. All wording is French."""

from __future__ import annotations

import atexit
import glob
import os
import sys
import threading
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape

from . import api
from .cli_fr import CommandeFr, GroupeFr  # French help screens and usage errors
from .console import tolerate_console_encoding
from .files import OutputError, near_file, typed_path, why, writable
from .issues import Issue, shown, visible
from .wording import counted
from .ledger import ENVIRONMENT, WITHDRAWN, LedgerNotFound
from .funding.amounts import format_rate
from .funding.cli_text import InputError, plafond_hop_text, plafond_sfp_text
from .formats import UnknownFormat, all_formats
from .progress import progress_line

app = typer.Typer(
    help="Convertit les classeurs Excel de demandes Ségur numérique en fichiers JSON de dépôt ASP.",
    no_args_is_help=True, add_completion=False, rich_markup_mode=None, cls=GroupeFr,
    context_settings={"help_option_names": ["-h", "--help"]},
)
# the terminal wraps, a pipe or a log gets whole lines; no emoji: a value typed « :fire: » is
# shown as typed (markup.escape leaves emoji codes alone)
out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

WARNINGS_SHOWN_PER_CODE = 5
ADVANCES_SHOWN = 10  # advances listed one by one in the summary; all of them in --rapport
ERRORS_SHOWN = 200  # beyond, read them in the error workbook: a terminal of thousands of lines helps no one
FILES_SHOWN = 5  # deposit files (and archives) listed by name; then a count and the folder, whatever the size
STATUS_ROWS_SAID = 50_000  # rows of the etat workbook from which its writing is announced (~10 s)


def euros(amount: Decimal) -> str:
    """
    >>> euros(Decimal("14866.5"))
    '14 866,50 €'
    """
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",") + " €"


def _after_colon(text: str) -> str:
    """French typography: no capital after a colon, except for a word in capitals (ASP, FINESS).

    >>> _after_colon("Le fichier existe"), _after_colon("ASP injoignable"), _after_colon("format inconnu")
    ('le fichier existe', 'ASP injoignable', 'format inconnu')
    """
    return text[0].lower() + text[1:] if len(text) > 1 and text[0].isupper() and text[1].islower() else text


def _fail(text: str, code: int = 2) -> None:
    err.print(f"[bold red]Erreur :[/] {escape(_after_colon(text))}")
    raise typer.Exit(code)


def _what(exc: Exception) -> str:
    """An exception as a user may pass it on: its type and the first line of its text."""
    detail = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__} : {detail}" if detail else type(exc).__name__


def _unexpected(classeur: Path, exc: Exception) -> str:
    """The CLI boundary: an unexpected failure on a user's file becomes a French message (exit 2).

    The library raises (tests see real bugs); only the commands turn it into this text."""
    if isinstance(exc, OSError) and (exc.filename or exc.errno):  # a system call on a path
        return f"« {exc.filename or classeur} » : {why(exc)}. Vérifiez le chemin et les droits d'accès."
    return (f"le classeur « {classeur} » n'a pas pu être traité ({_what(exc)}). "
            "Ouvrez-le dans Excel ou LibreOffice, enregistrez-le au format « Classeur Excel (.xlsx) » "
            "et recommencez ; si le problème persiste, transmettez ce fichier à l'équipe xl2segur.")


def _near(typed: Path, what: str, folder: bool = False) -> Path:
    """`typed`, or the one file (`folder`: folder) whose name differs from it only by case or
    Unicode form (files.near_file: a name unzipped from a macOS archive), said."""
    near = None if _exists(typed) else near_file(typed, folder)
    if near is None:
        return typed
    said = f"[yellow]avertissement[/] : aucun {'dossier' if folder else 'fichier'} ne s'appelle exactement « {escape(typed.name)} »"
    if unicodedata.normalize("NFC", near.name) == unicodedata.normalize("NFC", typed.name):  # two names shown alike
        out.print(f"{said} : {what} qui porte ce nom l'écrit avec d'autres codes pour ses accents (macOS sépare la "
                  "lettre et son accent), une différence invisible à l'écran ; il est utilisé. Pour ne plus voir cet "
                  "avertissement, renommez-le en retapant son nom.")
    else:
        out.print(f"{said} ; {what} « {escape(near.name)} », dont le nom n'en diffère que par les majuscules ou "
                  "l'écriture des accents, est utilisé.")
    return near


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods")


def _exists(path: Path) -> bool:
    """Whether `path` exists; a name the system refuses (too long…) is none, its reading says why."""
    try:
        return path.exists()
    except OSError:
        return False


def _workbook(classeur: Path) -> Path:
    """The workbook typed, or near it (`_near`); typed without its extension, which Windows
    hides (« demandes » for demandes.xlsx), the one workbook of that name with one, said."""
    found = _near(classeur, "le classeur")
    if _exists(found) or classeur.suffix.lower() in WORKBOOK_SUFFIXES:
        return found
    try:
        named = [p for p in (classeur.with_name(classeur.name + s) for s in WORKBOOK_SUFFIXES)
                 if p.is_file() or near_file(p) is not None]
    except OSError:  # a name the system refuses (too long…): its reading says why
        named = []
    if len(named) != 1:
        return found
    near = named[0] if named[0].is_file() else near_file(named[0])
    assert near is not None
    out.print(f"[yellow]avertissement[/] : aucun fichier ne s'appelle exactement « {escape(classeur.name)} » ; "
              f"le classeur « {escape(near.name)} » (Windows masque les extensions connues : son nom "
              f"affiché était « {escape(classeur.name)} ») est utilisé.")
    return near


def _expanded(fichiers: list[Path]) -> list[Path]:
    """The files named, a pattern (`retours/*.json`) replaced by the files it matches, in name
    order: the Windows console hands it over as typed, where a Unix shell expands it. Hidden
    files are not matched (`._JSON-….json`, macOS's AppleDouble companion, is no return file);
    a pattern that matches nothing stays, its reading says it is not found."""
    found: list[Path] = []
    for fichier in fichiers:
        matches = [Path(m) for m in sorted(glob.glob(str(fichier))) if Path(m).is_file()] \
            if glob.has_magic(str(fichier)) and not _exists(fichier) else []
        found.extend(matches or [fichier])
    return found


def _pieces(pieces: Optional[Path]) -> Optional[Path]:
    """The folder of --pieces, as typed or near (`_near`)."""
    return None if pieces is None else _near(pieces, "le dossier des pièces", folder=True)


def _parse_day(value: Optional[str]) -> Optional[date]:
    if value is None:
        return None
    try:
        if not (len(value) == 8 and value.isascii() and value.isdigit()):
            raise ValueError(value)  # strptime reads « 2024031 » as 20240301: a digit missing, a wrong date
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        _fail(f"--date-depot attend une date AAAAMMJJ, par exemple 20240312 (reçu « {value} »).")


def _count(n: int) -> str:
    """
    >>> _count(1234)
    '1 234'
    """
    return f"{n:,}".replace(",", " ")


def _in_report(asked: bool) -> str:
    """Where the whole list is: the report asked for (its name follows the summary), or how to ask for one."""
    if asked:
        return "le rapport (écrit ci-dessous)"
    return "le rapport (--rapport rapport.json)"


def _issue_line(label: str, issue: Issue) -> str:
    """« ERREUR feuille « Demandes », ligne 2… : message », or, for a problem nothing locates
    (a ledger's, an archive's), « avertissement : message »: never « avertissement Le registre »."""
    located = issue.location() or issue.whole_file()
    return f"{label}{' ' if located else ' : '}{escape(issue.render())}"


def _print_issues(outcome: api.Outcome, report: bool) -> None:
    """The first ERRORS_SHOWN errors; of each warning code, the first WARNINGS_SHOWN_PER_CODE, then one line that
    counts the others. Only the terminal is summarised: the report and the error workbook keep
    every issue."""
    errors = outcome.errors
    for found in errors[:ERRORS_SHOWN]:
        out.print(_issue_line("[red]ERREUR[/]", found))
    if len(errors) > ERRORS_SHOWN:
        where = f"le classeur d'erreurs et {_in_report(report)}" if outcome.error_workbook else \
            f"{_in_report(report)} et le classeur d'erreurs (--erreurs erreurs.xlsx)"
        hidden = len(errors) - ERRORS_SHOWN
        others = "autre erreur" if hidden == 1 else "autres erreurs"  # as the warnings' line below
        out.print(f"[red]… et {_count(hidden)} {others}[/] : toutes sont dans {where}.")
    shown, totals = outcome.warnings.first_of_each_code(WARNINGS_SHOWN_PER_CODE)
    for found in shown:
        out.print(_issue_line("[yellow]avertissement[/]", found))
    for code, total in totals.items():
        hidden = total - WARNINGS_SHOWN_PER_CODE
        if hidden > 0:
            others = "autre avertissement" if hidden == 1 else "autres avertissements"
            out.print(f"… et {_count(hidden)} {others} du même type (code {code}) : voir {_in_report(report)}.")


def _written_as_xlsx(outcome: api.Outcome) -> str:
    """What the summary adds after the error workbook of an .ods: it is an .xlsx all the same."""
    if outcome.workbook.suffix.lower() != ".ods":
        return ""
    return (" (enregistré au format Excel .xlsx, le seul que xl2segur écrit : LibreOffice Calc l'ouvre, "
            "et vous pouvez le corriger puis le reconvertir tel quel)")


def _print_paths(paths: list[Path], others: str, report: bool, unreported: str) -> None:
    """The first FILES_SHOWN paths, then how many more and where: the summary of 500 files
    stays a few lines (all of them are in --rapport). Without a report, `unreported` says where
    the others are: convertir run again with --rapport would list none (they are in the ledger)."""
    shown = paths if len(paths) <= FILES_SHOWN + 1 else paths[:FILES_SHOWN]  # never « … et 1 autre »
    for path in shown:
        out.print(f"  {escape(str(path))}")
    if len(paths) > len(shown):
        hidden, folder = len(paths) - len(shown), paths[len(shown)].parent
        where = f" : liste complète dans {_in_report(report)}" if report else unreported
        out.print(f"  … et {_count(hidden)} {others} dans {escape(str(folder))}{where}")


def _print_outcome(outcome: api.Outcome, *, converting: bool, report: bool = False) -> None:
    """The summary; `report`: a JSON report was asked for (--rapport), where every detail left out is."""
    _print_issues(outcome, report)
    if outcome.unreadable:
        out.print("[bold red]Classeur inutilisable :[/] corrigez le problème ci-dessus et relancez.")
        return
    out.print()
    out.print(f"Format : {outcome.format_id}")
    if not outcome.produces_deposit:  # order-check workbook: one row per bon de commande
        out.print(f"Commandes lues : {outcome.demandes}")
        out.print(f"Commandes conformes : {len(outcome.accepted)}")
        out.print(f"Commandes en erreur : {len(outcome.rejected)}")
        out.print(f"Erreurs : {len(outcome.errors)} — avertissements : {len(outcome.warnings)}")
        if outcome.error_workbook:
            out.print(f"Classeur d'erreurs : {outcome.error_workbook}{_written_as_xlsx(outcome)}")
        return
    out.print(f"Demandes lues : {outcome.demandes}")
    out.print(f"Demandes acceptées : {len(outcome.accepted)}")
    out.print(f"Demandes rejetées : {len(outcome.rejected)}")
    out.print(f"Erreurs : {len(outcome.errors)} — avertissements : {len(outcome.warnings)}")
    out.print(f"Total HT des demandes acceptées : {euros(outcome.total_ht)}")
    expected = outcome.expected_advances()
    if expected is not None:
        rate = format_rate(outcome.advance_rate)
        out.print(f"Total TTC des demandes au régime TTC (montant HT × 1,2) : {euros(expected.total_ttc)}")
        out.print(f"Avance attendue ({rate} du montant TTC, ou HT au régime HT) : {euros(expected.total)}")
        for ne, a in expected.first(ADVANCES_SHOWN).items():  # only these become Decimals
            ttc = f", TTC {euros(a.amount_ttc)}" if a.amount_ttc is not None else ""
            out.print(f"  demande {ne} : {euros(a.avance)} ({rate} du {a.base} ; montant HT {euros(a.amount_ht)}{ttc})")
        if expected.frame.height > ADVANCES_SHOWN:
            out.print(f"  … et {_count(expected.frame.height - ADVANCES_SHOWN)} autres demandes : détail dans "
                      f"{_in_report(report)}")
    if converting:
        out.print(f"Fichiers de dépôt écrits : {len(outcome.files)}")
        _print_paths(outcome.files, "autres fichiers de dépôt", report,
                     " : « xl2segur etat » les nomme tous (feuille « Demandes » de son classeur)")
        if outcome.archives:
            out.print(f"Archives des pièces justificatives : {len(outcome.archives)}")
            _print_paths(outcome.archives, "autres archives", report,
                         ", chacune à côté du fichier de dépôt dont elle porte le nom")
        if outcome.registre and outcome.files:
            out.print(f"Registre des dépôts : {outcome.registre}")
        if outcome.error_workbook:
            if outcome.errors.codes() == {"deja_deposee"}:  # nothing to fix: all deposited before
                out.print("Classeur des demandes refusées parce que déjà déposées (rien à corriger, ne le "
                          f"reconvertissez pas) : {outcome.error_workbook}")
            else:
                out.print("Classeur des demandes rejetées, à corriger puis reconvertir : "
                          f"{outcome.error_workbook}{_written_as_xlsx(outcome)}")


@app.command("formats", cls=CommandeFr)
def formats_command() -> None:
    """Liste les formats connus : de dépôt, et de vérification des bons de commande."""
    for definition in all_formats().values():
        out.print(f"{definition.id:<24} {escape(definition.title)}  [dim]({escape(definition.source)})[/]")


@app.command("modele", cls=CommandeFr)
def modele(
    format_id: Annotated[str, typer.Argument(metavar="FORMAT", help="Identifiant du format (voir « xl2segur formats »).")],
    sortie: Annotated[Path, typer.Option("-o", "--sortie", parser=typed_path, help="Classeur à créer (.xlsx), ou dossier où l'écrire ; jamais écrasé.")] = Path(api.TEMPLATE_NAME),
) -> None:
    """Écrit le classeur vierge d'un format, à remplir dans Excel ou LibreOffice."""
    try:
        path = api.write_template(format_id, sortie)
    except UnknownFormat:
        _fail(f"format inconnu « {format_id} ». Formats connus : {', '.join(all_formats())}.")
    except OutputError as exc:
        _fail(str(exc))
    out.print(f"Modèle écrit : {path}")


RegistreOption = Annotated[Optional[Path], typer.Option(
    "--registre", metavar="FICHIER",
    help=f"Registre des dépôts (par défaut le fichier indiqué par la variable d'environnement {ENVIRONMENT}, "
         "sinon xl2segur.sqlite dans le dossier de données de l'utilisateur).")]


def _ledger(registre: Optional[Path], option: str = "--registre", create: bool = False) -> Path:
    """The command's ledger (api.find_ledger); says when an older version's one is taken over."""
    try:
        path, notices = api.find_ledger(registre, create=create)
    except LedgerNotFound as exc:
        _fail(str(exc.for_option(option)))
    except OutputError as exc:
        _fail(str(exc))
    for notice in notices:
        out.print(_issue_line("[yellow]avertissement[/]", notice))
    return path


RapportOption = Annotated[Optional[Path], typer.Option("--rapport", parser=typed_path, help="Écrit aussi un rapport JSON lisible par une machine.")]


def _report_folder(rapport: Optional[Path]) -> None:
    """The folder of --rapport made, or refused, before anything is written: a conversion whose
    files were deposited and recorded, then ended in « impossible d'écrire » on its report (exit
    2), looked like a conversion that failed."""
    if rapport is not None:
        target = api.report_path(rapport)
        try:
            writable(target.parent)
        except OutputError as exc:
            _fail(str(exc))
        try:
            os.stat(target)
        except FileNotFoundError:
            pass
        except OSError as exc:  # a name the system refuses (too long…)
            _fail(f"Impossible d'écrire le rapport « {target.name} » ({why(exc)}) : choisissez un autre nom.")


def _report(outcome: api.Outcome, rapport: Optional[Path]) -> None:
    if rapport is not None:
        try:
            out.print(f"Rapport écrit : {api.write_report(outcome, rapport)}")
        except OutputError as exc:
            _fail(str(exc))


QuietOption = Annotated[bool, typer.Option("-q", "--quiet", help="N'affiche pas la progression (jamais affichée hors d'un terminal).")]


@app.command("verifier", cls=CommandeFr)
def verifier(
    classeur: Annotated[Path, typer.Argument(metavar="CLASSEUR", help="Classeur rempli (.xlsx, ou .ods de LibreOffice).")],
    rapport: RapportOption = None,
    erreurs: Annotated[Optional[Path], typer.Option("--erreurs", parser=typed_path, help="Écrit aussi le classeur d'erreurs (.xlsx, jamais écrasé) s'il y a des erreurs.")] = None,
    quiet: QuietOption = False,
) -> None:
    """Vérifie un classeur et affiche toutes les erreurs ; n'écrit aucun fichier de dépôt."""
    classeur = _workbook(classeur)
    _report_folder(rapport)
    try:
        with progress_line(quiet) as progress:
            outcome = api.verify(classeur, errors=erreurs, progress=progress)
    except OutputError as exc:
        _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 — no traceback for any user file
        _fail(_unexpected(classeur, exc))
    _print_outcome(outcome, converting=False, report=rapport is not None)
    if erreurs is not None and outcome.produces_deposit and not outcome.unreadable:
        out.print(f"Classeur d'erreurs : {outcome.error_workbook}{_written_as_xlsx(outcome)}" if outcome.error_workbook
                  else "Aucune erreur : pas de classeur d'erreurs écrit.")
    _report(outcome, rapport)
    raise typer.Exit(outcome.exit_code)


@app.command("convertir", cls=CommandeFr)
def convertir(
    classeur: Annotated[Path, typer.Argument(metavar="CLASSEUR", help="Classeur rempli (.xlsx, ou .ods de LibreOffice).")],
    sortie: Annotated[Path, typer.Option("-o", "--sortie", help="Dossier des fichiers de dépôt.")] = Path("depot"),
    date_depot: Annotated[Optional[str], typer.Option("--date-depot", metavar="AAAAMMJJ", help="Date de dépôt (par défaut aujourd'hui).")] = None,
    rapport: RapportOption = None,
    pieces: Annotated[Optional[Path], typer.Option("--pieces", metavar="DOSSIER", help="Dossier des pièces justificatives : vérifiées, puis copiées dans des archives .zip à côté des fichiers de dépôt.")] = None,
    registre: RegistreOption = None,
    quiet: QuietOption = False,
) -> None:
    """Convertit un classeur en fichiers JSON de dépôt (200 demandes au plus chacun)."""
    day = _parse_day(date_depot)
    classeur = _workbook(classeur)
    # a deposit folder made on macOS keeps its decomposed « é »: the name typed would make a
    # second folder beside it, under the same name on screen, the deposits shared between the two
    sortie = _near(sortie, "le dossier de sortie", folder=True)
    _report_folder(rapport)
    try:
        with progress_line(quiet) as progress:
            outcome = api.convert(classeur, sortie, day, pieces=_pieces(pieces), registre=registre, progress=progress)
    except KeyboardInterrupt:
        out.print("\nConversion interrompue. Les fichiers de dépôt déjà écrits sont tous inscrits au registre, "
                  "aucun fichier n'est à moitié écrit : relancez la même commande, elle reprend là où elle "
                  "s'est arrêtée (les demandes déjà déposées sont signalées, pas déposées deux fois).")
        raise typer.Exit(130) from None
    except OutputError as exc:
        _fail(str(exc))
    except api.NotConvertible as exc:
        _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 — no traceback for any user file
        _fail(_unexpected(classeur, exc))
    _print_outcome(outcome, converting=True, report=rapport is not None)
    _report(outcome, rapport)
    raise typer.Exit(outcome.exit_code)


plafond_app = typer.Typer(
    help="Calcule le plafond, l'avance (40 %) et le solde (60 %) d'une Prestation Ségur vague 2.",
    no_args_is_help=True, rich_markup_mode=None, cls=GroupeFr,
)
app.add_typer(plafond_app, name="plafond")
TvaOption = Annotated[Optional[str], typer.Option("--tva", metavar="20|8.5|HT", help="Régime de TVA (par défaut : les trois).")]


def _print_plain(compute) -> None:
    try:
        typer.echo(compute())
    except InputError as exc:
        _fail(str(exc))


@plafond_app.command("hop-pfi-va2", cls=CommandeFr)
def plafond_hop_command(
    activite_combinee: Annotated[Optional[list[str]], typer.Option("--activite-combinee", help="Activité combinée 2022 du Client (Base des ES éligibles). Pour un établissement issu d'une fusion, une fois par établissement fusionné, ou « 10000 + 20000 » comme dans le classeur : le plafond est la somme de leurs plafonds.")] = None,
    prestation: Annotated[Optional[str], typer.Option("--prestation", metavar="V2|V1+V2", help="V2 (Vague 2) ou V1+V2 (Vague 1 + Vague 2).")] = None,
    tva: TvaOption = None,
) -> None:
    """Plafond HOP-PFI-Va2 : tranche, interpolation linéaire, avance et solde."""
    if activite_combinee is None or prestation is None:
        _fail("indiquez --activite-combinee et --prestation, par exemple : "
              "xl2segur plafond hop-pfi-va2 --activite-combinee 15000 --prestation V2")
    _print_plain(lambda: plafond_hop_text(activite_combinee, prestation, tva))


@plafond_app.command("sfp-lgc-va2", cls=CommandeFr)
def plafond_sfp_command(
    client: Annotated[Optional[str], typer.Option("--client", help="sage-femme, ipa, ide, masseur-kinesitherapeute, orthophoniste, orthoptiste, pedicure-podologue ou csi.")] = None,
    tranche: Annotated[Optional[str], typer.Option("--tranche", metavar="A..E", help="Tranche d'un centre de santé infirmier (csi).")] = None,
    tva: TvaOption = None,
) -> None:
    """Plafond SFP-LGC-Va2 : forfait par profession ou par tranche de CSI, avance et solde."""
    if client is None:
        _fail("indiquez --client, par exemple : xl2segur plafond sfp-lgc-va2 --client ide "
              "(ou --client csi --tranche B)")
    _print_plain(lambda: plafond_sfp_text(client, tranche, tva))




@app.command("retour", cls=CommandeFr)
def retour(
    fichiers: Annotated[list[Path], typer.Argument(metavar="FICHIER.json…", help="Fichiers JSON rendus par l'ASP après dépôt.")],
    registre: RegistreOption = None,
    sortie: Annotated[Optional[Path], typer.Option("-o", "--sortie", parser=typed_path, help="Classeur de bilan à écrire (par défaut retour-ASP-AAAAMMJJ.xlsx à côté du premier fichier de retour).")] = None,
    confirmer: Annotated[bool, typer.Option("--confirmer", help="Enregistre aussi le fichier de retour, donné seul, qui contredit un retour déjà enregistré (résultat ou numéro ASP), ou, avec --depot, un retour déjà enregistré pour un autre dépôt.")] = False,
    depot: Annotated[Optional[str], typer.Option("--depot", metavar="NOM", help="Nom du fichier déposé auquel répond le retour, quand plusieurs dépôts contiennent les mêmes demandes.")] = None,
) -> None:
    """Enregistre les retours de l'ASP (acceptée / rejetée, numéro ASP) et écrit un classeur de bilan."""
    from .returns import ALERT, RESULTS, UNKNOWN, REFUSED, codes_met

    registre = _ledger(registre)
    try:
        lines, review = api.ingest_returns(_expanded(fichiers), registre, sortie, confirm=confirmer, deposit=depot)
    except OutputError as exc:
        _fail(str(exc))
    counts: dict[str, int] = {}
    said_above: set[str] = set()
    for line in lines:
        counts[line.result] = counts.get(line.result, 0) + 1
        detail = line.numero_asp or line.label or ""  # the file's own texts: on one line, nothing the terminal obeys
        remark = line.remark
        if line.warning and line.warning in said_above:
            # a warning of the whole file (impId) is on each of its 200 demandes: once in full, then named
            remark = f"{remark.split(ALERT, 1)[0]}{ALERT}la même que pour la demande précédente"
        said_above.add(line.warning)
        out.print(f"{escape(shown(line.source))} — {escape(shown(line.numero_editeur))} : {escape(line.result)}"
                  + (f" — {escape(shown(detail))}" if detail else "")
                  + (f" [dim]({escape(visible(remark))})[/]" if remark else ""))
    out.print()
    answered = {line.source: line.deposit_file for line in lines if line.deposit_file}
    how = "désigné par --depot" if depot is not None else "reconnu à son contenu"  # --depot chose it, not its content
    for source, deposit_file in answered.items():
        out.print(f"Le retour {escape(shown(source))} répond au dépôt {escape(shown(deposit_file))} ({how})")
    out.print(f"Demandes lues : {len(lines)}")
    for label in RESULTS:
        if counts.get(label):
            out.print(f"  {label} : {counts[label]}")
    codes = codes_met(lines)
    if codes:
        met = " ; ".join(f"« {shown(code)} » : " + ", ".join(f"{result.lower()} {n}" for result, n in found.items())
                         for code, found in codes.items())
        out.print(f"Codes de traitement rencontrés : {escape(met)}")
    out.print(f"Classeur de bilan : {review}")
    for said in dict.fromkeys(line.warning for line in lines if line.warning):
        out.print(f"[bold red]Attention :[/] {escape(said)}")
    raise typer.Exit(1 if counts.get(UNKNOWN) or counts.get(REFUSED) else 0)


NOTHING_TO_SETTLE = ("Aucune avance acceptée par l'ASP, avec un numéro ASP, n'attend encore son solde dans le registre "
                     "« {registre} » : aucun classeur écrit. Les fichiers de retour de l'ASP s'enregistrent avec "
                     "« xl2segur retour » ; une avance y reçoit son numéro ASP quand elle est acceptée.")


@app.command("solde", cls=CommandeFr)
def solde(
    depuis: Annotated[Optional[Path], typer.Option("--depuis", "--registre", metavar="FICHIER", help="Registre des dépôts où lire les avances acceptées (par défaut celui de « xl2segur convertir »).")] = None,
    format_id: Annotated[Optional[str], typer.Option("--format", help="Format d'avance (ou de solde) ; facultatif si le registre n'en contient qu'un.")] = None,
    sortie: Annotated[Path, typer.Option("-o", "--sortie", metavar="DOSSIER", help="Dossier où écrire les classeurs de solde (par défaut le dossier courant).", show_default=False)] = Path("."),
) -> None:
    """Écrit le classeur de solde pré-rempli des avances acceptées (numéro ASP, OG, FINESS, scénarios)."""
    depuis = _ledger(depuis, "--depuis")
    try:
        solde_id, written = api.write_solde_workbooks(depuis, format_id, sortie)
    except UnknownFormat:
        _fail(f"format inconnu « {format_id} ». Formats connus : {', '.join(all_formats())}.")
    except LedgerNotFound as exc:  # name the option of this command, not retour's --registre
        _fail(str(exc.for_option("--depuis")))
    except OutputError as exc:
        _fail(str(exc))
    if not written:
        out.print(escape(NOTHING_TO_SETTLE.format(registre=depuis)))
        raise typer.Exit(0)
    for path, count in written:
        out.print(f"Classeur de solde ({solde_id}) écrit : {path} — {counted(count, 'demande')}")
    out.print(escape(solde_advice(sum(count for _, count in written), sum(w.refilled for w in written))))


def solde_advice(count: int, refilled: int) -> str:
    """What is left to do in the solde workbooks written: `refilled` of the `count` demandes got
    back their rejected solde's invoice date and amount, the others have them to complete."""
    then = "puis « xl2segur convertir » avec --pieces."
    if not refilled:
        return f"Complétez la date et le montant de chaque facture (et les colonnes restées vides), {then}"
    again = (f"{'reprend' if refilled == 1 else 'reprennent'} la date et le montant de facture de "
             f"{'son' if refilled == 1 else 'leur'} solde rejeté "
             "par l'ASP : vérifiez-les et corrigez ce qui a motivé le rejet")
    if refilled == count:
        return f"{'La demande' if count == 1 else 'Les demandes'} {again}, {then}"
    others = "l'autre" if count - refilled == 1 else f"les {count - refilled} autres"
    return (f"{counted(refilled, 'demande')} {again} ; pour {others}, complétez la date et le montant de chaque "
            f"facture (et les colonnes restées vides), {then}")


@app.command("etat", cls=CommandeFr)
def etat(
    registre: RegistreOption = None,
    sortie: Annotated[Optional[Path], typer.Option("-o", "--sortie", parser=typed_path, help="Classeur d'état à écrire (par défaut etat-registre-AAAAMMJJ.xlsx dans le dossier courant ; jamais écrasé).")] = None,
) -> None:
    """Affiche l'état du registre par format (sans retour, acceptées, rejetées, solde à déposer) et l'écrit dans un classeur."""
    registre = _ledger(registre)

    def known(found: Any) -> None:  # the figures first: the workbook of a large ledger takes longer
        out.print(f"Registre : {registre}")
        current = None
        for count in found.counts:
            if count.format_id != current:
                current = count.format_id
                out.print(f"{count.format_id} ({count.nature})")
            advance = f" — avance attendue {euros(count.advance)}" if count.advance is not None else ""
            out.print(f"  {count.label} : {count.demandes} — {euros(count.amount)} HT{advance}")
        if not found.counts:
            out.print("Aucune demande déposée dans ce registre.")
        for said in found.alerts:
            out.print(f"[bold red]Attention :[/] {escape(said)}")
        if found.demandes.height + found.history.height >= STATUS_ROWS_SAID:
            out.print(f"Écriture du classeur d'état ({_count(found.demandes.height)} demandes, "
                      f"{_count(found.history.height)} lignes de retours)…")

    try:
        _, written = api.ledger_status(registre, sortie, known)
    except OutputError as exc:
        _fail(str(exc))
    out.print(f"Classeur d'état : {written}")


@app.command("importer", cls=CommandeFr)
def importer(
    fichiers: Annotated[list[Path], typer.Argument(metavar="FICHIER.json…", help="Fichiers de dépôt déposés sans xl2segur, ou leurs retours de l'ASP.")],
    registre: RegistreOption = None,
    format_id: Annotated[Optional[str], typer.Option("--format", help="Format des fichiers, quand leur contenu ne suffit pas à le reconnaître.")] = None,
) -> None:
    """Inscrit au registre des dépôts faits sans xl2segur (contrôlés par le schéma du format), avec leur retour de l'ASP s'il est donné."""
    from .returns import REFUSED, UNKNOWN

    registre = _ledger(registre, create=True)
    try:
        found = api.import_deposits(_expanded(fichiers), registre, format_id)
    except UnknownFormat:
        _fail(f"format inconnu « {format_id} ». Formats connus : {', '.join(all_formats())}.")
    except OutputError as exc:
        _fail(str(exc))
    returns_left = False  # a file recorded whose ASP outcomes are not
    for item in found:
        if item.refused:
            out.print(f"{escape(item.path.name)} : non inscrit — {escape(item.refused)}.")
            continue
        if item.repaired:
            out.print(f"{escape(item.path.name)} : déjà inscrit au registre, dont la copie était abîmée : elle est "
                      f"rétablie ({item.format_id}, {counted(item.demandes, 'demande')}, déposé le {item.day:%d/%m/%Y})")
        elif item.already:
            out.print(f"{escape(item.path.name)} : déjà inscrit au registre, tel quel ({item.format_id}, "
                      f"{counted(item.demandes, 'demande')}, déposé le {item.day:%d/%m/%Y})"
                      + ("" if item.returns else " : rien à faire"))
        else:
            out.print(f"{escape(item.path.name)} : inscrit ({item.format_id}, {counted(item.demandes, 'demande')}, "
                      f"déposé le {item.day:%d/%m/%Y})")
        results: dict[str, int] = {}
        for line in item.returns:
            results[line.result] = results.get(line.result, 0) + 1
        if recorded := {label: n for label, n in results.items() if label not in (UNKNOWN, REFUSED)}:
            out.print("  retour de l'ASP enregistré : " + ", ".join(f"{label.lower()} {n}" for label, n in recorded.items()))
        if refused := next((line for line in item.returns if line.result in (UNKNOWN, REFUSED)), None):
            # the file is recorded, its outcomes are not (an MS2 solde file partly untreated…): why
            returns_left = True
            out.print(f"  retour de l'ASP non enregistré — {escape(refused.numero_editeur)} : {escape(refused.remark)}")
    if any(not item.refused for item in found):
        out.print(f"Registre des dépôts : {registre}")
    raise typer.Exit(1 if any(item.refused for item in found) or returns_left else 0)


def _shown(path: Path) -> str:
    """A path the ledger recorded (absolute), from the current folder when it is inside."""
    try:
        return escape(str(Path(path).relative_to(Path.cwd())))
    except ValueError:
        return escape(str(path))


FichierDepot = Annotated[str, typer.Argument(metavar="JSON-….json", help="Nom du fichier de dépôt inscrit au registre (avec ou sans son dossier).")]


@app.command("reecrire", cls=CommandeFr)
def reecrire(
    fichier: FichierDepot,
    registre: RegistreOption = None,
    sortie: Annotated[Optional[Path], typer.Option("-o", "--sortie", metavar="DOSSIER", help="Dossier où l'écrire (par défaut celui où il a été écrit).")] = None,
    pieces: Annotated[Optional[Path], typer.Option("--pieces", metavar="DOSSIER", help="Dossier des pièces justificatives, sous leur nom de nomenclature : réécrit aussi ses archives .zip.")] = None,
) -> None:
    """Réécrit un fichier de dépôt inscrit au registre, à l'identique et sous son nom (perdu, effacé, ou écrit sans --pieces)."""
    registre = _ledger(registre)
    try:
        done = api.rewrite(fichier, registre, sortie, _pieces(pieces))
    except OutputError as exc:
        _fail(str(exc))
    for notice in done.warnings:
        out.print(_issue_line("[yellow]avertissement[/]", notice))
    if done.renamed is not None:
        out.print(f"Le fichier de dépôt « {escape(done.renamed)} » reprend son nom : « {escape(done.name)} » (le nom que "
                  "l'ASP demande).")
    if done.path is None:
        out.print(f"Le fichier de dépôt « {_shown(done.folder / done.name)} » est déjà là, identique à celui "
                  "inscrit au registre : il est gardé tel quel.")
    else:
        out.print(f"Fichier de dépôt réécrit : {_shown(done.path)}")
    for archive in done.kept:
        out.print(f"Archive des pièces justificatives déjà là, identique : gardée telle quelle : {_shown(archive)}")
    for archive in done.archives:
        out.print(f"Archive des pièces justificatives écrite : {_shown(archive)}")


def _confirmed(question: str) -> bool:
    out.print(f"{question} {escape('[o/N]')} ", end="")
    try:
        answer = input()
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("o", "oui", "y", "yes")


@app.command("retirer", cls=CommandeFr)
def retirer(
    fichier: FichierDepot,
    registre: RegistreOption = None,
    oui: Annotated[bool, typer.Option("--oui", help="Ne demande pas de confirmation.")] = False,
    annuler: Annotated[bool, typer.Option("--annuler", help="Annule le retrait d'un fichier finalement déposé (l'ASP y répond) : ses demandes redeviennent déposées.")] = False,
) -> None:
    """Retire du registre un fichier de dépôt qui ne sera jamais déposé sur le portail : ses demandes sont libérées."""
    registre = _ledger(registre)
    if annuler:
        _restore(fichier, registre)
        return
    try:
        row = api.withdrawal(fichier, registre)
        question = (f"Retirer « {row['nom']} » ({counted(row['demandes'], 'demande')}) ? Faites-le seulement s'il "
                    "n'a pas été déposé sur le portail de l'ASP et ne le sera jamais.")
        if not oui and not _confirmed(escape(question)):
            out.print("Rien n'est retiré.")
            raise typer.Exit(1)
        zips: list[Path] = []
        freed, moved = api.withdraw(fichier, registre, zips)
    except OutputError as exc:
        _fail(str(exc))
    out.print(f"Fichier retiré du registre : {escape(row['nom'])} — "
              + counted(freed, "demande libérée, à reconvertir si elle doit être déposée.",
                        "demandes libérées, à reconvertir si elles doivent être déposées."))
    if moved is not None:
        out.print(f"Le fichier (et ses archives .zip) est mis de côté : {_shown(moved)}")
    else:  # moved elsewhere by hand: under its name, it could still be uploaded
        out.print(f"Le fichier n'est plus dans le dossier où il a été écrit ({_shown(Path(row['chemin']).parent)}) : "
                  + ("où qu'il soit, mettez-le de côté, il ne doit pas être déposé. Ses archives .zip, restées dans "
                     f"ce dossier, sont mises de côté : {_shown(zips[0].parent / WITHDRAWN)}" if zips else
                     "où qu'il soit, mettez-le de côté avec ses archives .zip, il ne doit pas être déposé."))


def _restore(fichier: str, registre: Path) -> None:
    """retirer --annuler: no confirmation, the ledger only gets stricter (its demandes count as
    deposited again)."""
    kept: list[Path] = []
    try:
        restored, path = api.restore(fichier, registre, kept)
    except OutputError as exc:
        _fail(str(exc))
    out.print(f"Retrait annulé : {escape(Path(fichier).name)} — "
              + counted(restored, "demande de nouveau inscrite comme déposée",
                        "demandes de nouveau inscrites comme déposées")
              + " ; enregistrez son retour avec « xl2segur retour ».")
    if path is not None:
        out.print(f"Le fichier est à sa place : {_shown(path)}")
    else:  # set aside elsewhere, by hand or by a withdrawal given its path: it is not back
        folder = Path(api.withdrawal(fichier, registre)["chemin"]).parent
        out.print(f"Attention : le fichier n'est ni dans « {_shown(folder)} » ni dans « {_shown(folder / WITHDRAWN)} » : "
                  "il n'est pas revenu. S'il a été mis de côté ailleurs, relancez avec son chemin (« xl2segur retirer "
                  "--annuler DOSSIER/JSON-….json », le dossier où il était quand il a été retiré), ou remettez-le, sous "
                  "son nom, avec ses archives .zip, dans son dossier de dépôt.")
    for archive in kept:
        out.print(f"Attention : l'archive « {escape(archive.name)} » de ce fichier reste mise de côté "
                  f"({_shown(archive)}) : un autre fichier de ce nom est déjà à côté du fichier de dépôt, il n'est "
                  "ni remplacé ni renommé. Ouvrez les deux : si elles diffèrent, gardez à côté du fichier de dépôt, "
                  "sous ce nom, celle qui contient ses pièces justificatives, et mettez l'autre de côté.")


def main() -> None:
    tolerate_console_encoding()  # an ascii or cp1252 console: replaced characters, no traceback
    try:
        app()
    except SystemExit as done:
        _leave(done.code)
    except Exception as exc:  # noqa: BLE001 — what no command foresaw: said in French, never a traceback
        err.print(f"[bold red]Erreur inattendue :[/] {escape(_what(exc))}. "
                  "La commande s'est arrêtée là ; aucun fichier n'est écrit à moitié. Si elle se reproduit, "
                  "transmettez ce message, avec la commande lancée, à l'équipe xl2segur.")
        _leave(2)
    _leave(0)


def _leave(code: object) -> None:
    """End the process as `sys.exit(code)` does, without Python's finalization: after a large
    conversion, freeing every module's objects one by one takes 0.2 s (100,000 demandes) that
    the system does at once when the process ends. The exit functions (atexit) still run and
    the streams are flushed; the commands have closed their files and ledger and ended their
    threads and second process before returning. Anything left running, a stream that cannot be
    flushed, or a profiler or debugger that writes its report at the end, and Python ends as usual."""
    if threading.active_count() > 1 or sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: no console at all (pythonw), or closed (`>&-`)
                stream.flush()
    except (OSError, ValueError):
        sys.exit(code)
    if code is not None and not isinstance(code, int):  # sys.exit's way: the text on stderr, status 1
        print(code, file=sys.stderr, flush=True)
        code = 1
    atexit._run_exitfuncs()
    os._exit(code or 0)
