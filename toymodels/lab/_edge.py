"""The stability edge of a user's model, located per seed by bracketing and bisection.

Definitions as the sweeps' edge (``toymodels.analysis``, docs/sweeps.md "The stability
edge"), with equal rates η_A = η_B = η (or η_B = ratio·η_A):

- **feature edge**: the rate at which the peak feature size ``max_{t = 1..T} max_layers RMS(Z_B)``
  first reaches the level C (a run that diverged counts as above every level), log-log
  interpolated between the bracketing rates (``toymodels.core.crossing_rate``);
- **loss edge**: the largest rate whose loss at T stays below ``LOSS_FRACTION`` of its loss at 0
  (``toymodels.analysis._edge.loss_edge``, the same function).

Where the sweeps train a fixed grid of rates, a user's model is expensive, so each crossing is
located with as few runs as the resolution needs: a coarse pass (spacing ``coarse`` octaves over
``[lo, hi]``, every seed in one call), then ``rounds`` of bisection in log η, each one call of two
runs per seed (the midpoints of its feature and its loss brackets). After the rounds a bracket is
``coarse / 2^rounds`` octaves wide and the crossing is interpolated inside it from every rate the
seed ran. The width exponents k of η_edge(n) ∝ n^k, per init, and k_A − k_B (paired: the two inits
at one seed share data and frozen weights) come with seed-bootstrap intervals
(``toymodels.analysis._edge.exponents``, the same function).

>>> bisect_brackets(np.array([2.0**-4, 2.0**-2]), np.array([2.0**-2, 2.0**0]))
array([0.125, 0.5  ])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

# the analysis wing's own definitions (not re-exported by its package: imported from the module)
from toymodels.analysis import LOSS_FRACTION, exponents, loss_edge
from toymodels.core import UsageError, crossing_rate
from toymodels.lab._check import prepare
from toymodels.lab._train import make_runner, train_runs

DEFAULT_LEVEL = 4.0


def bisect_brackets(low, high) -> np.ndarray:
    """The geometric midpoints of brackets [low, high]."""
    return np.sqrt(np.asarray(low) * np.asarray(high))


def _peaks_and_ratios(out: dict, layers) -> tuple[np.ndarray, np.ndarray]:
    """Per run: max over t ≥ 1 and layers of RMS(Z_B) (inf if not finite), loss_T / loss_0."""
    z_b = np.stack([out[layer.name][:, 1:, 1] for layer in layers], axis=-1)  # [R, T, layers]
    finite = np.isfinite(z_b).all(axis=(1, 2)) & np.isfinite(out["loss"]).all(axis=1)
    peak = np.where(finite, np.nan_to_num(z_b, nan=np.inf).max(axis=(1, 2)), np.inf)
    ratio = out["loss"][:, -1] / out["loss"][:, 0]
    return peak, np.where(finite & np.isfinite(ratio), ratio, np.inf)


class _SeedPoints:
    """Every (rate, peak, loss ratio) one seed has run, kept sorted by rate."""

    def __init__(self):
        self.rates, self.peaks, self.ratios = [], [], []

    def add(self, rate, peak, ratio):
        self.rates.append(float(rate))
        self.peaks.append(float(peak))
        self.ratios.append(float(ratio))

    def sorted(self):
        order = np.argsort(self.rates)
        rates = np.asarray(self.rates)[order]
        keep = np.concatenate([[True], np.diff(rates) > 0])
        return (rates[keep], np.asarray(self.peaks)[order][keep],
                np.asarray(self.ratios)[order][keep])  # fmt: skip

    def feature_bracket(self, level):
        rates, peaks, _ = self.sorted()
        reached = ~(peaks < level)
        if not reached.any() or reached[0]:
            return None
        first = int(np.argmax(reached))
        return rates[first - 1], rates[first]

    def loss_bracket(self):
        rates, _, ratios = self.sorted()
        best = int(np.argmin(ratios))
        if best >= len(ratios) - 1 or not ratios[best] < LOSS_FRACTION:
            return None
        above = np.nonzero(~(ratios[best:] < LOSS_FRACTION))[0]
        if above.size == 0:
            return None
        first = best + int(above[0])
        return rates[first - 1], rates[first]


def locate_edges(runner, layers, seeds, *, level, lo, hi, coarse, rounds, ratio=1.0, chunk=None):
    """Per seed the feature edge and the loss edge (NaN: not bracketed) and the runs it took."""
    grid = 2.0 ** np.arange(lo, hi + 1e-9, coarse)
    points = {seed: _SeedPoints() for seed in seeds}
    runs = 0

    # One call shape for every call (the coarse pass in chunks, each bisection round padded):
    # one compilation per cell, whatever the number of brackets left.
    chunk = 2 * len(seeds) if chunk is None else chunk

    def run(rates, run_seeds):
        nonlocal runs
        out = train_runs(runner, rates, ratio * np.asarray(rates), run_seeds, layers, chunk=chunk)
        peaks, ratios = _peaks_and_ratios(out, layers)
        for rate, seed, peak, r in zip(rates, run_seeds, peaks, ratios, strict=True):
            points[int(seed)].add(rate, peak, r)
        runs += len(rates)

    run(np.repeat(grid, len(seeds)), np.tile(seeds, len(grid)))
    for _ in range(rounds):
        rates, run_seeds = [], []
        for seed in seeds:
            for bracket in (points[seed].feature_bracket(level), points[seed].loss_bracket()):
                if bracket is not None:
                    rates.append(float(bisect_brackets(*bracket)))
                    run_seeds.append(seed)
        if not rates:
            break
        run(np.asarray(rates), np.asarray(run_seeds))
    feature, loss, where = [], [], []
    for seed in seeds:
        rates, peaks, ratios = points[seed].sorted()
        crossing = crossing_rate(rates, peaks, level)
        feature.append(crossing.rate)
        where.append(crossing.where)
        loss.append(loss_edge(rates, ratios))
    return np.asarray(feature), np.asarray(loss), where, runs


def edge_model(
    factory: Callable,
    data: Callable,
    *,
    widths: Sequence[int],
    seeds: int | Sequence[int] = 8,
    inits: Sequence[str] = ("A", "B"),
    steps: int = 15,
    level: float = DEFAULT_LEVEL,
    ratio: float = 1.0,
    lo: float = -16.0,
    hi: float = 0.0,
    coarse: float = 2.0,
    rounds: int = 3,
    optimizer: Callable | None = None,
    loss: Callable | None = None,
    select_A=None,
    select_B=None,
    chunk: int | None = None,
    n_boot: int = 2000,
    name: str = "factory",
    progress: bool = False,
    echo: Callable[[str], None] | None = print,
) -> dict:
    """The feature and loss edges of a user's model at every width and init (module docstring).

    Returns plain JSON values: per init the per-seed edges (``feature``, ``loss``: width →
    [per seed], None where not bracketed), the exponents with bootstrap intervals
    (the analysis wing's ``fitted_exponent`` and ``exponent_difference``), the runs
    each cell took and the setting.
    """
    widths = tuple(sorted({int(w) for w in widths}))
    seeds = tuple(range(seeds)) if isinstance(seeds, int) else tuple(int(s) for s in seeds)
    if len(seeds) < 2 or len(widths) < 3:
        raise UsageError("the edge needs at least 2 seeds and 3 widths for a bootstrap exponent")
    if not (math.isfinite(level) and level > 0 and coarse > 0 and hi > lo and rounds >= 0):
        raise UsageError("the edge needs level > 0, coarse > 0, hi > lo and rounds >= 0")
    if any(init not in ("A", "B") for init in inits):
        raise UsageError(f"the edge's inits are A and B (redrawn), got {list(inits)}")
    grid_runs = len(np.arange(lo, hi + 1e-9, coarse))
    chunk = 2 * len(seeds) if chunk is None else chunk  # locate_edges' call shape
    bounds, layers, selected_by = prepare(
        factory, data, widths, runs=grid_runs * len(seeds), select_A=select_A,
        select_B=select_B, chunk=chunk, name=name, echo=echo,
    )  # fmt: skip
    tables = {"feature": {}, "loss": {}}
    where, runs = {}, {}
    cells = [(init, bound) for init in inits for bound in bounds]
    for init, bound in tqdm(cells, desc="edge", unit="cell", disable=not progress):
        runner = make_runner(bound, layers, data=data, steps=steps, init=init,
                             optimizer=optimizer, loss=loss)  # fmt: skip
        feature, loss_edges, kinds, n_runs = locate_edges(
            runner, layers, np.asarray(seeds), level=level, lo=lo, hi=hi, coarse=coarse,
            rounds=rounds, ratio=ratio, chunk=chunk,
        )  # fmt: skip
        tables["feature"].setdefault(init, []).append(feature)
        tables["loss"].setdefault(init, []).append(loss_edges)
        where.setdefault(init, {})[str(bound.width)] = kinds
        runs.setdefault(init, {})[str(bound.width)] = n_runs
    summary = {
        "setting": {
            "model": name, "widths": list(widths), "seeds": list(seeds), "inits": list(inits),
            "steps": steps, "level": level, "ratio": ratio, "grid_log2": [lo, hi, coarse],
            "rounds": rounds, "loss_fraction": LOSS_FRACTION, "selected_by": selected_by,
            "layers": [layer.name for layer in layers],
        },
        "runs": runs,
        "where": where,
    }  # fmt: skip
    for kind, per_init in tables.items():
        arrays = {init: np.asarray(rows) for init, rows in per_init.items()}
        summary[kind] = {
            **exponents(np.asarray(widths), arrays, n_boot=n_boot),
            "edge": {
                init: {str(w): [None if not math.isfinite(v) else float(v) for v in row]
                       for w, row in zip(widths, values, strict=True)}
                for init, values in arrays.items()
            },
        }  # fmt: skip
    return summary


__all__ = ["DEFAULT_LEVEL", "bisect_brackets", "edge_model", "locate_edges"]
