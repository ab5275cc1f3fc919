"""`lora-sweep` end to end with the real trainer at tiny widths: store, resume, kill, bad input."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import toymodels
from tests._processes import HANG_GUARD_S, wait_until
from toymodels import cli
from toymodels.sweeps import _store
from toymodels.sweeps._run import SweepConfig, default_trainer, empty_results, run_sweep

# The linear model (LoRA+ eq. 2) compiles in about a second: the workflow tests use it.
LINEAR = [
    "run", "--model", "linear", "--widths", "4,8", "--inits", "A,B", "--lr", "1e-3:1e-1:3",
    "--seeds", "0,1", "--steps", "4", "--quiet",
]  # fmt: skip


def lora_sweep(*argv, capsys):
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def linear_results(tmp_path_factory) -> Path:
    """A finished 4-cell linear sweep (trained once per test module)."""
    out = tmp_path_factory.mktemp("sweep") / "linear.nc"
    assert cli.main([*LINEAR, "--out", str(out)]) == 0
    return out


def test_results_load_in_one_line_with_the_contract_layout(linear_results):
    ds = toymodels.load_results(linear_results)
    assert dict(ds.sizes) == {"init": 2, "width": 2, "lr": 3, "seed": 2, "step": 5}
    assert ds["train_loss"].dims == ("init", "width", "lr", "seed", "step")
    assert ds["diverged_step"].dims == ("init", "width", "lr", "seed")
    assert ds["eta_A"].dims == ("lr",)
    np.testing.assert_allclose(ds["eta_A"], [1e-3, 1e-2, 1e-1])
    config = json.loads(ds.attrs["config"])
    assert config["seeds"] == [0, 1] and config["train"]["steps"] == 4
    assert {"python", "jax", "jaxlib", "optax", "numpy", "xarray"} <= set(
        json.loads(ds.attrs["versions"])
    )
    assert _store.completed_cells(ds) == {("A", 4), ("A", 8), ("B", 4), ("B", 8)}
    assert np.isfinite(ds["train_loss"]).all()


def test_stored_runs_equal_a_direct_train_grid_call(linear_results):
    from toymodels.core._train import TrainConfig, train_grid

    ds = toymodels.load_results(linear_results)
    config = TrainConfig(model="linear", width=8, init="B", steps=4)
    direct = train_grid(config, ds["eta_A"].values, ds["eta_B"].values, [0, 1])
    np.testing.assert_array_equal(
        ds["train_loss"].sel(init="B", width=8).values, direct.metrics["train_loss"]
    )


def test_rerunning_the_same_command_trains_nothing(linear_results, tmp_path, capsys):
    out = tmp_path / "copy.nc"
    shutil.copy(linear_results, out)
    before = digest(out)
    code, stdout, _ = lora_sweep(*LINEAR, "--out", out, "--json", capsys=capsys)
    assert code == 0
    assert json.loads(stdout)["completed_cells"] == 4
    assert digest(out) == before  # not even rewritten


def test_json_summary_of_an_equal_rate_sweep(linear_results, capsys):
    code, stdout, _ = lora_sweep("summary", linear_results, "--json", capsys=capsys)
    assert code == 0
    summary = json.loads(stdout)
    assert set(summary["optimal_lr"]) == {"A", "B"}
    assert set(summary["optimal_lr"]["A"]) == {"4", "8"}
    assert summary["predicted_exponent"]["B"] == "-1"
    assert summary["results"] == str(linear_results)
    assert set(summary["fitted_exponent"]["A"]) == {"value", "ci", "n_widths"}


def spy_trainer():
    """The real trainer, recording the (init, width) of every cell it trains."""
    trained, train_grid = [], default_trainer()

    def spy(train_config, *args, **kwargs):
        trained.append((train_config.init, train_config.width))
        return train_grid(train_config, *args, **kwargs)

    return trained, spy


def test_resume_trains_only_missing_cells_and_keeps_finished_ones(linear_results, tmp_path):
    ds = toymodels.load_results(linear_results)
    config = SweepConfig.from_json(json.loads(ds.attrs["config"]))
    # A results file that holds only the first two cells, as an interrupted sweep leaves it.
    out = tmp_path / "partial.nc"
    partial = empty_results(config, [n for n in ds.data_vars if n != "diverged_step"])
    for init, width in config.cells()[:2]:
        cell = ds.sel(init=init, width=width)
        metrics = {n: cell[n].values for n in ds.data_vars if n != "diverged_step"}
        partial = _store.with_cell(partial, init, width, metrics, cell["diverged_step"].values)
    _store.save_atomically(partial, out)

    trained, spy = spy_trainer()
    resumed = run_sweep(config, out, quiet=True, trainer=spy)
    assert trained == config.cells()[2:]
    for name in ds.data_vars:
        np.testing.assert_array_equal(resumed[name].values, ds[name].values)


KILL_SCRIPT = """
import sys
from toymodels import cli
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_sweep_killed_mid_run_leaves_a_valid_file_and_resumes(tmp_path, sig):
    out = tmp_path / "killed.nc"
    argv = [
        *LINEAR[:4], "4,8,16,32", *LINEAR[5:], "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    assert wait_until(out.exists, proc), "the first cell was never saved"
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=HANG_GUARD_S)
    if sig == signal.SIGINT and proc.returncode == 130:
        assert b"rerun the same command to resume" in stderr
    saved = toymodels.load_results(out)  # complete and readable
    done = _store.completed_cells(saved)
    assert done, "the first finished cell was saved before the kill"
    assert not list(tmp_path.glob(".*.tmp")) or sig == signal.SIGKILL

    config = SweepConfig.from_json(json.loads(saved.attrs["config"]))
    trained, spy = spy_trainer()
    resumed = run_sweep(config, out, quiet=True, trainer=spy)
    assert set(trained) == set(config.cells()) - done  # nothing finished is recomputed
    assert _store.completed_cells(resumed) == set(config.cells())
    for init, width in done:  # and nothing finished is lost
        where = {"init": init, "width": width}
        np.testing.assert_array_equal(
            resumed["train_loss"].sel(where).values, saved["train_loss"].sel(where).values
        )
    assert not list(tmp_path.glob(".*.tmp"))  # a killed writer's temporary file is swept up


