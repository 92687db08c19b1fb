"""Every rule of ms2-dui-pds-avance (FORMATS.md §1–2): a failing case, and the valid baseline.

Each case changes one cell of seed 001's valid example and expects a given issue code on a
given sheet and column; the baseline test proves the unchanged example passes.
"""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from converter import api, concurrency
from converter.ledger import default_path
from tests.builders import merge, seed_001_rows, workbook


def _mutate(rows, sheet, index, **values):
    rows = copy.deepcopy(rows)
    if index is None:
        rows[sheet].append(values)
    else:
        rows[sheet][index].update(values)
    return rows


def _codes(outcome, severity="erreur"):
    return {(i.code, i.sheet, i.balise) for i in outcome.issues if str(i.severity) == severity}


def test_baseline_is_valid(tmp_path):
    outcome = api.verify(workbook(tmp_path / "ok.xlsx", seed_001_rows()))
    assert outcome.errors == []
    assert outcome.accepted == ["00001"]
    assert outcome.exit_code == 0


ERRORS = [
    # (sheet, row index, changes, expected code, balise)
    ("Demandes", 0, {"numeroEditeur": "0001"}, "numero_editeur_invalide", "numeroEditeur"),
    ("Demandes", 0, {"dateCommande": "31/02/2024"}, "date_invalide", "dateCommande"),
    ("Demandes", 0, {"dateCommande": "demain"}, "date_invalide", "dateCommande"),
    ("Demandes", 0, {"dateCommande": None}, "obligatoire", "dateCommande"),
    ("Demandes", 0, {"regimeTVA": "TVA"}, "valeur_non_autorisee", "regimeTVA"),
    ("Demandes", 0, {"montantSegurHT": "4866.666"}, "montant_decimales", "montantSegurHT"),
    ("Demandes", 0, {"montantSegurHT": "quatre mille"}, "montant_invalide", "montantSegurHT"),
    ("Demandes", 0, {"isMandataire": "peut-être"}, "booleen_invalide", "isMandataire"),
    ("Demandes", 0, {"isMandataire": "VRAI"}, "obligatoire_si", "nomMandataire"),
    ("Demandes", 0, {"isMandataire": "VRAI"}, "obligatoire_si", "emailMandataire"),
    ("Demandes", 0, {"isMandataire": "VRAI"}, "obligatoire_si", "telephoneMandataire"),
    ("Demandes", 0, {"nomMandataire": "DUPONT"}, "doit_etre_vide", "nomMandataire"),
    ("Demandes", 0, {"isMandataire": "VRAI", "nomMandataire": "D" * 50, "emailMandataire": "m@x.fr",
                     "telephoneMandataire": "+33600000000"}, "longueur_max", "nomMandataire"),
    ("Demandes", 0, {"isMandataire": "VRAI", "nomMandataire": "DUPONT", "emailMandataire": "m@x",
                     "telephoneMandataire": "+33600000000"}, "email_invalide", "emailMandataire"),
    ("Demandes", 0, {"isMandataire": "VRAI", "nomMandataire": "DUPONT", "emailMandataire": "m@x.fr",
                     "telephoneMandataire": "0612345678"}, "telephone_invalide", "telephoneMandataire"),
    ("Demandes", 0, {"montantSegurHT": "#N/A"}, "cellule_en_erreur", "montantSegurHT"),
    ("OG", 0, {"FINESSJuridique": "34567891"}, "finess_invalide", "FINESSJuridique"),
    ("OG", 0, {"demandeCertificatServeur": "FAUX"}, "doit_etre_vide", "contractualisationOG"),
    ("OG", 0, {"demandeCertificatServeur": "FAUX"}, "doit_etre_vide_si", "numeroCarteCPX"),
    ("OG", 0, {"demandeCertificatServeur": None}, "obligatoire", "demandeCertificatServeur"),
    ("OG", 0, {"contractualisationOG": None}, "obligatoire_si", "contractualisationOG"),
    ("OG", 0, {"statutAdminTechnique": "X"}, "valeur_non_autorisee", "statutAdminTechnique"),
    ("OG", 0, {"statutAdminTechnique": "E"}, "obligatoire_si", "contractualisationEditeur"),
    ("OG", 0, {"demandeCertificatServeur": "FAUX", "contractualisationEditeur": "VRAI"}, "doit_etre_vide_si",
     "contractualisationEditeur"),
    ("OG", 0, {"numeroCarteCPX": None}, "obligatoire_si", "numeroCarteCPX"),
    ("OG", 0, {"numeroCarteCPX": "A12345"}, "longueur_exacte", "numeroCarteCPX"),
    ("OG", 0, {"numeroCarteCPX": "A12345678!"}, "motif", "numeroCarteCPX"),
    ("OG", 0, {"nomAdminTechnique": "M" * 25}, "longueur_max", "nomAdminTechnique"),
    ("OG", 0, {"telAdminTechnique": "06 12"}, "telephone_invalide", "telAdminTechnique"),
    ("OG", 0, {"telAdminTechnique": "+33" + "6" * 47}, "telephone_invalide", "telAdminTechnique"),  # 50 characters
    ("OG", 0, {"emailAdminTechnique": "@og.fr"}, "email_invalide", "emailAdminTechnique"),
    ("OG", 0, {"utiliteCertificat": "DMP et INS"}, "valeur_non_autorisee", "utiliteCertificat"),
    ("OG", 0, {"nomResponsableOG": None}, "obligatoire", "nomResponsableOG"),
    ("OG", 0, {"emailResponsableOG": "x" * 141 + "@og.fr.fr"}, "email_invalide", "emailResponsableOG"),
    ("OG", 0, {"telephoneResponsableOG": None}, "obligatoire", "telephoneResponsableOG"),
    ("OG", 0, {"numeroEditeur": "99999"}, "parent_inconnu", "numeroEditeur"),
    ("OG", 0, {"numeroEditeur": "99999"}, "sans_enfant", None),
    ("FINESS Géo", 0, {"FINESSJuridique": "111111111"}, "parent_inconnu", "FINESSJuridique"),
    ("FINESS Géo", 0, {"FINESSGeo": "2C123456"}, "finess_invalide", "FINESSGeo"),
    ("FINESS Géo", 1, {"FINESSGeo": "123456789"}, "doublon", "FINESSGeo"),
    ("FINESS Géo", 0, {"FINESSGeo": "555555555"}, "ensemble_manquant", "FINESSGeo"),
    ("FINESS Géo", 0, {"FINESSGeo": "555555555"}, "ensemble_en_trop", "FINESSGeo"),
    ("Scénarios", 0, {"ancienneVersion": None}, "obligatoire", "ancienneVersion"),
    ("Scénarios", 0, {"ancienneVersion": "v" * 50}, "longueur_max", "ancienneVersion"),
    ("Scénarios", 0, {"isMaitreId": None}, "obligatoire", "isMaitreId"),
    ("Scénarios", 0, {"IsStockageId": "2"}, "booleen_invalide", "IsStockageId"),
    ("Scénarios", 0, {"operateurMessagerie": "ENO_99"}, "valeur_non_autorisee", "operateurMessagerie"),
    ("Scénarios", 0, {"operateurMessagerie": "ENOVACOM"}, "operateur_nom_au_lieu_du_code", "operateurMessagerie"),
    ("Scénarios", 0, {"profilMetier": "PDE"}, "valeur_non_autorisee", "profilMetier"),
    ("Scénarios", 1, {"IsRefSoins": "VRAI"}, "doit_etre_vide", "IsRefSoins"),
    ("Scénarios", 1, {"FINESSGeo": "123456789"}, "doublon", "FINESSGeo"),
    ("Scénarios", None, {"numeroEditeur": "00001", "FINESSGeo": "345345345", "ancienneVersion": "1",
                         "isMaitreId": "FAUX", "IsStockageId": "FAUX"}, "ensemble_en_trop", "FINESSGeo"),
]


