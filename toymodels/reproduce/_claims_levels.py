"""The stability edge across a level set, and the three definitions of the edge side by side.

The rules below were fixed in code before the wide run (results/edge-wide.nc) was read; the
per-level numbers of results/edge.nc had been seen (issue 24's re-analysis: EDGE(a)/(b) at one
level pass at C = 2 and 4 only), which is why the rule no longer reads one level:

- EDGE-L(a) k_A ≈ −1/2 across the levels C ∈ {1, 2, 4, 8, 16}: the median of the per-level
  exponents within 0.1 of −1/2, and the levels-and-seeds mixture interval
  (:mod:`toymodels.analysis._levels`) contains −1/2 and excludes −1;
- EDGE-L(b) the mirror for Init[B] (contains −1, excludes −1/2);
- EDGE-L(c) k_A − k_B > 0: the mixture interval of the paired difference lies above 0.

Null pass rates: EDGE-L(c) compares the inits, so its null swaps the A/B labels per seed (the
same swap at every level: the null "the init makes no difference"). EDGE-L(a)/(b) are calibrated
against their named alternative: each level's data are tilted to the alternative's slope
(v·n^(alt − k̂), the seeds' scatter kept) and the seeds resampled; the pass rate is how often the
rule takes data that follow the alternative for the prediction. (A width-permutation null gives
slope ≈ 0 and passes never, trivially: it says nothing about −1/2 against −1.)
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from toymodels.analysis import _levels
from toymodels.analysis._edge import loss_edge_table
from toymodels.reproduce import _rules as rules
from toymodels.reproduce._claims_edge import EDGE_TOLERANCE, PREDICTED
from toymodels.reproduce._verdicts import NO_DATA, NOT, REPRODUCED, ClaimCheck

LEVELS_NULL_BOOT = 100

CLAIMS_LEVELS = {
    "EDGE-L(a)": "with Init[A] the largest stable rate scales as Θ(n^-1/2), whatever level C "
    "defines stability",
    "EDGE-L(b)": "with Init[B] the largest stable rate scales as Θ(n^-1), whatever level C",
    "EDGE-L(c)": "Init[A]'s largest stable rate falls more slowly than Init[B]'s, whatever level C",
}
RULES_LEVELS = {
    "EDGE-L(a)": f"over C ∈ {{1, 2, 4, 8, 16}}: |median_C k_A + 1/2| <= {EDGE_TOLERANCE}; the "
    "levels-and-seeds interval contains −1/2 and excludes the alternative −1",
    "EDGE-L(b)": f"over C ∈ {{1, 2, 4, 8, 16}}: |median_C k_B + 1| <= {EDGE_TOLERANCE}; the "
    "levels-and-seeds interval contains −1 and excludes the alternative −1/2",
    "EDGE-L(c)": "over C ∈ {1, 2, 4, 8, 16}: the levels-and-seeds interval of k_A − k_B (seeds "
    "paired) lies above 0 (excludes the same scaling)",
}


def _near(fit: _levels.LevelExponent, target: float, alternative: float) -> bool:
    return (
        abs(fit.value - target) <= EDGE_TOLERANCE
        and fit.contains(target)
        and not fit.contains(alternative)
    )


def _tilted(widths, by_level, alternative: float) -> dict:
    """Each level's data tilted to the slope ``alternative`` (its own fitted slope removed)."""
    out = {}
    for c, values in by_level.items():
        k = rules.exponent_evidence(widths, values, n_boot=2).value
        out[c] = values * (widths[:, None] / widths[0]) ** (alternative - k)
    return out


def _alternative_null(widths, by_level, target: float, alternative: float) -> float:
    tilted = _tilted(widths, by_level, alternative)
    n_seeds = next(iter(tilted.values())).shape[1]
    rng = np.random.default_rng(0)
    passes = 0
    for _ in range(rules.NULL_DRAWS):
        columns = rng.integers(0, n_seeds, size=n_seeds)
        drawn = {c: v[:, columns] for c, v in tilted.items()}
        fit = _levels.level_exponent(widths, drawn, n_boot=LEVELS_NULL_BOOT)
        passes += _near(fit, target, alternative)
    return passes / rules.NULL_DRAWS


def _swap_null(widths, a_by_level, b_by_level) -> float:
    levels = list(a_by_level)
    n_widths = widths.size
    stack = lambda d: np.concatenate([d[c] for c in levels])  # noqa: E731  [L·W, S]

    def rule(a, b) -> bool:
        split = lambda x: {c: x[i * n_widths : (i + 1) * n_widths] for i, c in enumerate(levels)}  # noqa: E731
        fit = _levels.level_difference(widths, split(a), split(b), n_boot=LEVELS_NULL_BOOT)
        return fit.ci[0] > 0

    return rules.swap_null_pass_rate(rule, stack(a_by_level), stack(b_by_level))


