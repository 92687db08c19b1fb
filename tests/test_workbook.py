"""Tests of converter.workbook: the template, pre-filled and error workbooks.

Each workbook is written, then read back with openpyxl (layout, notes, formats, drop-down
lists, hyperlinks) and fastexcel (what the converter reads).
"""

from __future__ import annotations

import csv
from pathlib import Path

import fastexcel
import openpyxl
import pytest

from converter.files import OutputError
from converter.formats import get_format
from converter.issues import Issue, Severity
from converter.reference import operator_codes
from converter.workbook import choices, describe_format, field_note, write_workbook

D = get_format("ms2-dui-pds-avance")
CSV = Path(__file__).parents[1] / "converter" / "reference" / "operateurs-messagerie.csv"
HEADER = {"numeroAns": "0123456789", "SIRET": "73282932000075"}
ROWS = {
    "Demandes": [
        {"numeroEditeur": "00001", "dateCommande": "12/03/2024", "regimeTVA": "TTC",
         "montantSegurHT": "=1+1", "isMandataire": "FAUX", "__row": 2},
        {"numeroEditeur": "00002", "dateCommande": "31/02/2024", "regimeTVA": "ttc",
         "montantSegurHT": "4866.671", "isMandataire": "oui", "nomMandataire": "+33 @x -5",
         "__row": 5},
    ],
    "OG": [{"numeroEditeur": "00001", "FINESSJuridique": "045678912",
            "demandeCertificatServeur": "VRAI", "__row": 3}],
    "Scénarios": [{"numeroEditeur": "00001", "FINESSGeo": "012345678",
                   "operateurMessagerie": "CH _20", "__row": 2}],
}
ISSUES = [
    Issue("date_invalide", "Date invalide.", sheet="Demandes", row=5, column="B",
          balise="dateCommande", value="31/02/2024"),
    Issue("casse_corrigee", "Écriture corrigée en « TTC ».", Severity.WARNING, sheet="Demandes",
          row=5, column="C", balise="regimeTVA", value="ttc"),
    Issue("montant_decimales", "Plus de 2 décimales.", sheet="Demandes", row=5, column="D",
          balise="montantSegurHT", value="=4866.671"),
    Issue("sans_enfant", "Cette ligne n'a aucune ligne dans la feuille « OG ».", sheet="Demandes", row=5),
    Issue("obligatoire", "Valeur obligatoire : renseignez contractualisationOG.", sheet="OG", row=3,
          column="D", balise="contractualisationOG"),
    Issue("obligatoire", "Valeur obligatoire : renseignez statutAdminTechnique.", sheet="OG", row=3,
          column="E", balise="statutAdminTechnique"),
    Issue("doit_etre_vide", "Doit rester vide.", Severity.WARNING, sheet="OG", row=3, column="E",
          balise="statutAdminTechnique"),
    Issue("siret_cle", "La clé de contrôle de ce SIRET est fausse.", Severity.WARNING, sheet="Entête",
          row=2, column="B", balise="SIRET", value="73282932000075"),
    Issue("obligatoire", "Ligne non fournie.", sheet="FINESS Géo", row=40, column="C", balise="FINESSGeo"),
    Issue("colonne_manquante", "La colonne « profilMetier » est absente.", sheet="Scénarios", row=1,
          balise="profilMetier"),
    Issue("aucune_demande", "Aucune demande."),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return write_workbook(D, tmp_path_factory.mktemp("modele") / "modele.xlsx")


@pytest.fixture(scope="module")
def errors(tmp_path_factory) -> Path:
    return write_workbook(D, tmp_path_factory.mktemp("err") / "erreurs.xlsx",
                          header=HEADER, rows=ROWS, issues=ISSUES)


def _validation(ws, col: str):
    for dv in ws.data_validations.dataValidation:
        if any(str(r).startswith(f"{col}2:") for r in dv.sqref.ranges):
            return dv
    return None


def _column_format(ws, index: int) -> str:
    """Number format of a column (1-based); xlsxwriter may group equal columns in one <col>."""
    for dim in ws.column_dimensions.values():
        if dim.min <= index <= dim.max:
            return dim.number_format
    return "General"


def _list_values(wb, formula: str) -> list[str]:
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    sheet, ref = formula.lstrip("=").split("!")
    ws = wb[sheet.strip("'")]
    return [c.value for row in ws[ref.replace("$", "")] for c in row]


# ---------------------------------------------------------------- reference and wording


def test_operator_codes_are_the_csv_codes_exactly():
    with open(CSV, encoding="utf-8", newline="") as fh:
        expected = [row["code"] for row in csv.DictReader(fh)]
    assert list(operator_codes()) == expected
    assert len(expected) == 355 and "CH _20" in expected


def test_choices():
    demandes, og, scen, pieces = (D.by_name[n] for n in ("Demandes", "OG", "Scénarios", "Pièces"))
    assert choices(D, demandes.by_balise["isMandataire"]) == ["VRAI", "FAUX"]
    assert choices(D, demandes.by_balise["regimeTVA"]) == ["TTC", "HT"]
    assert choices(D, og.by_balise["utiliteCertificat"]) == ["DMP", "INS", "DMP, INS"]
    assert choices(D, scen.by_balise["operateurMessagerie"]) == list(operator_codes())
    assert choices(D, pieces.by_balise["typeFichier"]) == ["BON_COMMANDE", "PREUVE_HT"]
    assert choices(D, demandes.by_balise["numeroEditeur"]) == []


def test_field_note_has_description_presence_format_example():
    f = D.by_name["Demandes"].by_balise["nomMandataire"]
    note = field_note(D, f)
    assert f.note in note
    assert "Présence : Obligatoire si isMandataire vaut VRAI, vide sinon" in note
    assert "Format : texte, 49 caractères au plus, en MAJUSCULES" in note
    assert "Exemple : DUPONT" in note
    assert describe_format(D, D.demandes.by_balise["dateCommande"]) == "date au format JJ/MM/AAAA"
    assert "2 décimales" in describe_format(D, D.demandes.by_balise["montantSegurHT"])


# ---------------------------------------------------------------- the template


def test_template_layout(template):
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames == ["Entête", *(s.name for s in D.sheets), "Notice", "Listes"]
    assert wb.active.title == "Entête"
    assert wb["Listes"].sheet_state == "hidden"
    for sheet in (D.header, *D.sheets):
        ws = wb[sheet.name]
        assert [c.value for c in ws[1]] == sheet.balises
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref
        for c, f in zip(ws[1], sheet.fields):
            assert c.font.b
            assert c.comment is not None and f.note in c.comment.text
            assert "Présence :" in c.comment.text and "Format :" in c.comment.text
    entete = wb["Entête"]
    assert [c.value for c in entete[2]] == [None, None, D.id]


def test_template_column_formats(template):
    wb = openpyxl.load_workbook(template)
    for sheet in (D.header, *D.sheets):
        ws = wb[sheet.name]
        for f in sheet.fields:
            fmt = _column_format(ws, sheet.balises.index(f.balise) + 1)
            if f.is_text:
                assert fmt == "@", (sheet.name, f.balise)
            elif f.kind == "date":
                assert fmt == "dd/mm/yyyy"
            elif f.kind == "amount":
                assert fmt == "0.00"
    assert wb["OG"].column_dimensions["B"].width >= len("FINESSJuridique")


def test_template_drop_downs(template):
    wb = openpyxl.load_workbook(template)
    dem, og, scen, pieces = wb["Demandes"], wb["OG"], wb["Scénarios"], wb["Pièces"]
    cases = [(dem, "C", ["TTC", "HT"]), (dem, "E", ["VRAI", "FAUX"]),
             (og, "E", ["E", "S"]), (og, "K", ["DMP", "INS", "DMP, INS"]),
             (scen, "F", list(operator_codes())), (scen, "G", ["PDS"]),
             (pieces, "B", ["BON_COMMANDE", "PREUVE_HT"]), (pieces, "C", ["PDF", "PNG", "JPG"])]
    for ws, col, expected in cases:
        dv = _validation(ws, col)
        assert dv is not None, (ws.title, col)
        assert dv.type == "list" and dv.errorStyle in ("warning", "information")
        assert dv.error and "valeur" in dv.error.lower()
        assert _list_values(wb, dv.formula1) == expected, (ws.title, col)
        assert str(dv.sqref) == f"{col}2:{col}10000"
    # each value quoted, as the conversion's message says them: « DMP, INS » is one value, not two
    assert _validation(og, "K").error.startswith("Valeurs possibles : « DMP », « INS », « DMP, INS ».")
    assert "signalée à la conversion" in _validation(og, "K").error
    operators = _list_values(wb, _validation(scen, "F").formula1)
    assert len(operators) == 355 and "CH _20" in operators
    assert not _validation(og, "K").formula1.startswith('"')  # "DMP, INS" has a comma
    assert _validation(dem, "A") is None


def test_an_order_workbook_s_drop_downs_speak_of_its_check(tmp_path):
    # a workbook of purchase orders is checked (xl2segur verifier), never converted
    orders = get_format("hop-pfi-va2-commandes")
    ws = openpyxl.load_workbook(write_workbook(orders, tmp_path / "commandes.xlsx"))["Commandes"]
    dv = _validation(ws, orders.demandes.column_letter("regimeTVA"))
    assert dv.error == ("Valeurs possibles : « TTC20 », « TTC8.5 », « HT ». "
                        "Une autre valeur sera signalée à la vérification (xl2segur verifier).")
    # its Notice speaks of purchase orders, not of demandes
    notice = openpyxl.load_workbook(tmp_path / "commandes.xlsx")["Notice"]
    text = "\n".join(c for row in notice.iter_rows(values_only=True) for c in row if c)
    assert "Feuille « Commandes » : une ligne par bon de commande, identifiée par numeroEditeur" in text
    assert "Elle vaut pour toutes les commandes du classeur." in text
    assert "demande" not in text.replace("demande d'avance", "")
    # its error workbook's « À corriger » column speaks of its one sheet and of its check
    issue = Issue("montant_au_dela_du_plafond", "Montant supérieur au plafond.", sheet="Commandes", row=2,
                  column="M", balise="montantCommande", value="9000.00")
    errors = write_workbook(orders, tmp_path / "erreurs.xlsx", header={"numeroAns": "0123456789"},
                            rows={"Commandes": [{"numeroEditeur": "00001", "montantCommande": "9000.00"}]},
                            issues=[issue])
    sheet = openpyxl.load_workbook(errors)["Commandes"]
    explain = next(c for c in sheet[1] if c.value == "À corriger (xl2segur)")
    assert "autres feuilles" not in explain.comment.text and "la demande" not in explain.comment.text
    assert "n'est pas lue à la vérification" in explain.comment.text
    # the Notice's Balise column fits its longest balise, in bold, on one line
    assert notice.column_dimensions["C"].width >= len("categorieFINESSGeographique") + 4


def test_the_notice_says_how_the_sheets_are_tied_in_french(tmp_path):
    """« FINESSJuridique et numeroEditeur relient les lignes … : recopiez-le exactement »: two
    columns tie the sheets of an avance, the pronoun is plural; one ties those of an MDV solde."""
    def tie(fmt: str) -> str:
        ws = openpyxl.load_workbook(write_workbook(get_format(fmt), tmp_path / f"{fmt}.xlsx"))["Notice"]
        return next(c for row in ws.iter_rows(values_only=True) for c in row if c and "relie" in c)
    assert tie("ms2-dui-pds-avance").endswith(
        "FINESSJuridique et numeroEditeur relient les lignes des différentes feuilles : recopiez-les exactement.")
    assert tie("mdv-lgc-solde").endswith(
        "numeroEditeur relie les lignes des différentes feuilles : recopiez-le exactement.")


def test_notice_lists_every_column_and_attachment(template):
    ws = openpyxl.load_workbook(template)["Notice"]
    cells = [c for row in ws.iter_rows(values_only=True) for c in row if c]
    text = "\n".join(cells)
    rows = {(r[0], r[2]): r for r in ws.iter_rows(values_only=True) if r[2]}
    assert ("Feuille", "Balise") in rows
    for sheet in (D.header, *D.sheets):
        for i, f in enumerate(sheet.fields):
            row = rows[(sheet.name, f.balise)]
            assert row[1] == sheet.column_letter(f.balise)
            assert row[3] == f.presence.describe()
            assert row[5] == f.note
    for t in D.attachments.types:
        assert t.type in text and t.label in text
    assert "si regimeTVA vaut HT (sinon, une ligne de la feuille Pièces l'envoie, avec un avertissement)" in text
    assert "MS2-DUI-Va1-CodeTypeFichier-numeroEditeur.ext" in text
    assert "MS2-DUI-Va1-BDC-00001.pdf" in text
    assert "une ligne par demande" in text
    # the ASP's limits as its documents say them (« ne peut peser plus de 3Mo »), never in raw octets
    assert "de 3 Mo au plus chacune" in text and ".zip de 200 Mo au plus" in text
    assert "octets" not in text
    for note in D.notes:
        assert note in text


def test_fastexcel_reads_the_template(template):
    reader = fastexcel.read_excel(template)
    for sheet in D.sheets:
        frame = reader.load_sheet(sheet.name, dtypes="string").to_polars()
        assert frame.columns == sheet.balises
        assert frame.height == 0
    entete = reader.load_sheet("Entête", dtypes="string").to_polars()
    assert entete.columns == D.header.balises
    assert entete.row(0)[-1] == D.id


# ---------------------------------------------------------------- values and error workbook


def test_values_are_strings_never_formulas(errors):
    wb = openpyxl.load_workbook(errors)
    dem = wb["Demandes"]
    assert dem["D2"].value == "=1+1" and dem["D2"].data_type == "s"
    assert dem["F3"].value == "+33 @x -5" and dem["F3"].data_type == "s"
    assert wb["OG"]["B2"].value == "045678912" and wb["OG"]["B2"].number_format == "@"
    assert wb["Scénarios"]["B2"].value == "012345678"
    assert wb["Scénarios"]["F2"].value == "CH _20"
    assert [c.value for c in wb["Entête"][2]] == ["0123456789", "73282932000075", D.id]
    # the data reads back as written
    frame = fastexcel.read_excel(errors).load_sheet("Demandes", dtypes="string").to_polars()
    assert frame["montantSegurHT"].to_list() == ["=1+1", "4866.671"]
    assert frame["numeroEditeur"].to_list() == ["00001", "00002"]


def test_error_workbook_layout(errors):
    wb = openpyxl.load_workbook(errors)
    assert wb.sheetnames == ["Erreurs", "Entête", *(s.name for s in D.sheets), "Notice", "Listes"]
    assert wb.active.title == "Erreurs"


def test_error_cells_filled_and_annotated(errors):
    wb = openpyxl.load_workbook(errors)
    dem, og = wb["Demandes"], wb["OG"]
    red = "FFFFC7CE"
    # original row 5 is the second written row: row 3 here
    assert dem["B3"].fill.fgColor.rgb == red and "Date invalide." in dem["B3"].comment.text
    assert dem["B3"].value == "31/02/2024"
    assert dem["C3"].fill.fgColor.rgb not in (red, "00000000")  # warning: orange
    assert "corrigée" in dem["C3"].comment.text
    assert dem["A3"].fill.fgColor.rgb == red and "aucune ligne" in dem["A3"].comment.text  # whole row
    assert dem["B2"].comment is None and dem["B2"].fill.fgColor.rgb == "00000000"
    # two issues on one cell: both messages, worst severity wins
    e2 = og["E2"]
    assert e2.fill.fgColor.rgb == red
    assert "statutAdminTechnique" in e2.comment.text and "Doit rester vide." in e2.comment.text
    assert e2.value is None
    assert og["D2"].number_format == "General" and og["B2"].number_format == "@"
    # Entête issue on row 2; header-cell issue keeps the column note
    siret = wb["Entête"]["B2"]
    assert "SIRET" in siret.comment.text and siret.fill.fgColor.rgb not in (red, "00000000")
    g1 = wb["Scénarios"]["G1"]
    assert "absente" in g1.comment.text and "Présence :" in g1.comment.text
    assert g1.fill.fgColor.rgb == red and g1.value == "profilMetier"


def test_errors_sheet(errors):
    ws = openpyxl.load_workbook(errors)["Erreurs"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Gravité", "Feuille", "Ligne", "Ligne d'origine", "Colonne", "Balise", "Valeur",
                       "Message", "Lien")
    body = rows[1:]
    assert len(body) == len(ISSUES)
    severities = [r[0] for r in body]
    assert severities == sorted(severities, key=lambda s: s != "Erreur")  # errors first
    assert severities.count("Avertissement") == 3
    by_message = {r[7]: (i + 2, r) for i, r in enumerate(body)}
    r, row = by_message["Plus de 2 décimales."]
    assert row[1:7] == ("Demandes", 3, 5, "D", "montantSegurHT", "=4866.671")  # row 3 here, 5 in the original
    assert ws.cell(r, 7).data_type == "s"
    link = ws.cell(r, 9).hyperlink
    assert link.location == "'Demandes'!D3" and ws.cell(r, 9).value == "Aller à la cellule"
    r, _ = by_message["Valeur obligatoire : renseignez contractualisationOG."]
    assert ws.cell(r, 9).hyperlink.location == "'OG'!D2"
    r, _ = by_message["La colonne « profilMetier » est absente."]
    assert ws.cell(r, 9).hyperlink.location == "'Scénarios'!G1"
    r, _ = by_message["La clé de contrôle de ce SIRET est fausse."]
    assert ws.cell(r, 9).hyperlink.location == "'Entête'!B2"
    # a row that was not written, and a workbook-level issue: listed, no link
    for message in ("Ligne non fournie.", "Aucune demande."):
        r, _ = by_message[message]
        assert ws.cell(r, 9).hyperlink is None and ws.cell(r, 9).value is None and ws.cell(r, 3).value is None
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref


def test_empty_issue_list_still_makes_an_error_workbook(tmp_path):
    wb = openpyxl.load_workbook(write_workbook(D, tmp_path / "e.xlsx", issues=[]))
    assert wb.sheetnames[0] == "Erreurs" and wb["Erreurs"].max_row == 1


def test_rows_without_original_row_number_map_in_order(tmp_path):
    rows = {"Demandes": [{"numeroEditeur": "00001"}, {"numeroEditeur": "00002"}]}
    issue = Issue("obligatoire", "Obligatoire.", sheet="Demandes", row=3, column="B", balise="dateCommande")
    wb = openpyxl.load_workbook(write_workbook(D, tmp_path / "e.xlsx", rows=rows, issues=[issue]))
    assert "Obligatoire." in wb["Demandes"]["B3"].comment.text


# ---------------------------------------------------------------- writing safely


def test_never_overwrites(tmp_path):
    target = tmp_path / "modele.xlsx"
    assert write_workbook(D, target) == target
    before = target.read_bytes()
    with pytest.raises(OutputError):
        write_workbook(D, target)
    assert target.read_bytes() == before
    assert write_workbook(D, target, numbered=True) == tmp_path / "modele-2.xlsx"
    assert write_workbook(D, target, numbered=True) == tmp_path / "modele-3.xlsx"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["modele-2.xlsx", "modele-3.xlsx", "modele.xlsx"]


def test_rows_for_unknown_sheet_rejected(tmp_path):
    with pytest.raises(ValueError):
        write_workbook(D, tmp_path / "x.xlsx", rows={"Inconnue": []})
    assert not list(tmp_path.iterdir())


def test_a_long_value_keeps_its_errors_sheet_row_within_excels_height(tmp_path):
    """A 5,000-character name made its « Erreurs » row 3,000 points high (Excel stops at 409,
    and LibreOffice printed the one issue over three pages): the sheet echoes the start of the
    value and says how long it is; the data cell keeps it whole."""
    long_value = "X" * 5000
    rows = {"OG": [{"numeroEditeur": "00001", "nomAdminTechnique": long_value, "__row": 2}]}
    issue = Issue("longueur_max", "Trop long : 24 caractères au plus.", sheet="OG", row=2,
                  column="H", balise="nomAdminTechnique", value=long_value)
    wb = openpyxl.load_workbook(write_workbook(D, tmp_path / "e.xlsx", rows=rows, issues=[issue]))
    ws = wb["Erreurs"]
    shown = ws["G2"].value
    assert shown.startswith("X" * 200) and len(shown) < 400
    assert "5000 caractères" in shown
    assert ws.row_dimensions[2].height <= 409
    assert wb["OG"]["H2"].value == long_value


def test_a_control_character_of_a_value_is_shown_by_its_code_in_the_errors_sheet(tmp_path):
    """BEL and ESC pasted into a value (LibreOffice drew « abcccccc » for « a\\x07b\\x1bc »): the
    « Erreurs » sheet shows them as the console does; the data cell keeps what was typed."""
    typed = "a\x07b\x1bc"
    rows = {"OG": [{"numeroEditeur": "00001", "numeroCarteCPX": typed, "__row": 2}]}
    issue = Issue("longueur_exacte", "Doit compter exactement 10 caractères.", sheet="OG", row=2,
                  column="G", balise="numeroCarteCPX", value=typed)
    path = write_workbook(D, tmp_path / "e.xlsx", rows=rows, issues=[issue])
    assert openpyxl.load_workbook(path)["Erreurs"]["G2"].value == "a\\x07b\\x1bc"
    frame = fastexcel.read_excel(path).load_sheet("OG", dtypes="string").to_polars()
    assert frame["numeroCarteCPX"].to_list() == [typed]


def test_writing_a_workbook_gives_the_garbage_collector_back_even_when_it_fails(tmp_path: Path) -> None:
    # collections are off while xlsxwriter builds the cells (a fifth of an error workbook's
    # time); the caller's process must get them back, written or refused
    import gc

    target = write_workbook(D, tmp_path / "modele.xlsx")
    assert gc.isenabled()
    with pytest.raises(OutputError):
        write_workbook(D, target)  # never over a file
    assert gc.isenabled()
    gc.disable()
    try:
        write_workbook(D, tmp_path / "autre.xlsx")
        assert not gc.isenabled()  # a caller that had them off keeps them off
    finally:
        gc.enable()


def test_an_error_workbook_is_written_row_by_row_with_the_same_cells_and_notes(tmp_path, monkeypatch):
    """The error workbook of 100,000 rejected demandes peaked at 1.83 GiB: xlsxwriter held every
    cell until it saved, because highlights, notes, the « À corriger » column and the lists came
    back to rows already written. Each row is now written complete, once (xlsxwriter's
    constant_memory: its texts inline), and says the same: values, fills, notes (the first
    issues' ones when capped), explanations, the long drop-down lists of « Listes »."""
    import zipfile

    from converter import workbook

    monkeypatch.setattr(workbook, "MAX_ISSUE_NOTES", 4)
    rows = {"Demandes": [{"numeroEditeur": f"{i:05d}", "dateCommande": "31/02/2024", "__row": i + 1}
                         for i in range(1, 7)],
            "Scénarios": [{"numeroEditeur": "00003", "FINESSGeo": "012345678", "operateurMessagerie": "??",
                           "__row": 2}]}
    issues = [Issue("date_invalide", f"Date invalide {i}.", sheet="Demandes", row=i + 1, column="B",
                    balise="dateCommande", value="31/02/2024") for i in (6, 5, 4, 3, 2, 1)]
    issues.append(Issue("valeur_non_autorisee", "Valeur non autorisée.", sheet="Scénarios", row=2, column="C",
                        balise="operateurMessagerie", value="??"))
    path = write_workbook(D, tmp_path / "erreurs.xlsx", header=HEADER, rows=rows, issues=issues)
    with zipfile.ZipFile(path) as zf:
        sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        assert all(b't="s"' not in zf.read(n) for n in sheets), "a sheet held its cells until saved"
    wb = openpyxl.load_workbook(path)
    dem, width = wb["Demandes"], len(D.by_name["Demandes"].fields)
    red = "FFFFC7CE"
    assert [dem.cell(r, 1).value for r in range(2, 8)] == [f"{i:05d}" for i in range(1, 7)]
    assert all(dem.cell(r, 2).value == "31/02/2024" and dem.cell(r, 2).fill.fgColor.rgb == red for r in range(2, 8))
    # capped: the first issues given have the notes, whatever their row
    noted = {r: dem.cell(r, 2).comment.text for r in range(2, 8) if dem.cell(r, 2).comment}
    assert noted == {7: "Erreur : Date invalide 6.", 6: "Erreur : Date invalide 5.",
                     5: "Erreur : Date invalide 4.", 4: "Erreur : Date invalide 3."}
    explained = [f"dateCommande : Date invalide {i}." for i in range(1, 7)]
    explained[2] += "\nFeuille « Scénarios », ligne 2 — operateurMessagerie : Valeur non autorisée."
    assert [dem.cell(r, width + 1).value for r in range(2, 8)] == explained
    assert dem.cell(1, width + 1).comment is not None and dem.cell(1, 1).comment is not None
    sc, column = wb["Scénarios"], D.by_name["Scénarios"].balises.index("operateurMessagerie") + 1
    cell = sc.cell(2, column)
    assert cell.value == "??" and cell.fill.fgColor.rgb == red and cell.comment is None
    assert _list_values(wb, _validation(sc, cell.column_letter).formula1) == list(operator_codes())
    lists = wb["Listes"]
    titles = [c.value for c in lists[1]]
    labels = titles.index("operateurMessagerie") + 2
    assert titles[labels - 1] == "libellé" and lists.cell(2, labels).value
    assert wb["Erreurs"].max_row == len(issues) + 1


def test_a_value_that_looks_like_rich_text_is_echoed_as_text(tmp_path):
    """xlsxwriter took a text beginning with « <r> » and ending with « </r> » for its own rich
    text and wrote it unescaped: « <r>a & b</r> », typed by a user in a rejected row, made an
    error workbook Excel cannot open. Written by converter/fastxlsx.Book: text, read back as typed."""
    typed = "<r>a & b</r>"
    rows = {**ROWS, "Demandes": [{**ROWS["Demandes"][0], "nomMandataire": typed}, ROWS["Demandes"][1]]}
    issues = [*ISSUES, Issue("texte", "Texte refusé.", sheet="Demandes", row=2, column="G",
                             balise="nomMandataire", value=typed)]
    written = write_workbook(D, tmp_path / "erreurs.xlsx", header=HEADER, rows=rows, issues=issues)
    book = openpyxl.load_workbook(written)  # well-formed: it opens
    head = [c.value for c in book["Demandes"][1]]
    assert book["Demandes"].cell(2, head.index("nomMandataire") + 1).value == typed
    assert typed in [c.value for row in book["Erreurs"].iter_rows() for c in row]


def test_an_error_workbook_is_written_by_xlsxwriter_as_it_goes_never_read_back(tmp_path, monkeypatch):
    """Its Entête given whole (converter/fastxlsx.py), every other sheet of an error workbook was
    read whole and written again around it: 52 Mio more at 10,000 rejected demandes, where a
    million problems leave little room under 1 Gio. Its rows are all written cell by cell."""
    from converter import fastxlsx

    def spliced(*args: object) -> None:
        raise AssertionError("the error workbook was read back to splice rows into it")

    monkeypatch.setattr(fastxlsx, "_spliced", spliced)
    written = write_workbook(D, tmp_path / "erreurs.xlsx", header=HEADER, rows=ROWS, issues=ISSUES[:3])
    assert openpyxl.load_workbook(written)["Entête"]["A2"].value == HEADER["numeroAns"]


def test_a_wrapped_text_is_measured_line_by_line_as_textwrap_does(monkeypatch):
    """The row height of an « À corriger » or « Erreurs » cell: its lines counted as textwrap
    wraps them; a line that fits is one line without textwrap (a text naming its row never
    repeats: textwrap ran for each of 100,000 problems)."""
    import textwrap

    from converter import workbook

    def reference(text: str, width: float) -> int:
        chars = max(4, int(width * 1.1) - 1)
        return sum(len(textwrap.wrap(part, chars, break_long_words=True)) or 1 for part in text.split("\n"))

    texts = ["", " ", "\t", "a\tb", "\t" * 9, "x" * 76, "x" * 77, "mot " * 40, "a\n\nb", "\n",
             "Feuille « OG », ligne 12 — " + "SIRET : 14 chiffres attendus " * 4,
             "un-mot-avec-des-tirets-" * 5, "\x0b\x0c\r " * 30, "a\t" * 20]
    for text in texts:
        for width in (2, 8, 24, 70, 80, 200):
            assert workbook._line_count(text, width) == reference(text, width), (text, width)

    def refuse(*args, **kwargs):
        raise AssertionError("textwrap for a line that fits")

    monkeypatch.setattr(workbook.textwrap, "wrap", refuse)
    assert workbook._line_count("Feuille « OG », ligne 98765 — court\nErreur : court", 70) == 2


def test_links_beyond_excel_s_limit_are_formulas_written_as_xlsxwriter_would(tmp_path, monkeypatch):
    """Beyond Excel's hyperlink limit, a link is a HYPERLINK formula: written as it is, without
    xlsxwriter's 28 searches for functions to rename (one formula per problem beyond 65,530),
    the same formula as those searches leave it."""
    from xlsxwriter.worksheet import Worksheet

    from converter import workbook

    prepare = Worksheet._prepare_formula
    monkeypatch.setattr(workbook, "MAX_LINKS", 2)

    def refuse(self, formula, expand_future_functions=False):  # the lists' validations: theirs
        assert "HYPERLINK" not in formula, f"xlsxwriter's renaming for {formula}"
        return prepare(self, formula, expand_future_functions)

    monkeypatch.setattr(Worksheet, "_prepare_formula", refuse)
    path = write_workbook(D, tmp_path / "e.xlsx", header=HEADER, rows=ROWS, issues=ISSUES)
    ws = openpyxl.load_workbook(path)["Erreurs"]
    formulas = [c.value for c in ws["I"] if isinstance(c.value, str) and c.value.startswith("=")]
    assert len(formulas) == len([c for c in ws["I"][1:] if c.value is not None]) - 2 >= 5
    assert "=HYPERLINK(\"#'Demandes'!D3\",\"Aller à la cellule\")" in formulas
    for formula in formulas:  # as xlsxwriter's renaming leaves them
        assert "=" + prepare(Worksheet(), formula) == formula


def test_texts_are_escaped_as_xlsxwriter_does_searched_once(tmp_path, monkeypatch):
    """A text of a data or « Erreurs » sheet is escaped by xlsxwriter's two substitutions only
    when one search finds what they change (control characters, « _x0041_ », U+FFFE): the
    workbook's parts are the same bytes."""
    import zipfile

    from xlsxwriter import xmlwriter

    from converter import workbook

    hostile = ["a\x01b", "_x0041_", "_X004g_", "x\ufffey", "tab\tok", "plain", " lead", "\x1f"]
    rows = {"Demandes": [{**ROWS["Demandes"][1], "nomMandataire": v, "__row": 5 + i}
                         for i, v in enumerate(hostile)]}
    issues = [Issue("nom", "Nom refusé.", sheet="Demandes", row=5 + i, column="F",
                    balise="nomMandataire", value=v) for i, v in enumerate(hostile)]

    def parts(path):
        with zipfile.ZipFile(path) as z:
            return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}

    substituted = []
    pattern = xmlwriter.re_control_chars_1

    class Counted:
        def sub(self, repl, data):
            substituted.append(data)
            return pattern.sub(repl, data)

    monkeypatch.setattr(xmlwriter, "re_control_chars_1", Counted())
    fast = parts(write_workbook(D, tmp_path / "a.xlsx", header=HEADER, rows=rows, issues=issues))
    texts = {t for t in substituted if isinstance(t, str)}
    assert {"a\x01b", "_x0041_", "x\ufffey", "\x1f"} <= texts
    assert not {"plain", " lead", "tab\tok", "_X004g_", "Nom refusé."} & texts

    monkeypatch.setattr(workbook._Sheet, "_escape_control_characters",
                        staticmethod(xmlwriter.XMLwriter._escape_control_characters))
    assert parts(write_workbook(D, tmp_path / "b.xlsx", header=HEADER, rows=rows, issues=issues)) == fast


