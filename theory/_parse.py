"""Read exponent expressions from text, so recursions can be stated as strings.

Grammar (``+`` is the γ of a product, ``max`` the γ of a sum, ``support(e)`` an Adam-normalised
factor: 0 where ``e`` is finite, −∞ where it is −∞)::

    expr    := term (("+" | "-") term)*
    term    := [rational "*"] atom | atom ["*" rational]
    atom    := rational | "-inf" | name | "max(" expr ("," expr)* ")" | "support(" expr ")"
             | "(" expr ")" | "-" atom

>>> parse_expr("max(eta_A + 1, 0) + eta_B")
Expr('max(eta_A + eta_B + 1, eta_B)')
>>> parse_expr("2*b - 1/2"), parse_expr("-inf")
(Expr('2*b - 1/2'), Expr('-inf'))
>>> parse_expr("eta_A + 1 + support(B)")
Expr('[B finite] eta_A + 1')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction

from theory._exponent import ExponentError, check_rational_size, shorten
from theory._expr import Expr, Term

__all__ = ["parse_expr"]

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?(?:/\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*(),]))",
    re.ASCII,
)
#: Formulas are a line or two; a longer text is refused before it is read.
MAX_FORMULA = 2000
MAX_NESTING = 32


def parse_expr(text: str, constants: Mapping[str, Fraction] | None = None) -> Expr:
    """Parse an exponent expression; raises ``ExponentError`` (one line) on malformed input.

    ``constants``: names read as exact rationals (a model's parameters, e.g. the rank exponent
    ``kappa`` and the multiplier exponent ``s``); they may multiply each other (``s*kappa``).

    >>> parse_expr("B + Z_A + kappa - s*kappa", {"kappa": Fraction(1, 2), "s": Fraction(1)})
    Expr('B + Z_A')
    """
    if not isinstance(text, str):
        raise ExponentError(f"expected an expression string, not {type(text).__name__}")
    if len(text) > MAX_FORMULA:
        raise ExponentError(f"expression {shorten(text)} is longer than {MAX_FORMULA} characters")
    depth = deepest = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise ExponentError(f"expression {shorten(text)} nests more than {MAX_NESTING} parentheses")
    tokens = _tokenize(text)
    parser = _Parser(tokens, text, dict(constants or {}))
    expr = parser.expr()
    if parser.peek() is not None:
        raise ExponentError(
            f"unexpected {shorten(parser.peek(), 20)} in expression {shorten(text)}"
        )
    return expr


def check_formula_size(text: str) -> None:
    """Refuse a formula too long or too deeply nested to be one (before reading it)."""
    if len(text) > MAX_FORMULA:
        raise ExponentError(f"formula {shorten(text)} is longer than {MAX_FORMULA} characters")
    depth = deepest = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise ExponentError(f"formula {shorten(text)} nests more than {MAX_NESTING} parentheses")


def _tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    stripped = text.rstrip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if not match:
            raise ExponentError(
                f"cannot read {shorten(stripped[pos:].strip(), 20)} in expression {shorten(text)}"
            )
        tokens.append(match.group(match.lastgroup))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str], text: str, constants: dict[str, Fraction]) -> None:
        self.tokens, self.pos, self.text, self.constants = tokens, 0, text, constants

    def is_number(self, token: str | None) -> bool:
        return _is_number(token) or token in self.constants

    def fraction(self, token: str) -> Fraction:
        return self.constants[token] if token in self.constants else _fraction(token, self.text)

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            want = f"{shorten(expected, 20)}" if expected else "more input"
            raise ExponentError(f"expected {want} in expression {shorten(self.text)}")
        self.pos += 1
        return token

    def expr(self) -> Expr:
        out = self.term()
        while self.peek() in ("+", "-"):
            sign = self.take()
            right = self.term()
            out = out + (right if sign == "+" else _negate(right, self.text))
        return out

    def term(self) -> Expr:
        if self.is_number(self.peek()) and self._next_is("*"):
            factor = self.fraction(self.take())
            self.take("*")
            return _scale(self.atom(), factor, self.text)
        atom = self.atom()
        if self.peek() == "*":
            self.take()
            return _scale(atom, self.fraction(self._number()), self.text)
        return atom

    def atom(self) -> Expr:
        token = self.take()
        if token == "-":
            if self.peek() == "inf":
                self.take()
                return Expr.neg_inf()
            return _negate(self.atom(), self.text)
        if token == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if token in ("max", "support") and self.peek() == "(":
            self.take("(")
            args = [self.expr()]
            while self.peek() == ",":
                self.take()
                args.append(self.expr())
            self.take(")")
            if token == "support":
                if len(args) != 1:
                    raise ExponentError(f"support takes one argument in {shorten(self.text)}")
                return args[0].support()
            return Expr.max(*args)
        if self.is_number(token):
            return Expr.const(self.fraction(token))
        if re.fullmatch(r"[A-Za-z_]\w*", token) and token != "inf":
            return Expr.symbol(token)
        raise ExponentError(f"unexpected {shorten(token, 20)} in expression {shorten(self.text)}")

    def _next_is(self, token: str) -> bool:
        return self.pos + 1 < len(self.tokens) and self.tokens[self.pos + 1] == token

    def _number(self) -> str:
        token = self.take()
        if not self.is_number(token):
            raise ExponentError(f"expected a rational after '*' in {shorten(self.text)}")
        return token


def _fraction(token: str, text: str) -> Fraction:
    check_rational_size(token, text)
    try:
        return Fraction(token)
    except ZeroDivisionError:
        raise ExponentError(
            f"zero denominator in {shorten(token, 20)} in expression {shorten(text)}"
        ) from None
    except ValueError:  # '0.0/0': a decimal over a denominator is no number of the grammar
        raise ExponentError(
            f"malformed number {shorten(token, 20)} in expression {shorten(text)}"
        ) from None


def _is_number(token: str | None) -> bool:
    return token is not None and token[0].isdigit()


def _scale(expr: Expr, factor: Fraction, text: str) -> Expr:
    if expr.is_constant and not expr.is_neg_inf:  # a rational times a rational (s*kappa)
        return Expr.const(factor * expr.constant_value())
    if factor == 0:
        raise ExponentError(f"0 * ... is not an exponent operation in {shorten(text)}")
    if factor > 0:
        return factor * expr
    return _negate((-factor) * expr, text)


def _negate(expr: Expr, text: str) -> Expr:
    """−e for a single affine term (−max is a min, −(−∞) is +∞: neither is an exponent)."""
    if len(expr.terms) != 1 or expr.terms[0].gate:
        raise ExponentError(f"cannot negate {expr} in {shorten(text)}: only a single affine term")
    return Expr((Term(-expr.terms[0].affine),))
