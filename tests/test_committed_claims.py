"""The committed claims table (docs/claims.md) is what the committed results give.

`lora-sweep figures --results results/ --claims` prints the table without training; this test
recomputes it from `results/*.nc` (null calibration included) and compares it line by line with the
table committed in docs/claims.md.
"""

from pathlib import Path

import pytest

from toymodels import load_results
from toymodels.reproduce import check_claims, claims_table
from toymodels.reproduce._claims import horizon_report

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
CLAIMS = ROOT / "docs" / "claims.md"
STORES = {
    "figure2": "figure2.nc",
    "figure3": "figure3.nc",
    "heatmap": "heatmap.nc",
    "edge": "edge.nc",
    "wide": "edge-wide.nc",
}


@pytest.mark.slow
def test_committed_claims_table_matches_the_committed_results():
    if not RESULTS.is_dir():
        pytest.skip("no results/ folder in this checkout")
    stores = {
        name: load_results(RESULTS / file)
        for name, file in STORES.items()
        if (RESULTS / file).is_file()
    }
    # the claims table, then the tables behind the edge and horizon claims, as `--claims` prints
    printed = claims_table(check_claims(**stores)) + "\n\n" + horizon_report(**stores)
    table = [line for line in printed.splitlines() if line.startswith("|")]
    committed = [
        line for line in CLAIMS.read_text(encoding="utf-8").splitlines() if line.startswith("|")
    ]
    assert committed == table


@pytest.mark.parametrize("name", sorted(p.name for p in RESULTS.glob("*.nc")))
def test_committed_results_carry_checksums_that_match(name, capsys):
    """Every committed run is sealed: `lora-sweep verify` checks each cell against its checksum."""
    from toymodels.cli import main

    assert main(["verify", str(RESULTS / name)]) == 0, capsys.readouterr().err
