"""Regenerate the sample workbooks of samples/ with the project's own workbook writer.

    python samples/build_samples.py

Every sample of samples/ is built here, each from the rows the tests use: one function per
sample returns (format id, rows). The avance sample is seed 001's example plus a mandataire
and a HT régime (tests/builders.py); the solde samples are the published examples of their
seed documents (tests/builders_solde.py). This is a development script: it deletes and
rewrites the samples; tests/expected/*.json is what they must convert to.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.builders import sample_avance_rows, workbook  # noqa: E402
from tests.builders_solde import seed_000_rows, seed_003_rows  # noqa: E402

Sample = tuple[str, dict[str, list[dict[str, Any]]]]


def ms2_dui_pds_avance() -> Sample:
    """Seed 001 (DTJSONAVANCE-MS2-DUI PDS-Va1)'s example, then a mandataire with two OG, and a
    HT régime with a JPG PREUVE_HT: the workbook of the README's first command."""
    return "ms2-dui-pds-avance", sample_avance_rows()


def ms2_dui_pde_solde() -> Sample:
    """Seed 000 (DTJSONSOLDE-MS2-DUI PDE-VA1): OG 345678912, ESMS 123456789 and 234567891."""
    return "ms2-dui-pde-solde", seed_000_rows()


def mdv_lgc_solde() -> Sample:
    """Seed 003 (DTJSONSOLDE-MDV-LGC-VA1): the group practice of three doctors, then the
    Centre de santé des acacias and its three sites."""
    return "mdv-lgc-solde", seed_003_rows()


SAMPLES = [ms2_dui_pds_avance, ms2_dui_pde_solde, mdv_lgc_solde]


def build(sample, folder: Path = HERE) -> Path:
    format_id, rows = sample()
    target = folder / f"{format_id}.xlsx"
    target.unlink(missing_ok=True)  # dev script: the only place where a sample is replaced
    return workbook(target, rows, format_id)


def main() -> None:
    for sample in SAMPLES:
        print(build(sample))


if __name__ == "__main__":
    main()