@pytest.mark.parametrize(("sheet", "index", "changes", "code", "balise"), ERRORS,
                         ids=[f"{c[0]}-{c[3]}-{c[4]}-{n}" for n, c in enumerate(ERRORS)])
def test_rule_rejects(tmp_path, sheet, index, changes, code, balise):
    rows = _mutate(seed_001_rows(), sheet, index, **changes)
    outcome = api.verify(workbook(tmp_path / "bad.xlsx", rows))
    found = {(i.code, i.balise) for i in outcome.errors}
    assert (code, balise) in found, outcome.errors
    assert outcome.accepted == []
    assert outcome.exit_code == 1
    located = next(i for i in outcome.errors if (i.code, i.balise) == (code, balise))
    assert located.row is not None and located.sheet is not None
    assert located.message


def test_links_checked_in_threads_give_the_serial_issues(tmp_path, monkeypatch):
    """Issue #19: each sheet's links are checked in a thread of its own; the issues, their
    order included, are those of the serial path (concurrency.SERIAL)."""
    links = [c for c in ERRORS if c[3] in ("parent_inconnu", "sans_enfant", "doublon", "ensemble_en_trop",
                                           "ensemble_manquant") and c[1] is not None]
    rows = merge(*(_mutate(seed_001_rows(f"{n + 1:05d}"), sheet, index, **changes)
                   for n, (sheet, index, changes, _, _) in enumerate(links)))
    path = workbook(tmp_path / "liens.xlsx", rows)
    threaded = api.verify(path).issues
    monkeypatch.setattr(concurrency, "SERIAL", True)
    serial = api.verify(path).issues
    assert {i.code for i in threaded} >= {"parent_inconnu", "sans_enfant", "doublon", "ensemble_en_trop",
                                          "ensemble_manquant"}
    assert [i.to_dict() for i in threaded] == [i.to_dict() for i in serial]


def test_duplicate_demande_rejects_both(tmp_path):
    rows = seed_001_rows()
    rows["Demandes"].append(dict(rows["Demandes"][0]))
    outcome = api.verify(workbook(tmp_path / "dup.xlsx", rows))
    dup = [i for i in outcome.errors if i.code == "doublon"]
    assert [i.row for i in dup] == [2, 3]
    assert outcome.accepted == []


def test_demande_without_og(tmp_path):
    rows = seed_001_rows()
    rows["Demandes"].append({**rows["Demandes"][0], "numeroEditeur": "00002"})
    outcome = api.verify(workbook(tmp_path / "noog.xlsx", rows))
    assert [(i.code, i.sheet, i.row) for i in outcome.errors] == [("sans_enfant", "Demandes", 3)]
    assert outcome.accepted == ["00001"] and outcome.rejected == ["00002"]


@pytest.mark.parametrize(("changes", "code"), [
    ({"numeroAns": "12345"}, "numero_ans_invalide"),
    ({"numeroAns": None}, "obligatoire"),
    ({"SIRET": "7328293200007"}, "siret_invalide"),
])
def test_header_error_rejects_every_demande(tmp_path, changes, code):
    outcome = api.verify(workbook(tmp_path / "h.xlsx", seed_001_rows(), header=changes))
    assert code in {i.code for i in outcome.errors}
    assert outcome.accepted == [] and outcome.rejected == ["00001"]


WARNINGS = [
    ("Demandes", 0, {"regimeTVA": "ttc"}, "casse_corrigee", "regimeTVA"),
    ("OG", 0, {"nomResponsableOG": "Durand"}, "majuscules", "nomResponsableOG"),
    ("OG", 0, {"telephoneResponsableOG": "+33 1 23 45 67 89"}, "telephone_normalise", "telephoneResponsableOG"),
    ("OG", 0, {"telephoneResponsableOG": "0033 1 23 45 67 89"}, "telephone_indicatif", "telephoneResponsableOG"),
    ("OG", 0, {"utiliteCertificat": "dmp,ins"}, "casse_corrigee", "utiliteCertificat"),
    ("OG", 0, {"FINESSJuridique": "345678912"}, "finess_cle", "FINESSJuridique"),
    ("Scénarios", 0, {"operateurMessagerie": "ch_20"}, "casse_corrigee", "operateurMessagerie"),
]


@pytest.mark.parametrize(("sheet", "index", "changes", "code", "balise"), WARNINGS)
def test_normalisation_is_a_warning(tmp_path, sheet, index, changes, code, balise):
    rows = _mutate(seed_001_rows(), sheet, index, **changes)
    outcome = api.verify(workbook(tmp_path / "w.xlsx", rows))
    assert outcome.errors == []
    assert (code, balise) in {(i.code, i.balise) for i in outcome.warnings}


