"""Claim rules that can fail: evidence with two intervals, decisions that must exclude a named
alternative, and the rules' pass rates under a null, all computed by code.

**Evidence for a width exponent.** Two intervals, both required (docs/reproduction.md, "How the
rules were calibrated"): the bootstrap over seeds (``toymodels.core.bootstrap_exponent``), which
sees how the seeds scatter, and the Student-t interval of the least-squares fit to the per-width
geometric means (``fit_power_law(widths, geometric_means(values))``), which widens when one power
law does not fit across widths. A seed bootstrap alone passes "k_A − k_B > 0" on data with
permuted widths (no width effect at all) about 40 % of the time; with both intervals the null
pass rate drops to a few per cent (the issue-12 groundwork).

**A decision** passes only when every interval excludes the alternative it names: "k > 0" needs
both lower ends above 0; "k ≈ target" needs the point within a tolerance fixed here, both
intervals to contain the target and both to exclude the alternative. A per-width comparison of two
inits (η*_A > η*_B at one width) is decided by a bootstrap over seeds of the mean paired log
ratio: "A larger", "B larger", or a **tie** when the interval contains 0; a tie is never a win.

**Null calibration.** Each rule is run on data built to have no effect and the fraction of passes
is reported beside its verdict: for a width exponent, seeds resampled and width labels permuted
(``toymodels.core.null_pass_rate``); for a comparison of two inits at each width, seeds resampled
and the two inits' labels swapped at random per seed (:func:`swap_null_pass_rate`), which is the
null "the init makes no difference". The null draws use fewer bootstrap resamples
(:data:`NULL_BOOT`) than the reported intervals (:data:`N_BOOT`): a calibration, not an estimate.

>>> widths = 2.0 ** np.arange(7, 12)
>>> noise = np.exp(np.random.default_rng(0).normal(0, 0.1, (5, 8)))
>>> a, b = widths[:, None] ** -0.5 * noise, widths[:, None] ** -1.0 * noise[::-1]
>>> diff = difference_evidence(widths, a, b, n_boot=200)
>>> round(diff.value, 1), diff.excludes_from_above(0.0)
(0.5, True)
>>> near(exponent_evidence(widths, a, n_boot=200), -0.5, alternative=-1.0, tolerance=0.1)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from toymodels.core import (
    bootstrap_exponent,
    bootstrap_exponent_difference,
    fit_power_law,
    geometric_means,
    null_pass_rate,
)

#: Bootstrap resamples of every reported interval.
N_BOOT = 2000
#: Null draws per calibration, and bootstrap resamples inside each draw (cheap enough for
#: `lora-sweep figures --claims`: about a second per rule with the vectorised bootstrap).
NULL_DRAWS = 200
NULL_BOOT = 200
#: Confidence of every interval.
CONFIDENCE = 0.95


class Evidence(NamedTuple):
    """A width exponent (or a difference of two) with both of its intervals."""

    value: float
    bootstrap_ci: tuple[float, float]  # over seeds
    fit_ci: tuple[float, float]  # t-interval of the fit to the per-width geometric means
    n_widths: int
    n_seeds: int

    def excludes_from_above(self, alternative: float) -> bool:
        """Whether both intervals lie wholly above ``alternative``."""
        return self.bootstrap_ci[0] > alternative and self.fit_ci[0] > alternative

    def excludes_from_below(self, alternative: float) -> bool:
        """Whether both intervals lie wholly below ``alternative``."""
        return self.bootstrap_ci[1] < alternative and self.fit_ci[1] < alternative

    def contains(self, value: float) -> bool:
        """Whether both intervals contain ``value``."""
        return all(lo <= value <= hi for lo, hi in (self.bootstrap_ci, self.fit_ci))

    def excludes(self, value: float) -> bool:
        """Whether both intervals exclude ``value``."""
        return all(not lo <= value <= hi for lo, hi in (self.bootstrap_ci, self.fit_ci))

    def describe(self) -> str:
        """``-0.48 [seeds -0.52, -0.44; fit -0.54, -0.42]``."""
        (b0, b1), (f0, f1) = self.bootstrap_ci, self.fit_ci
        return f"{self.value:+.3f} [seeds {b0:+.3f}, {b1:+.3f}; fit {f0:+.3f}, {f1:+.3f}]"

    def as_numbers(self, prefix: str) -> dict[str, float]:
        return {
            prefix: self.value,
            f"{prefix}_boot_low": self.bootstrap_ci[0],
            f"{prefix}_boot_high": self.bootstrap_ci[1],
            f"{prefix}_fit_low": self.fit_ci[0],
            f"{prefix}_fit_high": self.fit_ci[1],
        }


def _fit_ci(widths: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    means = geometric_means(values)
    ok = np.isfinite(means) & (means > 0)
    if np.unique(widths[ok]).size < 3:
        return (math.nan, math.nan)
    return fit_power_law(widths[ok], means[ok], confidence=CONFIDENCE).ci


def exponent_evidence(widths, values, *, n_boot: int = N_BOOT) -> Evidence:
    """The exponent of ``values`` [W, S] ∝ n^k with its seed-bootstrap and fit intervals."""
    widths = np.asarray(widths, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    boot = bootstrap_exponent(widths, values, n_boot=n_boot, confidence=CONFIDENCE)
    return Evidence(boot.value, boot.ci, _fit_ci(widths, values), widths.size, boot.n_seeds)


def difference_evidence(widths, values_a, values_b, *, n_boot: int = N_BOOT) -> Evidence:
    """k_a − k_b: the paired seed bootstrap, and the fit interval of the per-seed ratio a/b (the
    slope of a/b is k_a − k_b)."""
    widths = np.asarray(widths, dtype=np.float64)
    a, b = np.asarray(values_a, np.float64), np.asarray(values_b, np.float64)
    boot = bootstrap_exponent_difference(widths, a, b, n_boot=n_boot, confidence=CONFIDENCE)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = a / b
    return Evidence(boot.value, boot.ci, _fit_ci(widths, ratio), widths.size, boot.n_seeds)


def near(evidence: Evidence, target: float, *, alternative: float, tolerance: float) -> bool:
    """``k ≈ target``: within ``tolerance``; both intervals hold it and exclude ``alternative``."""
    return (
        abs(evidence.value - target) <= tolerance
        and evidence.contains(target)
        and evidence.excludes(alternative)
    )


# ----------------------------------------------------------------- paired comparisons per width

LARGER, SMALLER, TIE = "larger", "smaller", "tie"


class Comparison(NamedTuple):
    """Per width: the mean over seeds of log(a/b), its bootstrap interval, and the outcome."""

    log_ratio: float
    ci: tuple[float, float]
    outcome: str  # LARGER (interval above 0), SMALLER (below), TIE (contains 0), or "no data"


def compare_per_width(a, b, *, n_boot: int = N_BOOT, seed: int = 0) -> list[Comparison]:
    """Compare ``a`` and ``b`` [W, S] (paired by seed) at each width.

    >>> compare_per_width([[2.0, 2.2, 1.9]], [[1.0, 1.1, 1.0]])[0].outcome
    'larger'
    >>> compare_per_width([[2.0, 0.5, 1.0]], [[1.0, 1.0, 1.0]])[0].outcome  # seeds disagree
    'tie'
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    rng = np.random.default_rng(seed)
    out = []
    for row_a, row_b in zip(a, b, strict=True):
        ok = np.isfinite(row_a) & np.isfinite(row_b) & (row_a > 0) & (row_b > 0)
        logs = np.log(row_a[ok] / row_b[ok])
        if logs.size < 2:
            out.append(Comparison(math.nan, (math.nan, math.nan), "no data"))
            continue
        means = logs[rng.integers(0, logs.size, size=(n_boot, logs.size))].mean(axis=1)
        tail = 50 * (1 - CONFIDENCE)
        lo, hi = (float(x) for x in np.percentile(means, [tail, 100 - tail]))
        outcome = LARGER if lo > 0 else SMALLER if hi < 0 else TIE
        out.append(Comparison(float(logs.mean()), (lo, hi), outcome))
    return out


