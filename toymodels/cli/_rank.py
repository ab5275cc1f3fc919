"""`lora-sweep rank`: the stability edge and the optimal rate against the LoRA rank r.

Trains (or resumes) a rank sweep (``toymodels.sweeps._rank``) and prints its summary
(``toymodels.analysis._rank``): per multiplier s and init, η_edge(r) and η*(r) ∝ r^b at a
fixed width, and along r = n^κ, with bootstrap intervals over seeds against the calculator.
``--summary-only`` reads an existing results file without training. Bad input: one line on
stderr, exit 2, nothing written.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

from toymodels.cli._sweeps import _flag, parse_inits, parse_seeds, parse_widths

#: The loss of a rank sweep's run is the mean of its last steps, this many.
DEFAULT_WINDOW = 5
#: Kept literal here (not imported from the implementation) so `lora-sweep --help` stays fast.
_MODELS = ("teacher-student", "linear")


def _multipliers(text: str) -> tuple[str, ...]:
    from toymodels.core import UsageError

    values = tuple(part.strip() for part in text.split(",") if part.strip())
    if not values:
        raise UsageError("--multipliers is empty")
    return values


def _ranks(text: str) -> tuple[int, ...]:
    from toymodels.core import UsageError

    try:
        return parse_widths(text)
    except UsageError as error:
        raise UsageError(str(error).replace("width", "rank")) from None


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "rank",
        help="the stability edge and the optimal rate against the LoRA rank r",
        description="Train every multiplier s × rank r × init over one equal-rate grid × seeds "
        "at a fixed width (and along r = n^κ), then fit η_edge(r) and η*(r) ∝ r^b with a "
        "bootstrap over seeds and compare with the calculator (docs/sweeps.md, 'Rank sweeps').",
        epilog="example: lora-sweep rank --model linear --preset quick",
    )
    parser.add_argument("--model", default="teacher-student", choices=_MODELS,
                        help="teacher-student (Adam) or linear (gradient descent)")  # fmt: skip
    parser.add_argument("--preset", default="paper", help="paper (default) or quick")
    parser.add_argument("--multipliers", type=_flag(_multipliers), metavar="S,S",
                        help="multiplier exponents s of α·r^(−s), e.g. 1/2,1")  # fmt: skip
    parser.add_argument("--ranks", type=_flag(_ranks), metavar="R",
                        help="ranks at the fixed width: 2^0:2^8 or 1,4,16 (default: the preset's; "
                        "a custom list drops the joint r = n^κ part)")  # fmt: skip
    parser.add_argument("--width", type=int, help="the fixed width (default: the preset's)")
    parser.add_argument("--inits", type=_flag(parse_inits), help="A,B (default: both)")
    parser.add_argument("--seeds", type=_flag(parse_seeds), help="0:3 or 0,1 (default: preset's)")
    parser.add_argument("--steps", type=int, help="updates per run (default: the preset's)")
    parser.add_argument("--level", type=float, default=None,
                        help="the level C of the peak feature size (default 4)")  # fmt: skip
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW,
                        help="the loss is the mean of the last W steps (default 5)")  # fmt: skip
    parser.add_argument("--min-rank", type=int, default=1,
                        help="fit the fixed-width lines over ranks >= R only")  # fmt: skip
    parser.add_argument("--out", type=Path,
                        help="results file (default: results/rank-MODEL-PRESET.nc)")  # fmt: skip
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a results file of another configuration")  # fmt: skip
    parser.add_argument("--summary-only", action="store_true",
                        help="summarize the results file without training (as "
                        "`lora-sweep summary FILE` does)")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")


def default_out(model: str, preset: str) -> Path:
    """``results/rank-MODEL-PRESET.nc``."""
    return Path("results") / f"rank-{model}-{preset}.nc"


def run(args: argparse.Namespace) -> int:
    from toymodels.analysis import _edge
    from toymodels.core import UsageError
    from toymodels.sweeps import _rank, _store

    level = _edge.check_level(args.level) if args.level is not None else _edge.DEFAULT_LEVEL
    if args.window < 1:
        raise UsageError(f"--window must be an integer >= 1, got {args.window}")
    if args.min_rank < 1:
        raise UsageError(f"--min-rank must be an integer >= 1, got {args.min_rank}")
    if args.steps is not None and args.steps < 1:
        raise UsageError(f"--steps must be an integer >= 1, got {args.steps}")
    out = args.out or default_out(args.model, args.preset)
    if args.summary_only:
        ds = _store.load_results(out)
    else:
        config = _rank.rank_config(
            args.model, args.preset, multipliers=args.multipliers, inits=args.inits,
            ranks=args.ranks, width=args.width, seeds=args.seeds, steps=args.steps,
        )  # fmt: skip
        if args.window > config.steps:
            raise UsageError(f"--window {args.window} exceeds the run's {config.steps} steps")
        from toymodels.sweeps import _paths

        _paths.check_results_path(out)  # a device, FIFO, folder or symlink loop: refused here
        from toymodels.cli._sweeps import run_stoppable

        ds, code = run_stoppable(
            out,
            len(config.cells()),
            functools.partial(
                _rank.run_rank_sweep, config, out, overwrite=args.overwrite,
                quiet=args.quiet or args.json,
            ),
        )  # fmt: skip
        if code is not None:
            return code
    return report(ds, out, level=level, window=args.window, min_rank=args.min_rank,
                  as_json=args.json)  # fmt: skip


def report(ds, out, *, level: float, window: int, min_rank: int, as_json: bool) -> int:
    """Print the summary of the rank sweep ``ds`` (also `lora-sweep summary FILE` of one)."""
    from toymodels.analysis import _rank as _rank_analysis

    summary = _rank_analysis.summarize_rank(ds, level=level, window=window, min_rank=min_rank)
    if as_json:
        json.dump(summary, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(_rank_analysis.render_rank(summary))
        print(f"results: {out}")
    return 0
