"""`lora-sweep transfer` and `lora-sweep exponents`: what each rate-transfer rule costs.

``transfer`` trains (or resumes) the rate-transfer sweep (``toymodels.sweeps._transfer``) and
prints each rule's transfer penalty (``toymodels.reproduce._transfer_analysis``); ``--summary-only``
reads an existing results file. ``exponents`` writes the fitted width exponents of Figure-2 and
edge results files as the JSON file ``lora-gamma transfer --rule measured --from-results`` reads.
Bad input: one line on stderr, exit 2, nothing written.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

from toymodels.cli._sweeps import _flag, parse_inits, parse_seeds

#: Kept literal here (not imported from the implementation) so `lora-sweep --help` stays fast.
_MODELS = ("teacher-student", "linear")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "transfer",
        help="tune the rate at the smallest width, transfer it by each rule, measure the penalty",
        description="Tune (η_A, η_B) on a grid at the smallest width, move the optimum to each "
        "larger width by every rule of `lora-gamma transfer` (none, edge, loraplus, "
        "loraplus-fixed, measured), train there, and report the penalty: the loss at the "
        "transferred rates over the width's own best grid loss, with a bootstrap over seeds "
        "(docs/practice.md).",
        epilog="example: lora-sweep transfer --preset quick --json",
    )
    parser.add_argument("--model", default="teacher-student", choices=_MODELS,
                        help="teacher-student (Adam, default) or linear (GD)")  # fmt: skip
    parser.add_argument("--preset", default="paper", help="paper (default), quick or smoke")
    parser.add_argument("--inits", type=_flag(parse_inits), help="A,B (default: both)")
    parser.add_argument("--seeds", type=_flag(parse_seeds), help="0:7 or 0,1 (default: preset's)")
    parser.add_argument("--exponents", type=Path, default=None,
                        help="the exponent file of the measured rule (default "
                        "results/exponents.json; Adam only)")  # fmt: skip
    parser.add_argument("--out", type=Path,
                        help="results file (default results/transfer-MODEL-PRESET.nc)")  # fmt: skip
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a results file of another configuration")  # fmt: skip
    parser.add_argument("--summary-only", action="store_true",
                        help="summarize the results file without training")  # fmt: skip
    parser.add_argument("--figure", type=Path,
                        help="also draw the penalties (a .png and a .pdf)")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    parser = subparsers.add_parser(
        "exponents",
        help="write fitted rate exponents as JSON for `lora-gamma transfer --rule measured`",
        description="Fit η*(n) ∝ n^k (Figure-2 or run files: the loss optimum) or η_edge(n) ∝ "
        "n^k (edge files) per init with a bootstrap over seeds, and write them with their "
        "provenance (file, SHA-256, rule) as one JSON file.",
        epilog="example: lora-sweep exponents results/figure2.nc results/edge.nc "
        "--out results/exponents.json",
    )
    parser.add_argument("files", nargs="+", type=Path, help="results files (.nc)")
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")


def default_out(model: str, preset: str) -> Path:
    """``results/transfer-MODEL-PRESET.nc``."""
    return Path("results") / f"transfer-{model}-{preset}.nc"


def run(args: argparse.Namespace) -> int:
    return _exponents(args) if args.command == "exponents" else _transfer(args)


def _exponents(args: argparse.Namespace) -> int:
    import theory
    from toymodels.core import UsageError
    from toymodels.reproduce._exponent_files import exponents_from_results
    from toymodels.sweeps import _paths

    out = Path(args.out)
    if out.suffix != ".json":
        raise UsageError(f"--out {out}: give a .json file name")
    _paths.check_results_path(out)
    if out.parent and not out.parent.is_dir():
        raise UsageError(f"--out {out}: directory {out.parent} does not exist")
    found = [m for path in args.files for m in exponents_from_results(path)]
    text = theory.exponent_file_json(found)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    for m in found:
        lo, hi = m.interval
        print(f"{m.model} Init[{m.init}] {m.source:<7} k = {m.exponent:+.3f} [{lo:+.3f}, "
              f"{hi:+.3f}]  ({m.provenance['file']})")  # fmt: skip
    print(f"wrote {out}")
    return 0


def _transfer(args: argparse.Namespace) -> int:
    from toymodels.core import UsageError
    from toymodels.sweeps import _store
    from toymodels.sweeps import _transfer_config as tc

    out = args.out or default_out(args.model, args.preset)
    if args.figure is not None:
        from toymodels.sweeps import _paths

        if args.figure.suffix not in (".png", ".pdf"):
            raise UsageError(f"--figure {args.figure}: give a .png or .pdf file name")
        _paths.check_results_path(args.figure, "--figure")
    if args.summary_only:
        ds = _store.load_results(out)
        return report(ds, out, as_json=args.json, figure=args.figure)
    if args.exponents is not None and args.model != "teacher-student":
        raise UsageError("--exponents: the measured rule has exponents for teacher-student only")
    measured = tc.measured_exponents(args.model, args.exponents or tc.MEASURED_FILE)
    config = tc.transfer_config(args.model, args.preset, inits=args.inits, seeds=args.seeds,
                                measured=measured)  # fmt: skip
    from toymodels.cli._sweeps import run_stoppable
    from toymodels.sweeps import _paths
    from toymodels.sweeps._transfer import run_transfer_sweep

    _paths.check_results_path(out)  # a device, FIFO, folder or symlink loop: refused here
    ds, code = run_stoppable(
        out,
        len(config.cells()),
        functools.partial(
            run_transfer_sweep, config, out, overwrite=args.overwrite,
            quiet=args.quiet or args.json,
        ),
    )  # fmt: skip
    if code is not None:
        return code
    return report(ds, out, as_json=args.json, figure=args.figure)
    if args.exponents is not None and args.model != "teacher-student":
        raise UsageError("--exponents: the measured rule has exponents for teacher-student only")
    measured = tc.measured_exponents(args.model, args.exponents or tc.MEASURED_FILE)
    config = tc.transfer_config(args.model, args.preset, inits=args.inits, seeds=args.seeds,
                                measured=measured)  # fmt: skip
    from toymodels import _signals
    from toymodels.cli._sweeps import stopped_at_once_message, stopped_message
    from toymodels.sweeps import _paths
    from toymodels.sweeps._run import SweepStopped
    from toymodels.sweeps._transfer import run_transfer_sweep

    _paths.check_results_path(out)  # a device, FIFO, folder or symlink loop: refused here
    finished_here, over, total = [], [], len(config.cells())

    def at_once() -> str:  # the line of a signal that ends the process now: what is saved
        if over:
            return stopped_message(out, total, total)
        return stopped_at_once_message(out, len(finished_here))

    try:
        with _signals.deferring(at_once, after=at_once):
            ds = run_transfer_sweep(
                config, out, overwrite=args.overwrite, quiet=args.quiet or args.json,
                should_stop=_signals.STOP.is_set, on_cell=finished_here.append,
                saving=_signals.saving,
            )  # fmt: skip
            over.append(True)
    except SweepStopped as stop:
        _signals.say_last(stopped_message(out, stop.saved, stop.total))
        return 130
    if _signals.interrupted():
        _signals.say_last(stopped_message(out, total, total))
        return 130
    return report(ds, out, as_json=args.json, figure=args.figure)


def report(ds, out, *, as_json: bool, figure: Path | None = None) -> int:
    """Print the summary of the transfer sweep ``ds`` (and draw it to ``figure``)."""
    from toymodels.reproduce._transfer_analysis import render_transfer, summarize_transfer

    summary = summarize_transfer(ds)
    if figure is not None:
        from toymodels.reproduce._transfer_figures import plot_transfer

        for path in plot_transfer(summary, figure):
            print(f"wrote {path}", file=sys.stderr)
    if as_json:
        json.dump(summary, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(render_transfer(summary))
        print(f"results: {out}")
    return 0
