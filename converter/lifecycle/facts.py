"""What the ledger keeps of each demande besides its JSON: its amount, its FINESS and its RPPS,
the facts that tell one demande from another (`Ledger.record_pending`, against_ledger.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ..checks import NE
from ..formats import FormatDefinition
from .rows import amount_balise

if TYPE_CHECKING:
    from ..build import DemandeFrames


class DemandeLookup:
    """What the ledger records of each demande converted besides its JSON (`demande_lookup`),
    computed `batch` demandes at a time, when first asked for, from the rows of
    `build.DemandeFrames` (filtering every sheet for each file would be quadratic)."""

    def __init__(self, demandes: DemandeFrames, batch: int = 5_000):
        self.demandes, self.batch = demandes, batch
        self.position = {ne: i for i, ne in enumerate(demandes.numeros)}
        self.found: dict[str, str] = {}

    def __getitem__(self, ne: str) -> str:
        if ne not in self.found:
            start = self.position[ne] // self.batch * self.batch
            self.found.update(demande_lookup(self.demandes.definition, self.demandes.slices(start, start + self.batch)))
        return self.found[ne]


def demande_records(numeros: list[str], lookup: DemandeLookup) -> str:
    """The ledger's view of the demandes of one deposit file (`Ledger.deposit`): a JSON array of
    their `demande_lookup` objects, in file order."""
    return "[" + ",".join(lookup[ne] for ne in numeros) + "]"


def demande_lookup(definition: FormatDefinition, frames: dict[str, pl.DataFrame]) -> dict[str, str]:
    """numeroEditeur → `{"numeroEditeur", "montant", "finess", "rpps"}` in JSON (`demande_facts`),
    for the demandes whose rows `frames` hold (sheet name → rows). Polars writes the JSON,
    escaping included; the ledger reads it in SQL."""
    found = demande_facts(definition, frames)
    record = pl.struct(pl.col(NE).alias("numeroEditeur"), "montant", "finess", "rpps").struct.json_encode()
    return dict(found.select(NE, record).iter_rows())


def demande_facts(definition: FormatDefinition, frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """What tells one demande from another: NE, montant (its amount, text), finess and rpps
    (the sorted lists of its FINESS and RPPS), for the demandes whose rows `frames` hold."""
    demandes = frames[definition.demandes.name]
    amount = amount_balise(definition.demandes)
    found = demandes.select(NE, montant=pl.col(amount).cast(pl.String) if amount else pl.lit(None, pl.String))
    for kind in ("finess", "rpps"):
        parts = [frames[s.name].select(NE, pl.col(f.balise).alias(kind))
                 for s in definition.sheets for f in s.fields if f.kind == kind]
        if parts:
            listed = pl.concat(parts).drop_nulls().group_by(NE).agg(pl.col(kind).unique().sort())
            found = found.join(listed, on=NE, how="left", maintain_order="left")
        else:
            found = found.with_columns(pl.lit(None, pl.List(pl.String)).alias(kind))
        found = found.with_columns(pl.col(kind).fill_null(pl.lit([], pl.List(pl.String))))
    return found