def test_the_rows_of_data_and_erreurs_sheets_skip_xlsxwriter_s_a1_conversion(tmp_path, monkeypatch):
    """A cell of a data row or of the « Erreurs » sheet goes to xlsxwriter's undecorated writer
    (its decorated one looks for « A1 » notation at each call, for a million cells)."""
    from xlsxwriter.worksheet import Worksheet

    calls = []
    for name in ("write_string", "write_number", "write_blank"):
        decorated = getattr(Worksheet, name)

        def counted(self, *args, _decorated=decorated, **kwargs):
            calls.append((self.name, args[0], args[1]))
            return _decorated(self, *args, **kwargs)

        monkeypatch.setattr(Worksheet, name, counted)
    path = write_workbook(D, tmp_path / "e.xlsx", header=HEADER, rows=ROWS, issues=ISSUES)
    explain = {s.name: len(s.fields) for s in D.sheets}  # the « À corriger » column, once a row
    assert not [c for c in calls if c[0] == "Erreurs" and c[1] > 0]
    assert not [c for c in calls if c[0] in explain and c[1] > 0 and c[2] != explain[c[0]]]
    ws = openpyxl.load_workbook(path)["Demandes"]
    assert ws["D2"].value == "=1+1" and ws["B3"].value == "31/02/2024" and ws["B3"].comment