@pytest.mark.parametrize(("typed", "code"), [("HOP_302", "HÔP_302"), ("hop_302", "HÔP_302"), ("Hôp_302", "HÔP_302")])
def test_an_operator_code_typed_without_its_accent_is_corrected(tmp_path, typed, code):
    """The annex's « HÔP_302 » (HÔPITAL FOCH) typed « HOP_302 » on a keyboard without Ô was
    « Valeur non autorisée » with the first six of 355 codes: it is the code written without
    its accent, corrected like a code in other capitals, with a warning; the file holds the
    annex's code."""
    rows = _mutate(seed_001_rows(), "Scénarios", 0, operateurMessagerie=typed)
    outcome = api.convert(workbook(tmp_path / "o.xlsx", rows), tmp_path / "out", date(2024, 3, 12),
                          registre=tmp_path / "r.sqlite")
    assert outcome.errors == [], [i.render() for i in outcome.errors]
    assert ("casse_corrigee", "operateurMessagerie") in {(i.code, i.balise) for i in outcome.warnings}
    scenario = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]["scenarioInstallation"][0]
    assert scenario["operateurMessagerie"] == code


@pytest.mark.parametrize(("typed", "code"), [
    ("ENOVACOM", "ENO_5"), ("Enovacom", "ENO_5"), (" mailiz ", "MAI_15"),
    ("Ch René Dubos", "CH _217"), ("CH RENE DUBOS", "CH _217"),  # « CH RENÉ DUBOS » in the annex
    ("Clinique Sainte Barbe", "CLI_265"), ("hôpital saint-joseph", "HOP_49"),  # « CLINIQUE SAINTE-BARBE », « HOPITAL SAINT JOSEPH »
])
def test_an_operator_name_typed_for_its_code_is_refused_naming_the_code(tmp_path, typed, code):
    """« ENOVACOM » (the annex's name) for operateurMessagerie was « Valeur non autorisée » and a
    list of the first six of 355 codes: the message now names its code, never put in its place."""
    rows = _mutate(seed_001_rows(), "Scénarios", 0, operateurMessagerie=typed)
    outcome = api.verify(workbook(tmp_path / "o.xlsx", rows))
    (error,) = outcome.errors
    assert (error.code, error.balise, error.value) == ("operateur_nom_au_lieu_du_code", "operateurMessagerie", typed)
    assert f"Écrivez son code, « {code} »," in error.message
    assert outcome.accepted == [] and outcome.rejected == ["00001"]


@pytest.mark.parametrize(("typed", "code", "named"), [
    ("MIPIH", "operateur_nom_partiel", ["« GIP_1 » (GIP MIPIH)"]),  # « GIP MIPIH » in the annex
    ("metz", "operateur_nom_partiel", ["« CHR_42 » (CHR METZ-THIONVILLE)"]),
    ("Régional d'Orléans", "operateur_nom_partiel", ["« CH _20 » (CH REGIONAL D'ORLEANS)"]),  # « D''ORLEANS »
    ("Télésanté Lorraine", "operateur_nom_ambigu",
     ["« GCS_7 » (GCS TELESANTE LORRAINE)", "« GIP_8 » (GIP PULSY (EX GCS TELESANTE LORRAINE))"]),
    ("saint joseph", "operateur_nom_ambigu",
     ["« GRO_47 » (GROUPE HOSPITALIER PARIS SAINT JOSEPH)", "« HOP_49 » (HOPITAL SAINT JOSEPH)"]),
    # a part of too many names names none: the generic message
    ("Santé", "valeur_non_autorisee", []), ("CH", "valeur_non_autorisee", []),
])
def test_a_part_of_an_operator_name_is_refused_naming_the_operators(tmp_path, typed, code, named):
    """« MIPIH » for « GIP MIPIH » got the generic « Valeur non autorisée » and the first six of
    355 codes: a part of one operator's name names its code, of a few operators' names names
    them all; never put in the cell's place."""
    rows = _mutate(seed_001_rows(), "Scénarios", 0, operateurMessagerie=typed)
    outcome = api.verify(workbook(tmp_path / "o.xlsx", rows))
    (error,) = outcome.errors
    assert (error.code, error.balise, error.value) == (code, "operateurMessagerie", typed)
    assert all(n in error.message for n in named), error.message
    assert outcome.accepted == [] and outcome.rejected == ["00001"]


@pytest.mark.parametrize("typed", ["12/03/2024", "12-03-2024", "12.03.2024", "2024-03-12", "45363", "12/3/2024"])
def test_dates_people_type(tmp_path, typed):
    rows = _mutate(seed_001_rows(), "Demandes", 0, dateCommande=typed)
    outcome = api.verify(workbook(tmp_path / "d.xlsx", rows))
    assert outcome.errors == []


@pytest.mark.parametrize(("typed", "total"), [
    ("4866.67", "4866.67"), ("4 866,67", "4866.67"), ("4\u00a0866,67 €", "4866.67"), ("1075", "1075.00"),
    ("1.075,50", "1075.50"), ("1,075.50", "1075.50"), ("4866.670", "4866.67"),
])
def test_amounts_people_type(tmp_path, typed, total):
    rows = _mutate(seed_001_rows(), "Demandes", 0, montantSegurHT=typed)
    outcome = api.verify(workbook(tmp_path / "a.xlsx", rows))
    assert outcome.errors == []
    assert f"{outcome.total_ht:.2f}" == total


@pytest.mark.parametrize("typed", ["VRAI", "vrai", "TRUE", "oui", "Oui", "1"])
def test_booleans_people_type(tmp_path, typed):
    rows = _mutate(seed_001_rows(), "Scénarios", 0, isMaitreId=typed)
    assert api.verify(workbook(tmp_path / "b.xlsx", rows)).errors == []


@pytest.mark.parametrize(("typed", "written"), [
    ("0033 1 23 45 67 89", "+33123456789"), ("00262 262 00 00 01", "+262262000001"),
    ("+33" + "1" * 46, "+33" + "1" * 46),  # 49 characters: the longest number accepted
])
def test_phones_people_type(tmp_path, typed, written):
    rows = _mutate(seed_001_rows(), "OG", 0, telephoneResponsableOG=typed)
    outcome = api.convert(workbook(tmp_path / "t.xlsx", rows), tmp_path / "depot", date(2024, 3, 12))
    assert outcome.errors == [], outcome.errors
    og = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]["beneficiaires"]
    assert og["etablissementsClients"][0]["telephoneResponsableOG"] == written


@pytest.mark.parametrize("typed", ["FAUX", "faux", "FALSE", "non", "Non", "NON", "n", "0"])
def test_false_booleans_people_type(tmp_path, typed):
    rows = _mutate(seed_001_rows(), "Demandes", 0, isMandataire=typed)
    outcome = api.convert(workbook(tmp_path / "b.xlsx", rows), tmp_path / "depot", date(2024, 3, 12))
    assert outcome.errors == [], outcome.errors
    assert json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]["beneficiaires"][
        "isMandataire"] is False


