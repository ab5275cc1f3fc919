"""Bootstrap over seeds: exponents, differences, per-seed optima and crossings, null pass rates."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toymodels.core._bootstrap import (
    bootstrap_exponent,
    bootstrap_exponent_difference,
    crossing_rate,
    geometric_means,
    interpolated_optimum,
    null_pass_rate,
)
from toymodels.core._fit import fit_power_law

WIDTHS = np.array([2.0**k for k in range(7, 12)])


def noisy(slope, seeds=8, sigma=0.1, rng=0):
    noise = np.exp(sigma * np.random.default_rng(rng).standard_normal((WIDTHS.size, seeds)))
    return WIDTHS[:, None] ** slope * noise


@settings(max_examples=25, deadline=None)
@given(slope=st.floats(-2, 1), spread=st.lists(st.floats(0.5, 2), min_size=2, max_size=5))
def test_exact_power_law_gives_its_slope_and_a_zero_width_interval(slope, spread):
    values = WIDTHS[:, None] ** slope * np.array(spread)
    fit = bootstrap_exponent(WIDTHS, values, n_boot=20)
    assert fit.value == pytest.approx(slope, abs=1e-9)
    assert fit.ci == pytest.approx((slope, slope), abs=1e-9)


def test_point_estimate_is_the_pooled_least_squares_fit_without_missing_cells():
    values = noisy(-0.7)
    assert bootstrap_exponent(WIDTHS, values, n_boot=10).value == pytest.approx(
        fit_power_law(WIDTHS, values).exponent
    )


def test_interval_tells_minus_half_from_minus_one_at_modest_noise():
    fit = bootstrap_exponent(WIDTHS, noisy(-0.5), n_boot=500)
    assert fit.excludes(-1.0) and not fit.excludes(-0.5)


def test_interval_covers_the_true_slope_at_roughly_the_nominal_rate():
    hits = sum(
        not bootstrap_exponent(WIDTHS, noisy(-1.0, rng=trial), n_boot=300, seed=trial).excludes(
            -1.0
        )
        for trial in range(60)
    )
    # Percentile intervals from 8 seeds undercover a little; far below 0.8 would be a bug.
    assert hits / 60 >= 0.8


def test_missing_cells_are_left_out_and_a_resample_with_too_few_widths_is_nan():
    values = noisy(-1.0, seeds=3)
    values[2:, 1:] = np.nan  # widths 3..5 have only seed 0
    fit = bootstrap_exponent(WIDTHS, values, n_boot=400)
    assert math.isfinite(fit.value)
    # A resample without seed 0 keeps only two widths: no slope.
    assert np.isnan(fit.samples).any()
    assert np.isfinite(fit.ci).all()


def test_point_estimate_is_the_fit_of_the_geometric_means_with_missing_cells():
    values = noisy(-0.5, seeds=4)
    values[1, 2] = np.nan
    values[3, 0] = 0.0  # a rate never found
    means = geometric_means(values)
    assert means[1] == pytest.approx(np.exp(np.log(values[1, [0, 1, 3]]).mean()))
    assert bootstrap_exponent(WIDTHS, values, n_boot=10).value == pytest.approx(
        fit_power_law(WIDTHS, means).exponent
    )


def test_paired_difference_cancels_noise_shared_by_both_inits():
    shared = noisy(0.0, sigma=0.3)
    a, b = WIDTHS[:, None] ** -0.5 * shared, WIDTHS[:, None] ** -1.0 * shared
    paired = bootstrap_exponent_difference(WIDTHS, a, b, n_boot=300)
    independent = bootstrap_exponent_difference(WIDTHS, a, b, paired=False, n_boot=300)
    assert paired.ci == pytest.approx((0.5, 0.5))
    assert independent.ci[1] - independent.ci[0] > 0.05
    assert paired.value == independent.value == pytest.approx(0.5)


def test_unpaired_difference_accepts_different_seed_counts():
    diff = bootstrap_exponent_difference(
        WIDTHS, noisy(-0.5, seeds=4), noisy(-1.0, seeds=6), paired=False, n_boot=50
    )
    assert diff.n_seeds == 4


@pytest.mark.parametrize(
    ("widths", "values", "message"),
    [
        (WIDTHS, np.ones((WIDTHS.size, 1)), "at least 2 seeds"),
        (WIDTHS[:2], np.ones((2, 4)), "at least 3 widths"),
        (WIDTHS, np.ones((3, 4)), "must have shape"),
    ],
    ids=["one-seed", "two-widths", "shape"],
)
def test_unusable_inputs_are_rejected(widths, values, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_exponent(widths, values)


@settings(max_examples=40, deadline=None)
@given(center=st.floats(-5.5, -1.5), curvature=st.floats(0.1, 10))
def test_parabola_recovers_the_minimum_of_a_parabola_in_log_rate(center, curvature):
    rates = 2.0 ** np.arange(-7, 0, 0.25)
    opt = interpolated_optimum(rates, curvature * (np.log2(rates) - center) ** 2 + 1)
    assert opt.where == "interior"
    assert math.log2(opt.rate) == pytest.approx(center, abs=1e-6)
    assert opt.loss == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    ("losses", "where", "rate"),
    [
        ([1, 2, 3, 4, 5], "low_edge", 1.0),
        ([5, 4, 3, 2, 1], "high_edge", 16.0),
        ([5, 4, 3, np.nan, np.nan], "next_to_divergence", 4.0),
        ([np.inf] * 5, "none", math.nan),
    ],
    ids=["low", "high", "divergence", "all-diverged"],
)
def test_optimum_off_the_interior_is_a_flagged_grid_point(losses, where, rate):
    opt = interpolated_optimum(2.0 ** np.arange(5), losses)
    assert opt.where == where and not opt.interior
    assert opt.rate == pytest.approx(rate, nan_ok=True)


@settings(max_examples=40, deadline=None)
@given(power=st.floats(0.2, 3), log2_edge=st.floats(-9.5, -1.5))
def test_crossing_of_a_power_law_is_exact(power, log2_edge):
    rates = 2.0 ** np.arange(-10, 0, 0.125)
    values = (rates / 2.0**log2_edge) ** power  # reaches 1 at 2^log2_edge
    crossing = crossing_rate(rates, values, 1.0)
    assert crossing.where == "bracketed"
    assert math.log2(crossing.rate) == pytest.approx(log2_edge, abs=1e-9)


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ([0.1, 0.2, 0.4, 0.8], "below_at_highest"),
        ([1.5, 2, 3, 4], "above_at_lowest"),
        ([0.1, 0.2, np.nan, np.nan], "bracketed_by_divergence"),
        ([0.1, 0.5, 2.0, 0.5], "bracketed"),  # the first crossing counts
    ],
    ids=["never", "already", "diverged", "first"],
)
def test_crossing_status(values, where):
    crossing = crossing_rate([1.0, 2.0, 4.0, 8.0], values, 1.0)
    assert crossing.where == where
    assert crossing.bracketed == where.startswith("bracketed")
    assert math.isnan(crossing.rate) != crossing.bracketed


def test_crossing_by_divergence_is_the_geometric_midpoint_of_the_bracket():
    assert crossing_rate([1.0, 2.0, 4.0], [0.1, 0.2, np.inf], 1.0).rate == pytest.approx(
        math.sqrt(8)
    )


@pytest.mark.parametrize("level", [0.0, -1.0, math.inf, math.nan])
def test_crossing_rejects_a_bad_level(level):
    with pytest.raises(ValueError, match="level"):
        crossing_rate([1.0, 2.0], [0.5, 2.0], level)


def test_null_pass_rate_of_an_always_and_never_rule():
    values = noisy(-1.0)
    assert null_pass_rate(lambda v: True, [values], n_null=5) == 1.0
    assert null_pass_rate(lambda v: False, [values], n_null=5) == 0.0


def test_permuted_widths_destroy_the_width_effect():
    # Under the null the fitted slope of a steep power law is centred at 0, not at -1.
    values = noisy(-1.0)
    slopes = []
    null_pass_rate(
        lambda v: slopes.append(fit_power_law(WIDTHS, v).exponent) or True, [values], n_null=200
    )
    assert abs(np.mean(slopes)) < 0.15
    assert null_pass_rate(lambda v: fit_power_law(WIDTHS, v).exponent < -0.9, [values]) < 0.1


def test_null_keeps_pairs_paired():
    values = noisy(-1.0)
    seen = []
    null_pass_rate(lambda a, b: seen.append(np.array_equal(a, b)) or True, [values, values])
    assert not all(seen)  # the widths are permuted independently per dataset
    assert null_pass_rate(lambda a, b: sorted(a[:, 0]) == sorted(b[:, 0]), [values, values]) == 1.0
