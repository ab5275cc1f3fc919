"""``lora-gamma``: the exact γ-exponent calculator on the command line.

    lora-gamma derive --model M --init A [--eta Q | --eta-A Q --eta-B Q] [--steps T]
                      [--format md|latex|json]
    lora-gamma point  --model M --init A (--eta Q | --eta-A Q --eta-B Q) [--json]
    lora-gamma region --model M --init A --condition C [--condition C ...] [--equal-rates]
                      [--json]
    lora-gamma phase  --model M --out phase.png [--over-rank]
    lora-gamma transfer --init A --from-width N0 --to-width N [--from-rank R0 --to-rank R]
                      [--multiplier S] (--eta X | --eta-A X --eta-B X) [--rule R] [--json]

Every command takes ``--rank-exponent K`` (the rank r = Θ(n^K), K in [0, 1), default 0: the
papers' r = Θ(1)) and ``--multiplier S`` (the LoRA multiplier α·r^(−S), default the model's own
value: S = 1, the papers' α/r, for both built-ins; it changes nothing at K = 0), both exact
rationals (docs/theory.md §12); JSON output echoes both. ``lora-gamma --version`` prints the
installed version; every command's ``--help`` ends with examples.
``transfer`` moves learning rates (numbers, not exponents) tuned at width N0 and rank R0 to width
N and rank R by a rule (none, edge, loraplus, loraplus-fixed, measured: ``theory/_transfer.py``).
``phase --over-rank`` draws the regimes over (γ[η], K) at equal rates, one panel per init and
S ∈ {0, 1/2, 1} (or the ``--multiplier`` given).

``M`` is a built-in model (adam, gd-linear) or a model spec file (``--model my-model.toml``).
Bad input (a malformed exponent or spec, an unknown model, init or condition, a missing rate, an
unwritable output) prints one line on stderr and exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from theory._exponent import ExponentError, format_exponent, parse_exponent, shorten
from theory._measured import MeasuredExponentError
from theory._models import (
    CONDITIONS,
    MODELS,
    MULTIPLIER_PARAMETER,
    RANK_PARAMETER,
    canonical_condition,
    canonical_init,
    resolve_model,
)
from theory._predict import EQUAL_RATE, derive, predict, region
from theory._transfer_cli import TRANSFER_HELP, add_transfer_arguments, run_transfer

__all__ = ["main"]

PROG = "lora-gamma"
_RATE_FLAGS = ("--eta", "--eta-A", "--eta-B", "--rank-exponent", "--multiplier", "--from-width",
               "--to-width", "--from-rank", "--to-rank", "--ratio")  # fmt: skip
_PLOT_SUFFIXES = (".png", ".pdf", ".svg")
#: The steady state is derived analytically; unrolling further only lengthens the printout.
MAX_STEPS = 1000


class _UsageError(Exception):
    """Bad command-line input: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        raise _UsageError(message)


def _typed(convert, what: str):
    def parse(text: str):
        try:
            return convert(text)
        except ExponentError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = what
    return parse


_EXAMPLES = {
    "derive": (
        "the derivation, step by step, in the papers' notation (omitted rates stay symbolic)",
        "  lora-gamma derive --model adam --init A --eta -1/2 --steps 2\n"
        "  lora-gamma derive --model gd-linear --init B --format json",
    ),
    "point": (
        "steady-state exponents and conditions at fixed rates",
        "  lora-gamma point --model adam --init A --eta -1/2\n"
        "  lora-gamma point --model gd-linear --init B --eta-A -1 --eta-B 0 --json",
    ),
    "region": (
        "the exact region of rate exponents where all the given conditions hold",
        "  lora-gamma region --model adam --init A --condition efficient --condition "
        "internally_stable\n"
        "  lora-gamma region --model adam --init B --condition stable --equal-rates --json",
    ),
    "phase": (
        "phase diagram over (γ[η_A], γ[η_B]) for every init (or over (γ[η], K) with --over-rank)",
        "  lora-gamma phase --model adam --out phase.png\n"
        "  lora-gamma phase --model adam --out rank.png --over-rank",
    ),
    "transfer": TRANSFER_HELP,
}


def version() -> str:
    """This package's installed version (``importlib.metadata``), or the source tree's."""
    try:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as installed

        return installed("lora-width-scaling")
    except (ImportError, PackageNotFoundError):
        return "unknown (not installed)"


