"""Field kinds as modules (issue #20): each `kind:` of the definitions is one module of
converter/kinds/, which the checks, the JSON Schema, the workbooks, the reader and the renderer
ask; its codes take their severity from the catalogue; each fact is written once."""

from __future__ import annotations

import ast
import json
import re
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from converter import api, issues
from converter.formats import all_formats, get_format
from converter.formats.model import KINDS as DECLARED
from converter.issues import MESSAGES, Severity
from converter.kinds import KINDS, Invalid, finess, numero_editeur, rpps, siret
from converter.kinds.base import scalar
from tests.builders import seed_001_rows, workbook

ROOT = Path(__file__).resolve().parents[1]
INTERFACE = ("NAME", "CODES", "TEXT", "NUM_FORMAT", "WIDTH", "check", "validate", "is_valid", "json_schema",
             "describe", "json_literal")
# typed values that reach every branch of the kinds' checks
TYPED = ["", "x", "  a b ", "null", "VRAI", "oui", "peut-être", "5 mars 2024", "31/02/2024", "45356", "4 866,674",
         "1.234,56", "-5", "0", "3.0", "2,5", "a@b", "x y@z.fr", "it@og.fr", "00 33 6 12", "+33612345678", "0612",
         "0123456789", "2a0000024", "12345678", "123456789", "10003456786", "73282932000075", "ENO_5", "eno_5",
         "finmdv000002", "FINMDV00000X", "ab12c", "A" * 200]


def test_every_declared_kind_is_one_module_with_the_whole_interface():
    assert set(KINDS) == DECLARED
    for name, module in KINDS.items():
        assert module.NAME == name and module.__doc__, name
        assert module.__name__ == f"converter.kinds.{name}"
        missing = [a for a in INTERFACE if not hasattr(module, a)]
        assert not missing, (name, missing)


def test_each_kind_gives_only_its_own_codes_all_in_the_catalogue():
    for definition in all_formats().values():
        for sheet in (definition.header, *definition.sheets):
            for f in sheet.fields:
                module = KINDS[f.kind]
                assert set(module.CODES) <= set(MESSAGES), f.kind
                found = module.check(definition, f, pl.col("c"), "s")
                frame = pl.LazyFrame({"c": TYPED})
                for stage in found.steps:
                    frame = frame.with_columns(**stage)
                out = frame.select(e=found.error, w=found.warning).collect()
                errors, warnings = set(out["e"].drop_nulls()), set(out["w"].drop_nulls())
                assert errors | warnings <= set(module.CODES), (f.balise, (errors | warnings) - set(module.CODES))
                assert all(MESSAGES[c][0] == Severity.ERROR for c in errors), f.balise
                assert all(MESSAGES[c][0] == Severity.WARNING for c in warnings), f.balise


def test_the_severity_of_a_cell_code_is_the_catalogues(tmp_path, monkeypatch):
    rows = seed_001_rows()  # its FINESS 345678912 has a wrong key: a warning in the catalogue
    wb = workbook(tmp_path / "w.xlsx", rows)
    assert {i.code for i in api.check(wb)[0].warnings} >= {"finess_cle"}
    monkeypatch.setitem(issues.MESSAGES, "finess_cle", (Severity.ERROR, MESSAGES["finess_cle"][1]))
    outcome, _ = api.check(wb)
    assert "finess_cle" in {i.code for i in outcome.errors}
    assert outcome.rejected == ["00001"]


def test_a_link_codes_severity_is_the_catalogues(tmp_path, monkeypatch):
    rows = seed_001_rows()
    rows["Scénarios"] = rows["Scénarios"][:1]  # FINESS Géo 234567891 without its scénario
    monkeypatch.setitem(issues.MESSAGES, "ensemble_manquant", (Severity.WARNING, MESSAGES["ensemble_manquant"][1]))
    outcome, _ = api.check(workbook(tmp_path / "w.xlsx", rows))
    assert "ensemble_manquant" in {i.code for i in outcome.warnings}
    assert outcome.accepted == ["00001"]


@pytest.mark.parametrize("module, value, expected", [
    (KINDS["date"], "1er mars 2024", "01/03/2024"), (KINDS["amount"], "1 234,5 €", "1234.50"),
    (KINDS["boolean"], "Non", False), (KINDS["phone"], "00 33 6 12 34 56 78", "+33612345678"),
    (KINDS["integer"], "12", 12), (KINDS["email"], "a.b@c.fr", "a.b@c.fr"),
    # where the seeds are silent, a value is kept (with a warning): a year outside 1900–2099, an
    # amount of zero or below (« JJ/MM/AAAA », « FLOAT (2 chiffres après le point) »)
    (KINDS["date"], "12.03.2204", "12/03/2204"), (KINDS["date"], "1899/12/31", "31/12/1899"),
    (KINDS["amount"], "-5", "-5.00"),
])
def test_scalar_validate_normalises_as_the_column_check(module, value, expected):
    assert module.validate(value) == expected and module.is_valid(value)


