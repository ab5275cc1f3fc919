"""Benchmark: a whole `lora-sweep` preset end to end (wall time and run-steps/s).

    python -m benchmarks.presets edge paper          # the stability edge, paper preset
    python -m benchmarks.presets figure2 quick --json -
    python -m benchmarks.presets rank paper --model teacher-student   # lora-sweep rank
    python -m benchmarks.presets transfer quick                       # lora-sweep transfer

Runs ``lora-sweep EXPERIMENT --preset NAME`` into a fresh temporary file (compilation, training,
saving and the summary with its bootstraps all included) and reports the wall time and the
run-steps per second of the whole command: run-steps = inits × widths × rates × seeds × T.
The machine is whatever it is: on a shared machine say how loaded it was (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def run_steps(experiment: str, preset: str, model: str = "teacher-student") -> int:
    """The run-steps of one preset: every stored run of every cell, ``T`` steps each (for a
    two-stage grid, the coarse grid and one window per cell: the window's moves add runs and its
    reuse of coarse rates saves some, both data-dependent and not counted).

    >>> run_steps("edge", "quick")
    56000
    >>> run_steps("rank", "quick", "linear")  # 2 s × 7 ranks × 2 inits × 29 rates × 8 seeds × 25
    162400
    """
    from toymodels.sweeps import sweep_config

    if experiment == "transfer":  # every cell's grid, and above n₀ every rule's transfers
        from toymodels.sweeps._transfer_config import FAMILIES, transfer_config

        tc = transfer_config(model, preset)
        runs = sum(
            len(tc.grid) + (0 if n == tc.base_width else len(tc.rules(f)) * len(tc.horizons))
            for n in tc.widths
            for f in FAMILIES
        )
        return len(tc.inits) * runs * len(tc.seeds) * tc.steps
    if experiment == "rank":
        from toymodels.sweeps._rank import rank_config

        rank = rank_config(model, preset)
        return len(rank.cells()) * len(rank.rates) * len(rank.seeds) * rank.steps

    config, _ = sweep_config(experiment, preset)
    cells = len(config.inits) * len(config.widths)
    return cells * config.n_rates * len(config.seeds) * config.steps


def measure(experiment: str, preset: str, model: str = "teacher-student") -> dict:
    """Time ``lora-sweep EXPERIMENT --preset PRESET`` in this process; its record."""
    from toymodels import cli

    extra = ["--model", model] if experiment in ("rank", "transfer") else []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        code = cli.main(
            [experiment, "--preset", preset, *extra, "--quiet", "--out", str(Path(tmp) / "out.nc")]
        )
        wall = time.perf_counter() - start
    steps = run_steps(experiment, preset, model)
    return {
        "experiment": experiment,
        **({"model": model} if experiment in ("rank", "transfer") else {}),
        "preset": preset,
        "exit_code": code,
        "wall_s": round(wall, 1),
        "run_steps": steps,
        "run_steps_per_s": round(steps / wall, 1),
        "load_average_after": os.getloadavg(),
        "cores": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.presets", description=__doc__)
    parser.add_argument("experiment", choices=("edge", "figure2", "rank", "transfer"))
    parser.add_argument("preset", choices=("paper", "quick"))
    parser.add_argument(
        "--model",
        default="teacher-student",
        help="the rank or transfer sweep's model (teacher-student, linear)",
    )
    parser.add_argument("--json", help="also write the record to this file ('-': stdout only)")
    args = parser.parse_args(argv)
    record = measure(args.experiment, args.preset, args.model)
    text = json.dumps(record)
    print(text)
    if args.json and args.json != "-":
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    return 0 if record["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
