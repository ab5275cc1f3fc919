"""`lora-sweep horizon FILE`: the loss optimum against the horizon, the edge over a level set,
running exponents, from one equal-rate results file (figure2, edge, or the wide edge run).

Nothing is trained and nothing is written: the tables of docs/reproduction.md ("The rate users
tune against the rate the theorems bound") are computed from the stored runs. The loss optimum
at each horizon T' needs only the losses; the edge tables need Z_B per step (an edge file).

    lora-sweep horizon results/edge-wide.nc --horizons 5,10,25 --levels 1,2,4,8,16
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from toymodels.cli._sweeps import _flag, parse_ints


def _levels(text: str):
    from toymodels.analysis._levels import check_levels

    return check_levels(text)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "horizon",
        help="the loss optimum per horizon, the edge per level, running exponents (from a file)",
        description=__doc__.split("\n\n")[0],
        epilog="example: lora-sweep horizon results/figure2.nc --horizons 5,25,150",
    )
    parser.add_argument("path", type=Path, metavar="FILE", help="an equal-rate results file")
    parser.add_argument(
        "--horizons",
        type=_flag(lambda t: parse_ints(t, "horizons")),
        default=None,
        metavar="T,T",
        help="horizons T' (default: 5, 10, 25, 50, 100, 150 within the run, and its T)",
    )
    parser.add_argument(
        "--levels",
        type=_flag(_levels),
        default=None,
        metavar="C,C",
        help="edge levels C of max_t RMS(Z_B) (default: 1,2,4,8,16; edge files only)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of the tables"
    )


def _exponents(widths, tables) -> dict:
    from toymodels.analysis._edge import exponents

    return exponents(widths, tables)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from toymodels.analysis import _horizon, _levels, _running
    from toymodels.core import UsageError
    from toymodels.reproduce import _claims_horizon, _claims_levels
    from toymodels.sweeps import load_results

    ds = load_results(args.path)
    if "eta_A" not in ds.coords or ds["eta_A"].dims[-1] != "lr" or "eta_B" in ds.dims:
        raise UsageError(f"{args.path} is not an equal-rate width sweep (figure2, edge, run)")
    widths = ds.width.values.astype(np.float64)
    if widths.size < _running.MIN_RUNNING_WIDTHS:
        raise UsageError(
            f"{args.path} has {widths.size} width(s): running exponents and width fits need "
            f"at least {_running.MIN_RUNNING_WIDTHS}"
        )
    last = int(ds.step[-1])
    horizons = (
        _horizon.default_horizons(last)
        if args.horizons is None
        else _horizon.check_horizons(args.horizons, last)
    )
    has_edge = "Z_B" in ds
    if args.levels is not None and not has_edge:
        raise UsageError(f"--levels needs Z_B per step; {args.path} has none (not an edge file)")
    levels = args.levels or _levels.EDGE_LEVELS
    if args.json:
        optima = _horizon.optimum_tables(ds, horizons)
        out = {
            "file": str(args.path),
            "widths": [int(w) for w in widths],
            "horizons": {
                str(h): {
                    **_exponents(widths, {i: t["rates"] for i, t in table.items()}),
                    "bounds": {i: _horizon.bounds_count(t) for i, t in table.items()},
                    "running": {
                        i: [r._asdict() for r in _running.running_exponents(widths, t["rates"])]
                        for i, t in table.items()
                    },
                }
                for h, table in optima.items()
            },
        }
        if has_edge:
            tables = _levels.level_tables(ds, levels)
            by_init = {i: {c: t[i] for c, t in tables.items()} for i in ("A", "B")}
            out["levels"] = {
                i: _levels.level_exponent(widths, v)._asdict() for i, v in by_init.items()
            }
            out["levels"]["difference"] = _levels.level_difference(
                widths, by_init["A"], by_init["B"]
            )._asdict()
            for fit in out["levels"].values():
                fit["per_level"] = {f"{c:g}": v for c, v in fit["per_level"].items()}
        json.dump(out, sys.stdout, indent=2)
        print()
        return 0
    name = args.path.name
    parts = [_claims_horizon.horizon_table(ds, name, horizons)]
    if has_edge:
        parts += [
            _claims_levels.level_table(ds, name, levels=levels),
            _claims_levels.definitions_table(ds, name),
            _claims_horizon.running_table(ds, tuple(h for h in horizons if h <= last)),
            _claims_horizon.optimum_edge_table(ds, max(horizons)),
        ]
    print("\n\n".join(parts))
    return 0
