"""`xl2segur plafond hop-pfi-va2` and `xl2segur plafond sfp-lgc-va2` (CliRunner)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from converter.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["plafond", *args])


def test_hop_tranche_interpolation_advance_and_balance():
    r = run("hop-pfi-va2", "--activite-combinee", "15000", "--prestation", "V2", "--tva", "20")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "Plafond HOP-PFI-Va2 — Prestation Ségur Vague 2"
    assert "Tranche B : activité combinée de 7 000 (incluse) à 22 500 (exclue)" in lines
    # 7312.50 + (15000 − 7000) × (9000 − 7312.50) / (22500 − 7000) = 8183.4677… → 8183.47
    assert ("  Plafond : 7 312,50 € + (15 000 − 7 000) × (9 000,00 € − 7 312,50 €) / "
            "(22 500 − 7 000) = 8 183,4677… ≈ 8 183,47 € (arrondi au centime)") in lines
    assert "  Avance (40 %) : 3 273,39 €" in lines
    assert "  Solde (60 %) : 4 910,08 €" in lines
    assert "TTC (TVA 8,5 %)" not in lines


@pytest.mark.parametrize("tva, formula", [
    # 6 187,50 + 7 × 1 125,00 / 7 000 = 6 188,625 exactly: nothing is left out, no « … »
    ("20", "= 6 188,625 ≈ 6 188,63 € (arrondi au centime)"),
    ("HT", "= 5 157,1875 ≈ 5 157,19 € (arrondi au centime)"),
    # 5 594,53 + 7 × 1 017,19 / 7 000 = 5 595,547190: digits left out
    ("8.5", "= 5 595,5471… ≈ 5 595,55 € (arrondi au centime)"),
])
def test_hop_exact_value_marked_cut_only_when_digits_are_left_out(tva, formula):
    r = run("hop-pfi-va2", "--activite-combinee", "7", "--prestation", "V2", "--tva", tva)
    assert r.exit_code == 0, r.output
    assert any(line.startswith("  Plafond : ") and line.endswith(formula) for line in r.output.splitlines()), r.output


@pytest.mark.parametrize("typed", ["22.500", "22,500", "10000 + 22.500"])
def test_hop_ambiguous_activity_is_refused_not_read_as_22_5(typed):
    """« 22.500 » was read as 22,5: tranche A, 6 191,12 € TTC 20 %, where 22 500 gives 9 000,00 €.
    Refused, as in the workbook's activiteCombinee."""
    r = run("hop-pfi-va2", "--activite-combinee", typed, "--prestation", "V2", "--tva", "20")
    assert r.exit_code == 2, r.output
    assert "ambiguë : « 22" in r.output and "(22500, 22 500)" in r.output and "(22,5)" in r.output
    assert "6 191,12" not in r.output
    for fine in ("22,5", "22500", "22 500", "15000,500"):
        assert run("hop-pfi-va2", "--activite-combinee", fine, "--prestation", "V2").exit_code == 0


def test_hop_merged_establishments_sum_of_caps():
    """Seed 002 §5.3: « le prix […] correspond à la somme des prix associés aux établissements
    concernés par la fusion »."""
    r = run("hop-pfi-va2", "--activite-combinee", "10000", "--activite-combinee", "20000",
            "--prestation", "V2", "--tva", "20")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert "Établissement 1 — activité combinée 10 000, tranche B : activité combinée de 7 000 (incluse) à 22 500 (exclue)" in lines
    assert any(line.startswith("  Plafond de l'établissement 1 : ") and line.endswith("≈ 7 639,11 € (arrondi au centime)")
               for line in lines)
    assert any(line.startswith("  Plafond de l'établissement 2 : ") and line.endswith("≈ 8 727,82 € (arrondi au centime)")
               for line in lines)
    assert "  Plafond de l'établissement fusionné : 7 639,11 € + 8 727,82 € = 16 366,93 €" in lines
    assert "  Avance (40 %) : 6 546,77 €" in lines and "  Solde (60 %) : 9 820,16 €" in lines


