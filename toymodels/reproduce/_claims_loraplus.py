"""The LoRA+ toy-MLP claims (LoRA+ Figure 2 and its caption) against a 2-D (η_A, η_B) sweep.

Every optimum is reported by two rules (:mod:`toymodels.reproduce._heatmap_seeds`): the **median**
rule (seed-median loss over the seeds that trained, pairs where at most half diverged), which
decides the verdicts because one diverged seed cannot move it, and the **any-diverged** rule (seed
mean, +∞ when any seed diverged) of the first report, beside it; and per seed. The main panel is
the caption's: test loss at t = 200.

Null calibration: E1(a) and E1(e) claim an asymmetry between the rates of A and B; their null
"the two rates are exchangeable" reflects the loss surface about η_A = η_B (on the rule's own
grid, log-interpolated between grid points) for a random half of the seeds, seeds resampled
(:func:`transpose_null_pass_rate`). E1(b)-(d)
compare our numbers with printed ones: they have no effect to null.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from toymodels.reproduce import _heatmap_seeds as hs
from toymodels.reproduce._rules import NULL_DRAWS
from toymodels.reproduce._verdicts import (
    MUCH_LARGER,
    NO_DATA,
    NOT,
    PARTLY,
    REPRODUCED,
    ClaimCheck,
)
from toymodels.reproduce._verdicts import g as _g

#: E1(c), E1(d): a rate "matches" the caption's when within half a decade of it.
MATCH_DECADES = 0.5
#: E1 numbers printed in the LoRA+ Figure 2 caption (test loss, t = 200).
CAPTION_OPTIMUM = (2.78, 1.29e-4)
CAPTION_EQUAL = 2.15e-2
#: E1(e): the best pair "beats" the best equal pair when its loss is lower by more than this.
BEATS = 0.01
#: E1(a), E1(e) need the effect in at least this fraction of the seeds, each on its own grid: with
#: 8 seeds, 7 of 8 is a one-sided sign test at P = 9/256 ≈ 0.035 under "η_A, η_B exchangeable".
SEED_FRACTION = 7 / 8

CLAIMS_E1 = {
    "E1(a)": "the best losses sit at η_B ≫ η_A",
    "E1(b)": "the best pair is close to the edge of stability",
    "E1(c)": f"caption: overall optimum (test loss, t=200) (η_A*, η_B*) = {CAPTION_OPTIMUM}",
    "E1(d)": f"caption: best equal pair η_A = η_B = {CAPTION_EQUAL}",
    "E1(e)": "the best pair beats the best equal pair (the point of LoRA+)",
}
RULES_E1 = {
    "E1(a)": f"median-rule best pair has η_B/η_A >= {MUCH_LARGER:g} in all four panels (train/test "
    f"× two steps) and so has each seed's own optimum at >= 7/8 of the seeds; all panels > 1: "
    "partly (excludes η_B <= η_A)",
    "E1(b)": "a pair most seeds cannot train lies <= 2 η_B grid steps above the median-rule best "
    "pair (same η_A); <= 4: partly",
    "E1(c)": f"median-rule optimum within {MATCH_DECADES} decade of the caption's on both rates; "
    "matching only with η_A, η_B swapped: partly",
    "E1(d)": f"median-rule best equal pair within {MATCH_DECADES} decade of the caption's; "
    "within 1: partly",
    "E1(e)": f"median-rule best η_B > η_A pair's loss lower than the best equal pair's by > "
    f"{BEATS:.0%}, and so at >= 7/8 of the seeds on their own grids (excludes no gain)",
}
NULL_TRANSPOSE = (
    "seeds resampled, loss surface reflected about η_A = η_B (on the rule's own grid) for a "
    "random half of the seeds"
)


def _decades(x: float, y: float) -> float:
    return abs(math.log10(x) - math.log10(y))


def _pair(p) -> str:
    return "none" if p is None else f"({_g(p[0])}, {_g(p[1])})"


def _steps_to_unstable(grids: hs.SeedGrids, loss: np.ndarray, best) -> int | None:
    """Grid steps up in η_B (same η_A) from ``best`` to the first pair the median rule rejects."""
    j = int(np.argmin(np.abs(np.log(grids.eta_A / best[0]))))
    i = int(np.argmin(np.abs(np.log(grids.eta_B / best[1]))))
    above = np.nonzero(np.isinf(loss[i + 1 :, j]))[0]
    return int(above[0]) + 1 if above.size else None


def _enough_seeds(hits: int, total: int) -> bool:
    return total > 0 and hits >= SEED_FRACTION * total


def _seed_ratios(grids: hs.SeedGrids) -> list[float]:
    return [c.best[1] / c.best[0] if c.best else math.nan for c in hs.per_seed(grids)]


def _ratio_rule(grids: hs.SeedGrids) -> bool:
    best = hs.best_pair(hs.median_loss(grids), grids)
    seeds = _seed_ratios(grids)
    return (
        best is not None
        and best[1] / best[0] >= MUCH_LARGER
        and _enough_seeds(sum(r >= MUCH_LARGER for r in seeds), len(seeds))
    )


def _gain(grids: hs.SeedGrids) -> float:
    loss = hs.median_loss(grids)
    above = hs.best_pair(loss, grids, hs.above_diagonal(grids))
    equal = hs.best_pair(loss, grids, hs.on_diagonal(grids))
    return math.nan if above is None or equal is None else equal[2] / above[2]


def _gain_rule(grids: hs.SeedGrids) -> bool:
    gains = [c.gain for c in hs.per_seed(grids)]
    return _gain(grids) > 1 + BEATS and _enough_seeds(sum(x > 1 + BEATS for x in gains), len(gains))


def _interpolate(log_loss: np.ndarray, grid: np.ndarray, at: np.ndarray, axis: int) -> np.ndarray:
    """``log_loss`` linearly interpolated in log η along ``axis`` at the rates ``at`` (the grid's
    range); a point next to a non-finite loss (a diverged run) stays non-finite."""
    x, xq = np.log(grid), np.log(at)
    hi = np.clip(np.searchsorted(x, xq), 1, x.size - 1)
    lo = hi - 1
    w = np.clip((xq - x[lo]) / (x[hi] - x[lo]), 0.0, 1.0)
    a, b = np.take(log_loss, lo, axis=axis), np.take(log_loss, hi, axis=axis)
    shape = [1] * log_loss.ndim
    shape[axis] = w.size
    w = w.reshape(shape)
    with np.errstate(invalid="ignore"):
        out = (1 - w) * a + w * b
    exact_lo, exact_hi = w == 0.0, w == 1.0
    return np.where(
        exact_lo, a, np.where(exact_hi, b, np.where(np.isfinite(a) & np.isfinite(b), out, np.inf))
    )


def mirrored(grids: hs.SeedGrids) -> np.ndarray:
    """Every seed's loss surface reflected about η_A = η_B on the rule's own grid ``[S, B, A]``:
    the value at (η_A = x, η_B = y) is the seed's loss at (η_A = y, η_B = x), log-interpolated
    where y or x is not a grid point of the other axis (both axes span the same range)."""
    with np.errstate(divide="ignore"):
        log_loss = np.log(np.asarray(grids.loss, dtype=np.float64))
    # at (η_A = y_i, η_B = y_k): interpolate along the A axis (2) at the B grid's rates
    along_a = _interpolate(log_loss, grids.eta_A, grids.eta_B, axis=2)  # [S, B(k), B(i)]
    # then along the B axis (1) at the A grid's rates: [S, A(j), B(i)] → value at (y_i, x_j)
    swapped = _interpolate(along_a, grids.eta_B, grids.eta_A, axis=1)
    return np.exp(swapped.transpose(0, 2, 1))


def transpose_null_pass_rate(rule, grids: hs.SeedGrids) -> float:
    """``rule``'s pass rate when η_A and η_B are exchangeable: a random half of the (resampled)
    seeds have their loss surface reflected about η_A = η_B, on the rule's own grid
    (:func:`mirrored`), so the null sees every pair the rule sees."""
    reflected = mirrored(grids)
    loss = np.asarray(grids.loss, dtype=np.float64)
    rng = np.random.default_rng(0)
    n_seeds = loss.shape[0]
    passes = 0
    for _ in range(NULL_DRAWS):
        picked = rng.integers(0, n_seeds, size=n_seeds)
        flip = rng.random(n_seeds) < 0.5
        surfaces = np.where(flip[:, None, None], reflected[picked], loss[picked])
        passes += bool(rule(grids._replace(loss=surfaces)))
    return passes / NULL_DRAWS


def check_loraplus(
    heatmap: xr.Dataset | None, *, steps=(10, 200), calibrate: bool = True
) -> tuple[ClaimCheck, ...]:
    """The LoRA+ toy-MLP claims against a 2-D rate sweep (``no data`` without one)."""
    if heatmap is None:
        return tuple(
            ClaimCheck(k, c, "needs the heatmap results", NO_DATA) for k, c in CLAIMS_E1.items()
        )
    last = int(heatmap.step.values[-1])
    panels = {
        (loss, min(int(s), last)): hs.seed_grids(heatmap, loss, min(int(s), last))
        for loss in ("train_loss", "test_loss")
        for s in steps
    }
    main_key = ("test_loss", min(int(steps[-1]), last))
    grids = panels[main_key]
    n_seeds = grids.seeds.size
    median, mean = hs.median_loss(grids), hs.any_diverged_loss(grids)
    best, best_any = hs.best_pair(median, grids), hs.best_pair(mean, grids)
    if best is None:
        return tuple(
            ClaimCheck(k, c, "no pair trained in most seeds", NOT) for k, c in CLAIMS_E1.items()
        )
    seeds = hs.per_seed(grids)
    per_seed_optima = "; ".join(f"seed {c.seed}: {_pair(c.best)}" for c in seeds)
    fraction = hs.diverged_fraction(grids)
    where = f"test loss t={main_key[1]}, {n_seeds} seeds"

    # E1(a)
    ratios = {}
    for (loss, s), g in panels.items():
        pair = hs.best_pair(hs.median_loss(g), g)
        ratios[f"{loss}_t{s}"] = pair[1] / pair[0] if pair else math.nan
    seed_ratios = _seed_ratios(grids)
    seeds_much = sum(r >= MUCH_LARGER for r in seed_ratios)
    if all(r >= MUCH_LARGER for r in ratios.values()) and _enough_seeds(
        seeds_much, len(seed_ratios)
    ):
        verdict_a = REPRODUCED
    elif all(r > 1 for r in ratios.values()):
        verdict_a = PARTLY
    else:
        verdict_a = NOT
    any_ratio = best_any[1] / best_any[0] if best_any else math.nan
    claim_a = ClaimCheck(
        "E1(a)",
        CLAIMS_E1["E1(a)"],
        "median-rule best-pair η_B/η_A: "
        + ", ".join(f"{k}: {_g(r)}" for k, r in ratios.items())
        + f"; any-diverged rule ({where}): {_g(any_ratio)}; per seed ({where}): "
        + ", ".join(_g(r) for r in seed_ratios)
        + f" ({seeds_much} of {len(seed_ratios)} seeds "
        f">= {MUCH_LARGER:g})",
        verdict_a,
        {**{f"ratio_{k}": r for k, r in ratios.items()}, "ratio_any_diverged": any_ratio},
        rule=RULES_E1["E1(a)"],
        null_pass_rate=transpose_null_pass_rate(_ratio_rule, grids) if calibrate else math.nan,
        null=NULL_TRANSPOSE,
    )

    # E1(b)
    distance = _steps_to_unstable(grids, median, best)
    j = int(np.argmin(np.abs(np.log(grids.eta_A / best[0]))))
    i = int(np.argmin(np.abs(np.log(grids.eta_B / best[1]))))
    column = ", ".join(f"{_g(f)}" for f in fraction[i:, j])
    if distance is None:
        evidence_b, verdict_b = "no pair above the best one (same η_A) fails in most seeds", NOT
    else:
        evidence_b = f"the first pair most seeds cannot train is {distance} η_B step(s) above it"
        verdict_b = REPRODUCED if distance <= 2 else PARTLY if distance <= 4 else NOT
    claim_b = ClaimCheck(
        "E1(b)",
        CLAIMS_E1["E1(b)"],
        f"median-rule best pair {_pair(best)} ({where}): {evidence_b}; fraction of seeds diverged "
        f"from it upwards in η_B: {column}",
        verdict_b,
        {"steps_to_divergence": float(distance) if distance else math.nan},
        rule=RULES_E1["E1(b)"],
        null="n/a (no effect to null)",
    )

    # E1(c)
    a_star, b_star = best[0], best[1]
    printed = max(_decades(a_star, CAPTION_OPTIMUM[0]), _decades(b_star, CAPTION_OPTIMUM[1]))
    swapped = max(_decades(a_star, CAPTION_OPTIMUM[1]), _decades(b_star, CAPTION_OPTIMUM[0]))
    if printed <= MATCH_DECADES:
        verdict_c, how = REPRODUCED, "matches the caption as printed"
    elif swapped <= MATCH_DECADES:
        verdict_c, how = PARTLY, "matches the caption only with η_A and η_B swapped"
    else:
        verdict_c, how = NOT, "matches neither the caption nor its swap"
    claim_c = ClaimCheck(
        "E1(c)",
        CLAIMS_E1["E1(c)"],
        f"median-rule optimum (η_A*, η_B*) = {_pair(best)}: {how} (off by {printed:.2g} decades "
        f"as printed, {swapped:.2g} swapped); any-diverged rule: {_pair(best_any)}; per seed: "
        f"{per_seed_optima}",
        verdict_c,
        {"eta_A": a_star, "eta_B": b_star, "decades_printed": printed, "decades_swapped": swapped},
        rule=RULES_E1["E1(c)"],
        null="n/a (a comparison with printed numbers)",
    )

    # E1(d), E1(e)
    equal = hs.best_pair(median, grids, hs.on_diagonal(grids))
    above = hs.best_pair(median, grids, hs.above_diagonal(grids))
    equal_any = hs.best_pair(mean, grids, hs.on_diagonal(grids))
    if equal is None or above is None:
        claim_d = ClaimCheck("E1(d)", CLAIMS_E1["E1(d)"], "no trainable equal pair", NOT)
        claim_e = ClaimCheck("E1(e)", CLAIMS_E1["E1(e)"], "no trainable equal pair", NO_DATA)
        return claim_a, claim_b, claim_c, claim_d, claim_e
    off = _decades(equal[0], CAPTION_EQUAL)
    claim_d = ClaimCheck(
        "E1(d)",
        CLAIMS_E1["E1(d)"],
        f"median-rule best equal pair: {_g(equal[0])} ({off:.2g} decades from the caption's); "
        f"any-diverged rule: {_g(equal_any[0]) if equal_any else 'none'}; per seed: "
        + ", ".join(f"{_g(c.equal[0])}" if c.equal else "none" for c in seeds),
        REPRODUCED if off <= MATCH_DECADES else PARTLY if off <= 1 else NOT,
        {"eta": equal[0], "decades": off},
        rule=RULES_E1["E1(d)"],
        null="n/a (a comparison with printed numbers)",
    )
    gain = equal[2] / above[2]
    seed_gains = [c.gain for c in seeds]
    wins = sum(x > 1 + BEATS for x in seed_gains)
    claim_e = ClaimCheck(
        "E1(e)",
        CLAIMS_E1["E1(e)"],
        f"{where}, median rule: best η_B > η_A pair {_pair(above)} loss {_g(above[2])}, best "
        f"equal pair {_pair(equal)} loss {_g(equal[2])} (equal/above ×{gain:.3g}); per seed "
        f"(each seed's own pairs) ×" + ", ×".join(_g(x) for x in seed_gains) + f": η_B > η_A "
        f"wins by > {BEATS:.0%} at {wins} of {n_seeds} seeds",
        REPRODUCED if _gain_rule(grids) else NOT,
        {"above_loss": above[2], "equal_loss": equal[2], "gain": gain, "seeds_won": float(wins)},
        rule=RULES_E1["E1(e)"],
        null_pass_rate=transpose_null_pass_rate(_gain_rule, grids) if calibrate else math.nan,
        null=NULL_TRANSPOSE,
    )
    return claim_a, claim_b, claim_c, claim_d, claim_e
