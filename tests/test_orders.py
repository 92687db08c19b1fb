"""Order-check workbooks (nature `commandes`) of HOP-PFI-Va2 and SFP-LGC-Va2, and the
expected advance of the deposit formats' summary.

template → filled → `verifier`: each funding rule with a passing and a failing row.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from converter import api
from converter.checks.rules import RULES, validate_rules
from converter.cli import app
from converter.formats import all_formats, get_format
from converter.funding import hop_calendar, sfp_calendar, plafond_hop, check_bon_commande
from tests.builders import merge, seed_001_rows, workbook

runner = CliRunner()
HOP_ID, SFP_ID = "hop-pfi-va2-commandes", "sfp-lgc-va2-commandes"
# FINESS and RPPS with a valid Luhn key: no warning clutters the checks below
FINESS = ["750000002", "750000010", "750000028", "750000036", "750000044", "750000051"]
RPPS = ["10001234508", "10001234516", "10001234524", "10001234532", "10001234540"]


def hop_row(ne: str, pmsi: str = FINESS[0], **kw: str) -> dict[str, str]:
    row = {"numeroEditeur": ne, "FINESSPMSI": pmsi, "FINESSJuridique": pmsi,
           "categorieFINESSJuridique": "1101", "FINESSGeographique": FINESS[5],
           "categorieFINESSGeographique": "101", "prestation": "V2", "activiteCombinee": "15000",
           "regimeTVA": "TTC20", "dateEmission": "02/03/2026", "dateSignature": "16/03/2026",
           "mentionConditionnelle": "VRAI", "montantCommande": "8183.47"}
    return {**row, **kw}


def sfp_row(ne: str, **kw: str) -> dict[str, str]:
    row = {"numeroEditeur": ne, "typeClient": "ide", "RPPS": RPPS[0], "regimeTVA": "TTC20",
           "dateEmission": "01/02/2027", "dateSignature": "15/02/2027", "mentionConditionnelle": "VRAI",
           "montantCommande": "270.00"}
    return {**row, **kw}


def verify(tmp_path: Path, fmt: str, rows: list[dict[str, str]], header: dict[str, str] | None = None,
           name: str = "c.xlsx") -> api.Outcome:
    return api.verify(workbook(tmp_path / name, {"Commandes": rows}, fmt, header))


def found(outcome: api.Outcome, code: str) -> list[tuple[str | None, str | None]]:
    """(numeroEditeur, balise) of the issues of a code."""
    return [(i.numero_editeur, i.balise) for i in outcome.issues if i.code == code]


# ---------------------------------------------------------------- definitions


def test_order_formats_are_declared_without_template_nor_json():
    for fmt in (HOP_ID, SFP_ID):
        d = get_format(fmt)
        assert d.nature == "commandes" and d.template is None and d.json is None
        assert not d.produces_deposit
        validate_rules(d)
        assert {r.rule for s in d.sheets for r in s.rules} <= set(RULES)
    assert all(d.produces_deposit for d in all_formats().values() if d.nature != "commandes")
    assert "date0" in get_format(SFP_ID).header.by_balise
    assert get_format(SFP_ID).header.by_balise["date0"].presence.mode == "required"


def test_template_then_filled_then_verifier(tmp_path):
    """The blank template of `xl2segur modele`, filled in like a user would, passes."""
    r = runner.invoke(app, ["modele", HOP_ID, "-o", str(tmp_path / "hop.xlsx")])
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(tmp_path / "hop.xlsx")
    header = wb["Entête"]
    titles = [c.value for c in header[1]]
    header.cell(2, titles.index("numeroAns") + 1, "0123456789")
    header.cell(2, titles.index("SIRET") + 1, "73282932000074")
    header.cell(2, titles.index("date0") + 1, "01/03/2026")
    ws = wb["Commandes"]
    titles = [c.value for c in ws[1]]
    for balise, value in hop_row("00001").items():
        ws.cell(2, titles.index(balise) + 1, value)
    wb.save(tmp_path / "rempli.xlsx")
    r = runner.invoke(app, ["verifier", str(tmp_path / "rempli.xlsx")])
    assert r.exit_code == 0, r.output
    assert "Commandes lues : 1" in r.output and "Commandes conformes : 1" in r.output


# ---------------------------------------------------------------- HOP-PFI-Va2


def test_hop_cap_exceeded_shows_the_cap(tmp_path):
    outcome = verify(tmp_path, HOP_ID, [
        hop_row("00001", FINESS[0], montantCommande="8183.47"),  # = cap: accepted
        hop_row("00002", FINESS[1], montantCommande="8183.48"),  # one cent above
        hop_row("00003", FINESS[2], prestation="V1+V2", regimeTVA="HT", montantCommande="8638.10"),
        hop_row("00004", FINESS[3], prestation="V1+V2", regimeTVA="HT", montantCommande="8638.11"),
    ])
    assert outcome.accepted == ["00001", "00003"]
    assert outcome.rejected == ["00002", "00004"]
    assert found(outcome, "montant_au_dela_du_plafond") == [("00002", "montantCommande"), ("00004", "montantCommande")]
    over = {i.numero_editeur: i for i in outcome.issues if i.code == "montant_au_dela_du_plafond"}
    assert "8 183,47 €" in over["00002"].message and "tranche B" in over["00002"].message
    assert "TTC (TVA 20 %)" in over["00002"].message
    assert "8 638,10 €" in over["00004"].message and "Vague 1 + Vague 2" in over["00004"].message
    assert over["00002"].value == "8183.48" and over["00002"].column == "M"
    # the cap shown is the pure library's
    assert plafond_hop(Decimal("15000"), "V1+V2", "HT").plafond == Decimal("8638.10")


def test_hop_activite_beyond_the_table(tmp_path):
    """Seed 002 §5.3 gives no cap beyond an activité combinée of 1 600 000, and forbids none
    either (« Les niveaux d'activité combinée et les prix plafonds correspondant à chaque ES
    éligible figurent dans la Base des ES éligibles »): the order is kept, with a warning that
    the cap could not be checked, not refused."""
    outcome = verify(tmp_path, HOP_ID, [hop_row("00001", activiteCombinee="1600000", montantCommande="42750.00"),
                                        hop_row("00002", FINESS[1], activiteCombinee="2000000"),
                                        hop_row("00003", FINESS[2], activiteCombinee="10000 + 2000000")])
    assert outcome.accepted == ["00001", "00002", "00003"]
    assert found(outcome, "hors_bareme") == []
    assert found(outcome, "plafond_non_verifie") == [("00002", "activiteCombinee"), ("00003", "activiteCombinee")]
    warning = next(i for i in outcome.issues if i.code == "plafond_non_verifie")
    assert not warning.is_error and "Base des ES éligibles" in warning.message
    assert "2 000 000" in warning.message and warning.value == "2000000"
    assert found(outcome, "montant_au_dela_du_plafond") == []


def test_hop_finess_pmsi_is_the_juridique_or_the_geographique(tmp_path):
    """Seed 002 §4.2: « chaque ES est identifié par son FINESS PMSI, qui correspond : Au FINESS
    Juridique s'il s'agit d'un établissement public ou d'un centre de dialyse (privé) ; Au FINESS
    géographique s'il s'agit d'un établissement privé (hors centre de dialyse) »."""
    outcome = verify(tmp_path, HOP_ID, [
        hop_row("00001", FINESS[0]),  # public: PMSI = FINESS juridique
        hop_row("00002", FINESS[1], FINESSJuridique=FINESS[2], FINESSGeographique=FINESS[1]),  # private
        hop_row("00003", FINESS[3], FINESSJuridique=FINESS[4], FINESSGeographique=FINESS[5]),  # neither
    ])
    assert outcome.accepted == ["00001", "00002"]
    assert found(outcome, "identifiant_absent_de_la_ligne") == [("00003", "FINESSPMSI")]
    issue = next(i for i in outcome.issues if i.code == "identifiant_absent_de_la_ligne")
    assert issue.is_error and issue.value == FINESS[3] and issue.column == "B"
    assert "FINESS juridique" in issue.message and "FINESS géographique" in issue.message
    assert "ni le FINESSJuridique ni le FINESSGeographique" in issue.message and "Corrigez FINESSPMSI" in issue.message
    # a FINESS already in error on its cell is not judged again
    malformed = verify(tmp_path, HOP_ID, [hop_row("00001", FINESS[0], FINESSJuridique="7500000X")], name="m.xlsx")
    assert found(malformed, "identifiant_absent_de_la_ligne") == []


