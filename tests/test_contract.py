"""Each format's column contract, transcribed from the seeds (FORMATS.md §1–5) independently of
converter/formats/*.yaml, and checked against what the tool does.

For every column of every sheet: an empty cell (refused when the column is required, or
required in a given context; accepted when optional), a value of the wrong kind, the length
limits, the allowed values (each one accepted, and exactly those in the template's drop-down
list) and upper-casing. For every sheet: its unique key, its link to its parent sheet and the
parent rows that need it. A definition that drifts from the seeds fails here.

Each check builds one workbook holding one demande per case (numeroEditeur 00001, 00002…),
each case changing the seed example in one way, then verifies it once and looks for the
expected issue at the changed cell (sheet, row, balise).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from converter import api
from converter.attachments import MAGIC
from converter.formats import all_formats
from tests.builders import merge, seed_001_rows, workbook
from tests.builders_solde import seed_000_rows, seed_003_liberal_rows, seed_003_structure_rows

Rows = dict[str, list[dict[str, Any]]]
OPERATORS_CSV = Path(__file__).parents[1] / "converter" / "reference" / "operateurs-messagerie.csv"

# A value each kind refuses, and the issue code it must raise.
BAD: dict[str, tuple[str, str]] = {
    "numero_editeur": ("0001", "numero_editeur_invalide"),
    "date": ("31/02/2024", "date_invalide"),
    "amount": ("quatre mille", "montant_invalide"),
    "boolean": ("peut-être", "booleen_invalide"),
    "choice": ("INCONNU", "valeur_non_autorisee"),
    "finess": ("34567891", "finess_invalide"),
    "rpps": ("1234567890", "rpps_invalide"),
    "email": ("direction@og", "email_invalide"),
    "phone": ("0612345678", "telephone_invalide"),
    "integer": ("1,5", "entier_invalide"),
    "numero_asp_ms2": ("FINMDV000002", "numero_asp_invalide"),
    "numero_asp_mdv": ("FINMS2000002", "numero_asp_invalide"),
    "cpx": ("A12345678!", "motif"),
    "categorie4": ("11O1", "motif"),
    "categorie3": ("1O1", "motif"),
    "nombre": ("quinze mille", "motif"),
}


@dataclass(frozen=True)
class Col:
    """What the seeds say of one column."""

    kind: str  # a key of BAD, or "text" (free text)
    # required | if (required in `context`, else empty) | optional | expected (in `context`,
    # empty is written null with a warning; else empty) | kept (required in `context`; out of
    # it, a value is kept with a warning)
    presence: str = "required"
    context: dict[str, Any] = field(default_factory=dict)  # changes to the row that make it required
    base: str = "default"  # which example demande the case starts from
    max_length: int | None = None
    length: int | None = None
    values: tuple[str, ...] = ()  # exactly the drop-down list
    upper: bool = False
    good: str = "A"  # a character that fits the column, to build values of a given length


@dataclass(frozen=True)
class SheetContract:
    columns: dict[str, Col]
    # another value for each key part but numeroEditeur: the row then is no duplicate
    unique: dict[str, str] = field(default_factory=dict)
    # a value matching no parent row, for each column linking to the parent sheet
    parent_keys: dict[str, str] = field(default_factory=dict)
    # (parent sheet, code, base) when a parent row needs at least one row here
    needed_by: tuple[str, str, str] | None = None
    optional_sheet: bool = False
    # a copy of a row is kept, with the warning doublon_garde (the seed is silent on it)
    duplicate_kept: bool = False


@dataclass(frozen=True)
class Contract:
    fmt: str
    bases: dict[str, Callable[[str], Rows]]
    sheets: dict[str, SheetContract]
    header: dict[str, str] = field(default_factory=dict)


def _with_pieces(rows: Callable[[str], Rows], **piece: str) -> Callable[[str], Rows]:
    def build(ne: str) -> Rows:
        return merge(rows(ne), {"Pièces": [{"numeroEditeur": ne, **piece}]})
    return build


def _operators() -> tuple[str, ...]:
    with open(OPERATORS_CSV, encoding="utf-8", newline="") as fh:
        return tuple(row["code"] for row in csv.DictReader(fh))


MANDATAIRE = {"isMandataire": "VRAI", "nomMandataire": "DUPONT", "emailMandataire": "m@mandataire.fr",
              "telephoneMandataire": "+33600000000"}
NE = Col("numero_editeur")
# an order-check workbook's reference: seeds 002 and 004 publish no deposit format and say
# nothing of a numéro éditeur; another shape than 5 letters or digits is kept, with a warning
REF = Col("reference")
FORMATS_FICHIER = ("PDF", "PNG", "JPG")


def _pieces(types: tuple[str, ...], other_type: str) -> SheetContract:
    return SheetContract(
        {"numeroEditeur": NE, "typeFichier": Col("choice", values=types),
         "formatFichier": Col("choice", values=FORMATS_FICHIER), "fichierSource": Col("text", "optional")},
        unique={"typeFichier": other_type}, parent_keys={"numeroEditeur": "ZZ999"}, optional_sheet=True)


# ---------------------------------------------------------------- seed 001 (FORMATS.md §2)

AVANCE_SHEETS = {
    "Demandes": SheetContract({
        "numeroEditeur": NE,
        "dateCommande": Col("date"),
        "regimeTVA": Col("choice", values=("TTC", "HT")),
        "montantSegurHT": Col("amount"),
        "isMandataire": Col("boolean"),
        "nomMandataire": Col("text", "if", MANDATAIRE, max_length=49, upper=True),
        "emailMandataire": Col("email", "if", MANDATAIRE),
        "telephoneMandataire": Col("phone", "if", MANDATAIRE),
    }),
    "OG": SheetContract({
        "numeroEditeur": NE,
        "FINESSJuridique": Col("finess"),
        "demandeCertificatServeur": Col("boolean"),
        # the example asks for a certificate, with statut S and contractualisationOG true
        "contractualisationOG": Col("boolean", "if"),
        "statutAdminTechnique": Col("choice", "if", values=("E", "S")),
        "contractualisationEditeur": Col("boolean", "if", {"statutAdminTechnique": "E",
                                                           "contractualisationEditeur": "VRAI"}),
        "numeroCarteCPX": Col("cpx", "if", length=10),
        "nomAdminTechnique": Col("text", "if", max_length=24, upper=True),
        "telAdminTechnique": Col("phone", "if"),
        "emailAdminTechnique": Col("email", "if"),
        # « demandeCertificatServeur = false alors Champ null », and no « Obligatoire » (seed 001)
        "utiliteCertificat": Col("choice", "expected", values=("DMP", "INS", "DMP, INS")),
        "nomResponsableOG": Col("text", max_length=49, upper=True),
        "emailResponsableOG": Col("email"),
        "telephoneResponsableOG": Col("phone"),
    }, unique={"FINESSJuridique": "750000010"}, parent_keys={"numeroEditeur": "ZZ999"},
        needed_by=("Demandes", "sans_enfant", "default")),
    "FINESS Géo": SheetContract({
        "numeroEditeur": NE, "FINESSJuridique": Col("finess"), "FINESSGeo": Col("finess"),
    }, unique={"FINESSGeo": "750000028"}, parent_keys={"numeroEditeur": "ZZ999", "FINESSJuridique": "888888888"},
        needed_by=("OG", "sans_enfant", "default")),
    "Scénarios": SheetContract({
        "numeroEditeur": NE,
        "FINESSGeo": Col("finess"),
        "ancienneVersion": Col("text", max_length=49),
        "isMaitreId": Col("boolean"),
        "IsStockageId": Col("boolean"),
        "operateurMessagerie": Col("choice", "optional", values=_operators()),
        "profilMetier": Col("choice", "optional", values=("PDS",)),
        "IsRefSoins": Col("boolean", "optional"),  # row 0 is maître d'identité: IsRefSoins may be filled
    }, unique={"FINESSGeo": "750000028"}, parent_keys={"numeroEditeur": "ZZ999"}),
    "Pièces": _pieces(("BON_COMMANDE", "PREUVE_HT"), "PREUVE_HT"),
}
PDE_AVANCE_SHEETS = {**AVANCE_SHEETS, "Scénarios": SheetContract(
    {b: c for b, c in AVANCE_SHEETS["Scénarios"].columns.items() if b != "profilMetier"},
    unique={"FINESSGeo": "750000028"}, parent_keys={"numeroEditeur": "ZZ999"})}
AVANCE_BASES = {"default": _with_pieces(seed_001_rows, typeFichier="BON_COMMANDE", formatFichier="PNG")}

# ---------------------------------------------------------------- seed 000 (FORMATS.md §3)

MS2_SOLDE_SHEETS = {
    "Demandes": SheetContract({
        "numeroEditeur": NE,
        "numeroASP": Col("numero_asp_ms2", length=12, good="0"),
        "dateFacture": Col("date"),
        "montantSegurHTFacture": Col("amount"),
    }),
    "OG": SheetContract({
        "numeroEditeur": NE, "FINESSJuridique": Col("finess"), "nbreDossiersDUIActifs": Col("integer"),
    }, unique={"FINESSJuridique": "750000010"}, parent_keys={"numeroEditeur": "ZZ999"},
        needed_by=("Demandes", "sans_enfant", "default")),
    "FINESS Géo": AVANCE_SHEETS["FINESS Géo"],
    "Scénarios": SheetContract({
        "numeroEditeur": NE,
        "FINESSGeo": Col("finess"),
        "ancienneVersion": Col("text", max_length=49),
        "isMaitreId": Col("boolean"),
        "IsStockageId": Col("boolean"),
        "operateurMessagerie": Col("choice", "optional", values=_operators()),
    }, unique={"FINESSGeo": "750000028"}, parent_keys={"numeroEditeur": "ZZ999"}),
    "Pièces": _pieces(("FACTURE", "VA"), "VA"),
}
MS2_SOLDE_BASES = {"default": _with_pieces(seed_000_rows, typeFichier="FACTURE", formatFichier="PNG")}

# ---------------------------------------------------------------- seed 003 (FORMATS.md §4)

MDV_SHEETS = {
    "Demandes": SheetContract({
        "numeroEditeur": NE,
        "numeroASP": Col("numero_asp_mdv", length=12, good="0"),
        "dateFacture": Col("date"),
        "montantSegurHTFacture": Col("amount"),
        "commandePour": Col("choice", values=("LIBERAL", "STRUCTURE")),
        "isDirectToDMP": Col("boolean"),
    }),
    "RPPS": SheetContract({"numeroEditeur": NE, "liberalRPPS": Col("rpps")},
                          unique={"liberalRPPS": "10000000009"}, parent_keys={"numeroEditeur": "ZZ999"},
                          needed_by=("Demandes", "sans_enfant_si", "default"),
                          # « la liste des RPPS des médecins libéraux » (seed 003): silent on one twice
                          duplicate_kept=True),
    "FINESS Géo": SheetContract({"numeroEditeur": Col("numero_editeur", base="structure"),
                                 "structureFINESSGeo": Col("finess", base="structure")},
                                unique={"structureFINESSGeo": "750000028"}, parent_keys={"numeroEditeur": "ZZ999"},
                                needed_by=("Demandes", "sans_enfant_si", "structure"),
                                # « la liste des numéros de FINESS géographiques » (seed 003): silent on one twice
                                duplicate_kept=True),
    "identDMP": SheetContract({"numeroEditeur": Col("numero_editeur", base="structure"),
                               "identDMP": Col("rpps", base="structure")},
                              unique={"identDMP": "10000000025"}, parent_keys={"numeroEditeur": "ZZ999"},
                              needed_by=("Demandes", "sans_enfant_si", "structure"),
                              # « Indiquer dans ce tableau le / les RPPS » (seed 003): silent on one twice
                              duplicate_kept=True),
    "Pièces": _pieces(("FACTURE", "VA", "MOM"), "FACTURE"),
}


def _mdv(rows: Callable[..., Rows]) -> Callable[[str], Rows]:
    return _with_pieces(lambda ne: rows(ne=ne, numero_asp="FINMDV000001"), typeFichier="MOM", formatFichier="PDF")


MDV_BASES = {"default": _mdv(seed_003_liberal_rows), "structure": _mdv(seed_003_structure_rows)}

# ---------------------------------------------------------------- seeds 002 and 004 (FORMATS.md §5)

HOP_SHEETS = {"Commandes": SheetContract({
    "numeroEditeur": REF,
    "FINESSPMSI": Col("finess"),
    "FINESSJuridique": Col("finess"),
    "categorieFINESSJuridique": Col("categorie4"),
    "FINESSGeographique": Col("finess"),
    "categorieFINESSGeographique": Col("categorie3"),
    "prestation": Col("choice", values=("V2", "V1+V2")),
    "activiteCombinee": Col("nombre"),
    "regimeTVA": Col("choice", values=("TTC20", "TTC8.5", "HT")),
    "dateEmission": Col("date"),
    "dateSignature": Col("date"),
    "mentionConditionnelle": Col("boolean", "optional"),
    "montantCommande": Col("amount"),
})}
PROFESSIONS = ("sage-femme", "ipa", "ide", "masseur-kinesitherapeute", "orthophoniste", "orthoptiste",
               "pedicure-podologue")
CSI = {"typeClient": "csi", "RPPS": None, "FINESSGeographique": "750000044", "trancheCSI": "A",
       "montantCommande": "500.00"}
SFP_SHEETS = {"Commandes": SheetContract({
    "numeroEditeur": REF,
    "typeClient": Col("choice", values=(*PROFESSIONS, "csi")),
    # seed 004 §4.2 identifies a professional by the RPPS, a CSI by its FINESS; silent otherwise
    "RPPS": Col("rpps", "kept"),  # the example is an IDE
    "FINESSGeographique": Col("finess", "kept", CSI),
    "trancheCSI": Col("choice", "kept", CSI, values=("A", "B", "C", "D", "E")),
    "regimeTVA": Col("choice", values=("TTC20", "TTC8.5", "HT")),
    "dateEmission": Col("date"),
    "dateSignature": Col("date"),
    "mentionConditionnelle": Col("boolean", "optional"),
    "montantCommande": Col("amount"),
})}


def _hop(ne: str) -> Rows:
    # each order its own client (one order per client): FINESS PMSI from the numeroEditeur
    return {"Commandes": [{
        "numeroEditeur": ne, "FINESSPMSI": f"7500{ne}", "FINESSJuridique": f"7500{ne}",
        "categorieFINESSJuridique": "1101", "FINESSGeographique": "750000051",
        "categorieFINESSGeographique": "101", "prestation": "V2", "activiteCombinee": "15000",
        "regimeTVA": "TTC20", "dateEmission": "02/03/2026", "dateSignature": "16/03/2026",
        "mentionConditionnelle": "VRAI", "montantCommande": "8183.47"}]}


def _sfp(ne: str) -> Rows:
    return {"Commandes": [{
        "numeroEditeur": ne, "typeClient": "ide", "RPPS": f"100000{ne}", "regimeTVA": "TTC20",
        "dateEmission": "01/02/2027", "dateSignature": "15/02/2027", "mentionConditionnelle": "VRAI",
        "montantCommande": "270.00"}]}


CONTRACTS = [
    Contract("ms2-dui-pds-avance", AVANCE_BASES, AVANCE_SHEETS),
    Contract("ms2-dui-pde-avance", AVANCE_BASES, PDE_AVANCE_SHEETS),
    Contract("ms2-dui-pde-solde", MS2_SOLDE_BASES, MS2_SOLDE_SHEETS),
    Contract("ms2-dui-pds-solde", MS2_SOLDE_BASES, MS2_SOLDE_SHEETS),
    Contract("mdv-lgc-solde", MDV_BASES, MDV_SHEETS),
    Contract("hop-pfi-va2-commandes", {"default": _hop}, HOP_SHEETS, {"date0": "01/03/2026"}),
    Contract("sfp-lgc-va2-commandes", {"default": _sfp}, SFP_SHEETS, {"date0": "15/01/2026"}),
]
BY_FORMAT = {c.fmt: c for c in CONTRACTS}
IDS = [c.fmt for c in CONTRACTS]


def _formats_with(column: Callable[[Col], bool] = lambda c: False,
                  sheet: Callable[[SheetContract], bool] = lambda s: False) -> list[str]:
    """The formats having a column or a sheet of this sort."""
    return [c.fmt for c in CONTRACTS if any(sheet(sc) or any(column(col) for col in sc.columns.values())
                                            for sc in c.sheets.values())]


# ---------------------------------------------------------------- one workbook, one demande per case


@dataclass
class Case:
    """A change to one demande of the example, and where its issue is expected."""

    label: str
    sheet: str  # sheet of the expected issue
    balise: str | None
    changes: dict[str, Any] = field(default_factory=dict)  # to row 0 of `changed`
    changed: str | None = None  # sheet whose row 0 changes (default: `sheet`)
    base: str = "default"
    append_copy: dict[str, Any] | None = None  # add a copy of row 0 of `sheet`, with these changes
    drop_sheet: str | None = None  # remove the demande's rows of this sheet
    row: int = 0  # filled by _run: the workbook row of the expected issue


def _run(tmp_path: Path, contract: Contract, cases: list[Case]) -> api.Outcome:
    rows: Rows = {}
    for n, case in enumerate(cases, start=1):
        ne = f"{n:05d}"
        demande = contract.bases[case.base](ne)
        changed = case.changed or case.sheet
        if case.changes:
            demande[changed][0] = {**demande[changed][0], **case.changes}
        if case.drop_sheet:
            demande[case.drop_sheet] = []
        target = len(rows.get(case.sheet, []))  # index of the case's row 0 in the merged sheet
        if case.append_copy is not None:
            demande[case.sheet].append({**demande[case.sheet][0], **case.append_copy})
            target += len(demande[case.sheet]) - 1
        case.row = target + 2  # row 1 holds the balises
        rows = merge(rows, demande)
    return api.verify(workbook(tmp_path / "cas.xlsx", rows, contract.fmt, contract.header))


def _at(outcome: api.Outcome, case: Case, severity: str = "erreur") -> set[str]:
    """Codes of the issues at the case's cell (or row, when balise is None)."""
    return {i.code for i in outcome.issues if str(i.severity) == severity and i.sheet == case.sheet
            and i.row == case.row and (case.balise is None or i.balise == case.balise)}


