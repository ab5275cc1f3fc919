"""`lora-sweep figures`: the papers' figures (PNG + PDF) and the claims table from results files.

    lora-sweep figures --results results/ --out figures/ --claims

reads ``figure2.nc``, ``figure3.nc`` and ``heatmap.nc`` from ``--results`` (else the sweeps'
default names ``figure2-paper.nc``, then ``figure2-quick.nc``, …; or the files named by
``--figure2/--figure3/--heatmap``), draws every figure their data allows, and with ``--claims``
prints the claims table of theory-notes §5 checked against them. Nothing is drawn or claimed for a
store that was not given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from toymodels.core._errors import UsageError

#: Output file stems, by figure. The stems are the names under figures/ and in docs/reproduction.md.
FIGURE_STEMS = {
    "figure2": ("init_fig2_optimal_lr",),
    "figure3": ("init_fig3_feature_norms",),
    "heatmap": ("loraplus_fig2_heatmaps", "loraplus_fig2_curves"),
}
STORES = tuple(FIGURE_STEMS)
#: Theory models whose phase diagrams (``theory``'s, both inits) are drawn beside the data figures.
PHASE_MODELS = ("adam", "gd-linear")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "figures",
        help="draw the papers' figures (PNG + PDF) and check their claims from results files",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument(
        "--results",
        type=Path,
        metavar="DIR",
        help="folder holding figure2.nc, figure3.nc and/or heatmap.nc",
    )
    for store in STORES:
        parser.add_argument(
            f"--{store}",
            type=Path,
            metavar="FILE",
            help=f"the {store} results file (overrides --results)",
        )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("figures"),
        metavar="DIR",
        help="where the PNG and PDF files go (default: figures/)",
    )
    parser.add_argument(
        "--claims", action="store_true", help="print the claims table checked against the results"
    )
    parser.add_argument(
        "--no-phase",
        dest="phase",
        action="store_false",
        help="skip the theory's phase diagrams (drawn by default; they need no results)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (files written, claims) instead of text",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")


def resolve_stores(args: argparse.Namespace) -> dict[str, Path]:
    """The results file of each store that was asked for (explicitly or found in ``--results``)."""
    paths: dict[str, Path] = {}
    if args.results is not None and not args.results.is_dir():
        raise UsageError(f"--results {args.results}: not a folder")
    for store in STORES:
        explicit = getattr(args, store)
        if explicit is not None:
            if not explicit.is_file():
                raise UsageError(f"--{store} {explicit}: no such file")
            paths[store] = explicit
        elif args.results is not None:
            # our names first, then the sweeps' defaults (EXPERIMENT-PRESET.nc), paper before quick
            names = (f"{store}.nc", f"{store}-paper.nc", f"{store}-quick.nc")
            found = [args.results / n for n in names if (args.results / n).is_file()]
            if found:
                paths[store] = found[0]
    if not paths:
        raise UsageError("no results to plot: give --results DIR or --figure2/--figure3/--heatmap")
    return paths


def load_store(path: Path):
    """Open one results file (``toymodels.load_results``: bad files are one-line usage errors)."""
    from toymodels import load_results

    return load_results(path)


def phase_diagrams(out: Path) -> list[Path]:
    """The calculator's phase diagrams (``theory``), PNG and PDF, one file pair per model."""
    from theory._phase import plot_phase_diagram

    out.mkdir(parents=True, exist_ok=True)
    return [
        plot_phase_diagram(model, out / f"phase_{model.replace('-', '_')}.{ext}")
        for model in PHASE_MODELS
        for ext in ("png", "pdf")
    ]


def make_figures(stores: dict, out: Path, *, phase: bool = False) -> list[Path]:
    """Draw every figure the given stores allow (and the phase diagrams with ``phase``).

    Returns the files written (PNG, PDF pairs).
    """
    from toymodels.reproduce import _figures as figures

    draw = {
        "init_fig2_optimal_lr": lambda: figures.plot_optimal_rates(stores["figure2"]),
        "init_fig3_feature_norms": lambda: figures.plot_feature_norms(stores["figure3"]),
        "loraplus_fig2_heatmaps": lambda: figures.plot_rate_heatmaps(stores["heatmap"]),
        "loraplus_fig2_curves": lambda: figures.plot_loss_curves(stores["heatmap"]),
    }
    written: list[Path] = []
    for store in STORES:
        if store in stores:
            for stem in FIGURE_STEMS[store]:
                written.extend(figures.save_figure(draw[stem](), out / stem))
    if phase:
        written.extend(phase_diagrams(out))
    return written


def run(args: argparse.Namespace) -> int:
    from toymodels.reproduce._claims import check_claims, claims_table

    stores = {name: load_store(path) for name, path in resolve_stores(args).items()}
    written = make_figures(stores, args.out, phase=args.phase)
    checks = check_claims(**stores) if args.claims or args.json else ()
    if args.json:
        json.dump(
            {"written": [str(p) for p in written], "claims": [c.as_dict() for c in checks]},
            sys.stdout,
            indent=2,
        )
        print()
    elif not args.quiet:
        for path in written:
            print(f"wrote {path}")
        if args.claims:
            print()
            print(claims_table(checks))
    return 0
