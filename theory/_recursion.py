"""Declarative max-plus recursions over named quantities, iterated exactly, with a derivation trace.

A ``Recursion`` states, for each *state* quantity X, the exponent of its one-step increment in terms
of the previous step (``X_t = X_{t−1} + increment``, so γ[X_t] = max(γ[X_{t−1}], γ[increment])), and
*derived* quantities built from the current state (``X``), the previous state (``X_prev``), the
increment (``Delta_X``) and earlier derived quantities. Initial exponents come from the
initialization; the rates are free symbols or fixed exponents.

``iterate`` unrolls it step by step (t = 0..T), recording a trace. ``steady_state`` finds what the
recursion settles to for t → ∞ without unrolling forever: the increments are a max-plus linear
system x_t = M ⊗ x_{t−1} ⊕ c, whose orbit stays bounded iff every cycle of M reachable from the
initial support has weight ≤ 0. Each quantity gets an exact expression (valid where it is bounded)
and the exact region of rates where it grows without bound in t.

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

from theory._affine import Affine
from theory._exponent import ExponentError
from theory._expr import Expr, Term
from theory._parse import parse_expr
from theory._region import Region

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


class Steady(NamedTuple):
    """Steady state of one quantity: ``value`` wherever it is bounded in t; ``growing`` is the exact
    region of rates where it grows without bound."""

    value: Expr
    growing: Region


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
        for name, inc in self.increments.items():
            unknown = inc.variables - states - rates
            if unknown:
                raise ExponentError(f"increment of {name} uses unknown {sorted(unknown)}")
        known = {*states, *(f"{s}_prev" for s in states), *(f"Delta_{s}" for s in states), *rates}
        for name, expr in self.derived.items():
            unknown = expr.variables - known
            if unknown:
                raise ExponentError(f"derived {name} uses unknown {sorted(unknown)}")
            known.add(name)

    @property
    def states(self) -> tuple[str, ...]:
        return tuple(self.increments)

    @property
    def quantities(self) -> tuple[str, ...]:
        return self.order

    def bind(self, rates: Mapping[str, object]) -> Recursion:
        """Fix some rate exponents (exact values or expressions in other symbols). The stated
        formulas stay available (``source``) so that traces show the rules, not their values."""
        env = {k: Expr.lift(v) for k, v in rates.items() if k in self.rates}
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
        old = {s: prev.values[s] for s in self.states}
        env: dict[str, Expr] = {}
        trace: list[TraceLine] = []
        for s in self.states:
            inc = self.increments[s].substitute(old)
            closed = [
                g for term in self.increments[s].terms for g in term.gate if old[g].is_neg_inf
            ]
            note = self.notes.get(s, "")
            if closed and inc.is_neg_inf:
                why = " and ".join(f"{g}_{t - 1} = 0" for g in sorted(set(closed)))
                note = f"{why}: the normalised gradient is exactly 0, so {s} does not move"
            inputs = self._inputs(f"Delta_{s}", old)
            trace.append(TraceLine(f"Delta_{s}", t, self.rule(f"Delta_{s}"), inputs, inc, note))
            env[s] = old[s] | inc
            env[f"{s}_prev"] = old[s]
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
        the support settles within #states steps, values within #states more (walks longer than
        the number of nodes contain a cycle, and bounded cycles weigh ≤ 0)."""
        return 2 * len(self.states) + 1

    # -- steady state -------------------------------------------------------------------------
    def steady_state(self, init: Mapping[str, object]) -> Mapping[str, Steady]:
        """Exact steady state of every quantity (see the module docstring)."""
        start = {s: Expr.lift(init[s]) for s in self.states}
        support = _support(self.increments, {s for s, v in start.items() if not v.is_neg_inf})
        edges, sources = _graph(self.increments, support, start)
        cycles = _simple_cycles(edges, support)
        reach = _reachability(edges, support)
        values: dict[str, Expr] = {}
        growth: dict[str, Region] = {}
        for s in self.states:
            values[s] = _best_simple_paths(edges, sources, s) if s in support else Expr.neg_inf()
            growth[s] = Region.empty()
            for cycle_nodes, weight in cycles:
                if any(s in reach[c] for c in cycle_nodes):
                    growth[s] = growth[s] | Region.where(weight, ">")
        out: dict[str, Steady] = {s: Steady(values[s], growth[s]) for s in self.states}
        env: dict[str, Expr] = {}
        for s in self.states:
            inc = self.increments[s].substitute(values)
            env[s] = values[s]
            env[f"{s}_prev"] = values[s]
            env[f"Delta_{s}"] = inc
            out[f"Delta_{s}"] = Steady(inc, _growth_of(self.increments[s], values, out))
            out[f"{s}_prev"] = out[s]
        for name, expr in self.derived.items():
            env[name] = expr.substitute(env)
            out[name] = Steady(env[name], _growth_of(expr, env, out))
        return MappingProxyType({q: out[q] for q in self.order})