def _columns(contract: Contract):
    for sheet, sc in contract.sheets.items():
        for balise, col in sc.columns.items():
            yield sheet, balise, col


def _check(outcome: api.Outcome, expected: list[tuple[Case, str | None, set[str]]]) -> None:
    """Each (case, code expected at its cell or None, codes that must not be there)."""
    wrong = []
    for case, code, absent in expected:
        found = _at(outcome, case)
        if (code and code not in found) or (found & absent):
            wrong.append(f"{case.label} ({case.sheet} ligne {case.row} {case.balise}): attendu {code or 'rien'} "
                         f"sans {sorted(absent)}, trouvé {sorted(found)}")
    assert not wrong, "\n".join(wrong)


# ---------------------------------------------------------------- columns


@pytest.mark.parametrize("fmt", IDS)
def test_example_is_valid(tmp_path, fmt):
    contract = BY_FORMAT[fmt]
    cases = [Case(f"exemple {base}", next(iter(contract.sheets)), None, base=base) for base in contract.bases]
    outcome = _run(tmp_path, contract, cases)
    assert outcome.errors == []


@pytest.mark.parametrize("fmt", IDS)
def test_empty_cells(tmp_path, fmt):
    """Required: `obligatoire`; required in its context: `obligatoire_si`; optional: accepted."""
    contract = BY_FORMAT[fmt]
    cases, expected = [], []
    for sheet, balise, col in _columns(contract):
        case = Case(f"{balise} vide", sheet, balise, {**col.context, balise: None}, base=col.base)
        cases.append(case)
        code = {"required": "obligatoire", "if": "obligatoire_si", "kept": "obligatoire_si", "optional": None,
                "expected": None}[col.presence]
        expected.append((case, code, set() if code else {"obligatoire", "obligatoire_si"}))
    _check(_run(tmp_path, contract, cases), expected)