BAD_INPUT = {
    "width-zero": (["run", "--lr", "1e-3", "--widths", "0"], "width must be a positive integer"),
    "width-negative": (
        ["run", "--lr", "1e-3", "--widths", "8,-16"],
        "width must be a positive integer",
    ),
    "rank-above-width": (
        ["run", "--lr", "1e-3", "--model", "teacher-student", "--widths", "2,8", "--rank", "4"],
        "rank 4 exceeds width 2",
    ),
    "no-lr-grid": (["run", "--widths", "8"], "no learning rates given"),
    "empty-lr-grid": (["run", "--widths", "8", "--lr", ","], "grid is empty"),
    "zero-lr": (["run", "--widths", "8", "--lr", "0,1e-3"], "must be positive"),
    "negative-lr": (["run", "--widths", "8", "--lr=-1e-3"], "must be positive"),
    "empty-log-grid": (["run", "--widths", "8", "--lr", "1e-3:1e-1:0"], "is empty"),
    "zero-steps": (
        ["run", "--lr", "1e-3", "--widths", "8", "--steps", "0"],
        "--steps must be a positive",
    ),
    "unknown-preset": (["figure2", "--preset", "huge"], "unknown preset 'huge'"),
    "unknown-model": (
        ["run", "--lr", "1e-3", "--model", "resnet", "--widths", "8"],
        "unknown model 'resnet'",
    ),
    "unknown-init": (["run", "--lr", "1e-3", "--widths", "8", "--inits", "C"], "unknown init 'C'"),
    "malformed-widths": (["run", "--widths", "eight"], "widths must be integers"),
    "malformed-lr": (["run", "--widths", "8", "--lr", "fast"], "must be numbers"),
}


