"""The rate-transfer sweep (issue 25, part 2): the store (cells, resume, refusal, stop), the
transferred rates against ``theory.transfer``, the penalty rules on a synthetic loss whose optimum
moves exactly as the calculator's edge rule says, the exponent file of the committed Figure 2,
and the CLI's one-line errors. Training is replaced by a synthetic trainer (no JAX); one smoke
run of the real trainer covers the wiring."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

import theory
from toymodels import cli
from toymodels.reproduce._transfer_analysis import summarize_transfer
from toymodels.sweeps import _store
from toymodels.sweeps._run import SweepStopped
from toymodels.sweeps._transfer import completed, run_transfer_sweep, tuned_rate
from toymodels.sweeps._transfer_config import (
    TransferCell,
    TransferSweep,
    measured_exponent,
    transfer_config,
)

MEASURED = {
    "A": theory.MeasuredExponent("gd-linear", "A", "optimum", -0.5, (-0.55, -0.45)).to_json(),
    "B": theory.MeasuredExponent("gd-linear", "B", "optimum", -1.0, (-1.1, -0.9)).to_json(),
}


def tiny(**changes) -> TransferSweep:
    fields = dict(
        model="linear", inits=("A", "B"), widths=(16, 64, 256), seeds=(0, 1, 2),
        grid=tuple(2.0 ** (k / 2) for k in range(-28, 1)), grid_scaling="-1/2",
        horizons=(3, 6), windows=(1, 2), train={"optimizer": "sgd", "steps": 6, "record": False},
        measured=MEASURED,
    )  # fmt: skip
    return TransferSweep(**{**fields, **changes})


def optimum(init: str, width: int, eta_B_over_eta_A: float) -> float:
    """The synthetic problem's best η_A: the calculator's largest stable rate, n^-1/2 (A) or
    n^-1 (B), times a constant; a pair with η_B = 16 η_A prefers a 4× smaller η_A."""
    k = -0.5 if init == "A" else -1.0
    return 0.05 * width**k / math.sqrt(eta_B_over_eta_A)


def synthetic_trainer(calls: list):
    """Loss 1 + (log2(η_A/η*))², seed noise ±1 %, diverged beyond 8 η*."""

    def train(config, eta_A, eta_B, seeds):
        calls.append((config.init, config.width, len(eta_A)))
        best = np.array(
            [optimum(config.init, config.width, b / a) for a, b in zip(eta_A, eta_B, strict=True)]
        )
        distance = np.log2(eta_A / best)
        steps = np.arange(config.steps + 1)
        noise = 1 + 0.01 * np.sin(np.asarray(seeds) + 1.0)
        level = 1 + distance[:, None, None] ** 2 * noise[None, :, None]
        loss = level + 0.0 * steps + np.where(steps == 0, 10.0, 0.0)
        diverged = np.where(distance > 3, 1, -1)[:, None] * np.ones(len(seeds), int)
        loss = np.where((diverged[..., None] >= 0) & (steps >= 1), np.nan, loss)
        return SimpleNamespace(metrics={"train_loss": loss.astype(np.float32)},
                               diverged_step=diverged.astype(np.int32))  # fmt: skip

    return train


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("transfer") / "transfer.nc"
    calls: list = []
    config = tiny()
    ds = run_transfer_sweep(config, out, quiet=True, trainer=synthetic_trainer(calls))
    return config, out, ds, calls


def test_every_cell_is_stored_n0_first(swept):
    config, out, ds, calls = swept
    assert completed(ds) == set(config.cells())
    assert [w for _, w, _ in calls[:4]] == [16] * 4  # the transfers need n₀'s optimum first
    grid = len(config.grid)
    assert all(n == grid for _, w, n in calls if w == 16)
    assert all(n > grid for _, w, n in calls if w > 16)
    assert completed(_store.load_results(out)) == set(config.cells())  # checksums verified


def test_transferred_rates_are_theory_transfer_of_the_tuned_rate(swept):
    config, _, ds, _ = swept
    settings = config.settings()
    for family, rule in (("equal", "edge"), ("pair", "loraplus"), ("equal", "measured")):
        x, where = tuned_rate(ds, config, family, "B", 6)
        assert where == "interior"
        eta = config.pair(family, x)
        expected = theory.transfer(
            "B", model="gd-linear", from_width=16, to_width=256, eta_A=eta[0], eta_B=eta[1],
            rule=rule, measured=measured_exponent(config, "B"),
        )  # fmt: skip
        stored = (
            ds["eta_A"].sel(family=family, init="B", width=256).values[settings.index((rule, 6))]
        )
        assert math.isclose(stored, expected.eta_A, rel_tol=1e-9)


def test_penalties_follow_the_synthetic_optimum(swept):
    _, _, ds, _ = swept
    rows = {(r["family"], r["init"], r["width"], r["rule"], r["horizon"]): r
            for r in summarize_transfer(ds, n_boot=200, null=False)["penalties"]}  # fmt: skip
    # The optimum moves as n^-1/2 (A) / n^-1 (B): the edge rule lands on it, keeping the rate
    # overshoots by 16 (A) / 16² (B) and diverges for Init[B] beyond 8η*.
    for init in "AB":
        assert rows["equal", init, 256, "edge", 6]["penalty"] < 1.05
        assert rows["equal", init, 256, "none", 6]["penalty"] > 2
        assert rows["equal", init, 256, "edge", 6]["vs_baseline"]["outcome"] == "better"
    assert rows["equal", "B", 256, "none", 6]["diverged"] == 3
    assert rows["equal", "B", 256, "measured", 6]["penalty"] < 1.05
    # loraplus moves η_A as 1/n but raises η_B/η_A to 16, which (here) wants a 4× smaller η_A:
    # on target for Init[A] (n^-1/2 · 1/4 = 16^-1 at n/n₀ = 16), 4× too large for Init[B]
    assert rows["equal", "A", 256, "loraplus", 6]["penalty"] < 1.05
    assert rows["equal", "B", 256, "loraplus", 6]["penalty"] > 2


def test_a_rerun_trains_nothing_and_another_configuration_is_refused(swept):
    config, out, _, _ = swept
    before = out.read_bytes()
    calls: list = []
    run_transfer_sweep(config, out, quiet=True, trainer=synthetic_trainer(calls))
    assert calls == [] and out.read_bytes() == before
    with pytest.raises(Exception, match="different configuration"):
        run_transfer_sweep(tiny(seeds=(0, 1)), out, quiet=True, trainer=synthetic_trainer([]))
    assert out.read_bytes() == before


def test_a_stop_keeps_the_saved_cells(tmp_path):
    out = tmp_path / "t.nc"
    calls: list = []
    asked = iter([False, False, False, True])
    with pytest.raises(SweepStopped):
        run_transfer_sweep(tiny(), out, quiet=True, trainer=synthetic_trainer(calls),
                           should_stop=lambda: next(asked, True))  # fmt: skip
    assert completed(_store.load_results(out)) == {TransferCell("equal", "A", 16)}


def test_presets_fit_their_budget_shape():
    paper = transfer_config("teacher-student", "paper")
    assert len(paper.seeds) >= 8 and len(paper.horizons) >= 2 and paper.widths[0] == 128
    assert paper.rules("equal") == ("none", "edge", "loraplus")  # no exponent given: no measured
    assert transfer_config("linear", "quick").rules("pair") == (
        "loraplus-fixed",
        "loraplus",
        "edge",
    )


def test_exponent_file_of_the_committed_figure2(tmp_path, capsys):
    out = tmp_path / "exponents.json"
    assert cli.main(["exponents", "results/figure2.nc", "--out", str(out)]) == 0
    m = theory.read_exponent_file(out, "adam", "A", "optimum")
    assert math.isclose(m.exponent, -0.753, abs_tol=5e-4)  # lora-sweep summary's number
    assert m.provenance["sha256"] and m.provenance["experiment"] == "figure2"
    with pytest.raises(theory.MeasuredExponentError, match="no edge"):
        theory.read_exponent_file(out, "adam", "A", "edge")


@pytest.mark.parametrize(
    "argv",
    [
        ["exponents", "results/rank-linear.nc", "--out", "x.json"],
        ["exponents", "results/figure2.nc", "--out", "x.txt"],
        ["transfer", "--preset", "huge", "--out", "x.nc"],
        ["transfer", "--model", "linear", "--exponents", "e.json", "--out", "x.nc"],
        ["transfer", "--preset", "smoke", "--figure", "x.svg", "--out", "x.nc"],
        ["transfer", "--summary-only", "--out", "missing.nc"],
    ],
)
def test_bad_input_is_one_line_exit_2(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").symlink_to(
        __import__("pathlib").Path(__file__).resolve().parents[1] / "results"
    )
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lora-sweep: error: ") and err.count("\n") == 1
    assert not (tmp_path / "x.nc").exists() and not (tmp_path / "x.json").exists()


def test_smoke_preset_runs_the_real_trainer(tmp_path, capsys):
    out = tmp_path / "smoke.nc"
    argv = ["transfer", "--model", "linear", "--preset", "smoke", "--out", str(out), "--json"]
    assert cli.main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["completed_cells"] == summary["cells"] == 8
    rules = {r["rule"] for r in summary["penalties"]}
    assert rules == {"none", "edge", "loraplus", "loraplus-fixed"}
    assert all(r["penalty"] > 0 and len(r["per_seed"]) == 2 for r in summary["penalties"])


def test_verify_and_summary_read_a_transfer_file(swept, capsys):
    _, out, _, _ = swept
    assert cli.main(["verify", str(out)]) == 0
    assert "12 finished cell(s) match" in capsys.readouterr().out
    assert cli.main(["summary", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["experiment"] == "transfer" and summary["completed_cells"] == 12
