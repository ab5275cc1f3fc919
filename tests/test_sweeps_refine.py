"""The two-stage grid (toymodels/sweeps/_refine.py): the window brackets every seed's optimum."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from toymodels.core import interpolated_optimum
from toymodels.sweeps._refine import Refinement, refine, stage_view

COARSE = 2.0 ** np.arange(-14, -1)
REFINEMENT = Refinement(per_octave=4, half_width=6, max_moves=4)


def parabolas(optima_log2):
    """A loss [L, S] per batch of rates: seed s has its minimum at 2^optima_log2[s]."""
    optima = np.asarray(optima_log2, dtype=float)
    return lambda rates: (np.log2(rates)[:, None] - optima[None, :]) ** 2


class CountingTrainer:
    """Returns the rates as the 'runs' and remembers every rate it was asked to train."""

    def __init__(self):
        self.trained = []

    def __call__(self, rates):
        self.trained.extend(float(r) for r in rates)
        return np.asarray(rates)


@settings(max_examples=60, deadline=None)
@given(
    centre=st.floats(-12.0, -4.0),
    spread=st.lists(st.floats(-1.0, 1.0), min_size=2, max_size=8),
)
def test_the_final_window_brackets_every_seed_whose_optima_fit_in_it(centre, spread):
    optima = centre + np.asarray(spread)
    rates, _, moves = refine(CountingTrainer(), COARSE, REFINEMENT, parabolas(optima))
    window = rates[COARSE.size :]
    loss = parabolas(optima)(window)
    kinds = {interpolated_optimum(window, loss[:, s]).where for s in range(optima.size)}
    assert kinds == {"interior"}
    assert moves <= REFINEMENT.max_moves


def test_a_window_moves_towards_an_optimum_on_its_edge_and_retrains_nothing():
    trainer = CountingTrainer()
    # the coarse median picks 2^-8; one seed's optimum lies 1.6 octaves above it
    rates, runs, moves = refine(trainer, COARSE, REFINEMENT, parabolas([-8.1, -8.0, -6.4]))
    assert moves >= 1
    assert len(trainer.trained) == len(set(trainer.trained))  # no rate trained twice
    assert len(trainer.trained) == COARSE.size + REFINEMENT.size - 3 + 4 - 1  # 3 reused, 1 move
    np.testing.assert_array_equal(runs, rates)  # the runs come back in the stored order
    assert np.log2(rates[-1]) > -6.4


def test_seeds_wider_apart_than_the_window_leave_bounds_not_estimates():
    optima = np.array([-12.0, -8.0, -4.0])  # 8 octaves apart: no 3-octave window holds them
    rates, _, _ = refine(CountingTrainer(), COARSE, REFINEMENT, parabolas(optima))
    window = rates[COARSE.size :]
    loss = parabolas(optima)(window)
    kinds = [interpolated_optimum(window, loss[:, s]).where for s in range(optima.size)]
    outside = (optima < np.log2(window[0])) | (optima > np.log2(window[-1]))
    assert outside.any()
    assert all(kind in ("low_edge", "high_edge") for kind in np.array(kinds)[outside])


def test_the_window_is_centred_on_the_coarse_seed_median_not_a_diverged_seed():
    def losses(rates):
        loss = parabolas([-9.0, -9.0, -9.0])(rates)
        loss[np.log2(rates) < -12, 2] = np.inf  # one seed diverges at small rates (never mind why)
        return loss

    rates, _, _ = refine(CountingTrainer(), COARSE, REFINEMENT, losses)
    assert np.log2(rates[COARSE.size + REFINEMENT.half_width]) == pytest.approx(-9.0)


def test_stage_view_gives_each_stage_as_a_plain_results_dataset():
    ds = xr.Dataset(
        {"train_loss": (("lr",), np.arange(5.0))},
        coords={"lr": np.arange(5), "stage": ("lr", ["coarse"] * 2 + ["fine"] * 3)},
    )
    fine = stage_view(ds)
    assert "stage" not in fine.coords and list(fine["lr"].values) == [0, 1, 2]
    assert list(stage_view(ds, "coarse")["train_loss"].values) == [0.0, 1.0]
    plain = ds.drop_vars("stage")
    assert stage_view(plain) is plain