@pytest.mark.parametrize("module, value, code", [
    (KINDS["date"], "30/02/2024", "date_invalide"), (KINDS["amount"], "1234.567", "montant_decimales"),
    (KINDS["boolean"], "bof", "booleen_invalide"), (KINDS["phone"], "0612", "telephone_invalide"),
    # +33612345678 typed in a cell of format Standard: the number 33612345678, its « + » lost
    (KINDS["phone"], "33612345678", "telephone_sans_plus"), (KINDS["phone"], "612345678", "telephone_invalide"),
    (KINDS["email"], "@b.fr", "email_invalide"), (finess, "2C000001", "finess_invalide"),
    (rpps, "1234", "rpps_invalide"), (siret, "1234567890123", "siret_invalide"),
    (numero_editeur, "0001", "numero_editeur_invalide"),
    (KINDS["date"], "31/02/1850", "date_invalide"),
])
def test_scalar_validate_refuses_with_the_issue_code(module, value, code):
    with pytest.raises(Invalid) as refused:
        module.validate(value)
    assert refused.value.code == code and not module.is_valid(value)


_IDENTIFIER_TEXT = st.text(alphabet="0123456789 AB2ab", max_size=16)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(_IDENTIFIER_TEXT.map(str.strip).filter(bool), min_size=1, max_size=20))
def test_identifiers_scalar_validate_agrees_with_the_column_check(values):
    """The scalar forms (regular expressions on one string) and the Polars checks agree."""
    for module in (finess, rpps, siret, numero_editeur):
        checked = []
        for v in values:
            try:
                checked.append(scalar(module.check, module.NAME, v))
            except Invalid:
                checked.append(None)
        assert checked == [module.validate(v) if module.is_valid(v) else None for v in values], module.NAME


def _source() -> dict[Path, str]:
    """The converter's modules, the funding package included (its SFP client keys are given the
    kinds' validators)."""
    return {p: p.read_text("utf-8") for p in (ROOT / "converter").rglob("*.py")}


