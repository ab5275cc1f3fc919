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
import re
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

#: The largest exponent text accepted: exponents are small rationals, and a huge one would take
#: unbounded time and memory to build (``1e999999999`` is a billion-digit integer).
MAX_DIGITS = 60  # digits in the numerator (integer and decimal parts) and in the denominator
MAX_SCIENTIFIC = 60  # |e| in 1.5e-3
_RATIONAL = re.compile(
    r"(?P<sign>[-+]?)(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?"
    r"(?:[eE](?P<exp>[-+]?[0-9]+))?(?:/(?P<den>[0-9]+))?",
    re.ASCII,
)


def shorten(text: str, limit: int = 40) -> str:
    """``repr(text)``, cut to ``limit`` characters with the full length noted: error messages
    never echo a huge input."""
    shown = repr(text[:limit])  # never the repr of a huge string
    if len(text) <= limit and len(shown) <= limit:
        return shown
    return f"{shown[: limit - 2]}…' ({len(text)} characters)"


def check_rational_size(token: str, text: str) -> None:
    """Refuse a rational literal too large to be an exponent, before building it."""
    match = _RATIONAL.fullmatch(token)
    if match is None:
        return
    digits = len(match["int"]) + len(match["frac"] or "")
    exp = match["exp"]
    problem = None
    if digits > MAX_DIGITS or len(match["den"] or "") > MAX_DIGITS:
        problem = f"more than {MAX_DIGITS} digits"
    elif exp is not None and (len(exp.lstrip("+-")) > 3 or abs(int(exp)) > MAX_SCIENTIFIC):
        problem = f"a scientific exponent beyond ±{MAX_SCIENTIFIC}"
    if problem:
        raise ExponentError(
            f"malformed exponent {shorten(text)}: {problem} (exponents are small rationals "
            "such as -1/2)"
        )


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
        value = Fraction(text)
        if max(value.numerator.bit_length(), value.denominator.bit_length()) > 4 * MAX_DIGITS:
            raise ExponentError(
                f"exponent with more than {MAX_DIGITS} digits: not a small rational"
            )
        return value
    if not isinstance(text, str):
        kind = type(text).__name__
        raise ExponentError(
            f"malformed exponent {text!r}: expected a string such as '-1/2' or '-inf', not {kind}"
        )
    if len(text) > 4 * MAX_DIGITS:
        raise ExponentError(
            f"malformed exponent {shorten(text)}: too long (exponents are small rationals such "
            "as -1/2)"
        )
    stripped = text.strip().replace("−", "-")
    if stripped.lower() in _NEG_INF_SPELLINGS:
        return NEG_INF
    if not stripped:
        raise ExponentError("malformed exponent '': empty")
    if stripped.lower().lstrip("+-") in {"inf", "infinity", "nan", "∞"}:
        raise ExponentError(f"malformed exponent {shorten(text)}: only -inf is an exponent")
    match = _RATIONAL.fullmatch(stripped)
    if match is None or not (match["int"] or match["frac"]):
        raise ExponentError(
            f"malformed exponent {shorten(text)}: expected a rational such as -1/2, -0.5 or -inf"
        )
    check_rational_size(stripped, text)
    try:
        return Fraction(stripped)
    except ZeroDivisionError:
        raise ExponentError(f"malformed exponent {shorten(text)}: zero denominator") from None
    except ValueError:
        raise ExponentError(
            f"malformed exponent {shorten(text)}: expected a rational such as -1/2, -0.5 or -inf"
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
