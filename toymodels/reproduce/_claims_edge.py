"""The stability-edge claims: the direct test of the papers' rate exponents.

Both papers' theorems are about the *largest stable* learning rate: with Init[A] it may scale as
Θ(n^-1/2), with Init[B] only as Θ(n^-1) (``theory.predicted_rate_exponent``). ``lora-sweep edge``
measures that rate per seed: the first rate at which the feature size max_{t≤T} RMS(Z_B) reaches
a level C (:mod:`toymodels.analysis._edge`). These rules, fixed here before the paper runs were
looked at, decide whether the fitted exponents match:

- EDGE(a) k_A ≈ −1/2: |k_A + 1/2| ≤ :data:`EDGE_TOLERANCE`, both intervals (seed bootstrap, fit
  to the per-width geometric means) contain −1/2 and exclude the alternative −1;
- EDGE(b) k_B ≈ −1: the mirror (contain −1, exclude −1/2);
- EDGE(c) k_A − k_B > 0: both intervals of the difference above 0 (excludes the same scaling).

The tolerance 0.1 is a fifth of the gap between the two predictions: a fit within it is closer to
its own prediction than to the other's by a factor of four at least.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from toymodels.reproduce import _rules as rules
from toymodels.reproduce import _seed_tables as seed_tables
from toymodels.reproduce._verdicts import NO_DATA, NOT, REPRODUCED, ClaimCheck

#: How close a fitted edge exponent must be to its prediction (fixed before the paper runs).
EDGE_TOLERANCE = 0.1
PREDICTED = {"A": -0.5, "B": -1.0}

CLAIMS_EDGE = {
    "EDGE(a)": "with Init[A] the largest stable rate scales as Θ(n^-1/2)",
    "EDGE(b)": "with Init[B] the largest stable rate scales as Θ(n^-1)",
    "EDGE(c)": "Init[A]'s largest stable rate falls more slowly with width than Init[B]'s",
}
RULES_EDGE = {
    "EDGE(a)": f"|k_A + 1/2| <= {EDGE_TOLERANCE}; seed-bootstrap and fit intervals contain −1/2 "
    "and exclude the alternative −1",
    "EDGE(b)": f"|k_B + 1| <= {EDGE_TOLERANCE}; seed-bootstrap and fit intervals contain −1 and "
    "exclude the alternative −1/2",
    "EDGE(c)": "k_A − k_B > 0: paired seed-bootstrap and fit intervals both above 0 (excludes "
    "the same scaling)",
}


def _near_rule(widths, target: float, alternative: float, n_boot: int):
    def rule(values) -> bool:
        evidence = rules.exponent_evidence(widths, values, n_boot=n_boot)
        return rules.near(evidence, target, alternative=alternative, tolerance=EDGE_TOLERANCE)

    return rule


def check_edge_tables(tables: seed_tables.EdgeTables, *, calibrate: bool = True) -> tuple:
    """EDGE(a)-(c) from per-seed edge tables (init → [W, S] rates; NaN: edge not found)."""
    # Widths not run yet (no edge found at any seed of either init) are left out, not counted.
    ran = np.isfinite(tables.rate["A"]).any(1) | np.isfinite(tables.rate["B"]).any(1)
    widths, a, b = tables.widths[ran], tables.rate["A"][ran], tables.rate["B"][ran]
    if widths.size < 3:
        return tuple(
            ClaimCheck(k, c, "fewer than 3 widths with edges", NO_DATA)
            for k, c in CLAIMS_EDGE.items()
        )
    where = f"stability edge at C = {tables.level:g}, T = {tables.horizon}, n = " + ", ".join(
        str(int(w)) for w in widths
    )
    missing = {"A": int(np.isnan(a).sum()), "B": int(np.isnan(b).sum())}
    checks = []
    for key, init, other in (("EDGE(a)", "A", "B"), ("EDGE(b)", "B", "A")):
        values = {"A": a, "B": b}[init]
        evidence = rules.exponent_evidence(widths, values)
        passed = rules.near(
            evidence, PREDICTED[init], alternative=PREDICTED[other], tolerance=EDGE_TOLERANCE
        )
        rule = _near_rule(widths, PREDICTED[init], PREDICTED[other], rules.NULL_BOOT)
        checks.append(
            ClaimCheck(
                key,
                CLAIMS_EDGE[key],
                f"{where}: k_{init} = {evidence.describe()} (predicted {PREDICTED[init]:g}; "
                f"{missing[init]} of {values.size} per-seed edges not found, left out)",
                REPRODUCED if passed else NOT,
                evidence.as_numbers(f"exponent_{init}"),
                rule=RULES_EDGE[key],
                null_pass_rate=rules.width_null_pass_rate(rule, [values])
                if calibrate
                else math.nan,
                null="seeds resampled, width labels permuted",
            )
        )
    diff = rules.difference_evidence(widths, a, b)

    def decide(x, y):
        return rules.difference_evidence(widths, x, y, n_boot=rules.NULL_BOOT).excludes_from_above(
            0.0
        )

    checks.append(
        ClaimCheck(
            "EDGE(c)",
            CLAIMS_EDGE["EDGE(c)"],
            f"{where}: k_A − k_B = {diff.describe()} (predicted +1/2)",
            REPRODUCED if diff.excludes_from_above(0.0) else NOT,
            diff.as_numbers("difference"),
            rule=RULES_EDGE["EDGE(c)"],
            # EDGE(c) compares the inits: its null swaps their labels per seed (issue 24)
            null_pass_rate=rules.swap_null_pass_rate(decide, a, b) if calibrate else math.nan,
            null="seeds resampled, Init[A]/Init[B] labels swapped per seed",
        )
    )
    return tuple(checks)


def check_stability_edge(
    edge: xr.Dataset | None, *, level: float | None = None, calibrate: bool = True
) -> tuple[ClaimCheck, ...]:
    """EDGE(a)-(c) against an ``edge`` results store (``no data`` without one)."""
    if edge is None:
        return tuple(
            ClaimCheck(k, c, "needs the edge results", NO_DATA) for k, c in CLAIMS_EDGE.items()
        )
    return check_edge_tables(seed_tables.edge_seed_table(edge, level), calibrate=calibrate)
