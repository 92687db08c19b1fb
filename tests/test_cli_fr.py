"""Help screens and usage errors are French (converter/cli_fr.py), usage errors exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import pytest
import typer.main
from typer.testing import CliRunner

from converter.cli import app
from converter.cli_fr import CommandeFr, GroupeFr

runner = CliRunner()

# What typer and its click print in English when nothing is translated.
ENGLISH = ["Show this message", "Usage:", "Options:", "Arguments:", "Commands:", "[required]", "[default:",
           "COMMAND [ARGS]", "<path>", "<str>", "--install-completion", "--show-completion", "Error", "Try '",
           "for help", "Missing", "No such", "Invalid value", "Got unexpected", "requires an argument",
           "Did you mean", "Possible options"]


def _commands(command=None, path=()):
    """Every command path of the CLI, groups included: (), ("convertir",), ("plafond", "hop-pfi-va2"), …"""
    command = command or typer.main.get_command(app)
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = [path for path, _ in _commands()]


def _english(output: str) -> list[str]:
    return [text for text in ENGLISH if text in output]


def test_every_command_uses_the_french_classes() -> None:
    for path, command in _commands():
        assert isinstance(command, (CommandeFr, GroupeFr)), f"« {' '.join(path)} » : ajoutez cls=CommandeFr"


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "xl2segur")
def test_help_is_french(path) -> None:
    for flag in ("--help", "-h"):
        r = runner.invoke(app, [*path, flag])
        assert r.exit_code == 0, r.output
        assert _english(r.output) == [], r.output
        assert r.output.startswith("Utilisation : ")
        assert "Options :" in r.output and "Affiche cette aide et quitte." in r.output


def test_help_details_are_french() -> None:
    # `formats` lists the order-check formats too (hop-pfi-va2-commandes…), not only deposit ones
    r = runner.invoke(app, ["formats", "--help"])
    assert "Liste les formats connus : de dépôt, et de vérification des bons de commande." in r.output
    r = runner.invoke(app, ["--help"])
    assert "COMMANDE [ARGUMENTS]..." in r.output and "\nCommandes :\n" in r.output
    r = runner.invoke(app, ["convertir", "--help"])
    assert "\nArguments :\n" in r.output
    assert "CLASSEUR <chemin>" in r.output and "[obligatoire]" in r.output
    assert "-o, --sortie <chemin>" in r.output and "[par défaut : depot]" in r.output
    # a user does not read « . » as the folder they are in
    r = runner.invoke(app, ["solde", "--help"])
    assert "-o, --sortie DOSSIER" in r.output and "de solde (par défaut le dossier courant)." in " ".join(r.output.split())
    assert "[par défaut : .]" not in r.output


@pytest.mark.parametrize(("args", "message"), [
    (["convertir"], "Erreur : il manque l'argument « CLASSEUR »."),
    (["retour"], "Erreur : il manque l'argument « FICHIER.json… »."),
    (["convertir", "x.xlsx", "--inconnue"], "Erreur : option inconnue « --inconnue »."),
    (["convertir", "x.xlsx", "-z"], "Erreur : option inconnue « -z »."),
    (["convertir", "x.xlsx", "--sorti", "d"], "Vouliez-vous dire « --rapport » ou « --sortie » ?"),
    (["--inconnue"], "Erreur : option inconnue « --inconnue »."),
    (["convertir", "x.xlsx", "-o"], "Erreur : l'option « -o » attend une valeur."),
    (["convertir", "mon", "classeur.xlsx"], "Erreur : argument(s) en trop : classeur.xlsx."),
    # `convertir *.xlsx` beside an open workbook: the shell adds its lock file, no space to quote
    (["convertir", "Avances été.xlsx", "~$Avances été.xlsx"], "Erreur : argument(s) en trop : ~$Avances été.xlsx. "
     "« ~$Avances été.xlsx » est le fichier de verrouillage qu'Excel ou LibreOffice crée à côté d'un classeur "
     "ouvert (un motif comme *.xlsx le désigne aussi) : indiquez le classeur lui-même, seul."),
    (["conv"], "Erreur : commande inconnue « conv ». Vouliez-vous dire « convertir » ?"),
    (["plafond", "hop"], "Erreur : commande inconnue « hop »."),
])
def test_usage_errors_are_french_and_exit_2(args, message) -> None:
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert message in r.output, r.output
    assert _english(r.output) == [], r.output
    command = "root " + " ".join(args[:1]) if args[0] in ("convertir", "retour", "plafond") else "root"
    assert r.output.startswith(f"Utilisation : {command} ")
    assert f"Saisissez « {command} -h » pour afficher l'aide." in r.output


def test_ctrl_c_during_a_conversion_says_what_was_kept(monkeypatch, tmp_path):
    from converter import api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "convert", interrupted)
    result = runner.invoke(app, ["convertir", str(tmp_path / "w.xlsx"), "-o", str(tmp_path / "depot")])
    assert result.exit_code == 130
    assert "Conversion interrompue" in result.output and "Traceback" not in result.output


def test_ctrl_c_while_python_imports_the_tool_is_no_traceback(monkeypatch, capsys):
    from converter import launch

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(launch, "open_ahead", interrupted)
    with pytest.raises(SystemExit) as ended:
        launch.main()
    assert ended.value.code == 130
    assert "Commande interrompue (Ctrl-C) avant d'avoir commencé : rien n'a été fait." in capsys.readouterr().err


def _echo_app(cls):
    """A command of a text, a path (checked by typer: it must exist) and a flag, echoing what it received."""
    echo = typer.Typer(cls=GroupeFr if cls is CommandeFr else None)

    @echo.command(cls=cls)
    def run(texte: Annotated[str, typer.Argument()],
            chemin: Annotated[Optional[Path], typer.Option(exists=True, dir_okay=False)] = None,
            sortie: Annotated[Path, typer.Option()] = Path("depot"), vite: bool = False) -> None:
        typer.echo(repr((texte, chemin, sortie, vite)))

    @echo.command("other")
    def other() -> None:  # a second command: typer then keeps the command names
        pass

    return echo


@pytest.mark.parametrize("args", [
    ["run", "é à"], ["run", "x", "--sortie", ""], ["run", "x", "--sortie", "~/a b", "--vite"],
    ["run", "x", "--chemin", "pyproject.toml"], ["run", "x", "--chemin", "absent.toml"], ["run", "x", "--chemin", "tests"],
])
def test_text_and_path_values_are_typer_s_without_pydantic(args) -> None:
    """cli_fr._SansPydantic: what a command receives (or the error typer raises) is what typer's
    own coercion, through Pydantic, gives."""
    fast, typer_own = runner.invoke(_echo_app(CommandeFr), args), runner.invoke(_echo_app(None), args)
    assert fast.exit_code == typer_own.exit_code
    if typer_own.exit_code == 0:
        assert fast.output == typer_own.output
    else:  # the same error, worded in French
        assert ("does not exist" in typer_own.output) == ("does not exist" in fast.output)
        assert ("is a directory" in typer_own.output) == ("is a directory" in fast.output)

