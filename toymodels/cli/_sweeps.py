"""`lora-sweep run | figure2 | figure3 | heatmap | edge | summary`: width sweeps, their summaries.

Grids on the command line: ``--widths 128,256`` or ``--widths 2^7:2^13`` (every power of two in
between); ``--lr 1e-3,1e-2`` or ``--lr 1e-4:1e-1:13`` (13 log-spaced rates, ends included).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

from toymodels.core import UsageError, canonical_init
from toymodels.sweeps import _paths, _presets
from toymodels.sweeps._presets_doc import default_results_path

METRICS = ("train_loss", "test_loss")


# --- Parsing grids --------------------------------------------------------------------------------


#: The largest integer a grid flag parses (the configuration's own checks name the real limits,
#: int32 for widths and seeds): no arithmetic on a number with 30000 digits.
INT_LIMIT = 2**63 - 1
#: The most rates one LOW:HIGH:COUNT range may hold (the memory estimate judges the whole grid).
MAX_RATES = 100_000


def _int_or_power(text: str, what: str) -> int:
    text = text.strip()
    match = re.fullmatch(r"2\^(\d{1,6})", text)
    try:
        value = 2 ** int(match.group(1)) if match else int(text)
    except ValueError:
        raise UsageError(f"{what} must be integers or powers like 2^7, got {text!r}") from None
    if abs(value) > INT_LIMIT:
        raise UsageError(f"{what}: {text} is too large (at most 2^63 - 1)")
    return value


def parse_widths(text: str) -> tuple[int, ...]:
    """``"128,256"`` or ``"2^7:2^9"`` (powers of two, ends included).

    >>> parse_widths("2^7:2^9"), parse_widths("100, 200")
    ((128, 256, 512), (100, 200))
    """
    if ":" in text:
        low, _, high = text.partition(":")
        low, high = _int_or_power(low, "widths"), _int_or_power(high, "widths")
        if low <= 0 or high < low or low & (low - 1) or high & (high - 1):
            raise UsageError(f"a width range must run between powers of two, got {text!r}")
        return tuple(2**k for k in range(low.bit_length() - 1, high.bit_length()))
    widths = tuple(_int_or_power(part, "widths") for part in text.split(",") if part.strip())
    if not widths:
        raise UsageError("--widths is empty")
    return widths


def _float(text: str, what: str) -> float:
    """A number, or a power of two such as ``2^-8`` (the same spelling as widths)."""
    text = text.strip()
    match = re.fullmatch(r"2\^(-?\d+)", text)
    try:
        return 2.0 ** int(match.group(1)) if match else float(text)
    except (ValueError, OverflowError):
        raise UsageError(f"{what} must be numbers or powers like 2^-8, got {text!r}") from None


def parse_rates(text: str, what: str = "learning rates") -> tuple[float, ...]:
    """``"1e-3,1e-2"`` or ``"LOW:HIGH:COUNT"`` (log-spaced, ends included).

    >>> parse_rates("1e-3:1e-1:3")
    (0.001, 0.01, 0.1)
    """
    parts = text.split(":")
    if len(parts) == 3:
        low, high = _float(parts[0], what), _float(parts[1], what)
        count = _int_or_power(parts[2], f"the count of {what}")
        if count < 1:
            raise UsageError(f"{what}: the grid {text!r} is empty")
        if count > MAX_RATES:
            raise UsageError(f"{what}: {count} rates in {text!r}; at most {MAX_RATES} per range")
        if not (low > 0 and high > 0 and math.isfinite(low) and math.isfinite(high)):
            raise UsageError(f"{what} must be positive and finite, got {text!r}")
        if low > high:
            raise UsageError(
                f"{what}: a range runs from low to high, got {text!r} "
                f"(write {parts[1].strip()}:{parts[0].strip()}:{parts[2].strip()})"
            )
        return _presets.log_grid(low, high, count)
    if len(parts) != 1:
        raise UsageError(f"{what}: expected a list like 1e-3,1e-2 or LOW:HIGH:COUNT, got {text!r}")
    rates = tuple(_float(part, what) for part in text.split(",") if part.strip())
    if not rates:
        raise UsageError(f"{what}: the grid is empty")
    return rates


def parse_ints(text: str, what: str) -> tuple[int, ...]:
    """Integers: ``"0,1,5"``, powers like ``2^3``, and inclusive ranges ``"0:3"``.

    >>> parse_ints("0:3,7", "seeds")
    (0, 1, 2, 3, 7)
    """
    values: list[int] = []
    for part in text.split(","):
        if not part.strip():
            continue
        low, colon, high = part.partition(":")
        if not colon:
            values.append(_int_or_power(part, what))
            continue
        low, high = _int_or_power(low, what), _int_or_power(high, what)
        if high < low or high - low > 100_000:
            raise UsageError(f"{what}: the range {part.strip()!r} is empty or too long")
        values.extend(range(low, high + 1))
    if not values:
        raise UsageError(f"--{what} is empty")
    return tuple(values)


def parse_seeds(text: str) -> tuple[int, ...]:
    """Seeds as a list: ``"0,1"``, ``"0:3"`` (0, 1, 2, 3)."""
    return parse_ints(text, "seeds")


def parse_inits(text: str) -> tuple[str, ...]:
    inits = tuple(canonical_init(part) for part in text.split(",") if part.strip())
    if not inits:
        raise UsageError("--inits is empty")
    return inits


def _flag(parse):
    """``parse`` as an argparse ``type``: its UsageError message becomes the one-line error."""

    def convert(text: str):
        try:
            return parse(text)
        except UsageError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = parse.__name__
    return convert


# --- Parsers --------------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    _output_flags(parser)
    _analysis_flags(parser)


def _custom(parser: argparse.ArgumentParser) -> bool:
    """Whether ``parser`` is `run`'s (a custom sweep: no preset, its own defaults)."""
    return parser.prog.split()[-1] == "run"


