"""Tests of converter.funding: caps, calendars, French CLI text.

Expected values are computed independently of the library: from the CSV files read
here with the csv module, from the seeds' tables copied below, and with exact
``fractions.Fraction`` arithmetic for interpolations.
"""

from __future__ import annotations

import ast
import csv
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.funding import (
    AVANCE_RATE_WAVE1,
    SOLDE_RATE_WAVE1,
    OutsideBaremeError,
    Violation,
    add_months,
    round_cent,
    avance,
    hop_calendar,
    sfp_calendar,
    plafond_hop,
    plafond_sfp,
    solde,
    tranche_hop,
    check_bon_commande,
)
from converter.funding.cli_text import (
    InputError,
    format_euros,
    format_number,
    regime_from_tva,
    plafond_hop_text,
    plafond_sfp_text,
)

ROOT = Path(__file__).resolve().parent.parent
REF = ROOT / "converter" / "reference"
FUNDING = ROOT / "converter" / "funding"
COLS = {"TTC20": "ttc20", "TTC8.5": "ttc85", "HT": "ht"}


def _csv(name: str) -> list[dict[str, str]]:
    with (REF / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


HOP_ROWS = _csv("bareme-hop-pfi-va2.csv")
SFP_ROWS = _csv("bareme-sfp-lgc-va2.csv")


def _half_up(x: Fraction) -> Decimal:
    """Independent half-up rounding of an exact fraction to the cent."""
    cents = x * 100
    n = cents.numerator // cents.denominator
    if cents - n >= Fraction(1, 2):
        n += 1
    return Decimal(n) / 100


def _codes(vs: list[Violation]) -> list[str]:
    return [v.code.split(".")[-1] for v in vs]


# ====================================================================== seed tables
# Seed 002 §5.3, copied from the text: (prestation, tranche, ac_min, ac_max,
# ttc20 min/max, ttc85 min/max, ht min/max).
SEED_HOP = [
    ("V2", "A", 0, 7000, "6187.50", "7312.50", "5594.53", "6611.72", "5156.25", "6093.75"),
    ("V2", "B", 7000, 22500, "7312.50", "9000.00", "6611.72", "8137.50", "6093.75", "7500.00"),
    ("V2", "C", 22500, 230000, "9000.00", "22500.00", "8137.50", "20343.75", "7500.00", "18750.00"),
    ("V2", "D", 230000, 1600000, "22500.00", "42750.00", "20343.75", "38653.13", "18750.00", "35625.00"),
    ("V1+V2", "A", 0, 7000, "7837.50", "9262.50", "7086.41", "8374.84", "6531.25", "7718.75"),
    ("V1+V2", "B", 7000, 22500, "9262.50", "11400.00", "8374.84", "10307.50", "7718.75", "9500.00"),
    ("V1+V2", "C", 22500, 230000, "11400.00", "28500.00", "10307.50", "25768.75", "9500.00", "23750.00"),
    ("V1+V2", "D", 230000, 1600000, "28500.00", "54150.00", "25768.75", "48960.63", "23750.00", "45125.00"),
]
# Seed 004 §5.3
SEED_SFP = {
    "sage-femme": ("400.00", "361.67", "333.33"),
    "ipa": ("400.00", "361.67", "333.33"),
    "ide": ("270.00", "244.13", "225.00"),
    "masseur-kinesitherapeute": ("270.00", "244.13", "225.00"),
    "orthophoniste": ("270.00", "244.13", "225.00"),
    "orthoptiste": ("270.00", "244.13", "225.00"),
    "pedicure-podologue": ("270.00", "244.13", "225.00"),
}
SEED_CSI = {
    "A": ("1890.00", "1708.88", "1575.00"),
    "B": ("2970.00", "2685.38", "2475.00"),
    "C": ("4050.00", "3661.88", "3375.00"),
    "D": ("4860.00", "4394.25", "4050.00"),
    "E": ("5940.00", "5370.75", "4950.00"),
}
# Seed 002 §4.2
SEED_JURIDIQUE = "1101, 1102, 1103, 1104, 1106, 1107, 1109, 1110, 1111, 1201, 1203, 1205, 2205"
SEED_GEOGRAPHIQUE = (
    "101, 106, 109, 114, 115, 122,127, 128,129, 131, 141, 146, 156, 161, 292, 362, 355, 365, 366,"
    " 412, 415, 425, 430, 444, 697"
)
JURIDIQUES = [c.strip() for c in SEED_JURIDIQUE.split(",")]
GEOGRAPHIQUES = [c.strip() for c in SEED_GEOGRAPHIQUE.split(",")]


@pytest.mark.parametrize("seed", SEED_HOP, ids=lambda s: f"{s[0]}-{s[1]}")
def test_csv_hop_matches_seed_table(seed):
    row = next(r for r in HOP_ROWS if (r["prestation"], r["tranche"]) == seed[:2])
    keys = ["ac_min", "ac_max", "ttc20_min", "ttc20_max", "ttc85_min", "ttc85_max", "ht_min", "ht_max"]
    assert [Decimal(row[k]) for k in keys] == [Decimal(str(x)) for x in seed[2:]]
    assert len(HOP_ROWS) == len(SEED_HOP)


@pytest.mark.parametrize(
    "row",
    SFP_ROWS,
    ids=lambda r: r["client"],
)
def test_csv_sfp_vat_columns_derive_from_ht(row):
    ht, ttc20, ttc85 = (Decimal(row[c]) for c in ("ht", "ttc20", "ttc85"))
    # FORMATS.md §5: TTC 8.5 % = HT × 1.085 rounded, HT 333.33 = 400 / 1.2 rounded
    assert _half_up(Fraction(ttc20) / Fraction("1.2")) == ht
    assert _half_up(Fraction(ht) * Fraction("1.085")) == ttc85 or ht == Decimal("333.33")


@pytest.mark.parametrize("row", HOP_ROWS, ids=lambda r: f"{r['prestation']}-{r['tranche']}")
@pytest.mark.parametrize("borne", ["min", "max"])
def test_csv_hop_vat_columns_derive_from_ht(row, borne):
    ht = Fraction(row[f"ht_{borne}"])
    assert _half_up(ht * Fraction("1.2")) == Decimal(row[f"ttc20_{borne}"])
    assert _half_up(ht * Fraction("1.085")) == Decimal(row[f"ttc85_{borne}"])


# ====================================================================== HOP caps

HOP_BOUND_CASES = [
    pytest.param(r, borne, regime, id=f"{r['prestation']}-{r['tranche']}-{borne}-{regime}")
    for r in HOP_ROWS
    for borne in ("min", "max")
    for regime in COLS
]


@pytest.mark.parametrize("row, borne, regime", HOP_BOUND_CASES)
def test_plafond_hop_exact_at_every_bound(row, borne, regime):
    ac = int(row[f"ac_{borne}"])
    p = plafond_hop(ac, row["prestation"], regime)
    attendu = Decimal(row[f"{COLS[regime]}_{borne}"])
    assert p.plafond == attendu
    assert str(p.plafond) == row[f"{COLS[regime]}_{borne}"]  # two decimals kept
    assert p.interpolation.result == attendu
    # the tranche letter: a bound belongs to the tranche whose « Min » it is
    if borne == "min" or row["tranche"] == "D":
        assert p.tranche == row["tranche"]
    else:
        assert p.tranche == chr(ord(row["tranche"]) + 1)


@pytest.mark.parametrize("row", HOP_ROWS, ids=lambda r: f"{r['prestation']}-{r['tranche']}")
@pytest.mark.parametrize("regime", list(COLS))
@pytest.mark.parametrize("fraction", [Fraction(1, 3), Fraction(1, 2), Fraction(7, 9)])
def test_plafond_hop_interpolates_inside_each_tranche(row, regime, fraction):
    lo, hi = Fraction(row["ac_min"]), Fraction(row["ac_max"])
    ac = Decimal(int(lo + (hi - lo) * fraction))  # an integral AC strictly inside
    mn, mx = Fraction(row[f"{COLS[regime]}_min"]), Fraction(row[f"{COLS[regime]}_max"])
    exact = mn + (Fraction(ac) - lo) * (mx - mn) / (hi - lo)
    p = plafond_hop(ac, row["prestation"], regime)
    assert p.tranche == row["tranche"]
    assert (p.ac_min, p.ac_max) == (Decimal(row["ac_min"]), Decimal(row["ac_max"]))
    assert p.plafond == _half_up(exact)
    assert abs(Fraction(p.interpolation.exact_value) - exact) < Fraction(1, 10**20)
    assert Decimal(row[f"{COLS[regime]}_min"]) < p.plafond < Decimal(row[f"{COLS[regime]}_max"])


def test_plafond_hop_known_case_14750():
    p = plafond_hop(14750, "V2", "TTC20")
    assert p.tranche == "B"
    assert p.plafond == Decimal("8156.25")
    assert p.avance == Decimal("3262.50")
    assert p.solde == Decimal("4893.75")
    i = p.interpolation
    assert (i.ac_min, i.ac_max, i.min_amount, i.max_amount) == (
        Decimal(7000), Decimal(22500), Decimal("7312.50"), Decimal("9000.00")
    )


def test_plafond_hop_rounds_half_up_and_accepts_fractional_ac():
    # 15 000 in B: 7312.5 + 8000 × 1687.5 / 15500 = 8183.467… -> 8183.47
    assert plafond_hop(15000, "V2", "TTC20").plafond == Decimal("8183.47")
    # half a journée (conventions of §1.2) is allowed
    p = plafond_hop(Decimal("7000.5"), "V2", "HT")
    exact = Fraction("6093.75") + Fraction("0.5") * Fraction("1406.25") / 15500
    assert p.plafond == _half_up(exact)
    assert p.combined_activity == Decimal("7000.5")


@pytest.mark.parametrize(
    "ac, tranche",
    [
        (0, "A"),
        (Decimal("6999.99"), "A"),
        (7000, "B"),
        (Decimal("22499.5"), "B"),
        (22500, "C"),
        (229999, "C"),
        (230000, "D"),
        (1600000, "D"),
    ],
)
def test_tranche_boundaries(ac, tranche):
    assert tranche_hop(ac, "V2").tranche == tranche
    assert tranche_hop(ac, "V1+V2").tranche == tranche


@pytest.mark.parametrize("ac", [Decimal("-0.01"), -1, -7000, Decimal("1600000.01"), 1600001, 10**9])
def test_plafond_hop_out_of_range(ac):
    with pytest.raises(OutsideBaremeError):
        plafond_hop(ac, "V2", "TTC20")


def test_plafond_hop_bad_prestation_regime_and_types():
    with pytest.raises(OutsideBaremeError):
        plafond_hop(1000, "V3", "TTC20")  # type: ignore[arg-type]
    with pytest.raises(OutsideBaremeError):
        plafond_hop(1000, "V2", "TTC10")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        plafond_hop(1000.0, "V2", "TTC20")  # type: ignore[arg-type]  floats refused
    with pytest.raises(TypeError):
        plafond_hop(True, "V2", "TTC20")  # type: ignore[arg-type]


def test_plafond_hop_v1v2_above_v2():
    for ac in (0, 5000, 14750, 100000, 1600000):
        for regime in COLS:
            assert plafond_hop(ac, "V1+V2", regime).plafond > plafond_hop(ac, "V2", regime).plafond


@settings(max_examples=300, deadline=None)
@given(
    cents=st.integers(min_value=0, max_value=160_000_000),
    prestation=st.sampled_from(["V2", "V1+V2"]),
    regime=st.sampled_from(list(COLS)),
)
def test_plafond_hop_matches_independent_computation(cents, prestation, regime):
    ac = Fraction(cents, 100)
    rows = [r for r in HOP_ROWS if r["prestation"] == prestation]
    row = next(
        (r for r in rows if Fraction(r["ac_min"]) <= ac < Fraction(r["ac_max"])), rows[-1]
    )
    lo, hi = Fraction(row["ac_min"]), Fraction(row["ac_max"])
    mn, mx = Fraction(row[f"{COLS[regime]}_min"]), Fraction(row[f"{COLS[regime]}_max"])
    p = plafond_hop(Decimal(cents) / 100, prestation, regime)
    assert p.plafond == _half_up(mn + (ac - lo) * (mx - mn) / (hi - lo))
    assert p.avance + p.solde == p.plafond


@settings(max_examples=200, deadline=None)
@given(a=st.integers(0, 1_599_999), b=st.integers(1, 1000), regime=st.sampled_from(list(COLS)))
def test_plafond_hop_non_decreasing(a, b, regime):
    b = min(a + b, 1_600_000)
    assert plafond_hop(a, "V2", regime).plafond <= plafond_hop(b, "V2", regime).plafond


# ====================================================================== SFP caps

SFP_CASES = [
    pytest.param(r, regime, id=f"{r['client']}-{regime}") for r in SFP_ROWS for regime in COLS
]


@pytest.mark.parametrize("row, regime", SFP_CASES)
def test_plafond_sfp_every_csv_row(row, regime):
    key = row["client"]
    if key.startswith("CSI_"):
        p = plafond_sfp("csi", key[-1], regime)
        assert p.tranche == key[-1]
    else:
        p = plafond_sfp(key.lower().replace("_", "-"), None, regime)
        assert p.tranche is None
    attendu = Decimal(row[COLS[regime]])
    assert p.plafond == attendu
    assert p.avance == _half_up(Fraction(attendu) * Fraction(2, 5))
    assert p.solde == attendu - p.avance
    assert p.solde == _half_up(Fraction(attendu) * Fraction(3, 5))  # 60 % too


@pytest.mark.parametrize("client", list(SEED_SFP))
@pytest.mark.parametrize("i, regime", list(enumerate(COLS)))
def test_plafond_sfp_matches_seed(client, i, regime):
    assert plafond_sfp(client, None, regime).plafond == Decimal(SEED_SFP[client][i])


@pytest.mark.parametrize("tranche", list(SEED_CSI))
@pytest.mark.parametrize("i, regime", list(enumerate(COLS)))
def test_plafond_csi_matches_seed(tranche, i, regime):
    assert plafond_sfp("csi", tranche, regime).plafond == Decimal(SEED_CSI[tranche][i])
    assert plafond_sfp("CSI", tranche.lower(), regime).plafond == Decimal(SEED_CSI[tranche][i])


def test_plafond_sfp_known_values():
    p = plafond_sfp("sage-femme", None, "TTC8.5")
    assert (p.plafond, p.avance, p.solde) == (Decimal("361.67"), Decimal("144.67"), Decimal("217.00"))
    assert plafond_sfp("Masseur_Kinésithérapeute").plafond == Decimal("270.00")  # default TTC20


@pytest.mark.parametrize(
    "client, tranche",
    [("csi", None), ("csi", ""), ("csi", "F"), ("ide", "A"), ("kine", None), ("medecin", None)],
)
def test_plafond_sfp_invalid(client, tranche):
    with pytest.raises(OutsideBaremeError):
        plafond_sfp(client, tranche, "TTC20")


def test_plafond_sfp_bad_regime():
    with pytest.raises(OutsideBaremeError):
        plafond_sfp("ide", None, "TTC5.5")  # type: ignore[arg-type]


# ====================================================================== money


@pytest.mark.parametrize(
    "amount, rate, attendu",
    [
        ("1.25", "0.02", "0.03"),  # 0.025 -> half-up 0.03 (half-even would give 0.02)
        ("0.05", "0.30", "0.02"),  # 0.015 -> 0.02
        ("1075.05", AVANCE_RATE_WAVE1, "322.52"),  # 322.515
        ("4866.67", AVANCE_RATE_WAVE1, "1460.00"),  # 1460.001
        ("8156.25", "0.40", "3262.50"),
        ("361.67", "0.40", "144.67"),  # 144.668
    ],
)
def test_avance_half_up(amount, rate, attendu):
    assert avance(Decimal(amount), rate) == Decimal(attendu)


def test_wave1_rates_and_solde_adds_up():
    assert AVANCE_RATE_WAVE1 == Decimal("0.30") and SOLDE_RATE_WAVE1 == Decimal("0.70")
    # 70 % of 1075.05 = 752.535 rounds up too: the balance is the remainder instead
    assert solde(Decimal("1075.05"), AVANCE_RATE_WAVE1) == Decimal("752.53")
    assert round_cent(Decimal("2.675")) == Decimal("2.68")
    assert round_cent(Decimal("-2.675")) == Decimal("-2.68")


@settings(max_examples=300, deadline=None)
@given(cents=st.integers(1, 10**9))
def test_forty_sixty_split_equals_independent_rounding(cents):
    m = Decimal(cents) / 100
    assert avance(m, "0.40") == _half_up(Fraction(cents, 100) * Fraction(2, 5))
    assert solde(m, "0.40") == _half_up(Fraction(cents, 100) * Fraction(3, 5))


# ====================================================================== calendars

HOP_CAL = hop_calendar(date(2024, 5, 18))  # any Date 0 for the test
D0_SFP = date(2026, 1, 31)
SFP_CAL = sfp_calendar(D0_SFP)


def test_hop_dates_from_seed():
    attendu = {
        1: datetime(2024, 11, 19, 12),
        2: datetime(2025, 6, 25, 12),
        3: datetime(2025, 9, 25, 12),
        4: datetime(2026, 9, 23, 12),
        5: datetime(2027, 6, 22, 12),
        6: datetime(2027, 9, 28, 12),
    }
    assert dict(HOP_CAL.dates) == attendu


def test_sfp_dates_relative_to_date0():
    attendu = {1: date(2026, 8, 31), 2: date(2027, 11, 30), 3: date(2028, 2, 29),
               4: date(2028, 5, 31), 5: date(2028, 9, 30), 6: date(2028, 12, 31)}
    assert {n: d.date() for n, d in SFP_CAL.dates.items()} == attendu
    assert SFP_CAL.signature_min == date(2027, 1, 31)
    assert sfp_calendar(date(2025, 3, 15)).signature_min == date(2026, 3, 15)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 12, 15), 13) == date(2026, 1, 15)


