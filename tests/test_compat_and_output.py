"""Older workbooks, definition bugs, terminal output, solde formats without an avance format.

1. A column marked `optional_column` (fichierSource of the Pièces sheets) may be absent:
   workbooks made from the template before it was added still convert.
2. `get_format` says « format inconnu » only for an unknown id; a malformed definition is a
   bug and surfaces as one.
3. The CLI shows every error but only the first warnings of each code; the report keeps all.
4. A solde format whose avance xl2segur does not produce (mdv-lgc-solde) is not compared with
   the ledger: no « avance inconnue » on every demande.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import orjson
import pytest
from rich.console import Console
from typer.testing import CliRunner

from converter import api, cli, formats
from converter.cli import app
from converter.lifecycle.against_ledger import avance_formats
from converter.formats import DefinitionError, UnknownFormat, get_format
from converter.formats.model import _field
from converter.reading import WorkbookError, read_workbook
from tests.builders import many_demandes, sample_avance_rows, workbook
from tests.builders_solde import seed_000_rows, seed_003_rows

DAY = date(2024, 6, 20)
runner = CliRunner()


# ---------------------------------------------------------------- 1. old Pièces sheets


def _drop_column(path: Path, sheet: str, balise: str, rename: str | None = None) -> Path:
    """The workbook as an older template made it: `balise` removed from `sheet` (or renamed)."""
    book = openpyxl.load_workbook(path)
    ws = book[sheet]
    column = next(c.column for c in ws[1] if c.value == balise)
    if rename is None:
        ws.delete_cols(column)
    else:
        ws.cell(row=1, column=column, value=rename)
    target = path.with_name(f"old-{path.name}")
    book.save(target)
    return target


def test_old_pieces_sheet_without_fichier_source_converts(tmp_path: Path) -> None:
    new = workbook(tmp_path / "new.xlsx", sample_avance_rows())
    old = _drop_column(new, "Pièces", "fichierSource")
    assert [c.value for c in openpyxl.load_workbook(old)["Pièces"][1]] == \
        ["numeroEditeur", "typeFichier", "formatFichier"]
    raw = read_workbook(old)
    assert raw.frames["Pièces"]["fichierSource"].to_list() == [None]
    assert raw.frames["Pièces"]["formatFichier"].to_list() == ["JPG"]
    outcome = api.convert(old, tmp_path / "depot-old", DAY)
    assert outcome.exit_code == 0, [i.render() for i in outcome.issues if i.is_error]
    reference = api.convert(new, tmp_path / "depot-new", DAY, registre=tmp_path / "new.sqlite")
    assert [p.read_bytes() for p in outcome.files] == [p.read_bytes() for p in reference.files]
    assert b"MS2-DUI-Va1-HT-00003.jpg" in outcome.files[0].read_bytes()  # the JPG the Pièces sheet declares


def test_old_pieces_sheet_error_points_at_the_users_column(tmp_path: Path) -> None:
    rows = sample_avance_rows()
    rows["Pièces"][0]["formatFichier"] = "GIF"
    old = _drop_column(workbook(tmp_path / "w.xlsx", rows), "Pièces", "fichierSource")
    outcome = api.verify(old, errors=tmp_path / "erreurs.xlsx")
    [problem] = outcome.errors
    assert (problem.code, problem.sheet, problem.cell, problem.value) == \
        ("valeur_non_autorisee", "Pièces", "C2", "GIF")
    assert outcome.rejected == ["00003"] and outcome.error_workbook is not None


def test_a_required_column_of_an_old_pieces_sheet_is_still_needed(tmp_path: Path) -> None:
    old = _drop_column(workbook(tmp_path / "w.xlsx", sample_avance_rows()), "Pièces", "fichierSource")
    older = _drop_column(old, "Pièces", "formatFichier")
    outcome = api.verify(older)
    assert outcome.exit_code == 2 and outcome.unreadable
    assert [(i.code, i.sheet, i.balise) for i in outcome.issues] == [("colonne_manquante", "Pièces", "formatFichier")]
    result = runner.invoke(app, ["verifier", str(older)])
    assert result.exit_code == 2 and "formatFichier" in result.output


def test_a_misspelt_optional_column_is_not_silently_dropped(tmp_path: Path) -> None:
    path = _drop_column(workbook(tmp_path / "w.xlsx", sample_avance_rows()), "Pièces", "fichierSource",
                        rename="fichier_sources")
    with pytest.raises(WorkbookError) as caught:
        read_workbook(path)
    [problem] = caught.value.issues
    assert (problem.code, problem.balise, problem.column) == ("colonne_manquante", "fichierSource", "D")
    assert "fichier_sources" in problem.message


def test_optional_column_needs_optional_values() -> None:
    base = {"balise": "x", "kind": "text", "optional_column": True}
    assert _field({**base, "presence": "optional"}, "sheet 'S'").optional_column
    with pytest.raises(DefinitionError, match="optional_column"):
        _field(base, "sheet 'S'")
    assert get_format("ms2-dui-pds-avance").by_name["Pièces"].by_balise["fichierSource"].optional_column
    assert not get_format("ms2-dui-pds-avance").by_name["Pièces"].by_balise["formatFichier"].optional_column


# ---------------------------------------------------------------- 2. get_format


def test_get_format_unknown_id() -> None:
    with pytest.raises(UnknownFormat):
        get_format("ms2-dui-inconnu")


def test_a_broken_definition_is_a_bug_not_an_unknown_format(tmp_path: Path, monkeypatch) -> None:
    good = workbook(tmp_path / "w.xlsx", many_demandes(1))
    folder = tmp_path / "formats"
    folder.mkdir()
    here = Path(formats.__file__).parent
    shutil.copy(here / "_common.yaml", folder)
    text = (here / "ms2-dui-pds-avance.yaml").read_text(encoding="utf-8")
    broken = re.sub(r"(?m)^title:.*\n", "", text)  # a definition without its title
    assert broken != text
    (folder / "ms2-dui-pds-avance.yaml").write_text(broken, encoding="utf-8")
    try:
        with monkeypatch.context() as patch:
            patch.setattr(formats, "_HERE", folder)
            formats.all_formats.cache_clear()
            formats._common.cache_clear()
            with pytest.raises(KeyError) as caught:
                get_format("ms2-dui-pds-avance")
            assert not isinstance(caught.value, UnknownFormat) and caught.value.args == ("title",)
            with pytest.raises(KeyError) as caught:  # reading a workbook: no « format inconnu » either
                read_workbook(good)
            assert not isinstance(caught.value, UnknownFormat)
            result = runner.invoke(app, ["verifier", str(good)])  # the CLI: a message, no traceback
            assert result.exit_code == 2 and "transmettez ce fichier" in " ".join(result.output.split())
            assert "Traceback" not in result.output and "Format inconnu" not in result.output
    finally:
        formats.all_formats.cache_clear()
        formats._common.cache_clear()
    assert get_format("ms2-dui-pds-avance").title


# ---------------------------------------------------------------- 3. CLI output


def test_cli_shows_every_error_and_summarises_warnings(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cli, "out", Console(width=10_000, highlight=False))  # one issue per line
    # 7 finess_cle warnings per demande (the seed's FINESS keys are wrong); their OG, and their 2 ESMS,
    # are those of every other demande: 1 og_dans_plusieurs_demandes and 2 esms_dans_plusieurs_demandes
    rows = many_demandes(60)
    for og in rows["OG"]:
        og["emailResponsableOG"] = "sans-arobase"  # 60 errors: more than the 50 shown before
    for og in rows["OG"][:6]:
        og["telephoneResponsableOG"] = "+33 1 23 45 67 89"  # 6 telephone_normalise warnings
    for og in rows["OG"][6:9]:
        og["nomResponsableOG"] = "durand"  # 3 majuscules warnings
    path = workbook(tmp_path / "w.xlsx", rows)
    report = tmp_path / "rapport.json"
    result = runner.invoke(app, ["verifier", str(path), "--rapport", str(report)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    data = orjson.loads(report.read_bytes())
    counts: dict[str, int] = {}
    for problem in data["problemes"]:
        if problem["severity"] == "avertissement":
            counts[problem["code"]] = counts.get(problem["code"], 0) + 1
    assert counts == {"finess_cle": 420, "telephone_normalise": 6, "majuscules": 3, "og_dans_plusieurs_demandes": 60,
                      "esms_dans_plusieurs_demandes": 120}
    assert data["erreurs"] == 60 and data["avertissements"] == 609  # the report keeps every issue
    assert sum(line.startswith("ERREUR ") for line in lines) == 60
    shown = [line for line in lines if line.startswith("avertissement ")]
    assert len(shown) == 5 + 5 + 3 + 5 + 5
    assert sum("clé de contrôle" in line for line in shown) == 5
    # --rapport given: the summary points at the report it writes, not at the option
    assert "… et 415 autres avertissements du même type (code finess_cle) : voir le rapport (écrit ci-dessous)." in lines
    assert "… et 1 autre avertissement du même type (code telephone_normalise) : voir le rapport (écrit ci-dessous)." in lines
    assert not any("code majuscules" in line for line in lines)
    assert "… et 115 autres avertissements du même type (code esms_dans_plusieurs_demandes) : voir le rapport (écrit ci-dessous)." in lines
    assert "Erreurs : 60 — avertissements : 609" in lines


def test_cli_caps_the_errors_it_prints(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cli, "out", Console(width=10_000, highlight=False))
    monkeypatch.setattr(cli, "ERRORS_SHOWN", 40)
    rows = many_demandes(60)
    for og in rows["OG"]:
        og["emailResponsableOG"] = "sans-arobase"
    result = runner.invoke(app, ["verifier", str(workbook(tmp_path / "w.xlsx", rows))])
    lines = result.output.splitlines()
    assert sum(line.startswith("ERREUR ") for line in lines) == 40
    assert "… et 20 autres erreurs : toutes sont dans le rapport (--rapport rapport.json) et le classeur d'erreurs (--erreurs erreurs.xlsx)." in lines
    # no --rapport: the option and a name to give it, not a bare « voir --rapport »
    assert any(line.startswith("… et ") and line.endswith("du même type (code finess_cle) : voir le rapport "
                                                          "(--rapport rapport.json).") for line in lines), lines
    # one more than shown: « et 1 autres erreurs » was printed
    monkeypatch.setattr(cli, "ERRORS_SHOWN", 59)
    lines = runner.invoke(app, ["verifier", str(tmp_path / "w.xlsx")]).output.splitlines()
    assert "… et 1 autre erreur : toutes sont dans le rapport (--rapport rapport.json) et le classeur d'erreurs (--erreurs erreurs.xlsx)." in lines


def test_cli_counts_thousands_with_a_space() -> None:
    assert cli._count(1234) == "1 234" and cli._count(5) == "5"


# ---------------------------------------------------------------- 4. solde formats and the ledger


def test_solde_formats_with_and_without_an_avance_format() -> None:
    assert avance_formats("mdv-lgc-solde") == []
    assert [d.id for d in avance_formats("ms2-dui-pds-solde")] == ["ms2-dui-pds-avance"]
    assert [d.id for d in avance_formats("ms2-dui-pde-solde")] == ["ms2-dui-pde-avance"]


def test_mdv_solde_is_not_compared_with_an_avance_xl2segur_never_made(tmp_path: Path) -> None:
    outcome = api.convert(workbook(tmp_path / "w.xlsx", seed_003_rows(), "mdv-lgc-solde"), tmp_path / "depot", DAY)
    assert outcome.exit_code == 0 and sorted(outcome.accepted) == ["00001", "00002"]
    assert not [i for i in outcome.issues if i.code.startswith("solde_")]
    # the ledger still refuses a second deposit of the same demandes
    again = api.convert(workbook(tmp_path / "w2.xlsx", seed_003_rows(), "mdv-lgc-solde"), tmp_path / "depot", DAY)
    assert {i.code for i in again.errors} == {"deja_deposee"} and again.files == []


@pytest.mark.parametrize("fmt", ["ms2-dui-pde-solde", "ms2-dui-pds-solde"])
def test_ms2_solde_still_warns_when_its_avance_is_unknown(tmp_path: Path, fmt: str) -> None:
    rows = seed_000_rows()
    if fmt == "ms2-dui-pds-solde":  # the PDS variant has no profilMetier
        for scenario in rows["Scénarios"]:
            scenario.pop("profilMetier", None)
    outcome = api.convert(workbook(tmp_path / "w.xlsx", rows, fmt), tmp_path / "depot", DAY)
    assert outcome.errors == [], [i.render() for i in outcome.errors]
    assert [(i.code, i.numero_editeur, str(i.severity)) for i in outcome.issues if i.code.startswith("solde_")] == \
        [("solde_avance_inconnue", "00002", "avertissement")]