@pytest.mark.parametrize("fmt", _formats_with(lambda c: c.presence in ("if", "expected") and not c.context))
def test_conditional_cells_must_stay_empty_outside_their_context(tmp_path, fmt):
    """A column required only in some context is refused when filled out of it: the example
    row, which meets the context of none (mandataire) or all (certificate) of them, is turned
    the other way."""
    contract = BY_FORMAT[fmt]
    cases = []
    for sheet, balise, col in _columns(contract):
        if col.presence in ("if", "expected") and not col.context:
            off = {"demandeCertificatServeur": "FAUX"} if sheet == "OG" else {"typeClient": "csi", **CSI, "RPPS": None}
            value = contract.bases[col.base]("00000")[sheet][0][balise]
            cases.append(Case(f"{balise} hors contexte", sheet, balise, {**off, balise: value}, base=col.base))
    # seed 001 says « SI demandeCertificatServeur = false alors Champ null » of the CPx number
    # too, though its own condition has other cases where the seed is silent
    code = {"numeroCarteCPX": "doit_etre_vide_si", "utiliteCertificat": "doit_etre_vide_si"}
    _check(_run(tmp_path, contract, cases), [(c, code.get(c.balise, "doit_etre_vide"), set()) for c in cases])


@pytest.mark.parametrize("fmt", _formats_with(lambda c: c.presence == "expected"))
def test_expected_cells_left_empty_are_kept_with_a_warning(tmp_path, fmt):
    """A balise the seed names in a context without « Obligatoire » (utiliteCertificat: only
    « demandeCertificatServeur = false alors Champ null », seed 001) left empty in that context:
    no error, the warning `attendue_si` at its cell."""
    contract = BY_FORMAT[fmt]
    cases = [Case(f"{balise} vide", sheet, balise, {**col.context, balise: None}, base=col.base)
             for sheet, balise, col in _columns(contract) if col.presence == "expected"]
    outcome = _run(tmp_path, contract, cases)
    _check(outcome, [(c, None, {"obligatoire", "obligatoire_si"}) for c in cases])
    assert [c.label for c in cases if "attendue_si" not in _at(outcome, c, "avertissement")] == []


