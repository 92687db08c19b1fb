"""French wording for what typer itself prints: help screens and usage errors.

typer 0.29 vendors its own click (``typer._click``) whose strings are plain English
f-strings, not gettext messages; only typer's own ``typer.core`` marks its strings with
gettext ``_()``. So, in this one module:

* ``typer.core``'s strings (section titles, « [default: …] », « [required] », unknown
  command…) go through an in-memory gettext catalogue (``CATALOGUE``), installed as the
  ``_`` that ``typer.core`` calls — the same lookup gettext would do with a .mo file, but
  independent of the user's locale (LANG is often C or en_US on the servers);
* the rest uses click's own extension points, selected with typer's ``cls=``:
  ``GroupeFr`` / ``CommandeFr`` choose the context class (hence the help formatter:
  « Utilisation : », « Options : », ``<chemin>``), give the help option its French
  text, and turn the usage errors raised by the parser into ``ErreurUsageFr``, which
  prints them in French and keeps their exit code (2).

``typer.rich_utils`` constants are not set: the app uses ``rich_markup_mode=None``,
so typer never renders help or errors with rich_utils.

Every typer object of the CLI must use these classes: ``typer.Typer(cls=GroupeFr)``
and ``@app.command(..., cls=CommandeFr)``; tests/test_cli_fr.py checks every command.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import typer
import typer.core
from typer import _click  # the click vendored by typer ≥ 0.29; see the pin in pyproject.toml
from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_path
from typer._click.exceptions import (
    BadArgumentUsage,
    BadOptionUsage,
    BadParameter,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)

AIDE = "Affiche cette aide et quitte."
UTILISATION = "Utilisation : "
SOUS_COMMANDE = "COMMANDE [ARGUMENTS]..."


class _Catalogue(gettext.NullTranslations):
    """A gettext catalogue held in a dict: English msgid -> French text."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self._messages = messages

    def gettext(self, message: str) -> str:
        return self._messages.get(message, message)


# The msgids are typer.core's, verbatim (placeholders included).
CATALOGUE = _Catalogue({
    "Arguments": "Arguments",
    "Options": "Options",
    "Commands": "Commandes",
    "default: {default}": "par défaut : {default}",
    "required": "obligatoire",
    "env var: {var}": "variable d'environnement : {var}",
    "(dynamic)": "(calculé)",
    "Missing command.": "il manque la commande.",
    "No such command {name!r}.": "commande inconnue « {name} ».",
    "Aborted!": "Interrompu.",
})
typer.core._ = CATALOGUE.gettext  # typer.core calls its module-level `_` at each use

# Type names typer shows after an option or argument, e.g. « --sortie <path> ».
TYPES = {"path": "chemin", "file": "fichier", "dir": "dossier", "str": "texte", "int": "entier",
         "float": "nombre", "bool": "booléen", "datetime": "date", "Decimal": "nombre"}
_TYPE = re.compile(r"<(list\[)?(\w+)\]?>")  # <path>, and <list[Path]> for several


def _type_fr(match: re.Match[str]) -> str:
    """
    >>> _TYPE.sub(_type_fr, "--sortie <path>, FICHIER.json… <list[Path]>")
    '--sortie <chemin>, FICHIER.json… <chemins>'
    """
    several, name = match[1], match[2]
    french = TYPES.get(name, TYPES.get(name.lower(), name))
    return f"<{french}s>" if several else f"<{french}>"


class FormatteurFr(_click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: Optional[str] = None) -> None:
        super().write_usage(prog, args, UTILISATION if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading} :\n")  # French: a space before the colon

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(_TYPE.sub(_type_fr, first), second) for first, second in rows]
        super().write_dl(rows, col_max, col_spacing)


class ContexteFr(typer.Context):
    formatter_class = FormatteurFr


# ---------------------------------------------------------------- usage errors


class ErreurUsageFr(UsageError):
    """A usage error already worded in French, shown the French way."""

    def __init__(self, message: str, ctx: Optional[_click.Context], exit_code: int = 2) -> None:
        super().__init__(message, ctx)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        ctx = self.ctx
        if ctx is not None:
            lines = ctx.get_usage() + "\n"
            if ctx.command.get_help_option(ctx) is not None:
                lines += f"Saisissez « {ctx.command_path} {ctx.help_option_names[0]} » pour afficher l'aide.\n"
            typer.echo(lines, file=file, err=file is None, color=ctx.color)
        typer.echo(f"Erreur : {self.format_message()}", file=file, err=file is None,
                   color=ctx.color if ctx is not None else None)


def _nom(param: Any) -> str:
    if param.param_type_name == "option" and param.opts:
        return " / ".join(param.opts)
    return param.metavar or param.name or "?"


def _indication(exc: BadParameter) -> str:
    if exc.param_hint is not None:
        hint = exc.param_hint
        return hint if isinstance(hint, str) else " / ".join(hint)
    return _nom(exc.param) if exc.param is not None else ""


_EN_TROP = re.compile(r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)$", re.S)
_SUGGESTION = re.compile(r"^(.*)\. Did you mean (.*)\?$", re.S)
_VERROU = re.compile(r"~\$.*?(?:\.(?:xlsx|xlsm|ods)\b|$)", re.I)  # « ~$Avances été.xlsx », an open workbook's lock file
_VALEURS = re.compile(r"requires (?:an argument|(\d+) arguments)\.$")


