"""The cleaning of the cells, decided per column (`cleaned_columns`), gives what `cleaned`
gives on every cell, whatever the cells hold; « null » is found as the case-insensitive regex
found it; a plain column holds neither."""

from __future__ import annotations

import sys
import unicodedata

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.checks import NULL_TYPED
from converter.checks.values import _NOT_NFC, cleaned, cleaned_columns, is_error_cell

_ASCII = st.one_of(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=6),
                   st.sampled_from(["#N/A", "#REF!", "Err:502", " #DIV/0!", "#NUM! ", "x#N/A", "Err:50", "null", "NULL", "nUlL", " null"]))
_HOSTILE = st.lists(st.sampled_from(
    ["a", "1", " ", "#N/A", "Err:502", "\n", "\t", "\r", "\x00", "\x1f", "\x7f", "\x85", "\u00a0", "\u200b", "\u2003", "\u3000", "é",
     "e\u0301", "\u0301", "\u0327", "\u2126", "\u1100\u1161", "\u11a8", "\u0958"]),
    max_size=6).map("".join)
_COLUMN = st.one_of(st.lists(st.one_of(st.none(), _ASCII)), st.lists(st.one_of(st.none(), _ASCII, _HOSTILE)))


@settings(max_examples=400, deadline=None)
@given(st.lists(_COLUMN, min_size=1, max_size=4))
def test_cleaning_decided_per_column_is_the_cleaning_of_each_cell(columns):
    height = max(len(c) for c in columns)
    frame = pl.DataFrame({f"c{i}": c + [None] * (height - len(c)) for i, c in enumerate(columns)},
                         schema={f"c{i}": pl.String for i in range(len(columns))})
    names = frame.columns
    columns = cleaned_columns(frame, names)
    expected = frame.select(cleaned(pl.col(n)) for n in names)
    assert frame.select(c.cleaned for c in columns).equals(expected)
    # a plain column holds no error cell and no « null »
    found = expected.select((is_error_cell(pl.col(n)) | pl.col(n).is_in(NULL_TYPED)).any() for n in names).row(0)
    assert not any(c.plain and hit for c, hit in zip(columns, found))


def test_a_clean_column_skips_the_replacements():
    frame = pl.DataFrame({"clean": ["ab c", "", None], "inner": ["a\nb", "c", None], "edge": ["a", "b ", None],
                          "nbsp": ["a\u00a0", "b", None]})
    columns = cleaned_columns(frame, frame.columns)
    assert ["replace_many" in str(c.cleaned) for c in columns] == [False, True, True, True]
    assert frame.select(c.cleaned for c in columns).rows() == [("ab c", "a b", "a", "a"), (None, "c", "b", "b"), (None, None, None, None)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(NULL_TYPED),
                          st.text(alphabet="nNuUlL \u212a\u017f\u0131\u0130\u029f\u1d1c", max_size=5))))
def test_null_in_any_case_is_found_as_the_case_insensitive_regex_finds_it(values):
    frame = pl.DataFrame({"c": values}, schema={"c": pl.String})
    assert frame.select(pl.col("c").is_in(NULL_TYPED).fill_null(False))["c"].to_list() == \
        frame.select(pl.col("c").str.contains("(?i)^null$").fill_null(False))["c"].to_list()


def test_a_plain_column_holds_no_error_cell_and_no_null():
    frame = pl.DataFrame({"plain": ["a", "x #N/A", "E rr:502"], "na": ["a", "#N/A", None], "err": ["Err:502", "b", "c"],
                          "null": ["a", "NuLl", None], "nul": ["nul", "null x", "x null"], "del": ["a\x7fnull", "b", None]})
    assert [c.plain for c in cleaned_columns(frame, frame.columns)] == [True, False, False, False, True, False]


def test_a_column_skips_the_composition_only_where_no_character_may_change():
    """Every character NFC may change (not NFC on its own: a singleton such as the ohm sign) or
    compose with the one before (a combining mark, a Hangul vowel or final jamo: the second of
    a canonical pair, or of a Hangul syllable) is found by `_NOT_NFC`: a column holding none is
    NFC already."""
    chars = [chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF]
    found = dict(zip(chars, pl.Series(chars).str.contains(_NOT_NFC).to_list()))
    seconds = {s for c in chars for s in unicodedata.normalize("NFD", c)[1:]}
    missed = [c for c, hit in found.items() if not hit and (
        not unicodedata.is_normalized("NFC", c) or unicodedata.combining(c) or c in seconds)]
    assert not missed, [hex(ord(c)) for c in missed]
    frame = pl.DataFrame({"nfd": ["LE\u0301A", "b"], "nfc": ["LÉA", "b\u00a0"]})
    assert frame.select(c.cleaned for c in cleaned_columns(frame, frame.columns)).rows() == \
        [("LÉA", "LÉA"), ("b", "b")]
    assert ["normalize" in str(c.cleaned) for c in cleaned_columns(frame, frame.columns)] == [True, False]
