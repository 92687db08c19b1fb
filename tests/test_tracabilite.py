"""docs/tracabilite-seeds.md kept honest: each sentence it quotes is in the seed documents it
names, each issue code it gives exists with the severity it says, each test it cites exists;
the formats' YAML quotes are in the seeds too, and the reference lists are the seeds' own.

The seeds are the ASP's documents, beside the repository (`../shared/seeds/`, FORMATS.md):
where they are not, there is nothing to compare with and these tests are skipped.
"""

from __future__ import annotations

import ast
import csv
import re
import unicodedata
from functools import cache
from pathlib import Path

import pytest

from converter.issues import MESSAGES

REPO = Path(__file__).parents[1]
TRACE = REPO / "docs" / "tracabilite-seeds.md"
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"

pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed documents (../shared/seeds) are not here")


def key(text: str) -> str:
    """Letters and digits only, without accents, in lower case, « l » read as « i »: the seeds
    are text extracted from PDF (line breaks and hyphenation anywhere, « I' » for « l' » in the
    optical reading of seed 002), the quotes are written as the sentence reads."""
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", text.lower()).replace("l", "i")


@cache
def seeds() -> dict[str, str]:
    return {p.name[:3]: key(p.read_text(encoding="utf-8")) for p in SEEDS.glob("0*.txt")}


def fragments(quote: str) -> list[str]:
    """The parts of a quote that must be found as they are: a quote is shortened with « […] »,
    and the seeds' lists break their items apart (« : • Facture • MOM »)."""
    parts = [k for k in (key(part) for part in re.split(r"\[…\]|…|[:;•]", quote)) if len(k) >= 8]
    return parts or [key(quote)] if key(quote) else []  # a list of short values: « « TTC », « HT » »


def quoted_in(quote: str, seed: str) -> bool:
    parts = fragments(quote)
    return bool(parts) and all(part in seeds()[seed] for part in parts)


def rows() -> list[list[str]]:
    """The cells of every row of the trace's tables whose first cell is a rule number (C1, A23…)."""
    found = []
    for line in TRACE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(r"[A-Z]\d+", cells[0]):
            found.append(cells)
    return found


def test_the_trace_numbers_each_rule_once():
    numbers = [cells[0] for cells in rows()]
    assert len(numbers) > 100 and len(set(numbers)) == len(numbers)


def test_every_quoted_sentence_is_in_the_documents_it_names():
    checked, missing = 0, []
    for cells in rows():
        if len(cells) != 6 or not re.fullmatch(r"\d{3}(, \d{3})*", cells[1]):
            continue
        quote = cells[2][cells[2].index("«") + 1:cells[2].rindex("»")]
        checked += 1
        missing += [f"{cells[0]} ({seed}) : {quote}" for seed in cells[1].split(", ") if not quoted_in(quote, seed)]
    assert checked > 90 and missing == []


def test_the_comparison_finds_a_sentence_changed_by_one_word():
    """The check above is no formality: a word changed, or a seed it is not in, fails it."""
    assert quoted_in("Une pièce justificative ne peut peser plus de 3Mo", "001")
    assert not quoted_in("Une pièce justificative ne peut peser plus de 5Mo", "001")
    assert not quoted_in("le champ contient la liste des RPPS des médecins libéraux", "001")
    assert quoted_in("La date d'émission du bon de commande doit être postérieure à la Date 0", "002")  # « Ladate … étre … a »


def test_every_code_exists_with_the_severity_the_trace_gives():
    wrong = []
    for cells in rows():
        for part in cells[-2].split(";"):
            part = part.strip()
            said = "erreur" if part.startswith("erreur") else "avertissement" if part.startswith("avertissement") else None
            codes = re.findall(r"`([a-z0-9_]+)`", part)
            if said is None:
                wrong += [f"{cells[0]} : `{c}` sans gravité" for c in codes]
            wrong += [f"{cells[0]} : `{c}` ({said})" for c in codes if c not in MESSAGES or MESSAGES[c][0] != said]
    assert wrong == []


def test_every_error_of_the_catalogue_has_its_place_in_the_trace():
    """An error refuses a demande: it quotes a document's sentence, or says why it is no rule of
    the ASP's (section 8)."""
    text = TRACE.read_text(encoding="utf-8")
    assert [c for c, (severity, _) in MESSAGES.items() if severity == "erreur" and f"`{c}`" not in text] == []


@cache
def defined_tests(path: str) -> frozenset[str]:
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    return frozenset(node.name for node in tree.body if isinstance(node, ast.FunctionDef))


def test_every_test_cited_exists():
    cited = [(cells[0], m.group(1), m.group(2)) for cells in rows()
             for m in re.finditer(r"(tests/test_\w+\.py)::(test_\w+)", cells[-1])]
    assert len(cited) > 100
    assert [c for c in cited if not (REPO / c[1]).is_file() or c[2] not in defined_tests(c[1])] == []
    # a row without a test says why: a rule that xl2segur does not check
    assert [cells[0] for cells in rows() if "tests/" not in cells[-1] and "non vérifiée" not in cells[3]
            and "rien à vérifier" not in cells[3]] == []


def yaml_quotes() -> list[tuple[str, str]]:
    """The quotes of the formats' YAML comments, a comment running over several lines read as one."""
    found = []
    for path in sorted((REPO / "converter" / "formats").glob("*.yaml")):
        text, block = [], []
        for line in path.read_text(encoding="utf-8").splitlines():
            comment = line.split("#", 1)[1] if "#" in line else None
            if comment is not None:
                block.append(comment.strip())
            elif block:
                text.append(" ".join(block))
                block = []
        text.append(" ".join(block))
        found += [(path.name, m.group(1)) for chunk in text for m in re.finditer(r"«\s*([^«»]{25,}?)\s*»", chunk)]
    return found


def test_the_formats_quote_the_seeds_as_they_read():
    quotes = yaml_quotes()
    assert len(quotes) > 20
    assert [q for q in quotes if not any(quoted_in(q[1], seed) for seed in seeds())] == []


def annex_codes(seed: str) -> list[str]:
    text = next(SEEDS.glob(f"{seed}_*.txt")).read_text(encoding="utf-8")
    annex = text[text.index("LISTE DES VALEURS PERMISES POUR L"):]
    # « CH _20 CH REGIONAL D''ORLEANS »: three characters (a space among them), « _ », the number
    return re.findall(r"^\s*(\S[^\n_]{2}_\d{1,3})(?=\s)", annex, flags=re.MULTILINE)


def test_operator_codes_are_the_annex_of_seeds_000_and_001():
    with open(REPO / "converter" / "reference" / "operateurs-messagerie.csv", encoding="utf-8", newline="") as fh:
        operators = list(csv.DictReader(fh))
    codes = [row["code"] for row in operators]
    assert len(codes) == 355 and "CH _20" in codes and "HÔP_302" in codes
    for seed in ("000", "001"):
        assert annex_codes(seed) == codes
        # each label follows its code (the names an operator is recognised by, when typed for its code)
        assert [row["code"] for row in operators if key(row["code"] + row["libelle"]) not in seeds()[seed]] == []


@pytest.mark.parametrize("name", ["operateurs-messagerie.csv", "bareme-hop-pfi-va2.csv", "bareme-sfp-lgc-va2.csv"])
def test_the_reference_lists_are_the_shared_ones(name):
    shared = SHARED / "reference" / name
    if not shared.is_file():
        pytest.skip(f"../shared/reference/{name} is not here")
    assert (REPO / "converter" / "reference" / name).read_bytes() == shared.read_bytes()