# ----------------------------------------------------------------------------- null calibration


def width_null_pass_rate(rule: Callable[..., bool], datasets: Sequence) -> float:
    """``rule``'s pass rate with seeds resampled and width labels permuted (no width effect)."""
    return null_pass_rate(rule, datasets, n_null=NULL_DRAWS, seed=0)


def swap_null_pass_rate(rule: Callable[[np.ndarray, np.ndarray], bool], a, b) -> float:
    """``rule(a, b)``'s pass rate with seeds resampled and, per seed, the labels a and b swapped
    with probability 1/2 (the null "the init makes no difference"; pairs stay paired).

    >>> a = np.full((3, 8), 2.0); b = np.ones((3, 8))
    >>> always_larger = lambda a, b: bool(np.all(a > b))
    >>> swap_null_pass_rate(always_larger, a, b) < 0.05
    True
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    rng = np.random.default_rng(0)
    n_seeds = a.shape[1]
    passes = 0
    for _ in range(NULL_DRAWS):
        columns = rng.integers(0, n_seeds, size=n_seeds)
        swap = rng.random(n_seeds) < 0.5
        a_cols, b_cols = a[:, columns], b[:, columns]
        passes += bool(rule(np.where(swap, b_cols, a_cols), np.where(swap, a_cols, b_cols)))
    return passes / NULL_DRAWS