@pytest.mark.parametrize("typed", ["10000 + 20000", "10000+20000", "10 000 + 20 000"])
def test_hop_merged_establishments_written_as_in_the_workbook(typed):
    """The hop-pfi-va2-commandes template's activiteCombinee note sends the user to this command
    and writes a merged establishment « 10000 + 20000 »: the command reads it the same way."""
    r = run("hop-pfi-va2", "--activite-combinee", typed, "--prestation", "V2", "--tva", "20")
    assert r.exit_code == 0, r.output
    assert r.output == run("hop-pfi-va2", "--activite-combinee", "10000", "--activite-combinee", "20000",
                           "--prestation", "V2", "--tva", "20").output


def test_hop_merged_establishments_with_a_part_missing_name_the_whole_value():
    r = run("hop-pfi-va2", "--activite-combinee", "10000 + ", "--prestation", "V2")
    assert r.exit_code == 2 and "illisible : « 10000 + »" in r.output and "10000 + 20000" in r.output


@pytest.mark.parametrize("typed", ["-0", "-0,00", "-0.0"])
def test_hop_minus_zero_is_zero(typed):
    # « Activité combinée : -0 » was printed, and « (-0 − 0) » in the formula
    r = run("hop-pfi-va2", "--activite-combinee", typed, "--prestation", "V2")
    assert r.exit_code == 0, r.output
    assert "Activité combinée : 0" in r.output.splitlines() and "-0" not in r.output
    assert r.output == run("hop-pfi-va2", "--activite-combinee", "0", "--prestation", "V2").output


def test_hop_unreadable_activity_is_quoted_in_french():
    # Python's quotes, « illisible : 'abc' », in a French message
    for typed in ("abc", "nan", "1e400"):
        r = run("hop-pfi-va2", "--activite-combinee", typed, "--prestation", "V2")
        assert r.exit_code == 2 and f"« {typed} »" in r.output and "'" not in r.output.split(":")[1], r.output


def test_hop_merged_establishment_outside_the_table_is_refused():
    r = run("hop-pfi-va2", "--activite-combinee", "10000", "--activite-combinee", "1750000", "--prestation", "V2")
    assert r.exit_code == 2 and "1 750 000 au-delà de la dernière tranche" in r.output and "Traceback" not in r.output


def test_hop_without_tva_shows_the_three_regimes():
    r = run("hop-pfi-va2", "--activite-combinee", "15000", "--prestation", "V1+V2")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Plafond HOP-PFI-Va2 — Prestation Ségur Vague 1 + Vague 2\n")
    for regime in ("TTC (TVA 20 %)", "TTC (TVA 8,5 %)", "HT"):
        assert regime in r.output.splitlines()
    # V1+V2, tranche B, HT: 7718.75 + 8000 × 1781.25 / 15500 = 8638.1048… → 8638.10
    assert "≈ 8 638,10 € (arrondi au centime)" in r.output
    assert "  Avance (40 %) : 3 455,24 €" in r.output


def test_hop_tranche_bounds_and_last_tranche():
    r = run("hop-pfi-va2", "--activite-combinee", "1600000", "--prestation", "V2", "--tva", "HT")
    assert r.exit_code == 0, r.output
    assert "Tranche D : activité combinée de 230 000 à 1 600 000 (bornes incluses)" in r.output
    assert "= 35 625,00 €" in r.output
    r = run("hop-pfi-va2", "--activite-combinee", "7000", "--prestation", "V2", "--tva", "20")
    assert "Tranche B" in r.output and "= 7 312,50 €" in r.output


@pytest.mark.parametrize("client,plafond,avance,solde", [
    ("sage-femme", "400,00 €", "160,00 €", "240,00 €"),
    ("ipa", "400,00 €", "160,00 €", "240,00 €"),
    ("ide", "270,00 €", "108,00 €", "162,00 €"),
    ("masseur-kinesitherapeute", "270,00 €", "108,00 €", "162,00 €"),
    ("orthophoniste", "270,00 €", "108,00 €", "162,00 €"),
    ("orthoptiste", "270,00 €", "108,00 €", "162,00 €"),
    ("pedicure-podologue", "270,00 €", "108,00 €", "162,00 €"),
])
def test_sfp_flat_caps(client, plafond, avance, solde):
    r = run("sfp-lgc-va2", "--client", client, "--tva", "20")
    assert r.exit_code == 0, r.output
    assert f"  Plafond : {plafond}" in r.output.splitlines()
    assert f"  Avance (40 %) : {avance}" in r.output.splitlines()
    assert f"  Solde (60 %) : {solde}" in r.output.splitlines()


