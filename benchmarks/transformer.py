"""Benchmark: the transformer testbed's width check and edge, end to end (wall time).

    python -m benchmarks.transformer coordcheck full     # 2^6 … 2^10, 4 seeds, 3 settings
    python -m benchmarks.transformer edge full --json -  # 2^6 … 2^10, 8 seeds, both inits

Runs ``toymodels.lab.examples.transformer_study`` (compilation, training, fits, bootstraps and
the figures included) into a temporary folder and reports the wall time, the issue's target
(coordcheck 600 s, edge 1800 s, quick forms 180 s, on 2 cores) and the load. The machine is
whatever it is: on a shared machine say how loaded it was (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

#: (what, preset) → the issue's wall-time target on 2 cores, in seconds.
TARGETS = {
    ("coordcheck", "full"): 600,
    ("coordcheck", "quick"): 180,
    ("edge", "full"): 1800,
    ("edge", "quick"): 180,
}


def measure(what: str, preset: str) -> dict:
    """Time one study in this process; its record."""
    from toymodels.lab.examples import transformer_study

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        code = transformer_study.main(
            [what, "--preset", preset, "--results", str(Path(tmp) / "out.json"), "--figures", tmp]
        )
        wall = time.perf_counter() - start
        runs = None
        if what == "edge":
            record = json.loads((Path(tmp) / "out.json").read_text())
            runs = sum(n for per_width in record["runs"].values() for n in per_width.values())
    return {
        "benchmark": f"transformer {what}",
        "preset": preset,
        "exit_code": code,
        "wall_s": round(wall, 1),
        "target_s": TARGETS.get((what, preset)),
        "runs": runs,
        "load_average_after": os.getloadavg(),
        "cores": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.transformer", description=__doc__)
    parser.add_argument("what", choices=("coordcheck", "edge"))
    parser.add_argument("preset", choices=("full", "quick", "smoke"))
    parser.add_argument("--json", help="also write the record to this file ('-': stdout only)")
    args = parser.parse_args(argv)
    record = measure(args.what, args.preset)
    text = json.dumps(record)
    print(text)
    if args.json and args.json != "-":
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    return 0 if record["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
