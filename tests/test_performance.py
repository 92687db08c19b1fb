"""Issue #6: the fast paths of a large conversion give exactly what the slow ones gave.

No timing here (benchmarks/convertir.py measures): the compiled template writes the bytes
Jinja writes, files are cut the same way when the schema refuses a demande, the benchmark's
generator makes a valid workbook, and the progress line stays off the logs.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import platform
import random
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import jinja2
import orjson
import polars as pl
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from converter import api, build, concurrency, fastrender, imports, launch, ledger, reading, schema
from converter.lifecycle import facts
from converter.formats import all_formats
from converter.ledger import Ledger, default_path
from converter.cli import app
from converter.progress import StatusLine, progress_line
from tests.builders import many_demandes, merge, seed_001_rows, workbook
from tests.builders_solde import seed_000_rows, seed_003_liberal_rows, seed_003_structure_rows

ROOT = Path(__file__).resolve().parent.parent


def _bench():
    spec = importlib.util.spec_from_file_location("bench_convertir", ROOT / "benchmarks" / "convertir.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _variety() -> dict:
    """Seed 001 with a second OG, a mandataire, HT, a PNG piece, quotes and accents."""
    rows = merge(*(seed_001_rows(f"{i:05d}") for i in range(1, 6)))
    rows["Demandes"][1].update(isMandataire="VRAI", nomMandataire='LE "GALL" ÉLODIE',
                               emailMandataire="m@x.fr", telephoneMandataire="+33612345678", regimeTVA="HT")
    rows["OG"].append({**rows["OG"][2], "FINESSJuridique": "010000024", "demandeCertificatServeur": "FAUX",
                       **{k: None for k in ("contractualisationOG", "statutAdminTechnique", "numeroCarteCPX",
                                            "nomAdminTechnique", "telAdminTechnique", "emailAdminTechnique",
                                            "utiliteCertificat")}})
    rows["FINESS Géo"].append({"numeroEditeur": "00003", "FINESSJuridique": "010000024", "FINESSGeo": "2A0000010"})
    rows["Scénarios"].append({"numeroEditeur": "00003", "FINESSGeo": "2A0000010", "ancienneVersion": "v\\1 \u00e9",
                              "isMaitreId": "FAUX", "IsStockageId": "VRAI"})
    rows["Pièces"] = [{"numeroEditeur": "00004", "typeFichier": "BON_COMMANDE", "formatFichier": "PNG"}]
    return rows


CASES = {
    "ms2-dui-pds-avance": _variety,
    "ms2-dui-pde-solde": lambda: merge(seed_000_rows("00002"), seed_000_rows("00003", "FINMS2000003")),
    "mdv-lgc-solde": lambda: merge(seed_003_liberal_rows(), seed_003_structure_rows()),
}


@pytest.mark.parametrize("fmt", CASES)
@pytest.mark.parametrize("size,batch", [(200, 20_000), (2, 3)])
def test_compiled_template_writes_what_jinja_writes(tmp_path, fmt, size, batch):
    outcome, checked = api.check(workbook(tmp_path / "w.xlsx", CASES[fmt](), fmt))
    assert outcome.accepted and not outcome.rejected, [i.render() for i in outcome.errors]
    definition = checked.definition
    assert build._compiled(definition.template) is not None
    header = build.header_literals(checked)
    records = build.demande_records(checked, outcome.accepted)
    renderer = build.Renderer(definition, header, build.DemandeFrames(checked, outcome.accepted), batch=batch)
    for start in range(0, len(records), size):
        positions = list(range(start, min(start + size, len(records))))
        assert renderer.file(positions) == build.render(definition, header, records[start:start + size]).encode()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_child_rows_in_any_order_render_as_jinja_renders_them(tmp_path, seed):
    """Child rows typed out of their demande's order, and the FINESS Géo of two OG of a demande
    interleaved: each child's text is joined under its parent in row order, as Jinja writes it."""
    rows = merge(_variety(), *(seed_001_rows(f"{i:05d}") for i in range(6, 9)))
    for sheet in ("OG", "FINESS Géo", "Scénarios"):
        random.Random(seed).shuffle(rows[sheet])
    outcome, checked = api.check(workbook(tmp_path / "w.xlsx", rows))
    assert len(outcome.accepted) == 8 and not outcome.rejected
    header = build.header_literals(checked)
    records = build.demande_records(checked, outcome.accepted)
    for batch in (3, 20_000):
        renderer = build.Renderer(checked.definition, header, build.DemandeFrames(checked, outcome.accepted), batch)
        assert renderer.file(list(range(8))) == build.render(checked.definition, header, records).encode()


def test_a_file_of_any_positions_renders_as_jinja_renders_them(tmp_path):
    """Consecutive demandes of one batch are cut out of it; any other positions (a demande
    left out, a file across two batches, none) are taken one by one: the same bytes."""
    rows = merge(_variety(), *(seed_001_rows(f"{i:05d}") for i in range(6, 12)))
    outcome, checked = api.check(workbook(tmp_path / "w.xlsx", rows))
    assert len(outcome.accepted) == 11 and not outcome.rejected
    header = build.header_literals(checked)
    records = build.demande_records(checked, outcome.accepted)
    renderer = build.Renderer(checked.definition, header, build.DemandeFrames(checked, outcome.accepted), batch=4)
    chance = random.Random(19)
    cases = [[], [0, 1, 2, 3], [4, 5], [3, 4, 5], [0, 2, 3], [10], list(range(11))]
    cases += [sorted(chance.sample(range(11), chance.randint(1, 11))) for _ in range(30)]
    for positions in cases:
        expected = build.render(checked.definition, header, [records[p] for p in positions]).encode()
        assert renderer.file(positions) == expected, positions


@pytest.mark.parametrize("body", ['"n": {{ loop.index }}, "x": {{ d.x }}', '"x": {{ d.x }}'])
@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_document_joins_the_demandes_texts_as_jinja_does(tmp_path, body, count):
    """Compiled.document with and without loop.index in the demande's body."""
    source = ('{"a": {{ entete.a }}, "l": [\n{% for d in demandes %}\n  {' + body
              + '}{{ "," if not loop.last }}\n{% endfor %}\n], "b": {{ entete.b }}}\n')
    (tmp_path / "t.j2").write_text(source)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(tmp_path), trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    template = env.get_template("t.j2")
    compiled = fastrender.compile_template(template)
    assert compiled is not None and compiled.numbered == ("loop.index" in body)
    header, values = {"a": "1", "b": '"é"'}, ['"v"', "null", "2.50"][:count]
    before, after = compiled.expressions(pl.col)
    texts = pl.DataFrame({"x": values}, schema={"x": pl.String}).select(
        before.alias("a"), (after if after is not None else pl.lit(None, pl.String)).alias("b"))
    written = compiled.document(header, texts["a"].cast(pl.Binary).to_list(),
                                texts["b"].cast(pl.Binary).to_list() if compiled.numbered else None)
    assert written == template.render(entete=header, demandes=[{"x": v} for v in values]).encode()


@st.composite
def _sheet_rows(draw):
    """(numeroEditeur of each row, the accepted numeros): often each accepted demande's rows
    together and in order, as in a workbook without rejections; else anything."""
    numeros = draw(st.lists(st.sampled_from("abcde"), unique=True, max_size=5))
    if draw(st.booleans()):
        rows = [n for n in numeros for _ in range(draw(st.integers(1, 3)))]
    else:
        rows = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e", None]), max_size=12))
    return rows, numeros