@pytest.mark.parametrize("cal", [HOP_CAL, SFP_CAL], ids=["hop", "sfp"])
def test_emission_after_date0(cal):
    d0 = cal.date0
    assert check_bon_commande(cal, emission_date=date.fromordinal(d0.toordinal() + 1)) == []
    assert _codes(check_bon_commande(cal, emission_date=d0)) == ["EMISSION_AVANT_DATE0"]
    assert _codes(check_bon_commande(cal, emission_date=date(2020, 1, 1))) == [
        "EMISSION_AVANT_DATE0"
    ]


def test_emission_not_checked_without_hop_date0():
    assert check_bon_commande(hop_calendar(), emission_date=date(2020, 1, 1)) == []


def test_sfp_signature_not_before_date0_plus_12_months():
    assert check_bon_commande(SFP_CAL, signature_date=date(2027, 1, 31)) == []
    vs = check_bon_commande(SFP_CAL, signature_date=date(2027, 1, 30))
    assert _codes(vs) == ["SIGNATURE_AVANT_DATE0_PLUS_12_MOIS"]
    assert vs[0].value == date(2027, 1, 30) and "31/01/2027" in vs[0].message
    # HOP has no such floor
    assert check_bon_commande(HOP_CAL, signature_date=date(2024, 6, 1)) == []