@pytest.mark.parametrize("fmt", _formats_with(lambda c: c.presence == "kept"))
def test_kept_cells_filled_outside_their_context_are_kept_with_a_warning(tmp_path, fmt):
    """SFP-LGC-Va2: an RPPS on a CSI's row, a FINESS or a tranche on a professional's row, where
    seed 004 is silent: no error, the warning `valeur_non_exigee_commande` at its cell. The
    value identifies no one: the CSI with the professional's RPPS, the professional with the
    CSI's FINESS, are two clients (seed 004 §4.2: a professional is identified by the RPPS, a
    CSI by its FINESS), not one client ordering twice."""
    contract = BY_FORMAT[fmt]
    cases = []
    for n, (sheet, balise, col) in enumerate(_columns(contract)):
        if col.presence == "kept":
            row = {**CSI, "RPPS": "10000012345"} if not col.context else {
                **col.context, "typeClient": "ide", "RPPS": "10000012345" if balise == "FINESSGeographique"
                else f"100000{n:05d}", "montantCommande": "270.00"}
            cases.append(Case(f"{balise} hors contexte", sheet, balise, row))
    outcome = _run(tmp_path, contract, cases)
    assert outcome.errors == [] and len(outcome.accepted) == len(cases)
    assert [c.label for c in cases if "valeur_non_exigee_commande" not in _at(outcome, c, "avertissement")] == []


