"""Property testing the γ rules: hypothesis strategies and the laws the project's own tests check.

A user who states a new recursion (a spec file, docs/theory.md §10) can check it the way the
project checks its built-in models: draw exponents, rates, inits and rank settings, and assert the
laws below. Each law is a plain function that raises ``AssertionError`` with a message naming the
case; use it inside a ``@given`` test (docs/property-testing.md has a worked example).

Strategies (all exact: ``Fraction`` or ``NEG_INF``, never floats):

- ``exponents(finite=False)``: rationals with small denominators, and −∞ unless ``finite``;
- ``affine_exprs(variables)``: tropical polynomials (a max of affine forms) in the variables;
- ``rates(model)``: a mapping rate name → finite exponent, for every rate of a model;
- ``inits(model)``: one of a model's initializations;
- ``rank_settings()``: (κ, s) pairs, κ in [0, 1), s a small rational;
- ``model_specs()``: whole valid model specs (mappings for ``theory.model_from_spec``) with 1-3
  states, increments that multiply states (multiplicity 1-2) and carry Adam-style gates, a derived
  output and conditions.

Laws:

- ``law_semiring(a, b, c, point)``: max-plus laws of expressions, checked at a point;
- ``law_steady_state_is_the_limit(model, init, rates)``: a bounded quantity has reached its
  steady exponent by ``settling_steps`` and stays there; a growing one keeps rising;
- ``law_regions_agree_with_points(model, init, rates)``: every condition's symbolic region contains
  the rates exactly when ``predict`` says the condition holds there;
- ``law_rank_zero_ignores_the_multiplier(model, init, rates, s)``: at κ = 0 the multiplier changes
  nothing (for a model with the rank parameter ``kappa``).

``import theory`` never imports this module (hypothesis is a test dependency);
``import theory.testing`` does.

>>> from hypothesis import given, settings
>>> @settings(max_examples=5, deadline=None)
... @given(rates=rates("adam"), init=inits("adam"))
... def test_adam(rates, init):
...     law_regions_agree_with_points("adam", init, rates)
>>> test_adam()
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from fractions import Fraction

try:
    from hypothesis import strategies as st
except ImportError as err:  # pragma: no cover - hypothesis is a test dependency
    raise ImportError(
        "theory.testing needs hypothesis (pip install hypothesis, or the project's [test] extra)"
    ) from err

from theory._affine import Affine
from theory._exponent import GROWING, NEG_INF
from theory._expr import Expr, Term
from theory._models import RANK_PARAMETER, resolve_model
from theory._predict import derive, predict
from theory._region import Region
from theory._spec import Model

__all__ = [
    "affine_exprs",
    "exponents",
    "inits",
    "law_rank_zero_ignores_the_multiplier",
    "law_regions_agree_with_points",
    "law_semiring",
    "law_steady_state_is_the_limit",
    "model_specs",
    "rank_settings",
    "rates",
]


# -- strategies ---------------------------------------------------------------------------------
def exponents(
    *, finite: bool = False, lo: int = -3, hi: int = 2, denominator: int = 4
) -> st.SearchStrategy:
    """Exact exponents k/denominator in [lo, hi] (and −∞ unless ``finite``)."""
    values = st.integers(lo * denominator, hi * denominator).map(lambda k: Fraction(k, denominator))
    return values if finite else st.one_of(st.just(NEG_INF), values)


_COEFFS = (Fraction(-1), Fraction(0), Fraction(1), Fraction(2), Fraction(1, 2))


def affine_exprs(
    variables: Sequence[str] = ("eta_A", "eta_B"), *, max_terms: int = 3
) -> st.SearchStrategy:
    """A max of up to ``max_terms`` affine forms in ``variables`` (the empty max is −∞)."""
    row = st.tuples(
        st.lists(
            st.integers(0, len(_COEFFS) - 1), min_size=len(variables), max_size=len(variables)
        ),
        st.integers(-6, 6),
    )

    def build(rows) -> Expr:
        return Expr(
            Term(Affine.make(dict(zip(variables, (_COEFFS[i] for i in idx), strict=True)),
                             Fraction(half, 2)))
            for idx, half in rows
        )  # fmt: skip

    return st.lists(row, max_size=max_terms).map(build)


def rates(model: object = "adam", *, lo: int = -3, hi: int = 2) -> st.SearchStrategy:
    """Every rate of ``model`` (a ``Model``, built-in name or spec path) → a finite exponent."""
    names = resolve_model(model).rates
    return st.fixed_dictionaries({name: exponents(finite=True, lo=lo, hi=hi) for name in names})


def inits(model: object = "adam") -> st.SearchStrategy:
    """One of the model's initializations."""
    return st.sampled_from(tuple(resolve_model(model).inits))


def rank_settings() -> st.SearchStrategy:
    """(κ, s): the rank r = Θ(n^κ), κ in [0, 1), and the multiplier α·r^(−s)."""
    kappa = st.integers(0, 7).map(lambda k: Fraction(k, 8))
    s = st.one_of(
        st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(1)]), exponents(finite=True)
    )
    return st.tuples(kappa, s)


_STATES = ("X", "Y", "Z")