@pytest.mark.parametrize(("argv", "message"), list(BAD_INPUT.values()), ids=list(BAD_INPUT))
def test_bad_input_is_one_line_exit_2_and_touches_nothing(
    argv, message, linear_results, tmp_path, capsys
):
    out = tmp_path / "saved.nc"
    shutil.copy(linear_results, out)
    before = digest(out)
    code, stdout, stderr = lora_sweep(*argv, "--out", out, "--quiet", capsys=capsys)
    assert code == 2
    assert stderr.startswith("lora-sweep: error: ") and stderr.count("\n") == 1
    assert message in stderr
    assert digest(out) == before and stdout == ""


def test_results_of_another_configuration_are_never_mixed(linear_results, tmp_path, capsys):
    out = tmp_path / "saved.nc"
    shutil.copy(linear_results, out)
    before = digest(out)
    argv = [*LINEAR, "--out", out]
    argv[argv.index("--steps") + 1] = "5"
    code, _, stderr = lora_sweep(*argv, capsys=capsys)
    assert code == 2 and stderr.count("\n") == 1
    assert "differs in: train" in stderr and "--overwrite" in stderr
    assert digest(out) == before


@pytest.mark.parametrize(
    "content",
    [b"", b"CDF\x01 truncated", b"not a netcdf file at all"],
    ids=["empty", "truncated", "garbage"],
)
@pytest.mark.parametrize("command", ["summary", "resume"])
def test_corrupt_results_file_is_one_line_exit_2_and_untouched(command, content, tmp_path, capsys):
    path = tmp_path / "corrupt.nc"
    path.write_bytes(content)
    argv = ["summary", path] if command == "summary" else [*LINEAR, "--out", path]
    code, _, stderr = lora_sweep(*argv, capsys=capsys)
    assert code == 2
    assert stderr.startswith(f"lora-sweep: error: cannot read results file {path}")
    assert stderr.count("\n") == 1
    assert path.read_bytes() == content


def test_missing_results_file_is_one_line_exit_2(tmp_path, capsys):
    code, _, stderr = lora_sweep("summary", tmp_path / "nope.nc", capsys=capsys)
    assert code == 2 and "does not exist" in stderr and stderr.count("\n") == 1


def test_overwrite_replaces_a_file_of_another_configuration(linear_results, tmp_path, capsys):
    out = tmp_path / "saved.nc"
    shutil.copy(linear_results, out)
    argv = [*LINEAR[:4], "8", *LINEAR[5:], "--out", out, "--overwrite", "--json"]
    code, stdout, _ = lora_sweep(*argv, capsys=capsys)
    assert code == 0 and json.loads(stdout)["completed_cells"] == 2
    assert toymodels.load_results(out).sizes["width"] == 1


@pytest.fixture(scope="module")
def figure2_results(tmp_path_factory) -> Path:
    """A tiny figure-2 sweep of the teacher-student model (widths 8 and 16, 3 steps)."""
    out = tmp_path_factory.mktemp("figure2") / "figure2.nc"
    argv = ["figure2", "--preset", "quick", "--widths", "8,16", "--lr", "1e-2:1e-1:3",
            "--seeds", "0", "--steps", "3", "--quiet", "--out", str(out)]  # fmt: skip
    assert cli.main(argv) == 0
    return out


def test_figure2_json_names_rates_exponents_and_the_theory(figure2_results, capsys):
    code, stdout, _ = lora_sweep("summary", figure2_results, "--json", capsys=capsys)
    assert code == 0
    summary = json.loads(stdout)
    assert summary["predicted_exponent"] == {"A": "-1/2", "B": "-1"}
    rates = toymodels.load_results(figure2_results)["eta_A"]
    for init in ("A", "B"):
        for width in ("8", "16"):
            assert summary["optimal_lr"][init][width] in rates.sel(width=int(width)).values
        assert len(summary["fitted_exponent"][init]["ci"]) == 2