def test_the_heights_of_rows_below_every_note_are_let_go_once_written(tmp_path, monkeypatch):
    """xlsxwriter keeps each row's height to place the notes when it saves: 100,000 demandes
    rejected in bulk set that of ~1.8 million rows (« À corriger », « Erreurs »). Those below
    every note of their sheet are let go once written; the notes are placed as before, byte for
    byte (a note far down, and rows high above and below it)."""
    import zipfile

    from converter import workbook

    monkeypatch.setattr(workbook, "MAX_ISSUE_NOTES", 40)
    rows = {"Demandes": [{**ROWS["Demandes"][1], "__row": 2 + i} for i in range(300)]}
    issues = [Issue("date_invalide", f"Date invalide, ligne {i} : " + "saisissez une vraie date. " * (1 + i % 4),
                    sheet="Demandes", row=2 + i, column=column, balise=balise, value="31/02/2024")
              for i in range(300) for column, balise in (("B", "dateCommande"), ("F", "nomMandataire"))]
    sheets = []
    original = workbook._Sheet._write_single_row

    def kept(self, current_row_num=0):
        original(self, current_row_num)
        sheets.append(self)

    monkeypatch.setattr(workbook._Sheet, "_write_single_row", kept)

    def parts(path):
        with zipfile.ZipFile(path) as z:
            return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}

    written = parts(write_workbook(D, tmp_path / "a.xlsx", header=HEADER, rows=rows, issues=issues))
    heights = {ws.name: len(ws.row_sizes) for ws in sheets}
    assert heights["Erreurs"] <= workbook.NOTE_ROWS + 1 and heights["Demandes"] <= 20 + workbook.NOTE_ROWS + 1, heights
    monkeypatch.setattr(workbook, "NOTE_ROWS", 10**6)  # every height kept, as xlsxwriter does
    assert parts(write_workbook(D, tmp_path / "b.xlsx", header=HEADER, rows=rows, issues=issues)) == written
    assert any(b"<x:Row>20</x:Row>" in data for name, data in written.items() if name.endswith(".vml"))