def test_a_zero_order_amount_says_how_to_fix_the_cell(tmp_path):
    """Seeds 002 and 004 §4.3: « le montant de la Prestation Ségur doit impérativement figurer sur
    le bon de commande, dont le total ne peut donc apparaître égal à zéro »."""
    outcome = verify(tmp_path, HOP_ID, [hop_row("00001", montantCommande="0")])
    (issue,) = [i for i in outcome.issues if i.code == "montant_non_positif"]
    assert issue.is_error and issue.balise == "montantCommande"
    assert "strictement positif" in issue.message and "saisissez" in issue.message


def test_hop_activite_typed_the_french_way(tmp_path):
    outcome = verify(tmp_path, HOP_ID, [hop_row("00001", activiteCombinee="15000,0")])
    assert outcome.exit_code == 0, [i.render() for i in outcome.issues]


@pytest.mark.parametrize("balise, ok, bad", [
    ("categorieFINESSJuridique", "2205", "1301"),
    ("categorieFINESSGeographique", "146", "102"),
])
def test_hop_finess_category_not_eligible(tmp_path, balise, ok, bad):
    outcome = verify(tmp_path, HOP_ID, [hop_row("00001", FINESS[0], **{balise: ok}),
                                        hop_row("00002", FINESS[1], **{balise: bad})])
    assert outcome.accepted == ["00001"]
    assert found(outcome, "categorie_non_eligible") == [("00002", balise)]
    issue = next(i for i in outcome.issues if i.code == "categorie_non_eligible")
    assert issue.value == bad and "non éligible à HOP-PFI-Va2" in issue.message
    assert ok in issue.message  # the eligible values are listed


