"""Conditions stated as text, judged exactly in the steady state or at every step.

A condition is a formula over a model's quantities::

    cond  := conj ("or" conj)*          conj := unary ("and" unary)*
    unary := "not" unary | "(" cond ")" | NAME | "every_step_from(" INT "," cond ")"
           | expr OP expr                OP   := "<=" | "<" | "==" | ">=" | ">"

``NAME`` is an earlier condition; ``expr`` is an exponent expression (``theory.parse_expr``) in the
quantities and rates. In the steady state a quantity that grows without bound in t counts as +∞:
``Z_B <= 0`` fails there, ``Z_A > 0`` holds, ``delta1 == 0`` fails. ``every_step_from(t0, c)`` asks
``c`` at every step t ≥ t0 as well as in the steady state: the papers' literal "for all t > 1" is
``every_step_from(2, ...)``.

>>> c = Condition.parse("stable and delta1 == 0", quantities={"delta1"}, known={"stable"})
>>> c.names(), str(c)
(frozenset({'delta1'}), 'stable and delta1 == 0')
>>> Condition.parse("stable and speed == 0", quantities={"delta1"}, known={"stable"})
Traceback (most recent call last):
...
theory._exponent.ExponentError: 'speed == 0' names no quantity or rate of the model: speed
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from theory._affine import feasible
from theory._exponent import ExponentError, shorten
from theory._expr import Expr
from theory._parse import check_formula_size, parse_expr
from theory._region import Region, _system, compare

__all__ = ["Condition", "judge"]

_OPS = ("<=", ">=", "==", "<", ">")
MAX_NOTS = 32
_COMPARISON = re.compile(r"(<=|>=|==|<|>)")
_EVERY = re.compile(r"every_step_from\(\s*(\d{1,3})\s*,(.*)\)", re.DOTALL)
_NAME = re.compile(r"[A-Za-z_]\w*")

Kind = Literal["and", "or", "not", "ref", "cmp", "every"]


@dataclass(frozen=True)
class Node:
    kind: Kind
    children: tuple[Node, ...] = ()
    name: str = ""  # a condition (ref)
    lhs: Expr | None = None
    op: str = ""
    rhs: Expr | None = None
    start: int = 0  # every_step_from


@dataclass(frozen=True)
class Condition:
    """A parsed condition: its text, its meaning in words, and its formula tree."""

    text: str
    meaning: str
    tree: Node

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        quantities: Iterable[str],
        known: Iterable[str] = (),
        rates: Iterable[str] = (),
        meaning: str = "",
    ) -> Condition:
        """Parse ``text``; a name that is no quantity, rate or earlier condition is an error."""
        if not isinstance(text, str) or not text.strip():
            raise ExponentError("a condition must be a non-empty formula such as 'Z_B <= 0'")
        check_formula_size(text)
        tree = _parse(text.strip(), frozenset(quantities) | frozenset(rates), frozenset(known))
        return cls(text.strip(), meaning, tree)

    def names(self) -> frozenset[str]:
        """The quantities and rates the condition compares."""
        return _names(self.tree)

    def refs(self) -> frozenset[str]:
        """The earlier conditions it names."""
        return _refs(self.tree)

    def __str__(self) -> str:
        return self.text


def _split(text: str, word: str) -> list[str]:
    """Split at ``word`` (a whole word) outside parentheses."""
    parts, depth, last = [], 0, 0
    for match in re.finditer(rf"\(|\)|\b{word}\b", text):
        token = match.group()
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0:
            parts.append(text[last : match.start()])
            last = match.end()
    parts.append(text[last:])
    return [p.strip() for p in parts]


def _wrapped(text: str) -> bool:
    """Whether the outer parentheses of ``text`` enclose all of it."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i < len(text) - 1:
            return False
    return True