def test_a_demande_without_numero_editeur_is_rejected(tmp_path):
    # the row cannot be tied to any OG, attachment or deposit line: it is never accepted
    rows = seed_001_rows()
    rows["Demandes"].append({**rows["Demandes"][0], "numeroEditeur": None})
    outcome = api.convert(workbook(tmp_path / "sans-numero.xlsx", rows), tmp_path / "depot", date(2024, 3, 12))
    assert [(i.code, i.sheet, i.row, i.balise) for i in outcome.errors] == [
        ("obligatoire", "Demandes", 3, "numeroEditeur")]
    assert outcome.accepted == ["00001"] and outcome.rejected == [] and outcome.exit_code == 1
    assert [d["numeroEditeur"] for d in json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"]] == [
        "00001"]


def test_a_faulty_parent_key_is_reported_once(tmp_path):
    # the OG's FINESS juridique is mistyped: its FINESS Géo rows no longer find their OG, but
    # that is the same mistake, reported on the OG cell only
    rows = _mutate(seed_001_rows(), "OG", 0, FINESSJuridique="34567891")
    outcome = api.verify(workbook(tmp_path / "typo.xlsx", rows))
    assert _codes(outcome) == {("finess_invalide", "OG", "FINESSJuridique")}
    assert outcome.rejected == ["00001"]


def test_an_unknown_parent_is_still_reported_when_the_parent_key_is_valid(tmp_path):
    rows = _mutate(seed_001_rows(), "FINESS Géo", 0, FINESSJuridique="111111111")
    outcome = api.verify(workbook(tmp_path / "autre-og.xlsx", rows))
    assert ("parent_inconnu", "FINESS Géo", "FINESSJuridique") in _codes(outcome)


def test_null_typed_as_the_asp_guides_say_is_an_empty_cell_with_a_warning(tmp_path):
    rows = seed_001_rows()
    rows["Scénarios"][1]["operateurMessagerie"] = "null"  # « indiquez « null » » (seed 000)
    outcome = api.convert(workbook(tmp_path / "w.xlsx", rows), tmp_path / "out", date(2024, 3, 12))
    assert outcome.accepted == ["00001"] and outcome.errors == []
    warned = sorted((i.code, i.sheet, i.balise, i.value) for i in outcome.warnings if i.code == "null_lu_vide")
    assert warned == [("null_lu_vide", "Scénarios", "operateurMessagerie", "null")]
    [line] = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"]
    assert line["scenarioInstallation"][1]["operateurMessagerie"] is None


def test_null_in_a_required_cell_asks_for_the_value(tmp_path):
    rows = seed_001_rows()
    rows["Demandes"][0]["dateCommande"] = " NULL "
    outcome = api.convert(workbook(tmp_path / "w.xlsx", rows), tmp_path / "out", date(2024, 3, 12))
    assert outcome.rejected == ["00001"]
    assert [(i.code, i.balise) for i in outcome.errors] == [("obligatoire", "dateCommande")]


# ---------------------------------------------------------------- where seed 001 is silent: warn, keep


@pytest.mark.parametrize(("changes", "balise", "written"), [
    # CPx with statut S and contractualisationOG FAUX: required only « SI … contractualisationOG = true et
    # statutAdminTechnique = « S » », « null » only « SI demandeCertificatServeur = false »
    ({"contractualisationOG": "FAUX"}, "numeroCarteCPX", "A123456789"),
    # contractualisationEditeur with statut S: required only « SI demandeCertificatServeur = true et
    # statutAdminTechnique = « E » », « null » only « SI demandeCertificatServeur = false »
    ({"contractualisationEditeur": "VRAI"}, "contractualisationEditeur", True),
])
def test_a_value_the_seed_neither_asks_nor_forbids_is_written_with_a_warning(tmp_path, changes, balise, written):
    rows = _mutate(seed_001_rows(), "OG", 0, **changes)
    outcome = api.convert(workbook(tmp_path / "s.xlsx", rows), tmp_path / "depot", date(2024, 3, 12))
    assert outcome.errors == [] and outcome.accepted == ["00001"]
    warning = next(i for i in outcome.warnings if i.code == "valeur_non_exigee")
    assert warning.balise == balise and "l'ASP pourrait" in warning.message
    og = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]["beneficiaires"]["etablissementsClients"][0]
    assert {**og, **og["certificatServeur"]}[balise] == written


def test_utilite_certificat_left_empty_with_a_certificate_is_written_null_with_a_warning(tmp_path):
    """Seed 001's « Obligatoire ? » cell for utiliteCertificat says only « demandeCertificatServeur
    = false alors Champ null », where the other certificate balises say « Obligatoire SI »: empty
    with a certificate asked, the demande was refused (obligatoire_si). It is deposited, null, with
    a warning at the cell saying the seed does not require it."""
    rows = _mutate(seed_001_rows(), "OG", 0, utiliteCertificat=None)
    outcome = api.convert(workbook(tmp_path / "u.xlsx", rows), tmp_path / "depot", date(2024, 3, 12))
    assert outcome.errors == [] and outcome.accepted == ["00001"]
    [warning] = [i for i in outcome.warnings if i.balise == "utiliteCertificat"]
    assert (warning.code, warning.sheet, warning.row, warning.column) == ("attendue_si", "OG", 2, "K")
    assert "ne la déclare pas obligatoire" in warning.message and "null" in warning.message
    og = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]["beneficiaires"]["etablissementsClients"][0]
    assert og["demandeCertificatServeur"] is True and og["certificatServeur"]["utiliteCertificat"] is None
    # filled while no certificate is asked: « Champ null », an error
    rows = _mutate(seed_001_rows(), "OG", 0, demandeCertificatServeur="FAUX", contractualisationOG=None,
                   statutAdminTechnique=None, numeroCarteCPX=None, nomAdminTechnique=None, telAdminTechnique=None,
                   emailAdminTechnique=None, contractualisationEditeur=None)
    outcome = api.verify(workbook(tmp_path / "v.xlsx", rows))
    assert _codes(outcome) == {("doit_etre_vide_si", "OG", "utiliteCertificat")}


def test_what_the_seed_says_null_stays_an_error(tmp_path):
    """« SI demandeCertificatServeur = false alors Champ null » (seed 001)."""
    rows = _mutate(seed_001_rows(), "OG", 0, demandeCertificatServeur="FAUX", contractualisationOG=None,
                   statutAdminTechnique=None, nomAdminTechnique=None, telAdminTechnique=None,
                   emailAdminTechnique=None, utiliteCertificat=None, contractualisationEditeur="FAUX")
    outcome = api.verify(workbook(tmp_path / "n.xlsx", rows))
    assert _codes(outcome) == {("doit_etre_vide_si", "OG", "numeroCarteCPX"),
                               ("doit_etre_vide_si", "OG", "contractualisationEditeur")}
    assert "demandeCertificatServeur vaut FAUX" in outcome.errors[0].message


