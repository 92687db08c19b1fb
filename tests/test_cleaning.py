"""The cleaning of the cells, decided per column (`cleaned_columns`), gives what `cleaned`
gives on every cell, whatever the cells hold."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.checks.values import cleaned, cleaned_columns

_ASCII = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=6)
_HOSTILE = st.text(alphabet=st.sampled_from(
    ["a", "1", " ", "\n", "\t", "\r", "\x00", "\x1f", "\x7f", "\x85", "\u00a0", "\u200b", "\u2003", "\u3000", "é"]),
    max_size=6)
_COLUMN = st.one_of(st.lists(st.one_of(st.none(), _ASCII)), st.lists(st.one_of(st.none(), _ASCII, _HOSTILE)))


@settings(max_examples=400, deadline=None)
@given(st.lists(_COLUMN, min_size=1, max_size=4))
def test_cleaning_decided_per_column_is_the_cleaning_of_each_cell(columns):
    height = max(len(c) for c in columns)
    frame = pl.DataFrame({f"c{i}": c + [None] * (height - len(c)) for i, c in enumerate(columns)},
                         schema={f"c{i}": pl.String for i in range(len(columns))})
    names = frame.columns
    assert frame.select(cleaned_columns(frame, names)).equals(frame.select(cleaned(pl.col(n)) for n in names))


def test_a_clean_column_skips_the_replacements():
    frame = pl.DataFrame({"clean": ["ab c", "", None], "inner": ["a\nb", "c", None], "edge": ["a", "b ", None],
                          "nbsp": ["a\u00a0", "b", None]})
    exprs = cleaned_columns(frame, frame.columns)
    assert ["replace_many" in str(e) for e in exprs] == [False, True, True, True]
    assert frame.select(exprs).rows() == [("ab c", "a b", "a", "a"), (None, "c", "b", "b"), (None, None, None, None)]
