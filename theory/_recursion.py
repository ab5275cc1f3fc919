"""Declarative max-plus recursions over named quantities, iterated exactly, with a derivation trace.

A ``Recursion`` states, for each *state* quantity X, the exponent of its one-step increment in terms
of the previous step (``X_t = X_{t−1} + increment``, so γ[X_t] = max(γ[X_{t−1}], γ[increment])), and
*derived* quantities built from the current state (``X``), the previous state (``X_prev``), the
increment (``Delta_X``) and earlier derived quantities. Initial exponents come from the
initialization; the rates are free symbols or fixed exponents.

A derived quantity of the current state alone (f = b + aTx, the residual f − y = max(0, f)) is a
*state function*: increments may read it, at the previous step, like a state. An increment may
use a state more than once (``eta_B + b + 2*aTx`` is the exponent of η_b·b·(aᵀx)²).

``iterate`` unrolls it step by step (t = 0..T), recording a trace. ``steady_state`` finds what the
recursion settles to for t → ∞ without unrolling forever (``theory._steady``): each quantity gets
an exact expression (valid where it is bounded), the exact region of rates where it grows without
bound in t, and how it grows there (linearly, polynomially or geometrically in t).

>>> from theory._expr import Expr
>>> eta = Expr.symbol("eta")
>>> toy = Recursion(
...     name="toy",
...     rates=("eta",),
...     increments={"u": eta + Expr.symbol("v"), "v": "eta + u"},  # an Expr, or text
...     derived={"w": "u + v"},
... )
>>> steady = toy.steady_state({"u": 0, "v": "-inf"})
>>> print(steady["v"].value, "| grows where", steady["v"].growing)
eta | grows where eta > 0
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

from theory._exponent import ExponentError
from theory._expr import Expr
from theory._parse import parse_expr
from theory._region import Region
from theory._steady import GROWTH_KINDS, Steady, analyse

__all__ = ["Recursion", "Steady", "Step", "TraceLine"]


class TraceLine(NamedTuple):
    """One rule applied at step ``t``: ``quantity = rule``, with the rule's inputs and the result.

    ``rule`` is the formula as stated (symbolic rates, variables named as in the recursion: for an
    increment, the states are those of step t − 1); ``inputs`` maps each of its variables to the
    value used at this step; ``value`` is the canonical result.
    """

    quantity: str
    t: int
    rule: Expr | None  # None for an initial value
    inputs: tuple[tuple[str, Expr], ...]
    value: Expr
    note: str = ""


class Step(NamedTuple):
    """The state of the recursion after update t (t = 0: the initialization)."""

    t: int
    values: Mapping[str, Expr]
    trace: tuple[TraceLine, ...]


@dataclass(frozen=True)
class Recursion:
    """A system of max-plus updates; see the module docstring. Immutable."""

    name: str
    rates: tuple[str, ...]
    increments: Mapping[str, Expr]
    derived: Mapping[str, Expr] = field(default_factory=dict)
    order: tuple[str, ...] = ()  # display order of quantity names (default: states, derived)
    notes: Mapping[str, str] = field(default_factory=dict)  # why each rule holds (for traces)
    source: Recursion | None = field(default=None, compare=False, repr=False)
    bound: Mapping[str, Expr] = field(default_factory=dict, compare=False, repr=False)
    #: The increments with state functions written out in the states (set in __post_init__).
    dynamics: Mapping[str, Expr] = field(init=False, compare=False, repr=False)
    _state_functions: Mapping[str, Expr] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Formulas may be given as text ("eta_A + 1 + support(B)"): see theory.parse_expr.
        for name in ("increments", "derived"):
            exprs = {
                k: parse_expr(v) if isinstance(v, str) else v
                for k, v in getattr(self, name).items()
            }
            object.__setattr__(self, name, MappingProxyType(exprs))
        object.__setattr__(self, "bound", MappingProxyType(dict(self.bound)))
        if not self.order:
            object.__setattr__(self, "order", (*self.increments, *self.derived))
        states, rates = set(self.increments), set(self.rates)
        # A derived quantity of the current state only (f = b + aTx, f − y = max(0, f)) is a
        # *state function*: increments may read it, at the previous step, like a state.
        functions: dict[str, Expr] = {}
        known = {*states, *(f"{s}_prev" for s in states), *(f"Delta_{s}" for s in states), *rates}
        clash = sorted(set(self.derived) & known)
        if clash:
            raise _field_error(f"derived.{clash[0]}", "reuses the name of a state or rate")
        for name, expr in self.derived.items():
            unknown = expr.variables - known
            if unknown:
                raise _field_error(f"derived.{name}", f"uses unknown {', '.join(sorted(unknown))}")
            known.add(name)
            if expr.variables <= states | rates | functions.keys():
                functions[name] = expr.substitute(functions)
        object.__setattr__(self, "_state_functions", MappingProxyType(functions))
        for name, inc in self.increments.items():
            unknown = inc.variables - states - rates - functions.keys()
            if unknown:
                raise _field_error(
                    f"increments.{name}", f"uses unknown {', '.join(sorted(unknown))}"
                )
        dynamics = {k: v.substitute(functions) for k, v in self.increments.items()}
        object.__setattr__(self, "dynamics", MappingProxyType(dynamics))

    @property
    def states(self) -> tuple[str, ...]:
        return tuple(self.increments)

    @property
    def quantities(self) -> tuple[str, ...]:
        return self.order

    def bind(self, rates: Mapping[str, object]) -> Recursion:
        """Fix some rate exponents (exact values or expressions in other symbols). The stated
        formulas stay available (``source``) so that traces show the rules, not their values."""
        env = {k: _formula(v) for k, v in rates.items() if k in self.rates}
        free = tuple(
            dict.fromkeys(s for r in self.rates for s in (env[r].variables if r in env else {r}))
        )
        return Recursion(
            self.name,
            free,
            {k: v.substitute(env) for k, v in self.increments.items()},
            {k: v.substitute(env) for k, v in self.derived.items()},
            self.order,
            self.notes,
            source=self.source or self,
            bound=MappingProxyType({**self.bound, **env}),
        )

    def rule(self, quantity: str) -> Expr:
        """The stated formula of a derived quantity or of ``Delta_<state>``."""
        stated = self.source or self
        if quantity.startswith("Delta_") and quantity[6:] in stated.increments:
            return stated.increments[quantity[6:]]
        if quantity in stated.increments:
            return _carry_rule(quantity)
        return stated.derived[quantity]

    # -- unrolling ----------------------------------------------------------------------------
    def initial(self, init: Mapping[str, object]) -> Step:
        values = {s: Expr.lift(init[s]) for s in self.states}
        trace = [TraceLine(s, 0, None, (), values[s], "initialization") for s in self.states]
        env: dict[str, Expr] = dict(values)
        for s in self.states:
            env[f"{s}_prev"] = Expr.neg_inf()
            env[f"Delta_{s}"] = Expr.neg_inf()
        for name, expr in self.derived.items():
            uses_step = any(v.endswith("_prev") or v.startswith("Delta_") for v in expr.variables)
            env[name] = Expr.neg_inf() if uses_step else expr.substitute(env)
            note = "an update term: defined for t >= 1" if uses_step else ""
            inputs = () if uses_step else self._inputs(name, env)
            trace.append(TraceLine(name, 0, self.rule(name), inputs, env[name], note))
        return Step(0, MappingProxyType({q: env[q] for q in self.order}), tuple(trace))

    def _inputs(self, quantity: str, env: Mapping[str, Expr]) -> tuple[tuple[str, Expr], ...]:
        names = sorted(self.rule(quantity).variables)
        return tuple(
            (v, env[v] if v in env else self.bound[v]) for v in names if v in env or v in self.bound
        )

    def advance(self, prev: Step) -> Step:
        t = prev.t + 1
        states = {s: prev.values[s] for s in self.states}
        old = {**states, **{k: f.substitute(states) for k, f in self._state_functions.items()}}
        env: dict[str, Expr] = {}
        trace: list[TraceLine] = []
        for s in self.states:
            inc = self.dynamics[s].substitute(states)
            closed = [
                g for term in self.dynamics[s].terms for g in term.gate if states[g].is_neg_inf
            ]
            note = self.notes.get(s, "")
            if closed and inc.is_neg_inf:
                why = " and ".join(f"{g}_{t - 1} = 0" for g in sorted(set(closed)))
                note = f"{why}: the normalised gradient is exactly 0, so {s} does not move"
            inputs = self._inputs(f"Delta_{s}", old)
            trace.append(TraceLine(f"Delta_{s}", t, self.rule(f"Delta_{s}"), inputs, inc, note))
            env[s] = states[s] | inc
            env[f"{s}_prev"] = states[s]
            env[f"Delta_{s}"] = inc
            trace.append(TraceLine(s, t, self.rule(s), self._inputs(s, env), env[s]))
        for name, expr in self.derived.items():
            env[name] = expr.substitute(env)
            inputs = self._inputs(name, env)
            trace.append(
                TraceLine(name, t, self.rule(name), inputs, env[name], self.notes.get(name, ""))
            )
        return Step(t, MappingProxyType({q: env[q] for q in self.order}), tuple(trace))

    def iterate(self, init: Mapping[str, object], steps: int) -> tuple[Step, ...]:
        """Steps t = 0..steps."""
        if steps < 0:
            raise ExponentError(f"steps must be >= 0, not {steps}")
        out = [self.initial(init)]
        for _ in range(steps):
            out.append(self.advance(out[-1]))
        return tuple(out)

    def settling_steps(self, init: Mapping[str, object]) -> int:
        """A number of updates after which every bounded quantity has reached its steady value:
        the support settles within #states steps, values within #states more (the limit is the
        value of a derivation tree of depth <= #states; see ``theory._steady``)."""
        return 2 * len(self.states) + 1

    # -- steady state -------------------------------------------------------------------------
    def steady_state(self, init: Mapping[str, object]) -> Mapping[str, Steady]:
        """Exact steady state of every quantity (see ``theory._steady``)."""
        start = {s: Expr.lift(init[s]) for s in self.states}
        out: dict[str, Steady] = dict(analyse(self.dynamics, start))
        values = {s: out[s].value for s in self.states}
        env: dict[str, Expr] = {}
        for s in self.states:
            env[s] = values[s]
            env[f"{s}_prev"] = values[s]
            out[f"{s}_prev"] = out[s]
        for name in self._state_functions:
            env[name] = self.derived[name].substitute(env)
            out[name] = derived_steady(self.derived[name], env, out)
        for s in self.states:
            env[f"Delta_{s}"] = self.dynamics[s].substitute(values)
            out[f"Delta_{s}"] = derived_steady(self.dynamics[s], values, out)
        for name, expr in self.derived.items():
            if name not in self._state_functions:
                env[name] = expr.substitute(env)
                out[name] = derived_steady(expr, env, out)
        return MappingProxyType({q: out[q] for q in self.order})