def test_sfp_csi_tranche_and_all_regimes():
    r = run("sfp-lgc-va2", "--client", "csi", "--tranche", "B")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0] == "Plafond SFP-LGC-Va2 — Centre de santé infirmier (CSI), tranche B"
    for cap in ("2 970,00 €", "2 685,38 €", "2 475,00 €"):
        assert f"  Plafond : {cap}" in r.output.splitlines()
    assert "  Avance (40 %) : 1 074,15 €" in r.output.splitlines()  # 2685.38 × 0.40 = 1074.152


@pytest.mark.parametrize("args,words", [
    (["hop-pfi-va2", "--activite-combinee", "abc", "--prestation", "V2"], "activité combinée illisible"),
    (["hop-pfi-va2", "--activite-combinee", "15000", "--prestation", "V3"], "prestation inconnue"),
    (["hop-pfi-va2", "--activite-combinee", "2000000", "--prestation", "V2"], "au-delà de la dernière tranche"),
    (["hop-pfi-va2", "--activite-combinee", "-1", "--prestation", "V2"], "négative"),
    (["hop-pfi-va2", "--activite-combinee", "1e400", "--prestation", "V2"], "hors de toute mesure"),
    (["hop-pfi-va2", "--activite-combinee", "-99999999999999999999999999999", "--prestation", "V2"],
     "hors de toute mesure"),
    (["hop-pfi-va2", "--activite-combinee", "15000", "--prestation", "V2", "--tva", "7"], "taux de TVA inconnu"),
    (["hop-pfi-va2"], "indiquez --activite-combinee et --prestation"),
    (["sfp-lgc-va2", "--client", "medecin"], "type de client inconnu"),
    (["sfp-lgc-va2", "--client", "csi"], "exige une tranche"),
    (["sfp-lgc-va2", "--client", "csi", "--tranche", "F"], "tranche CSI inconnue"),
    (["sfp-lgc-va2", "--client", "ide", "--tranche", "A"], "ne s'applique qu'aux centres"),
    (["sfp-lgc-va2"], "indiquez --client"),
])
def test_invalid_input_french_error_exit_2(args, words):
    r = run(*args)
    assert r.exit_code == 2
    assert "Traceback" not in r.output
    assert "Erreur :" in r.output
    assert words in " ".join(r.output.split())


@pytest.mark.parametrize("args,typed", [
    (["hop-pfi-va2", "--activite-combinee", "15000", "--prestation", "V3"], "V3"),
    (["hop-pfi-va2", "--activite-combinee", "15000", "--prestation", "V2", "--tva", "19"], "19"),
    (["sfp-lgc-va2", "--client", "kine"], "kine"),
    (["sfp-lgc-va2", "--client", "csi", "--tranche", "Z"], "Z"),
    (["sfp-lgc-va2", "--client", "ide", "--tranche", "A"], "ide"),
])
def test_a_value_typed_is_quoted_in_french_never_as_python_writes_it(args, typed):
    """The user's value between « », as every other message does; never Python's 'V3'."""
    r = run(*args)
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    assert f"« {typed} »" in text, text
    assert f"'{typed}'" not in text, text


def test_hop_help_says_the_merged_cap_in_french():
    """The --activite-combinee help reads as French: the merged establishment's cap is the sum of
    the merged establishments' caps (seed 002 §5.3, « la somme des prix associés aux
    établissements concernés par la fusion »)."""
    r = run("hop-pfi-va2", "--help")
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "somme des leurs" not in text
    assert "le plafond est la somme de leurs plafonds" in text


def test_hop_prestation_in_any_case_and_spacing_is_the_same():
    # « v2 » was refused while the order workbook takes it, corrected with a warning
    assert run("hop-pfi-va2", "--activite-combinee", "15000", "--prestation", "v2").output == \
        run("hop-pfi-va2", "--activite-combinee", "15000", "--prestation", "V2").output
    mixed = run("hop-pfi-va2", "--activite-combinee", "15000", "--prestation", "v1 + v2")
    assert mixed.exit_code == 0 and mixed.output == \
        run("hop-pfi-va2", "--activite-combinee", "15000", "--prestation", "V1+V2").output