def test_hop_category_malformed_is_a_cell_error_not_judged_twice(tmp_path):
    outcome = verify(tmp_path, HOP_ID, [hop_row("00001", categorieFINESSJuridique="11O1")])
    assert found(outcome, "motif") == [("00001", "categorieFINESSJuridique")]
    assert found(outcome, "categorie_non_eligible") == []


def test_hop_emission_after_date0(tmp_path):
    rows = [hop_row("00001", FINESS[0], dateEmission="02/03/2026"),
            hop_row("00002", FINESS[1], dateEmission="01/03/2026")]  # on Date 0: not « postérieure »
    outcome = verify(tmp_path, HOP_ID, rows, {"date0": "01/03/2026"})
    assert found(outcome, "emission_avant_date0") == [("00002", "dateEmission")]
    assert "01/03/2026" in next(i.message for i in outcome.issues if i.code == "emission_avant_date0")
    # HOP's Date 0 is not dated by the seed: without it, the rule is not applied
    assert found(verify(tmp_path, HOP_ID, rows, name="sans-date0.xlsx"), "emission_avant_date0") == []


def test_hop_signature_by_date4(tmp_path):
    outcome = verify(tmp_path, HOP_ID, [hop_row("00001", FINESS[0], dateSignature="23/09/2026"),
                                        hop_row("00002", FINESS[1], dateSignature="24/09/2026")])
    assert outcome.accepted == ["00001"]
    assert found(outcome, "signature_apres_date4") == [("00002", "dateSignature")]
    assert "23/09/2026 12h00" in next(i.message for i in outcome.issues if i.code == "signature_apres_date4")


def test_hop_signature_120_days_before_dossier_complet(tmp_path):
    header = {"dateDossierComplet": "14/07/2026"}  # 14/07/2026 − 120 days = 16/03/2026
    assert date(2026, 7, 14) - timedelta(days=120) == date(2026, 3, 16)
    outcome = verify(tmp_path, HOP_ID, [hop_row("00001", FINESS[0], dateSignature="16/03/2026"),
                                        hop_row("00002", FINESS[1], dateSignature="15/03/2026")], header)
    assert found(outcome, "signature_trop_tot") == [("00002", "dateSignature")]
    assert "à partir du 16/03/2026" in next(i.message for i in outcome.issues if i.code == "signature_trop_tot")
    # signed after the référencement: the 120-day rule does not apply
    header["dateReferencement"] = "01/03/2026"
    later = verify(tmp_path, HOP_ID, [hop_row("00002", FINESS[1], dateSignature="15/03/2026")], header, "ref.xlsx")
    assert later.exit_code == 0, [i.render() for i in later.issues]


def test_hop_mention_conditionnelle(tmp_path):
    rows = [hop_row("00001", FINESS[0], mentionConditionnelle="VRAI"),
            hop_row("00002", FINESS[1], mentionConditionnelle="non"),
            hop_row("00003", FINESS[2], mentionConditionnelle="")]  # not said: a warning to look at the order
    outcome = verify(tmp_path, HOP_ID, rows)
    assert found(outcome, "mention_conditionnelle_absente") == [("00002", "mentionConditionnelle")]
    assert outcome.errors[0].value == "non"  # as typed
    assert found(outcome, "mention_conditionnelle_a_verifier") == [("00003", "mentionConditionnelle")]
    assert "00003" in outcome.accepted
    referenced = verify(tmp_path, HOP_ID, rows, {"dateReferencement": "01/01/2026"}, "ref.xlsx")
    assert found(referenced, "mention_conditionnelle_absente") == []
    assert found(referenced, "mention_conditionnelle_a_verifier") == []


def test_hop_client_ordered_twice(tmp_path):
    outcome = verify(tmp_path, HOP_ID, [hop_row("00001", FINESS[0]), hop_row("00002", FINESS[1]),
                                        hop_row("00003", FINESS[0])])
    assert outcome.accepted == ["00002"]
    assert found(outcome, "client_en_double") == [("00001", "FINESSPMSI"), ("00003", "FINESSPMSI")]
    assert "lignes 2, 4" in next(i.message for i in outcome.issues if i.code == "client_en_double")
    assert [i.rows for i in outcome.issues if i.code == "client_en_double"] == [(2, 4), (2, 4)]


