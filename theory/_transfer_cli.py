"""``lora-gamma transfer``: its flags and its command (the rules live in ``theory/_transfer.py``).

Rates here are numbers (the tuned learning rates), not exponents; widths and ranks too. The
``measured`` rule reads a fitted exponent from a JSON file (``theory/_measured.py``).

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_transfer_arguments(p, model_type=str, init={"required": True}, exponent=str)
>>> args = p.parse_args("--init A --from-width 512 --to-width 2048 --eta 1e-3".split())
>>> args.model = "adam"
>>> run_transfer(args).splitlines()[2]
'recommended: η_A = 0.0005, η_B = 0.0005 (η_B/η_A = 1)'
"""

from __future__ import annotations

import argparse
from fractions import Fraction

from theory._measured import SOURCES, read_exponent_file
from theory._models import MODELS, canonical_init, resolve_model
from theory._transfer import DEFAULT_RATIO, RULES, TransferError, transfer, transfer_json

__all__ = ["TRANSFER_HELP", "add_transfer_arguments", "run_transfer"]

TRANSFER_HELP = (
    "learning rates tuned at one width (and rank) moved to another by a scaling rule",
    "  lora-gamma transfer --model adam --init A --from-width 512 --to-width 8192 --eta 1e-3\n"
    "  lora-gamma transfer --model adam --init B --from-width 512 --to-width 4096 "
    "--from-rank 4 --to-rank 64\n      --multiplier 1/2 --eta-A 1e-3 --eta-B 1e-3 --rule loraplus "
    "--json\n"
    "  lora-gamma transfer --model adam --init A --from-width 512 --to-width 8192 --eta 1e-3 "
    "--rule measured\n      --from-results results/exponents.json --source optimum",
)


def add_transfer_arguments(p: argparse.ArgumentParser, *, model_type, init: dict, exponent) -> None:
    """The command's flags on its subparser (``model_type``, ``init``, ``exponent``: the shared
    converters of theory/cli.py)."""
    p.add_argument("--model", type=model_type, default="adam",
                   help=f"one of {', '.join(MODELS)} (default adam), or a spec file")  # fmt: skip
    p.add_argument("--init", **init)
    p.add_argument("--from-width", dest="from_width", required=True,
                   help="n0: the width the rates were tuned at")  # fmt: skip
    p.add_argument("--to-width", dest="to_width", required=True, help="n: the target width")
    p.add_argument("--from-rank", dest="from_rank", help="r0: the tuned rank (default 1)")
    p.add_argument("--to-rank", dest="to_rank", help="r: the target rank (default r0)")
    p.add_argument("--multiplier", type=exponent, default=Fraction(1),
                   help="S: the LoRA multiplier is α·r^(−S) (default 1, α/r; 1/2 is rsLoRA's "
                        "α/√r); it sets the rank exponents")  # fmt: skip
    p.add_argument("--eta", help="the tuned equal rate η_A = η_B (a number such as 1e-3)")
    p.add_argument("--eta-A", dest="eta_A", help="the tuned η_A (with --eta-B)")
    p.add_argument("--eta-B", dest="eta_B", help="the tuned η_B (with --eta-A)")
    p.add_argument("--rule", choices=RULES, default="edge",
                   help="none (keep), edge (calculator's largest stable rate, the default), "
                        "loraplus (η_A ∝ 1/n, η_B ∝ 1), loraplus-fixed (η_B = λ·η_A), measured "
                        "(a fitted exponent, --from-results)")  # fmt: skip
    p.add_argument("--ratio", default=DEFAULT_RATIO,
                   help=f"λ of loraplus-fixed (default {DEFAULT_RATIO:g})")  # fmt: skip
    p.add_argument("--from-results", dest="from_results",
                   help="an exponent file (lora-sweep exponents FILE.nc --out X.json) for "
                        "--rule measured")  # fmt: skip
    p.add_argument("--source", choices=SOURCES,
                   help="which measured exponent: edge or optimum (needed when the file has "
                        "both)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")


def run_transfer(args: argparse.Namespace) -> str:
    """The ``transfer`` command: the text or JSON it prints."""
    args.model = resolve_model(args.model)
    init = canonical_init(args.init, args.model)
    measured = None
    if args.rule == "measured":
        if args.from_results is None:
            raise TransferError("--rule measured needs --from-results FILE.json")
        measured = read_exponent_file(args.from_results, args.model.name, init, args.source)
    elif args.from_results is not None or args.source is not None:
        raise TransferError("--from-results and --source go with --rule measured")
    result = transfer(
        init,
        model=args.model,
        from_width=args.from_width,
        to_width=args.to_width,
        from_rank=args.from_rank,
        to_rank=args.to_rank,
        multiplier=args.multiplier,
        eta=args.eta,
        eta_A=args.eta_A,
        eta_B=args.eta_B,
        rule=args.rule,
        ratio=args.ratio,
        measured=measured,
    )
    return transfer_json(result) if args.json else result.to_text()