@given(_sheet_rows())
@settings(max_examples=300, deadline=None)
def test_the_rows_of_each_demande_get_the_position_the_join_gives_them(case):
    rows, numeros = case
    frame = pl.DataFrame({build.NE: rows, "row": range(len(rows))}, schema={build.NE: pl.String, "row": pl.Int64})
    positions = pl.DataFrame({build.NE: numeros, build._POSITION: range(len(numeros))},
                             schema={build.NE: pl.String, build._POSITION: pl.Int64})
    expected = frame.join(positions, on=build.NE, how="inner", maintain_order="left")
    assert build._positioned(frame, positions).equals(expected)


@pytest.mark.parametrize("fmt", CASES)
def test_json_literals_are_what_json_writes(tmp_path, fmt):
    """Values of the kinds quoted without JSON-encoding (build._PLAIN_KINDS) included."""
    outcome, checked = api.check(workbook(tmp_path / "w.xlsx", CASES[fmt](), fmt))
    definition = checked.definition
    for sheet in (definition.header, *definition.sheets):
        frame = checked.frames[sheet.name]
        literals = frame.select(build.json_literal(definition, sheet, b).alias(b) for b in sheet.balises)
        for b in sheet.balises:
            values = [v if not isinstance(v, Decimal) else f"{v:.2f}" for v in frame[b].to_list()]
            expected = [orjson.dumps(v).decode() if sheet.by_balise[b].kind not in ("amount", "integer")
                        or v is None else str(v) for v in values]
            assert literals[b].to_list() == expected, (sheet.name, b)


@pytest.mark.parametrize("sheet,balise", [("OG", "nomResponsableOG"), ("FINESS Géo", "FINESSGeo"),
                                           ("Demandes", "montantSegurHT")])
def test_a_value_without_json_literal_is_rendered_by_jinja_even_in_a_child_row(tmp_path, monkeypatch, sheet, balise):
    """A null where a JSON literal belongs (a bug upstream) must not vanish from the file: the
    batch that holds it is rendered by Jinja, which writes it as it is; the other batches stay compiled."""
    outcome, checked = api.check(workbook(tmp_path / "w.xlsx", _variety()))
    definition = checked.definition
    _without_literal(monkeypatch, sheet, balise, "00003")
    header = build.header_literals(checked)
    records = build.demande_records(checked, outcome.accepted)
    renderer = build.Renderer(definition, header, build.DemandeFrames(checked, outcome.accepted), batch=2)
    jinja, render = [], build.render
    monkeypatch.setattr(build, "render", lambda *a: jinja.append(a[2]) or render(*a))
    assert renderer.file([0, 1]) == render(definition, header, records[:2]).encode()
    assert not jinja  # compiled
    # a file across that compiled batch and the batch of 00003, rendered by Jinja
    assert renderer.file([1, 2]) == render(definition, header, records[1:3]).encode()
    assert renderer.file([2, 3]) == render(definition, header, records[2:4]).encode()
    assert jinja == [records[1:3], records[2:4]] and b"None" in renderer.file([2, 3])


def _without_literal(monkeypatch, sheet: str, balise: str, numero: str) -> None:
    """`build.json_literal` of `balise` of `sheet` is null for demande `numero` (a bug upstream)."""
    real = build.json_literal

    def broken(definition, s, b):
        literal = real(definition, s, b)
        return pl.when(pl.col("numeroEditeur") == numero).then(None).otherwise(literal) \
            if (s.name, b) == (sheet, balise) else literal

    monkeypatch.setattr(build, "json_literal", broken)


def test_a_value_without_json_literal_in_a_loop_other_demandes_lack_is_rendered_by_jinja(tmp_path, monkeypatch):
    """The RPPS of a liberal demande, of which a structure's demande has none: the loop's texts
    are joined to the demandes that have items, and the null one still sends its batch to Jinja."""
    outcome, checked = api.check(workbook(tmp_path / "w.xlsx", CASES["mdv-lgc-solde"](), "mdv-lgc-solde"))
    assert outcome.accepted == ["00002", "00001"]
    _without_literal(monkeypatch, "RPPS", "liberalRPPS", "00002")
    header = build.header_literals(checked)
    records = build.demande_records(checked, outcome.accepted)
    renderer = build.Renderer(checked.definition, header, build.DemandeFrames(checked, outcome.accepted), batch=1)
    jinja, render = [], build.render
    monkeypatch.setattr(build, "render", lambda *a: jinja.append(a[2]) or render(*a))
    assert renderer.file([1]) == render(checked.definition, header, records[1:]).encode()
    assert renderer.file([0]) == render(checked.definition, header, records[:1]).encode()
    assert jinja == [records[:1]] and b"None" in renderer.file([0])


def test_the_template_compiles_into_loops_over_the_child_sheets():
    """Each `{% for %}` over a child sheet becomes a Loop whose items are rendered flat, row by
    row, then joined per parent: the layout still comes from the template alone."""
    compiled = build._compiled(all_formats()["ms2-dui-pds-avance"].template)
    loops = {loop.attr: loop for loop in fastrender.loops(compiled.demande)}
    assert list(loops) == ["og", "attachments", "scenarios"]
    (geos,) = fastrender.loops(loops["og"].body)
    assert (geos.attr, geos.body, geos.sep, geos.after) == ("finess_geos", (fastrender.Field("FINESSGeo"),), ", ", "")
    assert (loops["og"].sep, loops["og"].after) == (",", "\n")
    assert fastrender.Field("FINESSJuridique") in loops["og"].body and fastrender.Field("og") not in compiled.demande
    frame = pl.DataFrame({"k": [1, 1, 2], "t": ["a", "b", "c"]}).group_by("k", maintain_order=True).agg("t")
    assert frame.select(geos.joined(pl.col("t")))["t"].to_list() == ["a, b", "c"]


@pytest.mark.parametrize("source", [
    "{% for d in demandes %}{% if d.x %}1{% endif %}{% endfor %}",  # a test
    "{% for d in demandes %}{{ d.x | upper }}{% endfor %}",  # a filter
    "{% for d in demandes %}{% for o in d.og %}{{ d.x }}{% endfor %}{% endfor %}",  # an outer variable
    "{% for d in demandes %}{{ loop.first }}{% endfor %}",
    "{{ entete.a }}",  # no loop over demandes
])
def test_other_templates_fall_back_to_jinja(source):
    env = jinja2.Environment(loader=jinja2.DictLoader({"t.j2": source}))
    template = env.get_template("t.j2")
    template.filename = "t.j2"
    assert fastrender.compile_template(template) is None


def _stricter_schema(monkeypatch, change):
    """The format's schema as `change(schema)` makes it: a real refusal, which the second
    process sees too (the schema is what it is given)."""
    real = schema.json_schema

    def stricter(format_id):
        document = copy.deepcopy(real(format_id))
        change(document)
        return document

    monkeypatch.setattr(schema, "json_schema", stricter)


@pytest.mark.parametrize("in_second_process", [False, True])
def test_a_pattern_the_last_guard_refuses_is_said_as_the_schema_describes_it(tmp_path, monkeypatch, in_second_process):
    """The last guard showed a « pattern » refusal as its raw regex; it says what the schema's
    hints describe, in this process and in the second one alike (the schema carries them)."""
    def numero_of_six(document):
        ne = document["properties"]["lignesImport"]["items"]["properties"]["numeroEditeur"]
        ne["allOf"] = [{"pattern": "^[0-9]{6}$"}]
        document["x-formes-attendues"]["^[0-9]{6}$"] = "6 chiffres"

    _stricter_schema(monkeypatch, numero_of_six)
    monkeypatch.setattr(concurrency, "PARALLEL_FROM", 0 if in_second_process else 10**9)
    outcome = api.convert(workbook(tmp_path / "w.xlsx", seed_001_rows()), tmp_path / "out", date(2024, 3, 12))
    assert [i.code for i in outcome.errors] == ["controle_schema"]
    assert 'demande 00001, balise « numeroEditeur » : "00001" n\'a pas la forme attendue (6 chiffres)' \
        in outcome.errors[0].message
    assert "[0-9]" not in outcome.errors[0].message