def test_a_loss_window_longer_than_the_run_is_reported_clipped_at_step_0(figure2_results, capsys):
    code, stdout, _ = lora_sweep("summary", figure2_results, capsys=capsys)
    assert code == 0
    assert "at step 3, mean of steps 0..3" in stdout  # the quick preset's window is longer


def test_figure2_is_a_coarse_unscaled_grid_then_a_fine_window_per_cell(figure2_results):
    ds = toymodels.load_results(figure2_results)
    assert ds["eta_A"].dims == ("init", "width", "lr")
    coarse = ds["eta_A"].where(ds["stage"] == "coarse", drop=True)
    np.testing.assert_allclose(coarse.sel(width=16), coarse.sel(width=8))  # never scaled
    np.testing.assert_allclose(coarse.isel(init=0, width=0), [1e-2, 10**-1.5, 1e-1], rtol=1e-5)
    fine = ds["eta_A"].where(ds["stage"] == "fine", drop=True)
    assert fine.sizes["lr"] == 7  # the quick window: 7 rates 2^(1/2) apart
    np.testing.assert_allclose(np.diff(np.log2(fine.values), axis=-1), 0.5, rtol=1e-9)


def test_figure3_takes_each_inits_optimal_rate_from_figure2(figure2_results, tmp_path, capsys):
    out = tmp_path / "figure3.nc"
    code, stdout, _ = lora_sweep(
        "figure3", "--preset", "quick", "--from-results", figure2_results, "--widths", "8,16",
        "--seeds", "0,1", "--steps", "3", "--quiet", "--json", "--out", out, capsys=capsys,
    )  # fmt: skip
    assert code == 0
    summary = json.loads(stdout)
    optimal = json.loads(lora_sweep("summary", figure2_results, "--json", capsys=capsys)[1])
    assert summary["rate"] == optimal["optimal_lr"]
    ds = toymodels.load_results(out)
    assert ds["eta_A"].dims == ("init", "width", "lr") and ds.sizes["lr"] == 1
    assert {"norm_Z_A", "norm_Z_B", "train_loss"} <= set(summary)


def test_figure3_needs_a_rate_for_every_cell(tmp_path, capsys):
    code, _, stderr = lora_sweep(
        "figure3", "--lr", "A@8=1e-2", "--widths", "8", "--out", tmp_path / "f3.nc",
        capsys=capsys,
    )  # fmt: skip
    assert code == 2 and "no rate for B@8" in stderr


def test_heatmap_flattens_the_2d_grid_into_lr(tmp_path, capsys):
    out = tmp_path / "heatmap.nc"
    code, stdout, _ = lora_sweep(
        "heatmap", "--preset", "quick", "--eta-A", "1e-3,1e-1", "--eta-B", "1e-3,1e-1",
        "--seeds", "0", "--steps", "10", "--quiet", "--json", "--out", out, capsys=capsys,
    )  # fmt: skip
    assert code == 0
    ds = toymodels.load_results(out)
    assert ds.sizes["lr"] == 4 and ds["eta_A"].dims == ("lr",)
    pairs = set(zip(ds["eta_A"].values.tolist(), ds["eta_B"].values.tolist(), strict=True))
    assert pairs == {(a, b) for a in (1e-3, 1e-1) for b in (1e-3, 1e-1)}
    reports = json.loads(stdout)["heatmap"]
    assert {(r["metric"], r["step"]) for r in reports} == {("train_loss", 10), ("test_loss", 10)}
    best = analysis_best(ds)
    train = next(r for r in reports if r["metric"] == "train_loss")
    assert (train["best"]["eta_A"], train["best"]["eta_B"]) == best


def analysis_best(ds):
    from toymodels.sweeps import _losses as losses

    mean = losses.mean_loss(ds, "train_loss").isel(init=0, width=0)
    index = int(np.argmin(np.where(np.isfinite(mean), mean, np.inf)))
    return float(ds["eta_A"][index]), float(ds["eta_B"][index])
