"""`lora-sweep coordcheck --model package.module:factory`: the width check of a user's own model.

The factory, the data source and the optimizer are named as ``package.module:attribute`` (the
data defaults to the factory module's ``data``); everything that can be wrong with them is one
line and exit code 2 before any training (``toymodels.lab.check_model`` checks the rest).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

#: Widths of a user's model when --widths is not given (d_model of a small transformer on CPU).
DEFAULT_WIDTHS = (64, 128, 256, 512)


def load_object(spec: str, what: str):
    """``package.module:attribute`` → the attribute; :class:`UsageError` in one line otherwise."""
    from toymodels.core import UsageError

    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # the user's module: any failure to import is bad input
        raise UsageError(
            f"{what} {spec}: cannot import {module_name!r}: {type(error).__name__}: {error}"
        ) from None
    if not hasattr(module, attribute):
        raise UsageError(f"{what} {spec}: module {module_name!r} has no {attribute!r}")
    value = getattr(module, attribute)
    if not callable(value):
        raise UsageError(f"{what} {spec}: {attribute!r} is not callable")
    return value


def run_user_model(args: argparse.Namespace, eta_A: str, eta_B: str) -> int:
    from toymodels.core import UsageError
    from toymodels.lab import check_model

    factory = load_object(args.model, "--model")
    data_spec = args.data or f"{args.model.partition(':')[0]}:data"
    if args.data is None and not hasattr(importlib.import_module(data_spec.split(":")[0]), "data"):
        raise UsageError(f"--model {args.model}: its module has no `data`; pass --data MODULE:FN")
    data = load_object(data_spec, "--data")
    optimizer = None if args.optimizer is None else load_object(args.optimizer, "--optimizer")
    init = "A" if args.init is None else args.init
    if init != "model":
        from toymodels.gamma._measure import normalize_init

        init = normalize_init(init)
    widths = DEFAULT_WIDTHS if args.widths is None else tuple(v for w in args.widths for v in w)
    quiet = args.quiet or args.json
    report = check_model(
        factory,
        data,
        widths=widths,
        eta_A_exponent=eta_A,
        eta_B_exponent=eta_B,
        eta0=1.0 if args.eta0 is None else args.eta0,
        init=init,
        seeds=4 if args.seeds is None else args.seeds,
        steps=3 if args.steps is None else args.steps,
        optimizer=optimizer,
        optimizer_name=args.optimizer or "adam (toymodels.lab default)",
        select_A=args.select_A,
        select_B=args.select_B,
        tolerance=0.15 if args.tolerance is None else args.tolerance,
        chunk=args.chunk,
        name=args.model,
        progress=not quiet,
        echo=lambda text: print(text, file=sys.stderr if args.json else sys.stdout),
    )
    if args.plot is not None:
        from toymodels.lab import plot_model_check

        plot_model_check(report, args.plot)
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    s = report.setting
    print(
        f"coordcheck: {s['model']} ({s['kind']}), trained with {s['optimizer']}, Init[{s['init']}] "
        f"({s['init_source']}), η_A = {s['eta0']:g}·n^({s['eta_A_exponent']}), "
        f"η_B = {s['eta0']:g}·n^({s['eta_B_exponent']}); "
        f"widths {', '.join(map(str, s['widths']))}; "
        f"{len(s['seeds'])} seeds; {s['steps']} steps; against theory model adam"
    )
    print(report.format_table())
    if args.plot is not None:
        print(f"figure: {args.plot}")
    return 0