@pytest.mark.parametrize("typed", ["prenom.nom@og", "direction@og .fr", "it@@og.fr"])
def test_an_email_meeting_the_seed_rule_only_is_written_with_a_warning(tmp_path, typed):
    """« le champ doit contenir un "@" au-delà du premier caractère et un point » (seed 001): an
    address that meets it but not an ordinary address shape is kept as typed."""
    rows = _mutate(seed_001_rows(), "OG", 0, emailResponsableOG=typed)
    outcome = api.convert(workbook(tmp_path / "e.xlsx", rows), tmp_path / "depot", date(2024, 3, 12))
    assert outcome.errors == [] and _codes(outcome, "avertissement") >= {("email_inhabituel", "OG", "emailResponsableOG")}
    og = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]["beneficiaires"]["etablissementsClients"][0]
    assert og["emailResponsableOG"] == typed


@pytest.mark.parametrize("typed", ["@og.fr", "direction@og", "x" * 141 + "@og.fr.fr"])
def test_an_email_failing_the_seed_rule_is_an_error(tmp_path, typed):
    outcome = api.verify(workbook(tmp_path / "e.xlsx", _mutate(seed_001_rows(), "OG", 0, emailResponsableOG=typed)))
    assert ("email_invalide", "OG", "emailResponsableOG") in _codes(outcome)


# ---------------------------------------------------------------- values in messages, as the user sees them


def test_allowed_values_are_quoted_one_by_one(tmp_path):
    outcome = api.verify(workbook(tmp_path / "v.xlsx", _mutate(seed_001_rows(), "OG", 0, utiliteCertificat="DMP et INS")))
    [issue] = [i for i in outcome.errors if i.balise == "utiliteCertificat"]
    assert issue.message == "Valeur non autorisée. Valeurs possibles : « DMP », « INS », « DMP, INS »."
    from converter.formats import get_format
    from converter.workbook import describe_format

    d = get_format("ms2-dui-pds-avance")  # the Notice and the header notes say it the same way
    assert describe_format(d, d.by_name["OG"].by_balise["utiliteCertificat"]) == "une valeur parmi : « DMP », « INS », « DMP, INS »"


@pytest.mark.parametrize(("typed", "code", "written"), [
    ("0033 1 23 45 67 89", "telephone_indicatif", "+33123456789"),
    ("00262 262 00 00 01", "telephone_indicatif", "+262262000001"),
    ("+33 1 23 45 67 89", "telephone_normalise", "+33123456789"),
])
def test_a_phone_rewritten_says_how(tmp_path, typed, code, written):
    outcome = api.verify(workbook(tmp_path / "t.xlsx", _mutate(seed_001_rows(), "OG", 0, telephoneResponsableOG=typed)))
    [warning] = [i for i in outcome.warnings if i.balise == "telephoneResponsableOG"]
    assert (warning.code, warning.value) == (code, typed)
    if code == "telephone_indicatif":
        assert warning.message == ("Indicatif international « 00 » remplacé par « + » (et séparateurs retirés) : "
                                   f"le numéro est écrit « {written} » dans le fichier de dépôt.")


# ---------------------------------------------------------------- a row's demande is its numeroEditeur as written


@pytest.mark.parametrize(("sheet", "index"), [("OG", 0), ("FINESS Géo", 1), ("Scénarios", 1)])
def test_a_numero_editeur_typed_with_a_space_keeps_its_row_in_the_deposit_file(tmp_path, sheet, index):
    """« 000 01 » is linked to the demande 00001 (a warning: « Espaces retirés »): its row is
    that demande's, in the deposit file too, never left out of it."""
    rows = _mutate(seed_001_rows(), sheet, index, numeroEditeur="000 01")
    outcome = api.convert(workbook(tmp_path / "s.xlsx", rows), tmp_path / "depot", date(2024, 3, 12))
    assert outcome.errors == [] and outcome.accepted == ["00001"]
    [warning] = [i for i in outcome.warnings if i.balise == "numeroEditeur"]
    # the letters of a numéro éditeur keep their case: the message does not say they were upper-cased
    assert (warning.code, warning.sheet, warning.value) == ("numero_editeur_normalise", sheet, "000 01")
    assert "« 00001 »" in warning.message and "majuscules" not in warning.message
    [line] = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"]
    [og] = line["beneficiaires"]["etablissementsClients"]
    assert og["FINESSGeos"] == ["123456789", "234567891"]
    assert [s["FINESSGeo"] for s in line["scenarioInstallation"]] == ["123456789", "234567891"]


@pytest.mark.parametrize(("sheet", "changes", "code", "balise"), [
    ("OG", {"emailResponsableOG": "x"}, "email_invalide", "emailResponsableOG"),
    # an error the JSON Schema cannot see: only the checks can reject the demande
    ("OG", {"demandeCertificatServeur": "FAUX", "contractualisationOG": "VRAI", "statutAdminTechnique": None,
            "numeroCarteCPX": None, "nomAdminTechnique": None, "telAdminTechnique": None,
            "emailAdminTechnique": None, "utiliteCertificat": None}, "doit_etre_vide", "contractualisationOG"),
    ("Scénarios", {"IsRefSoins": "VRAI"}, "doit_etre_vide", "IsRefSoins"),
])
def test_an_error_on_a_row_whose_numero_editeur_has_a_space_rejects_its_demande(tmp_path, sheet, changes, code,
                                                                                balise):
    index = 1 if sheet == "Scénarios" else 0
    rows = _mutate(seed_001_rows(), sheet, index, numeroEditeur="000 01", **changes)
    outcome = api.convert(workbook(tmp_path / "e.xlsx", rows), tmp_path / "depot", date(2024, 3, 12))
    assert (code, sheet, balise) in _codes(outcome)
    assert next(i for i in outcome.errors if i.balise == balise).numero_editeur == "00001"
    assert outcome.accepted == [] and outcome.rejected == ["00001"] and outcome.files == []


# ---------------------------------------------------------------- telephone: the seed asks for an international prefix


