"""The Python side of ``benchmarks/device_check.sh``: each step in its own process, one JSON record.

The shell script runs every step as ``python -m benchmarks.device_check run NAME OUT KIND ARGS…``
under a timeout; this module runs the step *in-process* (pytest, the benchmark or ``lora-sweep``),
so that it can read the device's peak memory afterwards, and writes ``OUT/steps/NAME.json``. Then
``summarize OUT`` merges the steps, the device, the benchmark's figures and their ratios to the CPU
figures of docs/performance.md (:data:`CPU_REFERENCE`) into ``OUT/device_check.json``.

    python -m benchmarks.device_check prereqs                    # install carried wheels, check
    python -m benchmarks.device_check info OUT
    python -m benchmarks.device_check run NAME OUT {pytest,bench,sweep} ARGS...
    python -m benchmarks.device_check has-subcommand edge       # exit 0 if `lora-sweep edge` exists
    python -m benchmarks.device_check summarize OUT

>>> ratio({"run_steps_per_s": 460.0}, {"run_steps_per_s": 230.0}, "run_steps_per_s")
2.0
>>> ratio({"run_steps_per_s": None}, {"run_steps_per_s": 230.0}, "run_steps_per_s") is None
True
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
#: What the check needs, and which of it travels as wheels (``make wheelhouse``).
REQUIREMENTS = REPO / "benchmarks" / "device_requirements.txt"
#: Where ``make wheelhouse`` puts the wheels; carried to the GPU machine with the tree.
WHEELHOUSE = REPO / ".whl"
#: Where carried wheels are installed (``device_check.sh`` puts it on PYTHONPATH).
DEFAULT_SITE = Path("/tmp/device-check-site")
MIN_PYTHON = (3, 11)

#: The CPU figures that GPU figures are divided by: docs/performance.md, "Results", the quiet run of
#: 2026-12-01 06:45 UTC (2-core AMD EPYC, load 0.4-2.0), and the whole Figure-2 paper preset end to
#: end right after it (1 min 2 s, compilation included).
CPU_REFERENCE = {
    "source": "docs/performance.md, CPU kernel, 2-core AMD EPYC, 2026-12-01 06:45-06:51 UTC",
    "benchmark": {
        1024: {"whole_call": {"run_steps_per_s": 1994.9}, "per_step": {"run_steps_per_s": 2070.7}},
        8192: {"whole_call": {"run_steps_per_s": 263.5}, "per_step": {"run_steps_per_s": 301.6}},
    },
    "figure2_paper_wall_s": 62.0,
}
#: The issue's GPU target: the whole Figure-2 paper preset in at most this on one H100/H200.
FIGURE2_TARGET_S = 60.0


def ratio(gpu: dict, cpu: dict, key: str) -> float | None:
    """``gpu[key] / cpu[key]``, or None when either is missing."""
    g, c = gpu.get(key), cpu.get(key)
    return None if g is None or c in (None, 0) else g / c


class Requirement(NamedTuple):
    """One line of :data:`REQUIREMENTS`: a distribution, the module that proves it, its role."""

    distribution: str
    module: str
    role: str  # "image": must be installed; "carry": installable from the wheelhouse


def requirements(path: Path = REQUIREMENTS) -> list[Requirement]:
    """The requirements file, comments and blank lines skipped.

    >>> {r.role for r in requirements()} == {"image", "carry"}
    True
    """
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            rows.append(Requirement(*fields))
    return rows


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _installed(requirement: Requirement) -> bool:
    try:
        importlib.metadata.distribution(requirement.distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return importlib.util.find_spec(requirement.module) is not None


def _wheel_for(distribution: str, wheelhouse: Path) -> Path | None:
    # A wheel's file name is DISTRIBUTION-VERSION-...: the distribution is the part before "-".
    wanted = _normalized(distribution)
    found = sorted(
        p for p in wheelhouse.glob("*.whl") if _normalized(p.name.split("-")[0]) == wanted
    )
    return found[-1] if found else None


def prereqs(
    path: Path = REQUIREMENTS, wheelhouse: Path = WHEELHOUSE, site: Path = DEFAULT_SITE
) -> int:
    """Check what the GPU check needs; install missing ``carry`` distributions from the
    wheelhouse into ``site`` (offline, no dependencies resolved); print one line and return 2
    when something is still missing."""
    if sys.version_info < MIN_PYTHON:
        print(f"device_check: Python {platform.python_version()} is too old (need 3.11+)")
        return 2
    needed = requirements(path)
    missing = [r for r in needed if not _installed(r)]
    wheels = {r.distribution: _wheel_for(r.distribution, wheelhouse) for r in missing}
    carried = [w for r in missing if r.role == "carry" and (w := wheels[r.distribution])]
    if carried:
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps"]
        command += ["--no-compile", "--disable-pip-version-check", "--target", str(site)]
        done = subprocess.run([*command, *map(str, carried)], capture_output=True, text=True)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
            print(f"device_check: installing the carried wheels failed: {reason}")
            return 2
        print(f"device_check: installed {len(carried)} carried wheel(s) into {site}")
        sys.path.insert(0, str(site))
        importlib.invalidate_caches()
        missing = [r for r in missing if not _installed(r)]
    if missing:
        names = ", ".join(
            f"{r.distribution} ({'needs the image' if r.role == 'image' else 'no wheel in .whl'})"
            for r in missing
        )
        hint = (
            " (run `make wheelhouse` where pip works, and carry .whl)"
            if any(r.role == "carry" for r in missing)
            else ""
        )
        print(f"device_check: missing {names}{hint}")
        return 2
    print(f"device_check: all {len(needed)} requirements present")
    return 0


def _memory() -> dict:
    """The default device's memory statistics (None where the backend keeps none, e.g. CPU)."""
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    return {
        "peak_bytes_in_use": stats.get("peak_bytes_in_use"),
        "bytes_in_use": stats.get("bytes_in_use"),
        "bytes_limit": stats.get("bytes_limit"),
    }