def _field_error(field_: str, problem: str) -> ExponentError:
    """An error about one formula, tagged with its field (a spec reports it by name)."""
    kind, name = field_.split(".", 1)
    err = ExponentError(f"{'increment of' if kind == 'increments' else 'derived'} {name} {problem}")
    err.field = field_  # type: ignore[attr-defined]
    return err


def _formula(value: object) -> Expr:
    """A rate's value: an exponent, an ``Expr``, or a formula as text (``"eta"``, ``"-1/2"``)."""
    if isinstance(value, str):
        try:
            return Expr.const(value)
        except ExponentError:
            return parse_expr(value)
    return Expr.lift(value)


@functools.lru_cache(maxsize=256)
def _carry_rule(state: str) -> Expr:
    """X_t = X_{t−1} + ΔX_t, so γ[X_t] = max(γ[X_{t−1}], γ[ΔX_t])."""
    return Expr.max(Expr.symbol(f"{state}_prev"), Expr.symbol(f"Delta_{state}"))


def derived_steady(expr: Expr, env: Mapping[str, Expr], known: Mapping[str, Steady]) -> Steady:
    """A max grows in t where a term that is not identically zero contains a growing quantity,
    and grows as fast as the fastest of them."""
    inputs = []
    for term in expr.terms:
        if Expr((term,)).substitute(env).is_neg_inf:
            continue
        inputs += [known[v] for v in term.affine.variables if v in known]
    growing = Region.empty()
    for s in inputs:
        growing = growing | s.growing
    kinds: dict[str, Region] = {}
    faster = Region.empty()
    for kind in reversed(GROWTH_KINDS):
        where = Region.empty()
        for s in inputs:
            # An input without kinds (a hand-built Steady) grows linearly.
            own = s.kinds if s.kinds else {"linear": s.growing}
            if kind in own:
                where = where | own[kind]
        where = where - faster
        if not where.is_empty():
            kinds[kind] = where
        faster = faster | where
    return Steady(expr.substitute(env), growing, MappingProxyType(kinds))
