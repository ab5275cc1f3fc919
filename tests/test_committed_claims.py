"""The committed claims table (docs/claims.md) is what the committed results give.

`lora-sweep figures --results results/ --claims` prints the table without training; this test
recomputes it from `results/*.nc` (null calibration included) and compares it line by line with the
table committed in docs/claims.md.
"""

from pathlib import Path

import pytest

from toymodels import load_results
from toymodels.reproduce import check_claims, claims_table

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
CLAIMS = ROOT / "docs" / "claims.md"
STORES = ("figure2", "figure3", "heatmap", "edge")


@pytest.mark.slow
def test_committed_claims_table_matches_the_committed_results():
    if not RESULTS.is_dir():
        pytest.skip("no results/ folder in this checkout")
    stores = {
        name: load_results(RESULTS / f"{name}.nc")
        for name in STORES
        if (RESULTS / f"{name}.nc").is_file()
    }
    table = claims_table(check_claims(**stores)).splitlines()
    committed = [
        line for line in CLAIMS.read_text(encoding="utf-8").splitlines() if line.startswith("|")
    ]
    assert committed == table


@pytest.mark.parametrize("name", sorted(p.name for p in RESULTS.glob("*.nc")))
def test_committed_results_carry_checksums_that_match(name, capsys):
    """Every committed run is sealed: `lora-sweep verify` checks each cell against its checksum."""
    from toymodels.cli import main

    assert main(["verify", str(RESULTS / name)]) == 0, capsys.readouterr().err
