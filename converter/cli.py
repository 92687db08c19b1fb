"""`xl2segur`: a thin typer layer over converter.api. All wording is French."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from . import api
from .files import OutputError
from .formats import UnknownFormat, all_formats

app = typer.Typer(
    help="Convertit les classeurs Excel de demandes Ségur numérique en fichiers JSON de dépôt ASP.",
    no_args_is_help=True, add_completion=False, rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

MAX_SHOWN = 50


def euros(amount: Decimal) -> str:
    """
    >>> euros(Decimal("14866.5"))
    '14 866,50 €'
    """
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",") + " €"


def _fail(text: str, code: int = 2) -> None:
    err.print(f"[bold red]Erreur :[/] {escape(text)}")
    raise typer.Exit(code)


def _parse_day(value: Optional[str]) -> Optional[date]:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        _fail(f"--date-depot attend une date AAAAMMJJ, par exemple 20240312 (reçu « {value} »).")


def _print_outcome(outcome: api.Outcome, *, converting: bool) -> None:
    problems = outcome.errors + outcome.warnings
    for found in problems[:MAX_SHOWN]:
        style = "red" if found.is_error else "yellow"
        label = "ERREUR" if found.is_error else "avertissement"
        out.print(f"[{style}]{label}[/] {escape(found.render())}")
    if len(problems) > MAX_SHOWN:
        out.print(f"… et {len(problems) - MAX_SHOWN} autres problèmes (voir le classeur d'erreurs ou --rapport).")
    if outcome.unreadable:
        out.print("[bold red]Classeur inutilisable :[/] corrigez le problème ci-dessus et relancez.")
        return
    out.print()
    out.print(f"Format : {outcome.format_id}")
    out.print(f"Demandes lues : {outcome.demandes}")
    out.print(f"Demandes acceptées : {len(outcome.accepted)}")
    out.print(f"Demandes rejetées : {len(outcome.rejected)}")
    out.print(f"Erreurs : {len(outcome.errors)} — avertissements : {len(outcome.warnings)}")
    out.print(f"Total HT des demandes acceptées : {euros(outcome.total_ht)}")
    if outcome.advance is not None:
        out.print(f"Avance attendue ({outcome.advance_rate * 100:.0f} %) : {euros(outcome.advance)}")
    if converting:
        out.print(f"Fichiers de dépôt écrits : {len(outcome.files)}")
        for path in outcome.files:
            out.print(f"  {path}")
        if outcome.error_workbook:
            out.print(f"Classeur des demandes rejetées, à corriger puis reconvertir : {outcome.error_workbook}")


@app.command("formats")
def formats_command() -> None:
    """Liste les formats de dépôt connus."""
    for definition in all_formats().values():
        out.print(f"{definition.id:<24} {escape(definition.title)}  [dim]({escape(definition.source)})[/]")


@app.command("modele")
def modele(
    format_id: Annotated[str, typer.Argument(metavar="FORMAT", help="Identifiant du format (voir « xl2segur formats »).")],
    sortie: Annotated[Path, typer.Option("-o", "--sortie", help="Classeur à créer (.xlsx) ; jamais écrasé.")] = Path("demandes.xlsx"),
) -> None:
    """Écrit le classeur vierge d'un format, à remplir dans Excel ou LibreOffice."""
    try:
        path = api.write_template(format_id, sortie)
    except UnknownFormat:
        _fail(f"format inconnu « {format_id} ». Formats connus : {', '.join(all_formats())}.")
    except OutputError as exc:
        _fail(str(exc))
    out.print(f"Modèle écrit : {path}")


RapportOption = Annotated[Optional[Path], typer.Option("--rapport", help="Écrit aussi un rapport JSON lisible par une machine.")]


def _report(outcome: api.Outcome, rapport: Optional[Path]) -> None:
    if rapport is not None:
        try:
            out.print(f"Rapport écrit : {api.write_report(outcome, rapport)}")
        except OutputError as exc:
            _fail(str(exc))


@app.command("verifier")
def verifier(
    classeur: Annotated[Path, typer.Argument(help="Classeur rempli (.xlsx).")],
    rapport: RapportOption = None,
) -> None:
    """Vérifie un classeur et affiche toutes les erreurs ; n'écrit aucun fichier de dépôt."""
    outcome = api.verify(classeur)
    _print_outcome(outcome, converting=False)
    _report(outcome, rapport)
    raise typer.Exit(outcome.exit_code)


@app.command("convertir")
def convertir(
    classeur: Annotated[Path, typer.Argument(help="Classeur rempli (.xlsx).")],
    sortie: Annotated[Path, typer.Option("-o", "--sortie", help="Dossier des fichiers de dépôt.")] = Path("depot"),
    date_depot: Annotated[Optional[str], typer.Option("--date-depot", metavar="AAAAMMJJ", help="Date de dépôt (par défaut aujourd'hui).")] = None,
    rapport: RapportOption = None,
) -> None:
    """Convertit un classeur en fichiers JSON de dépôt (200 demandes au plus chacun)."""
    day = _parse_day(date_depot)
    try:
        outcome = api.convert(classeur, sortie, day)
    except OutputError as exc:
        _fail(str(exc))
    _print_outcome(outcome, converting=True)
    _report(outcome, rapport)
    raise typer.Exit(outcome.exit_code)


def main() -> None:
    app()