@functools.lru_cache(maxsize=256)
def _carry_rule(state: str) -> Expr:
    """X_t = X_{t−1} + ΔX_t, so γ[X_t] = max(γ[X_{t−1}], γ[ΔX_t])."""
    return Expr.max(Expr.symbol(f"{state}_prev"), Expr.symbol(f"Delta_{state}"))


def _growth_of(expr: Expr, env: Mapping[str, Expr], known: Mapping[str, Steady]) -> Region:
    """A max grows in t where a term that is not identically zero contains a growing quantity."""
    grows = Region.empty()
    for term in expr.terms:
        if Expr((term,)).substitute(env).is_neg_inf:
            continue
        for v in term.affine.variables:
            if v in known:
                grows = grows | known[v].growing
    return grows


def _support(increments: Mapping[str, Expr], start: set[str]) -> frozenset[str]:
    """States that ever become non-zero: a term fires once its gate and its state are finite."""
    support = set(start)
    changed = True
    while changed:
        changed = False
        for s, inc in increments.items():
            if s in support:
                continue
            for term in inc.terms:
                needs = term.gate | (term.affine.variables & increments.keys())
                if needs <= support:
                    support.add(s)
                    changed = True
                    break
    return frozenset(support)


def _graph(increments, support, start):
    """Edges (j → i, weight) of the max-plus matrix on the support, and source values per node."""
    edges: list[tuple[str, str, Affine]] = []
    sources: dict[str, Expr] = {s: start[s] for s in support}
    for i, inc in increments.items():
        if i not in support:
            continue
        for term in inc.terms:
            if not term.gate <= support:
                continue
            states = [(v, c) for v, c in term.affine.coeffs if v in increments]
            rest = Affine.make(
                {v: c for v, c in term.affine.coeffs if v not in increments}, term.affine.const
            )
            if not states:
                sources[i] = sources[i] | Expr((Term(rest),))
            elif len(states) == 1 and states[0][1] == 1:
                edges.append((states[0][0], i, rest))
            else:
                raise ExponentError(
                    f"increment of {i} is not max-plus linear in the states ({inc}); "
                    "steady-state analysis needs each term to carry at most one state, once"
                )
    return edges, sources


def _simple_cycles(edges, nodes) -> list[tuple[tuple[str, ...], Affine]]:
    """Every simple cycle (self-loops included) with its total weight; parallel edges give
    separate cycles. Exponential in general, instant for the handful of quantities here."""
    order = sorted(nodes)
    out = []

    def extend(start: str, node: str, path: list[str], weight: Affine) -> None:
        for j, i, w in edges:
            if j != node:
                continue
            if i == start:
                out.append((tuple(path), weight + w))
            elif i not in path and order.index(i) > order.index(start):
                extend(start, i, [*path, i], weight + w)

    for start in order:
        extend(start, start, [start], Affine.constant(0))
    return out


def _reachability(edges, nodes) -> dict[str, set[str]]:
    reach = {n: {n} for n in nodes}
    changed = True
    while changed:
        changed = False
        for j, i, _ in edges:
            for n in nodes:
                if j in reach[n] and i not in reach[n]:
                    reach[n].add(i)
                    changed = True
    return reach


def _best_simple_paths(edges, sources: Mapping[str, Expr], target: str) -> Expr:
    """max over sources s and simple paths s → target of source value + path weight."""
    terms: list[Expr] = []

    def walk(node: str, visited: frozenset[str], weight: Affine) -> None:
        terms.append(sources.get(node, Expr.neg_inf()) + Expr((Term(weight),)))
        for j, i, w in edges:
            if i == node and j not in visited:
                walk(j, visited | {j}, weight + w)

    walk(target, frozenset({target}), Affine.constant(0))
    return Expr.max(*terms)
