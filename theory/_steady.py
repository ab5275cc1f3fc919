"""The exact long-run behaviour of x_t = x_{t−1} ⊕ F(x_{t−1}), F a tropical polynomial map.

Each state's increment is a max of *monomials* c(η) + Σ k_j x_j: an affine form in the rates plus
states with positive integer multiplicities (``2*aTx + b`` is the exponent of b·(aᵀx)²). Such an F
is monotone, and the orbit x_t only rises, so each state either settles or grows without bound.

- **Value.** If it settles, the limit x* is reached by a finite iteration: the last monomial to
  raise x*_i used states that had already settled, so x* is the value of a *simple derivation
  tree* (each node picks one monomial of its state, no state twice on a root-to-leaf path), and
  the iteration dominates every such tree. So x*_i = max over simple trees rooted at i: a tropical
  polynomial in the rates, exact (for max-plus linear F these are the simple paths).
- **Boundedness.** The orbit is bounded iff the candidate V = max over simple trees is a
  super-fixed point, F(V) ≤ V (then x_t ≤ V by monotonicity; if not, V is no limit). State i is
  bounded iff that holds on the states upstream of it, so its growth region is the exact union of
  ``T(V) > V_j`` over the monomials T of the upstream states j.
- **Kind of growth.** Where a set of states grows, choose one monomial per state (a *policy*): a
  strongly connected component whose cycle is not a single chain of multiplicity-1 edges (an
  edge ×2, or a monomial fed by two states of the component) multiplies the exponent by its
  spectral radius ρ > 1 every lap: **geometric** growth (γ ∝ ρ^t). A chain of multiplicity-1
  edges fed by another growing state adds it up every lap: **polynomial** (γ ∝ t^d, d ≥ 2).
  Otherwise growth comes from a positive cycle weight: **linear** (γ ∝ t).

>>> from theory._parse import parse_expr
>>> f = {"u": parse_expr("eta + 2*u"), "v": parse_expr("u")}   # u ← max(u, η + 2u)
>>> out = analyse(f, {"u": Expr.const(0), "v": Expr.neg_inf()})
>>> print(out["u"].value, "| grows where", out["u"].growing, "|", dict(out["v"].kinds))
0 | grows where eta > 0 | {'geometric': Region('eta > 0')}
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from theory._affine import Affine
from theory._exponent import ExponentError
from theory._expr import Expr, Term
from theory._region import Region, compare

__all__ = ["GROWTH_KINDS", "Monomial", "Steady", "analyse", "monomials"]

#: The kinds of growth in t, from slowest to fastest.
GROWTH_KINDS = ("linear", "polynomial", "geometric")
_NO_KINDS: Mapping[str, Region] = MappingProxyType({})


class Steady(NamedTuple):
    """Steady state of one quantity: ``value`` wherever it is bounded in t; ``growing`` is the exact
    region of rates where it grows without bound; ``kinds`` splits that region by kind of growth
    (``"linear"``, ``"polynomial"``, ``"geometric"``; kinds that never occur are absent)."""

    value: Expr
    growing: Region
    kinds: Mapping[str, Region] = _NO_KINDS

    def growth_kind(self) -> str | None:
        """The kind of growth at fixed rates (None where the quantity is bounded)."""
        if self.growing.is_empty():
            return None
        for kind in reversed(GROWTH_KINDS):
            where = self.kinds.get(kind)
            if where is not None and not where.is_empty():
                return kind
        return "linear"


class Monomial(NamedTuple):
    """c(η) + Σ k_j x_j: ``rest`` is the affine form in the rates, ``states`` the multiplicities."""

    rest: Affine
    states: tuple[tuple[str, int], ...]


def monomials(
    name: str, increment: Expr, states: frozenset[str]
) -> list[tuple[Monomial, frozenset]]:
    """The monomials of an increment with their gates; refuses a non-integer multiplicity."""
    out = []
    for term in increment.terms:
        carried = []
        for v, k in term.affine.coeffs:
            if v not in states:
                continue
            if k <= 0 or k.denominator != 1:
                raise ExponentError(
                    f"increment of {name} ({increment}) carries {v} with multiplicity {k}: the "
                    "steady-state analysis needs positive integer multiplicities (x², not √x)"
                )
            carried.append((v, int(k)))
        rest = Affine.make(
            {v: k for v, k in term.affine.coeffs if v not in states}, term.affine.const
        )
        out.append((Monomial(rest, tuple(carried)), term.gate & states))
    return out


def analyse(increments: Mapping[str, Expr], start: Mapping[str, Expr]) -> dict[str, Steady]:
    """Steady value, growth region and kinds of growth of every state (module docstring)."""
    states = frozenset(increments)
    raw = {s: monomials(s, inc, states) for s, inc in increments.items()}
    support = _support(raw, {s for s, v in start.items() if not v.is_neg_inf})
    live = {
        s: [m for m, gate in raw[s] if gate <= support and {v for v, _ in m.states} <= support]
        for s in support
    }
    value = _tree_values(live, start)
    upstream = _upstream(live)
    settles = {
        j: [compare(_apply(m, value), "<=", value[j]) for m in live[j] if m.states] for j in support
    }
    growing = {
        s: _complement(_intersection(r for j in upstream[s] for r in settles[j])) for s in support
    }
    kinds = _kinds(live, upstream, growing)
    return {
        s: Steady(value[s], growing[s], kinds[s])
        if s in support
        else Steady(Expr.neg_inf(), Region.empty())
        for s in increments
    }


def _intersection(regions) -> Region:
    out = Region.universe()
    for r in regions:
        out = out & r
    return out


def _complement(region: Region) -> Region:
    """~region, written as the union of the negated constraints when it is one polyhedron (the
    generic difference would split it into disjoint, less readable pieces)."""
    if len(region.pieces) == 1:
        return Region([neg] for c in region.pieces[0].constraints for neg in c.negations())
    return ~region


def _union(regions) -> Region:
    out = Region.empty()
    for r in regions:
        out = out | r
    return out


def _support(raw, start: set[str]) -> frozenset[str]:
    """States that ever become non-zero: a monomial fires once its gate and its states are."""
    support = set(start)
    changed = True
    while changed:
        changed = False
        for s, ms in raw.items():
            if s not in support and any(
                gate | {v for v, _ in m.states} <= support for m, gate in ms
            ):
                support.add(s)
                changed = True
    return frozenset(support)


def _apply(m: Monomial, values: Mapping[str, Expr]) -> Expr:
    out = Expr((Term(m.rest),))
    for v, k in m.states:
        out = out + k * values[v]
    return out


def _tree_values(live, start) -> dict[str, Expr]:
    @functools.cache
    def tree(s: str, banned: frozenset[str]) -> Expr:
        below = banned | {s}
        options = [start[s]]
        for m in live[s]:
            if not any(v in below for v, _ in m.states):
                options.append(_apply(m, {v: tree(v, below) for v, _ in m.states}))
        return Expr.max(*options)

    return {s: tree(s, frozenset()) for s in live}


def _upstream(live) -> dict[str, frozenset[str]]:
    """Each state with every state its increments (transitively) read."""
    up = {s: {s} for s in live}
    changed = True
    while changed:
        changed = False
        for s in live:
            read = {v for m in live[s] for v, _ in m.states}
            feeds = set().union(*(up[v] for v in read)) - up[s]
            if feeds:
                up[s] |= feeds
                changed = True
    return {s: frozenset(v) for s, v in up.items()}


def _kinds(live, upstream, growing) -> dict[str, Mapping[str, Region]]:
    amplifying, accumulating = _policy_components(live)
    out: dict[str, Mapping[str, Region]] = {}
    for s in live:
        geometric = _union(growing[min(c)] for c in amplifying if c <= upstream[s])
        polynomial = (
            _union(growing[j] for c, inputs in accumulating if c <= upstream[s] for j in inputs)
            & growing[s]
        ) - geometric
        linear = growing[s] - geometric - polynomial
        kinds = {"linear": linear, "polynomial": polynomial, "geometric": geometric}
        out[s] = MappingProxyType({k: r for k, r in kinds.items() if not r.is_empty()})
    return out


def _policy_components(live):
    """Over every choice of one monomial per state: the strongly connected components that
    amplify (geometric) and the unit cycles with their outside inputs (polynomial)."""
    nodes = sorted(live)
    choices = [[None, *(m for m in live[s] if m.states)] for s in nodes]
    amplifying: set[frozenset[str]] = set()
    accumulating: set[tuple[frozenset[str], frozenset[str]]] = set()
    for policy in itertools.product(*choices):
        chosen = dict(zip(nodes, policy, strict=True))
        edges = {(j, i, k) for i, m in chosen.items() if m is not None for j, k in m.states}
        for comp in _components(nodes, edges):
            inner = [(j, i, k) for j, i, k in edges if i in comp and j in comp]
            if not inner:
                continue
            unit = all(k == 1 for *_, k in inner) and len(inner) == len(comp)
            if not unit:
                amplifying.add(comp)
                continue
            inputs = {j for j, i, _ in edges if i in comp and j not in comp}
            if inputs:
                accumulating.add((comp, frozenset(inputs)))
    return amplifying, accumulating


def _components(nodes, edges) -> list[frozenset[str]]:
    reach = {n: {n} for n in nodes}
    changed = True
    while changed:
        changed = False
        for j, i, _ in edges:
            new = reach[i] - reach[j]
            if new:
                reach[j] |= new
                changed = True
    comps = {frozenset(m for m in nodes if n in reach[m] and m in reach[n]) for n in nodes}
    return sorted(comps, key=sorted)