def _strings(node: object) -> list[str]:
    """The strings of a parsed YAML document."""
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def _literals() -> dict[Path, list[str]]:
    """Every string written in the package: the modules' constants, the format definitions' values."""
    found = {p: [n.value for n in ast.walk(ast.parse(t)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
             for p, t in _source().items()}
    return found | {p: _strings(yaml.safe_load(p.read_text("utf-8"))) for p in (ROOT / "converter").rglob("*.yaml")}


def _recognises(literal: str, module: Any, number: str) -> bool:
    """`literal`, a regular expression (not plain text such as an example value), tells the
    kind's identifiers as the kind does: it matches `number`, and agrees with the kind on the
    number one character shorter, longer, or ending in a letter (the kind's shape, its PATTERN:
    FINESS, RPPS and SIRET of another shape are kept, with a warning, `is_valid` holds the length)."""
    if literal == re.escape(literal):
        return False
    try:
        with warnings.catch_warnings():  # a docstring read as a pattern: « [[ » is no nested set meant
            warnings.simplefilter("ignore", FutureWarning)
            pattern = re.compile(literal)
    except re.error:
        return False
    probes = (number, number[:-1], number + "0", number[:-1] + "X")
    shape = re.compile(module.PATTERN)
    return bool(pattern.fullmatch(number)) and all(bool(pattern.fullmatch(v)) == bool(shape.fullmatch(v)) for v in probes)


def test_an_identifier_pattern_is_written_only_in_its_kind_module():
    """Issue #20: « each identifier pattern written once », in converter/kinds/<kind>.py: any
    other regular expression that recognises one of these identifiers is a second copy."""
    for module, numbers in ((finess, ["010000024", "2A0000024"]), (rpps, ["10003456786"]),
                            (siret, ["73282932000074"]), (KINDS["numero_ans"], ["0123456789"]),
                            (numero_editeur, ["ENO05"])):
        where = {p.relative_to(ROOT) for p, literals in _literals().items() for literal in literals
                 if any(_recognises(literal, module, n) for n in numbers)}
        assert where == {Path(module.__file__).relative_to(ROOT)}, (module.NAME, where)


def test_each_identifier_pattern_and_the_demande_column_are_written_once():
    texts = _source()
    for fact in (finess.PATTERN, rpps.PATTERN, siret.PATTERN, KINDS["numero_ans"].PATTERN, numero_editeur.PATTERN,
                 '"__ne"'):
        where = [p.relative_to(ROOT) for p, t in texts.items() if fact in t]
        assert len(where) == 1 and sum(t.count(fact) for t in texts.values()) == 1, (fact, where)


RESHAPED = ["converter"]


def test_lignes_import_is_spelled_once_outside_the_formats():
    """The deposit file's list of demandes: deposit.LINES, the one string constant that names it."""
    where = [p.relative_to(ROOT) for p, t in _source().items() for node in ast.walk(ast.parse(t))
             if isinstance(node, ast.Constant) and node.value == "lignesImport"]
    assert where == [Path("converter/deposit.py")]


def test_no_long_units_in_the_reshaped_modules():
    """Issue #20: no function over 80 lines, no class over 300."""
    long = []
    for place in RESHAPED:
        path = ROOT / place
        for file in ([path] if path.is_file() else sorted(path.rglob("*.py"))):
            for node in ast.walk(ast.parse(file.read_text("utf-8"))):
                limit = 300 if isinstance(node, ast.ClassDef) else 80
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.end_lineno - node.lineno + 1 > limit:
                    long.append(f"{file.relative_to(ROOT)}:{node.name} ({node.end_lineno - node.lineno + 1})")
    assert not long


def test_the_notice_and_the_schema_ask_the_kind():
    definition = get_format("mdv-lgc-solde")
    field = definition.demandes.by_balise["numeroASP"]
    from converter.schema import json_schema
    from converter.workbook import describe_format
    assert describe_format(definition, field).startswith(KINDS["numero_asp"].describe(definition, field))
    # the schema asks what the seeds ask (prefix, 12 characters); the usual shape only warns
    accepted, usual = KINDS["numero_asp"].accepted(field.prefix), KINDS["numero_asp"].pattern(field.prefix)
    assert json.dumps({"pattern": accepted})[1:-1] in json.dumps(json_schema("mdv-lgc-solde"))
    assert re.fullmatch(usual, "FINMDV000002") and re.fullmatch(accepted, "FINMDV-00002")
    assert not re.fullmatch(usual, "FINMDV-00002") and not re.fullmatch(accepted, "FINMS2000002")


_WORDS = KINDS["boolean"].TRUE_WORDS + KINDS["boolean"].FALSE_WORDS
_ANY_CASE = st.sampled_from(_WORDS).flatmap(
    lambda w: st.tuples(*(st.sampled_from([ch.lower(), ch.upper()]) for ch in w)).map("".join))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), _ANY_CASE, st.text(alphabet="tRuEfalsxoniyv01 \u212a\u0130\u0131\u017f", max_size=6))))
def test_boolean_words_in_any_case_are_read_as_lowercasing_reads_them(values):
    # the check looks the typed value up among the words' case variants; the reference lowercases it
    low = pl.col("c").str.to_lowercase()
    boolean = KINDS["boolean"]
    reference = pl.when(low.is_in(boolean.TRUE_WORDS)).then(True).when(low.is_in(boolean.FALSE_WORDS)).then(False)
    found = boolean.check(None, None, pl.col("c"), "b__s").steps[0]["b__svalue"]
    frame = pl.DataFrame({"c": values}, schema={"c": pl.String})
    assert frame.select(found.alias("v"))["v"].to_list() == frame.select(reference.alias("v"))["v"].to_list()


_DATE_ISH = st.text(alphabet="0123456789٠١٢- :T.=/", max_size=24)
_EXCEL_DATES = st.tuples(st.sampled_from(["19", "20", "21", "٢٠"]), st.text(alphabet="0123456789٣", min_size=6, max_size=6),
                         st.sampled_from(["", " 00:00:00", "T12:30", " 10:20:30.5", " 1:2", "x"])).map(
    lambda p: f"{p[0]}{p[1][:2]}-{p[1][2:4]}-{p[1][4:]}{p[2]}")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.none(), _DATE_ISH, _EXCEL_DATES)))