def _subparser(sub, name: str) -> argparse.ArgumentParser:
    summary, examples = _EXAMPLES[name]
    return sub.add_parser(
        name,
        help=summary,
        description=f"{summary[0].upper()}{summary[1:]}.",
        epilog=f"examples:\n{examples}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Exact width exponents γ of LoRA training dynamics (docs/theory.md).",
        epilog="examples:\n  lora-gamma point --model adam --init A --eta -1/2\n"
        "  lora-gamma derive --model adam --init B --eta -1 --steps 3\n"
        "run 'lora-gamma COMMAND --help' for a command's flags",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}",
                        help="print the installed version and exit")  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    model = {"type": _typed(resolve_model, "model"), "required": True,
             "help": f"one of {', '.join(MODELS)}, or a model spec file (.toml)"}  # fmt: skip
    init = {"required": True,
            "help": "A (= Init[A] = Init[1]: B0 = 0), B (= Init[B] = Init[2]: A0 = 0), or an "
                    "init of the model's spec"}  # fmt: skip
    exponent = _typed(parse_exponent, "exponent")

    def rank(p: argparse.ArgumentParser) -> None:
        p.add_argument("--rank-exponent", dest="rank_exponent", type=exponent,
                       help="K: the rank is r = Θ(n^K), K in [0, 1) (default 0)")  # fmt: skip
        p.add_argument("--multiplier", type=exponent,
                       help="S: the LoRA multiplier is α·r^(−S). Default: the model's own "
                            "value, S = 1 (α/r, the papers' convention) for adam and gd-linear; "
                            "at rank exponent K = 0 it changes no exponent")  # fmt: skip

    def rates(p: argparse.ArgumentParser) -> None:
        p.add_argument("--eta", type=exponent, help="equal rate exponent: η_A = η_B = Θ(n^Q)")
        p.add_argument("--eta-A", dest="eta_A", type=exponent, help="γ[η_A] (gd-linear: γ[η_a])")
        p.add_argument("--eta-B", dest="eta_B", type=exponent, help="γ[η_B] (gd-linear: γ[η_b])")
        rank(p)

    p = _subparser(sub, "derive")
    p.add_argument("--model", **model)
    p.add_argument("--init", **init)
    rates(p)
    p.add_argument("--steps", type=_steps, default=None,
                   help=f"number of updates to unroll, 0..{MAX_STEPS} (default: enough for the "
                        "steady state; with two symbolic rates where exponents multiply, at "
                        "most that)")  # fmt: skip
    p.add_argument("--format", choices=("md", "latex", "json"), default="md",
                   help="md (Markdown, the default), latex (an align* block) or json")  # fmt: skip

    p = _subparser(sub, "point")
    p.add_argument("--model", **model)
    p.add_argument("--init", **init)
    rates(p)
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")

    p = _subparser(sub, "region")
    p.add_argument("--model", **model)
    p.add_argument("--init", **init)
    p.add_argument("--condition", action="append", required=True,
                   help=f"one of {', '.join(CONDITIONS)} or a condition of the model's spec "
                        "(repeat for a conjunction)")  # fmt: skip
    p.add_argument("--equal-rates", action="store_true", help="η_A = η_B = Θ(n^eta)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object on stdout (pieces, intervals, readings)")  # fmt: skip
    rank(p)

    p = _subparser(sub, "phase")
    p.add_argument("--model", **model)
    p.add_argument("--out", required=True, help="output figure (.png, .pdf or .svg)")
    p.add_argument("--over-rank", action="store_true",
                   help="regimes over (γ[η], K), equal rates, a panel per init and S")  # fmt: skip
    rank(p)

    add_transfer_arguments(_subparser(sub, "transfer"), model_type=model["type"], init=init,
                           exponent=exponent)  # fmt: skip
    return parser


def _steps(text: str) -> int:
    """A step count, read without building a huge integer."""
    stripped = text.strip()
    if not stripped.isascii() or not stripped.isdigit() or len(stripped) > 4:
        raise argparse.ArgumentTypeError(
            f"{shorten(text)} is not a number of steps between 0 and {MAX_STEPS}"
        )
    return int(stripped)


