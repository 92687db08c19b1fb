"""Property tests (hypothesis), bounded so that the normal pytest run stays fast.

1. Random valid demandes → workbook → `api.convert`: every JSON value equals the input.
2. Random cell contents (text, unicode, numbers, formula-looking strings) in any column:
   `api.verify` always returns an Outcome, never raises.
"""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converter import api
from converter.formats import get_format

from .builders import seed_001_rows, workbook
from .test_hostile import deposit, values_of

FMT = "ms2-dui-pds-avance"
BOUNDED = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZÉÈÀÇÔ '-"
# « NULL » is what the ASP's guides say to type for no value: read as an empty cell, not a name
names = st.text(UPPER, min_size=1, max_size=40).map(str.strip).filter(lambda s: s and s.lower() != "null")
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
editeurs = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=5, max_size=5)
finess = st.from_regex(r"\A[0-9]{9}\Z")


@st.composite
def demandes(draw):
    numbers = draw(st.lists(editeurs, min_size=1, max_size=3, unique=True))
    rows: dict[str, list] = {}
    expected = []
    for ne in numbers:
        one = seed_001_rows(ne)
        amount, day, name, fj = draw(amounts), draw(dates), draw(names), draw(finess)
        one["Demandes"][0].update(dateCommande=day.strftime("%d/%m/%Y"), montantSegurHT=str(amount))
        one["OG"][0].update(FINESSJuridique=fj, nomResponsableOG=name)
        for row in one["FINESS Géo"]:
            row["FINESSJuridique"] = fj
        for sheet, part in one.items():
            rows.setdefault(sheet, []).extend(part)
        expected.append((ne, day.strftime("%d/%m/%Y"), amount, fj, name))
    return rows, expected


@BOUNDED
@given(demandes())
def test_valid_demandes_round_trip(case):
    rows, expected = case
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        outcome = api.convert(workbook(folder / "in.xlsx", rows), folder / "depot", date(2024, 3, 12),
                              registre=folder / "registre.sqlite")  # each example a history of its own
        assert outcome.errors == [] and outcome.exit_code == 0
        data = deposit(outcome)
    assert values_of(data, "numeroEditeur") == [e[0] for e in expected]
    assert values_of(data, "dateCommande") == [e[1] for e in expected]
    assert [Decimal(str(v)) for v in values_of(data, "montantSegurHT")] == [e[2] for e in expected]
    assert values_of(data, "FINESSJuridique") == [e[3] for e in expected]
    assert values_of(data, "nomResponsableOG") == [e[4] for e in expected]


_definition = get_format(FMT)
cells = [(s.name, b) for s in _definition.sheets if s.name in seed_001_rows() for b in s.balises] + [
    ("Entête", "numeroAns"), ("Entête", "SIRET")]
contents = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=60),
    st.sampled_from(["=1+1", "+33", "-5", "@SUM(A1)", "#N/A", "#DIV/0!", "VRAI", "faux", " ", "\u00a0",
                     "\u200b", "١٢٣", "🚀", "0", "1e308", "NaN", "45363", "31/02/2024"]),
    st.integers(min_value=-10**20, max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@BOUNDED
@given(st.lists(st.tuples(st.sampled_from(cells), contents), min_size=1, max_size=6))
def test_any_cell_content_gives_an_outcome(changes):
    rows = seed_001_rows()
    header = {}
    for (sheet, balise), value in changes:
        if sheet == "Entête":
            header[balise] = value
        else:
            rows[sheet][0][balise] = value
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        outcome = api.verify(workbook(folder / "in.xlsx", rows, header=header))
    assert isinstance(outcome, api.Outcome)
    assert outcome.exit_code in (0, 1, 2)
    for found in outcome.issues:
        assert found.message and found.render()
