"""ms2-dui-pds-avance end to end: template → filled workbook → deposit files and error workbook."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import jsonschema
import openpyxl
import pytest
from typer.testing import CliRunner

from converter import api
from converter.cli import app
from converter.formats import all_formats
from converter.schema import json_schema
from tests.builders import many_demandes, merge, sample_avance_rows, seed_001_rows, workbook

EXPECTED = Path(__file__).parent / "expected"
DAY = date(2024, 6, 3)


def test_sample_json_matches_expected_text(tmp_path):
    outcome = api.convert(workbook(tmp_path / "s.xlsx", sample_avance_rows()), tmp_path / "depot", DAY)
    assert outcome.exit_code == 0
    assert [p.name for p in outcome.files] == ["JSON-0123456789-20240603-001.json"]
    text = outcome.files[0].read_text(encoding="utf-8")
    assert text == (EXPECTED / "ms2-dui-pds-avance.json").read_text(encoding="utf-8")
    # the amounts keep two decimals in the text itself, null is never a string
    assert '"montantSegurHT": 4866.67' in text and '"montantSegurHT": 2920.00' in text
    assert '"null"' not in text


def test_shipped_sample_converts_to_the_expected_json(tmp_path):
    """samples/ms2-dui-pds-avance.xlsx (README's first command) is sample_avance_rows(), as
    samples/build_samples.py writes it."""
    sample = Path(__file__).parent.parent / "samples" / "ms2-dui-pds-avance.xlsx"
    outcome = api.convert(sample, tmp_path / "depot", DAY)
    assert outcome.exit_code == 0
    assert outcome.files[0].read_text(encoding="utf-8") == (EXPECTED / "ms2-dui-pds-avance.json").read_text(encoding="utf-8")


def test_output_validates_against_reference_jsonschema(tmp_path):
    outcome = api.convert(workbook(tmp_path / "s.xlsx", sample_avance_rows()), tmp_path / "depot", DAY)
    document = json.loads(outcome.files[0].read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(json_schema("ms2-dui-pds-avance"))
    jsonschema.validate(document, json_schema("ms2-dui-pds-avance"))
    first = document["lignesImport"][0]
    assert first["piecesJustificatives"] == [
        {"nomFichier": "MS2-DUI-Va1-BDC-00001.pdf", "formatFichier": "PDF", "typeFichier": "BON_COMMANDE"}]
    ht = document["lignesImport"][2]["piecesJustificatives"]
    assert [p["typeFichier"] for p in ht] == ["BON_COMMANDE", "PREUVE_HT"]
    assert ht[1] == {"nomFichier": "MS2-DUI-Va1-HT-00003.jpg", "formatFichier": "JPG", "typeFichier": "PREUVE_HT"}


def test_the_schema_is_the_one_of_the_definition_in_force(monkeypatch):
    """The schema is built once per definition, not per format id: a definition replaced under
    the same id (here, files of 2 demandes) never gets the schema of its predecessor, nor the
    predecessor that of its replacement (a test that changed the limits once made the next
    tests' files fail the check)."""
    definition = all_formats()["ms2-dui-pds-avance"]
    before = json_schema(definition.id)
    assert json_schema(definition.id) is before  # built once
    monkeypatch.setitem(all_formats(), definition.id,
                        replace(definition, limits=replace(definition.limits, max_demandes_per_file=2)))
    assert json_schema(definition.id)["properties"]["lignesImport"]["maxItems"] == 2
    monkeypatch.undo()
    assert json_schema(definition.id) == before
    assert before["properties"]["lignesImport"]["maxItems"] == definition.limits.max_demandes_per_file == 200


def test_schema_refuses_what_the_asp_refuses():
    schema = json_schema("ms2-dui-pds-avance")
    good = json.loads((EXPECTED / "ms2-dui-pds-avance.json").read_text(encoding="utf-8"))
    jsonschema.validate(good, schema)
    for path, bad in [(("numeroAns",), "123"), (("lignesImport", 0, "numeroEditeur"), "1"),
                      (("lignesImport", 0, "commande", "montantSegurHT"), "4866.67"),
                      (("lignesImport", 0, "beneficiaires", "nomMandataire"), "null")]:
        doc = json.loads(json.dumps(good))
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = bad
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(doc, schema)


def test_the_last_guard_says_in_french_which_demande_and_balise_the_schema_refuses(tmp_path, monkeypatch):
    """The JSON Schema check of each deposit file (the last guard, behind the workbook's checks)
    reported the validator's English (« lignesImport/0 : "numLigne" is a required property »)
    to French users, with the demande's index in the file. It says it as `importer` does, with
    the demande's numeroEditeur and the balise."""
    import copy

    from converter import schema
    stricter = copy.deepcopy(json_schema("ms2-dui-pds-avance"))
    line = stricter["properties"]["lignesImport"]["items"]
    line["required"] = [*line["required"], "dateSignature"]
    line["properties"]["numeroEditeur"] = {**line["properties"]["numeroEditeur"], "maxLength": 4}
    monkeypatch.setattr(schema, "json_schema", lambda format_id: stricter)
    outcome = api.convert(workbook(tmp_path / "s.xlsx", seed_001_rows()), tmp_path / "depot", DAY)
    [refused] = [i for i in outcome.issues if i.code == "controle_schema"]
    assert refused.numero_editeur == "00001" and outcome.files == []
    assert refused.message in (
        "Refusée par le contrôle de structure ASP (demande 00001 : la balise « dateSignature » manque).",
        "Refusée par le contrôle de structure ASP (demande 00001, balise « numeroEditeur » : \"00001\" dépasse 4 "
        "caractères).")
    assert "is a" not in refused.message and "lignesImport" not in refused.message


def test_a_demande_the_schema_refuses_is_said_on_its_row(tmp_path, monkeypatch):
    """A demande refused by the last guard was placed on no row (« feuille « Demandes » : … »):
    the « Erreurs » sheet gave no line and only led to the sheet, and the demande's row of the
    error workbook said nothing in its « À corriger » column. It is on the numéro éditeur of its
    row, as a demande already deposited is."""
    import copy

    from converter import schema
    stricter = copy.deepcopy(json_schema("ms2-dui-pds-avance"))
    line = stricter["properties"]["lignesImport"]["items"]
    line["required"] = [*line["required"], "dateSignature"]
    monkeypatch.setattr(schema, "json_schema", lambda format_id: stricter)
    rows = merge(seed_001_rows("00001"), seed_001_rows("00002"))
    outcome = api.convert(workbook(tmp_path / "s.xlsx", rows), tmp_path / "depot", DAY)
    assert sorted((i.code, i.row, i.column, i.balise, i.value) for i in outcome.errors) == [
        ("controle_schema", 2, "A", "numeroEditeur", "00001"), ("controle_schema", 3, "A", "numeroEditeur", "00002")]
    assert next(i for i in outcome.errors if i.row == 3).render().startswith("feuille « Demandes », ligne 3, colonne A (numeroEditeur) — valeur « 00002 » : "
                                                 "Refusée par le contrôle de structure ASP (demande 00002 : ")
    book = openpyxl.load_workbook(outcome.error_workbook)
    said = [r[-1] for r in book["Demandes"].iter_rows(min_row=2, max_row=3, values_only=True)]
    assert all(text and "Refusée par le contrôle de structure ASP" in text for text in said), said
    errors = [r for r in book["Erreurs"].iter_rows(min_row=2, values_only=True) if r[0] == "Erreur"]
    assert [(r[2], r[3], r[8]) for r in errors] == [(2, 2, "Aller à la cellule"), (3, 3, "Aller à la cellule")]


def test_201_demandes_make_two_files_with_numligne_restarting(tmp_path):
    outcome = api.convert(workbook(tmp_path / "many.xlsx", many_demandes(201)), tmp_path / "depot", DAY)
    assert [p.name for p in outcome.files] == ["JSON-0123456789-20240603-001.json", "JSON-0123456789-20240603-002.json"]
    first, second = (json.loads(p.read_text(encoding="utf-8"))["lignesImport"] for p in outcome.files)
    assert len(first) == 200 and len(second) == 1
    assert [d["numLigne"] for d in first] == list(range(1, 201))
    assert second[0]["numLigne"] == 1 and second[0]["numeroEditeur"] == "00201"


def test_second_run_same_day_continues_numbering(tmp_path):
    out = tmp_path / "depot"
    api.convert(workbook(tmp_path / "many.xlsx", many_demandes(201)), out, DAY)
    again = api.convert(workbook(tmp_path / "one.xlsx", seed_001_rows("00999")), out, DAY)
    assert [p.name for p in again.files] == ["JSON-0123456789-20240603-003.json"]
    other_day = api.convert(workbook(tmp_path / "two.xlsx", seed_001_rows("00998")), out, date(2024, 6, 4))
    assert [p.name for p in other_day.files] == ["JSON-0123456789-20240604-001.json"]
    assert len(list(out.glob("*.json"))) == 4


def _bad_rows():
    rows = sample_avance_rows()
    rows["OG"][1]["FINESSJuridique"] = "75000001"  # 8 characters, demande 00002
    rows["Scénarios"][0]["isMaitreId"] = "peut-être"  # demande 00001
    return rows


def test_error_workbook_holds_exactly_the_rejected_demandes(tmp_path):
    outcome = api.convert(workbook(tmp_path / "bad.xlsx", _bad_rows()), tmp_path / "depot", DAY)
    assert outcome.exit_code == 1
    assert outcome.accepted == ["00003"] and sorted(outcome.rejected) == ["00001", "00002"]
    deposited = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"]
    assert [d["numeroEditeur"] for d in deposited] == ["00003"]

    book = openpyxl.load_workbook(outcome.error_workbook)
    assert book.sheetnames[0] == "Erreurs"
    editeurs = {name: [r[0] for r in book[name].iter_rows(min_row=2, values_only=True) if r[0]]
                for name in ("Demandes", "OG", "FINESS Géo", "Scénarios")}
    assert editeurs["Demandes"] == ["00001", "00002"]
    assert editeurs["OG"] == ["00001", "00002", "00002"]
    assert editeurs["FINESS Géo"] == ["00001", "00001", "00002", "00002"]
    assert editeurs["Scénarios"] == ["00001", "00001", "00002", "00002"]
    errors = [r for r in book["Erreurs"].iter_rows(min_row=2, values_only=True) if r[0] == "Erreur"]
    assert {(r[1], r[5]) for r in errors} >= {("OG", "FINESSJuridique"), ("Scénarios", "isMaitreId")}


def test_error_workbook_shows_an_invalid_value_as_typed(tmp_path):
    # an invalid amount is never echoed half-normalised (4866.666 silently cut to 4866.66, 9733,333
    # turned into 9733.33): the user corrects what they typed; a valid one is shown normalised
    rows = sample_avance_rows()
    rows["Demandes"][0]["montantSegurHT"] = "4866.666"
    rows["Demandes"][1]["montantSegurHT"] = "9733,333"
    rows["Demandes"][2]["montantSegurHT"] = "2 920,00"
    rows["OG"][3]["emailResponsableOG"] = "sans-arobase"  # demande 00003
    outcome = api.verify(workbook(tmp_path / "bad.xlsx", rows), errors=tmp_path / "erreurs.xlsx")
    assert sorted((i.numero_editeur, i.code) for i in outcome.errors) == [
        ("00001", "montant_decimales"), ("00002", "montant_decimales"), ("00003", "email_invalide")]
    sheet = openpyxl.load_workbook(outcome.error_workbook)["Demandes"]
    column = [c.value for c in sheet[1]].index("montantSegurHT")
    shown = {r[0]: r[column] for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]}
    assert shown == {"00001": "4866.666", "00002": "9733,333", "00003": "2920.00"}


def test_error_workbook_round_trip(tmp_path):
    first = api.convert(workbook(tmp_path / "bad.xlsx", _bad_rows()), tmp_path / "depot", DAY)
    book = openpyxl.load_workbook(first.error_workbook)
    fixed = 0
    for name, balise, value in (("OG", "FINESSJuridique", "750000010"), ("Scénarios", "isMaitreId", "VRAI")):
        sheet = book[name]
        col = [c.value for c in sheet[1]].index(balise) + 1
        for row in sheet.iter_rows(min_row=2):
            if row[col - 1].value in ("75000001", "peut-être"):
                row[col - 1].value = value
                fixed += 1
    assert fixed == 2  # the OG cell and the scenario cell; the FINESS Géo rows then match again
    path = tmp_path / "corrige.xlsx"
    book.save(path)
    second = api.convert(path, tmp_path / "depot", DAY)
    assert second.errors == [], [i.render() for i in second.errors]
    assert sorted(second.accepted) == ["00001", "00002"]
    assert [p.name for p in second.files] == ["JSON-0123456789-20240603-002.json"]


@pytest.mark.parametrize("typed", ["2024031", "202431", "2024 0312", "+20240312"])
def test_a_deposit_date_with_a_digit_missing_is_refused_not_read_as_another_day(tmp_path, typed):
    """« --date-depot 2024031 » (a digit missing) wrote JSON-0123456789-20240301-001.json and
    recorded it so: strptime fills the day with the one digit left."""
    good = workbook(tmp_path / "good.xlsx", sample_avance_rows())
    result = CliRunner().invoke(app, ["convertir", str(good), "-o", str(tmp_path / "d"), "--date-depot", typed])
    assert result.exit_code == 2, result.output
    assert f"--date-depot attend une date AAAAMMJJ, par exemple 20240312 (reçu « {typed} »)" in result.output
    assert not (tmp_path / "d").exists()


def test_cli_exit_codes_and_summary(tmp_path):
    runner = CliRunner()
    good = workbook(tmp_path / "good.xlsx", sample_avance_rows())
    result = runner.invoke(app, ["convertir", str(good), "-o", str(tmp_path / "d"), "--date-depot", "20240603"])
    assert result.exit_code == 0, result.output
    assert "Demandes acceptées : 3" in result.output and "17 520,00 €" in result.output
    bad = workbook(tmp_path / "bad.xlsx", _bad_rows())
    result = runner.invoke(app, ["verifier", str(bad), "--rapport", str(tmp_path / "r.json")])
    assert result.exit_code == 1
    assert "feuille « OG », ligne 3, colonne B (FINESSJuridique)" in result.output
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["demandes_rejetees"] == 2 and report["code_retour"] == 1
    assert not (tmp_path / "d" / "erreurs-bad.xlsx").exists()  # verifier writes nothing else
    not_xlsx = tmp_path / "x.xlsx"
    not_xlsx.write_text("bonjour")
    result = runner.invoke(app, ["verifier", str(not_xlsx)])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_modele_never_overwrites(tmp_path):
    runner = CliRunner()
    target = tmp_path / "m.xlsx"
    assert runner.invoke(app, ["modele", "ms2-dui-pds-avance", "-o", str(target)]).exit_code == 0
    result = runner.invoke(app, ["modele", "ms2-dui-pds-avance", "-o", str(target)])
    assert result.exit_code == 2 and "jamais écrasé" in result.output
    result = runner.invoke(app, ["modele", "inconnu", "-o", str(tmp_path / "z.xlsx")])
    assert result.exit_code == 2 and "format inconnu" in result.output


@pytest.mark.parametrize("format_id, sheet, row", [("ms2-dui-pds-avance", "Demandes", "demande"),
                                                    ("hop-pfi-va2-commandes", "Commandes", "bon de commande")])
def test_a_blank_template_verified_says_where_to_fill_it(tmp_path, format_id, sheet, row):
    """The template checked before it is filled: the sheet named as every message names one, and
    what to do, in the words of the format (an order workbook holds orders, not demandes)."""
    path = api.write_template(format_id, tmp_path / "m.xlsx")
    result = CliRunner().invoke(app, ["verifier", str(path)])
    assert result.exit_code == 2, result.output
    assert (f"La feuille « {sheet} » ne contient aucune ligne remplie : remplissez-la à partir de la ligne 2, "
            f"sous la ligne des balises, une ligne par {row}.") in " ".join(result.output.split())


def test_blank_template_is_read_back(tmp_path):
    path = api.write_template("ms2-dui-pds-avance", tmp_path / "m.xlsx")
    outcome = api.verify(path)
    assert outcome.exit_code == 2
    assert [i.code for i in outcome.issues] == ["entete_vide"] or [i.code for i in outcome.issues] == ["aucune_demande"]


def test_a_solde_deposited_the_day_of_an_avance_takes_the_next_file_number(tmp_path):
    """« Le numéro de fichier correspond au numéro du fichier déposé le jour indiqué dans
    l'horodatage pour ce numéro ANS » (seeds 000, 001, 003): whatever the format, and wherever
    the other file was written, a second file of the day for that numero ANS is 002."""
    from tests.builders_solde import seed_000_rows

    registre = tmp_path / "registre.sqlite"
    avance = api.convert(workbook(tmp_path / "a.xlsx", seed_001_rows()), tmp_path / "avances", DAY, registre=registre)
    solde = api.convert(workbook(tmp_path / "s.xlsx", seed_000_rows("00777"), "ms2-dui-pde-solde"),
                        tmp_path / "soldes", DAY, registre=registre)
    assert [p.name for p in avance.files] == ["JSON-0123456789-20240603-001.json"]
    assert [p.name for p in solde.files] == ["JSON-0123456789-20240603-002.json"]
    other = api.convert(workbook(tmp_path / "o.xlsx", seed_001_rows("00778"), header={"numeroAns": "9876543210"}),
                        tmp_path / "avances", DAY, registre=registre)
    assert [p.name for p in other.files] == ["JSON-9876543210-20240603-001.json"]