def _join_negative_values(argv: Sequence[str]) -> list[str]:
    """``--eta -1/2`` → ``--eta=-1/2``: argparse would read ``-1/2`` as an option."""
    out: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg in _RATE_FLAGS:
            value = next(it, None)
            out.append(arg if value is None else f"{arg}={value}")
        else:
            out.append(arg)
    return out


def _rates(args: argparse.Namespace, *, required: bool) -> tuple[object, object]:
    if args.eta is not None:
        if args.eta_A is not None or args.eta_B is not None:
            raise _UsageError("give either --eta or --eta-A/--eta-B, not both")
        return args.eta, args.eta
    if required and (args.eta_A is None or args.eta_B is None):
        missing = "--eta-A" if args.eta_A is None else "--eta-B"
        raise _UsageError(
            f"missing rate: give --eta, or both --eta-A and --eta-B ({missing} absent)"
        )
    return args.eta_A, args.eta_B


def _bind_rank(args: argparse.Namespace) -> None:
    """Rebuild ``args.model`` at ``--rank-exponent`` / ``--multiplier`` (one-line errors)."""
    args.model = resolve_model(
        args.model, rank_exponent=args.rank_exponent, multiplier=args.multiplier
    )


def _rank_echo(args: argparse.Namespace) -> dict[str, str | None]:
    """The two rank inputs as the model was evaluated at (a model without the rank: κ = 0)."""
    values = args.model.parameters
    s = values.get(MULTIPLIER_PARAMETER, args.multiplier)
    return {
        "rank_exponent": format_exponent(values.get(RANK_PARAMETER, 0)),
        "multiplier": None if s is None else format_exponent(s),
    }


def _rank_line(args: argparse.Namespace) -> list[str]:
    if args.rank_exponent is None and args.multiplier is None:
        return []
    echo = _rank_echo(args)
    s = args.model.parameters.get(MULTIPLIER_PARAMETER, args.multiplier)
    power = "1" if s is None else f"−{echo['multiplier']}" if s >= 0 else format_exponent(-s)
    return [f"rank r = Θ(n^{echo['rank_exponent']}), multiplier α·r^({power})"]


def _cmd_derive(args: argparse.Namespace) -> str:
    if args.steps is not None and not 0 <= args.steps <= MAX_STEPS:
        raise _UsageError(f"--steps must be between 0 and {MAX_STEPS}, not {args.steps}")
    eta_A, eta_B = _rates(args, required=False)
    if args.eta is None and eta_A is None and eta_B is None:
        eta_A = eta_B = None  # both symbolic
    d = derive(args.model, _init(args), eta_A=eta_A, eta_B=eta_B, steps=args.steps)
    if args.format == "json":
        payload = {**d.to_json(), **_readings(args.model), **_rank_echo(args)}
        return json.dumps(payload, indent=2, ensure_ascii=False)
    text = (d.to_latex() if args.format == "latex" else d.to_markdown()).rstrip("\n")
    return "\n".join([*_rank_line(args), text])


def _init(args: argparse.Namespace) -> str:
    return canonical_init(args.init, args.model)


def _cmd_point(args: argparse.Namespace) -> str:
    eta_A, eta_B = _rates(args, required=True)
    p = predict(args.model, _init(args), eta_A=eta_A, eta_B=eta_B)
    payload = {
        "model": p.model,
        "init": p.init,
        "eta_A": format_exponent(p.eta_A),
        "eta_B": format_exponent(p.eta_B),
        "exponents": {q: format_exponent(v) for q, v in p.exponents.items()},
        "growth": dict(p.growth),
        "first_steps": {q: [format_exponent(step[q]) for step in p.trajectory] for q in p.growth},
        "closed_forms": {q: form.to_json() for q, form in p.closed_forms.items()},
        "conditions": dict(p.conditions),
        "holds_from_step": {c: t for c, t in p.holds_from.items() if t is not None},
        **_readings(args.model),
        **_rank_echo(args),
    }
    if args.json:
        return json.dumps(payload)
    width = max(len(q) for q in (*p.exponents, *p.conditions))
    lines = [f"{p.model}, Init[{p.init}], γ[η_A] = {payload['eta_A']}, γ[η_B] = {payload['eta_B']}"]
    lines += _rank_line(args)
    lines.append("steady-state exponents:")
    readings = args.model.readings
    used = args.model.condition_readings()
    for q, v in payload["exponents"].items():
        if q in p.growth:
            first = ", ".join(payload["first_steps"][q])
            form = p.closed_forms.get(q)
            closed = f"; γ_t = {form}" if form else ""
            v = f"{v} ({p.growth[q]}{closed}; t = 0..{len(p.trajectory) - 1}: {first})"
        reading = f"  [{readings[q]}]" if q in readings else ""
        lines.append(f"  {q:<{width}}  {v}{reading}")
    lines.append("conditions (steady state; from the step shown on):")
    for c, ok in p.conditions.items():
        start = p.holds_from.get(c)
        since = f" (t >= {start})" if ok and start else ""
        reads = f"  [reads {', '.join(used[c])}]" if used.get(c) else ""
        lines.append(f"  {c:<{width}}  {'yes' if ok else 'no'}{since}{reads}")
    return "\n".join(lines)


