"""The GPU check script, run for real on CPU (its dry run), and its Python side.

The dry run executes ``benchmarks/device_check.sh`` exactly as the GPU machine would, with
``DEVICE_CHECK_PLATFORM=cpu`` choosing the smoke presets and a handful of the tests: every step
must exit 0, so a renamed test file, flag or preset breaks this test, not the GPU session
(docs/performance.md, "The prepared check", shows the commands).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from benchmarks import device_check

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "device_check.sh"
STEPS = ("figure2_paper", "benchmark", "tests", "edge_paper", "edge_wide", "transformer")
#: A hang guard for the whole script, far above its dry run's time on a loaded machine.
HANG_GUARD_S = 1200


def _run_script(tmp_path: Path, **env) -> tuple[subprocess.CompletedProcess, Path]:
    if shutil.which("timeout") is None:
        pytest.skip("needs coreutils timeout")
    out = tmp_path / "out"
    full_env = {
        **os.environ,
        "PYTHON": sys.executable,
        "OUT": str(out),
        "DEVICE_CHECK_PLATFORM": "cpu",
        "DEVICE_CHECK_SITE": str(tmp_path / "site"),
        "TQDM_DISABLE": "1",
        **env,
    }
    done = subprocess.run(
        ["bash", str(SCRIPT)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        stdin=subprocess.DEVNULL,
    )
    return done, out


@pytest.mark.slow
def test_the_dry_run_passes_every_step_of_the_real_script(tmp_path):
    done, out = _run_script(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads((out / "device_check.json").read_text())
    for name in STEPS:
        step = record["steps"][name]
        log = (out / "logs" / f"{name}.log").read_text()
        assert step["rc"] == 0 and not step.get("timed_out"), f"{name}: {log[-2000:]}"
        assert step["timeout_s"] <= 150  # each step's limit leaves room in a 10-minute command
    # The tests step collected every tests/test_core_*.py file of the tree and ran some tests.
    tests_step = record["steps"]["tests"]
    files = [a for a in tests_step["args"] if a.endswith(".py")]
    assert sorted(files) == sorted(
        p.relative_to(REPO).as_posix() for p in REPO.glob("tests/test_core_*.py")
    )
    assert re.search(r"\b[1-9]\d* passed", (out / "logs" / "tests.log").read_text())
    assert record["device"]["jax_backend"] == "cpu"
    assert (out / "figure2.nc").is_file() and (out / "edge.nc").is_file()
    assert (out / "edge-wide.nc").is_file()


def test_a_missing_prerequisite_is_one_line_and_exit_2_before_any_step(tmp_path):
    needs = tmp_path / "needs.txt"
    needs.write_text("no-such-distribution-xyz  no_such_module_xyz  image\n")
    done, out = _run_script(tmp_path, DEVICE_CHECK_REQUIREMENTS=str(needs))
    assert done.returncode == 2
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("device_check: missing no-such-distribution-xyz")
    assert not (out / "steps").exists() or not list((out / "steps").iterdir())


def test_timeouts_are_cut_to_the_budget_and_late_steps_skipped(tmp_path):
    # A budget under 45 s leaves no step its 30 s: every step is skipped, nothing trains.
    done, out = _run_script(tmp_path, DEVICE_CHECK_BUDGET_S="40")
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads((out / "device_check.json").read_text())
    assert {record["steps"][name].get("skipped") for name in STEPS} == {"budget"}


def _wheel(folder: Path, name: str, version: str = "1.0") -> Path:
    """A minimal pure-Python wheel holding one module ``name`` (PEP 427 layout)."""
    path = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": "ANSWER = 42\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = "".join(f"{f},,\n" for f in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in {**files, f"{info}/RECORD": record}.items():
            archive.writestr(member, text)
    return path


def test_carried_wheels_are_installed_offline_for_what_is_missing(tmp_path):
    wheelhouse = tmp_path / "whl"
    wheelhouse.mkdir()
    _wheel(wheelhouse, "carried_probe_pkg")
    needs = tmp_path / "needs.txt"
    needs.write_text("# distribution module role\ncarried_probe_pkg carried_probe_pkg carry\n")
    site = tmp_path / "site"
    env = {
        **os.environ,
        "DEVICE_CHECK_REQUIREMENTS": str(needs),
        "DEVICE_CHECK_WHEELS": str(wheelhouse),
        "DEVICE_CHECK_SITE": str(site),
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-m", "benchmarks.device_check", "prereqs"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (site / "carried_probe_pkg.py").is_file()
    # Without the wheel: one line naming the distribution and what to do, exit 2.
    (wheelhouse / "carried_probe_pkg-1.0-py3-none-any.whl").unlink()
    env["DEVICE_CHECK_SITE"] = str(tmp_path / "other-site")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stdout.strip().splitlines() == [
        "device_check: missing carried_probe_pkg (no wheel in .whl) (run `make wheelhouse` "
        "where pip works, and carry .whl)"
    ]


def test_the_wheelhouse_target_downloads_every_carried_distribution():
    makefile = (REPO / "Makefile").read_text()
    assert "wheelhouse:" in makefile and "device_requirements.txt" in makefile
    carried = [r.distribution for r in device_check.requirements() if r.role == "carry"]
    assert {"tqdm", "matplotlib", "pytest", "hypothesis"} <= set(carried)


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
