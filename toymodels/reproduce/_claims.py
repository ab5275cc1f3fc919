"""The papers' claims, checked by code against a results store (docs/reproduction.md, E1 and E2).

Each check reads the numbers from our data, compares them with the paper's statement under a rule
fixed here in advance (thresholds below), and returns a :class:`ClaimCheck` with the numbers and a
verdict: ``reproduced``, ``partly``, ``not reproduced``, or ``no data`` when the store a claim needs
was not given. Nothing is invented: a missing store gives ``no data``, never a default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import xarray as xr

from toymodels.core import fit_power_law
from toymodels.reproduce import _figure_data as data

REPRODUCED, PARTLY, NOT, NO_DATA = "reproduced", "partly", "not reproduced", "no data"

#: Claim (a)/(b): "large width" starts at n = 2^9 (Init §3.7: "typically n >= 2^9").
LARGE_WIDTH = 2**9
#: Claim (b): a fitted exponent "follows n^-1" when within this of -1 (the empirical-γ tolerance).
EXPONENT_TOLERANCE = 0.15
#: Claims (c) and E1(a): "much larger" / "≫" means at least one order of magnitude.
MUCH_LARGER = 10.0
#: E1(c), E1(d): a rate "matches" the caption's when within half a decade of it.
MATCH_DECADES = 0.5
#: E1 numbers printed in the LoRA+ Figure 2 caption (test loss, t = 200).
CAPTION_OPTIMUM = (2.78, 1.29e-4)
CAPTION_EQUAL = 2.15e-2


@dataclass(frozen=True)
class ClaimCheck:
    """One claim, what our data shows, and the verdict."""

    key: str
    claim: str
    evidence: str
    verdict: str
    numbers: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "numbers", MappingProxyType(dict(self.numbers)))

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "claim": self.claim,
            "evidence": self.evidence,
            "verdict": self.verdict,
            "numbers": dict(self.numbers),
        }


def _count_verdict(hits: int, total: int) -> str:
    if total == 0:
        return NO_DATA
    return REPRODUCED if hits == total else PARTLY if 2 * hits >= total else NOT


def _g(x: float) -> str:
    return f"{x:.3g}"


# ---------------------------------------------------------------- initialization paper (E2)

CLAIMS_E2 = {
    "E2(a)": "for n >= 2^9 the optimal rate with Init[A] is larger than with Init[B]",
    "E2(b)": "at large n, Init[A]'s optimal rate lies between Θ(n^-1) and Θ(n^-1/2); "
    "Init[B]'s follows Θ(n^-1)",
    "E2(c)": "with Init[A], |Z_A| grows with width and is much larger than with Init[B] at the "
    "largest width",
    "E2(d)": "train loss is lower with Init[A] than with Init[B]",
    "E2(e)": "with Init[A], |Z_B| shrinks as n grows",
}


def _no_data(key: str, claims: Mapping[str, str], what: str) -> ClaimCheck:
    return ClaimCheck(key, claims[key], f"needs the {what} results", NO_DATA)


def _completed_widths(opt: data.Optimum) -> list[int]:
    """Widths whose cells ran for both inits (a partial sweep's missing cells have NaN loss)."""
    ran = ~np.isnan(opt.loss.sel(init="A").values) & ~np.isnan(opt.loss.sel(init="B").values)
    return [int(w) for w, r in zip(opt.loss.width.values, ran, strict=True) if r]


def _claim_a(opt: data.Optimum) -> ClaimCheck:
    widths = [w for w in _completed_widths(opt) if w >= LARGE_WIDTH]
    eta_A = opt.eta.sel(init="A", width=widths).values
    eta_B = opt.eta.sel(init="B", width=widths).values
    larger = eta_A > eta_B  # NaN (nothing trained) compares False: counted as a miss
    per_width = ", ".join(
        f"n={w}: {_g(a)} vs {_g(b)}" for w, a, b in zip(widths, eta_A, eta_B, strict=True)
    )
    evidence = (
        f"η*_A > η*_B at {int(larger.sum())} of {len(widths)} widths >= {LARGE_WIDTH} ({per_width})"
        if widths
        else f"no width >= {LARGE_WIDTH} in the sweep"
    )
    numbers = {
        f"ratio_A_over_B_n{w}": float(a / b) for w, a, b in zip(widths, eta_A, eta_B, strict=True)
    }
    return ClaimCheck(
        "E2(a)",
        CLAIMS_E2["E2(a)"],
        evidence,
        _count_verdict(int(larger.sum()), len(widths)),
        numbers,
    )


def _fit_optimum(opt: data.Optimum, init: str):
    widths = opt.eta.width.values
    large = widths >= LARGE_WIDTH
    use = large if large.sum() >= 3 else np.ones_like(large)  # too few large widths: fit all
    eta = opt.eta.sel(init=init).values
    ok = use & np.isfinite(eta)
    if np.unique(widths[ok]).size < 2:
        return None, widths[ok]
    return fit_power_law(widths[ok], eta[ok]), widths[ok]


def _claim_b(opt: data.Optimum) -> ClaimCheck:
    fit_A, widths = _fit_optimum(opt, "A")
    fit_B, _ = _fit_optimum(opt, "B")
    if fit_A is None or fit_B is None:
        return ClaimCheck("E2(b)", CLAIMS_E2["E2(b)"], "fewer than two widths trained", NO_DATA)
    a_between = -1.0 <= fit_A.exponent <= -0.5
    b_follows = fit_B.contains(-1.0) or abs(fit_B.exponent + 1.0) <= EXPONENT_TOLERANCE
    edge_B = opt.at_grid_edge.sel(init="B").values
    evidence = (
        f"fit over n = {', '.join(str(int(w)) for w in widths)}: "
        f"Init[A] η* ∝ n^{fit_A.exponent:.2f} [{fit_A.ci[0]:.2f}, {fit_A.ci[1]:.2f}] "
        f"({'in' if a_between else 'outside'} [-1, -1/2]); "
        f"Init[B] η* ∝ n^{fit_B.exponent:.2f} [{fit_B.ci[0]:.2f}, {fit_B.ci[1]:.2f}] "
        f"({'consistent with' if b_follows else 'not'} -1 at ±{EXPONENT_TOLERANCE})"
        + (
            f"; Init[B] optimum on the rate grid's edge at {int(edge_B.sum())} widths"
            if edge_B.any()
            else ""
        )
    )
    numbers = {
        "exponent_A": fit_A.exponent,
        "ci_A_low": fit_A.ci[0],
        "ci_A_high": fit_A.ci[1],
        "exponent_B": fit_B.exponent,
        "ci_B_low": fit_B.ci[0],
        "ci_B_high": fit_B.ci[1],
    }
    verdict = REPRODUCED if a_between and b_follows else PARTLY if a_between or b_follows else NOT
    return ClaimCheck("E2(b)", CLAIMS_E2["E2(b)"], evidence, verdict, numbers)


def _per_cell(figure3: xr.Dataset, reduce) -> xr.DataArray:
    """``reduce(cell)`` for each init × width of a Figure-3 store, each cell at its best rate."""
    out = xr.DataArray(
        np.nan, coords={"init": figure3.init, "width": figure3.width}, dims=("init", "width")
    )
    for init in figure3.init.values:
        for width in figure3.width.values:
            cell = data.cell_at_optimum(figure3, str(init), int(width))
            out.loc[{"init": init, "width": width}] = float(reduce(cell))
    return out


def _final_norms(figure3: xr.Dataset, name: str) -> xr.DataArray:
    """Seed-mean ``name`` at the last step per init × width (NaN if a seed diverged)."""
    return _per_cell(figure3, lambda cell: cell[name].isel(step=-1).mean("seed", skipna=False))


def _claim_c(figure3: xr.Dataset) -> ClaimCheck:
    z = _final_norms(figure3, "norm_Z_A")
    small, large = int(figure3.width.min()), int(figure3.width.max())
    growth = float(z.sel(init="A", width=large) / z.sel(init="A", width=small))
    ratio = float(z.sel(init="A", width=large) / z.sel(init="B", width=large))
    grows, much = growth > 1.0, ratio >= MUCH_LARGER
    evidence = (
        f"final |Z_A| with Init[A]: {_g(float(z.sel(init='A', width=small)))} at n={small}, "
        f"{_g(float(z.sel(init='A', width=large)))} at n={large} (×{growth:.3g}); "
        f"Init[A]/Init[B] at n={large}: ×{ratio:.3g} (much larger means ×{MUCH_LARGER:g})"
    )
    verdict = REPRODUCED if grows and much else PARTLY if grows or ratio > 1 else NOT
    return ClaimCheck(
        "E2(c)",
        CLAIMS_E2["E2(c)"],
        evidence,
        verdict,
        {"growth_A": growth, "ratio_A_over_B_at_largest": ratio},
    )


def _claim_d(opt: data.Optimum | None, figure3: xr.Dataset | None) -> ClaimCheck:
    parts, hits, total, numbers = [], 0, 0, {}
    if figure3 is not None:
        loss = _per_cell(figure3, lambda cell: data.loss_at(cell, "train_loss"))
        for w in figure3.width.values:
            a, b = float(loss.sel(init="A", width=w)), float(loss.sel(init="B", width=w))
            hits, total = hits + (a < b), total + 1
            numbers[f"figure3_ratio_B_over_A_n{int(w)}"] = b / a
            parts.append(f"Figure 3 n={int(w)}: {_g(a)} vs {_g(b)}")
    if opt is not None:
        widths = _completed_widths(opt)
        a_loss = opt.loss.sel(init="A", width=widths).values
        b_loss = opt.loss.sel(init="B", width=widths).values
        wins = int((a_loss < b_loss).sum())
        hits, total = hits + wins, total + a_loss.size
        parts.append(
            f"Figure 2 best train loss lower with Init[A] at {wins} of {a_loss.size} widths"
        )
        numbers["figure2_widths_A_lower"] = float(wins)
    if total == 0:
        return _no_data("E2(d)", CLAIMS_E2, "figure2 or figure3")
    evidence = f"Init[A] lower in {hits} of {total} comparisons ({'; '.join(parts)})"
    return ClaimCheck("E2(d)", CLAIMS_E2["E2(d)"], evidence, _count_verdict(hits, total), numbers)


def _claim_e(figure3: xr.Dataset) -> ClaimCheck:
    z = _final_norms(figure3, "norm_Z_B").sel(init="A")
    widths = [int(w) for w in figure3.width.values]
    ratio = float(z.sel(width=max(widths)) / z.sel(width=min(widths)))
    per_width = ", ".join(f"n={w}: {_g(float(z.sel(width=w)))}" for w in widths)
    evidence = f"final |Z_B| with Init[A]: {per_width} (largest/smallest width: ×{ratio:.3g})"
    numbers = {"ratio_largest_over_smallest": ratio}
    verdict = REPRODUCED if ratio < 1.0 else NOT
    if len(widths) >= 3 and np.all(np.isfinite(z.values)) and np.all(z.values > 0):
        fit = fit_power_law(np.array(widths, float), z.values)
        numbers["exponent"] = fit.exponent
        evidence += f"; fit ∝ n^{fit.exponent:.2f} [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]"
        if (fit.exponent < 0) != (ratio < 1.0):
            verdict = PARTLY
    if "Z_B" in figure3:
        # ‖Z_B‖ sums n coordinates: it can grow while each coordinate (what γ measures) shrinks.
        rms = _final_norms(figure3, "Z_B").sel(init="A")
        rms_ratio = float(rms.sel(width=max(widths)) / rms.sel(width=min(widths)))
        numbers["rms_ratio_largest_over_smallest"] = rms_ratio
        evidence += f"; per-coordinate RMS of Z_B: ×{rms_ratio:.3g}"
        if verdict == NOT and rms_ratio < 1.0:
            verdict = PARTLY
    return ClaimCheck("E2(e)", CLAIMS_E2["E2(e)"], evidence, verdict, numbers)


def check_init_paper(
    figure2: xr.Dataset | None = None,
    figure3: xr.Dataset | None = None,
    *,
    loss: str = "train_loss",
) -> tuple[ClaimCheck, ...]:
    """Claims (a)-(e) of the initialization paper's §3.7 against Figure-2 and Figure-3 stores.

    ``loss`` picks the optimal rate in the Figure-2 store (seed mean at the last step).
    """
    opt = data.figure2_optimum(figure2, loss) if figure2 is not None else None
    return (
        _claim_a(opt) if opt is not None else _no_data("E2(a)", CLAIMS_E2, "figure2"),
        _claim_b(opt) if opt is not None else _no_data("E2(b)", CLAIMS_E2, "figure2"),
        _claim_c(figure3) if figure3 is not None else _no_data("E2(c)", CLAIMS_E2, "figure3"),
        _claim_d(opt, figure3),
        _claim_e(figure3) if figure3 is not None else _no_data("E2(e)", CLAIMS_E2, "figure3"),
    )


# ---------------------------------------------------------------- LoRA+ toy MLP (E1)

CLAIMS_E1 = {
    "E1(a)": "the best losses sit at η_B ≫ η_A",
    "E1(b)": "the best pair is close to the edge of stability",
    "E1(c)": f"caption: overall optimum (test loss, t=200) (η_A*, η_B*) = {CAPTION_OPTIMUM}",
    "E1(d)": f"caption: best equal pair η_A = η_B = {CAPTION_EQUAL}",
    "E1(e)": "the best pair beats the best equal pair (the point of LoRA+)",
}


def _decades(x: float, y: float) -> float:
    return abs(math.log10(x) - math.log10(y))


def _column_distance_to_divergence(
    grid: data.HeatmapGrid, eta_A: float, eta_B: float
) -> int | None:
    """Grid steps up in η_B (same η_A) from the pair to the first pair that diverged."""
    j = int(np.argmin(np.abs(np.log(grid.eta_A / eta_A))))
    i = int(np.argmin(np.abs(np.log(grid.eta_B / eta_B))))
    above = np.nonzero(np.isinf(grid.loss[i + 1 :, j]))[0]
    return int(above[0]) + 1 if above.size else None


def check_loraplus(heatmap: xr.Dataset | None, *, steps=(10, 200)) -> tuple[ClaimCheck, ...]:
    """The LoRA+ toy-MLP claims (Figure 2 and its caption) against a 2-D rate sweep."""
    if heatmap is None:
        return tuple(_no_data(k, CLAIMS_E1, "heatmap") for k in CLAIMS_E1)
    last = int(heatmap.step.values[-1])
    panels = {
        (loss, min(int(s), last)): data.heatmap_grid(heatmap, loss, min(int(s), last))
        for loss in ("train_loss", "test_loss")
        for s in steps
    }
    main_key = ("test_loss", min(int(steps[-1]), last))
    grid = panels[main_key]
    (a_star, b_star), equal = data.best_pairs(grid)

    ratios = {
        f"{loss}_t{s}": data.best_pairs(g)[0][1] / data.best_pairs(g)[0][0]
        for (loss, s), g in panels.items()
    }
    near_above, near_total = 0, 0
    for g in panels.values():
        best = np.nanmin(np.where(np.isfinite(g.loss), g.loss, np.nan))
        ii, jj = np.nonzero(np.isfinite(g.loss) & (g.loss <= best * (1 + data.NEAR_BEST)))
        near_above += int((g.eta_B[ii] > g.eta_A[jj]).sum())
        near_total += ii.size
    if all(r >= MUCH_LARGER for r in ratios.values()):
        verdict_a = REPRODUCED
    elif all(r > 1 for r in ratios.values()) or 2 * near_above > near_total:
        verdict_a = PARTLY
    else:
        verdict_a = NOT
    claim_a = ClaimCheck(
        "E1(a)",
        CLAIMS_E1["E1(a)"],
        "best-pair η_B/η_A: "
        + ", ".join(f"{k}: {_g(r)}" for k, r in ratios.items())
        + f"; {near_above} of {near_total} within-1% pairs have η_B > η_A",
        verdict_a,
        {
            **{f"ratio_{k}": r for k, r in ratios.items()},
            "near_best_above_diagonal": float(near_above),
            "near_best_total": float(near_total),
        },
    )

    distance = _column_distance_to_divergence(grid, a_star, b_star)
    spacing = float(np.diff(np.log10(grid.eta_B)).mean()) if grid.eta_B.size > 1 else float("nan")
    if distance is None:
        evidence_b, verdict_b = "no pair above the best one (same η_A) diverged in the grid", NOT
    else:
        evidence_b = (
            f"the first diverged pair is {distance} grid step(s) of η_B "
            f"({spacing:.2g} decades each) above the best pair"
        )
        verdict_b = REPRODUCED if distance <= 2 else PARTLY if distance <= 4 else NOT
    claim_b = ClaimCheck(
        "E1(b)",
        CLAIMS_E1["E1(b)"],
        evidence_b,
        verdict_b,
        {"steps_to_divergence": float(distance) if distance else float("nan")},
    )

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
        f"our optimum (η_A*, η_B*) = ({_g(a_star)}, {_g(b_star)}): {how} "
        f"(off by {printed:.2g} decades as printed, {swapped:.2g} swapped)",
        verdict_c,
        {"eta_A": a_star, "eta_B": b_star, "decades_printed": printed, "decades_swapped": swapped},
    )

    if equal is None:
        claim_d = ClaimCheck(
            "E1(d)", CLAIMS_E1["E1(d)"], "the grid has no trainable equal pair", NOT
        )
        claim_e = ClaimCheck(
            "E1(e)", CLAIMS_E1["E1(e)"], "the grid has no trainable equal pair", NO_DATA
        )
    else:
        off = _decades(equal[0], CAPTION_EQUAL)
        claim_d = ClaimCheck(
            "E1(d)",
            CLAIMS_E1["E1(d)"],
            f"our best equal pair: {_g(equal[0])} ({off:.2g} decades from the caption's)",
            REPRODUCED if off <= MATCH_DECADES else PARTLY if off <= 1 else NOT,
            {"eta": equal[0], "decades": off},
        )
        i = int(np.argmin(np.abs(np.log(grid.eta_B / equal[1]))))
        j = int(np.argmin(np.abs(np.log(grid.eta_A / equal[0]))))
        best_loss, equal_loss = float(np.nanmin(grid.loss)), float(grid.loss[i, j])
        gain = equal_loss / best_loss
        claim_e = ClaimCheck(
            "E1(e)",
            CLAIMS_E1["E1(e)"],
            f"test loss at t={main_key[1]}: best pair {_g(best_loss)}, best equal pair "
            f"{_g(equal_loss)} (×{gain:.3g})",
            REPRODUCED if gain > 1 + data.NEAR_BEST else NOT,
            {"best_loss": best_loss, "equal_loss": equal_loss},
        )
    return claim_a, claim_b, claim_c, claim_d, claim_e


def check_claims(
    figure2: xr.Dataset | None = None,
    figure3: xr.Dataset | None = None,
    heatmap: xr.Dataset | None = None,
) -> tuple[ClaimCheck, ...]:
    """Every claim of docs/reproduction.md: E2 (a)-(e), then the LoRA+ E1 claims."""
    return check_init_paper(figure2, figure3) + check_loraplus(heatmap)


def claims_table(checks) -> str:
    """A Markdown table: claim, what our data shows, verdict.

    >>> print(claims_table([ClaimCheck("X", "a claim", "numbers", NO_DATA)]))
    | claim | paper says | our data | verdict |
    | --- | --- | --- | --- |
    | X | a claim | numbers | no data |
    """
    rows = ["| claim | paper says | our data | verdict |", "| --- | --- | --- | --- |"]

    def cell(text: str) -> str:
        return text.replace("|", "\\|")  # |Z_A| must not end a table cell

    rows += [f"| {c.key} | {cell(c.claim)} | {cell(c.evidence)} | {c.verdict} |" for c in checks]
    return "\n".join(rows)