def message_fr(exc: UsageError) -> str:
    """The French text of a usage error raised by typer's parser or click core."""
    message = exc.message
    if isinstance(exc, MissingParameter):
        quoi = "l'option" if (exc.param_type or getattr(exc.param, "param_type_name", "")) == "option" else "l'argument"
        return f"il manque {quoi} « {_indication(exc)} »." + (f" {message}" if message else "")
    if isinstance(exc, BadParameter):
        return f"valeur invalide pour « {_indication(exc)} » : {message}" if exc.param or exc.param_hint \
            else f"valeur invalide : {message}"
    if isinstance(exc, NoSuchOption):
        texte = f"option inconnue « {exc.option_name} »."
        if exc.possibilities:
            texte += " Vouliez-vous dire " + " ou ".join(f"« {p} »" for p in sorted(exc.possibilities)) + " ?"
        return texte
    if isinstance(exc, BadOptionUsage):
        if found := _VALEURS.search(message):
            return f"l'option « {exc.option_name} » attend {found[1] + ' valeurs' if found[1] else 'une valeur'}."
        if message.endswith("does not take a value."):
            return f"l'option « {exc.option_name} » ne prend pas de valeur."
    if isinstance(exc, BadArgumentUsage) and (found := re.search(r"Argument '(.*)' takes (\d+) values\.$", message)):
        return f"l'argument « {found[1]} » attend {found[2]} valeurs."
    if found := _EN_TROP.match(message):
        if lock := _VERROU.search(found[1]):  # `convertir *.xlsx` beside an open workbook: the shell adds its lock file
            return (f"argument(s) en trop : {found[1]}. « {lock[0]} » est le fichier de verrouillage qu'Excel ou "
                    "LibreOffice crée à côté d'un classeur ouvert (un motif comme *.xlsx le désigne aussi) : indiquez "
                    "le classeur lui-même, seul.")
        return (f"argument(s) en trop : {found[1]}. Un chemin qui contient des espaces s'écrit entre "
                'guillemets, par exemple "mon classeur.xlsx".')
    if found := _SUGGESTION.match(message):  # typer appends it to « commande inconnue … »
        suggestions = re.sub(r"'([^']*)'", r"« \1 »", found[2]).replace(", ", " ou ")
        return f"{found[1]}. Vouliez-vous dire {suggestions} ?"
    return message


def _en_francais(exc: UsageError, ctx: Optional[_click.Context]) -> UsageError:
    if isinstance(exc, (ErreurUsageFr, NoArgsIsHelpError)):  # already French / the French help itself
        return exc
    return ErreurUsageFr(message_fr(exc), exc.ctx or ctx, exc.exit_code)


# ---------------------------------------------------------------- values without Pydantic


@dataclass(frozen=True)
class _SansPydantic(RuntimeParam):
    """typer's coercion of a `str`, `Path` or `bool` parameter, without the Pydantic TypeAdapter
    typer 0.29 builds for it: importing Pydantic costs 0.1 to 0.2 s at each command, for a text
    typed on the command line that stays itself, a path that the adapter makes with `Path(value)`,
    and a flag (« --help » too) that is already a bool or None, never coerced. A path's checks stay
    typer's (`coerce_cli_path`); a path with a `parser` of its own (files.typed_path) gets what
    it returns, as typer gives it; any other value goes to typer's own coercion."""

    def _coerce_value(self, value: Any, param: Any, ctx: _click.Context) -> Any:
        if type(value) is str and self.parameter_info.parser is not None:
            return self.parameter_info.parser(value)
        if type(value) is str and self.annotation is str:
            return value
        if type(value) is str and self.annotation is Path:
            return coerce_cli_path(Path(value), self.parameter_info, path_type=Path, param=param, ctx=ctx)
        return build_runtime_param(param.type_descriptor)._coerce_value(value, param=param, ctx=ctx)


def _sans_pydantic(params: list[Any]) -> None:
    """Give each plain `str`, `Path` or `bool` parameter (a `Path` with a parser too) the coercion
    above, before typer builds its own."""
    for param in params:
        described = getattr(param, "type_descriptor", None)
        if described is None or getattr(param, "_runtime_param", False) is not None:
            continue
        info = described.parameter_info
        if described.annotation in (str, Path, bool) and described.file_annotation is None \
                and (info.parser is None or described.annotation is Path) and info.path_type is None:
            param._runtime_param = _SansPydantic(annotation=described.annotation, parameter_info=info)


# ---------------------------------------------------------------- typer classes


class _Fr:
    context_class = ContexteFr

    def get_help_option(self, ctx: _click.Context):
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = AIDE
        return option

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        _sans_pydantic(self.get_params(ctx))  # type: ignore[attr-defined]
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except UsageError as exc:
            raise _en_francais(exc, ctx) from exc


# Ctrl-C: typer ends with the code 130 and says nothing; the user wants to know what is left.
INTERROMPU = ("Commande interrompue (Ctrl-C) : elle s'est arrêtée là. Aucun fichier n'est écrit à moitié et le "
              "registre ne garde que ce qui y était enregistré en entier (un fichier de retour ou de dépôt entier, "
              "ou rien) : relancez la même commande pour la terminer ; ce qui est déjà fait est reconnu, rien "
              "n'est compté deux fois.")


class CommandeFr(_Fr, typer.core.TyperCommand):
    """A typer command whose help and usage errors are French, and which says what a Ctrl-C
    left (code 130, as typer ends it)."""

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            typer.echo(f"\n{INTERROMPU}", err=True)
            raise typer.Exit(130) from None


class GroupeFr(_Fr, typer.core.TyperGroup):
    """A typer group whose help and usage errors are French, and those of its sub-commands."""

    def __init__(self, *args: Any, subcommand_metavar: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(*args, subcommand_metavar=subcommand_metavar or SOUS_COMMANDE, **kwargs)

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:  # unknown command; a sub-command's error is already French
            raise _en_francais(exc, ctx) from exc