@pytest.mark.parametrize("fmt", IDS)
def test_values_of_the_wrong_kind(tmp_path, fmt):
    contract = BY_FORMAT[fmt]
    cases, expected = [], []
    for sheet, balise, col in _columns(contract):
        if col.kind in BAD:
            value, code = BAD[col.kind]
            case = Case(f"{balise} = {value}", sheet, balise, {**col.context, balise: value}, base=col.base)
            cases.append(case)
            expected.append((case, code, set()))
    _check(_run(tmp_path, contract, cases), expected)


@pytest.mark.parametrize("fmt", _formats_with(lambda c: c.kind == "reference"))
def test_an_order_reference_of_another_shape_is_kept_with_a_warning(tmp_path, fmt):
    """The 5 letters or digits of a numéro éditeur are seed 001's (« VARCHAR (=5) »): the order
    workbooks' seeds say nothing of it. « 0001 », « BC-2027-001 », « 000 01 » are kept as typed."""
    contract = BY_FORMAT[fmt]
    cases = [Case(f"{balise} = {value}", sheet, balise, {balise: value})
             for sheet, balise, col in _columns(contract) if col.kind == "reference"
             for value in ("0001", "BC-2027-001", "000 01")]
    outcome = _run(tmp_path, contract, cases)
    assert outcome.errors == [] and outcome.accepted == ["0001", "BC-2027-001", "000 01"]
    assert [c.label for c in cases if "reference_commande_libre" not in _at(outcome, c, "avertissement")] == []