def test_dates_from_excel_are_rewritten_as_the_capturing_replace_did(values):
    from converter.kinds import date

    # the reference: the capturing pattern `from_excel` stands for
    reference = pl.col("c").str.replace(
        rf"^{date._YEAR}-([0-9][0-9])-([0-9][0-9])(?:[ T][0-9]{{2}}:[0-9]{{2}}(?::[0-9]{{2}}(?:\.[0-9]+)?)?)?$", "=$1-$2-$3")
    frame = pl.DataFrame({"c": values}, schema={"c": pl.String})
    assert frame.select(date.from_excel(pl.col("c")).alias("v"))["v"].to_list() == \
        frame.select(reference.alias("v"))["v"].to_list()


_DATE_FORMS = st.one_of(st.none(), _DATE_ISH, _EXCEL_DATES,
                        st.sampled_from(["5 mars 2024", "1er Janv. 2024", "=2024-03-05", "=5 mars 2024", "45356",
                                         "45356.5", "05/03/2024 12:00", "2024.03.05", "2024-03-05T10:00:00"]),
                        st.tuples(st.sampled_from(["", "="]), _DATE_ISH).map("".join))


@settings(max_examples=400, deadline=None)
@given(st.lists(_DATE_FORMS))
def test_dates_are_parsed_as_when_every_form_was_read_in_every_cell(values):
    """`date.parsed` reads the forms other than a date from Excel only in the cells that are no
    such date: the same dates as reading each form in every cell, as it did."""
    from converter.kinds import date

    c = pl.col("c")
    text = date.from_excel(c)
    for pattern, replacement in date._AS_ISO:
        text = text.str.replace(pattern, replacement)
    words = pl.when(c.str.contains("[a-zA-Zéû]")).then(c.str.to_lowercase()) \
        .str.extract_groups(rf"^([0-9]{{1,2}})(?:er)?\s+([a-zéû]+)\.?\s+{date._YEAR}$")
    month = words.struct.field("2").replace_strict(date._MONTHS, default=None, return_dtype=pl.String)
    named = pl.concat_str(pl.lit("="), words.struct.field("3"), pl.lit("-"), month, pl.lit("-"), words.struct.field("1"))
    serial = c.str.extract(r"^([0-9]{5})(?:\.[0-9]+)?$", 1).cast(pl.Int64, strict=False)
    reference = pl.coalesce(
        pl.coalesce(named, text).str.to_date("=%Y-%m-%d", strict=False),
        pl.when(serial.is_between(*date._SERIAL_DAYS)).then(pl.lit(date.date(1899, 12, 30)) + pl.duration(days=serial)),
    )
    frame = pl.DataFrame({"c": values}, schema={"c": pl.String})
    found = frame.select(date.parsed(c).alias("v"), reference.alias("r"))  # (year 0 has no Python date)
    assert found["v"].equals(found["r"], check_names=False, null_equal=True)


_CHOICE_TYPED = st.one_of(st.none(), st.text(alphabet="abcHÔPhôp_ 0123É-.'", max_size=12),
                          st.sampled_from(["ENO_5", "eno_5", " eno_5", "HOP_302", "hôp_302", "HÔP_302", "Enovacom",
                                           "TTC", "ttc", "T TC", "DMP, INS", "dmp,ins", "PDS", "pds"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(_CHOICE_TYPED))
def test_a_choice_is_found_as_when_every_cell_was_folded(values):
    """A choice folds (capitals, spaces, accents) only the cells that are not one of its values
    as typed: the same values found as folding every cell, as it did."""
    from converter.kinds import choice
    from converter.kinds.base import without_spaces

    definition = get_format("ms2-dui-pds-avance")
    frame = pl.DataFrame({"c": values}, schema={"c": pl.String})
    for sheet, balise in (("Scénarios", "operateurMessagerie"), ("Demandes", "regimeTVA"), ("OG", "utiliteCertificat")):
        field = definition.by_name[sheet].by_balise[balise]
        allowed = choice.allowed_values(definition, field)
        mapping: dict[str, str] = {}
        for v in allowed:
            mapping.setdefault(v.upper().replace(" ", "").translate(choice._UNACCENTED), v)
        c = pl.col("c")
        key = without_spaces(c.str.to_uppercase()).str.replace_many(list(choice._ACCENTS), list(choice._ACCENTS.values()))
        reference = pl.when(c.is_in(list(allowed))).then(c).otherwise(
            key.replace_strict(mapping, default=None, return_dtype=pl.String))
        check = choice.check(definition, field, c, "x")
        found = frame.with_columns(**check.steps[0]).select(check.steps[1]["xvalue"].alias("v"))
        assert found["v"].to_list() == frame.select(reference.alias("v"))["v"].to_list(), balise
