"""Issue #19: a conversion's expected advances over columns of cents (converter/lifecycle/advances.py)
give the cents of the scalar rule, funding.amounts.avance_demande, and the summary and the report
no longer build a Decimal per demande."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

import orjson
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from converter import api
from converter.cli import app
from converter.funding import amounts
from converter.lifecycle import advances
from tests.builders import many_demandes, workbook

CENT = Decimal("0.01")
rates = st.decimals(min_value=0, max_value=1, places=4)
# whole euros and cents up to 10^12 €; the tie of a half cent comes from the rates (0.3 × …5 cents)
cents = st.integers(1, 10**14)


def _frame(rows: list[tuple[int, str | None]]) -> pl.DataFrame:
    return pl.DataFrame({advances.NUMERO: [f"{k:05d}" for k in range(len(rows))], advances.REGIME: [r for _, r in rows],
                         advances.HT: [c for c, _ in rows]}, schema=advances.NO_AMOUNTS.schema)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(cents, st.sampled_from(["TTC", "HT", None, "ttc"])), max_size=40), rate=rates)
def test_the_expected_advances_are_those_of_the_scalar_rule(rows, rate):
    expected = advances.expected_advances(_frame(rows), rate)
    scalar = [amounts.avance_demande(Decimal(c).scaleb(-2), regime, rate) for c, regime in rows]
    assert list(expected.each.values()) == scalar
    assert expected.total == sum((a.avance for a in scalar), Decimal("0.00"))
    assert expected.total_ttc == sum((a.amount_ttc for a in scalar if a.amount_ttc is not None), Decimal("0.00"))
    assert expected.report_rows() == [
        {"numeroEditeur": f"{k:05d}", "regime_tva": regime, "montant_ht": f"{a.amount_ht:.2f}",
         "montant_ttc": f"{a.amount_ttc:.2f}" if a.amount_ttc is not None else None, "base_avance": a.base,
         "avance": f"{a.avance:.2f}"} for k, ((_, regime), a) in enumerate(zip(rows, scalar))]


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.integers(-10**15, 10**15), min_size=1, max_size=40),
       factor=st.decimals(min_value=0, max_value=3, places=3))
def test_times_half_up_rounds_as_decimal_half_up(values, factor):
    frame = pl.DataFrame({"c": values}, schema={"c": advances.CENTS})
    found = frame.select(advances.times_half_up(pl.col("c"), factor).alias("c"))["c"].to_list()
    assert found == [int((Decimal(v) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP)) for v in values]


def test_half_cent_ties_round_away_from_zero():
    """30 % of 0,05 € is 1,5 cent: 2 cents, as Decimal's ROUND_HALF_UP; -1,5 cent is -2."""
    frame = pl.DataFrame({"c": [5, -5, 15, 25, 1]}, schema={"c": advances.CENTS})
    found = frame.select(advances.times_half_up(pl.col("c"), Decimal("0.30")).alias("c"))["c"].to_list()
    assert found == [2, -2, 5, 8, 0]
    assert [amounts.avance_demande(Decimal(c).scaleb(-2), "HT", "0.30").avance for c in (5, 15, 25)] == \
        [Decimal("0.02"), Decimal("0.05"), Decimal("0.08")]


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.integers(-10**30, 10**30)), max_size=40))
def test_euros_text_writes_what_decimal_writes(values):
    frame = pl.DataFrame({"c": values}, schema={"c": advances.CENTS})
    found = frame.select(advances.euros_text(pl.col("c")).alias("c"))["c"].to_list()
    assert found == [None if v is None else f"{Decimal(f'{v}E-2'):.2f}" for v in values]
    assert [advances.euros(v) for v in values] == [None if v is None else Decimal(f"{v}E-2") for v in values]


def test_amounts_beyond_the_decimal_context_stay_exact(tmp_path):
    """An amount of 30 digits: the Decimal context (28 digits) could not round it to the cent."""
    rows = many_demandes(2)
    rows["Demandes"][0]["montantSegurHT"] = "1" * 30 + ".05"
    outcome = api.verify(workbook(tmp_path / "w.xlsx", rows))
    assert outcome.errors == [], outcome.errors
    assert outcome.amounts == {"00001": Decimal("1" * 30 + ".05"), "00002": Decimal("4866.67")}
    with localcontext(prec=60):
        assert outcome.total_ht == Decimal("1" * 30 + ".05") + Decimal("4866.67")
        assert outcome.advances["00001"].amount_ttc == (Decimal("1" * 30 + ".05") * 6 / 5).quantize(CENT, ROUND_HALF_UP)


def test_etat_sums_amounts_beyond_the_decimal_context(tmp_path):
    """The same 30-digit amount, deposited: « xl2segur etat » stopped on « Erreur inattendue :
    InvalidOperation » (its advance rounded to the cent in Decimal's 28 digits)."""
    rows = many_demandes(2)
    rows["Demandes"][0]["montantSegurHT"] = "1" * 30 + ".05"
    registre = tmp_path / "registre.sqlite"
    converted = CliRunner().invoke(app, ["convertir", str(workbook(tmp_path / "w.xlsx", rows)), "-o",
                                         str(tmp_path / "d"), "--registre", str(registre)])
    assert converted.exit_code == 0, converted.output
    result = CliRunner().invoke(app, ["etat", "--registre", str(registre), "-o", str(tmp_path / "etat.xlsx")])
    assert result.exit_code == 0, result.output
    with localcontext(prec=60):
        ht = Decimal("1" * 30 + ".05") + Decimal("4866.67")
        advance = sum((amounts.avance_demande(a, r, "0.30").avance for a, r in
                       (("1" * 30 + ".05", rows["Demandes"][0]["regimeTVA"]), ("4866.67", rows["Demandes"][1]["regimeTVA"]))),
                      Decimal(0))
    said = " ".join(result.output.split())
    assert f"{amounts.format_euros(ht)} HT — avance attendue {amounts.format_euros(advance)}" in said
    # 111…111.05 × 1.2 = 133…333.26 (TTC), × 0.30 = 39 999…999.978 → .98
    assert amounts.avance_demande("1" * 30 + ".05", "TTC", "0.30").avance == Decimal("3" + "9" * 28 + ".98")


def test_the_summary_and_the_report_compute_no_decimal_per_demande(tmp_path, monkeypatch):
    """Issue #19: the summary computed every demande's advance in Decimal (100,000 of them); the
    per-demande values are built only for the demandes shown, and the report writes them from
    the frame."""
    def refused(*args):
        raise AssertionError("avance_demande called for one demande")

    monkeypatch.setattr(amounts, "avance_demande", refused)
    monkeypatch.setattr(api, "avance_demande", refused, raising=False)
    built = []
    monkeypatch.setattr(advances, "AvanceDemande", lambda *a: built.append(a) or amounts.AvanceDemande(*a))
    source = workbook(tmp_path / "w.xlsx", many_demandes(12))
    result = CliRunner().invoke(app, ["convertir", str(source), "-o", str(tmp_path / "d"), "--date-depot", "20240603",
                                      "--rapport", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    assert len(built) == 10
    assert "Avance attendue (30 % du montant TTC, ou HT au régime HT) : " in result.output
    assert "  … et 2 autres demandes" in result.output
    assert len(orjson.loads((tmp_path / "r.json").read_bytes())["avances_par_demande"]) == 12
