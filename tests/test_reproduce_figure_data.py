"""The reductions behind the figures find the planted optima and never reward divergence."""

import numpy as np
import pytest

from tests.synthetic_results import (
    BEST_PAIR,
    EXPONENT,
    PREFACTOR,
    figure2_store,
    figure3_store,
    heatmap_store,
)
from toymodels.core._errors import UsageError
from toymodels.reproduce import _figure_data as data


@pytest.mark.parametrize("init", ["A", "B"], ids=["Init[A]", "Init[B]"])
def test_optimal_rate_is_the_grid_point_nearest_the_planted_optimum(init):
    store = figure2_store()
    opt = data.figure2_optimum(store)
    grid = store.eta_A.values
    for width in store.width.values:
        star = PREFACTOR[init] * width ** EXPONENT[init]
        nearest = grid[np.argmin(np.abs(np.log10(grid / star)))]
        assert opt.eta.sel(init=init, width=width) == pytest.approx(nearest)
        assert (
            opt.band_low.sel(init=init, width=width)
            <= nearest
            <= opt.band_high.sel(init=init, width=width)
        )


def test_a_rate_where_one_seed_diverged_is_never_optimal():
    store = figure2_store()
    # Make the largest rate the best in seed 0 but diverge in seed 1.
    loss = store.train_loss.values.copy()
    loss[:, :, -1, 0, -1] = -1.0
    loss[:, :, -1, 1, -1] = np.nan
    store = store.assign(train_loss=(store.train_loss.dims, loss))
    opt = data.figure2_optimum(store)
    assert np.all(opt.eta.values < store.eta_A.values[-1])


def test_nothing_trained_gives_nan_rate_and_infinite_loss():
    store = figure2_store()
    store = store.assign(train_loss=store.train_loss * np.nan)
    opt = data.figure2_optimum(store)
    assert np.all(np.isnan(opt.eta.values)) and np.all(np.isinf(opt.loss.values))


def test_heatmap_grid_unflattens_the_rate_pairs():
    store = heatmap_store()
    grid = data.heatmap_grid(store, "test_loss", 200)
    assert grid.loss.shape == (grid.eta_B.size, grid.eta_A.size)
    k = 17  # any flattened pair lands at its own (eta_B, eta_A) cell
    a, b = float(store.eta_A[k]), float(store.eta_B[k])
    i, j = np.searchsorted(grid.eta_B, b), np.searchsorted(grid.eta_A, a)
    expected = float(store.test_loss.isel(lr=k, step=-1).mean())
    assert grid.loss[i, j] == pytest.approx(expected) or np.isinf(grid.loss[i, j])


def test_best_pairs_find_the_planted_pair_and_the_diagonal():
    best, equal = data.best_pairs(data.heatmap_grid(heatmap_store(), "test_loss"))
    assert best == pytest.approx(BEST_PAIR)
    assert equal is not None and equal[0] == pytest.approx(equal[1])


def test_figure3_store_keeps_one_rate_per_cell():
    store = figure3_store()
    cell = data.cell_at_optimum(store, "A", 128)
    assert "lr" not in cell.dims
    assert float(cell.eta_A) == pytest.approx(float(store.eta_A.sel(init="A", width=128)[0]))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: data.loss_at(s, "nonsense"), "nonsense"),
        (lambda s: data.loss_at(s, "train_loss", step=10_000), "step 10000"),
        (lambda s: data.select_pair(s, 123.0, 456.0), "no run"),
    ],
    ids=["unknown-metric", "missing-step", "missing-pair"],
)
def test_bad_requests_are_usage_errors(call, message):
    with pytest.raises(UsageError, match=message):
        call(figure2_store())


def test_provenance_names_preset_and_device():
    assert data.provenance(figure2_store()) == "figure2 · preset synthetic · device synthetic CPU"


def test_provenance_flags_a_partial_sweep():
    store = figure2_store(widths=(128, 256))
    store.attrs["completed_cells"] = '[["A", 128]]'
    assert data.provenance(store).endswith("PARTIAL: 1/4 cells")