@pytest.mark.parametrize(
    "cal, ok, ko",
    [
        (HOP_CAL, date(2026, 9, 23), date(2026, 9, 24)),
        (HOP_CAL, datetime(2026, 9, 23, 12, 0), datetime(2026, 9, 23, 12, 1)),
        (SFP_CAL, date(2028, 5, 31), date(2028, 6, 1)),
    ],
)
def test_signature_not_after_date4(cal, ok, ko):
    assert check_bon_commande(cal, signature_date=ok) == []
    assert _codes(check_bon_commande(cal, signature_date=ko)) == ["SIGNATURE_APRES_DATE4"]


@pytest.mark.parametrize("cal", [HOP_CAL, SFP_CAL], ids=["hop", "sfp"])
def test_signature_at_most_120_days_before_complete_dossier(cal):
    dossier = date(2027, 9, 1)
    sig_ok = date(2027, 5, 4)  # 120 days before
    sig_ko = date(2027, 5, 3)  # 121 days before
    assert (dossier - sig_ok).days == 120
    kw = dict(complete_file_date=dossier, referencing_date=date(2027, 10, 1))
    assert "SIGNATURE_TROP_TOT_AVANT_DOSSIER_COMPLET" not in _codes(
        check_bon_commande(cal, signature_date=sig_ok, **kw)
    )
    assert "SIGNATURE_TROP_TOT_AVANT_DOSSIER_COMPLET" in _codes(
        check_bon_commande(cal, signature_date=sig_ko, **kw)
    )
    # signed after the référencement: the 120-day rule does not apply
    assert "SIGNATURE_TROP_TOT_AVANT_DOSSIER_COMPLET" not in _codes(
        check_bon_commande(
            cal, signature_date=sig_ko, complete_file_date=dossier,
            referencing_date=date(2027, 4, 1),
        )
    )