def check_edge_levels(
    edge: xr.Dataset | None, *, levels=_levels.EDGE_LEVELS, calibrate: bool = True
) -> tuple[ClaimCheck, ...]:
    """EDGE-L(a)-(c) against an edge store (``no data`` without one)."""
    if edge is None:
        return tuple(
            ClaimCheck(k, c, "needs the edge results", NO_DATA) for k, c in CLAIMS_LEVELS.items()
        )
    widths = edge.width.values.astype(np.float64)
    tables = _levels.level_tables(edge, levels)
    by_init = {i: {c: t[i] for c, t in tables.items()} for i in ("A", "B")}
    where = (
        f"C = {', '.join(f'{c:g}' for c in tables)}, T = {int(edge.step[-1])}, "
        f"n = {int(widths[0])} … {int(widths[-1])} ({widths.size} widths)"
    )
    checks = []
    for key, init, other in (("EDGE-L(a)", "A", "B"), ("EDGE-L(b)", "B", "A")):
        fit = _levels.level_exponent(widths, by_init[init])
        per_level = "; ".join(f"C={c:g}: {v:+.3f}" for c, (v, _) in fit.per_level.items())
        checks.append(
            ClaimCheck(
                key,
                CLAIMS_LEVELS[key],
                f"{where}: median k_{init} = {fit.describe()} (per level {per_level})",
                REPRODUCED if _near(fit, PREDICTED[init], PREDICTED[other]) else NOT,
                {f"exponent_{init}": fit.value, "low": fit.ci[0], "high": fit.ci[1]},
                rule=RULES_LEVELS[key],
                null_pass_rate=_alternative_null(
                    widths, by_init[init], PREDICTED[init], PREDICTED[other]
                )
                if calibrate
                else math.nan,
                null=f"each level tilted to the alternative {PREDICTED[other]:g}, seeds resampled",
            )
        )
    diff = _levels.level_difference(widths, by_init["A"], by_init["B"])
    checks.append(
        ClaimCheck(
            "EDGE-L(c)",
            CLAIMS_LEVELS["EDGE-L(c)"],
            f"{where}: median k_A − k_B = {diff.describe()} (predicted +1/2)",
            REPRODUCED if diff.ci[0] > 0 else NOT,
            {"difference": diff.value, "low": diff.ci[0], "high": diff.ci[1]},
            rule=RULES_LEVELS["EDGE-L(c)"],
            null_pass_rate=_swap_null(widths, by_init["A"], by_init["B"])
            if calibrate
            else math.nan,
            null="seeds resampled, Init[A]/Init[B] labels swapped per seed",
        )
    )
    return tuple(checks)


def _fmt(evidence: rules.Evidence | None) -> str:
    return "—" if evidence is None else evidence.describe()


def _evidence(widths, values) -> rules.Evidence | None:
    ok = np.isfinite(values).any(axis=1)
    if ok.sum() < 3:
        return None
    return rules.exponent_evidence(widths[ok], values[ok])


def _difference(widths, a, b) -> rules.Evidence | None:
    ok = np.isfinite(a).any(axis=1) & np.isfinite(b).any(axis=1)
    if ok.sum() < 3:
        return None
    return rules.difference_evidence(widths[ok], a[ok], b[ok])


def level_table(edge: xr.Dataset, name: str, *, levels=_levels.EDGE_LEVELS) -> str:
    """Markdown: per level C, k_A, k_B and k_A − k_B with both intervals and the one-level rules'
    verdicts (EDGE(a)/(b)/(c) read at that level), then the across-level row."""
    widths = edge.width.values.astype(np.float64)
    tables = _levels.level_tables(edge, levels)
    rows = [
        f"| {name}: level C | k_A | k_B | k_A − k_B | EDGE(a) | EDGE(b) | EDGE(c) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c, t in tables.items():
        a, b = _evidence(widths, t["A"]), _evidence(widths, t["B"])
        d = _difference(widths, t["A"], t["B"])
        ok_a = a is not None and rules.near(a, -0.5, alternative=-1.0, tolerance=EDGE_TOLERANCE)
        ok_b = b is not None and rules.near(b, -1.0, alternative=-0.5, tolerance=EDGE_TOLERANCE)
        ok_c = d is not None and d.excludes_from_above(0.0)
        verdicts = [REPRODUCED if ok else NOT for ok in (ok_a, ok_b, ok_c)]
        rows.append(f"| {c:g} | {_fmt(a)} | {_fmt(b)} | {_fmt(d)} | " + " | ".join(verdicts) + " |")
    by_init = {i: {c: t[i] for c, t in tables.items()} for i in ("A", "B")}
    fa = _levels.level_exponent(widths, by_init["A"])
    fb = _levels.level_exponent(widths, by_init["B"])
    fd = _levels.level_difference(widths, by_init["A"], by_init["B"])
    rows.append(
        f"| all (median; levels and seeds) | {fa.describe()} | {fb.describe()} | "
        f"{fd.describe()} | {REPRODUCED if _near(fa, -0.5, -1.0) else NOT} | "
        f"{REPRODUCED if _near(fb, -1.0, -0.5) else NOT} | {REPRODUCED if fd.ci[0] > 0 else NOT} |"
    )
    return "\n".join(rows)


def definitions_table(edge: xr.Dataset, name: str) -> str:
    """Markdown: the feature edge (median over the levels), the loss edge and the divergence edge,
    each with k_A, k_B and k_A − k_B (both intervals; the feature edge's across-level interval)."""
    widths = edge.width.values.astype(np.float64)
    tables = _levels.level_tables(edge)
    by_init = {i: {c: t[i] for c, t in tables.items()} for i in ("A", "B")}
    fa = _levels.level_exponent(widths, by_init["A"])
    fb = _levels.level_exponent(widths, by_init["B"])
    fd = _levels.level_difference(widths, by_init["A"], by_init["B"])
    rows = [
        f"| {name}: edge definition | k_A | k_B | k_A − k_B |",
        "| --- | --- | --- | --- |",
        f"| feature edge, max_t RMS(Z_B) reaches C (median over C = 1 … 16) | {fa.describe()} | "
        f"{fb.describe()} | {fd.describe()} |",
    ]
    for label, table in (
        ("loss edge, loss_T < loss_0 / 2", loss_edge_table(edge)),
        ("divergence edge, loss finite and loss_T < loss_0", _levels.divergence_edge_table(edge)),
    ):
        rows.append(
            f"| {label} | {_fmt(_evidence(widths, table['A']))} | "
            f"{_fmt(_evidence(widths, table['B']))} | "
            f"{_fmt(_difference(widths, table['A'], table['B']))} |"
        )
    return "\n".join(rows)