def _parse(text: str, names: frozenset[str], known: frozenset[str]) -> Node:
    if not text:
        raise ExponentError("empty condition (a dangling 'and', 'or' or 'not'?)")
    for word in ("or", "and"):
        parts = _split(text, word)
        if len(parts) > 1:
            return Node(word, tuple(_parse(p, names, known) for p in parts))  # type: ignore[arg-type]
    if text.count("not") > MAX_NOTS:
        raise ExponentError(f"{shorten(text)}: more than {MAX_NOTS} 'not'")
    if re.match(r"not\b", text):
        return Node("not", (_parse(text[3:].strip(), names, known),))
    every = _EVERY.fullmatch(text)
    if every:
        return Node("every", (_parse(every.group(2).strip(), names, known),), start=int(every[1]))
    pieces = _COMPARISON.split(text)
    if len(pieces) == 1:
        if _wrapped(text):
            return _parse(text[1:-1].strip(), names, known)
        if _NAME.fullmatch(text) and text in known:
            return Node("ref", name=text)
        raise ExponentError(
            f"{shorten(text)} is neither a comparison (such as 'Z_B <= 0') nor an earlier condition"
        )
    if len(pieces) != 3:
        raise ExponentError(f"{shorten(text)}: one comparison at a time (join them with 'and')")
    lhs, rhs = parse_expr(pieces[0]), parse_expr(pieces[2])
    named = lhs.variables | rhs.variables
    unknown = sorted(named - names)
    if unknown:
        raise ExponentError(
            f"{shorten(text)} names no quantity or rate of the model: {', '.join(unknown)}"
        )
    if not named:
        raise ExponentError(f"{shorten(text)} names no quantity: it is a constant, not a condition")
    return Node("cmp", lhs=lhs, op=pieces[1], rhs=rhs)


def _refs(node: Node) -> frozenset[str]:
    own = frozenset({node.name}) if node.kind == "ref" else frozenset()
    return own.union(*(_refs(child) for child in node.children))


def _names(node: Node) -> frozenset[str]:
    own = (node.lhs.variables | node.rhs.variables) if node.kind == "cmp" else frozenset()
    return own.union(*(_names(c) for c in node.children))


#: How to judge one comparison: (lhs, op, rhs) → region.
Atom = Callable[[Expr, str, Expr], Region]


def judge(
    node: Node, atom: Atom, known: Mapping[str, Region], every: Callable[[Node, int], Region]
) -> Region:
    """The region where ``node`` holds, comparisons judged by ``atom``; ``every(node, t0)`` judges
    ``every_step_from``."""
    if node.kind == "cmp":
        return atom(node.lhs, node.op, node.rhs)  # type: ignore[arg-type]
    if node.kind == "ref":
        return known[node.name]
    if node.kind == "every":
        return every(node.children[0], node.start)
    parts = [judge(c, atom, known, every) for c in node.children]
    if node.kind == "not":
        return ~parts[0]
    out = parts[0]
    for p in parts[1:]:
        out = (out & p) if node.kind == "and" else (out | p)
    return out


def plain_atom(values: Mapping[str, Expr], within: Region | None = None) -> Atom:
    """Comparisons at one step: every quantity has a finite or −∞ exponent. With ``within``, the
    answer is exact inside that region only (terms that never lead there are dropped first: an
    early step's exponents can be long maxima)."""

    def atom(lhs: Expr, op: str, rhs: Expr) -> Region:
        left, right = lhs.substitute(values), rhs.substitute(values)
        if within is not None:
            left, right = restrict(left, within), restrict(right, within)
        return compare(left, op, right)  # type: ignore[arg-type]

    return atom


def restrict(expr: Expr, where: Region) -> Expr:
    """An expression equal to ``expr`` on ``where``: a term that is nowhere in ``where`` strictly
    above all the others is dropped (exact feasibility, as in the canonical form)."""
    terms = list(expr.terms)
    if len(terms) < 2 or any(t.gate for t in terms):
        return expr
    pieces = [_system(p.constraints) for p in where.pieces]
    i = 0
    while i < len(terms) and len(terms) > 1:
        t = terms[i]
        above = [(u.affine - t.affine, "<") for u in terms if u is not t]
        if any(feasible([*piece, *above]) for piece in pieces):
            i += 1
        else:
            del terms[i]
    return Expr(terms)


def steady_atom(value_of: Callable[[Expr], tuple[Expr, Region]]) -> Atom:
    """Comparisons in the steady state, a quantity that grows in t counting as +∞;
    ``value_of(e)`` is e's steady value and the region where it grows."""

    def atom(lhs: Expr, op: str, rhs: Expr) -> Region:
        if op in (">=", ">"):
            lhs, rhs, op = rhs, lhs, ("<=" if op == ">=" else "<")
        (lv, lg), (rv, rg) = value_of(lhs), value_of(rhs)
        finite = ~lg & ~rg & compare(lv, op, rv)  # type: ignore[arg-type]
        if op == "==":
            return finite
        return finite | (~lg & rg)  # finite < +∞

    return atom
