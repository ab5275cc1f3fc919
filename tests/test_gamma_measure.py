"""The empirical-γ check on the real toy models, at small widths so that it runs in CI.

The full checks (widths 2^7..2^13) are in docs/empirical-gamma.md; these use the same code
with small widths, few seeds and T = 2, and check that the check passes where theory and the
models agree and fails when the prediction is wrong.
"""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

import theory
from toymodels import cli
from toymodels.gamma._measure import coordcheck
from toymodels.gamma._report import compare

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def teacher_student_report():
    # Init[B] at η = n^(-1) (Init Thm 2): Z_A, B, Z_B = Θ(1), B undertrained (δ² = Θ(n^-1)).
    return coordcheck(
        "teacher-student",
        "B",
        eta_A_exponent="-1",
        eta_B_exponent="-1",
        widths=(64, 128, 256),
        seeds=2,
    )


def test_small_teacher_student_check_passes(teacher_student_report):
    report = teacher_student_report
    assert report.passed, report.format_table()
    # Init[B] leaves B unmoved at step 1: δ² = ΔB Z_A^0 is exactly zero there.
    (delta2_t1,) = [c for c in report.checks if (c.quantity, c.step) == ("delta2", 1)]
    assert delta2_t1.predicted == theory.NEG_INF and delta2_t1.measured is None


def test_a_wrong_prediction_fails_on_real_measurements(teacher_student_report):
    report = teacher_student_report
    trajectory = theory.predict("adam", "B", eta_A=-1, eta_B=-1, steps=2).trajectory
    # Claim Init[A]'s internal instability (Z_A = Θ(n^(1/2))) where Init[B] has Z_A = Θ(1).
    wrong = [{**step, "Z_A": Fraction(1, 2)} for step in trajectory]
    checks = compare(
        report.measurement, wrong, quantities=["Z_A", "B"], steps=[1, 2], tolerance=0.15
    )
    verdicts = {(c.quantity, c.step): c.passed for c in checks}
    assert verdicts == {("Z_A", 1): False, ("Z_A", 2): False, ("B", 1): True, ("B", 2): True}


def test_linear_toy_cli_json_passes_lora_plus_rates(capsys):
    # LoRA+ Prop 2: η_a = n^(-1), η_b = n^0 make b, aᵀx, f and every δ Θ(1).
    argv = [
        "coordcheck",
        "--model",
        "linear",
        "--init",
        "B",
        "--eta-A-exponent",
        "-1",
        "--eta-B-exponent",
        "0",
        "--widths",
        "256",
        "1024",
        "4096",
        "--seeds",
        "0:31",
        # Well below one-step interpolation (η_b (aᵀx)² ≈ 1 makes f − y ≈ 0 for some seeds).
        "--eta0",
        "0.1",
        "--json",
        "--quiet",
    ]
    assert cli.main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["pass"] is True, payload
    assert payload["theory_model"] == "gd-linear" and payload["optimizer"] == "sgd"
    assert payload["compared_steps"] == [1, 2]
    assert set(payload["quantities"]) == {"b", "aTx", "f", "delta1", "delta2", "delta3"}
    assert payload["quantities"]["delta2"]["steps"]["1"]["predicted"] == "-inf"
    for entry in payload["quantities"].values():
        assert entry["predicted"] == "0" and entry["step"] == 2


@pytest.fixture(scope="module")
def across_rank():
    """Init[B] at η = n^-1 with r = round(n^(1/2)) and no multiplier, both readings of the rank sum
    (one measurement; the readings differ only in the prediction)."""
    setting = {"eta_A_exponent": "-1", "eta_B_exponent": "-1", "widths": (64, 256, 1024),
               "seeds": 2, "steps": 1, "rank_exponent": "1/2", "multiplier": 0}  # fmt: skip
    return {
        reading: coordcheck("teacher-student", "B", reading=reading, **setting)
        for reading in ("aligned", "per-coordinate")
    }


def test_across_rank_the_ranks_follow_n_to_the_kappa_and_the_prediction_carries_kappa(across_rank):
    aligned = across_rank["aligned"]
    assert aligned.setting["ranks"] == [8, 16, 32] and aligned.setting["multiplier"] == "0"
    predicted = {c.quantity: c.predicted for c in aligned.checks if c.step == 1}
    assert predicted["Z_B"] == Fraction(1, 2) and predicted["B"] == 0  # + κ − sκ on Z_B only
    per_coordinate = {c.quantity: c.predicted for c in across_rank["per-coordinate"].checks}
    assert per_coordinate["Z_B"] == Fraction(1, 4)


def test_across_rank_init_B_follows_the_per_coordinate_reading(across_rank):
    """Assumption K (docs/theory.md §12): Z_B and δ¹ at t = 1 grow as r^(1/2)·… = n^(1/4) here,
    the per-coordinate reading, not n^(1/2) (docs/reproduction.md, "Rank")."""
    measured = {c.quantity: c for c in across_rank["per-coordinate"].checks}
    assert measured["Z_B"].passed and measured["delta1"].passed, measured["Z_B"]
    assert not {c.quantity: c for c in across_rank["aligned"].checks}["Z_B"].passed


@pytest.mark.parametrize(
    ("flags", "message"),
    [(["--rank-exponent", "1"], "[0, 1)"), (["--multiplier", "abc"], "rational"),
     (["--model", "linear", "--reading", "per-coordinate"], "adam only")],
    ids=["kappa 1", "multiplier", "reading of gd-linear"],
)  # fmt: skip
def test_bad_rank_input_is_one_line_exit_2(flags, message, capsys):
    argv = ["coordcheck", "--init", "B", "--eta-exponent", "-1", "--widths", "8,16"]
    model = [] if "--model" in flags else ["--model", "teacher-student"]
    assert cli.main([*argv, *model, *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lora-sweep: error:") and message in err and err.count("\n") == 1