def _output_flags(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("output")
    command = parser.prog.split()[-1]
    default = "results/run-custom.nc" if _custom(parser) else f"results/{command}-PRESET.nc"
    out.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help=f"results file (netCDF) (default: {default})",
    )
    out.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a results file of another configuration (default: refuse)",
    )
    out.add_argument("--quiet", action="store_true", help="no progress bar (default: shown)")
    out.add_argument(
        "--json", action="store_true", help="print the summary as one JSON object (default: table)"
    )
    _distributed_flags(parser)


def _distributed_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "several processes (docs/sweeps.md; default: from a cluster launcher's environment)"
    )
    group.add_argument(
        "--coordinator",
        metavar="HOST:PORT",
        help="process 0's address (default: the launcher's, else one process)",
    )
    group.add_argument(
        "--num-processes",
        type=int,
        metavar="P",
        help="how many processes (default: the launcher's, else 1)",
    )
    group.add_argument(
        "--process-id",
        type=int,
        metavar="I",
        help="this process, 0..P-1 (default: the launcher's, else 0)",
    )
    group.add_argument(
        "--connect-timeout",
        type=float,
        metavar="S",
        help="seconds every process has to connect and agree on the sweep before all stop with "
        "exit code 2 (default: 180)",
    )


def _analysis_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("analysis")
    group.add_argument(
        "--metric", choices=METRICS, help="loss that picks the optimum (default: the preset's)"
    )
    group.add_argument(
        "--at-step", type=int, help="step at which losses are compared (default: last)"
    )
    group.add_argument(
        "--window",
        type=int,
        help="average the loss over this many steps ending at --at-step (default: the preset's)",
    )


