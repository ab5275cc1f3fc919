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

from theory._exponent import GROWING, Exponent, ExponentError
from theory._expr import Expr
from theory._models import (
    CONDITIONS,
    MODELS,
    canonical_condition,
    canonical_init,
    canonical_model,
)
from theory._recursion import Steady, Step
from theory._region import Region

__all__ = ["Derivation", "Prediction", "derive", "predict", "predicted_rate_exponent", "region"]

EQUAL_RATE = "eta"


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
    of rates where each condition holds. Rates may be symbolic."""

    model: str
    init: str
    rates: Mapping[str, Expr]
    steps: tuple[Step, ...] = field(repr=False)
    steady: Mapping[str, Steady] = field(repr=False)
    conditions: Mapping[str, Region] = field(repr=False)

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
    an exponent or ``"growing"``. ``conditions``: condition name → bool, judged in the steady
    state. ``derivation``: the full trace (``.to_markdown()``, ``.to_latex()``)."""

    model: str
    init: str
    eta_A: Exponent
    eta_B: Exponent
    trajectory: tuple[Mapping[str, Exponent], ...] = field(repr=False)
    exponents: Mapping[str, Exponent | str]
    conditions: Mapping[str, bool]
    derivation: Derivation = field(repr=False)


@functools.lru_cache(maxsize=1024)
def _derive_cached(
    model: str, init: str, eta_A: Expr, eta_B: Expr, steps: int | None
) -> Derivation:
    spec = MODELS[model]
    rec = spec.recursion.bind({"eta_A": eta_A, "eta_B": eta_B})
    start = spec.inits[init]
    n_steps = rec.settling_steps(start) if steps is None else steps
    unrolled = rec.iterate(start, n_steps)
    steady = rec.steady_state(start)
    conditions = {name: build(spec, steady) for name, (build, _) in CONDITIONS.items()}
    return Derivation(
        model,
        init,
        MappingProxyType({"eta_A": eta_A, "eta_B": eta_B}),
        unrolled,
        steady,
        MappingProxyType(conditions),
    )


def derive(
    model: str,
    init: object,
    *,
    eta_A: object = None,
    eta_B: object = None,
    steps: int | None = None,
) -> Derivation:
    """Unroll a built-in model; an omitted rate stays symbolic (``eta_A``, ``eta_B``).

    Pass ``Expr.symbol("eta")`` twice for a symbolic equal rate.
    """
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 0):
        raise ExponentError(f"steps must be a non-negative integer, not {steps!r}")
    return _derive_cached(
        canonical_model(model),
        canonical_init(init),
        _rate(eta_A, "eta_A"),
        _rate(eta_B, "eta_B"),
        steps,
    )


def predict(
    model: str, init: object, *, eta_A: object, eta_B: object, steps: int | None = None
) -> Prediction:
    """Exact exponents of every quantity for rates η_A = Θ(n^eta_A), η_B = Θ(n^eta_B).

    ``eta_A``/``eta_B``: Fraction, int or exponent strings ("-1/2", "-0.5"); for gd-linear they are
    η_a, η_b. ``steps``: length of the trajectory (default: enough to reach the steady state).
    """
    if eta_A is None or eta_B is None:
        raise ExponentError("predict needs both rates; use derive() for symbolic rates")
    d = derive(model, init, eta_A=eta_A, eta_B=eta_B, steps=steps)
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
    conditions = MappingProxyType({k: not r.is_empty() for k, r in d.conditions.items()})
    return Prediction(
        d.model,
        d.init,
        d.rates["eta_A"].constant_value(),
        d.rates["eta_B"].constant_value(),
        trajectory,
        exponents,
        conditions,
        d,
    )


def region(
    model: str, init: object, conditions: Iterable[str], *, equal_rates: bool = False
) -> Region:
    """The exact region of (eta_A, eta_B), or of ``eta`` with ``equal_rates``, where every condition
    holds in the steady state."""
    names = [canonical_condition(c) for c in conditions]
    if not names:
        raise ExponentError("give at least one condition")
    if equal_rates:
        eta = Expr.symbol(EQUAL_RATE)
        d = derive(model, init, eta_A=eta, eta_B=eta)
    else:
        d = derive(model, init)
    out = Region.universe()
    for name in names:
        out = out & d.conditions[name]
    return out


def predicted_rate_exponent(model: str, init: object) -> Fraction:
    """The exponent c of the equal rate η = Θ(n^c) at which the model learns features, from the
    region engine (the feature-learning region at equal rates must be one point)."""
    where = region(model, init, ["feature_learning"], equal_rates=True)
    intervals = where.intervals(EQUAL_RATE)
    if len(intervals) == 1:
        lo, _, hi, _ = intervals[0]
        if lo is not None and lo == hi:
            return lo
    raise ExponentError(
        f"{model} with Init[{canonical_init(init)}] learns features at equal rates where {where}, "
        "not at a single exponent"
    )
