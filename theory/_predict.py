"""The public entry points: ``derive``, ``predict``, ``region``, ``predicted_rate_exponent``.

>>> p = predict("adam", "Init[A]", eta_A="-1/2", eta_B="-1/2")
>>> p.exponents["Z_A"], p.exponents["Z_B"], p.conditions["feature_learning"]
(Fraction(1, 2), Fraction(0, 1), True)
>>> p.trajectory[1]["Z_A"], p.trajectory[2]["Z_A"]       # A does not move at step 1 (B_0 = 0)
(Fraction(0, 1), Fraction(1, 2))
>>> print(region("adam", "B", ["stable"], equal_rates=True))
eta <= -1
>>> predicted_rate_exponent("adam", "A"), predicted_rate_exponent("adam", "B")
(Fraction(-1, 2), Fraction(-1, 1))
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

from theory._closed import ClosedForm, fit_closed_form
from theory._exponent import GROWING, NEG_INF, Exponent, ExponentError
from theory._expr import Expr
from theory._models import (
    canonical_condition,
    canonical_init,
    condition_regions,
    conditions_at_step,
    resolve_model,
)
from theory._recursion import Step
from theory._region import Region
from theory._spec import Model
from theory._steady import Steady

__all__ = ["Derivation", "Prediction", "derive", "predict", "predicted_rate_exponent", "region"]

EQUAL_RATE = "eta"
#: Steps past the settling steps on which a closed form is fitted and checked.
CLOSED_HORIZON = 16


def _rate(value: object, name: str) -> Expr:
    if value is None:
        return Expr.symbol(name)
    if isinstance(value, Expr):
        return value
    if isinstance(value, float):
        raise ExponentError(f"{name} = {value!r}: pass an exact exponent (Fraction, int or '-1/2')")
    return Expr.const(value)


@dataclass(frozen=True)
class Derivation:
    """The unrolled recursion (t = 0..steps) with its trace, the exact steady state, and the region
    of rates where each condition holds. Rates may be symbolic. ``spec``: the model itself."""

    model: str
    init: str
    rates: Mapping[str, Expr]
    steps: tuple[Step, ...] = field(repr=False)
    steady: Mapping[str, Steady] = field(repr=False)
    conditions: Mapping[str, Region] = field(repr=False)
    spec: Model | None = field(default=None, repr=False, compare=False)

    def to_markdown(self) -> str:
        from theory._trace import to_markdown

        return to_markdown(self)

    def to_latex(self) -> str:
        from theory._trace import to_latex

        return to_latex(self)

    def to_json(self) -> dict:
        from theory._trace import to_json

        return to_json(self)


@dataclass(frozen=True)
class Prediction:
    """Exact exponents at fixed rates. ``trajectory[t]``: quantity → exponent after update t
    (t = 0 is the initialization; Δ/δ quantities are −∞ there). ``exponents``: the steady state,
    an exponent or ``"growing"``. ``growth``: quantity → ``"linear"``, ``"polynomial"`` or
    ``"geometric"`` for the growing ones. ``conditions``: condition name → bool.
    ``holds_from``: condition → the first step t₀ such that it holds at every step t ≥ t₀ and in
    the steady state (None where it fails in the steady state). ``derivation``: the full trace
    (``.to_markdown()``, ``.to_latex()``)."""

    model: str
    init: str
    eta_A: Exponent
    eta_B: Exponent
    trajectory: tuple[Mapping[str, Exponent], ...] = field(repr=False)
    exponents: Mapping[str, Exponent | str]
    conditions: Mapping[str, bool]
    derivation: Derivation = field(repr=False)
    growth: Mapping[str, str] = field(default_factory=dict)
    holds_from: Mapping[str, int | None] = field(default_factory=dict, repr=False)
    #: quantity → its closed form γ_t = a·q^t + b + c·(−1)^t, for the geometric ones where one
    #: fits (``theory._closed``: checked exactly against every unrolled step it covers).
    closed_forms: Mapping[str, ClosedForm] = field(default_factory=dict, repr=False)


@functools.lru_cache(maxsize=1024)
def _unrolled(spec: Model, init: str, rates: tuple[tuple[str, Expr], ...], steps: int):
    """The bound recursion unrolled for ``steps`` updates (conditions and traces share it)."""
    rec = spec.recursion.bind(dict(rates))
    return rec, rec.iterate(spec.inits[init], steps)


@functools.lru_cache(maxsize=1024)
def _derive_cached(
    spec: Model, init: str, rates: tuple[tuple[str, Expr], ...], steps: int | None
) -> Derivation:
    start = spec.inits[init]
    settle = spec.recursion.settling_steps(start)
    n_steps = settle if steps is None else steps
    free = {v for _, r in rates for v in r.variables}
    if n_steps > settle and len(free) >= 2:  # in one variable the maxima stay short
        _refuse_symbolic_geometric(spec, init, rates, n_steps, settle)
    rec, unrolled = _unrolled(spec, init, rates, max(n_steps, settle))
    steady = rec.steady_state(start)
    conditions = condition_regions(spec, steady, unrolled, dict(rates))
    return Derivation(
        spec.name,
        init,
        MappingProxyType(dict(rates)),
        unrolled[: n_steps + 1],
        steady,
        MappingProxyType(conditions),
        spec,
    )


def _refuse_symbolic_geometric(spec: Model, init: str, rates, n_steps: int, settle: int) -> None:
    """Where exponents multiply (geometric growth), a derivation in two or more free rates
    doubles its work every step: beyond the settling steps it is refused at once, in one line."""
    rec = spec.recursion.bind(dict(rates))
    steady = rec.steady_state(spec.inits[init])
    where = [str(s.kinds["geometric"]) for s in steady.values() if "geometric" in s.kinds]
    if where:
        raise ExponentError(
            f"{spec.name}, Init[{init}] with symbolic rates: exponents multiply where "
            f"{where[0]} (geometric growth), so every symbolic step multiplies the work; at most "
            f"{settle} steps (the default, enough for the steady state), not {n_steps}: "
            "fix the rates to unroll further"
        )


def derive(
    model: str | Model,
    init: object,
    *,
    eta_A: object = None,
    eta_B: object = None,
    steps: int | None = None,
    rates: Mapping[str, object] | None = None,
    rank_exponent: object = None,
    multiplier: object = None,
) -> Derivation:
    """Unroll a model (a ``Model`` or a built-in name); an omitted rate stays symbolic
    (``eta_A``, ``eta_B``). ``rates`` gives a model's other rates by name. ``rank_exponent`` κ
    and ``multiplier`` s: the rank r = Θ(n^κ) and the multiplier α·r^(−s) (default: the model's,
    κ = 0 for the built-ins; docs/theory.md §12).

    Pass ``Expr.symbol("eta")`` twice for a symbolic equal rate.
    """
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 0):
        raise ExponentError(f"steps must be a non-negative integer, not {steps!r}")
    spec = resolve_model(model, rank_exponent=rank_exponent, multiplier=multiplier)
    given = {"eta_A": eta_A, "eta_B": eta_B, **(rates or {})}
    unknown = sorted(k for k, v in given.items() if v is not None and k not in spec.rates)
    if unknown:
        raise ExponentError(
            f"{spec.name} has no rate {unknown[0]} (its rates: {', '.join(spec.rates)})"
        )
    bound = tuple((r, _rate(given.get(r), r)) for r in spec.rates)
    return _derive_cached(spec, canonical_init(init, spec), bound, steps)


def predict(
    model: str | Model,
    init: object,
    *,
    eta_A: object,
    eta_B: object,
    steps: int | None = None,
    rates: Mapping[str, object] | None = None,
    rank_exponent: object = None,
    multiplier: object = None,
) -> Prediction:
    """Exact exponents of every quantity for rates η_A = Θ(n^eta_A), η_B = Θ(n^eta_B).

    ``eta_A``/``eta_B``: Fraction, int or exponent strings ("-1/2", "-0.5"); for gd-linear they are
    η_a, η_b. ``steps``: length of the trajectory (default: enough to reach the steady state).
    ``rank_exponent``, ``multiplier``: as for ``derive``.
    """
    if eta_A is None or eta_B is None:
        raise ExponentError("predict needs both rates; use derive() for symbolic rates")
    model = resolve_model(model, rank_exponent=rank_exponent, multiplier=multiplier)
    d = derive(model, init, eta_A=eta_A, eta_B=eta_B, steps=steps, rates=rates)
    if not all(r.is_constant for r in d.rates.values()):
        free = sorted(k for k, r in d.rates.items() if not r.is_constant)
        raise ExponentError(f"predict needs every rate of {d.model}; give {', '.join(free)}")
    trajectory = tuple(
        MappingProxyType({q: v.constant_value() for q, v in step.values.items()})
        for step in d.steps
    )
    exponents = MappingProxyType(
        {
            q: GROWING if not s.growing.is_empty() else s.value.constant_value()
            for q, s in d.steady.items()
        }
    )
    growth = MappingProxyType(
        {q: s.growth_kind() for q, s in d.steady.items() if not s.growing.is_empty()}
    )
    conditions = MappingProxyType({k: not r.is_empty() for k, r in d.conditions.items()})
    geometric = [q for q, kind in growth.items() if kind == "geometric"]
    return Prediction(
        d.model,
        d.init,
        d.rates["eta_A"].constant_value() if "eta_A" in d.rates else NEG_INF,
        d.rates["eta_B"].constant_value() if "eta_B" in d.rates else NEG_INF,
        trajectory,
        exponents,
        conditions,
        d,
        growth,
        MappingProxyType(_holds_from(d)),
        MappingProxyType(_closed_forms(d, geometric)) if geometric else MappingProxyType({}),
    )


def _closed_forms(d: Derivation, quantities: list[str]) -> dict[str, ClosedForm]:
    """Closed forms of the geometric quantities, fitted and checked on at least ``CLOSED_HORIZON``
    steps past the settling steps (or on all the steps asked for, if more)."""
    spec = d.spec
    settle = spec.recursion.settling_steps(spec.inits[d.init])
    horizon = max(settle + CLOSED_HORIZON, len(d.steps) - 1)
    _, steps = _unrolled(spec, d.init, tuple(d.rates.items()), horizon)
    out = {}
    for q in quantities:
        values = [step.values[q] for step in steps]
        exact = [v.constant_value() if not v.is_neg_inf else None for v in values]
        form = fit_closed_form(exact)
        if form is not None:
            out[q] = form
    return out


def _holds_from(d: Derivation) -> dict[str, int | None]:
    """At fixed rates: for each condition that holds, the first step from which it holds at every
    step (its comparisons judged at that step's values) and in the steady state."""
    spec = d.spec
    rates = tuple(d.rates.items())
    settle = spec.recursion.settling_steps(spec.inits[d.init])
    _, steps = _unrolled(spec, d.init, rates, max(settle, len(d.steps) - 1))
    # ``every_step_from(t0, c)`` is not vacuously true before t0 here: a condition "holds from"
    # the first step where its content holds (so it never starts before a weaker condition).
    at_step = [conditions_at_step(spec, step, dict(d.rates), vacuous=False) for step in steps]
    out: dict[str, int | None] = {}
    for name, where in d.conditions.items():
        if where.is_empty():
            out[name] = None
            continue
        first = len(steps)
        while first > 0 and at_step[first - 1][name]:
            first -= 1
        out[name] = first
    return out


def region(
    model: str | Model,
    init: object,
    conditions: Iterable[str],
    *,
    equal_rates: bool = False,
    rank_exponent: object = None,
    multiplier: object = None,
) -> Region:
    """The exact region of (eta_A, eta_B), or of ``eta`` with ``equal_rates``, where every condition
    holds in the steady state (at rank exponent κ and multiplier s, as for ``derive``)."""
    spec = resolve_model(model, rank_exponent=rank_exponent, multiplier=multiplier)
    names = [canonical_condition(c, spec) for c in conditions]
    if not names:
        raise ExponentError("give at least one condition")
    if equal_rates:
        eta = Expr.symbol(EQUAL_RATE)
        d = derive(spec, init, eta_A=eta, eta_B=eta)
    else:
        d = derive(spec, init)
    out = Region.universe()
    for name in names:
        out = out & d.conditions[name]
    return out


def predicted_rate_exponent(
    model: str | Model, init: object, *, rank_exponent: object = None, multiplier: object = None
) -> Fraction:
    """The exponent c of the equal rate η = Θ(n^c) at which the model learns features, from the
    region engine (the feature-learning region at equal rates must be one point); at rank
    exponent κ and multiplier s as for ``derive``.

    >>> predicted_rate_exponent("adam", "A", rank_exponent="1/2", multiplier=0)
    Fraction(-3, 4)
    """
    spec = resolve_model(model, rank_exponent=rank_exponent, multiplier=multiplier)
    where = region(spec, init, ["feature_learning"], equal_rates=True)
    intervals = where.intervals(EQUAL_RATE)
    if len(intervals) == 1:
        lo, _, hi, _ = intervals[0]
        if lo is not None and lo == hi:
            return lo
    raise ExponentError(
        f"{spec.name} with Init[{canonical_init(init, spec)}] learns features at equal rates "
        f"where {where}, not at a single exponent"
    )
