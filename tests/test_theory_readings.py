"""Assumption K's two readings of a rank sum, both tracked by the built-in ``adam`` (issue 26,
item 1; docs/theory.md §12): the per-entry size (stability) and the component along the loss
gradient (the loss-relevant update)."""

from __future__ import annotations

import json
import shlex
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given, settings

from theory import max_stable_rate_exponent, predict, region, resolve_model
from theory.cli import main
from theory.testing import exponents, rank_settings

KAPPAS = [F(0), F(1, 4), F(1, 2), F(3, 4)]


def run(capsys, command: str) -> tuple[int, str]:
    code = main(shlex.split(command))
    return code, capsys.readouterr().out


@settings(max_examples=40, deadline=None)
@given(eta_A=exponents(finite=True), eta_B=exponents(finite=True), rank=rank_settings())
def test_under_init_a_the_two_readings_agree(eta_A, eta_B, rank):
    kappa, s = rank
    p = predict("adam", "A", eta_A=eta_A, eta_B=eta_B, rank_exponent=kappa, multiplier=s)
    for step in (*p.trajectory, p.exponents):
        assert step["Z_B"] == step["Z_B_aligned"]
        assert step["delta1"] == step["delta1_aligned"]
        assert step["dZ_B"] == step["dZ_B_aligned"]


@settings(max_examples=40, deadline=None)
@given(eta_A=exponents(finite=True), eta_B=exponents(finite=True), rank=rank_settings())
def test_per_entry_never_exceeds_the_aligned_component_and_both_agree_at_kappa_zero(
    eta_A, eta_B, rank
):
    kappa, s = rank
    p = predict("adam", "B", eta_A=eta_A, eta_B=eta_B, rank_exponent=kappa, multiplier=s)
    q = predict("adam", "B", eta_A=eta_A, eta_B=eta_B)
    for step in p.trajectory:
        assert step["Z_B"] <= step["Z_B_aligned"] and step["delta1"] <= step["delta1_aligned"]
    assert q.exponents["Z_B"] == q.exponents["Z_B_aligned"]


def test_issue_case_init_b_per_entry_keeps_the_aligned_update_term():
    """κ = 1/2, s = 0, Init[B]: (−5/4, −1/8) is unstable (dZ_B = 1/8, from ΔB·Z_A aligned)."""
    p = predict("adam", "B", eta_A="-5/4", eta_B="-1/8", rank_exponent="1/2", multiplier=0)
    assert p.exponents["Z_B"] == F(1, 8) and p.exponents["dZ_B"] == F(1, 8)
    assert not p.conditions["stable"]
    stable = region("adam", "B", ["stable"], rank_exponent="1/2", multiplier=0)
    assert str(stable) == "eta_A <= -5/4, eta_A + eta_B <= -3/2"


def test_issue_case_init_a_per_entry_is_the_aligned_reading():
    assert max_stable_rate_exponent("adam", "A", rank_exponent="1/2", multiplier=0) == F(-3, 4)


def _slope(values: dict[F, F]) -> F:
    return (values[F(1, 2)] - values[F(0)]) / F(1, 2)


@pytest.mark.parametrize(
    ("s", "edge", "loss"), [(F(1), F(1, 2), F(0)), (F(1, 2), F(0), F(-1, 2))], ids=["s=1", "s=1/2"]
)
def test_documented_toy_comparison_columns_are_what_the_engine_derives(s, edge, loss):
    """docs/theory.md §12, "Against the toy data": slopes over κ of the two readings' rates."""
    edges = {
        k: max_stable_rate_exponent("adam", "B", rank_exponent=k, multiplier=s) for k in KAPPAS
    }
    aligned = {}
    for k in KAPPAS:
        where = region(
            "adam", "B", ["feature_learning_aligned"], equal_rates=True, rank_exponent=k,
            multiplier=s,
        )  # fmt: skip
        aligned[k] = where.intervals("eta")[0][0]
    assert _slope(edges) == edge and _slope(aligned) == loss


