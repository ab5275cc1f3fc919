"""`lora-sweep figures`: the papers' figures (PNG + PDF) and the claims table from results files.

    lora-sweep figures --results results/ --out figures/ --claims

reads ``figure2.nc``, ``figure3.nc``, ``heatmap.nc`` and ``edge.nc`` from ``--results`` (else
the sweeps' default names ``figure2-paper.nc``, then ``figure2-quick.nc``, …; or the files named
by ``--figure2/--figure3/--heatmap/--edge``), draws every figure their data allows, and with
``--claims`` prints the claims table of docs/reproduction.md checked against them, each rule with
its null pass rate (computed here, seconds per rule). Nothing is drawn or claimed for a store that
was not given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from toymodels.core import UsageError

#: The results stores this command reads, one flag each (the figures are
#: ``toymodels.reproduce.FIGURE_STEMS``).
STORES = ("figure2", "figure3", "heatmap", "edge", "wide")
#: The file names each store is looked up by in ``--results``, ours first, then the sweeps'
#: defaults (EXPERIMENT-PRESET.nc), paper before quick.
STORE_FILES = {
    **{s: (f"{s}.nc", f"{s}-paper.nc", f"{s}-quick.nc") for s in STORES[:4]},
    "wide": ("edge-wide.nc",),
}


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "figures",
        help="draw the papers' figures (PNG + PDF) and check their claims from results files",
        description=__doc__.split("\n\n")[0],
        epilog="example: lora-sweep figures --results results/ --claims",
    )
    parser.add_argument(
        "--results",
        type=Path,
        metavar="DIR",
        help="folder holding figure2.nc, figure3.nc, heatmap.nc, edge.nc and/or edge-wide.nc",
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
        default=None,
        metavar="DIR",
        help="where the PNG and PDF files go (default: a fresh folder figures-YYYYMMDD-HHMMSS/, "
        "never over the committed figures/ unless named)",
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
            found = [args.results / n for n in STORE_FILES[store] if (args.results / n).is_file()]
            if found:
                paths[store] = found[0]
    if not paths:
        raise UsageError(
            "no results to plot: give --results DIR or --figure2/--figure3/--heatmap/--edge/--wide"
        )
    return paths


def fresh_folder(now=None, parent: Path = Path()) -> Path:
    """A new, empty folder ``figures-YYYYMMDD-HHMMSS`` (``-2``, ... if taken), created here: two
    commands started in the same second get two folders (``mkdir`` fails if the name is taken).

    >>> import datetime, tempfile
    >>> parent = Path(tempfile.mkdtemp())
    >>> [fresh_folder(datetime.datetime(2026, 12, 1, 7, 30), parent).name for _ in range(2)]
    ['figures-20261201-073000', 'figures-20261201-073000-2']
    """
    import datetime

    stem = f"figures-{(now or datetime.datetime.now()):%Y%m%d-%H%M%S}"
    for n in range(1, 10_000):
        candidate = parent / (stem if n == 1 else f"{stem}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        except OSError as error:
            reason = error.strerror
            raise UsageError(f"cannot create the figures folder {candidate}: {reason}") from None
        return candidate
    raise UsageError(f"cannot find a free folder name {stem}-N in {parent.resolve()}")


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: matplotlib and xarray would slow `lora-sweep --help`.
    from toymodels import _signals, load_results
    from toymodels.reproduce import check_claims, claims_table, make_figures
    from toymodels.reproduce._claims import horizon_report

    stores = {name: load_results(path) for name, path in resolve_stores(args).items()}
    folder = args.out or fresh_folder()
    _signals.set_message(
        lambda: (
            f"lora-sweep: interrupted; the figures in {folder} may be incomplete "
            "(no results file was changed)"
        )
    )
    written = make_figures(stores, folder, phase=args.phase)
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
            report = horizon_report(**stores)
            if report:
                print()
                print(report)
    return 0