def test_hop_calendar_agrees_with_the_pure_library(tmp_path):
    """The Polars calendar rule gives the same verdicts as funding.verifier_bon_commande."""
    date0, dossier = date(2026, 3, 1), date(2026, 7, 14)
    days = [date(2026, 2, 27), date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 14), date(2026, 3, 15),
            date(2026, 9, 23), date(2026, 9, 24)]
    rows = [hop_row(f"{i + 1:05d}", FINESS[i % 6], dateEmission=f"{d:%d/%m/%Y}", dateSignature=f"{d:%d/%m/%Y}",
                    mentionConditionnelle="FAUX", FINESSJuridique=FINESS[0]) for i, d in enumerate(days)]
    outcome = verify(tmp_path, HOP_ID, rows, {"date0": f"{date0:%d/%m/%Y}", "dateDossierComplet": f"{dossier:%d/%m/%Y}"})
    codes = {"EMISSION_AVANT_DATE0": "emission_avant_date0", "SIGNATURE_APRES_DATE4": "signature_apres_date4",
             "SIGNATURE_TROP_TOT_AVANT_DOSSIER_COMPLET": "signature_trop_tot",
             "MENTION_CONDITIONNELLE_ABSENTE": "mention_conditionnelle_absente"}
    cal = hop_calendar(date0)
    for i, d in enumerate(days):
        ne = f"{i + 1:05d}"
        expected = {codes[v.code.split(".")[1]] for v in check_bon_commande(
            cal, emission_date=d, signature_date=d, complete_file_date=dossier, conditional_mention=False)}
        got = {i.code for i in outcome.issues if i.numero_editeur == ne and i.code in codes.values()}
        assert got == expected, d


# ---------------------------------------------------------------- SFP-LGC-Va2

SFP_HEADER = {"date0": "15/01/2026"}  # Date 0 + 12 months = 15/01/2027, Date 4 = 15/05/2028


@pytest.mark.parametrize("date0, code", [(None, "obligatoire"), ("31/02/2026", "date_invalide")])
def test_sfp_date0_required(tmp_path, date0, code):
    # without a usable Date 0 there is no calendar: the orders' dates are not judged against
    # a guessed one (an emission in 2000 and a signature in 2090 would fail any real calendar)
    rows = [sfp_row("00001"), sfp_row("00002", RPPS=RPPS[1], dateEmission="01/01/2000", dateSignature="31/12/2090")]
    outcome = verify(tmp_path, SFP_ID, rows, {"date0": date0} if date0 else None)
    assert [(i.code, i.sheet, i.balise) for i in outcome.errors] == [(code, "Entête", "date0")]
    assert outcome.rejected == ["00001", "00002"]
    dated = verify(tmp_path, SFP_ID, rows, SFP_HEADER, "dated.xlsx")
    assert {i.code for i in dated.errors} == {"emission_avant_date0", "signature_apres_date4"}
    assert dated.accepted == ["00001"]


def test_sfp_caps_per_profession_and_csi_tranche(tmp_path):
    rows = [sfp_row("00001", RPPS=RPPS[0], montantCommande="270.00"),
            sfp_row("00002", RPPS=RPPS[1], montantCommande="270.01"),
            sfp_row("00003", RPPS=RPPS[2], typeClient="sage-femme", regimeTVA="HT", montantCommande="333.33"),
            sfp_row("00004", RPPS=RPPS[3], typeClient="sage-femme", regimeTVA="HT", montantCommande="333.34"),
            sfp_row("00005", RPPS="", typeClient="csi", FINESSGeographique=FINESS[0], trancheCSI="C",
                    regimeTVA="TTC8.5", montantCommande="3661.88"),
            sfp_row("00006", RPPS="", typeClient="csi", FINESSGeographique=FINESS[1], trancheCSI="C",
                    regimeTVA="TTC8.5", montantCommande="3661.89")]
    outcome = verify(tmp_path, SFP_ID, rows, SFP_HEADER)
    assert outcome.accepted == ["00001", "00003", "00005"], [i.render() for i in outcome.errors]
    assert [ne for ne, _ in found(outcome, "montant_au_dela_du_plafond")] == ["00002", "00004", "00006"]
    msgs = {i.numero_editeur: i.message for i in outcome.issues if i.code == "montant_au_dela_du_plafond"}
    assert "270,00 €" in msgs["00002"] and "IDE" in msgs["00002"]
    assert "333,33 €" in msgs["00004"] and "HT" in msgs["00004"]
    assert "3 661,88 €" in msgs["00006"] and "tranche C" in msgs["00006"]


def test_sfp_csi_needs_finess_and_tranche(tmp_path):
    outcome = verify(tmp_path, SFP_ID, [sfp_row("00001", RPPS="", typeClient="csi")], SFP_HEADER)
    assert sorted(b for _, b in found(outcome, "obligatoire_si")) == ["FINESSGeographique", "trancheCSI"]
    assert found(outcome, "hors_bareme") == []  # the missing tranche is said once, on its cell


@pytest.mark.parametrize("date0, ok, too_early", [
    ("15/01/2026", "15/01/2027", "14/01/2027"),
    ("31/03/2026", "31/03/2027", "30/03/2027"),
])
def test_sfp_signature_relative_to_date0(tmp_path, date0, ok, too_early):
    rows = [sfp_row("00001", RPPS=RPPS[0], dateSignature=ok), sfp_row("00002", RPPS=RPPS[1], dateSignature=too_early)]
    outcome = verify(tmp_path, SFP_ID, rows, {"date0": date0})
    assert found(outcome, "signature_avant_date0_12_mois") == [("00002", "dateSignature")]
    assert f"avant le {ok} (Date 0 + 12 mois)" in next(
        i.message for i in outcome.issues if i.code == "signature_avant_date0_12_mois")


