"""Every stated result of the two papers, asked of the engine (derived, never tabulated).

Where a printed statement and the derivation disagree, the derived version is tested and the
erratum is recorded in docs/theory.md (Init Thm 1's internal-instability interval; the t = 1 step).
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from theory import NEG_INF, Expr, Region, compare, derive, predict, region

ETA = Expr.symbol("eta")
HALF = Fraction(1, 2)


def interval(lo=None, hi=None, *, lo_closed=True, hi_closed=True) -> Region:
    """The statement's interval of the equal-rate exponent eta, as an exact region."""
    out = Region.universe()
    if lo is not None:
        out &= compare(ETA, ">=" if lo_closed else ">", lo)
    if hi is not None:
        out &= compare(ETA, "<=" if hi_closed else "<", hi)
    return out


def point(c) -> Region:
    return compare(ETA, "==", c)


# -- LoRA+ (Hayou, Ghosh, Yu 2024) ----------------------------------------------------------------
@pytest.mark.parametrize("init", ["A", "B"])
def test_loraplus_prop1_equal_rates_never_make_delta1_and_delta2_order_one(init):
    """Prop 1: with η_a = η_b = Θ(n^c), δ¹_t and δ²_t are never both Θ(1), at any t > 0."""
    d = derive("gd-linear", init, eta_A=ETA, eta_B=ETA, steps=8)
    for step in d.steps[1:]:
        both = compare(step.values["delta1"], "==", 0) & compare(step.values["delta2"], "==", 0)
        assert both.is_empty(), (step.t, both)
    steady_both = compare(d.steady["delta1"].value, "==", 0) & compare(
        d.steady["delta2"].value, "==", 0
    )
    assert (steady_both - d.steady["delta1"].growing).is_empty()
    assert region("gd-linear", init, ["efficient"], equal_rates=True).is_empty()


def test_loraplus_prop1_the_only_candidate_rate_gives_f_off_order_one_init_a():
    """Prop 1's proof: efficiency would force c = −1/2; with Init[A], f_t = Θ(n^{−1/2})."""
    p = predict("gd-linear", "A", eta_A=-HALF, eta_B=-HALF, steps=6)
    assert p.exponents["f"] == -HALF
    assert all(step["f"] == -HALF for step in p.trajectory[2:])


def test_loraplus_prop1_the_only_candidate_rate_makes_f_grow_geometrically_init_b():
    """With Init[B], γ[f_1] = 1/2, so the residual f − y = Θ(n^{1/2}) enters both gradients and
    F_{t+1} = 2c + 1 + 3 F_t: γ[f_t] = 3^{t−1}/2, not the 1/2 for all t of App. A.3 (erratum)."""
    p = predict("gd-linear", "B", eta_A=-HALF, eta_B=-HALF, steps=6)
    assert p.exponents["f"] == "growing" and p.growth["f"] == "geometric"
    assert [step["f"] for step in p.trajectory[1:]] == [HALF * 3 ** (t - 1) for t in range(1, 7)]


@pytest.mark.parametrize("init", ["A", "B"])
def test_loraplus_prop2_eta_a_minus_one_eta_b_zero_is_efficient(init):
    """Prop 2: η_a = Θ(n^{−1}), η_b = Θ(1) gives δ¹, δ², δ³ = Θ(1) for all t > 1."""
    p = predict("gd-linear", init, eta_A=-1, eta_B=0, steps=10)
    for step in p.trajectory[2:]:
        assert [step[q] for q in ("delta1", "delta2", "delta3")] == [0, 0, 0]
    assert p.conditions["efficient"] and p.conditions["stable"]
    # Derived, stronger than stated: it is the only efficient pair of exponents.
    expected = compare(Expr.symbol("eta_A"), "==", -1) & compare(Expr.symbol("eta_B"), "==", 0)
    assert region("gd-linear", init, ["efficient"]) == expected


@pytest.mark.parametrize("init", ["A", "B"])
def test_loraplus_thm1_equal_rates_cannot_be_efficient_but_eta_a_minus_one_eta_b_zero_is(init):
    """Thm 1 (Adam, LoRA+'s stability: Z_A and Z_B both O(1))."""
    assert region("adam", init, ["efficient", "loraplus_stable"], equal_rates=True).is_empty()
    p = predict("adam", init, eta_A=-1, eta_B=0, steps=6)
    assert p.conditions["efficient"] and p.conditions["loraplus_stable"]
    assert p.conditions["feature_learning"]
    for step in p.trajectory[2:]:
        assert [step[q] for q in ("delta1", "delta2", "delta3")] == [0, 0, 0]


