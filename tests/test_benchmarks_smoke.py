"""The benchmark's smoke mode works end to end and writes its documented JSON record.

Never a timing assertion: speed is measured by ``python -m benchmarks.run``, not by tests.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import run
from benchmarks._workload import Workload, baseline_losses, project_config
from toymodels import train_grid


@pytest.fixture(scope="module")
def smoke_record(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "smoke.json"
    assert run.main(["--smoke", "--quiet", "--json", str(path)]) == 0
    return json.loads(path.read_text())


def test_smoke_record_has_every_documented_field(smoke_record):
    assert smoke_record["smoke"] is True
    assert smoke_record["command"].startswith("python -m benchmarks.run --smoke")
    assert smoke_record["device"]["cores"] >= 1 and smoke_record["device"]["jax_devices"]
    assert set(smoke_record["copy_bandwidth_GBps"]) >= {"numpy_1thread", "numpy_threads", "jax_jit"}
    assert smoke_record["floor"]["passes_per_run_step"] == run.FLOOR_PASSES
    (result,) = smoke_record["results"]
    runs = len(result["inits"]) * result["n_rates"] * result["n_seeds"]
    assert result["run_steps"] == runs * result["steps"]
    assert result["baseline"]["estimated"] is True
    assert smoke_record["matmul_f32"]["size"] == run.SMOKE["matmul_size"]
    for value in (
        result["project"]["run_steps_per_s"],
        result["baseline"]["run_steps_per_s"],
        result["effective_bandwidth_GBps"],
        result["achieved_GFLOPs"],
        result["fraction_of_matmul_rate"],
        result["speedup_over_baseline"],
        smoke_record["matmul_f32"]["GFLOPs"],
    ):
        assert np.isfinite(value) and value > 0


def test_baseline_is_the_median_of_at_least_the_requested_steps_with_its_spread(smoke_record):
    (result,) = smoke_record["results"]
    baseline = result["baseline"]
    spread = baseline["spread"]
    assert baseline["timed_steps"] >= run.SMOKE["baseline_steps"]
    assert spread["min_s"] <= spread["q1_s"] <= spread["median_s"] <= spread["q3_s"]
    assert spread["q3_s"] <= spread["max_s"]
    assert baseline["seconds_per_run_step"] == spread["median_s"]
    assert spread["iqr_over_median"] == pytest.approx(
        (spread["q3_s"] - spread["q1_s"]) / spread["median_s"]
    )


def test_derived_figures_follow_from_the_measurements(smoke_record):
    (result,) = smoke_record["results"]
    n_train = smoke_record["workload"]["n_train"]
    assert result["floor_bytes_per_run_step"] == run.FLOOR_PASSES * n_train * result["width"] * 4
    rate = result["project"]["run_steps_per_s"]
    assert result["effective_bandwidth_GBps"] == pytest.approx(
        result["floor_bytes_per_run_step"] * rate / 1e9
    )
    assert result["speedup_over_baseline"] == pytest.approx(
        rate / result["baseline"]["run_steps_per_s"]
    )
    best = smoke_record["copy_bandwidth_GBps"]["best"]
    assert result["fraction_of_copy_bandwidth"] == pytest.approx(
        result["effective_bandwidth_GBps"] / best
    )
    # The whole call's FLOP rate: every run-step's work and each seed's setup over the warm call.
    flops = result["flops"]
    assert flops["whole_call"] == (
        flops["per_run_step"] * result["run_steps"] + flops["setup_per_seed"] * result["n_seeds"]
    )
    assert result["achieved_GFLOPs"] == pytest.approx(
        flops["whole_call"] / result["project"]["warm_call_s"] / 1e9
    )
    # The reference is the faster of the matmul rates measured around this width's timing.
    matmul = result["matmul_GFLOPs"]
    assert matmul["reference"] == max(matmul["before"], matmul["after"]) > 0
    assert result["fraction_of_matmul_rate"] == pytest.approx(
        result["achieved_GFLOPs"] / matmul["reference"]
    )


def test_table_names_device_and_every_width(smoke_record):
    table = run.format_table(smoke_record)
    assert smoke_record["device"]["cpu_model"] in table
    assert "| 32 |" in table and "ESTIMATED" in table
    assert "GFLOP/s" in table and "% of matmul" in table and "IQR/median" in table


@pytest.mark.parametrize("init", ["A", "B"], ids=["Init[A]", "Init[B]"])
def test_baseline_does_the_same_work_as_the_project(init):
    """Same init, same AdamW, same loss: per-step losses agree to float32 rounding."""
    workload = Workload(width=16, n_rates=2, n_seeds=2, steps=4, inits=(init,), record=False)
    config = project_config(workload)
    project = train_grid(config, workload.etas, workload.etas, workload.seeds)
    baseline = baseline_losses(config, workload.etas, workload.seeds)
    np.testing.assert_allclose(baseline, project.metrics["train_loss"], rtol=run.EQUIVALENCE_RTOL)
    # Training moves the loss: agreeing on frozen runs would prove nothing.
    assert np.all(baseline[..., -1] < baseline[..., 0])


@pytest.mark.parametrize(
    "argv",
    [["--widths", "0"], ["--steps", "x"], ["--rates", "-1"], ["--baseline-seconds", "-1"]],
    ids=["width0", "steps", "rates", "baseline-seconds"],
)
def test_bad_flag_is_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err


def test_rank_above_width_is_one_line_and_exit_2(capsys):
    assert run.main(["--widths", "2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rank" in err