def test_point_json_names_each_quantitys_reading_and_each_conditions(capsys):
    code, out = run(capsys, "point --model adam --init B --eta -1 --json")
    payload = json.loads(out)
    assert code == 0
    assert payload["readings"]["Z_B"] == "per_entry"
    assert payload["readings"]["Z_B_aligned"] == "aligned"
    assert payload["condition_readings"]["stable"] == ["per_entry"]
    assert payload["condition_readings"]["feature_learning_aligned"] == ["aligned", "per_entry"]
    code, out = run(capsys, "point --model adam --init B --eta -1")
    assert "[reads per_entry]" in out and "[aligned]" in out


def test_region_json_and_derive_say_which_reading_a_condition_uses(capsys):
    code, out = run(
        capsys, "region --model adam --init B --condition feature_learning_aligned --json"
    )
    assert code == 0
    assert json.loads(out)["condition_readings"] == {
        "feature_learning_aligned": ["aligned", "per_entry"]
    }
    code, out = run(capsys, "derive --model adam --init B --eta -1")
    assert code == 0 and "- condition stable reads per_entry" in out


def test_a_model_without_readings_reports_none(capsys):
    code, out = run(capsys, "point --model gd-linear --init B --eta -1 --json")
    assert code == 0 and "readings" not in json.loads(out)
    assert resolve_model("gd-linear").condition_readings()["stable"] == ()


def test_one_adam_step_per_entry_grows_as_root_r_and_along_u_as_r():
    """A small version of §12's numerical check: Init[B], one sign-Adam step, n = 1024."""
    rng = np.random.default_rng(0)
    n, ranks = 1024, [16, 64, 256, 1024]
    z, u = rng.standard_normal(n), rng.standard_normal(n)
    rms, along = [], []
    for r in ranks:
        b0 = rng.standard_normal((n, r))
        delta_z_a = -np.sign(b0.T @ u) * np.abs(z).sum()  # ΔA Z, A₀ = 0 (B does not move)
        z_b = b0 @ delta_z_a / np.abs(z).sum()  # η = 1/‖Z‖₁: entries of B₀ sign(B₀ᵀu)
        rms.append(np.sqrt(np.mean(z_b**2)))
        along.append(abs(u @ z_b) / np.linalg.norm(u) / np.sqrt(n))
    slope_rms = np.polyfit(np.log(ranks), np.log(rms), 1)[0]
    slope_along = np.polyfit(np.log(ranks), np.log(along), 1)[0]
    assert abs(slope_rms - 0.5) < 0.15  # per entry: √r (R1, + κ/2)
    assert abs(slope_along - 1.0) < 0.15  # along u: r (R2, + κ)


def test_the_phase_diagram_draws_the_loss_relevant_update_where_it_differs():
    from theory._phase import phase_regimes, rank_phase_rows

    assert "feature learning along u" not in [r.label for r in phase_regimes("adam", "B")]
    rows = rank_phase_rows("adam", "B", multiplier=0, kappas=[F(1, 2)])
    bands = {band.label: band.spans for band in rows[0][1]}
    assert bands["feature learning along u"] == ((F(-3, 2), F(-3, 2)),)
    assert bands["feature learning"] == ((F(-5, 4), F(-5, 4)),)


@pytest.mark.parametrize(
    ("s", "per_entry", "aligned"),
    [(F(1), F(-3, 4), F(-1)), (F(1, 2), F(-1), F(-5, 4))],
    ids=["s=1", "s=1/2"],
)
def test_documented_toy_comparison_width_columns_are_what_the_engine_derives(s, per_entry, aligned):
    half = F(1, 2)
    assert max_stable_rate_exponent("adam", "B", rank_exponent=half, multiplier=s) == per_entry
    where = region(
        "adam", "B", ["feature_learning_aligned"], equal_rates=True, rank_exponent=half,
        multiplier=s,
    )  # fmt: skip
    assert where.intervals("eta")[0][0] == aligned