@pytest.mark.parametrize(("typed", "written"), [
    ("+33 (0)1 23 45 67 89", "+33(0)123456789"),
    ("+33 1 23 45 67 89 poste 12", "+33123456789poste12"),
    ("+33/123456789", "+33/123456789"),
    ("(+33) 1 23 45 67 89", "(+33)123456789"),
    ('+33 1 23 45 67 89 "bureau\\2"', '+33123456789"bureau\\2"'),  # JSON-encoded: the file stays valid JSON
])
def test_a_phone_with_its_prefix_but_an_unusual_shape_is_written_with_a_warning(tmp_path, typed, written):
    """« le champ Téléphone doit comporter un indicatif téléphonique (exemple : +33) » (seed 001):
    a number that has one is not refused for what else it holds; it is written, with a warning."""
    rows = _mutate(seed_001_rows(), "OG", 0, telephoneResponsableOG=typed)
    outcome = api.convert(workbook(tmp_path / "t.xlsx", rows), tmp_path / "depot", date(2024, 3, 12))
    assert outcome.errors == [] and outcome.accepted == ["00001"]
    [warning] = [i for i in outcome.warnings if i.balise == "telephoneResponsableOG"]
    assert warning.code == "telephone_inhabituel" and f"« {written} »" in warning.message
    og = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]["beneficiaires"][
        "etablissementsClients"][0]
    assert og["telephoneResponsableOG"] == written


@pytest.mark.parametrize("typed", ["01 23 45 67 89", "33 1 23 45 67 89", "+0 123"])
def test_a_phone_without_international_prefix_is_refused_without_a_warning(tmp_path, typed):
    outcome = api.verify(workbook(tmp_path / "t.xlsx", _mutate(seed_001_rows(), "OG", 0, telephoneResponsableOG=typed)))
    assert [(i.code, i.severity) for i in outcome.issues if i.balise == "telephoneResponsableOG"] == [
        ("telephone_invalide", "erreur")]


def test_a_numero_editeur_keeps_the_case_of_its_letters_and_the_warning_says_so(tmp_path):
    rows = seed_001_rows("ab 12c")
    outcome = api.convert(workbook(tmp_path / "c.xlsx", rows), tmp_path / "depot", date(2024, 3, 12))
    assert outcome.errors == [] and outcome.accepted == ["ab12c"]
    [line] = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"]
    assert line["numeroEditeur"] == "ab12c"
    warnings = {(i.code, i.sheet) for i in outcome.warnings if i.balise == "numeroEditeur"}
    assert warnings == {("numero_editeur_normalise", s) for s in ("Demandes", "OG", "FINESS Géo", "Scénarios")}
    message = next(i.message for i in outcome.warnings if i.balise == "numeroEditeur")
    assert "« ab12c »" in message and "majuscules" not in message


def test_two_numeros_editeur_that_differ_only_by_case_are_both_deposited_with_a_warning(tmp_path):
    """Seed 001: « VARCHAR (=5), le champ Numéro éditeur doit être au format alphanumérique »,
    nothing on case. « ab12c » and « AB12C » are two demandes, written as typed, each warned
    (their attachments' names would differ only by case); « ab12c » and « 00002 » are not."""
    rows = merge(seed_001_rows("ab12c"), seed_001_rows("AB12C"), seed_001_rows("00002"))
    outcome = api.convert(workbook(tmp_path / "c.xlsx", rows), tmp_path / "depot", date(2024, 3, 12))
    assert outcome.errors == [] and sorted(outcome.accepted) == ["00002", "AB12C", "ab12c"]
    lines = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"]
    assert sorted(line["numeroEditeur"] for line in lines) == ["00002", "AB12C", "ab12c"]
    warned = [i for i in outcome.warnings if i.code == "doublon_casse"]
    assert [(i.sheet, i.row, i.balise, i.value, i.rows) for i in warned] == [
        ("Demandes", 2, "numeroEditeur", "ab12c", (2, 3)), ("Demandes", 3, "numeroEditeur", "AB12C", (2, 3))]
    assert "lignes 2, 3" in warned[0].message and "majuscules et les minuscules" in warned[0].message


def test_a_numero_editeur_differing_only_by_case_from_one_of_the_ledger_is_warned(tmp_path):
    """« AB12C » deposited, then « ab12c » converted in another workbook: within one workbook it is
    warned (`doublon_casse`), across runs nothing was said, and the pieces of the two demandes took
    names differing only by case. Warned the same way against the ledger, kept as typed; the same
    number, or one the ledger does not hold, is not."""
    day, out = date(2024, 3, 12), tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", seed_001_rows("AB12C")), out, day).files[0]
    outcome = api.convert(workbook(tmp_path / "b.xlsx", merge(seed_001_rows("ab12c"), seed_001_rows("00002"))), out, day)
    assert outcome.errors == [] and sorted(outcome.accepted) == ["00002", "ab12c"]
    [warned] = [i for i in outcome.warnings if i.code == "doublon_casse_registre"]
    assert (warned.sheet, warned.row, warned.balise, warned.value, warned.numero_editeur) == (
        "Demandes", 2, "numeroEditeur", "ab12c", "ab12c")
    assert warned.message.startswith(
        "Ce numéro éditeur ne diffère que par les majuscules et les minuscules de celui de la demande AB12C (avance, "
        f"fichier {first.name}, déposée, sans retour de l'ASP) au registre")
    assert "Windows et macOS" in warned.message
    api.withdraw(outcome.files[0].name, default_path())  # never uploaded: its ab12c is no one's number
    again = api.convert(workbook(tmp_path / "c.xlsx", seed_001_rows("AB12C")), out, day)
    assert [i.code for i in again.errors] == ["deja_deposee"]  # the same number: not a case twin
    assert not [i for i in again.issues if i.code == "doublon_casse_registre"]


# ---------------------------------------------------------------- amounts: a separator before 3 digits is ambiguous


@pytest.mark.parametrize("typed, code", [("0,001", "montant_decimales"), ("0.125", "montant_decimales"),
                                         ("0,000", "montant_nul_ou_negatif")])
def test_a_separator_after_a_lone_zero_is_a_decimal_one(tmp_path, typed, code):
    """« 0,001 » got « Montant ambigu : … sépare les milliers (15.000 = 15 000) »: after a lone 0
    a point or a comma separates no thousands. Its decimals are judged as any amount's (seed 001:
    « FLOAT (2 chiffres après le point) »): more than 2 is an error; nothing left above 0 is
    kept, with a warning (the seed gives no minimum)."""
    outcome = api.verify(workbook(tmp_path / "m.xlsx", _mutate(seed_001_rows(), "Demandes", 0, montantSegurHT=typed)))
    [issue] = [i for i in outcome.issues if i.balise == "montantSegurHT"]
    assert (issue.code, issue.value) == (code, typed)
    assert "ambigu" not in issue.message and outcome.accepted == ([] if issue.is_error else ["00001"])