@pytest.mark.parametrize("cal", [HOP_CAL, SFP_CAL], ids=["hop", "sfp"])
def test_conditional_mention_before_referencement(cal):
    sig = date(2026, 3, 1) if cal is HOP_CAL else date(2027, 3, 1)
    ref = date(2027, 3, 2)
    assert check_bon_commande(cal, signature_date=sig, referencing_date=ref,
                                 conditional_mention=True) == []
    assert _codes(check_bon_commande(cal, signature_date=sig, referencing_date=ref,
                                        conditional_mention=False)) == [
        "MENTION_CONDITIONNELLE_ABSENTE"
    ]
    # signed once referenced: no mention needed
    assert check_bon_commande(cal, signature_date=sig, referencing_date=date(2025, 1, 1),
                                 conditional_mention=False) == []


def test_violation_codes_carry_programme_and_french_message():
    v = check_bon_commande(HOP_CAL, signature_date=date(2026, 10, 1))[0]
    assert v.code == "HOP-PFI-Va2.SIGNATURE_APRES_DATE4"
    assert "23/09/2026 12h00" in v.message and "01/10/2026" in v.message
    assert str(v).startswith("[HOP-PFI-Va2.SIGNATURE_APRES_DATE4]")


# ====================================================================== parameters


def test_finess_lists_equal_seed():
    from converter.funding import HOP

    assert HOP.finess_juridique_categories == set(JURIDIQUES)
    assert HOP.finess_geographique_categories == set(GEOGRAPHIQUES)
    assert len(JURIDIQUES) == 13 and len(GEOGRAPHIQUES) == 25