@st.composite
def model_specs(draw, *, max_states: int = 3, with_rank: bool | None = None) -> dict:
    """A valid model spec: 1..max_states states, each increment a max of 1-2 monomials (a rate,
    a constant, a state with multiplicity 1 or 2, optionally gated by ``support`` of a state), a
    derived output (the sum of two states, plus κ when the rank parameter is drawn), and the
    conditions ``stable`` (output O(1)), ``moves`` (the first state grows with n) and
    ``stable_and_moving``. Small enough for the exact analysis (at most 4 policies per state)."""
    k = draw(st.integers(1, max_states))
    states = _STATES[:k]
    rank = draw(st.booleans()) if with_rank is None else with_rank
    increments = {}
    for s in states:
        monomials = []
        for _ in range(draw(st.integers(1, 2))):
            parts = [draw(st.sampled_from(["eta_A", "eta_B"]))]
            carried = draw(st.sampled_from((None, *states)))
            if carried:
                parts.append(f"{draw(st.sampled_from(['', '2*']))}{carried}")
            gate = draw(st.sampled_from((None, None, *states)))
            if gate:
                parts.append(f"support({gate})")
            half = draw(st.integers(-2, 2))
            text = " + ".join(parts) + (
                f" {'-' if half < 0 else '+'} {abs(half)}/2" if half else ""
            )
            monomials.append(text)
        increments[s] = monomials[0] if len(monomials) == 1 else f"max({', '.join(monomials)})"
    start = st.sampled_from(["-inf", "0", "-1/2"])
    init_a = {s: draw(start) for s in states}
    init_a[states[0]] = draw(st.sampled_from(["0", "-1/2"]))  # something is non-zero
    output = f"{states[0]} + {states[-1]}" + (" + kappa" if rank else "")
    spec: dict = {
        "name": "drawn",
        "rates": ["eta_A", "eta_B"],
        "inits": {"A": init_a, "B": {s: draw(start) for s in states}},
        "increments": increments,
        "derived": {"out": output},
        "roles": {"output": "out", "internal": states[0]},
        "conditions": {
            "stable": "out <= 0",
            "moves": f"{states[0]} > 0",
            "stable_and_moving": "stable and moves",
        },
    }
    if rank:
        spec["parameters"] = {"kappa": {"default": "0", "at_least": "0", "below": "1"},
                              "s": {"default": "1"}}  # fmt: skip
    return spec


# -- laws ---------------------------------------------------------------------------------------
def law_semiring(a: Expr, b: Expr, c: Expr, point: Mapping[str, Fraction]) -> None:
    """max-plus: ⊕ = max and ⊗ = + commute and associate, ⊗ distributes over ⊕, −∞ is the zero;
    checked both as canonical expressions and numerically at ``point``."""
    at = functools.partial(_value, point=point)
    assert a | b == b | a and a + b == b + a, (a, b)
    assert (a | b) | c == a | (b | c) and (a + b) + c == a + (b + c), (a, b, c)
    assert a + (b | c) == (a + b) | (a + c), (a, b, c)
    assert a | Expr.neg_inf() == a and (a + Expr.neg_inf()).is_neg_inf, a
    assert at(a | b) == max(at(a), at(b)), (a, b, point)
    assert at(a + b) == _plus(at(a), at(b)), (a, b, point)


def _value(e: Expr, point: Mapping[str, Fraction]):
    return e.evaluate(dict(point))


def _plus(x, y):
    return NEG_INF if NEG_INF in (x, y) else x + y


def _predict(model: object, init: str, rates: Mapping[str, object], **kw):
    spec = resolve_model(model)
    given = dict(rates)
    return predict(
        spec, init, eta_A=given.pop("eta_A", 0), eta_B=given.pop("eta_B", 0), rates=given, **kw
    )


def law_steady_state_is_the_limit(
    model: object, init: str, rates: Mapping[str, object], *, horizon: int = 48
) -> None:
    """Unrolled to ``horizon`` steps: a quantity the steady state calls bounded has reached its
    steady exponent by ``settling_steps`` and never leaves it; a growing one is higher at the
    horizon than at the settling step."""
    spec = resolve_model(model)
    settle = spec.recursion.settling_steps(spec.inits[init])
    p = _predict(spec, init, rates, steps=max(horizon, settle + 1))
    for q, steady in p.exponents.items():
        seen = [step[q] for step in p.trajectory[settle:]]
        if steady == GROWING:
            assert seen[-1] > seen[0], f"{q} grows in t but is {seen[0]} → {seen[-1]}"
        else:
            assert all(v == steady for v in seen), f"{q}: steady {steady}, unrolled {seen}"


def law_regions_agree_with_points(model: object, init: str, rates: Mapping[str, object]) -> None:
    """Each condition's exact region (symbolic rates) contains ``rates`` exactly where the
    prediction at those rates says the condition holds."""
    spec = resolve_model(model)
    regions = _regions(spec, init)
    p = _predict(spec, init, rates)
    point = {k: Fraction(v) for k, v in rates.items()}
    for name, where in regions.items():
        assert where.contains(point) == p.conditions[name], (name, str(where), dict(point))


@functools.lru_cache(maxsize=64)
def _regions(spec: Model, init: str) -> Mapping[str, Region]:
    return derive(spec, init).conditions


def law_rank_zero_ignores_the_multiplier(
    model: object, init: str, rates: Mapping[str, object], s: object
) -> None:
    """At rank exponent κ = 0 (r = Θ(1)) the multiplier α·r^(−s) changes no exponent."""
    spec = resolve_model(model)
    if RANK_PARAMETER not in spec.parameter_info:
        return
    base = _predict(resolve_model(spec, rank_exponent=0), init, rates)
    other = _predict(resolve_model(spec, rank_exponent=0, multiplier=s), init, rates)
    assert base.exponents == other.exponents, (dict(base.exponents), dict(other.exponents))
    assert base.conditions == other.conditions