def test_sfp_signature_by_date4_and_emission_after_date0(tmp_path):
    rows = [sfp_row("00001", RPPS=RPPS[0], dateSignature="15/05/2028"),  # Date 4 = Date 0 + 28 months
            sfp_row("00002", RPPS=RPPS[1], dateSignature="16/05/2028"),
            sfp_row("00003", RPPS=RPPS[2], dateEmission="15/01/2026"),
            sfp_row("00004", RPPS=RPPS[3], dateEmission="16/01/2026")]
    outcome = verify(tmp_path, SFP_ID, rows, SFP_HEADER)
    assert found(outcome, "signature_apres_date4") == [("00002", "dateSignature")]
    assert found(outcome, "emission_avant_date0") == [("00003", "dateEmission")]
    assert outcome.accepted == ["00001", "00004"]
    # another Date 0 moves the whole calendar
    moved = verify(tmp_path, SFP_ID, rows[:2], {"date0": "15/02/2026"}, "moved.xlsx")
    assert found(moved, "signature_apres_date4") == []
    assert sfp_calendar(date(2026, 2, 15)).date(4).date() == date(2028, 6, 15)


def test_sfp_120_days_and_mention(tmp_path):
    header = {**SFP_HEADER, "dateDossierComplet": "15/06/2027"}
    limit = date(2027, 6, 15) - timedelta(days=120)
    rows = [sfp_row("00001", RPPS=RPPS[0], dateSignature=f"{limit:%d/%m/%Y}"),
            sfp_row("00002", RPPS=RPPS[1], dateSignature=f"{limit - timedelta(days=1):%d/%m/%Y}"),
            sfp_row("00003", RPPS=RPPS[2], mentionConditionnelle="FAUX")]
    outcome = verify(tmp_path, SFP_ID, rows, header)
    assert found(outcome, "signature_trop_tot") == [("00002", "dateSignature")]
    assert found(outcome, "mention_conditionnelle_absente") == [("00003", "mentionConditionnelle")]


def test_sfp_client_ordered_twice_by_rpps_or_finess(tmp_path):
    rows = [sfp_row("00001", RPPS=RPPS[0]), sfp_row("00002", RPPS=RPPS[0], typeClient="orthoptiste"),
            sfp_row("00003", RPPS=RPPS[1]),
            sfp_row("00004", RPPS="", typeClient="csi", FINESSGeographique=FINESS[0], trancheCSI="A",
                    montantCommande="1890.00"),
            sfp_row("00005", RPPS="", typeClient="csi", FINESSGeographique=FINESS[0], trancheCSI="B",
                    montantCommande="1890.00"),
            sfp_row("00006", RPPS="", typeClient="csi", FINESSGeographique=FINESS[1], trancheCSI="A",
                    montantCommande="1890.00")]
    outcome = verify(tmp_path, SFP_ID, rows, SFP_HEADER)
    assert found(outcome, "client_en_double") == [
        ("00001", "RPPS"), ("00002", "RPPS"), ("00004", "FINESSGeographique"), ("00005", "FINESSGeographique")]
    assert outcome.accepted == ["00003", "00006"]


def test_sfp_a_malformed_rpps_is_not_judged_as_a_client(tmp_path):
    # the same mistyped RPPS twice (10 digits): each cell has its own error, and the client
    # it would name is not compared (an invalid value never travels further)
    rows = [sfp_row("00001", RPPS="1000123450"), sfp_row("00002", RPPS="1000123450", typeClient="orthoptiste"),
            # a CSI with an RPPS it need not have (kept, with a warning: seed 004 is silent):
            # identified by its FINESS all the same
            sfp_row("00003", RPPS=RPPS[2], typeClient="csi", FINESSGeographique=FINESS[0], trancheCSI="A",
                    montantCommande="1890.00"),
            sfp_row("00004", RPPS="", typeClient="csi", FINESSGeographique=FINESS[0], trancheCSI="A",
                    montantCommande="1890.00"),
            # the professional of that RPPS, with a FINESS and a tranche beside it: identified by
            # the RPPS, a client of its own, and the tranche does not set its cap
            sfp_row("00005", RPPS=RPPS[2], FINESSGeographique=FINESS[1], trancheCSI="E"),
            sfp_row("00006", RPPS="", typeClient="csi", FINESSGeographique=FINESS[1], trancheCSI="A",
                    montantCommande="1890.00")]
    outcome = verify(tmp_path, SFP_ID, rows, SFP_HEADER)
    assert found(outcome, "rpps_invalide") == [("00001", "RPPS"), ("00002", "RPPS")]
    assert found(outcome, "doit_etre_vide") == []
    assert sorted(found(outcome, "valeur_non_exigee_commande")) == [
        ("00003", "RPPS"), ("00005", "FINESSGeographique"), ("00005", "trancheCSI")]
    assert found(outcome, "client_en_double") == [("00003", "FINESSGeographique"), ("00004", "FINESSGeographique")]
    assert outcome.rejected == ["00001", "00002", "00003", "00004"]
    assert outcome.accepted == ["00005", "00006"]


