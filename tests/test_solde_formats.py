"""ms2-dui-pde-solde (seed 000) and mdv-lgc-solde (seed 003) end to end, and their rules."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import openpyxl
import pytest
from typer.testing import CliRunner

from converter import api
from converter.cli import app
from converter.formats import all_formats, get_format
from converter.schema import json_schema
from tests.builders import HEADER, merge, workbook
from tests.builders_solde import seed_000_rows, seed_003_liberal_rows, seed_003_rows, seed_003_structure_rows

ROOT = Path(__file__).parent.parent
EXPECTED = Path(__file__).parent / "expected"
DAY = date(2024, 6, 20)
SEEDS = {"ms2-dui-pde-solde": seed_000_rows, "mdv-lgc-solde": seed_003_rows}


def fill_template(template: Path, rows: dict[str, list[dict]], header: dict[str, str], target: Path) -> Path:
    """Fill a blank template as a user would: values typed under the balises of row 1."""
    book = openpyxl.load_workbook(template)
    for name, values in [("Entête", [header]), *rows.items()]:
        sheet = book[name]
        columns = {c.value: c.column for c in sheet[1]}
        for r, row in enumerate(values, start=2):
            for balise, value in row.items():
                sheet.cell(row=r, column=columns[balise], value=value)
    book.save(target)
    return target


def convert(tmp_path: Path, rows, fmt: str, name: str = "w.xlsx") -> api.Outcome:
    tmp_path.mkdir(exist_ok=True)
    # a ledger per folder: the tests convert the same numbers in several folders
    return api.convert(workbook(tmp_path / name, rows, fmt), tmp_path / "depot", DAY, registre=tmp_path / "registre.sqlite")


def codes(outcome: api.Outcome, severity: str = "erreur") -> set[tuple[str | None, str | None, str]]:
    return {(i.sheet, i.balise, i.code) for i in outcome.issues if str(i.severity) == severity}


# ---------------------------------------------------------------- end to end


@pytest.mark.parametrize("fmt", SEEDS)
def test_template_filled_converts_to_the_expected_json(tmp_path, fmt):
    template = api.write_template(fmt, tmp_path / "modele.xlsx")
    filled = fill_template(template, SEEDS[fmt](), HEADER, tmp_path / "rempli.xlsx")
    outcome = api.convert(filled, tmp_path / "depot", DAY)
    assert outcome.errors == [], [i.render() for i in outcome.errors]
    assert [p.name for p in outcome.files] == ["JSON-0123456789-20240620-001.json"]
    text = outcome.files[0].read_text(encoding="utf-8")
    assert text == (EXPECTED / f"{fmt}.json").read_text(encoding="utf-8")
    assert '"null"' not in text


@pytest.mark.parametrize("fmt", SEEDS)
def test_shipped_sample_converts_to_the_expected_json(tmp_path, fmt):
    outcome = api.convert(ROOT / "samples" / f"{fmt}.xlsx", tmp_path, DAY)
    assert outcome.exit_code == 0
    assert outcome.files[0].read_text(encoding="utf-8") == (EXPECTED / f"{fmt}.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", SEEDS)
def test_expected_json_is_valid_for_the_derived_schema(fmt):
    schema = json_schema(fmt)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads((EXPECTED / f"{fmt}.json").read_text(encoding="utf-8")), schema)


def test_pde_solde_json_follows_seed_000():
    text = (EXPECTED / "ms2-dui-pde-solde.json").read_text(encoding="utf-8")
    demande = json.loads(text)["lignesImport"][0]
    assert list(demande) == ["numLigne", "typeAction", "numeroASP", "numeroEditeur", "dateFacture",
                             "montantSegurHTFacture", "etablissementsClients", "piecesjustificatives",
                             "scenarioEffectivementInstalles", "codeTraitement", "libelleTraitement"]
    assert demande["numeroASP"] == "FINMS2000002" and demande["numeroEditeur"] == "00002"
    assert demande["etablissementsClients"] == [
        {"FINESSJuridique": "345678912", "nbreDossiersDUIActifs": 120, "FINESSGeos": ["123456789", "234567891"]}]
    assert demande["piecesjustificatives"] == [
        {"nomFichier": "MS2-DUI PDE-Va1-FACTURE-00002.pdf", "formatFichier": "PDF", "typeFichier": "FACTURE"},
        {"nomFichier": "MS2-DUI PDE-Va1-VA-00002.pdf", "formatFichier": "PDF", "typeFichier": "VA"}]
    assert [list(s) for s in demande["scenarioEffectivementInstalles"]] == [
        ["FINESSGeo", "ancienneVersion", "isMaitreId", "IsStockageId", "operateurMessagerie"]] * 2
    assert '"montantSegurHTFacture": 4866.67' in text


def test_mdv_solde_json_follows_seed_003():
    text = (EXPECTED / "mdv-lgc-solde.json").read_text(encoding="utf-8")
    cabinet, centre = json.loads(text)["lignesImport"]
    assert cabinet["beneficiaires"] == {"commandePour": "LIBERAL",
                                        "liberalRPPS": ["77777777777", "88888888888", "99999999999"],
                                        "structureFINESSGeo": []}
    assert cabinet["isDirectToDMP"] is False and cabinet["identDMP"] == []
    assert centre["beneficiaires"] == {"commandePour": "STRUCTURE", "liberalRPPS": [],
                                       "structureFINESSGeo": ["999999991", "999999992", "999999993"]}
    assert centre["isDirectToDMP"] is True and len(centre["identDMP"]) == 2
    for demande in (cabinet, centre):
        for balise in ("isDirectToMSSPro", "adresseBoiteMSSPro", "isDirectToMSSCitoyen", "adresseBoiteMSSCitoyen"):
            assert balise in demande and demande[balise] is None
        assert [p["typeFichier"] for p in demande["piecesjustificatives"]] == ["FACTURE", "VA"]
    assert cabinet["piecesjustificatives"][0]["nomFichier"] == "MDV-LGC-Va1-FACTURE-00002.pdf"
    assert '"montantSegurHTFacture": 1075.00' in text and '"montantSegurHTFacture": 10750.00' in text


def _many(fmt: str, n: int):
    if fmt == "ms2-dui-pde-solde":
        return merge(*(seed_000_rows(f"{i:05d}", f"FINMS2{i:06d}") for i in range(1, n + 1)))
    return merge(*(seed_003_liberal_rows(f"{i:05d}", f"FINMDV{i:06d}") for i in range(1, n + 1)))


@pytest.mark.parametrize("fmt", SEEDS)
def test_201_demandes_make_two_files_with_numligne_restarting(tmp_path, fmt):
    outcome = convert(tmp_path, _many(fmt, 201), fmt)
    assert outcome.exit_code == 0
    assert [p.name for p in outcome.files] == ["JSON-0123456789-20240620-001.json", "JSON-0123456789-20240620-002.json"]
    first, second = (json.loads(p.read_text(encoding="utf-8"))["lignesImport"] for p in outcome.files)
    assert len(first) == 200 and len(second) == 1
    assert [d["numLigne"] for d in first] == list(range(1, 201))
    assert second[0]["numLigne"] == 1 and second[0]["numeroEditeur"] == "00201"


def _set_cells(book: openpyxl.Workbook, sheet: str, balise: str, old: str, new: str | None) -> int:
    ws = book[sheet]
    col = [c.value for c in ws[1]].index(balise)
    hits = 0
    for row in ws.iter_rows(min_row=2):
        if row[col].value == old:
            row[col].value = new
            hits += 1
    return hits


def test_pde_solde_error_workbook_round_trip(tmp_path):
    rows = merge(seed_000_rows("00002"), seed_000_rows("00003", "FINMS2000003"))
    rows["Demandes"][0]["numeroASP"] = "FINMS200002"  # the seed's 11 characters
    rows["OG"][1]["nbreDossiersDUIActifs"] = "0"
    first = convert(tmp_path, rows, "ms2-dui-pde-solde", "bad.xlsx")
    assert first.exit_code == 1 and first.files == [] and sorted(first.rejected) == ["00002", "00003"]
    assert codes(first) == {("Demandes", "numeroASP", "numero_asp_invalide"),
                            ("OG", "nbreDossiersDUIActifs", "entier_min")}
    book = openpyxl.load_workbook(first.error_workbook)
    assert book.sheetnames[0] == "Erreurs"
    assert _set_cells(book, "Demandes", "numeroASP", "FINMS200002", "FINMS2000002") == 1
    assert _set_cells(book, "OG", "nbreDossiersDUIActifs", "0", "85") == 1
    book.save(tmp_path / "corrige.xlsx")
    second = api.convert(tmp_path / "corrige.xlsx", tmp_path / "depot", DAY)
    assert second.errors == [], [i.render() for i in second.errors]
    assert second.accepted == ["00002", "00003"] and len(second.files) == 1


def test_mdv_solde_error_workbook_round_trip(tmp_path):
    rows = seed_003_rows()
    rows["Demandes"][1]["isDirectToDMP"] = "peut-être"
    rows["RPPS"][2]["liberalRPPS"] = "9999999999"  # 10 digits
    first = convert(tmp_path, rows, "mdv-lgc-solde", "bad.xlsx")
    assert first.exit_code == 1 and sorted(first.rejected) == ["00001", "00002"]
    assert codes(first) == {("Demandes", "isDirectToDMP", "booleen_invalide"), ("RPPS", "liberalRPPS", "rpps_invalide")}
    book = openpyxl.load_workbook(first.error_workbook)
    assert [r[0] for r in book["identDMP"].iter_rows(min_row=2, values_only=True) if r[0]] == ["00001", "00001"]
    ws = book["Demandes"]
    cols = [c.value for c in ws[1]]
    centre = [row for row in ws.iter_rows(min_row=2) if row[cols.index("numeroEditeur")].value == "00001"]
    assert len(centre) == 1 and centre[0][cols.index("isDirectToDMP")].value == "peut-être"
    centre[0][cols.index("isDirectToDMP")].value = "VRAI"
    assert _set_cells(book, "RPPS", "liberalRPPS", "9999999999", "99999999999") == 1
    book.save(tmp_path / "corrige.xlsx")
    second = api.convert(tmp_path / "corrige.xlsx", tmp_path / "depot", DAY)
    assert second.errors == [], [i.render() for i in second.errors]
    assert second.accepted == ["00002", "00001"]
    assert second.files[0].read_text(encoding="utf-8") == (EXPECTED / "mdv-lgc-solde.json").read_text(encoding="utf-8")


def test_formats_command_lists_every_format():
    result = CliRunner().invoke(app, ["formats"])
    assert result.exit_code == 0
    for format_id in ("ms2-dui-pds-avance", "ms2-dui-pde-avance", "ms2-dui-pde-solde", "ms2-dui-pds-solde",
                      "mdv-lgc-solde"):
        assert format_id in all_formats()
        assert format_id in result.output


# ---------------------------------------------------------------- rules, one passing and one failing case


@pytest.mark.parametrize("fmt, value", [("ms2-dui-pde-solde", "FINMS2-00002"), ("mdv-lgc-solde", "FINMDV00000É")])
def test_a_numero_asp_of_12_characters_and_its_prefix_but_another_shape_is_kept_with_a_warning(tmp_path, fmt, value):
    """Seeds 000 and 003 ask « VARCHAR (=12) », « de type FINMS2XXXXXX » (FINMDVXXXXXX): what the
    X are, they do not say; the value is deposited as typed, with a warning (it was refused)."""
    rows = seed_000_rows() if fmt == "ms2-dui-pde-solde" else seed_003_liberal_rows()
    rows["Demandes"][0]["numeroASP"] = value
    outcome = convert(tmp_path, rows, fmt)
    assert outcome.errors == [] and len(outcome.files) == 1
    assert [i.code for i in outcome.warnings if i.balise == "numeroASP"] == ["numero_asp_inhabituel"]
    assert f'"numeroASP": "{value}"' in outcome.files[0].read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt, value, ok", [
    ("ms2-dui-pde-solde", "FINMS2000002", True), ("ms2-dui-pde-solde", "finms2 000002", True),
    ("ms2-dui-pde-solde", "FINMS200002", False), ("ms2-dui-pde-solde", "FINMDV000002", False),
    ("ms2-dui-pde-solde", "FINMS20000020", False),
    ("mdv-lgc-solde", "FINMDV000002", True), ("mdv-lgc-solde", "FINMS2000002", False),
])
def test_numero_asp_has_12_characters_and_the_couloir_prefix(tmp_path, fmt, value, ok):
    rows = seed_000_rows() if fmt == "ms2-dui-pde-solde" else seed_003_liberal_rows()
    rows["Demandes"][0]["numeroASP"] = value
    outcome = convert(tmp_path, rows, fmt)
    assert (outcome.exit_code == 0) is ok
    if not ok:
        assert codes(outcome) == {("Demandes", "numeroASP", "numero_asp_invalide")}
        prefix = "FINMS2" if fmt.startswith("ms2") else "FINMDV"
        assert prefix in outcome.errors[0].message


def test_numero_asp_is_required_in_a_solde(tmp_path):
    rows = seed_000_rows()
    del rows["Demandes"][0]["numeroASP"]
    assert codes(convert(tmp_path, rows, "ms2-dui-pde-solde")) == {("Demandes", "numeroASP", "obligatoire")}


@pytest.mark.parametrize("value, code", [("1", None), ("120", None), ("0", "entier_min"), ("12.5", "entier_invalide"),
                                         ("-3", "entier_min"), ("100000000000000000000", "entier_trop_grand"),
                                         ("9223372036854775808", "entier_trop_grand"), (None, "obligatoire")])
def test_nbre_dossiers_dui_actifs_is_an_integer_of_at_least_1(tmp_path, value, code):
    rows = seed_000_rows()
    rows["OG"][0]["nbreDossiersDUIActifs"] = value
    outcome = convert(tmp_path, rows, "ms2-dui-pde-solde")
    assert codes(outcome) == ({("OG", "nbreDossiersDUIActifs", code)} if code else set())
    if code is None:
        text = outcome.files[0].read_text(encoding="utf-8")
        assert f'"nbreDossiersDUIActifs": {value},' in text


def test_nbre_dossiers_dui_actifs_typed_with_a_thousands_space_is_read(tmp_path):
    """« 1 200 » typed as text, as a French user writes it (an amount accepts « 4 866,67 »), was
    refused « Saisissez un nombre entier »."""
    rows = seed_000_rows()
    rows["OG"][0]["nbreDossiersDUIActifs"] = "1\u202f200"
    outcome = convert(tmp_path, rows, "ms2-dui-pde-solde")
    assert codes(outcome) == set()
    assert '"nbreDossiersDUIActifs": 1200,' in outcome.files[0].read_text(encoding="utf-8")


def test_pde_solde_scenarios_match_the_finess_geos(tmp_path):
    rows = seed_000_rows()
    rows["Scénarios"].pop()
    outcome = convert(tmp_path, rows, "ms2-dui-pde-solde")
    assert codes(outcome) == {("FINESS Géo", "FINESSGeo", "ensemble_manquant")}


@pytest.mark.parametrize("value, ok", [("77777777777", True), ("10000000009", True), ("7777777777", False),
                                       ("7777777777A", True)])
def test_rpps_has_11_digits(tmp_path, value, ok):
    """« Tableau de VARCHAR (=11) » (seed 003): another length is refused; 11 characters that
    are not 11 digits are kept, with a warning."""
    rows = seed_003_liberal_rows()
    rows["RPPS"][0]["liberalRPPS"] = value
    outcome = convert(tmp_path, rows, "mdv-lgc-solde")
    assert (("RPPS", "liberalRPPS", "rpps_invalide") in codes(outcome)) is not ok
    assert any(i.code == "rpps_inhabituel" for i in outcome.warnings) is (len(value) == 11 and not value.isdigit())


def test_liberal_needs_rpps_and_no_finess(tmp_path):
    rows = seed_003_liberal_rows()
    del rows["RPPS"]
    outcome = convert(tmp_path, rows, "mdv-lgc-solde")
    assert codes(outcome) == {("Demandes", "commandePour", "sans_enfant_si")}
    issue = outcome.errors[0]
    assert issue.row == 2 and issue.column == "E" and "commandePour vaut LIBERAL" in issue.message
    assert "« RPPS »" in issue.message

    rows = merge(seed_003_liberal_rows(), {"FINESS Géo": [{"numeroEditeur": "00002", "structureFINESSGeo": "999999991"}]})
    outcome = convert(tmp_path, rows, "mdv-lgc-solde", "w2.xlsx")
    assert codes(outcome) == {("FINESS Géo", "structureFINESSGeo", "enfant_interdit")}
    assert outcome.errors[0].value == "999999991" and outcome.rejected == ["00002"]


def test_structure_needs_finess_and_no_rpps(tmp_path):
    rows = seed_003_structure_rows()
    del rows["FINESS Géo"]
    outcome = convert(tmp_path, rows, "mdv-lgc-solde")
    assert codes(outcome) == {("Demandes", "commandePour", "sans_enfant_si")}

    rows = merge(seed_003_structure_rows(), {"RPPS": [{"numeroEditeur": "00001", "liberalRPPS": "77777777777"}]})
    outcome = convert(tmp_path, rows, "mdv-lgc-solde", "w2.xlsx")
    assert codes(outcome) == {("RPPS", "liberalRPPS", "enfant_interdit")}


def test_ident_dmp_follows_is_direct_to_dmp(tmp_path):
    rows = seed_003_structure_rows()
    del rows["identDMP"]
    outcome = convert(tmp_path, rows, "mdv-lgc-solde")
    assert codes(outcome) == {("Demandes", "isDirectToDMP", "sans_enfant_si")}

    # « Obligatoire si isDirectToDMP = true » (seed 003), silent otherwise: kept, with a warning
    rows = merge(seed_003_liberal_rows(), {"identDMP": [{"numeroEditeur": "00002", "identDMP": "77777777777"}]})
    outcome = convert(tmp_path / "sans-dmp", rows, "mdv-lgc-solde", "w2.xlsx")
    assert codes(outcome) == set() and outcome.accepted == ["00002"]
    assert ("identDMP", "identDMP", "enfant_non_exige") in {(i.sheet, i.balise, i.code) for i in outcome.warnings}
    demande = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]
    assert demande["isDirectToDMP"] is False and demande["identDMP"] == ["77777777777"]

    rows = seed_003_liberal_rows()
    rows["Demandes"][0]["isDirectToDMP"] = "VRAI"
    rows["identDMP"] = [{"numeroEditeur": "00002", "identDMP": r} for r in ("77777777777", "88888888888")]
    outcome = convert(tmp_path, rows, "mdv-lgc-solde", "w3.xlsx")
    assert outcome.exit_code == 0
    demande = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]
    assert demande["isDirectToDMP"] is True and demande["identDMP"] == ["77777777777", "88888888888"]


def test_a_liberal_ident_dmp_outside_its_liberal_rpps_is_a_warning_naming_both_lists(tmp_path):
    """« Pour les médecins libéraux : RPPS du médecin libéral » (seed 003, identDMP)."""
    rows = seed_003_liberal_rows()
    rows["Demandes"][0]["isDirectToDMP"] = "VRAI"
    rows["identDMP"] = [{"numeroEditeur": "00002", "identDMP": r} for r in ("77777777777", "10001234508")]
    outcome = convert(tmp_path, rows, "mdv-lgc-solde")
    assert outcome.errors == [] and outcome.accepted == ["00002"]
    [warning] = [i for i in outcome.warnings if i.code == "hors_liste_attendue"]
    assert (warning.sheet, warning.row, warning.column, warning.value) == ("identDMP", 3, "B", "10001234508")
    assert "identDMP de la demande : 77777777777, 10001234508 ; liberalRPPS : 77777777777, 88888888888, " \
           "99999999999." in warning.message
    assert "« RPPS du médecin libéral »" in warning.message
    demande = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]
    assert demande["identDMP"] == ["77777777777", "10001234508"]
    # a structure's identDMP are all its doctors: not compared
    structure = convert(tmp_path / "structure", seed_003_structure_rows(), "mdv-lgc-solde")
    assert "hors_liste_attendue" not in {i.code for i in structure.issues}


def test_an_ident_dmp_listed_twice_is_written_twice_with_a_warning(tmp_path):
    """« Indiquer dans ce tableau le / les RPPS afin d'identifier le / les bénéficiaire(s) lors des
    contrôles des envois au DMP » (seed 003): nothing forbids an RPPS listed twice, yet the
    demande was refused (doublon). It is deposited as typed, with a warning naming both rows; so is
    a liberalRPPS twice: test_a_rpps_or_a_finess_listed_twice_in_one_demande_is_kept_with_a_warning."""
    rows = seed_003_structure_rows()
    rows["identDMP"].append(dict(rows["identDMP"][0]))
    outcome = convert(tmp_path, rows, "mdv-lgc-solde")
    assert outcome.errors == [] and outcome.accepted == ["00001"]
    [warning] = [i for i in outcome.warnings if i.code == "doublon_garde"][:1]
    assert (warning.sheet, warning.column, warning.rows) == ("identDMP", "B", (2, 4))
    assert "ne l'interdit pas" in warning.message
    demande = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]
    assert demande["identDMP"] == ["10000000009", "10000000017", "10000000009"]


@pytest.mark.parametrize("typed", ["VRAI", "oui"])
def test_a_condition_cell_is_quoted_as_typed(tmp_path, typed):
    rows = seed_003_structure_rows()
    rows["Demandes"][0]["isDirectToDMP"] = typed
    del rows["identDMP"]
    [issue] = convert(tmp_path, rows, "mdv-lgc-solde").errors
    assert issue.code == "sans_enfant_si" and issue.value == typed and f"valeur « {typed} »" in issue.render()


@pytest.mark.parametrize("fmt", ["ms2-dui-pde-solde", "ms2-dui-pds-solde", "mdv-lgc-solde", "ms2-dui-pde-avance"])
def test_the_notice_gives_the_workbooks_own_format_as_example(tmp_path, fmt):
    book = openpyxl.load_workbook(api.write_template(fmt, tmp_path / "m.xlsx"))
    rows = [r for r in book["Notice"].iter_rows(values_only=True) if r[2] == "format"]
    assert rows and rows[0][-1] == fmt
    assert book["Entête"]["C1"].comment.text.endswith(f"Exemple : {fmt}")


def test_an_invalid_parent_value_is_reported_once(tmp_path):
    rows = seed_003_liberal_rows()
    rows["Demandes"][0]["commandePour"] = "CABINET"
    outcome = convert(tmp_path, rows, "mdv-lgc-solde")
    assert codes(outcome) == {("Demandes", "commandePour", "valeur_non_autorisee")}


@pytest.mark.parametrize("sheet, balise, base", [("RPPS", "liberalRPPS", "liberal"),
                                                 ("FINESS Géo", "structureFINESSGeo", "structure")])
def test_a_rpps_or_a_finess_listed_twice_in_one_demande_is_kept_with_a_warning(tmp_path, sheet, balise, base):
    """« le champ contient la liste des RPPS des médecins libéraux ayant reçus la solution logicielle
    LGC » (« … la liste des numéros de FINESS géographiques des établissements … » for a
    structure), seed 003: nothing forbids a value listed twice, yet the demande was refused
    (doublon). It is deposited as typed, with a warning naming both rows (FORMATS.md §6)."""
    rows = seed_003_liberal_rows() if base == "liberal" else seed_003_structure_rows()
    rows[sheet].append(dict(rows[sheet][0]))
    outcome = convert(tmp_path, rows, "mdv-lgc-solde")
    assert outcome.errors == [] and len(outcome.accepted) == 1
    warning = next(i for i in outcome.warnings if i.code == "doublon_garde")
    assert (warning.sheet, warning.balise, warning.rows) == (sheet, balise, (2, len(rows[sheet]) + 1))
    demande = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]
    written = demande["beneficiaires"][balise]
    assert written == [r[balise] for r in rows[sheet]] and written[0] == written[-1]
    # the same doctor in two demandes is not a duplicate of one list
    rows = merge(seed_003_liberal_rows("00002"), seed_003_liberal_rows("00003", "FINMDV000003"))
    outcome = convert(tmp_path / "two", rows, "mdv-lgc-solde", "w2.xlsx")
    assert outcome.exit_code == 0 and "doublon_garde" not in {i.code for i in outcome.warnings}


def test_mdv_attachments_facture_and_va_or_mom(tmp_path):
    rows = merge(seed_003_rows(), {"Pièces": [{"numeroEditeur": "00001", "typeFichier": "MOM", "formatFichier": "PDF"},
                                              {"numeroEditeur": "00002", "typeFichier": "FACTURE", "formatFichier": "PNG"}]})
    outcome = convert(tmp_path, rows, "mdv-lgc-solde")
    assert outcome.exit_code == 0
    cabinet, centre = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"]
    assert cabinet["piecesjustificatives"] == [
        {"nomFichier": "MDV-LGC-Va1-FACTURE-00002.png", "formatFichier": "PNG", "typeFichier": "FACTURE"},
        {"nomFichier": "MDV-LGC-Va1-VA-00002.pdf", "formatFichier": "PDF", "typeFichier": "VA"}]
    assert centre["piecesjustificatives"] == [
        {"nomFichier": "MDV-LGC-Va1-FACTURE-00001.pdf", "formatFichier": "PDF", "typeFichier": "FACTURE"},
        {"nomFichier": "MDV-LGC-Va1-MOM-00001.pdf", "formatFichier": "PDF", "typeFichier": "MOM"}]


def test_va_and_mom_together_is_a_warning_and_both_are_sent(tmp_path):
    """Seed 003 lists « FACTURE », « MOM », « VA » and asks for « L'attestation de vérification
    d'aptitude ou la MOM le cas échéant », without forbidding both."""
    rows = merge(seed_003_liberal_rows(), {"Pièces": [
        {"numeroEditeur": "00002", "typeFichier": "VA", "formatFichier": "JPG"},
        {"numeroEditeur": "00002", "typeFichier": "MOM", "formatFichier": "PDF"}]})
    outcome = convert(tmp_path, rows, "mdv-lgc-solde")
    assert codes(outcome) == set() and outcome.accepted == ["00002"]
    warning = next(i for i in outcome.warnings if i.code == "pieces_du_meme_groupe")
    assert (warning.sheet, warning.row, warning.value) == ("Pièces", 3, "MOM")
    assert "Plusieurs pièces parmi VA, MOM" in warning.message and "l'ASP pourrait refuser" in warning.message
    demande = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]
    assert [p["nomFichier"] for p in demande["piecesjustificatives"]] == [
        "MDV-LGC-Va1-FACTURE-00002.pdf", "MDV-LGC-Va1-VA-00002.jpg", "MDV-LGC-Va1-MOM-00002.pdf"]