@pytest.mark.parametrize("in_second_process", [False, True])
def test_a_demande_refused_by_the_schema_is_left_out_and_the_files_close_up(tmp_path, monkeypatch,
                                                                            in_second_process):
    rows = merge(*(seed_001_rows(f"{i:05d}") for i in range(1, 8)))
    path = workbook(tmp_path / "w.xlsx", rows)

    def refuse_00003(document):
        ne = document["properties"]["lignesImport"]["items"]["properties"]["numeroEditeur"]
        ne["not"] = {"const": "00003"}

    _stricter_schema(monkeypatch, refuse_00003)
    monkeypatch.setattr(concurrency, "PARALLEL_FROM", 0 if in_second_process else 10**9)
    definition = all_formats()["ms2-dui-pds-avance"]  # files of 3 demandes
    monkeypatch.setitem(all_formats(), definition.id,
                        replace(definition, limits=replace(definition.limits, max_demandes_per_file=3)))
    outcome = api.convert(path, tmp_path / "out", date(2024, 3, 12))
    assert outcome.rejected == ["00003"]
    assert [i.code for i in outcome.errors] == ["controle_schema"]
    assert 'demande 00003, balise « numeroEditeur » : "00003" n\'est pas permis ici' in outcome.errors[0].message
    assert outcome.accepted == ["00001", "00002", "00004", "00005", "00006", "00007"]
    files = [[(line["numLigne"], line["numeroEditeur"]) for line in orjson.loads(f.read_bytes())["lignesImport"]]
             for f in outcome.files]
    assert files == [[(1, "00001"), (2, "00002"), (3, "00004")], [(1, "00005"), (2, "00006"), (3, "00007")]]
    with Ledger(outcome.registre, create=False) as book:  # what the ledger keeps is what the files hold
        kept = [book.demande(r) for r in book.db.execute("SELECT * FROM demandes ORDER BY id")]
    assert kept == [line for f in outcome.files for line in orjson.loads(f.read_bytes())["lignesImport"]]
    # the files checked ahead and then planned again left no temporary file behind
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        *(f.name for f in outcome.files), "erreurs-w.xlsx"]


def test_the_ledgers_facts_are_one_query_per_conversion_over_the_accepted_demandes(tmp_path, monkeypatch):
    """Issue #20: the facts the ledger keeps of each demande (montant, FINESS, RPPS) were looked up
    through the render side's DemandeFrames, a batch at a time; they are computed once, from the
    checked frames, for the accepted demandes, and they are what the deposit files hold."""
    rows = merge(*(seed_001_rows(f"{i:05d}") for i in range(1, 8)))
    rows["Demandes"][2]["montantSegurHT"] = "douze"  # 00003 rejected
    rows["FINESS Géo"][2]["FINESSGeo"] = rows["Scénarios"][2]["FINESSGeo"] = "010000024"  # 00002's own FINESS
    definition = all_formats()["ms2-dui-pds-avance"]
    monkeypatch.setitem(all_formats(), definition.id,
                        replace(definition, limits=replace(definition.limits, max_demandes_per_file=2)))
    asked = []
    lookup = facts.demande_lookup
    monkeypatch.setattr(facts, "demande_lookup",
                        lambda *a: asked.append((*a[2:], threading.current_thread().name)) or lookup(*a))
    outcome = api.convert(workbook(tmp_path / "w.xlsx", rows), tmp_path / "out", date(2024, 3, 12))
    assert outcome.rejected == ["00003"] and len(outcome.files) == 3
    # in a thread of its own (issue #19), from before the ledger is checked: the demandes the
    # workbook accepts (those the ledger refuses have facts nobody asks for)
    assert [(list(numeros), thread) for numeros, thread in asked] == [(outcome.accepted, "xl2segur-check")]
    with Ledger(outcome.registre, create=False) as book:
        kept = [tuple(row) for row in book.db.execute("SELECT numero_editeur, montant, finess, rpps FROM demandes ORDER BY id")]
    lines = [line for f in outcome.files for line in orjson.loads(f.read_bytes())["lignesImport"]]
    assert kept == [facts[:4] for facts in imports._records(definition, lines)]
    assert kept[1][2] == '["010000024","234567891","345678912"]'


def test_a_header_the_schema_refuses_writes_no_file(tmp_path, monkeypatch):
    path = workbook(tmp_path / "w.xlsx", merge(seed_001_rows("00001"), seed_001_rows("00002")))
    _stricter_schema(monkeypatch, lambda document: document["properties"]["SIRET"].update({"const": "0"}))
    outcome = api.convert(path, tmp_path / "out", date(2024, 3, 12))
    assert outcome.files == [] and outcome.accepted == []
    assert outcome.rejected == ["00001", "00002"]
    assert {i.code for i in outcome.errors} == {"controle_schema"} and "SIRET" in outcome.errors[0].message
    assert not list((tmp_path / "out").glob("JSON-*.json"))


@pytest.mark.parametrize("shape", ["texte", "excel"])
def test_the_benchmark_generator_makes_a_valid_workbook(tmp_path, shape):
    bench = _bench()
    path = tmp_path / "bench.xlsx"
    assert bench.generate(path, 50, shape=shape) == 0
    outcome = api.convert(path, tmp_path / "out", date(2024, 3, 12))
    assert outcome.demandes == 50 and len(outcome.accepted) == 50
    assert outcome.errors == [] and outcome.error_workbook is None
    assert len(outcome.files) == 1


def test_the_benchmark_excel_shape_is_typed_as_excel_types_it(tmp_path):
    """Issue #19: numbers as numbers, booleans as TRUE/FALSE, dates as dates; 1 OG and 2 ESMS per demande."""
    import openpyxl

    bench = _bench()
    path = tmp_path / "bench.xlsx"
    bench.generate(path, 20, shape="excel")
    book = openpyxl.load_workbook(path, read_only=True)
    demandes = list(book["Demandes"].iter_rows(min_row=2, values_only=True))
    assert {type(row[1]).__name__ for row in demandes} == {"datetime"}  # dateCommande
    assert {type(row[3]) for row in demandes} == {float} and {type(row[4]) for row in demandes} == {bool}
    scenarios = list(book["Scénarios"].iter_rows(min_row=2, values_only=True))
    assert {type(row[3]) for row in scenarios} == {bool}  # isMaitreId
    assert len(list(book["OG"].iter_rows(min_row=2))) == 20 and len(scenarios) == 40
    outcome = api.convert(path, tmp_path / "out", date(2024, 3, 12))
    deposited = orjson.loads(outcome.files[0].read_bytes())["lignesImport"]
    first = bench.generate_rows(20, shape="excel")[0]["Demandes"][0]
    assert deposited[0]["commande"]["dateCommande"] == first["dateCommande"].strftime("%d/%m/%Y")
    assert deposited[0]["commande"]["montantSegurHT"] == first["montantSegurHT"]
    assert deposited[0]["beneficiaires"]["isMandataire"] is first["isMandataire"]


def test_the_benchmark_times_the_command_as_users_run_it(tmp_path):
    """Issue #19: the whole `xl2segur convertir` process, its memory and its second process's."""
    bench = _bench()
    path = tmp_path / "bench.xlsx"
    bench.generate(path, 30, shape="excel")
    measured = bench.measure_cli(path)
    assert measured["code_retour_cli"] == 0 and measured["cli_s"] > 0
    assert 30 < measured["pic_rss_cli_mio"] < 1024
    assert measured["lignes_affichees"] < 40