def _readings(model) -> dict[str, dict]:
    """Which size of a rank sum each quantity is, and which ones each condition reads (only
    for a model that declares readings, such as ``adam``: docs/theory.md §12)."""
    if not model.readings:
        return {}
    return {
        "readings": dict(model.readings),
        "condition_readings": {c: list(r) for c, r in model.condition_readings().items()},
    }


def _cmd_region(args: argparse.Namespace) -> str:
    names = [canonical_condition(c, args.model) for c in args.condition]
    init = _init(args)
    where = region(args.model, init, names, equal_rates=args.equal_rates)
    variables = [EQUAL_RATE] if args.equal_rates else ["eta_A", "eta_B"]
    if not args.json:
        return "\n".join([*_rank_line(args), str(where)])
    payload = {
        "model": args.model.name,
        "init": init,
        "conditions": names,
        "variables": variables,
        "region": str(where),
        "empty": where.is_empty(),
        "pieces": [[c.format() for c in piece.constraints] for piece in where.pieces],
        **(
            {"condition_readings": {c: list(args.model.condition_readings()[c]) for c in names}}
            if args.model.readings
            else {}
        ),
        **_rank_echo(args),
    }
    if args.equal_rates:
        payload["intervals"] = [
            {
                "lo": None if lo is None else format_exponent(lo),
                "lo_closed": lc,
                "hi": None if hi is None else format_exponent(hi),
                "hi_closed": hc,
            }
            for lo, lc, hi, hc in where.intervals(EQUAL_RATE)
        ]
    return json.dumps(payload)


def _cmd_phase(args: argparse.Namespace) -> str:
    out = Path(args.out)
    if out.suffix.lower() not in _PLOT_SUFFIXES:
        raise _UsageError(f"--out {out}: use a .png, .pdf or .svg file name")
    problem = writable_file_problem(out)
    if problem:
        raise _UsageError(f"--out {out}: {problem}")
    from theory._phase import plot_phase_diagram, plot_rank_phase_diagram

    if args.over_rank:
        if args.rank_exponent is not None:
            raise _UsageError("--over-rank draws every rank exponent: drop --rank-exponent")
        multipliers = ("0", "1/2", "1") if args.multiplier is None else (args.multiplier,)
        plot_rank_phase_diagram(args.model, out, multipliers=multipliers)
    else:
        plot_phase_diagram(args.model, out)
    return f"wrote {out}"


def writable_file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be written as a new or replaced file (None if it can): checked before
    any work, so a bad path never costs a plot."""
    parent = path.parent
    if path.is_dir():
        return "is a directory"
    if not parent.is_dir():
        return f"directory {parent} does not exist"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"directory {parent} is not writable"
    if path.exists() and not os.access(path, os.W_OK):
        return "exists and is not writable"
    return None


_COMMANDS = {
    "derive": _cmd_derive,
    "point": _cmd_point,
    "region": _cmd_region,
    "phase": _cmd_phase,
    "transfer": run_transfer,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0, or 2 for bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _build_parser().parse_args(_join_negative_values(argv))
        unbound = (args.command == "phase" and args.over_rank) or args.command == "transfer"
        if not unbound:
            _bind_rank(args)
        text = _COMMANDS[args.command](args)
    except (_UsageError, ExponentError, MeasuredExponentError) as err:
        one_line = " ".join(str(err).split())
        print(f"{PROG}: error: {one_line}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    try:
        print(text)
    except BrokenPipeError:  # `lora-gamma ... | head` closed the pipe early: not an error to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