def test_an_attachment_whose_condition_is_false_is_sent_with_a_warning(tmp_path):
    """« La preuve que le fournisseur est soumis au régime de TVA HT le cas échéant » (seed 001):
    PREUVE_HT is due at the régime HT, and nothing forbids it at the régime TTC, yet the demande
    was refused. It is declared and sent, with a warning naming the cell
    to correct if it has no place there (FORMATS.md §6)."""
    from tests.builders import seed_001_rows

    rows = merge(seed_001_rows(), {"Pièces": [{"numeroEditeur": "00001", "typeFichier": "PREUVE_HT", "formatFichier": "PDF"}]})
    outcome = convert(tmp_path, rows, "ms2-dui-pds-avance")
    assert outcome.errors == [] and outcome.accepted == ["00001"]
    [warning] = [i for i in outcome.warnings if i.code == "piece_non_exigee"]
    assert (warning.sheet, warning.balise, warning.row, warning.value) == ("Pièces", "typeFichier", 2, "PREUVE_HT")
    assert warning.message == (
        "Pièce non exigée : l'ASP ne demande la pièce PREUVE_HT que si regimeTVA vaut HT, sans l'interdire ici. "
        "Elle est déclarée dans le fichier de dépôt (et jointe à l'archive des pièces) ; l'ASP pourrait refuser "
        "la demande : supprimez cette ligne de la feuille « Pièces » si elle n'a pas lieu d'être, ou corrigez "
        "regimeTVA dans la feuille « Demandes ».")
    demande = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]
    assert demande["piecesJustificatives"] == [
        {"nomFichier": "MS2-DUI-Va1-BDC-00001.pdf", "formatFichier": "PDF", "typeFichier": "BON_COMMANDE"},
        {"nomFichier": "MS2-DUI-Va1-HT-00001.pdf", "formatFichier": "PDF", "typeFichier": "PREUVE_HT"}]