def test_the_benchmark_never_times_an_entry_point_users_no_longer_run(tmp_path, capsys):
    """A script pip wrote before `converter.launch:main` (an old editable install) is not the
    command users run: the benchmark runs `python -m converter` instead, and says so."""
    bench = _bench()
    old, current = tmp_path / "ancien" / "xl2segur", tmp_path / "actuel" / "xl2segur"
    for script, entry in ((old, "converter.cli"), (current, "converter.launch")):
        script.parent.mkdir()
        script.write_text(f"#!/usr/bin/python3\nimport sys\nfrom {entry} import main\nsys.exit(main())\n")
    assert bench._command(current) == [str(current)]
    assert bench._command(old) == [sys.executable, "-m", "converter"]
    assert "pip install -e ." in capsys.readouterr().err
    assert bench._command(tmp_path / "absent") == [sys.executable, "-m", "converter"]


def test_the_benchmark_generator_rejects_the_fraction_asked(tmp_path):
    bench = _bench()
    path = tmp_path / "bench.xlsx"
    assert bench.generate(path, 50, rejets=0.1) == 5
    outcome = api.convert(path, tmp_path / "out", date(2024, 3, 12))
    assert len(outcome.rejected) == 5 and len(outcome.accepted) == 45
    assert {i.code for i in outcome.errors} <= {"finess_invalide", "obligatoire", "parent_inconnu"}
    assert outcome.error_workbook is not None and outcome.error_workbook.is_file()


def _shown(delay: float) -> str:
    """What a progress line wrote, once it showed « 25 % » (at most 5 s), then stopped."""
    stream = io.StringIO()
    line = StatusLine(stream, delay=delay, tick=0.01).start()
    line("Écriture des fichiers de dépôt", 1, 4)
    deadline = time.monotonic() + 5
    while "25 %" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    line.stop()
    return stream.getvalue()


def test_the_progress_line_waits_then_erases_itself():
    shown = _shown(delay=0.05)
    assert "\rÉcriture des fichiers de dépôt… 25 %" in shown
    assert shown.endswith("\r")  # the line is blanked out at the end


def test_the_progress_line_fits_a_narrow_terminal(monkeypatch):
    """Longer than the terminal, the line wrapped and each redraw (`\\r` goes back to the start of
    the last screen line only) left one more line on the screen, five a second."""
    monkeypatch.setenv("COLUMNS", "40")
    drawn = [text for text in _shown(delay=0.01).split("\r") if text.strip()]
    assert drawn and all(len(text) < 40 for text in drawn), drawn
    assert all(text.startswith("Écriture des fichiers") and " 25 % (" in text for text in drawn)


def test_no_progress_when_quiet_or_not_a_terminal():
    with progress_line(quiet=True, force=True) as progress:
        assert progress is None
    with progress_line(stream=io.StringIO()) as progress:  # not a terminal
        assert progress is None
    quick = io.StringIO()
    with progress_line(stream=quick, force=True) as progress:  # a run shorter than a second
        progress("Lecture du classeur", 0, 0)
    assert quick.getvalue() == ""


@settings(max_examples=25, deadline=None)
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=6))
def test_a_kept_compressor_per_thread_packs_the_bytes_a_new_one_packs(contents):
    """ledger.pack keeps one compressor per thread: the ledger's blobs stay those a compressor
    made for each file writes (older ledgers compare them, `unpack` reads them)."""
    def packed_in_a_thread() -> list[bytes]:
        done: list[bytes] = []
        worker = threading.Thread(target=lambda: done.extend(ledger.pack(c) for c in contents * 2))
        worker.start()
        worker.join()
        return done

    fresh = [zstandard.ZstdCompressor(level=1).compress(c) for c in contents * 2]
    assert [ledger.pack(c) for c in contents * 2] == fresh
    assert packed_in_a_thread() == packed_in_a_thread() == fresh
    assert [ledger.unpack(p) for p in fresh] == contents * 2


def test_the_second_process_checks_files_and_a_dead_one_is_replaced_by_checking_here():
    file_schema = {"type": "object", "properties": {"lignesImport": {"type": "array", "items": {"required": ["n"]}}}}
    good, bad = b'{"lignesImport": [{"n": 1}]}', b'{"lignesImport": [{"n": 1}, {}]}'
    with concurrency.FileChecker(file_schema, parallel=True) as checker:
        assert checker.worker is not None
        first, second = checker.submit(good), checker.submit(bad)
        checked = checker.result(first, good)
        assert checked.errors == [] and ledger.unpack(checked.packed) == good  # packed as the ledger keeps it
        assert [index for index, _ in checker.result(second, bad).errors] == [1]
        checker.worker.kill()
        checker.worker.wait()
        late = checker.submit(bad)
        assert [index for index, _ in checker.result(late, bad).errors] == [1]


def test_with_a_folder_the_files_reach_the_second_process_by_the_disk(tmp_path):
    """Issue #19: 200 to 500 MB of files through the pipe cost 1.7 s of CPU at 100,000 demandes.
    A thread writes each file under its temporary name, the pipe carries its path; the valid
    one is the caller's (flushed, packed), the invalid one is gone at once, never named."""
    file_schema = {"type": "object", "properties": {"lignesImport": {"type": "array", "items": {"required": ["n"]}}}}
    good, bad = b'{"lignesImport": [' + b", ".join([b'{"n": 1}'] * 10_000) + b"]}", b'{"lignesImport": [{}]}'
    sent: list[int] = []
    with concurrency.FileChecker(file_schema, parallel=True, folder=tmp_path) as checker:
        pipe = checker.send

        class Counted:
            def send_bytes(self, data: bytes) -> None:
                sent.append(len(data))
                pipe.send_bytes(data)

            def close(self) -> None:
                pipe.close()

        checker.send = Counted()
        first, second = checker.submit(good), checker.submit(bad)
        checked = checker.result(first, good)
        assert checked.written.read_bytes() == good and ledger.unpack(checked.packed) == good
        assert [index for index, _ in checker.result(second, bad).errors] == [0]
        assert sorted(tmp_path.glob(".xl2segur-tmp-*")) == [checked.written]
    assert len(sent) == 2 and max(sent) < 200  # two paths
    assert sorted(tmp_path.glob(".xl2segur-tmp-*")) == [checked.written]  # the caller's to name, then remove


def test_a_file_the_second_process_cannot_read_is_checked_and_written_here(tmp_path, monkeypatch):
    file_schema = {"type": "object", "properties": {"lignesImport": {"type": "array", "items": {"required": ["n"]}}}}
    good, bad = b'{"lignesImport": [{"n": 1}]}', b'{"lignesImport": [{}]}'
    written_ahead = concurrency.write_temporary

    def gone_before_read(folder: Path, data: bytes, synced: bool = True) -> Path:
        written = written_ahead(folder, data, synced)
        if not synced:
            written.unlink()
        return written

    monkeypatch.setattr(concurrency, "write_temporary", gone_before_read)
    with concurrency.FileChecker(file_schema, parallel=True, folder=tmp_path) as checker:
        first, second = checker.submit(good), checker.submit(bad)
        checked = checker.result(first, good)
        assert checked.written.read_bytes() == good and ledger.unpack(checked.packed) == good
        assert [index for index, _ in checker.result(second, bad).errors] == [0]
        assert checker.worker.poll() is None  # still serving
    assert sorted(tmp_path.glob(".xl2segur-tmp-*")) == [checked.written]