@pytest.mark.parametrize("typed, written", [("12/03/1850", "12/03/1850"), ("1er mars 2204", "01/03/2204")])
def test_a_year_before_1900_or_after_2099_is_deposited_as_typed_with_a_warning(tmp_path, typed, written):
    """Seed 001 asks dateCommande « VARCHAR (format « JJ/MM/AAAA ») », no range (nor do seeds 000
    and 003 for dateFacture): a year outside 1900–2099, likely mistyped, is kept and the user
    warned; it was refused (« Année hors limites »)."""
    rows = _mutate(seed_001_rows(), "Demandes", 0, dateCommande=typed)
    outcome = api.convert(workbook(tmp_path / "d.xlsx", rows), tmp_path / "depot", date(2024, 3, 12),
                          registre=tmp_path / "r.sqlite")
    [issue] = [i for i in outcome.issues if i.balise == "dateCommande"]
    assert (issue.code, issue.is_error, issue.value) == ("date_annee_hors_limites", False, typed)
    assert f"« {written} »" in issue.message and outcome.accepted == ["00001"]
    assert f'"dateCommande": "{written}"' in outcome.files[0].read_text(encoding="utf-8")


@pytest.mark.parametrize("typed, written", [("0", "0.00"), ("-5", "-5.00"), ("-4 866,67", "-4866.67")])
def test_a_zero_or_negative_amount_is_deposited_as_typed_with_a_warning(tmp_path, typed, written):
    """Seed 001 gives montantSegurHT no minimum (« FLOAT (2 chiffres après le point) »), nor do
    seeds 000 and 003 to montantSegurHTFacture: where a seed is silent, the value is kept, its
    sign with it, and the user warned; it was refused (« strictement positif », FORMATS.md only)."""
    rows = _mutate(seed_001_rows(), "Demandes", 0, montantSegurHT=typed)
    outcome = api.convert(workbook(tmp_path / "m.xlsx", rows), tmp_path / "depot", date(2024, 3, 12),
                          registre=tmp_path / "r.sqlite")
    [issue] = [i for i in outcome.issues if i.balise == "montantSegurHT"]
    assert (issue.code, issue.is_error, issue.value) == ("montant_nul_ou_negatif", False, typed)
    assert f"« {written} »" in issue.message and "FLOAT (2 chiffres après le point)" in issue.message
    assert outcome.accepted == ["00001"]
    text = outcome.files[0].read_text(encoding="utf-8")
    assert f'"montantSegurHT": {written}' in text


@pytest.mark.parametrize("typed", ["15.000", "2,000", "4.866", "999,500"])
def test_an_amount_whose_separator_may_be_a_thousands_one_is_refused(tmp_path, typed):
    """« 15.000 » is 15 000 € with a thousands dot and 15 € with a decimal point: never read as
    either in silence (it was read 15.00); « 4.866 » is not « arrondissez-le » either."""
    outcome = api.verify(workbook(tmp_path / "m.xlsx", _mutate(seed_001_rows(), "Demandes", 0, montantSegurHT=typed)))
    [issue] = [i for i in outcome.issues if i.balise == "montantSegurHT"]
    assert (issue.code, issue.value) == ("montant_ambigu", typed)
    assert "15000" in issue.message and "arrondi" not in issue.message
    assert outcome.accepted == [] and outcome.total_ht == 0


@pytest.mark.parametrize(("typed", "total"), [("15 000", "15000.00"), ("15.000,00", "15000.00"), ("1,500.00", "1500.00"),
                                              ("1500.000", "1500.00"), ("15", "15.00")])
def test_an_amount_whose_separators_are_plain_is_read(tmp_path, typed, total):
    outcome = api.verify(workbook(tmp_path / "m.xlsx", _mutate(seed_001_rows(), "Demandes", 0, montantSegurHT=typed)))
    assert outcome.errors == [] and f"{outcome.total_ht:.2f}" == total


def _two_og(rows, ne="00001"):
    """`rows` with a second OG (and its ESMS) for the demande `ne`."""
    rows = copy.deepcopy(rows)
    rows["OG"].append({"numeroEditeur": ne, "FINESSJuridique": "330000050", "demandeCertificatServeur": "FAUX",
                       "nomResponsableOG": "MOREAU", "emailResponsableOG": "contact@ehpad-moreau.fr",
                       "telephoneResponsableOG": "+262262000001"})
    rows["FINESS Géo"].append({"numeroEditeur": ne, "FINESSJuridique": "330000050", "FINESSGeo": "590000063"})
    rows["Scénarios"].append({"numeroEditeur": ne, "FINESSGeo": "590000063", "ancienneVersion": "2024.1",
                              "isMaitreId": "VRAI", "IsStockageId": "FAUX"})
    return rows


def test_several_og_without_a_mandataire_is_a_warning(tmp_path):
    """Seed 001 describes isMandataire as « la commande est portée par un mandataire pour
    plusieurs OG », and allows several OG per demande, without forbidding them with FAUX:
    a warning on isMandataire, the demande still accepted; none with one OG, nor with VRAI."""
    rows = _two_og(merge(seed_001_rows("00001"), seed_001_rows("00002")))
    outcome = api.verify(workbook(tmp_path / "a.xlsx", rows))
    assert outcome.errors == [] and outcome.accepted == ["00001", "00002"]
    [warned] = [i for i in outcome.issues if i.code == "plusieurs_og_sans_mandataire"]
    assert (warned.sheet, warned.row, warned.balise, warned.numero_editeur, str(warned.severity)) == \
        ("Demandes", 2, "isMandataire", "00001", "avertissement")
    assert warned.message.startswith("Cette demande compte 2 OG (feuille « OG ») et isMandataire vaut FAUX")
    mandated = _mutate(rows, "Demandes", 0, isMandataire="VRAI", nomMandataire="DUPONT",
                       emailMandataire="mandataire@exemple.fr", telephoneMandataire="+33612345678")
    outcome = api.verify(workbook(tmp_path / "b.xlsx", mandated))
    assert outcome.errors == [] and not [i for i in outcome.issues if i.code == "plusieurs_og_sans_mandataire"]