@pytest.mark.parametrize("regime, code", [("TVA", "valeur_non_autorisee"), (None, "obligatoire")])
def test_attachment_condition_on_a_missing_or_invalid_value_is_undecided(tmp_path, regime, code):
    # regimeTVA unknown: PREUVE_HT may well be due; only the régime's own cell is reported
    from tests.builders import seed_001_rows

    rows = merge(seed_001_rows(), {"Pièces": [{"numeroEditeur": "00001", "typeFichier": "PREUVE_HT", "formatFichier": "PDF"}]})
    rows["Demandes"][0]["regimeTVA"] = regime
    outcome = convert(tmp_path, rows, "ms2-dui-pds-avance")
    assert codes(outcome) == {("Demandes", "regimeTVA", code)}


def test_ms2_solde_attachments_are_facture_and_va(tmp_path):
    rows = merge(seed_000_rows(), {"Pièces": [{"numeroEditeur": "00002", "typeFichier": "VA", "formatFichier": "PNG"}]})
    outcome = convert(tmp_path, rows, "ms2-dui-pde-solde")
    demande = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]
    assert [p["nomFichier"] for p in demande["piecesjustificatives"]] == [
        "MS2-DUI PDE-Va1-FACTURE-00002.pdf", "MS2-DUI PDE-Va1-VA-00002.png"]
    rows["Pièces"][0]["typeFichier"] = "MOM"
    outcome = convert(tmp_path, rows, "ms2-dui-pde-solde", "w2.xlsx")
    assert codes(outcome) == {("Pièces", "typeFichier", "valeur_non_autorisee")}