def test_a_file_that_is_not_json_is_refused_whole_and_the_second_process_goes_on(tmp_path):
    file_schema = {"type": "object", "properties": {"lignesImport": {"type": "array", "items": {"required": ["n"]}}}}
    broken, good = b'{"lignesImport": [{"n": 1}, {"n": "a}]}', b'{"lignesImport": [{"n": 1}]}'
    with concurrency.FileChecker(file_schema, parallel=True, folder=tmp_path) as checker:
        first, second = checker.submit(broken), checker.submit(good)
        [(index, why)] = first.result(timeout=30).errors  # not a wait without end
        assert index is None and why.startswith("JSON illisible : ")
        assert checker.result(second, good).written.read_bytes() == good
    assert [p.read_bytes() for p in tmp_path.glob(".xl2segur-tmp-*")] == [good]


def _conversion(tmp_path: Path, book: Path, name: str) -> tuple[dict[str, bytes], list[tuple]]:
    """The deposit files (name → bytes) and what the ledger holds of them, dates and paths aside."""
    out = tmp_path / name
    outcome = api.convert(book, out, date(2024, 3, 12), registre=tmp_path / f"{name}.sqlite")
    with Ledger(outcome.registre, create=False) as kept:
        files = [tuple(r) for r in kept.db.execute(
            "SELECT id, nom, format, nature, numero_ans, siret, date_depot, rang, contenu, en_attente FROM fichiers")]
        demandes = [tuple(r) for r in kept.db.execute("SELECT * FROM demandes ORDER BY id")]
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}, files + demandes


@pytest.mark.parametrize("log", [False, True])
def test_the_serial_path_writes_the_same_bytes_as_the_concurrent_one(tmp_path, monkeypatch, log):
    """concurrency.SERIAL: no second process, no recording thread, no file rendered ahead, no sheet
    scanned ahead, one reader, no checkpointing thread; the deposit files and the ledger are those
    of the concurrent path (second process and second reader included), with a shared ledger
    (a rollback journal, as in the other tests) or one of this machine (`log`: WAL)."""
    if log:
        monkeypatch.delenv(ledger.ENVIRONMENT)
    book = workbook(tmp_path / "w.xlsx", many_demandes(450))  # three files, the last one short
    monkeypatch.setattr(concurrency, "PARALLEL_FROM", 0)
    monkeypatch.setattr(concurrency, "TWO_READERS_FROM", 0)
    concurrent = _conversion(tmp_path, book, "concurrent")
    monkeypatch.setattr(concurrency, "SERIAL", True)

    def refused(*args, **kwargs):
        raise AssertionError("the serial path starts no second process and no recording thread")

    monkeypatch.setattr(concurrency, "_in_background", refused)
    monkeypatch.setattr(concurrency.subprocess, "Popen", refused)
    monkeypatch.setattr(concurrency, "ThreadPoolExecutor", refused)  # the sheets scanned ahead
    serial = _conversion(tmp_path, book, "serial")
    assert len(concurrent[0]) == 3 and serial == concurrent


def test_the_second_process_starts_without_polars():
    """`python -m converter.concurrency` is the second process: it must start light."""
    import os
    import subprocess
    import sys

    code = "import sys, converter.concurrency; sys.exit('polars' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode == 0


def test_started_work_runs_in_a_thread_of_its_own_or_when_asked(monkeypatch):
    """concurrency.started (the sheets checked while the next one loads, the links of each
    sheet): a thread of its own; SERIAL, nothing runs until the result is asked for; a failure
    is raised by result()."""
    import threading

    ran = []

    def work():
        ran.append(threading.current_thread().name)
        return len(ran)

    assert concurrency.started(work).result() == 1 and ran == ["xl2segur-check"]
    monkeypatch.setattr(concurrency, "SERIAL", True)
    later = concurrency.started(work)
    assert len(ran) == 1 and later.result() == 2 and ran[1] == threading.current_thread().name
    with pytest.raises(ZeroDivisionError):
        concurrency.started(lambda: 1 / 0).result()


def test_recording_in_the_background_stops_at_the_first_failure_and_discards_the_rest():
    consumed, discarded = [], []

    def consume(item):
        if item == 3:
            raise ValueError("disque plein")
        consumed.append(item)

    with pytest.raises(ValueError, match="disque plein"):
        concurrency._in_background(iter(range(10)), consume, discarded.append, depth=2)
    assert consumed == [0, 1, 2]
    assert 3 in discarded and not set(consumed) & set(discarded)
    assert set(consumed) | set(discarded) <= set(range(10))

    def produce():  # the producer fails (a file it could not write): what was handed over is consumed
        yield from (0, 1)
        raise OSError("lecture")

    consumed.clear()
    with pytest.raises(OSError, match="lecture"):
        concurrency._in_background(produce(), consumed.append, discarded.append)
    assert consumed == [0, 1]


def test_recording_in_the_background_lets_the_producer_run_ahead_and_ctrl_c_drops_what_waits():
    """Issue #19: files come in bursts, and the producer waited on a consumer four files behind.
    Now a burst waits in the queue; on Ctrl-C the file in hand is recorded whole and those
    waiting are discarded (no name, no ledger row), not recorded one by one while the user waits."""
    import threading

    in_hand, burst = threading.Event(), threading.Event()
    consumed, discarded = [], []

    def consume(item):
        in_hand.set()
        burst.wait(timeout=1)  # behind until the whole burst is produced
        consumed.append(item)

    def produce():
        yield 0
        in_hand.wait(timeout=10)
        yield from range(1, 30)
        burst.set()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        concurrency._in_background(produce(), consume, discarded.append)
    assert burst.is_set()
    assert consumed == [0] and sorted(discarded) == list(range(1, 30))


def _grow(db, rows: int) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS t (x BLOB)")
    for _ in range(rows):
        db.execute("INSERT INTO t VALUES (randomblob(4000))")  # one commit, one page each


def test_the_ledgers_log_is_checkpointed_by_a_thread_of_its_own_while_files_are_recorded(tmp_path, monkeypatch):
    """Issue #19: a checkpoint waits on the disk, and the recording thread spent a third of its
    time on them. Inside `checkpointed_aside` the commits do not checkpoint; a thread does,
    with a connection of its own, and the ledger file holds the commits before the block ends."""
    monkeypatch.setattr(concurrency, "CHECKPOINT_EVERY", 0.01)
    monkeypatch.delenv(ledger.ENVIRONMENT)  # a ledger of one machine: WAL
    with Ledger(tmp_path / "xl2segur.sqlite") as book:
        assert not book.shared
        before = book.path.stat().st_size
        with concurrency.checkpointed_aside(book.path, book.db, not book.shared):
            assert book.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
            _grow(book.db, 50)
            deadline = time.monotonic() + 10
            while book.path.stat().st_size < before + 50 * 4000 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert book.path.stat().st_size >= before + 50 * 4000  # in the ledger file, not only in the log
        assert book.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        assert [t.name for t in threading.enumerate() if t.name == "xl2segur-checkpoint"] == []