# ====================================================================== CLI text


def test_french_number_formatting():
    assert format_euros(Decimal("8156.25")) == "8 156,25 €"
    assert format_euros(Decimal("42750")) == "42 750,00 €"
    assert format_euros(Decimal("0.5")) == "0,50 €"
    assert format_euros(Decimal("1234567.005")) == "1 234 567,01 €"
    assert format_number(Decimal("15000")) == "15 000"
    assert format_number(Decimal("7000.5")) == "7 000,5"


@pytest.mark.parametrize(
    "tva, regime",
    [(None, None), ("20", "TTC20"), ("8.5", "TTC8.5"), ("8,5", "TTC8.5"), ("HT", "HT"), ("ht", "HT")],
)
def test_regime_depuis_tva(tva, regime):
    assert regime_from_tva(tva) == regime


def test_regime_depuis_tva_invalid():
    with pytest.raises(InputError, match="--tva"):
        regime_from_tva("5.5")


def test_texte_plafond_hop():
    t = plafond_hop_text(14750, "V2", "20")
    assert "Prestation Ségur Vague 2" in t
    assert "Tranche B" in t
    assert "7 312,50 € + (14 750 − 7 000) × (9 000,00 € − 7 312,50 €) / (22 500 − 7 000) = 8 156,25 €" in t
    assert "Avance (40 %) : 3 262,50 €" in t
    assert "Solde (60 %) : 4 893,75 €" in t
    t = plafond_hop_text(15000, "V2")
    assert t.count("Avance (40 %)") == 3  # all three regimes without --tva
    assert "≈ 8 183,47 €" in t and "TTC (TVA 8,5 %)" in t and "\nHT\n" in t