# ---------------------------------------------------------------- schema and Notice derived from the definition


def _doc(fmt: str) -> dict:
    return json.loads((EXPECTED / f"{fmt}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("change", [
    lambda d: d["beneficiaires"]["structureFINESSGeo"].append("999999991"),   # LIBERAL with a FINESS
    lambda d: d["beneficiaires"].update(liberalRPPS=[]),                       # LIBERAL without RPPS
    lambda d: d.update(isDirectToMSSPro=True),                                 # the MSS balises are null
    lambda d: d.update(adresseBoiteMSSPro="pro@mail.com"),
    lambda d: d.update(numeroASP="FINMS2000002"),
    lambda d: d.update(montantSegurHTFacture="1075.00"),                       # FLOAT, not a string
    lambda d: d.pop("isDirectToMSSCitoyen"),
])
def test_mdv_schema_refuses_what_the_seed_forbids(change):
    schema = json_schema("mdv-lgc-solde")
    doc = _doc("mdv-lgc-solde")
    jsonschema.validate(doc, schema)
    change(doc["lignesImport"][0])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_mdv_schema_structure_rules():
    schema = json_schema("mdv-lgc-solde")
    doc = _doc("mdv-lgc-solde")
    doc["lignesImport"][1]["identDMP"] = []  # DMP used: at least one RPPS
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