@pytest.mark.parametrize("fmt", _formats_with(lambda c: bool(c.max_length or c.length)))
def test_lengths(tmp_path, fmt):
    """`VARCHAR(<N)`: N - 1 characters accepted, N refused; `(=N)`: only N accepted."""
    contract = BY_FORMAT[fmt]
    cases, expected = [], []
    for sheet, balise, col in _columns(contract):
        prefix = "FINMS2" if col.kind == "numero_asp_ms2" else "FINMDV" if col.kind == "numero_asp_mdv" else ""
        sizes = []
        if col.max_length:
            sizes = [(col.max_length, None), (col.max_length + 1, "longueur_max")]
        if col.length:
            code = "numero_asp_invalide" if prefix else "longueur_exacte"
            sizes = [(col.length, None), (col.length - 1, code), (col.length + 1, code)]
        for size, code in sizes:
            value = prefix + col.good * (size - len(prefix))
            case = Case(f"{balise} de {size} caractères", sheet, balise, {**col.context, balise: value}, base=col.base)
            cases.append(case)
            expected.append((case, code, set() if code else {"longueur_max", "longueur_exacte", "numero_asp_invalide"}))
    _check(_run(tmp_path, contract, cases), expected)


@pytest.mark.parametrize("fmt", IDS)
def test_each_allowed_value_is_accepted(tmp_path, fmt):
    contract = BY_FORMAT[fmt]
    cases = [Case(f"{balise} = {v}", sheet, balise, {**col.context, balise: v}, base=col.base)
             for sheet, balise, col in _columns(contract) if col.kind == "choice"
             for v in (col.values if len(col.values) < 20 else col.values[::25])]
    _check(_run(tmp_path, contract, cases), [(c, None, {"valeur_non_autorisee"}) for c in cases])


@pytest.mark.parametrize("fmt", _formats_with(lambda c: c.upper))
def test_upper_case_names(tmp_path, fmt):
    """Names in MAJUSCULES: lower case is upper-cased, with a warning."""
    contract = BY_FORMAT[fmt]
    cases = [Case(f"{balise} en minuscules", sheet, balise, {**col.context, balise: "Dupont-éloi"}, base=col.base)
             for sheet, balise, col in _columns(contract) if col.upper]
    outcome = _run(tmp_path, contract, cases)
    _check(outcome, [(c, None, {"longueur_max", "motif"}) for c in cases])
    assert all("majuscules" in _at(outcome, c, "avertissement") for c in cases), [
        (c.label, _at(outcome, c, "avertissement")) for c in cases]


def _drop_down(ws, column: int) -> list[str] | None:
    letter = openpyxl.utils.get_column_letter(column)
    for dv in ws.data_validations.dataValidation:
        if any(str(r).startswith(f"{letter}2:") for r in dv.sqref.ranges):
            formula = dv.formula1
            if formula.startswith('"'):
                return formula.strip('"').split(",")
            sheet, ref = formula.lstrip("=").split("!")
            lists = ws.parent[sheet.strip("'")]
            return [c.value for row in lists[ref.replace("$", "")] for c in row]
    return None


@pytest.mark.parametrize("fmt", IDS)
def test_template_has_exactly_the_contract_columns_and_lists(tmp_path, fmt):
    contract = BY_FORMAT[fmt]
    path = tmp_path / "modele.xlsx"
    api.write_template(fmt, path)
    wb = openpyxl.load_workbook(path)
    for sheet, sc in contract.sheets.items():
        ws = wb[sheet]
        titles = [c.value for c in ws[1]]
        assert titles == list(sc.columns), sheet
        for n, (balise, col) in enumerate(sc.columns.items(), start=1):
            expected = list(col.values) if col.kind == "choice" else ["VRAI", "FAUX"] if col.kind == "boolean" else None
            assert _drop_down(ws, n) == expected, (sheet, balise)


