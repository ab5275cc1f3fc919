"""Exact exponents: elements of ℚ ∪ {−∞}, held as ``Fraction`` or the singleton ``NEG_INF``.

γ[0] = −∞ must stay exact: ``Fraction(1) + float('-inf')`` is a float, so −∞ is its own type, which
absorbs ``+`` and sits below every rational.

>>> NEG_INF + Fraction(1, 2), max(NEG_INF, Fraction(-3))
(NEG_INF, Fraction(-3, 1))
>>> parse_exponent("-0.5"), format_exponent(parse_exponent("-1/2")), format_exponent(NEG_INF)
(Fraction(-1, 2), '-1/2', '-inf')
"""

from __future__ import annotations

import functools
from fractions import Fraction
from numbers import Rational
from typing import Final, TypeAlias

__all__ = [
    "GROWING",
    "NEG_INF",
    "Exponent",
    "ExponentError",
    "NegInf",
    "as_exponent",
    "format_exponent",
    "parse_exponent",
]


class ExponentError(ValueError):
    """A malformed exponent (CLI input, JSON) or an operation outside ℚ ∪ {−∞}."""


@functools.total_ordering
class NegInf:
    """The exponent of an exactly-zero quantity: −∞, below every rational, absorbing for ``+``."""

    _instance: NegInf | None = None
    __slots__ = ()

    def __new__(cls) -> NegInf:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __reduce__(self) -> str:
        return "NEG_INF"

    def __repr__(self) -> str:
        return "NEG_INF"

    def __str__(self) -> str:
        return "-inf"

    def __hash__(self) -> int:
        return hash("theory.NEG_INF")

    def __eq__(self, other: object) -> bool:
        return other is self

    def __lt__(self, other: object) -> bool:
        if other is self:
            return False
        if isinstance(other, Rational):
            return True
        return NotImplemented

    def __add__(self, other: object) -> NegInf:
        if other is self or isinstance(other, Rational):
            return self
        return NotImplemented

    __radd__ = __add__

    def __mul__(self, other: object) -> NegInf:
        # A positive power of zero is zero; 0 · (−∞) and negative powers have no exponent.
        if isinstance(other, Rational) and other > 0:
            return self
        if isinstance(other, Rational):
            raise ExponentError(f"(-inf) * {other} is not an exponent")
        return NotImplemented

    __rmul__ = __mul__

    def __neg__(self) -> NegInf:
        raise ExponentError("-(-inf) = +inf is not an exponent (a quantity divided by zero)")

    def __bool__(self) -> bool:
        return True


NEG_INF: Final = NegInf()

#: Exact exponent: a rational or −∞.
Exponent: TypeAlias = Fraction | NegInf

#: Marker for a steady-state quantity that grows without bound in t.
GROWING: Final = "growing"

_NEG_INF_SPELLINGS = frozenset({"-inf", "−inf", "-∞", "−∞", "neg_inf", "-infinity"})


def parse_exponent(text: object) -> Exponent:
    """Parse ``"-1/2"``, ``"-0.5"``, ``"-1"``, ``"0"`` or ``"-inf"`` exactly.

    Ints and Fractions pass through; floats are refused (they are not exact).

    >>> parse_exponent("1/3"), parse_exponent(" -inf "), parse_exponent(2)
    (Fraction(1, 3), NEG_INF, Fraction(2, 1))
    >>> parse_exponent("1/0")
    Traceback (most recent call last):
    ...
    theory._exponent.ExponentError: malformed exponent '1/0': zero denominator
    """
    if text is NEG_INF:
        return NEG_INF
    if isinstance(text, bool):
        raise ExponentError(f"malformed exponent {text!r}: a bool is not an exponent")
    if isinstance(text, Rational):
        return Fraction(text)
    if not isinstance(text, str):
        kind = type(text).__name__
        raise ExponentError(
            f"malformed exponent {text!r}: expected a string such as '-1/2' or '-inf', not {kind}"
        )
    stripped = text.strip().replace("−", "-")
    if stripped.lower() in _NEG_INF_SPELLINGS:
        return NEG_INF
    if not stripped:
        raise ExponentError("malformed exponent '': empty")
    if stripped.lower().lstrip("+-") in {"inf", "infinity", "nan", "∞"}:
        raise ExponentError(f"malformed exponent {text!r}: only -inf is an exponent")
    try:
        return Fraction(stripped)
    except ZeroDivisionError:
        raise ExponentError(f"malformed exponent {text!r}: zero denominator") from None
    except ValueError:
        raise ExponentError(
            f"malformed exponent {text!r}: expected a rational such as -1/2, -0.5 or -inf"
        ) from None


def as_exponent(value: object) -> Exponent:
    """Coerce an exponent-like value (Fraction, int, ``NEG_INF`` or string) to an exact exponent."""
    return parse_exponent(value)


def format_exponent(value: object) -> str:
    """The contract's string form: ``"-1/2"``, ``"0"``, ``"-inf"``, or ``"growing"``.

    >>> format_exponent(Fraction(3, 2)), format_exponent(GROWING)
    ('3/2', 'growing')
    """
    if value is NEG_INF:
        return "-inf"
    if value == GROWING:
        return GROWING
    if isinstance(value, bool) or not isinstance(value, Rational):
        raise ExponentError(f"not an exact exponent: {value!r}")
    return str(Fraction(value))