# -- Init paper (Hayou, Ghosh, Yu, NeurIPS 2024) ------------------------------------------------
@pytest.mark.parametrize("init", ["A", "B"])
def test_init_lemma1_recursion_once_both_gradients_are_nonzero(init):
    """Lemma 1: γ[Z_A^t] = max(γ[Z_A^{t−1}], γ[η] + 1), γ[B_t] = max(γ[B_{t−1}], γ[η]); it holds
    from t = 2 on (at t = 1 one raw gradient is exactly zero: see the erratum)."""
    d = derive("adam", init, eta_A=ETA, eta_B=ETA, steps=6)
    for prev, step in zip(d.steps[1:], d.steps[2:], strict=False):
        assert step.values["Z_A"] == prev.values["Z_A"] | (ETA + 1)
        assert step.values["B"] == prev.values["B"] | ETA
    first = d.steps[1].values
    lemma_at_1 = {"Z_A": d.steps[0].values["Z_A"] | (ETA + 1), "B": d.steps[0].values["B"] | ETA}
    moving = "B" if init == "A" else "Z_A"
    frozen = "Z_A" if init == "A" else "B"
    assert first[moving] == lemma_at_1[moving]
    assert first[frozen] == d.steps[0].values[frozen] != lemma_at_1[frozen]


def test_init_thm1_init_a_stability_feature_learning_and_internal_instability():
    """Thm 1 (Init[A]): stable iff γ[η] ≤ −1/2; feature learning iff γ[η] = −1/2, and efficient
    there; internal instability on (−1, −1/2] (printed as (−1, 1/2]: erratum)."""
    assert region("adam", "A", ["stable"], equal_rates=True) == interval(hi=-HALF)
    assert region("adam", "A", ["feature_learning"], equal_rates=True) == point(-HALF)
    assert region("adam", "A", ["efficient"], equal_rates=True) == point(-HALF)
    derived = region("adam", "A", ["internal_instability"], equal_rates=True)
    assert derived == interval(-1, -HALF, lo_closed=False)
    assert derived != interval(-1, HALF, lo_closed=False)  # the printed interval
    p = predict("adam", "A", eta_A=-HALF, eta_B=-HALF)
    assert (p.exponents["Z_A"], p.exponents["B"], p.exponents["Z_B"]) == (HALF, -HALF, 0)
    assert (p.exponents["delta1"], p.exponents["delta2"]) == (0, 0)


def test_init_thm2_init_b_stability_feature_learning_and_no_efficiency():
    """Thm 2 (Init[B]): stable iff γ[η] ≤ −1; feature learning iff γ[η] = −1; never efficient
    (δ² = Θ(n^{−1}) at γ[η] = −1: B is undertrained); no internal instability."""
    assert region("adam", "B", ["stable"], equal_rates=True) == interval(hi=-1)
    assert region("adam", "B", ["feature_learning"], equal_rates=True) == point(-1)
    assert region("adam", "B", ["efficient"], equal_rates=True).is_empty()
    assert region("adam", "B", ["internal_instability"], equal_rates=True).is_empty()
    p = predict("adam", "B", eta_A=-1, eta_B=-1)
    assert (p.exponents["delta1"], p.exponents["delta2"]) == (0, -1)
    assert p.trajectory[1]["B"] == 0 and p.trajectory[1]["delta2"] is NEG_INF


def test_init_section37_lora_output_exponent_between_the_two_rates():
    """Init §3.7: with η = Θ(n^{−β}), β ∈ (1/2, 1), the text says Z_B = Θ(n^{1−β}) (n^{−0.3} at
    β = 0.7). The recursion gives Z_B = B Z_A = Θ(n^{−β}·n^{1−β}) = Θ(n^{1−2β}): erratum."""
    beta = Fraction(7, 10)
    p = predict("adam", "A", eta_A=-beta, eta_B=-beta)
    assert p.exponents["Z_A"] == 1 - beta
    assert p.exponents["B"] == -beta
    assert p.exponents["Z_B"] == 1 - 2 * beta == Fraction(-2, 5)
    assert p.exponents["Z_B"] != 1 - beta
    assert p.conditions["stable"] and p.conditions["internal_instability"]
    assert not p.conditions["feature_learning"]


@pytest.mark.parametrize("init", ["A", "B"])
def test_loraplus_thm1_proof_quotes_t_ge_1_but_one_delta_vanishes_at_t_1(init):
    """LoRA+ App. A.5 says δ¹, δ², δ³ = Θ(1) for all t >= 1 at (−1, 0); at t = 1 one raw gradient
    is zero (footnote 7 of the same paper), so it holds for t > 1 only: erratum."""
    p = predict("adam", init, eta_A=-1, eta_B=0, steps=3)
    first = p.trajectory[1]
    vanishing = "delta1" if init == "A" else "delta2"
    assert first[vanishing] is NEG_INF
    assert all(p.trajectory[t][q] == 0 for t in (2, 3) for q in ("delta1", "delta2", "delta3"))
