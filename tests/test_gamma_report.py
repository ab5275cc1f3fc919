"""The empirical-γ verdict on synthetic measurements: it passes true slopes and fails wrong ones.

No training here: RMS ∝ n^γ is synthesised (with seed-to-seed noise), so every test isolates the
fit, the −∞ rule, the JSON and the table from the toy models.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import theory
from toymodels.gamma._plot import plot_coordcheck
from toymodels.gamma._report import (
    NOTE_DIVERGED,
    NOTE_PARTLY_ZERO,
    NOTE_ZERO,
    CoordCheckReport,
    WidthMeasurement,
    check_cell,
    compare,
)

WIDTHS = tuple(2**k for k in range(7, 14))
SEEDS = (0, 1, 2, 3)


def synthetic_rms(gammas, *, noise=0.1, seed=0, widths=WIDTHS, n_seeds=4):
    """RMS[w, s, t] = C · n^γ_t · exp(noise · ε): γ_t = None gives an exactly-zero quantity."""
    rng = np.random.default_rng(seed)
    n = np.asarray(widths, dtype=np.float64)[:, None]
    columns = []
    for gamma in gammas:
        if gamma is None:
            columns.append(np.zeros((n.size, n_seeds)))
        else:
            columns.append(
                2.0 * n ** float(gamma) * np.exp(noise * rng.standard_normal((n.size, n_seeds)))
            )
    return np.stack(columns, axis=-1)  # [W, S, T + 1]


def make_report(trajectory, rms, *, tolerance=0.15):
    measurement = WidthMeasurement(widths=WIDTHS, seeds=SEEDS, rms=rms)
    quantities = tuple(rms)
    steps = range(1, measurement.steps + 1)
    checks = compare(
        measurement, trajectory, quantities=quantities, steps=steps, tolerance=tolerance
    )
    setting = {
        "model": "synthetic",
        "init": "A",
        "eta_A_exponent": "-1/2",
        "eta_B_exponent": "-1/2",
        "tolerance": tolerance,
    }
    return CoordCheckReport(setting=setting, checks=checks, measurement=measurement)


# Init[A] at η = n^(-1/2) for the Adam layer (Init Thm 1): t = 0, 1, 2.
NEG = theory.NEG_INF
TRAJECTORY = [
    {"Z_A": Fraction(0), "B": NEG, "delta1": NEG},
    {"Z_A": Fraction(0), "B": Fraction(-1, 2), "delta1": NEG},
    {"Z_A": Fraction(1, 2), "B": Fraction(-1, 2), "delta1": Fraction(0)},
]


def true_measurement(seed=0):
    return {
        "Z_A": synthetic_rms([0, 0, 0.5], seed=seed),
        "B": synthetic_rms([None, -0.5, -0.5], seed=seed + 1),
        "delta1": synthetic_rms([None, None, 0], seed=seed + 2),
    }


def test_true_exponents_pass_with_noise():
    report = make_report(TRAJECTORY, true_measurement())
    assert report.passed, report.format_table()
    for check in report.checks:
        if check.measured is not None:
            assert abs(check.difference) < 0.1
            assert check.ci[0] < check.measured < check.ci[1]


@pytest.mark.parametrize("offset", [0.5, -0.3, 0.16], ids=["+1/2", "-0.3", "just-outside"])
def test_a_wrong_prediction_is_reported_as_a_failure(offset):
    wrong = [dict(step) for step in TRAJECTORY]
    wrong[2]["Z_A"] = Fraction(1, 2) + Fraction(offset).limit_denominator(100)
    report = make_report(wrong, {"Z_A": synthetic_rms([0, 0, 0.5], noise=0.0)})
    failed = [c for c in report.checks if not c.passed]
    assert [(c.quantity, c.step) for c in failed] == [("Z_A", 2)]
    assert not report.passed
    assert report.to_json()["pass"] is False
    assert "FAIL" in report.format_table()


def test_tolerance_is_a_closed_bound_on_the_point_estimate():
    rms = synthetic_rms([0.15], noise=0.0)[:, :, 0]
    assert check_cell(WIDTHS, rms, Fraction(0), quantity="q", step=1, tolerance=0.15 + 1e-12).passed
    assert not check_cell(WIDTHS, rms, Fraction(0), quantity="q", step=1, tolerance=0.14).passed


@given(slope=st.fractions(min_value=-3, max_value=3, max_denominator=12), log_c=st.floats(-4, 4))
def test_noise_free_power_law_is_measured_exactly(slope, log_c):
    n = np.asarray(WIDTHS, dtype=np.float64)
    rms = math.exp(log_c) * np.stack([n ** float(slope)] * 2, axis=1)
    check = check_cell(WIDTHS, rms, slope, quantity="q", step=1, tolerance=1e-9)
    assert check.passed
    assert check.measured == pytest.approx(float(slope), abs=1e-9)


class TestMinusInfinity:
    """A prediction of −∞ (exactly zero) passes only on an exactly-zero measurement."""

    def test_exact_zero_passes_without_a_fit(self):
        check = check_cell(WIDTHS, np.zeros((7, 4)), NEG, quantity="delta1", step=1, tolerance=0.15)
        assert check.passed and check.measured is None and check.note == NOTE_ZERO
        assert check.difference is None

    @pytest.mark.parametrize("value", [1e-30, 1e-8], ids=["denormal-small", "float32-eps-small"])
    def test_any_non_zero_value_fails(self, value):
        rms = np.zeros((7, 4))
        rms[3, 2] = value
        check = check_cell(WIDTHS, rms, NEG, quantity="delta1", step=1, tolerance=0.15)
        assert not check.passed and check.note == NOTE_PARTLY_ZERO

    def test_a_fully_non_zero_quantity_fails_even_when_tiny(self):
        rms = 1e-12 * synthetic_rms([-3])[:, :, 0]
        check = check_cell(WIDTHS, rms, NEG, quantity="delta1", step=1, tolerance=0.15)
        assert not check.passed and check.measured == pytest.approx(-3, abs=0.1)

    def test_a_finite_prediction_fails_on_an_exactly_zero_measurement(self):
        check = check_cell(
            WIDTHS, np.zeros((7, 4)), Fraction(-1), quantity="B", step=1, tolerance=0.15
        )
        assert not check.passed and check.note == NOTE_ZERO


def test_a_diverged_run_fails_and_says_so():
    rms = synthetic_rms([0])[:, :, 0]
    rms[-1, 0] = np.nan
    check = check_cell(WIDTHS, rms, Fraction(0), quantity="Z_B", step=3, tolerance=0.15)
    assert not check.passed and check.measured is None
    assert check.note == f"{NOTE_DIVERGED} at 1 of 7 widths, from n = 8192"


def test_json_schema_round_trips_and_is_strict_json():
    report = make_report(TRAJECTORY, true_measurement())
    payload = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert payload["pass"] is True
    assert payload["compared_steps"] == [1, 2]
    assert set(payload["quantities"]) == {"Z_A", "B", "delta1"}
    for quantity, entry in payload["quantities"].items():
        assert set(entry["steps"]) == {"1", "2"}
        # The top level repeats the last compared step.
        last = entry["steps"]["2"]
        assert entry["step"] == 2
        assert {k: entry[k] for k in last} == last
        for step, cell in entry["steps"].items():
            assert set(cell) >= {"predicted", "measured", "ci", "difference", "pass"}
            assert theory.parse_exponent(cell["predicted"]) == TRAJECTORY[int(step)][quantity]
            if cell["measured"] is None:
                assert cell["ci"] is None and cell["note"]
            else:
                low, high = cell["ci"]
                assert low <= cell["measured"] <= high
    assert payload["quantities"]["delta1"]["steps"]["1"] == {
        "predicted": "-inf",
        "measured": None,
        "ci": None,
        "difference": None,
        "pass": True,
        "note": NOTE_ZERO,
    }


def test_two_widths_give_an_unbounded_interval_as_json_null():
    measurement = WidthMeasurement(
        widths=(128, 256),
        seeds=(0,),
        rms={"B": synthetic_rms([0, -1], widths=(128, 256), n_seeds=1)},
    )
    checks = compare(
        measurement, [{"B": NEG}, {"B": Fraction(-1)}], quantities=["B"], steps=[1], tolerance=0.15
    )
    assert checks[0].passed
    assert checks[0].to_json()["ci"] == [None, None]


def test_table_lists_every_cell_and_the_overall_verdict():
    report = make_report(TRAJECTORY, true_measurement())
    table = report.format_table()
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["quantity", "step", "predicted"]
    assert len(lines) == 2 + len(report.checks) + 1
    assert (
        lines[-1] == f"overall: PASS ({len(report.checks)}/{len(report.checks)} cells within ±0.15)"
    )
    assert any(
        line.startswith("delta1") and "exactly zero" in line and "-inf" in line for line in lines
    )


def test_measurement_rejects_misshapen_arrays():
    with pytest.raises(ValueError, match="shape"):
        WidthMeasurement(widths=WIDTHS, seeds=SEEDS, rms={"B": np.zeros((7, 3, 2))})


def diverged_measurement():
    rms = true_measurement()
    rms["Z_A"] = rms["Z_A"].copy()
    rms["Z_A"][4:, 1, 2] = np.nan  # one seed diverged at the three largest widths
    return rms


@pytest.mark.parametrize(
    "measurement", [true_measurement, diverged_measurement], ids=["passing", "diverged"]
)
def test_plot_draws_every_panel(measurement, tmp_path):
    report = make_report(TRAJECTORY, measurement())
    path = tmp_path / "coordcheck.svg"
    plot_coordcheck(report, path)
    svg = path.read_text()
    for check in report.checks:
        assert f"{check.quantity}, t = {check.step}" in svg
    assert ("FAIL" in svg) != report.passed


def test_plot_leaves_the_callers_matplotlib_backend_alone(tmp_path):
    import matplotlib

    before = matplotlib.rcParams._get_backend_or_none()
    plot_coordcheck(make_report(TRAJECTORY, true_measurement()), tmp_path / "coordcheck.png")
    assert matplotlib.rcParams._get_backend_or_none() == before