ENTETE = [("numeroAns", "0123456789", "numero_ans_invalide", "012345678"),
          ("SIRET", "73282932000074", "siret_invalide", "7328293200007")]
# The order-check workbooks' dates, in Entête: Date 0 (required by SFP, whose calendar counts
# from it), the référencement and the dossier complet.
ENTETE_DATES = {"hop-pfi-va2-commandes": ("date0", "dateReferencement", "dateDossierComplet"),
                "sfp-lgc-va2-commandes": ("date0", "dateReferencement", "dateDossierComplet")}


@pytest.mark.parametrize("fmt", IDS)
def test_entete(tmp_path, fmt):
    """numeroAns and SIRET required, of their kind; the commandes' dates are dates."""
    contract = BY_FORMAT[fmt]
    rows = contract.bases["default"]("00001")
    changes = [({balise: None}, "obligatoire", balise) for balise, *_ in ENTETE]
    changes += [({balise: bad}, code, balise) for balise, _, code, bad in ENTETE]
    changes += [({balise: "31/02/2026"}, "date_invalide", balise) for balise in ENTETE_DATES.get(fmt, ())]
    for n, (header, code, balise) in enumerate(changes):
        outcome = api.verify(workbook(tmp_path / f"{n}.xlsx", rows, fmt, {**contract.header, **header}))
        assert ("Entête", 2, balise, code) in {(i.sheet, i.row, i.balise, i.code) for i in outcome.errors}, header
        assert outcome.accepted == []


def test_entete_without_format(tmp_path):
    contract = CONTRACTS[0]
    path = workbook(tmp_path / "w.xlsx", contract.bases["default"]("00001"), contract.fmt)
    wb = openpyxl.load_workbook(path)
    titles = [c.value for c in wb["Entête"][1]]
    wb["Entête"].cell(2, titles.index("format") + 1).value = None
    wb.save(tmp_path / "sans-format.xlsx")
    outcome = api.verify(tmp_path / "sans-format.xlsx")
    assert [(i.code, i.sheet, i.row, i.column) for i in outcome.issues] == [("format_absent", "Entête", 2, "C")]
    assert outcome.exit_code == 2


# ---------------------------------------------------------------- sheets


@pytest.mark.parametrize("fmt", IDS)
def test_unique_keys(tmp_path, fmt):
    """A copy of a row is a duplicate (kept with a warning where the seed is silent on it); a row
    differing in one part of the key is not."""
    contract = BY_FORMAT[fmt]
    cases, expected, kept = [], [], []
    for sheet, sc in contract.sheets.items():
        base = next(iter(sc.columns.values())).base
        dup = Case(f"{sheet} en double", sheet, None, append_copy={}, base=base)
        cases.append(dup)
        expected.append((dup, None, {"doublon"}) if sc.duplicate_kept else (dup, "doublon", set()))
        if sc.duplicate_kept:
            kept.append(dup)
        for balise, other in sc.unique.items():
            case = Case(f"{sheet} avec un autre {balise}", sheet, None, append_copy={balise: other}, base=base)
            cases.append(case)
            expected.append((case, None, {"doublon"}))
    outcome = _run(tmp_path, contract, cases)
    _check(outcome, expected)
    assert [c.label for c in kept if "doublon_garde" not in _at(outcome, c, "avertissement")] == []


@pytest.mark.parametrize("fmt", _formats_with(sheet=lambda s: bool(s.parent_keys)))
def test_rows_linked_to_their_parent(tmp_path, fmt):
    """A row whose link columns match no row of the parent sheet is refused."""
    contract = BY_FORMAT[fmt]
    links = [(sheet, sc, balise, value) for sheet, sc in contract.sheets.items()
             for balise, value in sc.parent_keys.items()]
    # each case its own unknown value: another case's row must not become its parent
    cases = [Case(f"{sheet}.{balise} inconnu", sheet, None, {balise: value[:-2] + f"{k:02d}"},
                  base=next(iter(sc.columns.values())).base)
             for k, (sheet, sc, balise, value) in enumerate(links)]
    _check(_run(tmp_path, contract, cases), [(c, "parent_inconnu", set()) for c in cases])


@pytest.mark.parametrize("fmt", _formats_with(sheet=lambda s: s.needed_by is not None))
def test_parent_rows_that_need_children(tmp_path, fmt):
    contract = BY_FORMAT[fmt]
    cases = [Case(f"sans {sheet}", sc.needed_by[0], None, drop_sheet=sheet, base=sc.needed_by[2])
             for sheet, sc in contract.sheets.items() if sc.needed_by]
    outcome = _run(tmp_path, contract, cases)
    needed = {c.label: contract.sheets[c.drop_sheet].needed_by[1] for c in cases}
    _check(outcome, [(c, needed[c.label], set()) for c in cases])