# ---------------------------------------------------------------- error workbook, CLI


def test_error_workbook_of_an_order_workbook(tmp_path):
    path = workbook(tmp_path / "c.xlsx", {"Commandes": [
        hop_row("00001", FINESS[0]), hop_row("00002", FINESS[1], montantCommande="9000.00"),
        hop_row("00003", FINESS[2], categorieFINESSGeographique="102")]}, HOP_ID)
    target = tmp_path / "erreurs.xlsx"
    outcome = api.verify(path, errors=target)
    assert outcome.error_workbook == target and target.is_file()
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames[0] == "Erreurs"
    ws = wb["Commandes"]
    assert [ws.cell(r, 1).value for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value] == ["00002", "00003"]
    cell = ws["M2"]  # montantCommande of 00002, now on row 2
    assert cell.value == "9000.00" and cell.comment is not None and "8 183,47 €" in cell.comment.text
    errors_text = " ".join(str(c.value) for row in wb["Erreurs"].iter_rows() for c in row if c.value)
    assert "plafond applicable 8 183,47 €" in errors_text and "non éligible" in errors_text
    # never overwritten: a second run writes erreurs-2.xlsx
    again = api.verify(path, errors=target)
    assert again.error_workbook == tmp_path / "erreurs-2.xlsx"


def test_a_warning_on_a_conforming_order_says_the_order_conforms_not_a_demande(tmp_path):
    """An order-check workbook holds orders (« Commandes conformes », « en erreur »): the row of
    a conforming order left out of its error workbook is said so, not as a demande accepted."""
    path = workbook(tmp_path / "c.xlsx", {"Commandes": [
        hop_row("00001", FINESS[0], mentionConditionnelle=""), hop_row("00002", FINESS[1], montantCommande="9000.00")]},
        HOP_ID)
    api.verify(path, errors=tmp_path / "erreurs.xlsx")
    errors = openpyxl.load_workbook(tmp_path / "erreurs.xlsx")["Erreurs"]
    links = {r[3].value: r[8].value for r in errors.iter_rows(min_row=2)}  # original row → link
    assert links[2] == "Ligne non reprise ici : sa commande est conforme"
    assert "demande" not in " ".join(str(c.value) for c in errors["I"] if c.value)


def test_cli_verifier_erreurs_and_convertir_refused(tmp_path):
    path = workbook(tmp_path / "c.xlsx", {"Commandes": [hop_row("00001", montantCommande="9000.00")]}, HOP_ID)
    r = runner.invoke(app, ["verifier", str(path), "--erreurs", str(tmp_path / "e.xlsx")])
    assert r.exit_code == 1
    assert "Commandes en erreur : 1" in r.output and (tmp_path / "e.xlsx").is_file()
    assert "Total HT" not in r.output
    r = runner.invoke(app, ["convertir", str(path), "-o", str(tmp_path / "depot")])
    assert r.exit_code == 2
    assert "ce classeur se vérifie avec xl2segur verifier, il ne produit pas de fichier de dépôt" in " ".join(r.output.split())
    assert "Traceback" not in r.output and not (tmp_path / "depot").exists()
    with pytest.raises(api.NotConvertible):
        api.convert(path, tmp_path / "depot")


def test_convertir_refused_names_the_verifier_command_to_paste(tmp_path):
    """The refusal suggests « xl2segur verifier c.xlsx »: the workbook's name without its folder, and
    unquoted, where the path typed was « Mes commandes/c.xlsx »: pasted, it found no workbook."""
    (tmp_path / "Mes commandes").mkdir()
    path = workbook(tmp_path / "Mes commandes" / "c.xlsx", {"Commandes": [hop_row("00001")]}, HOP_ID)
    r = runner.invoke(app, ["convertir", str(path), "-o", str(tmp_path / "depot")])
    assert r.exit_code == 2
    assert f'(xl2segur verifier "{path}" --erreurs erreurs.xlsx)' in " ".join(r.output.split())


def test_order_report_gives_no_total_ht(tmp_path):
    """An order's montantCommande is in its row's VAT regime (TTC20, TTC8.5 or HT): a sum of them
    is no amount HT, and the report of an order workbook gives none (it summed 8 183,47 € TTC and
    6 800,00 € HT as « total_ht »)."""
    path = workbook(tmp_path / "c.xlsx", {"Commandes": [
        hop_row("00001"), hop_row("00002", FINESS[1], regimeTVA="HT", montantCommande="6800.00")]}, HOP_ID)
    report = tmp_path / "rapport.json"
    r = runner.invoke(app, ["verifier", str(path), "--rapport", str(report)])
    assert r.exit_code == 0, r.output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["demandes_acceptees"] == 2
    assert data["total_ht"] is None and data["total_ttc"] is None and data["avance_attendue"] is None
    assert api.verify(path).amounts == {}