def info(out: Path) -> int:
    """The device, the versions and the environment that matters, as ``OUT/device.json``."""
    import jax
    import jaxlib

    device = jax.devices()[0]
    record = {
        "jax_backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "device_kind": device.device_kind,
        "device_count": jax.device_count(),
        "memory": _memory(),
        "versions": {
            "python": platform.python_version(),
            "jax": jax.__version__,
            "jaxlib": jaxlib.__version__,
        },
        "env": {
            name: os.environ.get(name)
            for name in ("JAX_PLATFORMS", "XLA_FLAGS", "XLA_PYTHON_CLIENT_PREALLOCATE")
        },
        "host_cores": len(os.sched_getaffinity(0)),
    }
    (out / "device.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0


def _run_kind(kind: str, args: list[str]) -> int:
    if kind == "pytest":
        import pytest

        return int(pytest.main(list(args)))  # pytest prepends its addopts to the list it gets
    if kind == "bench":
        from benchmarks import run

        return run.main(args)
    if kind == "sweep":
        from toymodels.cli import main

        return main(args)
    raise SystemExit(f"device_check: unknown step kind {kind!r}")


def run_step(name: str, out: Path, kind: str, args: list[str]) -> int:
    """Run one step in this process and write ``OUT/steps/NAME.json`` (wall time, exit code, peak
    device memory of this process)."""
    start = time.perf_counter()
    try:
        code = _run_kind(kind, args)
    except SystemExit as exit_:  # argparse-style exits inside the step
        code = exit_.code if isinstance(exit_.code, int) else 1
    wall = time.perf_counter() - start
    record = {"name": name, "kind": kind, "args": args, "rc": code, "in_process_wall_s": wall}
    with contextlib.suppress(Exception):  # memory is a bonus: never lose the record for it
        record["memory"] = _memory()
    steps = out / "steps"
    steps.mkdir(parents=True, exist_ok=True)
    (steps / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    return code


def has_subcommand(name: str) -> bool:
    """Whether ``lora-sweep NAME`` exists (its parser is built without running anything)."""
    from toymodels.cli import build_parser

    parser, owners = build_parser()
    del parser
    return name in owners


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _benchmark_figures(bench: dict | None) -> dict:
    """Per width: run-steps/s, GFLOP/s and % of the matmul rate, whole call and per step, with
    their ratio to :data:`CPU_REFERENCE`."""
    if not bench:
        return {}
    figures: dict = {"matmul_f32_GFLOPs": bench["matmul_f32"]["GFLOPs"], "widths": {}}
    reference = {} if bench.get("smoke") else CPU_REFERENCE["benchmark"]
    for result in bench["results"]:
        width = result["width"]
        project = result["project"]
        rows = {"whole_call": (project["run_steps_per_s"], result)}
        if result["per_step"] is not None:
            rows["per_step"] = (project["per_step"]["run_steps_per_s"], result["per_step"])
        cpu = reference.get(width, {})
        figures["widths"][width] = {
            label: {
                "run_steps_per_s": rate,
                "achieved_GFLOPs": derived["achieved_GFLOPs"],
                "fraction_of_matmul_rate": derived["fraction_of_matmul_rate"],
                "speedup_over_baseline": derived["speedup_over_baseline"],
                "ratio_to_cpu": ratio(
                    {"run_steps_per_s": rate}, cpu.get(label, {}), "run_steps_per_s"
                ),
            }
            for label, (rate, derived) in rows.items()
        }
    return figures


def summarize(out: Path) -> int:
    """Merge everything under ``OUT`` into ``OUT/device_check.json``; print it."""
    steps = {}
    for shell in sorted((out / "steps").glob("*.shell.json")):
        name = shell.name.removesuffix(".shell.json")
        steps[name] = {**(_load(shell) or {}), **(_load(out / "steps" / f"{name}.json") or {})}
    figure2 = steps.get("figure2_paper", {})
    # Compared with the target and the CPU only when the paper preset ran (not in a dry run).
    paper = figure2.get("rc") == 0 and "paper" in figure2.get("args", [])
    figure2_wall = figure2.get("wall_s") if paper else None
    cpu_figure2 = CPU_REFERENCE["figure2_paper_wall_s"]
    record = {
        "check": "benchmarks/device_check.sh",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "device": _load(out / "device.json"),
        "steps": steps,
        "figure2_paper": {
            "wall_s": figure2_wall,
            "target_s": FIGURE2_TARGET_S,
            "meets_target": None if figure2_wall is None else figure2_wall <= FIGURE2_TARGET_S,
            "cpu_wall_s": cpu_figure2,
            "speedup_over_cpu": None
            if figure2_wall is None or cpu_figure2 is None
            else cpu_figure2 / figure2_wall,
        },
        "benchmark": _benchmark_figures(_load(out / "bench.json")),
        "cpu_reference": CPU_REFERENCE,
    }
    text = json.dumps(record, indent=2, default=str)
    (out / "device_check.json").write_text(text + "\n")
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    usage = (
        "usage: device_check {prereqs | info OUT | run NAME OUT KIND ARGS... "
        "| has-subcommand NAME | summarize OUT}"
    )
    if not argv:
        print(usage, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "prereqs" and not rest:
        site = Path(os.environ.get("DEVICE_CHECK_SITE", DEFAULT_SITE))
        wheelhouse = Path(os.environ.get("DEVICE_CHECK_WHEELS", WHEELHOUSE))
        listed = Path(os.environ.get("DEVICE_CHECK_REQUIREMENTS", REQUIREMENTS))
        return prereqs(listed, wheelhouse, site)
    if command == "info" and len(rest) == 1:
        return info(Path(rest[0]))
    if command == "run" and len(rest) >= 3:
        return run_step(rest[0], Path(rest[1]), rest[2], rest[3:])
    if command == "has-subcommand" and len(rest) == 1:
        return 0 if has_subcommand(rest[0]) else 1
    if command == "summarize" and len(rest) == 1:
        return summarize(Path(rest[0]))
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
