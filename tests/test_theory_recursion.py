"""Recursions: the steady state and growth detection (max-plus cycle analysis) checked against
direct numeric iteration, and the symbolic regions of the built-in models against point
predictions at random rational rates."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory import GROWING, NEG_INF, Expr, Recursion, derive, predict
from theory._affine import Affine
from theory._expr import Term

STATES = ("u", "v", "w")
HORIZON = 100  # long enough for any positive cycle of these small weights to show (see below)

# A term: (constant in halves, state it carries or None, state gating it or None, uses rate r?).
_term = st.tuples(
    st.integers(-2, 2),
    st.sampled_from((None, *STATES)),
    st.sampled_from((None, None, *STATES)),
    st.booleans(),
)
_init = st.sampled_from((NEG_INF, Fraction(0), Fraction(1, 2), Fraction(-1)))


def _build(terms_per_state, with_rate: bool) -> Recursion:
    increments = {}
    for s, terms in zip(STATES, terms_per_state, strict=True):
        pieces = []
        for half, carried, gate, uses_rate in terms:
            coeffs = {carried: 1} if carried else {}
            if with_rate and uses_rate:
                coeffs["r"] = 1
            pieces.append(Term(Affine.make(coeffs, Fraction(half, 2)), frozenset({gate} - {None})))
        increments[s] = Expr(pieces)
    derived = {
        "total": Expr.symbol("u") + Expr.symbol("v"),
        "cross": Expr.symbol("Delta_u") + Expr.symbol("w_prev"),
    }
    return Recursion("random", ("r",) if with_rate else (), increments, derived)


recursions = st.lists(st.lists(_term, max_size=2), min_size=3, max_size=3)
inits = st.tuples(_init, _init, _init).map(lambda v: dict(zip(STATES, v, strict=True)))


def iterate_directly(terms_per_state, init, steps: int) -> list[dict]:
    """Plain unrolling of the drawn terms in integer halves (None is -inf): independent of the
    engine, and fast."""
    values = {s: None if v is NEG_INF else int(2 * v) for s, v in init.items()}
    history = [values]
    for _ in range(steps):
        new = dict(values)
        for s, terms in zip(STATES, terms_per_state, strict=True):
            for half, carried, gate, _ in terms:
                if gate is not None and values[gate] is None:
                    continue  # a normalised gradient with a zero factor
                if carried is not None and values[carried] is None:
                    continue
                total = half + (values[carried] if carried is not None else 0)
                if new[s] is None or total > new[s]:
                    new[s] = total
        values = new
        history.append(values)
    return history


def exponents(halves: dict) -> dict:
    return {s: NEG_INF if v is None else Fraction(v, 2) for s, v in halves.items()}


@given(recursions, inits)
def test_steady_state_and_growth_match_direct_iteration(terms, init):
    # Edge weights are multiples of 1/2 with |w| <= 1 on 3 states, initial values in [-1, 1/2]:
    # any bounded value lies in [-4, 7/2] and a positive cycle gains >= 1/2 every <= 3 steps, so a
    # growing quantity has overtaken its bounded part and keeps rising well before HORIZON/2.
    rec = _build(terms, with_rate=False)
    steady = rec.steady_state(init)
    halves = iterate_directly(terms, init, HORIZON)
    settled = rec.settling_steps(init)
    history = {t: exponents(halves[t]) for t in (settled, HORIZON // 2, HORIZON)}
    for s in STATES:
        if steady[s].growing.is_empty():
            assert history[settled][s] == history[HORIZON][s] == steady[s].value.constant_value()
        else:
            assert history[HORIZON][s] > history[HORIZON // 2][s]
    unrolled = rec.iterate(init, settled)
    assert {s: unrolled[-1].values[s].constant_value() for s in STATES} == history[settled]


@given(recursions, inits, st.integers(-6, 6))
def test_symbolic_steady_state_agrees_with_fixed_rate(terms, init, half):
    rate = Fraction(half, 2)
    symbolic = _build(terms, with_rate=True).steady_state(init)
    fixed = _build(terms, with_rate=True).bind({"r": rate}).steady_state(init)
    for q, s in symbolic.items():
        grows = s.growing.contains({"r": rate})
        assert grows == (not fixed[q].growing.is_empty())
        if not grows:
            assert s.value.evaluate({"r": rate}) == fixed[q].value.constant_value()


GRID = [Fraction(k, 2) for k in range(-4, 3)]  # -2, -3/2, ..., 1: every regime boundary


@pytest.mark.parametrize("model", ["adam", "gd-linear"])
@pytest.mark.parametrize("init", ["A", "B"])
def test_model_regions_agree_with_point_predictions(model, init):
    d = derive(model, init)
    for eta_A in GRID:
        for eta_B in GRID:
            p = predict(model, init, eta_A=eta_A, eta_B=eta_B)
            point = {"eta_A": eta_A, "eta_B": eta_B}
            for q, s in d.steady.items():
                if s.growing.contains(point):
                    assert p.exponents[q] == GROWING, (q, point)
                else:
                    assert p.exponents[q] == s.value.evaluate(point), (q, point)
            for name, where in d.conditions.items():
                assert p.conditions[name] == where.contains(point), (name, point)


def _gd_directly(init: str, eta_a: Fraction, eta_b: Fraction, steps: int):
    """LoRA+ App. A's recursion for the linear model, written out by hand, with the residual
    f − y of exponent max(γ[f], 0) in both gradients."""
    b, ax = (NEG_INF, Fraction(0)) if init == "A" else (Fraction(0), NEG_INF)
    out = [(b, ax)]
    for _ in range(steps):
        residual = max(b + ax, Fraction(0))
        b, ax = max(b, eta_b + ax + residual), max(ax, eta_a + b + 1 + residual)
        out.append((b, ax))
    return out


@pytest.mark.parametrize("init", ["A", "B"])
def test_gd_linear_trajectory_and_growth_match_the_hand_written_recursion(init):
    for eta_a in GRID:
        for eta_b in GRID:
            p = predict("gd-linear", init, eta_A=eta_a, eta_B=eta_b, steps=6)
            direct = _gd_directly(init, eta_a, eta_b, 60)
            assert [(s["b"], s["aTx"]) for s in p.trajectory] == direct[:7]
            grows = direct[60][0] > direct[30][0]
            assert (p.exponents["b"] == GROWING) == grows
            assert (p.exponents["f"] == GROWING) == grows


def test_steady_state_rejects_a_fractional_multiplicity():
    rec = Recursion("root", (), {"u": Fraction(1, 2) * Expr.symbol("u")})
    with pytest.raises(ValueError, match="positive integer multiplicities"):
        rec.steady_state({"u": 0})


@pytest.mark.parametrize(
    ("start", "expected"), [(-1, None), (0, None), (Fraction(1, 2), "geometric")]
)
def test_a_squared_state_grows_geometrically_exactly_when_its_exponent_is_positive(start, expected):
    rec = Recursion("square", (), {"u": 2 * Expr.symbol("u")})
    steady = rec.steady_state({"u": start})["u"]
    assert steady.growth_kind() == expected
    values = [s.values["u"].constant_value() for s in rec.iterate({"u": start}, 4)]
    if expected:
        assert values == [start * 2**t for t in range(5)]
    else:
        assert values == [start] * 5 and steady.value == start


def test_recursion_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown"):
        Recursion("typo", ("eta",), {"u": Expr.symbol("eta") + Expr.symbol("v")})


# -- updates that multiply exponents --------------------------------------------------------------
# A monomial: (constant in halves, {state: multiplicity 1 or 2} on at most two states, gate).
_monomial = st.tuples(
    st.integers(-2, 2),
    st.dictionaries(st.sampled_from(STATES), st.integers(1, 2), max_size=2),
    st.sampled_from((None, None, *STATES)),
)
polynomial_recursions = st.lists(st.lists(_monomial, max_size=2), min_size=3, max_size=3)


def _build_polynomial(monomials_per_state) -> Recursion:
    increments = {}
    for s, monomials in zip(STATES, monomials_per_state, strict=True):
        increments[s] = Expr(
            Term(Affine.make(dict(mult), Fraction(half, 2)), frozenset({gate} - {None}))
            for half, mult, gate in monomials
        )
    return Recursion("polynomial", (), increments)


def _iterate_polynomial(monomials_per_state, init, steps: int) -> list[dict]:
    """Plain unrolling in integer halves (None is -inf): k·γ[x] is k·x halves."""
    values = {s: None if v is NEG_INF else int(2 * v) for s, v in init.items()}
    history = [values]
    for _ in range(steps):
        new = dict(values)
        for s, monomials in zip(STATES, monomials_per_state, strict=True):
            for half, mult, gate in monomials:
                if gate is not None and values[gate] is None:
                    continue
                if any(values[v] is None for v in mult):
                    continue
                total = half + sum(k * values[v] for v, k in mult.items())
                if new[s] is None or total > new[s]:
                    new[s] = total
        values = new
        history.append(values)
    return history


@given(polynomial_recursions, inits)
def test_multiplying_updates_settle_or_grow_as_analysed(monomials, init):
    """Bounded states sit at the analysed value from the settling step on; growing ones rise; and
    geometric growth is told apart from the rest by how the increments of two equal windows
    compare (geometric: the later one is many times the earlier; otherwise at most ~2x)."""
    rec = _build_polynomial(monomials)
    steady = rec.steady_state(init)
    horizon = 60
    halves = _iterate_polynomial(monomials, init, horizon)
    settled = rec.settling_steps(init)
    unrolled = rec.iterate(init, settled)
    assert {s: unrolled[-1].values[s].constant_value() for s in STATES} == exponents(
        halves[settled]
    )
    for s in STATES:
        if steady[s].growing.is_empty():
            assert halves[settled][s] == halves[horizon][s]
            assert exponents(halves[horizon])[s] == steady[s].value.constant_value()
            continue
        early = halves[45][s] - halves[30][s]
        late = halves[60][s] - halves[45][s]
        assert late > 0
        if steady[s].growth_kind() == "geometric":
            assert late > 4 * early, (s, early, late)
        else:
            assert late <= 2 * early + 8, (s, steady[s].growth_kind(), early, late)