def test_the_report_of_an_unusable_workbook_gives_no_total(tmp_path):
    """An unusable workbook's report said « total_ht »: « 0.00 » beside « total_ttc »: null:
    nothing was read, neither is known."""
    path = tmp_path / "illisible.xlsx"
    path.write_text("pas un classeur")
    report = tmp_path / "rapport.json"
    r = runner.invoke(app, ["verifier", str(path), "--rapport", str(report)])
    assert r.exit_code == 2, r.output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["format"] is None and data["problemes"][0]["code"] == "fichier_illisible"
    assert data["total_ht"] is None and data["total_ttc"] is None and data["avance_attendue"] is None


def test_cli_verifier_erreurs_for_a_deposit_format(tmp_path):
    rows = seed_001_rows()
    rows["Demandes"][0]["montantSegurHT"] = "4866.666"
    path = workbook(tmp_path / "d.xlsx", rows)
    r = runner.invoke(app, ["verifier", str(path), "--erreurs", str(tmp_path / "e.xlsx")])
    assert r.exit_code == 1 and (tmp_path / "e.xlsx").is_file()
    assert openpyxl.load_workbook(tmp_path / "e.xlsx").sheetnames[0] == "Erreurs"
    ok = workbook(tmp_path / "ok.xlsx", seed_001_rows())
    r = runner.invoke(app, ["verifier", str(ok), "--erreurs", str(tmp_path / "e2.xlsx")])
    assert r.exit_code == 0 and not (tmp_path / "e2.xlsx").exists()
    assert "Aucune erreur" in r.output


# ---------------------------------------------------------------- deposit summary: advance


@pytest.mark.parametrize("amount, refused", [("16366.93", False), ("16366.94", True)])
def test_hop_order_for_merged_establishments_is_checked_against_the_sum_of_caps(tmp_path, amount, refused):
    """Seed 002 §5.3: activités combinées 10 000 + 20 000, V2, TTC 20 %: 7 639,11 + 8 727,82 €."""
    outcome = verify(tmp_path, HOP_ID, [hop_row("00001", activiteCombinee="10 000 + 20000", montantCommande=amount)])
    assert [i.code for i in outcome.errors] == (["montant_au_dela_du_plafond"] if refused else [])
    if refused:
        assert ("plafond applicable 16 366,93 €" in outcome.errors[0].message
                and "somme des plafonds 7 639,11 € (activité combinée 10 000, tranche B) + 8 727,82 € "
                    "(activité combinée 20 000, tranche B)" in outcome.errors[0].message)


def test_summary_advance_per_demande_and_total(tmp_path):
    second = seed_001_rows("00002")
    second["Demandes"][0]["montantSegurHT"] = "1000.05"  # HT: 30 % = 300.015 → 300.02 (half-up)
    second["Demandes"][0]["regimeTVA"] = "HT"
    path = workbook(tmp_path / "d.xlsx", merge(seed_001_rows("00001"), second))
    outcome = api.verify(path)
    # seed 000 §3.1: 4 866,67 € HT = 5 840,00 € TTC, « perçoit 30% de 5840.00€ TTC soit 1752.00€ TTC »
    assert {ne: a.avance for ne, a in outcome.advances.items()} == {"00001": Decimal("1752.00"),
                                                                   "00002": Decimal("300.02")}
    assert outcome.advances["00001"].amount_ttc == Decimal("5840.00")
    assert outcome.advances["00002"].amount_ttc is None
    assert outcome.advance == Decimal("2052.02") and outcome.total_ttc == Decimal("5840.00")
    report = tmp_path / "rapport.json"
    r = runner.invoke(app, ["verifier", str(path), "--rapport", str(report)])
    assert r.exit_code == 0, r.output
    assert "Total TTC des demandes au régime TTC (montant HT × 1,2) : 5 840,00 €" in r.output
    assert "Avance attendue (30 % du montant TTC, ou HT au régime HT) : 2 052,02 €" in r.output
    assert "demande 00001 : 1 752,00 € (30 % du TTC ; montant HT 4 866,67 €, TTC 5 840,00 €)" in r.output
    assert "demande 00002 : 300,02 € (30 % du HT ; montant HT 1 000,05 €)" in r.output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["avances_par_demande"] == [
        {"numeroEditeur": "00001", "regime_tva": "TTC", "montant_ht": "4866.67", "montant_ttc": "5840.00",
         "base_avance": "TTC", "avance": "1752.00"},
        {"numeroEditeur": "00002", "regime_tva": "HT", "montant_ht": "1000.05", "montant_ttc": None,
         "base_avance": "HT", "avance": "300.02"},
    ]
    assert data["avance_attendue"] == "2052.02" and data["taux_avance"] == "0.30"
    assert data["total_ht"] == "5866.72" and data["total_ttc"] == "5840.00"


