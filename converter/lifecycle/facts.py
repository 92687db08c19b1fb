"""What the ledger keeps of each demande besides its JSON: its amount, its FINESS and its RPPS,
the facts that tell one demande from another (`Ledger.record_pending`, against_ledger.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from ..checks import NE
from ..formats import FormatDefinition
from ..ledger import Facts
from .rows import amount_balise


def demande_records(numeros: list[str], lookup: Mapping[str, Facts]) -> list[Facts]:
    """The ledger's view of the demandes of one deposit file (`DepositRecord.demandes`): their
    `demande_lookup` facts, in file order."""
    return list(map(lookup.__getitem__, numeros))


def demande_lookup(definition: FormatDefinition, frames: Mapping[str, pl.DataFrame],
                   numeros: Sequence[str] | None = None) -> dict[str, Facts]:
    """numeroEditeur → its `ledger.Facts` (numeroEditeur, montant, finess, rpps, regime), for the
    demandes whose rows `frames` hold (only those of `numeros`, if given): a conversion asks it
    once, for its accepted demandes. Polars writes the JSON lists of FINESS and RPPS, escaping
    included, as it wrote them inside each demande's JSON object when the ledger took that."""
    listed = [pl.struct(kind).struct.json_encode().str.strip_prefix(f'{{"{kind}":').str.strip_suffix("}")
              for kind in ("finess", "rpps")]
    found = _facts(definition, frames, numeros).select(NE, "montant", *listed, "regime").collect()
    columns = [found[name].to_list() for name in found.columns]  # a tenth of iter_rows' time
    return dict(zip(columns[0], zip(*columns)))


def demande_facts(definition: FormatDefinition, frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """What tells one demande from another: NE, montant (its amount, text), finess and rpps
    (the sorted lists of its FINESS and RPPS), for the demandes whose rows `frames` hold."""
    return _facts(definition, frames).collect()


def _facts(definition: FormatDefinition, frames: Mapping[str, pl.DataFrame],
           numeros: Sequence[str] | None = None) -> pl.LazyFrame:
    """`demande_facts` as one query, of the demandes of `numeros` if given."""
    demandes = frames[definition.demandes.name]
    if numeros is not None:  # the other sheets' facts join these rows: filtering them too cost as much again
        demandes = demandes.filter(pl.col(NE).is_in(pl.Series(list(numeros), dtype=pl.String).implode()))
    amount = amount_balise(definition.demandes)
    found = demandes.lazy().select(NE, montant=pl.col(amount).cast(pl.String) if amount else pl.lit(None, pl.String),
                                   # the VAT regime its advance depends on (ledger version 4: `etat` reads it there)
                                   regime=pl.col(definition.advance_regime).cast(pl.String) if definition.advance_regime
                                   else pl.lit(None, pl.String))
    for kind in ("finess", "rpps"):
        parts = [frames[s.name].lazy().select(NE, pl.col(f.balise).alias(kind))
                 for s in definition.sheets for f in s.fields if f.kind == kind]
        if parts:
            # sorted once, then gathered: sorting within each group cost twice as much
            listed = pl.concat(parts).drop_nulls().unique().sort(NE, kind).group_by(NE, maintain_order=True).agg(kind)
            found = found.join(listed, on=NE, how="left", maintain_order="left")
        else:
            found = found.with_columns(pl.lit(None, pl.List(pl.String)).alias(kind))
        found = found.with_columns(pl.col(kind).fill_null(pl.lit([], pl.List(pl.String))))
    return found