@pytest.mark.parametrize("change", [
    lambda d: d["etablissementsClients"][0].update(nbreDossiersDUIActifs=0),
    lambda d: d.update(numeroASP=None),
    lambda d: d.update(numeroASP="FINMS200002"),
    lambda d: d["piecesjustificatives"][1].update(typeFichier="MOM"),
    lambda d: d["scenarioEffectivementInstalles"][0].update(profilMetier="PDS"),
])
def test_ms2_solde_schema_refuses_what_the_seed_forbids(change):
    schema = json_schema("ms2-dui-pde-solde")
    doc = _doc("ms2-dui-pde-solde")
    change(doc["lignesImport"][0])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_notice_states_the_conditional_lists(tmp_path):
    path = api.write_template("mdv-lgc-solde", tmp_path / "m.xlsx")
    notice = " ".join(str(c) for row in openpyxl.load_workbook(path)["Notice"].iter_rows(values_only=True)
                      for c in row if c)
    assert "au moins une ligne pour chaque ligne de « Demandes » où commandePour vaut LIBERAL" in notice
    assert "aucune ligne sauf si commandePour vaut STRUCTURE" in notice
    assert "hors du cas où isDirectToDMP vaut VRAI, une ligne est gardée, avec un avertissement" in notice
    assert ("chaque identDMP devrait figurer parmi les liberalRPPS de la feuille « RPPS » pour un même numeroEditeur "
            "quand commandePour vaut LIBERAL (avertissement sinon)") in notice
    assert "une pièce parmi VA, MOM (VA par défaut ; plusieurs : gardées, avec un avertissement)" in notice
    sheets = openpyxl.load_workbook(path).sheetnames
    assert sheets[:6] == ["Entête", "Demandes", "RPPS", "FINESS Géo", "identDMP", "Pièces"]
    assert [c.value for c in openpyxl.load_workbook(path)["Demandes"][1]] == [
        "numeroEditeur", "numeroASP", "dateFacture", "montantSegurHTFacture", "commandePour", "isDirectToDMP"]


def test_pde_solde_workbook_sheets(tmp_path):
    book = openpyxl.load_workbook(api.write_template("ms2-dui-pde-solde", tmp_path / "m.xlsx"))
    assert book.sheetnames[:6] == ["Entête", "Demandes", "OG", "FINESS Géo", "Scénarios", "Pièces"]
    assert [c.value for c in book["OG"][1]] == ["numeroEditeur", "FINESSJuridique", "nbreDossiersDUIActifs"]
    assert [c.value for c in book["Scénarios"][1]] == [
        "numeroEditeur", "FINESSGeo", "ancienneVersion", "isMaitreId", "IsStockageId", "operateurMessagerie"]
    assert get_format("ms2-dui-pde-solde").advance_rate is None