def _grid_flags(parser: argparse.ArgumentParser, *, lr_help: str) -> None:
    custom = _custom(parser)
    group = parser.add_argument_group("sweep" if custom else "sweep (overrides the preset)")

    def default(preset: str, run: str) -> str:
        return f"(default: {run if custom else preset})"

    group.add_argument(
        "--widths",
        type=_flag(parse_widths),
        metavar="N,N",
        help="e.g. 2^7:2^13 (powers of two between) or 128,1024 "
        + ("(required: no default)" if custom else "(default: the preset's)"),
    )
    group.add_argument(
        "--inits",
        type=_flag(parse_inits),
        metavar="I,I",
        help="e.g. A,B (aliases Init[A], 1, ...) " + default("the preset's", "A,B"),
    )
    group.add_argument(
        "--lr", metavar="RATES", help=f"{lr_help} (2^-8 spelling too; " + default(
            "the preset's", "required unless --eta-A/--eta-B")[1:]
    )  # fmt: skip
    group.add_argument(
        "--seeds",
        type=_flag(parse_seeds),
        metavar="S,S",
        help="e.g. 0,1 or 0:3 (0 to 3) " + default("the preset's", "0"),
    )
    group.add_argument(
        "--steps",
        type=int,
        metavar="T",
        help="optimizer updates T " + default("the preset's", "100"),
    )


def _scaling_flag(parser: argparse.ArgumentParser) -> None:
    default = "0" if _custom(parser) else "the preset's"
    parser.add_argument(
        "--lr-scaling",
        metavar="S",
        help="scale the --lr grid with width: η(n) = η(n₀)·(n/n₀)^S, n₀ the narrowest width "
        f"(e.g. -3/4; 0 for one grid at every width) (default: {default})",
    )


