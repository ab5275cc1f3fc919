"""How long ``lora-gamma transfer`` takes, from a cold process, for every rule.

    .venv/bin/python benchmarks/bench_transfer.py

Target (issue 25): each rule answers within 1 s, with a rank change (the slowest case: three
largest-stable-rate regions) and with ``--rule measured`` reading an exponent file. Prints wall
times (the best of ``bench_cli.REPEAT`` runs) and exit codes; asserts nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.bench_cli import report
from theory import MeasuredExponent, exponent_file_json

RULES = ("none", "edge", "loraplus", "loraplus-fixed")


def main() -> None:
    base = ["transfer", "--init", "B", "--from-width", "512", "--to-width", "8192"]
    rank = ["--from-rank", "4", "--to-rank", "64", "--multiplier", "1/2"]
    for model in ("adam", "gd-linear"):
        for rule in RULES:
            report(f"transfer {model} --rule {rule}",
                   [*base, "--model", model, "--eta", "1e-3", "--rule", rule])  # fmt: skip
            report(f"transfer {model} --rule {rule}, rank 4 → 64",
                   [*base, *rank, "--model", model, "--eta", "1e-3", "--rule", rule])  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "exponents.json"
        m = MeasuredExponent("adam", "B", "optimum", -0.889, (-0.973, -0.806))
        path.write_text(exponent_file_json([m]))
        report("transfer adam --rule measured --from-results (a file)",
               [*base, "--eta", "1e-3", "--rule", "measured", "--from-results", str(path),
                "--json"])  # fmt: skip
    report("transfer (bad width: exit 2)", [*base[:4], "0", *base[5:], "--eta", "1"])


if __name__ == "__main__":
    main()
