"""Optimal rates, their band and the η*(n) exponent, on synthetic results with known answers."""

import json
import math

import numpy as np
import pytest
import xarray as xr

import theory
from toymodels.analysis import fit_rate_exponent
from toymodels.core import MODELS
from toymodels.sweeps import _losses as losses
from toymodels.sweeps._store import NOT_DIVERGED, NOT_RUN, new_dataset, with_cell

WIDTHS = (128, 256, 512, 1024, 2048)
GRID = tuple(float(r) for r in np.geomspace(2**-16, 2**-2, 15))  # factor-2 steps


def synthetic(optimum, *, widths=WIDTHS, seeds=(0, 1), steps=2, inits=("A",), diverge=None):
    """Results whose loss is log²(η/η*(n)) + 1 (+ a seed offset), η* = optimum(init, width)."""
    eta = xr.DataArray(np.asarray(GRID), dims="lr")
    ds = new_dataset(
        {"experiment": "run", "model": "teacher-student", "inits": list(inits)},
        inits=inits,
        widths=widths,
        seeds=seeds,
        steps=steps,
        eta_A=eta,
        eta_B=eta,
        metric_names=["train_loss", "test_loss"],
    )
    for init in inits:
        for width in widths:
            log_gap = np.log(np.asarray(GRID) / optimum(init, width))
            loss = log_gap**2 + 1.0
            per_seed = loss[:, None] + 0.01 * np.arange(len(seeds))[None, :]
            metrics = np.repeat(per_seed[:, :, None], steps + 1, axis=2)
            diverged = np.full((len(GRID), len(seeds)), NOT_DIVERGED)
            if diverge is not None:
                diverged = diverge(init, width, diverged)
            ds = with_cell(ds, init, width, {"train_loss": metrics, "test_loss": metrics}, diverged)
    return ds


@pytest.mark.parametrize("k0", [2, 5], ids=["eta128=2^-2", "eta128=2^-5"])
@pytest.mark.parametrize("exponent", [-1.0, -0.5, 0.0], ids=str)
def test_exponent_fit_recovers_a_known_slope(exponent, k0):
    # η*(n) = 2^-k0 (n/128)^exponent lands on grid points for these exponents when n = 128·16^j.
    widths = (128, 2048, 32768)
    ds = synthetic(lambda init, n: 2.0**-k0 * (n / 128) ** exponent, widths=widths)
    optimal = losses.optimal_rates(ds)
    expected = [2.0**-k0 * (n / 128) ** exponent for n in widths]
    np.testing.assert_allclose(optimal["eta_A"].sel(init="A").values, expected, rtol=1e-6)
    fit = fit_rate_exponent(optimal)["A"]
    assert fit.exponent == pytest.approx(exponent, abs=1e-9)


def test_off_grid_optimum_is_the_nearest_grid_rate_with_a_bracketing_band():
    ds = synthetic(lambda init, n: 0.01)  # between 2^-7 = 0.0078 and 2^-6 = 0.0156
    optimal = losses.optimal_rates(ds, tolerance=0.5)
    assert float(optimal["eta_A"].sel(init="A", width=128)) == pytest.approx(2**-7)
    low, high = optimal["band_eta_A"].sel(init="A", width=128).values
    assert low <= 0.01 <= high
    assert not bool(optimal["at_edge"].any())


def test_a_rate_where_any_seed_diverged_is_never_optimal():
    best = 2.0**-8

    def diverge(init, width, diverged):
        diverged = diverged.copy()
        diverged[GRID.index(best), 1] = 1  # seed 1 diverges at step 1 at the best rate
        return diverged

    ds = synthetic(lambda init, n: best, diverge=diverge)
    loss = losses.loss_at(ds)
    assert np.isinf(loss.sel(init="A", width=128, seed=1).isel(lr=GRID.index(best)))
    assert not bool(np.isnan(loss).any())
    optimal = losses.optimal_rates(ds)
    assert float(optimal["eta_A"].sel(init="A", width=128)) != best
    # Divergence after the compared step does not count at that step.
    assert np.isfinite(losses.loss_at(ds, step=0).sel(init="A", width=128, seed=1)).all()


def test_largest_stable_rate_is_below_the_first_divergence():
    def diverge(init, width, diverged):
        diverged = diverged.copy()
        diverged[10:, 0] = 2  # every rate from index 10 on diverges (seed 0)
        return diverged

    optimal = losses.optimal_rates(synthetic(lambda init, n: 2.0**-8, diverge=diverge))
    assert float(optimal["max_stable_eta_A"].sel(init="A", width=256)) == pytest.approx(GRID[9])


def test_all_rates_diverged_gives_infinite_loss_and_no_rate():
    def diverge(init, width, diverged):
        return np.zeros_like(diverged) if width == 128 else diverged

    optimal = losses.optimal_rates(synthetic(lambda init, n: 2.0**-8, diverge=diverge))
    cell = optimal.sel(init="A", width=128)
    assert math.isinf(float(cell["loss"])) and math.isnan(float(cell["eta_A"]))
    assert math.isnan(float(cell["max_stable_eta_A"]))
    fit = fit_rate_exponent(optimal)["A"]
    assert fit.n_points == len(WIDTHS) - 1


def test_cells_not_run_are_left_out():
    ds = synthetic(lambda init, n: 2.0**-8)
    ds["diverged_step"].loc[{"width": 128}] = NOT_RUN
    ds["train_loss"].loc[{"width": 128}] = np.nan
    optimal = losses.optimal_rates(ds)
    assert not bool(optimal["completed"].sel(init="A", width=128))
    assert math.isnan(float(optimal["loss"].sel(init="A", width=128)))
    assert fit_rate_exponent(optimal)["A"].n_points == len(WIDTHS) - 1


def test_optimum_at_the_grid_edge_is_flagged():
    optimal = losses.optimal_rates(synthetic(lambda init, n: 1.0))
    assert bool(optimal["at_edge"].all())


def test_window_averages_the_trailing_steps():
    ds = synthetic(lambda init, n: 2.0**-8, steps=3)
    ds["train_loss"].loc[{"step": 3}] = ds["train_loss"].sel(step=3) + 1.0
    last = losses.loss_at(ds, step=3)
    two = losses.loss_at(ds, step=3, window=2)
    np.testing.assert_allclose(two, last - 0.5)


def test_predicted_exponents_come_from_the_theory():
    theory_model = MODELS["teacher-student"].theory_model
    assert str(theory.predicted_rate_exponent(theory_model, "A")) == "-1/2"
    assert str(theory.predicted_rate_exponent(theory_model, "B")) == "-1"


def test_figure2_summary_has_no_nan():
    from toymodels.analysis._summary import render, summarize

    def diverge(init, width, diverged):
        return np.zeros_like(diverged) if width == 128 else diverged

    ds = synthetic(lambda init, n: 2.0**-8, diverge=diverge)
    summary = summarize(ds, metric="train_loss", window=1, steps=(None,))
    text = json.dumps(summary, allow_nan=False)  # raises on NaN or infinity
    assert '"128": null' in text
    summary["results"] = "x.nc"
    assert "diverged" in render(summary)
