"""Check keys of FINESS, RPPS and SIRET: a wrong key is a warning, never an error (the ASP
only checks lengths, and the seeds' own examples fail the key); the Polars expressions used on
whole columns agree with the scalar functions of the kinds' modules (converter/kinds/)."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converter import api
from converter.kinds import Invalid, finess, rpps
from converter.kinds import siret as siret_kind
from tests.builders import merge, seed_001_rows, workbook
from tests.builders_solde import seed_000_rows, seed_003_liberal_rows, seed_003_structure_rows

DAY = date(2024, 6, 20)


def _outcome(tmp_path, rows, fmt, header=None):
    return api.convert(workbook(tmp_path / "w.xlsx", rows, fmt, header), tmp_path / "depot", DAY)


def _warnings(outcome) -> set[tuple[str, str, str]]:
    return {(i.balise, i.value, i.code) for i in outcome.warnings}


@pytest.mark.parametrize("number, warned", [("777777777", True), ("777777771", True),
                                            ("777777772", False), ("310788609", False)])
def test_seed_000_finess_examples_convert_with_a_key_warning(tmp_path, number, warned):
    # seed 000 §2.2: « trois ESSMS dont les FINESS géographiques sont 777777777, 777777771,
    # 777777772, regroupés dans un OG dont le numéro FINESS Juridique est 310788609 »
    rows = seed_000_rows()
    for row in rows["FINESS Géo"][:1] + rows["Scénarios"][:1]:
        row["FINESSGeo"] = number
    outcome = _outcome(tmp_path, rows, "ms2-dui-pde-solde")
    assert outcome.exit_code == 0 and len(outcome.files) == 1
    assert (("FINESSGeo", number, "finess_cle") in _warnings(outcome)) is warned
    assert f'"FINESSGeos": ["{number}", "234567891"]' in outcome.files[0].read_text(encoding="utf-8")


def test_seed_003_identifiers_convert_with_key_warnings(tmp_path):
    rows = merge(seed_003_liberal_rows(), seed_003_structure_rows())
    outcome = _outcome(tmp_path, rows, "mdv-lgc-solde")
    assert outcome.exit_code == 0 and outcome.errors == []
    warned = _warnings(outcome)
    for number in ("77777777777", "88888888888", "99999999999"):
        assert ("liberalRPPS", number, "rpps_cle") in warned
    for number in ("999999991", "999999992", "999999993"):
        assert ("structureFINESSGeo", number, "finess_cle") in warned
    assert not any(code == "rpps_cle" and balise == "identDMP" for balise, _, code in warned)  # valid keys


def test_corsican_finess_convert(tmp_path):
    # FINESS of Corsica: 2A / 2B then 7 digits (FORMATS.md §1), typed in any case, with spaces
    rows = seed_001_rows()
    for row in rows["OG"] + rows["FINESS Géo"]:
        row["FINESSJuridique"] = "2B0000008"
    rows["FINESS Géo"][1]["FINESSGeo"] = "2a 000 0016"
    rows["Scénarios"][1]["FINESSGeo"] = "2A0000016"
    outcome = _outcome(tmp_path, rows, "ms2-dui-pds-avance")
    assert outcome.errors == [] and len(outcome.files) == 1
    assert not any(i.code == "finess_cle" and i.value in ("2B0000008", "2a 000 0016") for i in outcome.warnings)
    og = json.loads(outcome.files[0].read_text(encoding="utf-8"))["lignesImport"][0]["beneficiaires"][
        "etablissementsClients"][0]
    assert (og["FINESSJuridique"], og["FINESSGeos"]) == ("2B0000008", ["123456789", "2A0000016"])


@pytest.mark.parametrize("number", ["2C0000016", "3A0000016", "2AB000016", "12345678O"])
def test_nine_characters_of_another_shape_are_kept_with_a_warning(tmp_path, number):
    """Seed 001 asks a FINESS « VARCHAR (=9) », no more: 9 characters that are no FINESS's shape
    (9 digits, or 2A / 2B then 7 digits) are deposited as typed, with a warning; they were refused."""
    rows = seed_001_rows()
    rows["FINESS Géo"][1]["FINESSGeo"] = rows["Scénarios"][1]["FINESSGeo"] = number
    outcome = _outcome(tmp_path, rows, "ms2-dui-pds-avance")
    assert outcome.errors == [] and len(outcome.files) == 1
    assert {(i.code, i.sheet) for i in outcome.warnings if i.value == number} == {
        ("finess_inhabituel", "FINESS Géo"), ("finess_inhabituel", "Scénarios")}
    assert f'"{number}"' in outcome.files[0].read_text(encoding="utf-8")


@pytest.mark.parametrize("kind, number", [("rpps", "1000345678O"), ("siret", "7328293200007A")])
def test_a_rpps_or_a_siret_of_its_length_but_another_shape_is_kept_with_a_warning(kind, number):
    """« Tableau de VARCHAR (=11) » (seed 003), « VARCHAR (=14) » (seeds 000, 001, 003): the length only."""
    module = {"rpps": rpps, "siret": siret_kind}[kind]
    assert module.validate(number) == number and not module.has_valid_key(number)
    with pytest.raises(Invalid) as refused:
        module.validate(number[:-1])
    assert refused.value.code == f"{kind}_invalide"


@pytest.mark.parametrize("number", ["2A000001", "2A00000166"])
def test_another_length_is_not_a_finess(tmp_path, number):
    rows = seed_001_rows()
    rows["FINESS Géo"][1]["FINESSGeo"] = rows["Scénarios"][1]["FINESSGeo"] = number
    outcome = _outcome(tmp_path, rows, "ms2-dui-pds-avance")
    assert {(i.code, i.sheet) for i in outcome.errors} == {("finess_invalide", "FINESS Géo"),
                                                           ("finess_invalide", "Scénarios")}
    assert outcome.files == []


@pytest.mark.parametrize("siret, warned", [
    ("73282932000074", False),  # the seeds' example format, a valid key
    ("73282932000075", True),   # one digit off: warning, still converted
    ("35600000000048", False),  # La Poste: digit sum multiple of 5, as python-stdnum checks it
    ("35600000000049", True),
])
def test_siret_key_is_a_warning(tmp_path, siret, warned):
    outcome = _outcome(tmp_path, seed_001_rows(), "ms2-dui-pds-avance", {"SIRET": siret})
    assert outcome.errors == [] and len(outcome.files) == 1
    assert (("SIRET", siret, "siret_cle") in _warnings(outcome)) is warned
    assert f'"SIRET": "{siret}"' in outcome.files[0].read_text(encoding="utf-8")


# ---------------------------------------------------------------- Polars == scalar

def _numbers(length: int, prefixes: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    plain = st.text(alphabet="0123456789", min_size=length, max_size=length)
    if not prefixes:
        return plain
    corsica = st.tuples(st.sampled_from(prefixes), st.text(alphabet="0123456789", min_size=length - 2,
                                                          max_size=length - 2)).map("".join)
    return st.one_of(plain, corsica)


def _column(values: list[str], expr) -> list[bool]:
    return pl.DataFrame({"v": values}, schema={"v": pl.String}).select(expr(pl.col("v")).alias("k"))["k"].to_list()


@settings(max_examples=300, deadline=None)
@given(st.lists(_numbers(9, ("2A", "2B")), min_size=1, max_size=50))
def test_finess_key_expression_agrees_with_the_scalar_function(values):
    assert _column(values, finess.key_expr) == [finess.has_valid_key(v) for v in values]


@settings(max_examples=300, deadline=None)
@given(st.lists(_numbers(11), min_size=1, max_size=50))
def test_rpps_key_expression_agrees_with_the_scalar_function(values):
    assert _column(values, rpps.key_expr) == [rpps.has_valid_key(v) for v in values]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_numbers(14), _numbers(5).map(lambda tail: "356000000" + tail)), min_size=1, max_size=50))
def test_siret_key_expression_agrees_with_python_stdnum(values):
    assert _column(values, siret_kind.key_expr) == [siret_kind.has_valid_key(v) for v in values]


def test_key_expressions_on_known_numbers():
    assert _column(["010000024", "2A0000010", "123456789"], finess.key_expr) == [
        finess.has_valid_key(v) for v in ("010000024", "2A0000010", "123456789")]
    assert _column(["10003456786", "77777777777"], rpps.key_expr) == [True, False]
    assert _column(["35600000000048", "73282932000074", "73282932000075"], siret_kind.key_expr) == [True, True, False]


# ---------------------------------------------------------------- the check's key == key_expr

_HOSTILE = st.text(alphabet="0123456789٠١٢۳ 2AaBb+-_.\u00a0x", max_size=14)


def _whole_check(kind, check, values: list[str]) -> list[tuple]:
    frame = pl.LazyFrame({"c": values}, schema={"c": pl.String})
    found = check(pl.col("c"))
    for stage in found.steps:
        frame = frame.with_columns(**stage)
    return frame.select(v=found.value, e=found.error, w=found.warning).collect().rows()


@pytest.mark.parametrize("kind, code", [(finess, "finess"), (rpps, "rpps")])
@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(_HOSTILE, _numbers(9, ("2A", "2B", "2a")), _numbers(11)), min_size=1, max_size=40))
def test_key_read_from_a_number_column_gives_what_key_expr_gives(kind, code, values):
    # the check computes the number once (`number=`); the reference reads key_expr on the value
    from converter.kinds import identifier

    new = _whole_check(kind, lambda c: kind.check(None, None, c, "v__s"), values)
    old = _whole_check(kind, lambda c: identifier.check(c, "v__s", kind.PATTERN, f"{code}_invalide", kind.key_expr,
                                                        f"{code}_cle", accepted=identifier.of_length(kind.LENGTH),
                                                        shape_code=f"{code}_inhabituel"), values)
    assert new == old