def test_the_ledgers_log_starts_again_from_its_beginning_once_past_its_bound(tmp_path, monkeypatch):
    """A passive checkpoint never catches up with commits every few milliseconds: the log grew
    by every page of the run (85 MB at 100,000 demandes), which SQLite then took a tenth of a
    second to delete. Past RESTART_LOG_ABOVE, the checkpoint restarts it: it stays bounded, and
    every commit is in the ledger file at the end. Another connection's writes meanwhile wait
    at most their busy timeout, never fail."""
    monkeypatch.setattr(concurrency, "CHECKPOINT_EVERY", 0.005)
    monkeypatch.setattr(concurrency, "RESTART_LOG_ABOVE", 64 << 10)
    monkeypatch.delenv(ledger.ENVIRONMENT)
    log = tmp_path / "xl2segur.sqlite-wal"
    with Ledger(tmp_path / "xl2segur.sqlite") as book, \
            contextlib.closing(sqlite3.connect(book.path, timeout=30, isolation_level=None)) as other:
        book.db.execute("CREATE TABLE t (x BLOB)")
        largest = 0
        with concurrency.checkpointed_aside(book.path, book.db, not book.shared):
            for i in range(400):
                (book.db if i % 4 else other).execute("INSERT INTO t VALUES (randomblob(4000))")
                largest = max(largest, log.stat().st_size)
                time.sleep(0.001)  # between two files, the recording thread lets go of the lock
        assert largest < 800 << 10  # without the restarts: 400 pages of 4 kB and more, 1.6 MB
        assert book.db.execute("SELECT count(*) FROM t").fetchone()[0] == 400
    with contextlib.closing(sqlite3.connect(tmp_path / "xl2segur.sqlite")) as db:  # the log gone with the closing
        assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 400


@pytest.mark.parametrize("serial", [True, False])
def test_serial_or_without_a_log_the_commits_checkpoint_as_always(tmp_path, monkeypatch, serial):
    """SERIAL (a ledger in WAL mode), or a shared ledger (a rollback journal, no log): no thread."""
    monkeypatch.setattr(concurrency, "SERIAL", serial)
    if serial:
        monkeypatch.delenv(ledger.ENVIRONMENT)
    monkeypatch.setattr(concurrency.threading, "Thread", None)  # no thread started
    with Ledger(tmp_path / "xl2segur.sqlite") as book:
        assert book.shared is not serial
        with concurrency.checkpointed_aside(book.path, book.db, not book.shared):
            assert book.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
            _grow(book.db, 3)


_SLOW_CONVERSION = """
import sys, time
from converter import cli, concurrency, ledger
concurrency.PARALLEL_FROM = 0  # the second process, as for a large workbook
real = ledger.Ledger.record_pending
def slow(self, *args):
    time.sleep(0.2)
    return real(self, *args)
ledger.Ledger.record_pending = slow
sys.argv = ["xl2segur", "convertir", sys.argv[1], "-o", sys.argv[2]]
cli.main()
"""


def test_ctrl_c_in_the_terminal_leaves_only_recorded_files(tmp_path):
    """Ctrl-C reaches the whole process group, the second process included: the conversion
    stops with 130, every deposit file left is in the ledger, no temporary file stays."""
    import os
    import signal
    import sqlite3
    import subprocess
    import sys

    path = workbook(tmp_path / "w.xlsx", merge(*(seed_001_rows(f"{i:05d}") for i in range(1, 2001))))  # ten files
    out = tmp_path / "depot"
    run = subprocess.Popen([sys.executable, "-c", _SLOW_CONVERSION, str(path), str(out)], start_new_session=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while len(list(out.glob("JSON-*.json"))) < 2 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(run.pid, signal.SIGINT)
    shown, _ = run.communicate(timeout=60)
    assert run.returncode == 130, shown
    assert "Conversion interrompue" in shown and "Traceback" not in shown
    written = sorted(p.name for p in out.glob("JSON-*.json"))
    assert 2 <= len(written) < 10
    with sqlite3.connect(default_path()) as db:
        assert sorted(name for (name,) in db.execute("SELECT nom FROM fichiers")) == written
    assert list(out.glob(".xl2segur-tmp-*")) == []


@pytest.mark.parametrize("n,listed", [(6, 6), (8, 5)])
def test_the_summary_lists_the_first_files_then_a_count_and_the_folder(tmp_path, monkeypatch, n, listed):
    """Issue #19: 500 deposit files made a summary of 500 paths; it stays a few lines."""
    definition = all_formats()["ms2-dui-pds-avance"]  # files of 1 demande
    monkeypatch.setitem(all_formats(), definition.id,
                        replace(definition, limits=replace(definition.limits, max_demandes_per_file=1)))
    source = workbook(tmp_path / "w.xlsx", many_demandes(n))
    result = CliRunner().invoke(app, ["convertir", str(source), "-o", str(tmp_path / "d"), "--date-depot", "20240603"])
    assert result.exit_code == 0, result.output
    paths = [line.strip() for line in result.output.splitlines() if line.startswith("  ") and line.endswith(".json")]
    assert paths == [str(tmp_path / "d" / f"JSON-0123456789-20240603-{k:03d}.json") for k in range(1, listed + 1)]
    assert f"Fichiers de dépôt écrits : {n}" in result.output
    others = f"  … et {n - listed} autres fichiers de dépôt dans {tmp_path / 'd'}"
    assert (others in result.output) == (n > listed)
    if n > listed:  # no report asked: where to find them (run again with --rapport, the
        # conversion would write none, its demandes deposited: the report would list none); one asked: it
        assert f"{others} : « xl2segur etat » les nomme tous (feuille « Demandes » de son classeur)" in result.output
        assert not any(line.startswith(others) and "--rapport" in line for line in result.output.splitlines())
        source.rename(tmp_path / "w2.xlsx")
        again = CliRunner().invoke(app, ["convertir", str(tmp_path / "w2.xlsx"), "-o", str(tmp_path / "e"),
                                         "--date-depot", "20240603", "--rapport", str(tmp_path / "r.json"),
                                         "--registre", str(tmp_path / "autre.sqlite")])
        lines = again.output.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("  … et"))
        assert lines[at].endswith("liste complète dans le rapport (écrit ci-dessous)")
        assert lines[-1] == f"Rapport écrit : {tmp_path / 'r.json'}"


