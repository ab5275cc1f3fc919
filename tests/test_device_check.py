"""The GPU check script's logic, on CPU: steps, timeouts cut to the budget, skips, one JSON record.

The steps themselves are stubbed (a fake ``python`` that records its arguments), so these tests take
seconds; the real dry run is ``DEVICE_CHECK_PLATFORM=cpu bash benchmarks/device_check.sh``
(docs/performance.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import device_check

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "device_check.sh"

# Stands in for python: `info` and `run` log their arguments (a step named in FAIL exits 3),
# `has-subcommand` answers no, `summarize` is the real one.
STUB = """#!/usr/bin/env bash
echo "$*" >> "$STUB_CALLS"
case "$3" in
  info) exit 0 ;;
  has-subcommand) exit 1 ;;
  summarize) exec "$REAL_PYTHON" "$@" ;;
  run) [ "$4" = "$FAIL" ] && exit 3; exit 0 ;;
esac
"""


def _run_script(tmp_path: Path, **env) -> tuple[subprocess.CompletedProcess, list[str], dict]:
    if shutil.which("timeout") is None:
        pytest.skip("needs coreutils timeout")
    tmp_path.mkdir(parents=True, exist_ok=True)
    stub = tmp_path / "python"
    stub.write_text(STUB)
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    calls, out = tmp_path / "calls.txt", tmp_path / "out"
    full_env = {
        **os.environ,
        "PYTHON": str(stub),
        "REAL_PYTHON": sys.executable,
        "STUB_CALLS": str(calls),
        "OUT": str(out),
        "PYTHONPATH": str(REPO),
        "FAIL": "",
        **env,
    }
    done = subprocess.run(
        ["bash", str(SCRIPT)], env=full_env, capture_output=True, text=True, timeout=120
    )
    record = json.loads((out / "device_check.json").read_text())
    return done, calls.read_text().splitlines(), record


def test_gpu_run_order_commands_and_record(tmp_path):
    done, calls, record = _run_script(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    runs = [call.split()[3:6] for call in calls if call.split()[2] == "run"]
    assert [name for name, _, _ in runs] == ["figure2_paper", "benchmark", "tests"]
    assert [kind for _, _, kind in runs] == ["sweep", "bench", "pytest"]
    figure2 = next(c for c in calls if " figure2_paper " in c)
    assert "figure2 --preset paper --out" in figure2
    assert "--smoke" not in next(c for c in calls if " benchmark " in c)
    tests = next(c for c in calls if " tests " in c)
    assert "tests/test_fastpath.py" in tests and "not cpu" in tests
    steps = record["steps"]
    assert steps["figure2_paper"]["rc"] == 0 and steps["figure2_paper"]["timeout_s"] == 200
    assert steps["edge_paper"]["skipped"] == "no subcommand"
    assert record["figure2_paper"]["target_s"] == device_check.FIGURE2_TARGET_S


def test_a_failing_step_does_not_stop_the_others_and_fails_the_check(tmp_path):
    done, _, record = _run_script(tmp_path, FAIL="benchmark")
    assert done.returncode == 1
    assert record["steps"]["benchmark"]["rc"] == 3
    assert record["steps"]["tests"]["rc"] == 0


def test_timeouts_are_cut_to_the_budget_and_late_steps_skipped(tmp_path):
    _, _, record = _run_script(tmp_path, DEVICE_CHECK_BUDGET_S="100")
    # 100 s less 15 s kept for the summary: the first step gets 85 s, not its 200.
    assert record["steps"]["figure2_paper"]["timeout_s"] <= 85
    _, _, record = _run_script(tmp_path / "tight", DEVICE_CHECK_BUDGET_S="40")
    assert record["steps"]["figure2_paper"]["skipped"] == "budget"


def test_dry_run_on_cpu_uses_tiny_settings(tmp_path):
    _, calls, _ = _run_script(tmp_path, DEVICE_CHECK_PLATFORM="cpu")
    assert "--preset quick" in next(c for c in calls if " figure2_paper " in c)
    assert "--smoke" in next(c for c in calls if " benchmark " in c)


def test_summary_divides_the_benchmark_by_the_cpu_reference(tmp_path):
    derived = {"achieved_GFLOPs": 1.0, "fraction_of_matmul_rate": 0.5, "speedup_over_baseline": 9}
    width = 8192
    cpu = device_check.CPU_REFERENCE["benchmark"][width]["per_step"]["run_steps_per_s"]
    bench = {
        "matmul_f32": {"GFLOPs": 2.0},
        "results": [
            {
                "width": width,
                "project": {"run_steps_per_s": 5.0, "per_step": {"run_steps_per_s": 10 * cpu}},
                "per_step": derived,
                **derived,
            }
        ],
    }
    (tmp_path / "steps").mkdir()
    (tmp_path / "bench.json").write_text(json.dumps(bench))
    (tmp_path / "steps" / "figure2_paper.shell.json").write_text('{"rc": 0, "wall_s": 30.0}')
    (tmp_path / "steps" / "figure2_paper.json").write_text(
        json.dumps({"rc": 0, "args": ["figure2", "--preset", "paper", "--out", "x.nc"]})
    )
    assert device_check.summarize(tmp_path) == 0
    record = json.loads((tmp_path / "device_check.json").read_text())
    figures = record["benchmark"]["widths"][str(width)]
    assert figures["per_step"]["ratio_to_cpu"] == pytest.approx(10)
    assert record["figure2_paper"]["meets_target"] is True
    assert record["figure2_paper"]["speedup_over_cpu"] == pytest.approx(
        device_check.CPU_REFERENCE["figure2_paper_wall_s"] / 30.0
    )


def test_a_dry_run_is_compared_with_nothing(tmp_path):
    (tmp_path / "steps").mkdir()
    (tmp_path / "steps" / "figure2_paper.shell.json").write_text('{"rc": 0, "wall_s": 3.0}')
    (tmp_path / "steps" / "figure2_paper.json").write_text(
        json.dumps({"rc": 0, "args": ["figure2", "--preset", "quick"]})
    )
    device_check.summarize(tmp_path)
    record = json.loads((tmp_path / "device_check.json").read_text())
    assert record["figure2_paper"]["meets_target"] is None
    assert record["figure2_paper"]["speedup_over_cpu"] is None


def test_cpu_reference_is_what_docs_performance_quotes():
    doc = (REPO / "docs" / "performance.md").read_text(encoding="utf-8")
    for width, rows in device_check.CPU_REFERENCE["benchmark"].items():
        for label, figures in rows.items():
            rate = figures["run_steps_per_s"]
            pattern = rf"\| {width} \| [^|]*\({label.replace('_', ' ')}\) \| {rate:.1f} \|"
            assert re.search(pattern, doc), (width, label, rate)
    assert device_check.CPU_REFERENCE["figure2_paper_wall_s"] is not None


def test_has_subcommand_knows_the_sweep_commands():
    assert device_check.has_subcommand("figure2")
    assert not device_check.has_subcommand("no-such-command")