def test_every_avance_format_takes_the_advance_on_ttc(tmp_path):
    from converter.formats import all_formats

    avances = [f for f in all_formats() if get_format(f).advance_rate is not None]
    assert avances == ["ms2-dui-pde-avance", "ms2-dui-pds-avance"]
    rows = seed_001_rows()
    for scenario in rows["Scénarios"]:
        scenario.pop("profilMetier", None)  # no such column in the DUI PDE variant
    outcome = api.verify(workbook(tmp_path / "pde.xlsx", rows, "ms2-dui-pde-avance"))
    assert outcome.advances["00001"].avance == Decimal("1752.00")


def test_summary_advance_of_the_sample_is_the_seeds(tmp_path):
    """`xl2segur verifier samples/ms2-dui-pds-avance.xlsx`: 00001 is seed 000's example."""
    outcome = api.verify(Path(__file__).parent.parent / "samples" / "ms2-dui-pds-avance.xlsx")
    assert outcome.advances["00001"].avance == Decimal("1752.00")


@pytest.mark.parametrize("ht, ttc", [("4866.67", "5840.00"), ("9733.33", "11680.00"), ("0.01", "0.01"),
                                     ("1000.05", "1200.06")])
def test_ttc_is_ht_times_1_2_to_the_cent(ht, ttc):
    from converter.funding.amounts import avance_demande, amount_ttc

    assert amount_ttc(ht) == Decimal(ttc)
    assert avance_demande(ht, "TTC", "0.30").amount_ttc == Decimal(ttc)


def test_summary_advance_counts_accepted_demandes_only(tmp_path):
    bad = seed_001_rows("00002")
    bad["OG"][0]["nomResponsableOG"] = ""
    outcome = api.verify(workbook(tmp_path / "d.xlsx", merge(seed_001_rows("00001"), bad)))
    assert outcome.rejected == ["00002"]
    assert list(outcome.advances) == ["00001"]
    assert outcome.to_dict()["avance_attendue"] == "1752.00"


@pytest.mark.parametrize("typed, ok", [("15 000", True), ("15\u00a0000,5", True), ("1 600 000", True),
                                       ("15 00", False), ("15000,", False),
                                       # 22 500 or 22,5? As for an amount: refused, never read as 22,5
                                       ("22.500", False), ("22,500", False), ("10000 + 22.500", False),
                                       ("22,5", True), ("22.5", True), ("22500", True), ("15000,500", True)])
def test_activite_combinee_accepts_thousands_separated_by_spaces(tmp_path, typed, ok):
    outcome = verify(tmp_path, HOP_ID, [hop_row("00001", activiteCombinee=typed, montantCommande="100.00")])
    refused = [i.code for i in outcome.errors if i.balise == "activiteCombinee"]
    assert (refused == []) is ok, refused


def test_an_order_reference_is_not_held_to_the_shape_of_a_numero_editeur(tmp_path):
    """Seeds 002 and 004 publish no deposit format and say nothing of a numéro éditeur: an
    order's reference « BC-2027-1 » was refused (numero_editeur_invalide). It is kept, as typed,
    with a warning at its cell; two orders under one reference stay an error (its row key)."""
    rows = [sfp_row("BC-2027-1", RPPS=RPPS[0]), sfp_row("00002", RPPS=RPPS[1]),
            sfp_row("BC 3", RPPS=RPPS[2]), sfp_row("BC 3", RPPS=RPPS[3])]
    outcome = verify(tmp_path, SFP_ID, rows, SFP_HEADER)
    assert found(outcome, "reference_commande_libre") == [("BC-2027-1", "numeroEditeur"), ("BC 3", "numeroEditeur"),
                                                          ("BC 3", "numeroEditeur")]
    assert [(i.code, i.row) for i in outcome.errors] == [("doublon", 4), ("doublon", 5)]
    assert outcome.accepted == ["BC-2027-1", "00002"]


def test_the_funding_rules_document_quotes_what_verifier_prints(tmp_path):
    """docs/regles-financement.md quotes `verifier`'s lines for its examples: they are what it prints
    for those orders (HOP: Date 0 18/05/2024, issued 10/05/2024, signed 30/09/2026, a category 1105;
    SFP: Date 0 31/01/2026, signed 15/12/2026, one client ordered three times)."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "regles-financement.md").read_text("utf-8")
    quoted = [line for line in doc.splitlines() if line.startswith("ERREUR feuille")]
    hop = workbook(tmp_path / "hop.xlsx", {"Commandes": [
        hop_row("00001", dateEmission="10/05/2024", dateSignature="30/09/2026"),
        hop_row("00002", pmsi=FINESS[1], categorieFINESSJuridique="1105")]}, HOP_ID, {"date0": "18/05/2024"})
    sfp = workbook(tmp_path / "sfp.xlsx", {"Commandes": [
        sfp_row("00001", dateSignature="15/12/2026"), sfp_row("00002"), sfp_row("00003")]},
        SFP_ID, {"date0": "31/01/2026"})
    printed = "".join(runner.invoke(app, ["verifier", str(f)], terminal_width=400).output for f in (hop, sfp))
    assert len(quoted) == 5
    assert [line for line in quoted if line not in printed.splitlines()] == []