@pytest.mark.parametrize("fmt", _formats_with(sheet=lambda s: s.optional_sheet))
def test_optional_sheet_and_column_may_be_absent(tmp_path, fmt):
    """Pièces may be left out of the workbook, and its fichierSource column too (older templates)."""
    contract = BY_FORMAT[fmt]
    rows = contract.bases["default"]("00001")
    for sheet, sc in contract.sheets.items():
        if not sc.optional_sheet:
            continue
        optional_columns = [b for b, c in sc.columns.items() if c.presence == "optional"]
        wb = openpyxl.load_workbook(workbook(tmp_path / "w.xlsx", rows, fmt, contract.header))
        for n in range(len(optional_columns)):
            ws = wb[sheet]
            titles = [c.value for c in ws[1]]
            ws.delete_cols(titles.index(optional_columns[n]) + 1)
        wb.save(tmp_path / "sans-colonne.xlsx")
        del wb[sheet]
        wb.save(tmp_path / "sans-feuille.xlsx")
        for name in ("sans-colonne.xlsx", "sans-feuille.xlsx"):
            outcome = api.verify(tmp_path / name)
            assert outcome.errors == [] and outcome.accepted == ["00001"], (name, outcome.errors)


# ---------------------------------------------------------------- conditions with several terms


@pytest.mark.parametrize("fmt", ["ms2-dui-pds-avance", "ms2-dui-pde-avance"])
def test_certificate_columns_in_every_combination(tmp_path, fmt):
    """Seed 001: contractualisationEditeur only when a certificate is asked with statut E;
    numeroCarteCPX only when it is asked and (statut S and contractualisationOG) or (statut E
    and contractualisationEditeur); both « null » when no certificate is asked. Filled: accepted,
    `doit_etre_vide_si` (no certificate), or, where the seed is silent, accepted with the
    warning `valeur_non_exigee`; empty: `obligatoire_si` or accepted."""
    cases, expected, warned = [], [], []
    for cert, statut, og, editeur in itertools.product((True, False), "SE", (True, False), (True, False)):
        row = {"demandeCertificatServeur": cert, "statutAdminTechnique": statut, "contractualisationOG": og,
               "contractualisationEditeur": editeur, "numeroCarteCPX": "A123456789"}
        row = {b: ("VRAI" if v else "FAUX") if isinstance(v, bool) else v for b, v in row.items()}
        needs = {"contractualisationEditeur": cert and statut == "E",
                 "numeroCarteCPX": cert and ((statut == "S" and og) or (statut == "E" and editeur))}
        for balise, needed in needs.items():
            filled = Case(f"{balise} rempli, {row}", "OG", balise, row)
            empty = Case(f"{balise} vide, {row}", "OG", balise, {**row, balise: None})
            cases += [filled, empty]
            refused = None if needed or cert else "doit_etre_vide_si"
            expected += [(filled, refused, set() if refused else {"doit_etre_vide", "doit_etre_vide_si"}),
                         (empty, "obligatoire_si" if needed else None, set() if needed else {"obligatoire_si"})]
            warned.append((filled, cert and not needed))
    outcome = _run(tmp_path, BY_FORMAT[fmt], cases)
    _check(outcome, expected)
    wrong = [case.label for case, warn in warned if ("valeur_non_exigee" in _at(outcome, case, "avertissement")) != warn]
    assert not wrong, wrong


def test_rpps_required_for_each_profession(tmp_path):
    """SFP-LGC-Va2: every profession is identified by its RPPS, a CSI by its FINESS."""
    cases = [Case(f"{p} sans RPPS", "Commandes", "RPPS", {"typeClient": p, "RPPS": None}) for p in PROFESSIONS]
    _check(_run(tmp_path, BY_FORMAT["sfp-lgc-va2-commandes"], cases), [(c, "obligatoire_si", set()) for c in cases])


# ---------------------------------------------------------------- limits of the portal (FORMATS.md §1)


@pytest.mark.parametrize(("extra", "code"), [(0, None), (1, "piece_trop_lourde")])
def test_attachment_of_3_mo_at_most(tmp_path, extra, code):
    folder = tmp_path / "pieces"
    folder.mkdir()
    pdf = b"%PDF-1.4\n"
    # « 3 Mo » read as 3 000 000 octets: the stricter reading, so the portal never refuses what passes here
    (folder / "MS2-DUI-Va1-BDC-00001.pdf").write_bytes(pdf + b"0" * (3_000_000 - len(pdf) + extra))
    outcome = api.convert(workbook(tmp_path / "a.xlsx", seed_001_rows()), tmp_path / "depot", pieces=folder)
    assert [i.code for i in outcome.errors] == ([code] if code else [])


def test_attachment_formats_are_recognised_by_their_content():
    for definition in all_formats().values():
        assert definition.limits.attachment_formats == FORMATS_FICHIER
        assert set(MAGIC) == set(FORMATS_FICHIER)
