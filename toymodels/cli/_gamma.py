"""`lora-sweep coordcheck`: measure width exponents and check them against the calculator.

Exit code 0 whether the check passes or fails (it is a measurement; read the verdict or the
JSON ``pass``), 2 with one line on stderr for bad input.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from toymodels.cli._sweeps import parse_seeds, parse_widths

#: Kept literal here (not imported from the implementation) so `lora-sweep --help` stays fast.
_MODELS = ("teacher-student", "lora-mlp", "linear")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "coordcheck",
        help="measure width exponents γ in a toy model and check them against theory",
        description=(
            "Train a few steps at widths 2^7..2^13 over several seeds with η = η₀·n^c, fit the "
            "slope of log RMS against log n for every tracked quantity at every step t = 1..T, and "
            "compare with the exact exponents of theory.predict. Teacher-student and lora-mlp are "
            "trained with Adam (theory model adam), linear with gradient descent (gd-linear). "
            "See docs/empirical-gamma.md."
        ),
        epilog="example: lora-sweep coordcheck --model linear --inits A --eta-exponent -1/2",
    )
    # Exponents are written -1/2 or -inf, which argparse would take for options (it only knows
    # -1 and -0.5 as negative numbers): `--eta-exponent -1/2` must work without an `=`.
    parser._negative_number_matcher = re.compile(r"^-(\d|\.\d|inf$)")
    parser.add_argument(
        "--model",
        required=True,
        type=_model_name,
        metavar="MODEL",
        help=f"a toy model ({', '.join(_MODELS)}) or your own, package.module:factory with "
        "factory(width, key) returning a Flax NNX module, an Equinox module or "
        "toymodels.lab.Model (docs/user-models.md)",
    )
    parser.add_argument(
        "--inits",
        "--init",  # the older spelling, kept: one spelling per concept across the CLIs is --inits
        dest="init",
        default=None,
        metavar="INIT",
        help="A or B, one init (aliases Init[A], Init[1], Init[B], Init[2]; --init also works); "
        "required for a toy model; for your own, 'model' keeps its LoRA init (default A: redrawn)",
    )
    rates = parser.add_mutually_exclusive_group()
    rates.add_argument(
        "--eta-exponent", metavar="Q", help="c for equal rates η_A = η_B = η₀·n^c (e.g. -1/2)"
    )
    parser.add_argument(
        "--eta-A-exponent", metavar="Q", help="c_A in η_A = η₀·n^(c_A) (with --eta-B-exponent)"
    )
    parser.add_argument(
        "--eta-B-exponent", metavar="Q", help="c_B in η_B = η₀·n^(c_B) (with --eta-A-exponent)"
    )
    parser.add_argument(
        "--eta0", type=float, default=None, metavar="X", help="prefactor η₀ > 0 (default per model)"
    )
    parser.add_argument(
        "--widths",
        type=_list(parse_widths),
        nargs="+",
        default=None,
        metavar="N",
        help="widths as in the sweeps: 2^7:2^13, 128,256 or 128 256 (default 2^7:2^13)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        metavar="T",
        help="updates; steps 1..T are compared (default 2)",
    )
    parser.add_argument(
        "--seeds",
        type=_list(_coordcheck_seeds),
        default=None,
        metavar="S",
        help="seeds as in the sweeps: 0:3 or 0,1,2,3 (default per model: 0:3, linear 0:127)",
    )
    parser.add_argument(
        "--n-train", type=int, default=None, metavar="N", help="data points (default per model)"
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=None,
        metavar="X",
        help="|measured − predicted| allowed (default 0.15)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of the table"
    )
    parser.add_argument(
        "--plot", metavar="FILE", help="save the RMS-against-width figure (.png, .pdf, .svg)"
    )
    parser.add_argument(
        "--rank-exponent",
        metavar="K",
        help="train at rank r = round(n^K), K in [0, 1), against the calculator at κ = K "
        "(default: the model's fixed rank)",
    )
    parser.add_argument(
        "--multiplier",
        metavar="S",
        help="s in the LoRA multiplier α·r^(−s), a rational (default with --rank-exponent: 1)",
    )
    parser.add_argument(
        "--reading",
        default="aligned",
        choices=("aligned", "per-coordinate"),
        help="how the calculator reads sums over the rank index (Assumption K, docs/theory.md "
        "§12): aligned (the built-in adam, default) or per-coordinate (adam only)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    lab = parser.add_argument_group("your own model (--model package.module:factory)")
    lab.add_argument(
        "--data",
        metavar="MODULE:FN",
        help="data(key, width) -> (x, y) (default: the factory's module's `data`)",
    )
    lab.add_argument(
        "--optimizer",
        metavar="MODULE:FN",
        help="optimizer(eta_A, eta_B) -> an optax transformation of the LoRA factors "
        "(default: optax's Adam at eta_A on the A factors, at eta_B on the B factors)",
    )
    lab.add_argument("--select-A", metavar="REGEX", help="LoRA A factors: a regex on the path")
    lab.add_argument("--select-B", metavar="REGEX", help="LoRA B factors: a regex on the path")
    lab.add_argument(
        "--chunk", type=int, default=None, metavar="R", help="most runs trained at once (memory)"
    )


def _model_name(text: str) -> str:
    """A toy model's name, or ``package.module:factory``; argparse's one-line error otherwise."""
    if text in _MODELS or re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", text):
        return text
    raise argparse.ArgumentTypeError(
        f"invalid choice {text!r}: expected one of {', '.join(_MODELS)} or package.module:factory"
    )


def _list(parse):
    from toymodels.cli._sweeps import _flag

    return _flag(parse)


def _coordcheck_seeds(text: str) -> tuple[int, ...]:
    """The sweeps' seed lists; a bare number, once a count of seeds, is refused with a hint
    (read as one seed it would silently change what an old command measures)."""
    from toymodels.core import UsageError

    if text.strip().isdigit():
        n = int(text)
        raise UsageError(
            f"--seeds takes a list of seeds, e.g. 0:{max(n - 1, 0)} for {n} seeds "
            f"(0 to {max(n - 1, 0)}), or {n}, for seed {n} alone"
        )
    return parse_seeds(text)


def _flatten(lists):
    return None if lists is None else tuple(v for values in lists for v in values)


def _rates(args) -> tuple[str, str]:
    from toymodels.core import UsageError

    pair = (args.eta_A_exponent, args.eta_B_exponent)
    if args.eta_exponent is not None:
        if any(p is not None for p in pair):
            raise UsageError(
                "give either --eta-exponent or --eta-A-exponent with --eta-B-exponent, not both"
            )
        return args.eta_exponent, args.eta_exponent
    if None in pair:
        raise UsageError("give --eta-exponent Q, or both --eta-A-exponent Q and --eta-B-exponent Q")
    return pair


def _check_plot_path(path: str) -> None:
    from pathlib import Path

    from toymodels.core import UsageError

    target = Path(path)
    if target.suffix.lower() not in {".png", ".pdf", ".svg"}:
        raise UsageError(f"--plot {path}: the file name must end in .png, .pdf or .svg")
    if not target.parent.is_dir():
        raise UsageError(f"--plot {path}: directory {str(target.parent)!r} does not exist")


def _headline(s) -> str:
    eta0 = f"{s['eta0']:g}"
    rates = f"η_A = {eta0}·n^({s['eta_A_exponent']}), η_B = {eta0}·n^({s['eta_B_exponent']})"
    return (
        f"coordcheck: {s['model']} trained with {s['optimizer']} "
        f"(theory model {s['theory_model']}), "
        f"Init[{s['init']}], {rates}; widths {', '.join(map(str, s['widths']))}; "
        f"{len(s['seeds'])} seeds; N = {s['n_train']} data points; {s['steps']} steps"
        + (
            f"; rank r = round(n^{s['rank_exponent']}) = {', '.join(map(str, s['ranks']))}, "
            f"multiplier α·r^(−{s['multiplier']}), {s.get('reading', 'aligned')} reading"
            if "ranks" in s
            else ""
        )
    )


def run(args: argparse.Namespace) -> int:
    from toymodels.core import UsageError
    from toymodels.gamma import _measure as cc

    eta_A, eta_B = _rates(args)
    if ":" in args.model:
        from toymodels.cli._lab import run_user_model

        if args.plot is not None:
            _check_plot_path(args.plot)
        return run_user_model(args, eta_A, eta_B)
    lab_only = [
        f for f in ("data", "optimizer", "select_A", "select_B", "chunk") if getattr(args, f)
    ]
    if lab_only:
        raise UsageError(
            f"--{lab_only[0].replace('_', '-')} is for your own model (package.module:factory)"
        )
    if args.init is None:
        raise UsageError("--inits is required for a toy model (A or B)")
    if args.plot is not None:
        _check_plot_path(args.plot)  # before training: bad input costs nothing
    report = cc.coordcheck(
        args.model,
        args.init,
        eta_A_exponent=eta_A,
        eta_B_exponent=eta_B,
        eta0=args.eta0,
        widths=cc.DEFAULT_WIDTHS if args.widths is None else _flatten(args.widths),
        steps=cc.DEFAULT_STEPS if args.steps is None else args.steps,
        seeds=args.seeds,
        n_train=args.n_train,
        tolerance=cc.DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance,
        progress=not (args.quiet or args.json),
        rank_exponent=args.rank_exponent,
        multiplier=args.multiplier,
        reading=args.reading,
    )
    if args.plot is not None:
        from toymodels.gamma import plot_coordcheck

        plot_coordcheck(report, args.plot)
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(_headline(report.setting))
        print(report.format_table())
        if args.plot is not None:
            print(f"figure: {args.plot}")
    return 0