def test_a_mandataire_for_a_single_og_is_a_warning(tmp_path):
    """The other side of seed 001's « portée par un mandataire pour plusieurs OG »: isMandataire
    VRAI with one OG passed silently. A warning on isMandataire, the demande still accepted;
    none with two OG, nor with FAUX."""
    mandataire = {"isMandataire": "VRAI", "nomMandataire": "DUPONT", "emailMandataire": "mandataire@exemple.fr",
                  "telephoneMandataire": "+33612345678"}
    rows = _mutate(merge(seed_001_rows("00001"), seed_001_rows("00002")), "Demandes", 1, **mandataire)
    outcome = api.verify(workbook(tmp_path / "a.xlsx", rows))
    assert outcome.errors == [] and outcome.accepted == ["00001", "00002"]
    [warned] = [i for i in outcome.issues if i.code == "mandataire_un_seul_og"]
    assert (warned.sheet, warned.row, warned.balise, warned.numero_editeur, warned.value, str(warned.severity)) == \
        ("Demandes", 3, "isMandataire", "00002", "VRAI", "avertissement")
    assert warned.message.startswith("Cette demande n'a qu'un OG (feuille « OG ») et isMandataire vaut VRAI")
    outcome = api.verify(workbook(tmp_path / "b.xlsx", _two_og(rows, "00002")))
    assert outcome.errors == [] and not [i for i in outcome.issues if "mandataire" in i.code]


@pytest.mark.parametrize("fmt", ["ms2-dui-pds-avance", "ms2-dui-pde-avance"])
def test_an_og_or_an_esms_under_two_demandes_is_a_warning(tmp_path, fmt):
    """Seed 001 §3.1: « La demande de financement ne comporte qu'un seul bon de commande pour les
    ESMS éligibles au SONS de l'organisme gestionnaire ». Two demandes naming one ESMS (seed 000
    §3.1: « Le client final est un ESSMS identifié par son FINESS géographique ») would fund it
    twice, and passed in silence; an OG in two demandes is two orders for it. The seed describes
    the demande without forbidding in so many words: warned, each row naming the other demande,
    both demandes kept."""
    rows = merge(seed_001_rows("00001"), seed_001_rows("00002"))
    if fmt == "ms2-dui-pde-avance":
        for scenario in rows["Scénarios"]:
            scenario.pop("profilMetier", None)
    outcome = api.verify(workbook(tmp_path / "a.xlsx", rows, fmt))
    assert outcome.errors == [] and outcome.accepted == ["00001", "00002"]
    esms = sorted((i.row, i.value, i.numero_editeur) for i in outcome.issues if i.code == "esms_dans_plusieurs_demandes")
    assert esms == [(2, "123456789", "00001"), (3, "234567891", "00001"), (4, "123456789", "00002"),
                    (5, "234567891", "00002")]
    [first] = [i for i in outcome.issues if i.code == "esms_dans_plusieurs_demandes" and i.row == 2]
    assert (first.sheet, first.balise, str(first.severity)) == ("FINESS Géo", "FINESSGeo", "avertissement")
    assert first.message.startswith("L'ESMS 123456789 figure aussi dans la demande 00002 de ce classeur")
    assert "« La demande de financement ne comporte qu'un seul bon de commande" in first.message
    og = sorted((i.sheet, i.row, i.value, i.numero_editeur) for i in outcome.issues
                if i.code == "og_dans_plusieurs_demandes")
    assert og == [("OG", 2, "345678912", "00001"), ("OG", 3, "345678912", "00002")]
    # one OG per demande, its own ESMS: nothing said
    apart = merge(seed_001_rows("00001"), _mutate(
        _mutate(_mutate(_mutate(_mutate(seed_001_rows("00002"), "OG", 0, FINESSJuridique="750000010"),
                                "FINESS Géo", 0, FINESSJuridique="750000010", FINESSGeo="750000028"),
                        "FINESS Géo", 1, FINESSJuridique="750000010", FINESSGeo="690000047"),
                "Scénarios", 0, FINESSGeo="750000028"), "Scénarios", 1, FINESSGeo="690000047"))
    if fmt == "ms2-dui-pde-avance":
        for scenario in apart["Scénarios"]:
            scenario.pop("profilMetier", None)
    outcome = api.verify(workbook(tmp_path / "b.xlsx", apart, fmt))
    assert outcome.errors == [] and not [i for i in outcome.issues if "plusieurs_demandes" in i.code]


def test_an_esms_under_many_demandes_names_three_others_then_their_count(tmp_path):
    """One ESMS in many demandes named every other demande on each row: a workbook of 10,000
    such demandes took a minute more (the quadratic names). Three, then how many more."""
    rows = merge(*(seed_001_rows(f"{n:05d}") for n in range(1, 7)))
    outcome = api.verify(workbook(tmp_path / "a.xlsx", rows))
    assert outcome.errors == []
    [fourth] = [i for i in outcome.issues if i.code == "esms_dans_plusieurs_demandes" and i.numero_editeur == "00004"
                and i.value == "123456789"]
    # a list after a plural (« dans la demande 00001, 00002, 00003 et 2 autres »: a singular before it)
    assert fourth.message.startswith("L'ESMS 123456789 figure aussi dans les demandes 00001, 00002, 00003 et 2 autres "
                                     "de ce classeur")
    [og] = [i for i in outcome.issues if i.code == "og_dans_plusieurs_demandes" and i.numero_editeur == "00001"]
    assert "dans les demandes 00002, 00003, 00004 et 2 autres de ce classeur" in og.message


@pytest.mark.parametrize("count, said", [
    (2, "dans la demande 00002 de ce classeur"),
    (3, "dans les demandes 00002 et 00003 de ce classeur"),
    (4, "dans les demandes 00002, 00003 et 00004 de ce classeur"),
    (5, "dans les demandes 00002, 00003, 00004 et 1 autre de ce classeur"),
], ids=["une", "deux", "trois", "quatre"])
def test_the_other_demandes_an_esms_or_an_og_is_in_are_named_in_good_french(tmp_path, count, said):
    """« dans la demande 00002, 00003 et 1 autres »: a singular before a list, « 1 autres ». One
    other demande after a singular, two or three after a plural joined by « et », more: three
    named, then « et 1 autre » (« et N autres »); the ESMS and the OG warnings alike."""
    rows = merge(*(seed_001_rows(f"{n:05d}") for n in range(1, count + 1)))
    outcome = api.verify(workbook(tmp_path / "a.xlsx", rows))
    assert outcome.errors == []
    [esms] = [i for i in outcome.issues if i.code == "esms_dans_plusieurs_demandes" and i.numero_editeur == "00001"
              and i.value == "123456789"]
    [og] = [i for i in outcome.issues if i.code == "og_dans_plusieurs_demandes" and i.numero_editeur == "00001"]
    assert esms.message.startswith(f"L'ESMS 123456789 figure aussi {said} : ")
    assert og.message.startswith(f"L'OG 345678912 figure aussi {said}, alors que")