def parse_scaling(text: str) -> float:
    """An exponent such as ``-3/4``, ``-0.75`` or ``0``.

    >>> parse_scaling("-3/4")
    -0.75
    """
    from fractions import Fraction

    try:
        value = float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError, OverflowError):
        raise UsageError(f"--lr-scaling must be a number such as -3/4, got {text!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"--lr-scaling must be finite, got {text!r}")
    return value


def add_parser(subparsers) -> None:
    """Add `run`, `figure2`, `figure3`, `heatmap` and `summary`."""
    run_ = subparsers.add_parser(
        "run",
        help="a custom width sweep",
        description="Train a model over widths × inits × learning rates × seeds.",
        epilog="example: lora-sweep run --widths 2^5:2^8 --lr 1e-3:1e-1:5 --seeds 0,1 --steps 50 "
        "--out results/my-sweep.nc",
    )
    run_.add_argument(
        "--model",
        default="teacher-student",
        help="teacher-student, lora-mlp, linear (default: %(default)s)",
    )
    _grid_flags(run_, lr_help="equal rates η_A = η_B: 1e-4:1e-1:13 or 1e-3,1e-2")
    _scaling_flag(run_)
    run_.add_argument(
        "--eta-A", dest="eta_A", help="η_A grid of a 2-D (η_A × η_B) sweep (default: none)"
    )
    run_.add_argument(
        "--eta-B", dest="eta_B", help="η_B grid of a 2-D (η_A × η_B) sweep (default: none)"
    )
    run_.add_argument("--optimizer", help="sgd, adam or adamw (default: the paper's)")
    run_.add_argument(
        "--rank", type=int, default=None, help="LoRA rank r (default: 4; 1 for the linear model)"
    )
    run_.add_argument(
        "--multiplier",
        default=None,
        metavar="S",
        help="s in the LoRA multiplier α·r^(−s), a rational: 1/2 (rsLoRA), 1 (α/r) "
        "(default: 0, no multiplier; unlike lora-gamma, whose default is the model's α/r: kept, "
        "so that results already written keep their meaning)",
    )
    run_.add_argument(
        "--alpha", type=float, default=None, help="α in the LoRA multiplier α·r^(−s) (default: 1)"
    )
    run_.add_argument(
        "--weight-decay",
        type=float,
        default=0.0,
        help="decoupled weight decay of adamw (default: %(default)s)",
    )
    run_.add_argument(
        "--data-seed",
        type=int,
        default=0,
        help="seed of the data and the teacher, 0..2^31-1 (default: %(default)s)",
    )
    _common(run_)

    for name, what in (
        ("figure2", "optimal learning rate vs width, Init[A] and Init[B] (Init paper Fig. 2)"),
        ("figure3", "|Z_A|, |Z_B| and train loss at the optimal rates (Init paper Fig. 3)"),
        ("heatmap", "train/test loss over an (η_A, η_B) grid of the LoRA+ toy MLP (LoRA+ Fig. 2)"),
    ):
        parser = subparsers.add_parser(
            name,
            help=what,
            description=what,
            epilog=f"example: lora-sweep {name} --preset quick",
        )
        parser.add_argument(
            "--preset", default="paper", help="paper or quick (default: %(default)s)"
        )
        if name == "heatmap":
            _grid_flags(parser, lr_help="(unused: give --eta-A and --eta-B)")
            parser.add_argument(
                "--eta-A", dest="eta_A", help="η_A grid, e.g. 1e-4:1e1:16 (default: the preset's)"
            )
            parser.add_argument(
                "--eta-B", dest="eta_B", help="η_B grid, e.g. 1e-4:1e1:16 (default: the preset's)"
            )
        elif name == "figure3":
            _grid_flags(parser, lr_help="rates: one number, or INIT@WIDTH=RATE,... per cell")
            parser.add_argument(
                "--from-results",
                type=Path,
                help="take each init's optimal rate at the widths from a figure2 results file "
                "(default: the preset's rates)",
            )
        else:
            _grid_flags(parser, lr_help="equal rates: 1e-5:1e-1:13 or 1e-3,1e-2")
            _scaling_flag(parser)
        _common(parser)

    edge = subparsers.add_parser(
        "edge",
        help="the stability edge: the rate at which max_t RMS(Z_B) reaches C, vs width",
        description="Per init, width and seed, the rate η_edge at which the peak feature size "
        "max_(t=1..T) RMS(Z_B) first reaches the level C (equal rates η_A = η_B, a fine grid "
        "log-log interpolated); η_edge(n) ∝ n^k fitted with a bootstrap over seeds.",
        epilog="example: lora-sweep edge --preset quick",
    )
    edge.add_argument("--preset", default="paper", help="paper (default) or quick")
    _grid_flags(edge, lr_help="equal rates, unscaled: 2^-17..1 as 7.6e-6:1:69 (the default)")
    _edge_flags(edge)
    _output_flags(edge)

    summary = subparsers.add_parser(
        "summary",
        help="summarize a results file",
        description="Summarize a results file.",
        epilog="example: lora-sweep summary results/figure2.nc --metric test_loss",
    )
    summary.add_argument(
        "path", type=Path, metavar="FILE", help="a results file written by lora-sweep"
    )
    summary.add_argument(
        "--json", action="store_true", help="print one JSON object (default: a table)"
    )
    _analysis_flags(summary)
    _edge_flags(summary)
    summary.add_argument(
        "--min-rank",
        type=int,
        default=1,
        metavar="R",
        help="a rank sweep's file: fit the fixed-width lines over ranks >= R only (default: 1)",
    )


def _edge_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("stability edge (lora-sweep edge, or summary of its file)")
    group.add_argument(
        "--level",
        metavar="C",
        help="the level C of max_t RMS(Z_B) that defines the edge (default 4: above the Z_B "
        "Init[A] reaches when trained to its loss optimum, but not above Init[B]'s, 2.7-4.5; C = 1 "
        "and 10 are reported beside, and `lora-sweep horizon FILE` reads the level set "
        "1, 2, 4, 8, 16; docs/sweeps.md)",
    )
    group.add_argument(
        "--horizon",
        type=int,
        metavar="T",
        help="the peak is over steps 1..T (default: every recorded step)",
    )


# --- Building the configuration -------------------------------------------------------------------


def _positive_int(value, what: str) -> int:
    if value is not None and value <= 0:
        raise UsageError(f"{what} must be a positive integer, got {value}")
    return value


def parse_cell_rates(spec: str) -> float | dict[tuple[str, int], float]:
    """``figure3 --lr``: one rate for every cell, or ``INIT@WIDTH=RATE,...``.

    >>> parse_cell_rates("A@2^7=0.01")
    {('A', 128): 0.01}
    """
    spec = spec.strip()
    if "=" not in spec:
        return _float(spec, "--lr")
    rates: dict[tuple[str, int], float] = {}
    for item in spec.split(","):
        key, _, value = item.partition("=")
        init, _, width = key.partition("@")
        cell = canonical_init(init), _int_or_power(width, "widths")
        if cell in rates:
            raise UsageError(f"--lr: the cell {key.strip()} is given twice")
        rates[cell] = _float(value, "--lr")
    return rates


def build_config(args):
    """The :class:`~toymodels.sweeps.SweepConfig` and preset of parsed ``args``
    (:func:`toymodels.sweeps.sweep_config` with the flags given as overrides)."""
    from toymodels.sweeps import sweep_config

    overrides = {
        "inits": args.inits,
        "widths": args.widths,
        "seeds": args.seeds,
        "steps": args.steps,
    }
    if args.command == "run":
        overrides.update(
            model=args.model,
            rank=args.rank,
            multiplier=args.multiplier,
            alpha=args.alpha,
            optimizer=args.optimizer,
            weight_decay=args.weight_decay,
            data_seed=args.data_seed,
        )
    if args.command == "figure3":
        overrides["optimal_from"] = args.from_results
        overrides["cell_rates"] = parse_cell_rates(args.lr) if args.lr is not None else None
    else:
        eta_A, eta_B = getattr(args, "eta_A", None), getattr(args, "eta_B", None)
        overrides["eta_A"] = parse_rates(eta_A, "--eta-A") if eta_A else None
        overrides["eta_B"] = parse_rates(eta_B, "--eta-B") if eta_B else None
        overrides["rates"] = parse_rates(args.lr) if args.lr is not None else None
        scaling = getattr(args, "lr_scaling", None)
        overrides["rate_scaling"] = parse_scaling(scaling) if scaling is not None else None
    return sweep_config(args.command, getattr(args, "preset", None), **overrides)


def _analysis_settings(args, preset, steps: int) -> dict:
    """The summary's settings; ``steps`` is the run's T (``--at-step`` must lie in 0..T)."""
    window = args.window if args.window is not None else preset.window
    _positive_int(window, "--window")
    if args.at_step is not None and not 0 <= args.at_step <= steps:
        raise UsageError(f"--at-step {args.at_step} is outside the run's steps 0..{steps}")
    return {
        "metric": args.metric or preset.metric,
        "window": window,
        "steps": (args.at_step,) if args.at_step is not None else preset.summary_steps,
    }


# --- Running --------------------------------------------------------------------------------------


def _edge_settings(args) -> dict:
    from toymodels.analysis import _edge

    level = _edge.check_level(args.level) if args.level is not None else _edge.DEFAULT_LEVEL
    if args.horizon is not None and args.horizon < 1:
        raise UsageError(f"--horizon must be a positive integer, got {args.horizon}")
    return {"level": level, "horizon": args.horizon}


def _check_horizon(horizon: int | None, steps: int) -> None:
    if horizon is not None and horizon > steps:
        raise UsageError(f"--horizon {horizon} exceeds the run's {steps} steps")


def _report_edge(ds, path, args, settings) -> int:
    from toymodels.analysis import _edge

    _check_horizon(settings["horizon"], ds.sizes["step"] - 1)
    summary = _edge.summarize_edge(ds, **settings)
    summary["results"] = str(path)
    print(json.dumps(summary) if args.json else _edge.render_edge(summary))
    return 0


def run(args) -> int:
    if args.command == "summary":
        from toymodels.sweeps import load_results, stored_config

        ds = load_results(args.path)
        experiment = stored_config(ds).get("experiment", "run")
        if experiment == "rank":  # `lora-sweep rank --summary-only`'s summary, its defaults
            from toymodels.cli import _rank

            settings = _edge_settings(args)
            window = args.window if args.window is not None else _rank.DEFAULT_WINDOW
            _positive_int(window, "--window")
            _positive_int(args.min_rank, "--min-rank")
            return _rank.report(ds, args.path, level=settings["level"], window=window,
                                min_rank=args.min_rank, as_json=args.json)  # fmt: skip
        if experiment == "edge":
            return _report_edge(ds, args.path, args, _edge_settings(args))
        if experiment == "transfer":  # `lora-sweep transfer --summary-only`'s summary
            from toymodels.cli import _transfer

            return _transfer.report(ds, args.path, as_json=args.json)
        from toymodels.sweeps._config import check_increasing
        from toymodels.sweeps._refine import COARSE

        # files written before lora-sweep sorted rate lists: refused, never a traceback (a
        # two-stage grid's fine window follows its coarse grid: only the coarse grid is ordered)
        eta_A, eta_B = ds["eta_A"].values, ds["eta_B"].values
        if "stage" in ds.coords:
            coarse = ds["stage"].values == COARSE
            eta_A, eta_B = eta_A[..., coarse], eta_B[..., coarse]
        check_increasing(eta_A, eta_B, f"{args.path}'s rate grid")
        preset_name = stored_config(ds).get("preset") or "paper"
        try:
            preset = _presets.get_preset(experiment, preset_name)
        except (KeyError, UsageError):
            preset = (
                _presets.FIGURE2["paper"] if experiment != "heatmap" else _presets.HEATMAP["paper"]
            )
            preset = _presets.Preset(**{**preset.__dict__, "window": 1, "summary_steps": (None,)})
        settings = _analysis_settings(args, preset, ds.sizes["step"] - 1)
        return _report(ds, args.path, args, settings)

    # Every check before JAX starts, anything trains or anything is written.
    if args.command == "edge":
        from toymodels.analysis import _edge

        settings = _edge_settings(args)
        config, preset = build_config(args)
        _edge.check_edge_sweep(config)
        _check_horizon(settings["horizon"], config.steps)
    else:
        config, preset = build_config(args)
        settings = _analysis_settings(args, preset, config.steps)
    out = args.out or default_results_path(config.experiment, config.preset)
    _paths.check_results_path(out)  # a device, FIFO, folder or symlink loop: refused before work
    from toymodels.sweeps import _run

    _run.check_memory(config)  # a lower bound; the exact check follows once JAX is up
    from toymodels import _signals
    from toymodels.sweeps import _distributed, run_sweep
    from toymodels.sweeps._run import SweepStopped

    launch = _distributed.Launch(args.coordinator, args.num_processes, args.process_id)
    distributed = _distributed.requested(launch)
    if distributed:
        timeout = args.connect_timeout or _distributed.CONNECT_TIMEOUT_S
        _distributed.check_launch(launch)
        _distributed.initialize(launch, timeout)
        # Before any collective: processes given different sweeps would mix their runs in one file
        _distributed.agree(_agreement_fields(config, out, launch, args), timeout)
    finished_here = []
    total = len(config.cells())
    over = []  # [True] once the sweep returned: every cell is saved

    def at_once() -> str:  # the line of a signal that ends the process now: what is saved
        if over:
            return stopped_message(out, total, total)
        return stopped_at_once_message(out, len(finished_here))

    try:
        with _signals.deferring(at_once, after=at_once):
            ds = run_sweep(
                config,
                out,
                overwrite=args.overwrite,
                quiet=args.quiet,
                should_stop=_signals.STOP.is_set,
                on_cell=lambda init, width: finished_here.append((init, width)),
                saving=_signals.saving,
            )
            over.append(True)
    except SweepStopped as stop:
        message = stopped_message(out, stop.saved, stop.total)
        if distributed:  # at once: the other processes must not wait for this one
            _distributed.abandon(130, message)
        _signals.say_last(message)
        return 130
    except UsageError:  # every process meets it (process 0's verdict on the file is shared)
        raise
    except Exception as error:
        if not distributed:
            raise
        # Also what the others meet when this one is lost: their next exchange fails.
        index, count = _distributed.process()
        problem = " ".join(str(error).split())[:300] or type(error).__name__
        _distributed.abandon(
            1,
            f"lora-sweep: error: process {index} of {count}: {problem}; "
            f"rerun the same command to resume from the cells saved in {out}",
        )
    if _signals.interrupted():
        _signals.say_last(stopped_message(out, total, total))
        return 130
    if ds is None:  # a process other than 0 of a multi-process sweep
        index, count = _distributed.process()
        done = f"lora-sweep: process {index} of {count} done; process 0 wrote {out}"
        print(done, file=sys.stderr)
        return 0
    if args.command == "edge":
        return _report_edge(ds, out, args, settings)
    return _report(ds, out, args, settings)


def _agreement_fields(config, out, launch, args) -> dict:
    """What every process of a multi-process sweep must be given alike, by the flag that sets it."""
    import os

    from toymodels.sweeps import _distributed

    stored = config.to_json()
    train = dict(stored.pop("train"))
    return {
        "command or --preset": [stored.pop("experiment"), stored.pop("preset")],
        "--model": stored.pop("model"),
        "--inits": stored.pop("inits"),
        "--widths": stored.pop("widths"),
        "--seeds": stored.pop("seeds"),
        "--steps": train.pop("steps"),
        "learning-rate grid (--lr, --eta-A, --eta-B, --lr-scaling)": stored,
        "training options (--rank, --multiplier, --alpha, --optimizer, ...)": train,
        "--num-processes": launch.num_processes or _distributed.process()[1],
        "--out": os.path.realpath(out),
        "--overwrite": bool(args.overwrite),
    }


def run_stoppable(out, total: int, run):
    """``run(should_stop=, on_cell=, saving=)`` (a sweep writing ``out``, ``total`` cells) under the
    CLI's signal rules: ``(results, None)``, or ``(None, 130)`` after a stop with its one line said.

    A signal that ends the process at once says what is saved; a stop between cells, or one after
    the last save, exits 130 naming the saved cells (``_signals``).
    """
    from toymodels import _signals
    from toymodels.sweeps._run import SweepStopped

    finished_here, over = [], []

    def at_once() -> str:  # the line of a signal that ends the process now: what is saved
        if over:
            return stopped_message(out, total, total)
        return stopped_at_once_message(out, len(finished_here))

    try:
        with _signals.deferring(at_once, after=at_once):
            results = run(
                should_stop=_signals.STOP.is_set,
                on_cell=lambda *cell: finished_here.append(cell),
                saving=_signals.saving,
            )
            over.append(True)
    except SweepStopped as stop:
        _signals.say_last(stopped_message(out, stop.saved, stop.total))
        return None, 130
    if _signals.interrupted():  # the signal came after the last cell was saved
        _signals.say_last(stopped_message(out, total, total))
        return None, 130
    return results, None


def stopped_at_once_message(out, finished_here: int) -> str:
    """The one line of a sweep ended at once by a second signal: what this run saved.

    >>> stopped_at_once_message("r.nc", 2).split("; ")[1:3]
    ['2 cell(s) finished by this run are saved in r.nc', 'rerun the same command to resume']
    """
    if not finished_here:
        return (
            f"lora-sweep: stopped at once; nothing new is saved in {out}; "
            "rerun the same command to resume"
        )
    return (
        f"lora-sweep: stopped at once; {finished_here} cell(s) finished by this run "
        f"are saved in {out}; rerun the same command to resume"
    )


def stopped_message(out, saved: int, total: int) -> str:
    """The one line of a sweep stopped by a signal: what is saved, and how to go on.

    >>> stopped_message("r.nc", 1, 4)
    'lora-sweep: interrupted; 1 of 4 cells are saved in r.nc; rerun the same command to resume'
    """
    if saved == 0:
        return (
            f"lora-sweep: interrupted before any cell finished; nothing is saved in {out}; "
            "rerun the same command to start again"
        )
    if saved == total:
        return f"lora-sweep: interrupted; all {total} cells are saved in {out}; rerun to summarize"
    return (
        f"lora-sweep: interrupted; {saved} of {total} cells are saved in {out}; "
        "rerun the same command to resume"
    )


def _report(ds, path, args, settings) -> int:
    from toymodels.analysis import _summary

    summary = _summary.summarize(ds, **settings)
    summary["results"] = str(path)
    if args.json:
        print(json.dumps(summary, indent=None))
    else:
        print(_summary.render(summary))
    return 0