def test_a_conversion_imports_neither_pydantic_nor_what_it_does_not_use(tmp_path) -> None:
    """Issue #19: typer 0.29 imported Pydantic for its parameters, and the API xlsxwriter and
    python-stdnum, which a conversion that rejects nothing does not use (0.3 s and more)."""
    code = ("import atexit, sys; from converter.cli import main; sys.argv[1:] = sys.argv[2:]\n"
            "atexit.register(lambda: print(sorted(m for m in ('pydantic', 'xlsxwriter', 'stdnum', 'openpyxl') "
            "if m in sys.modules)))\nmain()")
    run = subprocess.run([sys.executable, "-c", code, "-", "convertir", "samples/ms2-dui-pds-avance.xlsx", "-o",
                          str(tmp_path / "d"), "--registre", str(tmp_path / "r.sqlite"), "--date-depot", "20240603"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "[]"


def test_the_entry_point_starts_the_opening_before_the_heavy_imports() -> None:
    """launch.py starts opening the workbook before Python imports the rest: neither Polars,
    the definitions nor concurrency.py (SQLite, jsonschema-rs, multiprocessing) come first."""
    code = ("import sys, converter.launch\n"
            "print(sorted(m for m in ('polars', 'yaml', 'converter.concurrency', 'converter.formats', "
            "'jsonschema_rs', 'sqlite3', 'multiprocessing') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_the_entry_point_imports_without_collecting_cycles_and_runs_the_command_with() -> None:
    """launch.main: no cyclic garbage collection while Python imports the tool (cli.py, and all it
    imports, before its `main` exists), and what the imports made is set apart from the later
    collections (gc.freeze): some 160 collections walked it again and again, 0.1 to 0.15 s of the
    main thread. The command runs with the collector on."""
    code = ("import atexit, gc, sys\nimport converter.launch as launch\n"
            "importing = []\n"
            "def collected(phase, info):\n"
            "    cli = sys.modules.get('converter.cli')\n"
            "    if phase == 'start' and cli is not None and not hasattr(cli, 'main'):\n"
            "        importing.append(info['generation'])\n"
            "gc.callbacks.append(collected)\n"
            "atexit.register(lambda: print('polars' in sys.modules, len(importing), gc.isenabled(), "
            "gc.get_freeze_count() > 10_000))\n"
            "sys.argv[1:] = ['formats']\nlaunch.main()")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "True 0 True True"


@pytest.mark.parametrize("args,code", [(["formats"], 0), (["convertir", "absent.xlsx"], 2), (["inconnue"], 2)])
@pytest.mark.parametrize("profiled", [False, True])
def test_the_cli_ends_as_sys_exit_without_finalization(tmp_path, args, code, profiled) -> None:
    """cli._leave: the same status and output as Python's own end, the exit functions run; under a
    profiler (pyinstrument, cProfile), Python ends as usual, and the profiler writes its report."""
    program = ("import atexit, sys; atexit.register(print, 'fin'); from converter.cli import main\n"
               f"{'sys.setprofile(lambda *a: None)' if profiled else ''}\n"
               "try:\n    main()\nexcept SystemExit:\n    print('fin de Python')\n    raise")
    run = subprocess.run([sys.executable, "-c", program, *args], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == code, run.stderr
    assert run.stdout.endswith("fin de Python\nfin\n" if profiled else "fin\n") and "Traceback" not in run.stderr
    assert ("fin de Python" in run.stdout) == profiled
    if args == ["formats"]:
        assert run.stdout.splitlines()[0].startswith("hop-pfi-va2-commandes ")

@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.sampled_from(["&", "lt;", "gt;", "amp;", "apos;", "quot;", "a", "<", ";", "é"]), max_size=30))
def test_reading_unescapes_as_saxutils(parts) -> None:
    """reading._unescape, written to spare each start the imports of xml.sax.saxutils."""
    from xml.sax.saxutils import unescape

    from converter import reading

    text = "".join(parts)
    assert reading._unescape(text) == unescape(text)
    entities = {"&apos;": "'", "&quot;": '"'}
    assert reading._unescape(text, entities) == unescape(text, entities)


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="malloc_trim is glibc's")
def test_freed_memory_is_given_back_without_starting_a_process(monkeypatch):
    """ctypes.util.find_library runs ldconfig in a subprocess: a quarter of a second at the end of every read."""
    from converter import reading

    def no_process(*args, **kwargs):
        raise AssertionError("a subprocess was started")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    reading._libc.cache_clear()
    try:
        assert reading._libc() is not None
        reading.release_freed_memory()
    finally:
        reading._libc.cache_clear()


# ------------------------------------------------------------------ the workbook opened ahead (launch.py)


def _reading_opens(monkeypatch) -> list[Path]:
    """The workbooks reading.py opens itself, from now on."""
    opened, real = [], reading._open

    def counted(path: Path, ods: bool = False):
        opened.append(path)
        return real(path, ods)

    monkeypatch.setattr(reading, "_open", counted)
    return opened


@pytest.mark.parametrize("two_readers", [False, True])
def test_the_workbook_the_command_opened_ahead_is_the_one_read(tmp_path, monkeypatch, two_readers):
    book = workbook(tmp_path / "c.xlsx", merge(seed_001_rows("00001"), seed_001_rows("00002")))
    expected = reading.read_workbook(book).frames
    if two_readers:  # both opened ahead
        monkeypatch.setattr(concurrency, "TWO_READERS_FROM", 0)
    opens = _reading_opens(monkeypatch)
    launch.open_ahead(["convertir", "-o", str(tmp_path / "d"), str(book), "--registre", str(tmp_path / "r")])
    frames = reading.read_workbook(book).frames
    assert opens == [] and launch._ahead == {}
    assert frames.keys() == expected.keys() and all(frames[n].equals(f) for n, f in expected.items())
    reading.read_workbook(book)  # taken once: the next read opens it (twice, with two readers)
    assert opens == [book] * (1 + two_readers)


def test_a_workbook_saved_again_or_another_one_is_opened_by_reading(tmp_path, monkeypatch):
    book, other = (workbook(tmp_path / f"{n}.xlsx", seed_001_rows(n)) for n in ("00001", "00002"))
    opens = _reading_opens(monkeypatch)
    launch.open_ahead(["verifier", str(book)])
    workbook(tmp_path / "new.xlsx", seed_001_rows("00003")).replace(book)  # saved again since, as Excel saves
    assert reading.read_workbook(book).frames["Demandes"]["numeroEditeur"].to_list() == ["00003"]
    launch.open_ahead(["verifier", str(book)])
    assert reading.read_workbook(other).frames["Demandes"]["numeroEditeur"].to_list() == ["00002"]
    assert opens == [book, other] and launch._ahead == {}  # the reader of `book` is dropped


def test_a_package_reading_refuses_never_reaches_fastexcel_ahead(tmp_path, monkeypatch):
    from converter import container

    book = workbook(tmp_path / "bombe.xlsx", seed_001_rows())
    with zipfile.ZipFile(book, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/vide.bin", b"\0" * (container.RATIO_FLOOR_BYTES + 1))
    opened = []
    monkeypatch.setattr(launch.fastexcel, "read_excel", lambda *args: opened.append(args))
    launch.open_ahead(["convertir", str(book)])
    assert launch.opened(book) == [] and opened == []


@pytest.mark.parametrize("args,ahead", [
    (["convertir", "{book}"], True), (["--aide", "verifier", "-o", "d", "{book}"], True),
    (["etat", "{book}"], False), (["convertir", "absent.xlsx"], False), (["convertir", "{ods}"], False),
    (["-h"], False), ([], False),
])
def test_the_command_opens_ahead_the_workbook_of_convertir_and_verifier_only(tmp_path, args, ahead):
    book = workbook(tmp_path / "c.xlsx", seed_001_rows())
    (tmp_path / "c.ods").write_bytes(book.read_bytes())
    launch.open_ahead([a.format(book=book, ods=tmp_path / "c.ods") for a in args])
    assert bool(launch._ahead) == ahead
    assert len(launch.opened(book)) == ahead


def test_the_command_waits_for_the_opening_before_it_ends(tmp_path):
    """A thread still inside fastexcel when Python ends would take the process down: `--help`
    ends the command before the workbook is open, and the opening is waited for."""
    program = ("import sys, threading, time; from pathlib import Path; from converter import launch\n"
               "real, marker = launch.fastexcel.read_excel, Path(sys.argv[1])\n"
               "def slow(path):  # still opening when the command is done\n"
               "    for _ in range(200):\n        if not threading.main_thread().is_alive():\n            break\n"
               "        time.sleep(0.05)\n"
               "    reader = real(path)\n    marker.write_text('ouvert')\n    return reader\n"
               "launch.fastexcel.read_excel = slow\nsys.argv[1:] = sys.argv[2:]\nlaunch.main()")
    marker = tmp_path / "ouvert"
    run = subprocess.run([sys.executable, "-c", program, str(marker), "convertir",
                          str(ROOT / "samples" / "ms2-dui-pds-avance.xlsx"), "--help"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0 and "Traceback" not in run.stderr and "CLASSEUR" in run.stdout
    assert marker.read_text() == "ouvert"


def test_the_problems_of_a_wholly_rejected_workbook_share_their_texts(tmp_path):
    """Every column of every demande wrong: each problem repeats the texts of the others (code,
    sheet, balise, message, value); they are held once, and a problem has no dict of its own
    (20,000 such demandes, 927,000 problems: `verifier` peaked at 1.09 GiB, 650 MiB after)."""
    rows = many_demandes(30)
    for sheet, lines in rows.items():
        if sheet != "Entête":
            for line in lines:
                for balise in list(line):
                    line[balise] = "X" + line[balise] if balise == "numeroEditeur" else "?? faux ??"
    outcome, _ = api.check(workbook(tmp_path / "faux.xlsx", rows))
    issues = outcome.issues
    assert len(issues) > 30 * 10 and len(outcome.rejected) == 30
    assert not hasattr(issues[0], "__dict__")
    for attribute in ("code", "message", "sheet", "balise", "value"):
        texts = [getattr(i, attribute) for i in issues if getattr(i, attribute) is not None]
        assert len({id(t) for t in texts}) == len(set(texts)), attribute


def test_the_problems_of_a_rejected_workbook_stay_columns_until_read(tmp_path):
    """A problem was an `Issue` from the check on, held until the command ended: 100,000
    demandes rejected in bulk (~950,000 problems), `verifier` peaked at 0.91 GiB. They stay the
    check's Polars columns; the console makes objects of those it prints, the report a batch at a
    time, and both say what they said."""
    import tracemalloc

    checked, path = _wholly_wrong(tmp_path, 200)[1], tmp_path / "faux.xlsx"
    tracemalloc.start()
    try:
        outcome = api._outcome(path, checked)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    problems = outcome.issues
    assert len(problems) > 200 * 15 and held / len(problems) < 10, held / len(problems)  # 140 octets before
    made = list(problems)
    assert problems[3] == made[3] and problems[-2:] == made[-2:] and problems == made
    assert outcome.errors == [i for i in made if i.is_error] and outcome.warnings == [i for i in made if not i.is_error]
    shown, totals = outcome.issues.first_of_each_code(2)
    codes = [i.code for i in made]
    assert totals == {c: codes.count(c) for c in dict.fromkeys(codes)}
    assert shown == [i for n, i in enumerate(made) if codes[:n].count(i.code) < 2]
    assert outcome.errors.numeros() == {i.numero_editeur for i in made if i.is_error} - {None}


def test_the_rows_of_an_error_workbook_are_held_compactly(tmp_path):
    """The rows echoed in the error workbook were a dict per row, a fresh text per cell: 100,000
    rejected demandes (500,000 rows) held ~550 MiB of them while the workbook was written. A row
    is now its values in a tuple, each column's equal texts shared (a date, VRAI, a FINESS)."""
    import tracemalloc

    rows = many_demandes(600)
    for line in rows["Demandes"]:
        line["dateCommande"] = "31/02/2024"  # every demande rejected
    outcome, checked = api.check(workbook(tmp_path / "rejetees.xlsx", rows))
    assert len(outcome.rejected) == 600
    for name in ("Demandes", "OG"):
        tracemalloc.start()
        try:
            shown = api._display(checked.definition, checked, name, pl.lit(True))
            held = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        columns = len(checked.definition.by_name[name].fields) + 1
        assert len(shown) >= 600 and held / len(shown) < 40 * columns + 100, (name, held / len(shown))
        assert shown[0]["numeroEditeur"] == "00001" and shown[0].get("absente", "-") == "-"


def test_an_error_workbook_of_a_million_problems_holds_no_text_per_problem(tmp_path):
    """The « À corriger » column was made before any sheet was written: a text for each problem,
    each again in its demande's row (590 octets a problem): 927,000 problems, `verifier
    --erreurs` peaked at 1.40 GiB. Each row's is now made as it is written, from where the
    problems are; the writer's peak (rows echoed, xlsxwriter's own) is counted per problem."""
    import tracemalloc

    outcome, checked = _wholly_wrong(tmp_path, 400)
    assert len(outcome.issues) > 400 * 15
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        api.write_error_workbook(checked, outcome, tmp_path, target=tmp_path / "erreurs.xlsx")
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak / len(outcome.issues) < 2400, peak / len(outcome.issues)  # 2,600 before, 2,170 now


def _wholly_wrong(tmp_path: Path, n: int):
    rows = many_demandes(n)
    for sheet, lines in rows.items():
        if sheet != "Entête":
            for line in lines:
                for balise in list(line):
                    if balise != "numeroEditeur":
                        line[balise] = "?? faux ??"
    return api.check(workbook(tmp_path / "faux.xlsx", rows))


@pytest.mark.parametrize("batch", [3, api.REPORT_BATCH])
def test_the_report_written_in_batches_is_the_report_written_whole(tmp_path, monkeypatch, batch):
    monkeypatch.setattr(api, "REPORT_BATCH", batch)
    outcome, _ = _wholly_wrong(tmp_path, 3)
    for shown in (outcome, api.Outcome(workbook=tmp_path / "vide.xlsx")):  # problems, and none
        written = api.write_report(shown, tmp_path / "rapports" / "rapport.json").read_bytes()
        date = orjson.loads(written)["date"]
        assert written == orjson.dumps({**shown.to_dict(), "date": date}, option=orjson.OPT_INDENT_2)


def test_a_report_of_a_million_problems_is_written_a_batch_at_a_time(tmp_path, monkeypatch):
    """`--rapport` made a dict of each problem and the whole text at once: 927,000 problems, a
    report of 344 Mo, some 900 Mio more at the end of `verifier`. A batch of them at a time
    (here 100, 10,000 for real)."""
    import tracemalloc

    monkeypatch.setattr(api, "REPORT_BATCH", 100)
    outcome, _ = _wholly_wrong(tmp_path, 150)
    assert len(outcome.issues) > 150 * 15
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        api.write_report(outcome, tmp_path / "rapport.json")
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak  # 1 Mio: 400 octets a problem for the text alone, and their dicts, before


def test_a_sheet_is_checked_in_memory_as_the_streaming_engine_checks_it(tmp_path, monkeypatch):
    """A sheet's checks collect on Polars' in-memory engine (checks.CHECK_ENGINE: an eighth less
    computing than the streaming engine, Polars 2's default): the same frames and problems as on
    the streaming engine, for valid demandes, wholly wrong ones, and a workbook LibreOffice saved."""
    from converter import checks

    engines: list[str] = []
    collect = pl.LazyFrame.collect
    monkeypatch.setattr(pl.LazyFrame, "collect", lambda self, *a, **k: engines.append(k.get("engine")) or collect(self, *a, **k))
    wrong = many_demandes(20)
    for sheet, lines in wrong.items():
        if sheet != "Entête":
            for line in lines[::2]:
                line.update({b: "?? faux ??" for b in line if b != "numeroEditeur"})
    for path in (workbook(tmp_path / "justes.xlsx", many_demandes(20)), workbook(tmp_path / "fausses.xlsx", wrong),
                 Path(__file__).parent / "corpus" / "libreoffice-erreurs-corrige.xlsx"):
        raw = reading.read_workbook(path)
        for sheet in (raw.definition.header, *raw.definition.sheets):
            engines.clear()
            values, found = checks.check_sheet(raw, sheet)
            assert engines == ["in-memory"]
            with monkeypatch.context() as streaming:
                streaming.setattr(checks, "CHECK_ENGINE", "streaming")
                expected = checks.check_sheet(raw, sheet)
            assert values.equals(expected[0]) and found.equals(expected[1]), (path.name, sheet.name)


def test_the_progress_line_draws_nothing_before_its_first_stage():
    """Started before the command names its first stage (a loaded machine, a short delay), the
    line drew « … (0 s) », a stage without a name; it waits for one."""
    stream = io.StringIO()
    line = StatusLine(stream, delay=0, tick=0.01).start()
    time.sleep(0.1)
    line.stop()
    assert stream.getvalue() == ""
