"""Benchmark: the project's training of the Figure-2 workload against the straightforward baseline,
the machine's matrix-multiply rate and its memory copy bandwidth, measured in one process.

    python -m benchmarks.run                      # widths 2^10 and 2^13 (minutes on 2 cores)
    python -m benchmarks.run --smoke              # seconds: a tiny width, checks the plumbing only
    python -m benchmarks.run --json results.json  # also write the JSON record ('-': stdout only)

The workload has the shape of `lora-sweep figure2 --preset paper` at one width: teacher-student,
AdamW, 8 equal rates x 2 seeds x 150 steps, instrumentation off. For each width it reports:

- the project: run-steps per second of ``toymodels.train_grid`` over the whole grid, from a warm
  call (the first call, which compiles, is timed apart; per-seed setup is included). In full mode a
  second grid with twice the steps separates the per-step cost from the fixed cost (setup, etc.);
- the achieved FLOP rate of the essential work (``benchmarks._flops``: the products of the LoRA
  layer's forward and backward per run-step, plus the per-seed setup in the whole call) and its
  fraction of the float32 matrix-multiply rate measured in the same process just before and just
  after the width's timing (the faster of the two); the kernel is compute-bound, so this is the
  limit that means something;
- the effective bandwidth of the unavoidable N·n traffic (:data:`FLOOR_PASSES` passes over N·n
  float32 per run-step, see :data:`FLOOR_EXPLANATION`) and its fraction of the copy bandwidth, a
  yardstick the fused kernel exceeds since it never stores the N·n pre-activation;
- the speed-up over the baseline (``benchmarks._baseline``), whose time is *estimated*: steps of
  one run are timed one by one after a warm-up step (at least ``baseline_steps`` and at least
  ``baseline_seconds`` of them), their median is scaled by the grid's number of run-steps, and
  their spread is reported.

Every run also checks, on a small case, that the baseline and the project produce the same per-step
losses, i.e. that both do the same work.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shlex
import sys
import time
from functools import partial
from typing import NoReturn

import jax
import numpy as np
from tqdm import tqdm

from benchmarks import _bandwidth, _baseline, _flops, _workload
from toymodels import train_grid
from toymodels.core import _train as train
from toymodels.core._errors import UsageError

FLOOR_PASSES = 3
FLOOR_EXPLANATION = (
    "Per run-step, the only N x n array that differs between runs is the pre-activation "
    "Y_h = H + Z_A B^T (H = Y_in + W_h phi(Y_in) and z = phi(Y_in) are shared by all runs of a "
    "seed and not counted). An implementation that stores it once moves it 3 times: written once, "
    "read by the forward output phi(Y_h) W_out, read again by the backward for the ReLU mask that "
    "feeds dL/dB and dL/dZ_A. Floor = 3 passes x N x n x 4 bytes per run-step. A kernel that never "
    "stores Y_h could beat this count: it is a yardstick, not a law."
)
FULL = {
    "widths": [2**10, 2**13],
    "rates": 8,
    "seeds": 2,
    "steps": 150,
    "baseline_steps": 20,
    "baseline_seconds": 10.0,
    "matmul_size": 4096,
}
SMOKE = {
    "widths": [32],
    "rates": 2,
    "seeds": 1,
    "steps": 3,
    "baseline_steps": 3,
    "baseline_seconds": 0.0,
    "matmul_size": 256,
}
FLOPS_EXPLANATION = (
    "Essential FLOPs per run-step (benchmarks/_flops.py): the products of the LoRA layer's "
    "forward and backward on the N training points, N n (10 r + 3), and the test loss's forward "
    "on the N_test test points, N_test n (4 r + 2); 2 FLOPs per multiply-add. The whole call adds "
    "each seed's setup H = Y_in + W_h phi(Y_in), 2 (N + N_test) n^2. Reference: a jitted float32 "
    "jnp.dot of two square matrices in the same process, best of a few."
)
# The smoke run's own grid: the check then reuses the compiled training, which keeps smoke fast.
EQUIVALENCE = _workload.Workload(
    width=32, n_rates=2, n_seeds=1, steps=3, inits=("A",), record=False
)
# float32 losses of the same maths agree to rounding; Adam's normalization amplifies rounding a bit.
EQUIVALENCE_RTOL = 1e-4


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"benchmarks.run: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="seconds-long run on tiny widths")
    parser.add_argument("--widths", type=_positive_int, nargs="+", help="default: 1024 8192")
    parser.add_argument("--rates", type=_positive_int, help="learning rates in the grid (8)")
    parser.add_argument("--seeds", type=_positive_int, help="seeds in the grid (2)")
    parser.add_argument("--steps", type=_positive_int, help="optimizer steps per run (20)")
    parser.add_argument(
        "--baseline-steps", type=_positive_int, help="fewest baseline steps timed (20)"
    )
    parser.add_argument(
        "--baseline-seconds",
        type=_non_negative_float,
        help="time more baseline steps until they add up to this (10)",
    )
    parser.add_argument(
        "--record", action="store_true", help="record the per-step instrumentation (sweep: off)"
    )
    parser.add_argument("--chunk-size", type=_positive_int, help="passed to train_grid")
    parser.add_argument("--json", metavar="PATH", help="write the JSON record here ('-': stdout)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def device_info() -> dict:
    """The JAX devices, the CPU model and the usable cores."""
    cpu_model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "jax_backend": jax.default_backend(),
        "jax_devices": [str(d) for d in jax.devices()],
        "device_kind": jax.devices()[0].device_kind,
        "cpu_model": cpu_model,
        "cores": len(os.sched_getaffinity(0)),
    }


def _versions() -> dict:
    import jaxlib
    import numba
    import optax

    return {
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "optax": optax.__version__,
        "numba": numba.__version__,
        "numpy": np.__version__,
    }


def check_equivalence(workload: _workload.Workload = EQUIVALENCE) -> dict:
    """Baseline and project train losses on a small case: the same maths gives the same numbers."""
    config = _workload.project_config(workload)
    project = train_grid(config, workload.etas, workload.etas, workload.seeds)
    baseline = _workload.baseline_losses(config, workload.etas, workload.seeds)
    project_loss = project.metrics["train_loss"]
    max_rel_diff = float(np.max(np.abs(project_loss - baseline) / np.abs(project_loss)))
    return {
        "width": workload.width,
        "runs": workload.n_rates * workload.n_seeds,
        "steps": workload.steps,
        "max_rel_diff_train_loss": max_rel_diff,
        "rtol": EQUIVALENCE_RTOL,
        "same_losses": max_rel_diff <= EQUIVALENCE_RTOL,
    }


def _time_train_grid(
    workload: _workload.Workload, chunk_size: int | None
) -> tuple[float, float, int]:
    """Seconds of a first pass over the workload's cells (it compiles) and of a warm pass, and the
    number of runs of the warm pass that diverged.

    Each pass starts without cached frozen features, as a sweep does at a new width: the per-seed
    setup (W_h, H) is paid once per pass and shared by the inits, as in ``lora-sweep figure2``.
    """
    seconds = []
    for _ in range(2):
        train._frozen_features.cache_clear()
        diverged = 0
        start = time.perf_counter()
        for init in workload.inits:
            config = _workload.project_config(workload, init)
            result = train_grid(
                config, workload.etas, workload.etas, workload.seeds, chunk_size=chunk_size
            )
            diverged += int(result.diverged.sum())
        seconds.append(time.perf_counter() - start)
    train._frozen_features.cache_clear()
    # A diverged run costs the same (it keeps computing, frozen); worth knowing all the same.
    return seconds[0], seconds[1], diverged


def time_project(workload: _workload.Workload, chunk_size: int | None, per_step: bool) -> dict:
    """The project's run-steps per second on the workload, and (``per_step``) its per-step cost.

    The per-step cost is the slope between the workload at T and at 2T steps, which removes what
    does not grow with the steps (per-seed setup, compilation-cache lookups, transfers).
    """
    first, warm, diverged = _time_train_grid(workload, chunk_size)
    timing = {
        "first_call_s": first,
        "warm_call_s": warm,
        "seconds_per_run_step": warm / workload.run_steps,
        "run_steps_per_s": workload.run_steps / warm,
        "diverged_runs": diverged,
        "per_step": None,
    }
    if per_step:
        longer = dataclasses.replace(workload, steps=2 * workload.steps)
        _, warm_longer, _ = _time_train_grid(longer, chunk_size)
        seconds = (warm_longer - warm) / workload.run_steps
        timing["per_step"] = {
            "method": f"slope between warm calls at {workload.steps} and {longer.steps} steps",
            "warm_call_2T_s": warm_longer,
            "seconds_per_run_step": seconds,
            "run_steps_per_s": 1 / seconds if seconds > 0 else float("nan"),
            "fixed_s": warm - seconds * workload.run_steps,
        }
    return timing


def time_baseline(workload: _workload.Workload, timed_steps: int, min_seconds: float) -> dict:
    """Baseline seconds per run-step: the median of steps of one run timed one by one, scaled to
    the grid; with the spread of those steps."""
    config = _workload.project_config(workload)
    frozen, lora0, x, y = _workload.baseline_problem(config, int(workload.seeds[0]))
    seconds = _baseline.step_seconds(
        frozen,
        lora0,
        x,
        y,
        eta=float(workload.etas[0]),
        timed_steps=timed_steps,
        min_seconds=min_seconds,
        warmup_steps=1,
    )
    median = float(np.median(seconds))
    q1, q3 = (float(q) for q in np.percentile(seconds, [25, 75]))
    return {
        "estimated": True,
        "method": (
            f"timed {seconds.size} steps of 1 run one by one after 1 warm-up step (at least "
            f"{timed_steps}, and at least {min_seconds:g} s); median x {workload.run_steps} "
            "run-steps of the grid (its setup not counted)"
        ),
        "timed_steps": int(seconds.size),
        "seconds_per_run_step": median,
        "run_steps_per_s": 1 / median,
        "estimated_total_s": median * workload.run_steps,
        "spread": {
            "min_s": float(seconds.min()),
            "q1_s": q1,
            "median_s": median,
            "q3_s": q3,
            "max_s": float(seconds.max()),
            "mean_s": float(seconds.mean()),
            "iqr_over_median": (q3 - q1) / median,
        },
    }


def _derived(
    run_steps_per_s: float, flops_per_s: float, floor_bytes: int, reference: dict, baseline: dict
) -> dict:
    effective = floor_bytes * run_steps_per_s / 1e9
    return {
        "achieved_GFLOPs": flops_per_s / 1e9,
        "fraction_of_matmul_rate": flops_per_s / 1e9 / reference["matmul_GFLOPs"],
        "effective_bandwidth_GBps": effective,
        "fraction_of_copy_bandwidth": effective / reference["copy_GBps"],
        "speedup_over_baseline": run_steps_per_s / baseline["run_steps_per_s"],
    }


def measure_width(
    workload, *, baseline_steps, baseline_seconds, chunk_size, matmul, copy_GBps, n_train, per_step
) -> dict:
    """Project, baseline and the derived FLOP-rate and bandwidth figures at one width.

    ``matmul()`` measures the f32 matmul rate (a dict with ``GFLOPs``); it is measured just before
    and just after the project's timing, and the faster of the two is the width's reference: on a
    shared machine the load changes within a run, and a rate measured minutes earlier would not
    describe the machine the project ran on. ``copy_GBps``: the copy-bandwidth reference.
    """
    matmul_before = matmul()["GFLOPs"]
    project = time_project(workload, chunk_size, per_step)
    matmul_after = matmul()["GFLOPs"]
    reference = {"matmul_GFLOPs": max(matmul_before, matmul_after), "copy_GBps": copy_GBps}
    baseline = time_baseline(workload, baseline_steps, baseline_seconds)
    floor_bytes = FLOOR_PASSES * n_train * workload.width * 4
    flops = _workload.essential_flops(workload)
    result = {
        "width": workload.width,
        "inits": list(workload.inits),
        "n_rates": workload.n_rates,
        "n_seeds": workload.n_seeds,
        "steps": workload.steps,
        "run_steps": workload.run_steps,
        "record": workload.record,
        "project": project,
        "baseline": baseline,
        "flops": flops,
        "matmul_GFLOPs": {
            "before": matmul_before,
            "after": matmul_after,
            "reference": reference["matmul_GFLOPs"],
        },
        "floor_bytes_per_run_step": floor_bytes,
        **_derived(
            project["run_steps_per_s"],
            flops["whole_call"] / project["warm_call_s"],
            floor_bytes,
            reference,
            baseline,
        ),
        "per_step": None,
    }
    if project["per_step"] is not None:
        rate = project["per_step"]["run_steps_per_s"]
        result["per_step"] = _derived(
            rate, flops["per_run_step"] * rate, floor_bytes, reference, baseline
        )
    return result


def run(args: argparse.Namespace, argv: list[str]) -> dict:
    """Every measurement of one benchmark run, as the JSON record."""
    defaults = SMOKE if args.smoke else FULL
    widths = args.widths or defaults["widths"]
    workloads = [
        _workload.Workload(
            width=width,
            n_rates=args.rates or defaults["rates"],
            n_seeds=args.seeds or defaults["seeds"],
            steps=args.steps or defaults["steps"],
            record=args.record,
        )
        for width in widths
    ]
    n_train = _workload.project_config(workloads[0]).n_train
    load_before = os.getloadavg()
    stages = tqdm(total=3 + len(workloads), disable=args.quiet, file=sys.stderr, unit="stage")
    stages.set_description("copy bandwidth")
    bandwidth = _bandwidth.copy_bandwidth(
        n_bytes=2**23 if args.smoke else 2**28, repeats=2 if args.smoke else 5
    )
    stages.update()
    stages.set_description("matmul rate")
    matmul = _flops.matmul_rate(size=defaults["matmul_size"], repeats=2 if args.smoke else 5)
    stages.update()
    # Around each width's timing: fewer repeats than the first measurement, which compiles.
    bracket = partial(
        _flops.matmul_rate, size=defaults["matmul_size"], repeats=2 if args.smoke else 3
    )
    stages.set_description("baseline = project check")
    equivalence = check_equivalence()
    stages.update()
    results = []
    for workload in workloads:
        stages.set_description(f"width {workload.width}")
        results.append(
            measure_width(
                workload,
                baseline_steps=args.baseline_steps or defaults["baseline_steps"],
                baseline_seconds=(
                    defaults["baseline_seconds"]
                    if args.baseline_seconds is None
                    else args.baseline_seconds
                ),
                chunk_size=args.chunk_size,
                matmul=bracket,
                copy_GBps=bandwidth["best"],
                n_train=n_train,
                per_step=not args.smoke,
            )
        )
        stages.update()
    stages.close()
    return {
        "benchmark": "init-paper figure 2: teacher-student, AdamW, equal rates x seeds",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "-m", "benchmarks.run", *argv]),
        "smoke": bool(args.smoke),
        "device": device_info(),
        "load_average": {"before": list(load_before), "after": list(os.getloadavg())},
        "versions": _versions(),
        "workload": {
            "n_train": n_train,
            "rank": workloads[0].rank,
            "inits": list(workloads[0].inits),
        },
        "copy_bandwidth_GBps": bandwidth,
        "matmul_f32": matmul,
        "flops_counted": FLOPS_EXPLANATION,
        "floor": {
            "passes_per_run_step": FLOOR_PASSES,
            "bytes_per_element": 4,
            "explanation": FLOOR_EXPLANATION,
        },
        "equivalence": equivalence,
        "results": results,
    }


def format_table(record: dict) -> str:
    """The human-readable summary of a benchmark record."""
    device = record["device"]
    bandwidth = record["copy_bandwidth_GBps"]
    matmul = record["matmul_f32"]
    lines = [
        f"{record['benchmark']}  ({record['date']})",
        f"device: {device['cpu_model']}, {device['cores']} cores, jax {device['jax_devices']}",
        f"load average (1, 5, 15 min): before {_load(record['load_average']['before'])}, "
        f"after {_load(record['load_average']['after'])}",
        f"f32 matmul rate at the start: {matmul['GFLOPs']:.1f} GFLOP/s (jnp.dot "
        f"{matmul['size']}^2, best of {matmul['repeats']}; median {matmul['median_GFLOPs']:.1f}); "
        "each width's % of matmul uses the faster of the rates measured just before and just "
        "after its project timing",
        "copy bandwidth (read + write): "
        + ", ".join(f"{m} {bandwidth[m]:.1f}" for m in _bandwidth.METHODS)
        + f" GB/s; reference = {bandwidth['best_method']}",
        f"floor: {record['floor']['passes_per_run_step']} passes over N x n float32 per run-step "
        f"(N = {record['workload']['n_train']})",
        f"baseline = project check: max relative difference of the train losses "
        f"{record['equivalence']['max_rel_diff_train_loss']:.1e} "
        f"({'same' if record['equivalence']['same_losses'] else 'DIFFERENT'})",
        "",
        "| width | runs inits x L x S x T | project run-steps/s | GFLOP/s | % of matmul "
        "| effective GB/s | % of copy BW | baseline run-steps/s (est.) | speed-up |",
        "| ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in record["results"]:
        rows = [("whole call", r["project"]["run_steps_per_s"], r)]
        if r["per_step"] is not None:
            rows.append(("per step", r["project"]["per_step"]["run_steps_per_s"], r["per_step"]))
        for label, rate, derived in rows:
            lines.append(
                f"| {r['width']} | {len(r['inits'])} x {r['n_rates']} x {r['n_seeds']} "
                f"x {r['steps']} ({label}) "
                f"| {rate:.1f} | {derived['achieved_GFLOPs']:.1f} "
                f"| {100 * derived['fraction_of_matmul_rate']:.1f}% "
                f"| {derived['effective_bandwidth_GBps']:.2f} "
                f"| {100 * derived['fraction_of_copy_bandwidth']:.1f}% "
                f"| {r['baseline']['run_steps_per_s']:.3g} "
                f"| {derived['speedup_over_baseline']:.1f}x |"
            )
    lines += ["", "essential FLOPs and the baseline's timed steps:"]
    for r in record["results"]:
        spread = r["baseline"]["spread"]
        matmul_width = r["matmul_GFLOPs"]
        lines.append(
            f"  width {r['width']}: {r['flops']['per_run_step'] / 1e6:.1f} MFLOP per run-step, "
            f"{r['flops']['setup_per_seed'] / 1e9:.2f} GFLOP setup per seed; matmul reference "
            f"{matmul_width['reference']:.1f} GFLOP/s (before {matmul_width['before']:.1f}, "
            f"after {matmul_width['after']:.1f}); baseline "
            f"{r['baseline']['timed_steps']} steps, median {1e3 * spread['median_s']:.2f} ms "
            f"(quartiles {1e3 * spread['q1_s']:.2f}-{1e3 * spread['q3_s']:.2f}, "
            f"min {1e3 * spread['min_s']:.2f}, max {1e3 * spread['max_s']:.2f}; "
            f"IQR/median {100 * spread['iqr_over_median']:.1f}%)"
        )
    lines += [
        "",
        "whole call: warm train_grid calls over the width's cells, one per init, as the sweep "
        "makes them (per-seed setup included, once per seed: the inits share it, and its FLOPs "
        "are counted; compilation not); per step: slope between T and 2T steps.",
        f"FLOPs: {record['flops_counted']}",
        f"baseline: ESTIMATED, {record['results'][0]['baseline']['method']}.",
    ]
    return "\n".join(lines)


def _load(values) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    try:
        record = run(args, argv)
    except UsageError as error:
        print(f"benchmarks.run: error: {error}", file=sys.stderr)
        return 2
    text = json.dumps(record, indent=2)
    if args.json == "-":
        print(text)
    else:
        print(format_table(record))
        if args.json:
            with open(args.json, "w") as file:
                file.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
