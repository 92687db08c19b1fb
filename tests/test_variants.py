"""The MS2 variants (« Le même format de fichier JSON est actuellement utilisé pour tous les
types de logiciel d'un même couloir », DTJSONSOLDE-MS2-DUI PDE-VA1 §2.1):
ms2-dui-pde-avance (layout of ms2-dui-pds-avance) and ms2-dui-pds-solde (layout of
ms2-dui-pde-solde), built with `extends:`; and the definition machinery behind them."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import jsonschema
import openpyxl
import pytest
import yaml

from converter import api
from converter.build import layout_constants
from converter.formats import all_formats, get_format
from converter.formats.model import DefinitionError, parse_definition, resolve_extends
from converter.schema import json_schema
from tests.builders import merge, sample_avance_rows, seed_001_rows, workbook
from tests.builders_solde import seed_000_rows

EXPECTED = Path(__file__).parent / "expected"
FORMATS = Path(__file__).parent.parent / "converter" / "formats"
DAY = date(2024, 6, 20)
# the seed's sentence, word for word (DTJSONSOLDE-MS2-DUI PDE-VA1 §2.1): the Notice quotes it
RULE = "Le même format de fichier JSON est actuellement utilisé pour tous les types de logiciel d'un même couloir"


def _without_profil(rows):
    rows = copy.deepcopy(rows)
    for row in rows["Scénarios"]:
        row.pop("profilMetier", None)
    return rows


def _convert(tmp_path: Path, rows, fmt: str) -> api.Outcome:
    outcome = api.convert(workbook(tmp_path / f"{fmt}.xlsx", rows, fmt), tmp_path / fmt, DAY,
                          registre=tmp_path / f"{fmt}.sqlite")  # the variants share their numeroEditeur
    assert outcome.errors == [], [i.render() for i in outcome.errors]
    return outcome


def test_pde_avance_has_the_pds_avance_layout(tmp_path):
    pds = _convert(tmp_path, sample_avance_rows(), "ms2-dui-pds-avance").files[0].read_text(encoding="utf-8")
    pde = _convert(tmp_path, _without_profil(sample_avance_rows()), "ms2-dui-pde-avance").files[0].read_text(encoding="utf-8")
    assert '"profilMetier": "PDS"' in pds
    expected = pds.replace('"profilMetier": "PDS"', '"profilMetier": null').replace("MS2-DUI-Va1-", "MS2-DUI PDE-Va1-")
    assert pde == expected  # same keys in the same order, the same values but two
    first = json.loads(pde)["lignesImport"][0]
    assert first["piecesJustificatives"] == [
        {"nomFichier": "MS2-DUI PDE-Va1-BDC-00001.pdf", "formatFichier": "PDF", "typeFichier": "BON_COMMANDE"}]
    assert all(s["profilMetier"] is None for s in first["scenarioInstallation"])
    jsonschema.validate(json.loads(pde), json_schema("ms2-dui-pde-avance"))


def test_pde_avance_workbook_has_no_profil_metier(tmp_path):
    book = openpyxl.load_workbook(api.write_template("ms2-dui-pde-avance", tmp_path / "m.xlsx"))
    assert [c.value for c in book["Scénarios"][1]] == [
        "numeroEditeur", "FINESSGeo", "ancienneVersion", "isMaitreId", "IsStockageId", "operateurMessagerie", "IsRefSoins"]
    assert book.sheetnames[:6] == ["Entête", "Demandes", "OG", "FINESS Géo", "Scénarios", "Pièces"]
    pds = openpyxl.load_workbook(api.write_template("ms2-dui-pds-avance", tmp_path / "p.xlsx"))
    assert "profilMetier" in [c.value for c in pds["Scénarios"][1]]


def test_pde_avance_schema_keeps_profil_metier_null():
    schema = json_schema("ms2-dui-pde-avance")
    item = schema["properties"]["lignesImport"]["items"]["properties"]["scenarioInstallation"]["items"]
    assert item["properties"]["profilMetier"] == {"const": None}
    assert "profilMetier" in item["required"]
    pds_item = json_schema("ms2-dui-pds-avance")["properties"]["lignesImport"]["items"]["properties"]["scenarioInstallation"]["items"]
    assert list(item["properties"]) == list(pds_item["properties"])


def test_pds_solde_has_the_pde_solde_layout(tmp_path):
    text = _convert(tmp_path, seed_000_rows(), "ms2-dui-pds-solde").files[0].read_text(encoding="utf-8")
    expected = (EXPECTED / "ms2-dui-pde-solde.json").read_text(encoding="utf-8")
    assert text == expected.replace("MS2-DUI PDE-Va1-", "MS2-DUI-Va1-")
    assert '"nomFichier": "MS2-DUI-Va1-FACTURE-00002.pdf"' in text
    jsonschema.validate(json.loads(text), json_schema("ms2-dui-pds-solde"))


def test_a_workbook_of_one_variant_is_not_converted_as_the_other(tmp_path):
    path = workbook(tmp_path / "w.xlsx", seed_000_rows(), "ms2-dui-pds-solde")
    outcome = api.verify(path)
    assert outcome.format_id == "ms2-dui-pds-solde" and outcome.exit_code == 0


@pytest.mark.parametrize("fmt", ["ms2-dui-pde-avance", "ms2-dui-pds-solde"])
def test_variants_say_where_they_come_from(tmp_path, fmt):
    """The variant's note quotes DTJSONSOLDE-MS2-DUI PDE-VA1 §2.1 as it is written: « Le même
    format de fichier JSON est actuellement utilisé pour tous les types de logiciel d'un même
    couloir » (it quoted « un même format JSON pour tous les types de logiciel d'un couloir »,
    which no seed says)."""
    definition = get_format(fmt)
    assert definition.notes and RULE in definition.notes[0]
    assert "Dérivé de" in definition.source
    notice = " ".join(str(c) for row in openpyxl.load_workbook(api.write_template(fmt, tmp_path / "m.xlsx"))["Notice"]
                      .iter_rows(values_only=True) for c in row if c)
    assert "Remarques sur ce format" in notice and RULE in notice


def test_published_formats_carry_no_variant_note():
    for fmt in ("ms2-dui-pds-avance", "ms2-dui-pde-solde", "mdv-lgc-solde"):
        assert not any(RULE in n for n in get_format(fmt).notes)


def test_avance_formats_name_their_solde_format():
    formats = all_formats()
    assert formats["ms2-dui-pds-avance"].solde_format == "ms2-dui-pds-solde"
    assert formats["ms2-dui-pde-avance"].solde_format == "ms2-dui-pde-solde"
    for definition in formats.values():
        if definition.nature == "solde":
            assert definition.solde_format is None
        if definition.solde_format:
            solde = formats[definition.solde_format]
            assert (solde.couloir, solde.logiciel) == (definition.couloir, definition.logiciel)


def test_the_variant_keeps_the_base_rules(tmp_path):
    rows = _without_profil(seed_001_rows())
    rows["OG"][0]["FINESSJuridique"] = "34567891"
    outcome = api.convert(workbook(tmp_path / "w.xlsx", rows, "ms2-dui-pde-avance"), tmp_path, DAY)
    assert [(i.sheet, i.balise, i.code) for i in outcome.errors if i.sheet == "OG"] == [("OG", "FINESSJuridique", "finess_invalide")]


# ---------------------------------------------------------------- extends:, layout constants, parent conditions


def _raw(format_id: str) -> dict:
    return yaml.safe_load((FORMATS / f"{format_id}.yaml").read_text(encoding="utf-8"))


def _common() -> dict:
    return yaml.safe_load((FORMATS / "_common.yaml").read_text(encoding="utf-8"))


def test_extends_replaces_top_level_keys_and_merges_the_layout():
    raw = resolve_extends(_raw("ms2-dui-pde-avance"), _raw)
    base = _raw("ms2-dui-pds-avance")
    assert raw["id"] == "ms2-dui-pde-avance" and raw["logiciel"] == "DUI PDE" and "extends" not in raw
    assert raw["attachments"] == base["attachments"] and raw["template"] == base["template"]
    assert raw["json"]["scenarioInstallation"]["item"]["profilMetier"] == {"const": None}
    assert raw["json"]["scenarioInstallation"]["item"]["IsRefSoins"] == "IsRefSoins"
    assert raw["json"]["commande"] == base["json"]["commande"]


def test_extends_refuses_loops_and_unknown_sheets():
    loop = {"a": {"id": "a", "extends": "b"}, "b": {"id": "b", "extends": "a"}}
    with pytest.raises(DefinitionError, match="loop"):
        resolve_extends(loop["a"], loop.__getitem__)
    bad = {**_raw("ms2-dui-pde-avance"), "remove_fields": {"Scenarios": ["profilMetier"]}}
    with pytest.raises(DefinitionError, match="unknown sheets"):
        resolve_extends(bad, _raw)


def test_removing_a_field_without_a_layout_constant_is_caught():
    raw = resolve_extends({**_raw("ms2-dui-pde-avance"), "json": {}}, _raw)
    with pytest.raises(DefinitionError, match="profilMetier"):  # the layout still names the removed balise
        parse_definition(raw, _common())


def test_layout_constants_are_given_to_the_templates():
    mdv = layout_constants(get_format("mdv-lgc-solde"))["Demandes"]
    assert mdv["isDirectToMSSPro"] == "null" and mdv["typeAction"] == '"C"' and mdv["codeTraitement"] == "null"
    assert "numeroASP" not in mdv  # a balise in a solde
    assert layout_constants(get_format("ms2-dui-pds-avance"))["Demandes"]["numeroASP"] == "null"
    assert "Scénarios" not in layout_constants(get_format("ms2-dui-pds-avance"))
    assert layout_constants(get_format("ms2-dui-pde-avance"))["Scénarios"] == {"profilMetier": "null"}


def test_parent_conditions_must_test_parent_balises():
    raw = copy.deepcopy(_raw("mdv-lgc-solde"))
    raw["sheets"][1]["parent"]["required_if"] = {"commandePar": "LIBERAL"}
    with pytest.raises(DefinitionError, match="parent condition on unknown"):
        parse_definition(raw, _common())
    raw = copy.deepcopy(_raw("mdv-lgc-solde"))
    raw["sheets"][1]["parent"]["required_unless"] = {"commandePour": "LIBERAL"}
    with pytest.raises(DefinitionError, match="unknown keys"):
        parse_definition(raw, _common())


def test_parent_conditions_are_parsed():
    rpps = get_format("mdv-lgc-solde").by_name["RPPS"].parent
    assert rpps.required_if.alternatives == ((("commandePour", "LIBERAL"),),)
    assert rpps.forbidden_unless.describe() == "commandePour vaut LIBERAL"
    assert get_format("mdv-lgc-solde").by_name["identDMP"].parent.required_if.alternatives == ((("isDirectToDMP", True),),)


# ------------------------------------------------------------ the foundation's end-to-end tests, per variant

VARIANTS = {
    # variant: (rows of one demande, base format whose expected file it follows, how its text differs)
    "ms2-dui-pde-avance": (lambda ne: _without_profil(seed_001_rows(ne)), "ms2-dui-pds-avance",
                           lambda t: t.replace('"profilMetier": "PDS"', '"profilMetier": null')
                           .replace("MS2-DUI-Va1-", "MS2-DUI PDE-Va1-")),
    "ms2-dui-pds-solde": (lambda ne: seed_000_rows(ne, f"FINMS2{int(ne):06d}"), "ms2-dui-pde-solde",
                          lambda t: t.replace("MS2-DUI PDE-Va1-", "MS2-DUI-Va1-")),
}


@pytest.mark.parametrize("fmt", VARIANTS)
def test_variant_template_filled_converts_to_the_expected_json(tmp_path, fmt):
    from tests.test_solde_formats import HEADER, fill_template

    _, base, differs = VARIANTS[fmt]
    base_rows = sample_avance_rows() if base == "ms2-dui-pds-avance" else seed_000_rows()
    rows = _without_profil(base_rows) if fmt == "ms2-dui-pde-avance" else base_rows
    template = api.write_template(fmt, tmp_path / "modele.xlsx")
    filled = fill_template(template, rows, HEADER, tmp_path / "rempli.xlsx")
    outcome = api.convert(filled, tmp_path / "depot", DAY)
    assert outcome.errors == [], [i.render() for i in outcome.errors]
    expected = differs((EXPECTED / f"{base}.json").read_text(encoding="utf-8"))
    assert outcome.files[0].read_text(encoding="utf-8") == expected


@pytest.mark.parametrize("fmt", VARIANTS)
def test_variant_201_demandes_make_two_files(tmp_path, fmt):
    one, _, _ = VARIANTS[fmt]
    rows = merge(*(one(f"{n:05d}") for n in range(1, 202)))
    outcome = _convert(tmp_path, rows, fmt)
    first, second = (json.loads(p.read_text(encoding="utf-8"))["lignesImport"] for p in outcome.files)
    assert len(first) == 200 and len(second) == 1
    assert [d["numLigne"] for d in first] == list(range(1, 201)) and second[0]["numLigne"] == 1


@pytest.mark.parametrize("fmt", VARIANTS)
def test_variant_error_workbook_round_trip(tmp_path, fmt):
    one, _, _ = VARIANTS[fmt]
    rows = merge(one("00001"), one("00002"))
    rows["OG"][0]["FINESSJuridique"] = "34567891"  # 8 digits
    first = api.convert(workbook(tmp_path / "bad.xlsx", rows, fmt), tmp_path / "depot", DAY)
    assert first.exit_code == 1 and first.rejected == ["00001"] and first.accepted == ["00002"]
    book = openpyxl.load_workbook(first.error_workbook)
    ws = book["OG"]
    column = [c.value for c in ws[1]].index("FINESSJuridique")
    [bad] = [row for row in ws.iter_rows(min_row=2) if row[column].value == "34567891"]
    bad[column].value = "345678912"
    book.save(tmp_path / "corrige.xlsx")
    second = api.convert(tmp_path / "corrige.xlsx", tmp_path / "depot", DAY)
    assert second.errors == [], [i.render() for i in second.errors]
    assert second.accepted == ["00001"] and len(second.files) == 1


@pytest.mark.parametrize("fmt", sorted(all_formats()))
def test_every_note_names_the_attachments_of_its_own_format(fmt):
    """A column note that shows a regulatory attachment name shows the one of its own format:
    the variants inherited their base's example, « MS2-DUI PDE-Va1-FACTURE-00002.png » in the
    ms2-dui-pds-solde workbook (whose pièces are « MS2-DUI-Va1-… ») and « MS2-DUI-Va1-BDC-… »
    in the ms2-dui-pde-avance one (« MS2-DUI PDE-Va1-… »)."""
    import re

    definition = get_format(fmt)
    prefix = definition.attachment_name("CODE", "00000", "pdf").split("CODE")[0]
    for sheet in (definition.header, *definition.sheets):
        for f in sheet.fields:
            for named in re.findall(r"[A-Z0-9]+-[A-Z0-9 ]+-Va1-", f.note):
                assert named == prefix, (sheet.name, f.balise, named)


def test_a_variant_replaces_a_field_of_its_base():
    raw = resolve_extends(_raw("ms2-dui-pds-solde"), _raw)
    [pieces] = [s for s in raw["sheets"] if s["name"] == "Pièces"]
    assert [f["balise"] for f in pieces["fields"]] == ["numeroEditeur", "typeFichier", "formatFichier", "fichierSource"]
    bad = {**_raw("ms2-dui-pds-solde"), "replace_fields": {"Pièces": [{"balise": "nomFichier", "kind": "text"}]}}
    with pytest.raises(DefinitionError, match="nomFichier"):
        resolve_extends(bad, _raw)


@pytest.mark.parametrize("fmt", sorted(all_formats()))
def test_what_a_user_reads_of_a_format_names_the_asp_documents_not_our_seeds(fmt):
    """« xl2segur formats » and the Notice said « DTJSONAVANCE-MS2-DUI PDS-Va1 du 07/12/2023
    (seed 001) »: « seed » is this project's own English word for its reference texts, which
    means nothing to the users; the ASP's document names say it all."""
    definition = get_format(fmt)
    texts = [definition.title, definition.source, *definition.notes, *(t.label for t in definition.attachments.types),
             *(f.note for s in (definition.header, *definition.sheets) for f in s.fields)]
    assert not [t for t in texts if "seed" in t.lower()]


def test_no_attachment_label_holds_parentheses_the_messages_put_it_in():
    """A piece's message names it « Pièce FACTURE (its label) »: a label in parentheses gave
    « Pièce FACTURE (Facture (qui n'a pas besoin d'être signée)) introuvable »."""
    labels = {(d.id, t.type): t.label for d in all_formats().values() if d.attachments for t in d.attachments.types}
    assert labels and {k: v for k, v in labels.items() if "(" in v or ")" in v} == {}
