"""The loss optimum against the horizon, the edge over a level set, running exponents (issue 24)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from toymodels import cli
from toymodels.analysis import _edge, _horizon, _levels, _running
from toymodels.core import UsageError, bootstrap_exponent
from toymodels.reproduce import _claims_horizon, _claims_levels

ROOT = Path(__file__).resolve().parents[1]
EDGE = ROOT / "results" / "edge.nc"
WIDTHS = 2.0 ** np.arange(7, 12)


def _store(loss: np.ndarray, rates: np.ndarray, widths=(128,), z_b=None) -> xr.Dataset:
    """A results store ``[init A, width, lr, seed, step]`` from ``loss`` ``[W, L, S, T + 1]``."""
    loss = np.asarray(loss, dtype=np.float32)
    n_widths, n_rates, n_seeds, n_steps = loss.shape
    dims = ("init", "width", "lr", "seed", "step")
    data = {
        "train_loss": (dims, loss[None]),
        "diverged_step": (dims[:4], np.full((1, n_widths, n_rates, n_seeds), -1, np.int32)),
    }
    if z_b is not None:
        data["Z_B"] = (dims, np.asarray(z_b, np.float32)[None])
    cells = [["A", int(w)] for w in widths]
    return xr.Dataset(
        data,
        coords={
            "init": ["A"],
            "width": list(widths),
            "eta_A": ("lr", rates),
            "eta_B": ("lr", rates),
            "step": np.arange(n_steps),
        },
        attrs={"completed_cells": json.dumps(cells)},
    )


def test_an_optimum_on_the_edge_of_the_grid_is_a_bound_counted_and_never_fitted():
    rates = 2.0 ** np.arange(-8, 0)
    # at step 1 the loss falls all the way to the largest rate; at step 4 its minimum is interior
    step1 = -np.log2(rates)
    step4 = (np.log2(rates) + 4.0) ** 2
    loss = np.stack([np.full(8, 10.0), step1, step1, step4, step4], -1)[None, :, None, :]
    ds = _store(np.repeat(loss, 2, axis=2), rates)
    tables = _horizon.optimum_tables(ds, (1, 4))
    assert math.isnan(tables[1]["A"]["rates"][0, 0])
    assert tables[1]["A"]["where"][0] == ["high_edge", "high_edge"]
    assert _horizon.bounds_count(tables[1]["A"]) == 2
    assert np.log2(tables[4]["A"]["rates"][0, 0]) == pytest.approx(-4.0)
    assert _horizon.bounds_count(tables[4]["A"]) == 0


@pytest.mark.parametrize(
    ("horizons", "message"),
    [((50,), "beyond the run"), ((0,), "integer >= 1"), ((2.5,), "integer >= 1")],
    ids=["beyond-the-run", "zero", "fractional"],
)
def test_a_horizon_outside_the_run_is_a_usage_error(horizons, message):
    with pytest.raises(UsageError, match=message):
        _horizon.check_horizons(horizons, 25)


def test_the_default_horizons_stop_at_the_run_and_include_its_T():
    assert _horizon.default_horizons(25) == (5, 10, 25)
    assert _horizon.default_horizons(150) == (5, 10, 25, 50, 100, 150)
    assert _horizon.default_horizons(40) == (5, 10, 25, 40)


@pytest.mark.parametrize(
    "levels",
    ["1,0", "1,-2", "1,nan", "inf", "", "1,1", "1,x"],
    ids=["zero", "negative", "nan", "inf", "empty", "repeated", "not-a-number"],
)
def test_a_bad_level_set_is_a_one_line_usage_error(levels):
    with pytest.raises(UsageError, match="level set"):
        _levels.check_levels(levels)


def test_one_level_reads_as_the_seed_bootstrap_of_that_level():
    noise = np.exp(np.random.default_rng(3).normal(0, 0.1, (WIDTHS.size, 8)))
    values = WIDTHS[:, None] ** -0.7 * noise
    fit = _levels.level_exponent(WIDTHS, {4.0: values}, n_boot=500)
    seeds = bootstrap_exponent(WIDTHS, values, n_boot=500)
    assert fit.value == pytest.approx(seeds.value)
    assert fit.ci == pytest.approx(seeds.ci, abs=0.02)


def test_the_mixture_interval_spans_the_spread_over_levels():
    """Two levels with slopes −0.4 and −0.6 and little noise: the interval covers both."""
    noise = np.exp(np.random.default_rng(4).normal(0, 0.01, (WIDTHS.size, 8)))
    by_level = {1.0: WIDTHS[:, None] ** -0.4 * noise, 2.0: WIDTHS[:, None] ** -0.6 * noise}
    fit = _levels.level_exponent(WIDTHS, by_level, n_boot=1000)
    assert fit.value == pytest.approx(-0.5, abs=0.01)  # median of two levels: their mean
    assert fit.ci[0] < -0.59 and fit.ci[1] > -0.41
    assert fit.per_level[1.0][0] == pytest.approx(-0.4, abs=0.01)


def test_the_divergence_edge_is_where_the_loss_ratio_crosses_one():
    rates = 2.0 ** np.arange(-8, 0)
    ratio = np.array([0.9, 0.5, 0.2, 0.1, 0.4, 2.0, np.inf, np.inf])
    assert np.log2(_edge.loss_edge(rates, ratio, 1.0)) == pytest.approx(
        -4 + math.log(1 / 0.4) / math.log(2.0 / 0.4)
    )
    loss = np.stack([np.ones(8), ratio], -1)[None, :, None, :].repeat(2, axis=2)
    table = _levels.divergence_edge_table(_store(loss, rates), horizon=1)
    assert table["A"][0, 0] == pytest.approx(_edge.loss_edge(rates, ratio, 1.0))


def test_running_exponents_see_a_bend_that_one_fit_hides():
    widths = 2.0 ** np.arange(7, 14)
    # slope −1 up to 2^10, then −1/2: a single fit says ≈ −0.8
    logs = np.where(widths <= 2**10, -np.log(widths), -np.log(2**10) - 0.5 * np.log(widths / 2**10))
    noise = np.exp(np.random.default_rng(5).normal(0, 0.02, (widths.size, 8)))
    values = np.exp(logs)[:, None] * noise
    steps = _running.running_exponents(widths, values, n_boot=300)
    assert [round(r.value, 1) for r in steps] == [-1.0, -1.0, -1.0, -0.5, -0.5, -0.5]
    assert steps[-1].ci[0] < -0.5 < steps[-1].ci[1]
    trend, (low, _) = _running.running_trend(widths, values, n_boot=300)
    assert trend > 0 and low > 0


def test_a_running_exponent_needs_three_widths():
    with pytest.raises(UsageError, match="at least 3 widths"):
        _running.running_exponents([128, 256], np.ones((2, 4)))


@pytest.mark.parametrize(
    ("ratio_slope", "reading"),
    [(0.0, _claims_horizon.BENDS), (-0.4, _claims_horizon.DIFFERENT)],
    ids=["optimum-follows-the-edge", "optimum-drifts-away"],
)
def test_the_bend_rule_tells_the_papers_reading_from_a_different_law(ratio_slope, reading):
    noise = np.random.default_rng(6).normal(0, 0.05, (5, WIDTHS.size, 8))
    ratios = {
        c: WIDTHS[:, None] ** ratio_slope * np.exp(noise[i])
        for i, c in enumerate(_levels.EDGE_LEVELS)
    }
    assert _claims_horizon.bend_reading(WIDTHS, ratios, n_boot=500)[0] == reading


def test_the_bend_claim_without_the_wide_run_has_no_data():
    assert _claims_horizon.check_bend(None).verdict == "no data"


def test_the_edge_level_claims_on_the_committed_edge_run():
    import toymodels

    edge = toymodels.load_results(EDGE)
    checks = {c.key: c for c in _claims_levels.check_edge_levels(edge, calibrate=False)}
    assert set(checks) == {"EDGE-L(a)", "EDGE-L(b)", "EDGE-L(c)"}
    assert checks["EDGE-L(c)"].numbers["low"] > 0  # the inits separate at every level
    table = _claims_levels.level_table(edge, "edge.nc")
    assert table.count("\n") == 1 + len(_levels.EDGE_LEVELS) + 1


def test_lora_sweep_horizon_prints_json_and_refuses_bad_input(capsys):
    assert cli.main(["horizon", str(EDGE), "--horizons", "5,25", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["horizons"]) == {"5", "25"}
    assert set(out["levels"]) == {"A", "B", "difference"}
    assert len(out["horizons"]["25"]["running"]["A"]) == len(out["widths"]) - 1
    for argv, message in (
        (["--horizons", "26"], "beyond the run"),
        (["--levels", "1,-1"], "finite and > 0"),
    ):
        assert cli.main(["horizon", str(EDGE), *argv]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1


def test_the_wide_grid_stays_anchored_at_its_width_when_widths_are_overridden():
    from toymodels.sweeps import sweep_config

    full, _ = sweep_config("edge", "wide")
    wide_only, _ = sweep_config("edge", "wide", widths=(2**14, 2**15, 2**16))
    assert np.allclose(full.cell_rates("A", 2**14), wide_only.cell_rates("A", 2**14))


def test_widths_beyond_memory_are_refused_before_anything_trains(tmp_path, capsys):
    out = tmp_path / "wide.nc"
    code = cli.main(["edge", "--preset", "wide", "--widths", "2^7,2^8,2^26", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "GiB of memory (mostly its model" in err and err.count("\n") == 1
    assert not out.exists()