def test_texte_plafond_sfp():
    t = plafond_sfp_text("csi", "B", "20")
    assert "tranche B" in t and "2 970,00 €" in t and "1 188,00 €" in t and "1 782,00 €" in t
    t = plafond_sfp_text("ide")
    assert "270,00 €" in t and "244,13 €" in t and "225,00 €" in t


@pytest.mark.parametrize(
    "args, fragment",
    [
        ((-1, "V2"), "négative"),
        ((1600001, "V2"), "au-delà de la dernière tranche"),
        (("abc", "V2"), "illisible"),
        ((1000, "V3"), "Prestation inconnue"),
        ((1000, "V2", "19"), "Taux de TVA inconnu"),
    ],
)
def test_erreur_saisie_hop(args, fragment):
    with pytest.raises(InputError, match=fragment):
        plafond_hop_text(*args)


def test_saisie_hop_valid():
    assert "Tranche" in plafond_hop_text(1600000, "V1+V2", "HT")
    assert "Tranche" in plafond_hop_text(15000.0, "V2")  # a float from typer is accepted here


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("csi", None), "exige une tranche"),
        (("medecin", None), "Type de client inconnu"),
        (("ide", "A"), "ne s'applique qu'aux centres"),
        (("csi", "Z"), "Tranche CSI inconnue"),
    ],
)
def test_erreur_saisie_sfp(args, fragment):
    with pytest.raises(InputError, match=fragment):
        plafond_sfp_text(*args)


def test_saisie_sfp_valid():
    assert "Plafond" in plafond_sfp_text("csi", "E", "8.5")
    assert "Plafond" in plafond_sfp_text("orthoptiste")


# ====================================================================== packaging


def test_funding_imports_stay_inside_package():
    """The funding package imports only the stdlib and itself (never converter.*)."""
    for f in FUNDING.glob("*.py"):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level in (0, 1), f"{f.name}: import hors de converter/funding"
                if node.level == 0:
                    assert not (node.module or "").startswith("converter"), f.name
            elif isinstance(node, ast.Import):
                assert all(not a.name.startswith("converter") for a in node.names), f.name


def test_reference_dir_used_by_library_is_the_package_copy():
    from converter.funding.bareme import REFERENCE_DIR

    assert REFERENCE_DIR == REF
    assert (REFERENCE_DIR / "bareme-hop-pfi-va2.csv").is_file()
