"""The log-log power-law fit recovers known slopes and rejects unusable data."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toymodels.core._fit import fit_power_law

WIDTHS = np.array([2**k for k in range(7, 14)], dtype=float)


@given(
    slope=st.floats(-2, 2, allow_nan=False),
    log_c=st.floats(-5, 5, allow_nan=False),
)
def test_exact_power_law_is_recovered(slope, log_c):
    fit = fit_power_law(WIDTHS, math.exp(log_c) * WIDTHS**slope)
    assert fit.exponent == pytest.approx(slope, abs=1e-9)
    assert fit.prefactor == pytest.approx(math.exp(log_c), rel=1e-6)


def test_noisy_slope_lies_in_confidence_interval_at_nominal_rate():
    rng = np.random.default_rng(0)
    hits = 0
    trials = 400
    for _ in range(trials):
        y = 3.0 * WIDTHS[:, None] ** -0.5 * np.exp(0.1 * rng.standard_normal((WIDTHS.size, 3)))
        hits += fit_power_law(WIDTHS, y).contains(-0.5)
    # 95% interval: the coverage must be near 0.95 (binomial sd ~ 0.011 at 400 trials).
    assert 0.91 <= hits / trials <= 0.99


def test_seeds_count_as_observations():
    y = np.stack([WIDTHS**-1.0, 1.1 * WIDTHS**-1.0], axis=1)
    fit = fit_power_law(WIDTHS, y)
    assert fit.n_points == 2 * WIDTHS.size
    assert fit.exponent == pytest.approx(-1.0)


def test_two_points_give_an_infinite_interval():
    fit = fit_power_law([1.0, 2.0], [1.0, 4.0])
    assert fit.exponent == pytest.approx(2.0)
    assert fit.ci == (-math.inf, math.inf)


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        ([1, 2, 4], [1, 0, 1], "y must be finite and positive"),
        ([1, 2, 4], [1, float("nan"), 1], "y must be finite and positive"),
        ([0, 2, 4], [1, 1, 1], "x must be finite and positive"),
        ([2, 2, 2], [1, 2, 3], "two distinct x"),
        ([1, 2, 4], [1, 2], "y must have shape"),
    ],
    ids=["zero-y", "nan-y", "zero-x", "one-x", "shape-mismatch"],
)
def test_unusable_data_is_rejected(x, y, message):
    with pytest.raises(ValueError, match=message):
        fit_power_law(x, y)
