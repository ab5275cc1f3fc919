"""The rank as a second asymptotic variable: rate exponents as functions of κ and s.

The rank grows as r = Θ(n^κ), κ ∈ [0, 1), and the LoRA multiplier is α·r^(−s); both are
parameters of a model's spec (``kappa``, ``s``; docs/theory.md §12), set per call with
``rank_exponent=`` and ``multiplier=``. κ = 0 is the papers' r = Θ(1), where s plays no part.
For Adam the exponents are piecewise affine in κ (docs/theory.md §12 derives them by hand):

    Init[A]: γ[η*] = −1/2 − κ(1 − s)/2
    Init[B]: γ[η*] = min(−1 − κ(1/2 − s), −1/2 − κ(1 − s)/2)   (Z_B per entry: B₀'s sum is R1)

>>> str(max_stable_rate_exponent("adam", "B", rank_exponent="1/2", multiplier="1/2"))
'-1'
>>> rate_exponent_table("adam", "A", kappas=["0", "1/2"], multipliers=["0", "1"])
{('0', '0'): '-1/2', ('0', '1'): '-1/2', ('1/2', '0'): '-3/4', ('1/2', '1'): '-1/2'}
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from theory._exponent import ExponentError, format_exponent
from theory._models import canonical_init, resolve_model
from theory._predict import EQUAL_RATE, predicted_rate_exponent, region
from theory._spec import Model

__all__ = ["MULTIPLIERS", "RANK_EXPONENTS", "max_stable_rate_exponent", "rate_exponent_table"]

#: The grid the docs tabulate: κ ∈ {0, 1/4, 1/2, 3/4}, s ∈ {0 (none), 1/2 (rsLoRA), 1 (α/r)}.
RANK_EXPONENTS = ("0", "1/4", "1/2", "3/4")
MULTIPLIERS = ("0", "1/2", "1")


def max_stable_rate_exponent(
    model: str | Model, init: object, *, rank_exponent: object = None, multiplier: object = None
) -> Fraction:
    """The largest c such that the equal rate η = Θ(n^c) keeps the output O(1) (the supremum of
    the ``stable`` region at equal rates, which must be bounded above and attained)."""
    spec = resolve_model(model, rank_exponent=rank_exponent, multiplier=multiplier)
    where = region(spec, init, ["stable"], equal_rates=True)
    intervals = where.intervals(EQUAL_RATE)
    if intervals:
        _, _, hi, hi_closed = intervals[-1]
        if hi is not None and hi_closed:
            return hi
    raise ExponentError(
        f"{spec.name} with Init[{canonical_init(init, spec)}] is stable at equal rates where "
        f"{where}: no largest stable rate exponent"
    )


def rate_exponent_table(
    model: str | Model,
    init: object,
    *,
    kappas: Iterable[object] = RANK_EXPONENTS,
    multipliers: Iterable[object] = MULTIPLIERS,
    which: str = "stable",
) -> dict[tuple[str, str], str]:
    """(κ, s) → the maximal stable equal rate's exponent (``which="stable"``) or the feature-
    learning one (``which="feature_learning"``), as text; "none" where there is none."""
    find = {"stable": max_stable_rate_exponent, "feature_learning": predicted_rate_exponent}
    if which not in find:
        raise ExponentError(f"which must be one of {', '.join(find)}, not {which!r}")
    multipliers = tuple(multipliers)
    out = {}
    for kappa in kappas:
        for s in multipliers:
            try:
                value = format_exponent(find[which](model, init, rank_exponent=kappa, multiplier=s))
            except ExponentError:
                value = "none"
            out[(format_exponent(Fraction(str(kappa))), format_exponent(Fraction(str(s))))] = value
    return out
