"""The named experiments and their presets: `paper` (the papers' setups), `quick` (demos) and
`smoke` (seconds: the smallest run that takes every code path, for the test suite, the docs test
and the GPU check's dry run; its numbers mean nothing).

Every number a paper leaves open is chosen here, once, with the evidence in docs/sweeps.md
("Choices the papers leave open"). A preset is plain data; the CLI turns it into a
:class:`~toymodels.sweeps._run.SweepConfig`, letting flags override single fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from toymodels.core import UsageError
from toymodels.sweeps._refine import Refinement

PRESETS = ("paper", "quick", "smoke")

#: Init App. B.1.1: AdamW with β1 = 0.9, β2 = 0.99, rank 4. Weight decay: the paper gives none;
#: 0 keeps the optimizer the one the theory analyses (Adam). Full batch (N = 1000): the paper gives
#: no batch size, and full batch removes minibatch noise from the learning-rate comparison.
_TEACHER_STUDENT = {
    "optimizer": "adamw",
    "rank": 4,
    "b1": 0.9,
    "b2": 0.99,
    "weight_decay": 0.0,
    "n_train": 1000,
    "n_test": 100,
    "data_seed": 0,
}
#: What every smoke preset shares: 100 data points and 10 steps (cost ∝ N·n·T; compilation, not
#: training, is then most of a smoke run's time).
_SMOKE = {"n_train": 100, "n_test": 10, "steps": 10}


def powers_of_two(low: int, high: int) -> tuple[int, ...]:
    """``(2^low, ..., 2^high)``.

    >>> powers_of_two(7, 9)
    (128, 256, 512)
    """
    return tuple(2**k for k in range(low, high + 1))


def log_grid(low: float, high: float, count: int) -> tuple[float, ...]:
    """``count`` log-spaced rates from ``low`` to ``high`` inclusive.

    >>> log_grid(1e-3, 1e-1, 3)
    (0.001, 0.01, 0.1)
    """
    return tuple(float(f"{r:.6g}") for r in np.geomspace(low, high, count))


@dataclasses.dataclass(frozen=True)
class Preset:
    """One experiment at one preset: what to train and how the summary reads it.

    ``rates`` is the equal-rate grid (η_A = η_B) at the width n₀ = ``rate_anchor`` (default: the
    narrowest width); with ``rate_scaling`` = s the grid at width n is ``rates · (n/n₀)^s`` (one
    shared grid per width, so both inits see the same rates). ``eta_A`` × ``eta_B`` is the 2-D
    grid of `heatmap`. With a ``refinement``, ``rates`` is the coarse first stage of a two-stage
    grid (``_refine.py``).
    ``summary_steps``: the steps the summary reports (None: the last); ``window``: the loss at step
    t is the mean over steps t − window + 1 … t (Adam at a large constant rate oscillates, and one
    step's loss would pick the optimum by the phase of the oscillation).
    """

    experiment: str
    name: str
    model: str
    inits: tuple[str, ...]
    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    train: Mapping[str, Any]
    rates: tuple[float, ...] = ()
    rate_scaling: str | None = None
    rate_anchor: int | None = None
    eta_A: tuple[float, ...] = ()
    eta_B: tuple[float, ...] = ()
    metric: str = "train_loss"
    window: int = 1
    summary_steps: tuple[int | None, ...] = (None,)
    refinement: Refinement | None = None


def octave_grid(low: float, high: float, per_octave: int) -> tuple[float, ...]:
    """Rates ``2^low … 2^high`` spaced by ``2^(1/per_octave)``, ends included.

    >>> octave_grid(-2, -1, 2)
    (0.25, 0.353553, 0.5)
    """
    count = round((high - low) * per_octave) + 1
    return log_grid(2.0**low, 2.0**high, count)


#: The coarse first stage of Figure 2: factor 2 over 2^-14 … 2^-2, the same at every width and
#: never scaled with it. The exploratory runs' per-seed optima (widths 2^7 … 2^11: Init[A]
#: 2^-4.5 … 2^-8.9, Init[B] 2^-5.4 … 2^-9.9; docs/sweeps.md), continued to 2^13 at their slopes
#: (≈ 2^-10.5 and 2^-11.5), lie an octave or more inside it. It is also the fixed unscaled grid
#: whose exponents the summary reports as a sensitivity.
FIGURE2_COARSE = octave_grid(-14, -2, 1)

#: Figure 2 (docs/sweeps.md, "Figure 2"): 8 seeds, a two-stage grid per width: the coarse grid,
#: then a window of 13 rates 2^(1/4) apart (3 octaves) centred on the coarse rate of lowest
#: seed-median loss, moved (at most 4 times) until no seed's optimum lies on its edge. The
#: optimum per seed is the parabola through the window's minimum and its neighbours
#: (`interpolated_optimum`); one still on the window's edge is a bound, never an estimate.
FIGURE2 = {
    "paper": Preset(
        experiment="figure2",
        name="paper",
        model="teacher-student",
        inits=("A", "B"),
        widths=powers_of_two(7, 13),
        seeds=tuple(range(8)),
        rates=FIGURE2_COARSE,
        train={**_TEACHER_STUDENT, "steps": 150, "record": False},
        window=15,
        refinement=Refinement(per_octave=4, half_width=6, max_moves=4, window=15),
    ),
    # The quick Figure 2: widths 2^7 … 2^10, 4 seeds, T = 80, the coarse grid over 2^-12 … 2^-3
    # and a window of 7 rates 2^(1/2) apart.
    "quick": Preset(
        experiment="figure2",
        name="quick",
        model="teacher-student",
        inits=("A", "B"),
        widths=powers_of_two(7, 10),
        seeds=(0, 1, 2, 3),
        rates=octave_grid(-12, -3, 1),
        train={**_TEACHER_STUDENT, "steps": 80, "record": False},
        window=8,
        refinement=Refinement(per_octave=2, half_width=3, max_moves=4, window=8),
    ),
    "smoke": Preset(
        experiment="figure2",
        name="smoke",
        model="teacher-student",
        inits=("A", "B"),
        widths=powers_of_two(6, 8),
        seeds=(0, 1),
        rates=octave_grid(-9, -1, 1),
        train={**_TEACHER_STUDENT, **_SMOKE, "record": False},
        window=2,
        refinement=Refinement(per_octave=2, half_width=1, max_moves=1, window=2),
    ),
}

#: The stability edge (docs/sweeps.md, "The stability edge"): equal rates over one unscaled grid of
#: spacing 2^(1/4) shared by both inits and every width, 2^-17 … 2^0, which brackets every seed's
#: crossing of the levels 1, 4 and 10 at widths 2^7 … 2^13 in the exploratory runs (Init[A]'s
#: edges lie in 2^-9 … 2^-1, Init[B]'s in 2^-16 … 2^-2). T = 25: the crossings at C ≥ 2 are set in
#: the first 10–25 steps (T = 25 and T = 100 agree within the intervals). ``record`` keeps Z_B per
#: step, so every level and every horizon T' ≤ T is computed from the stored runs.
EDGE = {
    "paper": Preset(
        experiment="edge",
        name="paper",
        model="teacher-student",
        inits=("A", "B"),
        widths=powers_of_two(7, 13),
        seeds=tuple(range(8)),
        rates=octave_grid(-17, 0, 4),
        train={**_TEACHER_STUDENT, "steps": 25, "record": True},
        metric="Z_B",
    ),
    # The quick edge: widths 2^7 … 2^10 and a 2^(1/2) grid (interpolated; half the runs).
    "quick": Preset(
        experiment="edge",
        name="quick",
        model="teacher-student",
        inits=("A", "B"),
        widths=powers_of_two(7, 10),
        seeds=tuple(range(8)),
        rates=octave_grid(-17, 0, 2),
        train={**_TEACHER_STUDENT, "steps": 25, "record": True},
        metric="Z_B",
    ),
    # The wide sweep (docs/reproduction.md, "Widths past 2^13"): T = 25 over widths 2^7 … 2^16,
    # the edge at every level of EDGE_LEVELS, the loss optimum at every horizon T' ≤ 25 and the
    # divergence edge from the same runs. The hidden layer is drawn through the data's Gram matrix
    # (the same law as W_h, O(N·n) memory: core/_gram.py), so 2^16 fits on a laptop. One grid
    # of spacing 2^(1/2), scaled as n^(-4/5) (the loss optimum's slope at 2^9 … 2^13), 2^-12.5 …
    # 2^0.5 at 2^7: chosen from results/edge.nc (T = 25, 2^7 … 2^13) and extrapolated with each
    # quantity's slope, it brackets Init[B]'s C = 1 crossing (the lowest rate needed: 2^-15 at
    # 2^13, ≈ 2^-11 on this grid's scale at 2^16) and the divergence of both inits (≈ 2^-2.5 at
    # 2^7, ≈ 2^-1 on this scale at 2^16) with an octave or more to spare.
    "wide": Preset(
        experiment="edge",
        name="wide",
        model="teacher-student",
        inits=("A", "B"),
        widths=powers_of_two(7, 16),
        seeds=tuple(range(8)),
        rates=octave_grid(-12.5, 0.5, 2),
        rate_scaling="-4/5",
        rate_anchor=128,
        train={**_TEACHER_STUDENT, "steps": 25, "record": True, "feature_draw": "gram"},
        metric="Z_B",
    ),
    "smoke": Preset(
        experiment="edge",
        name="smoke",
        model="teacher-student",
        inits=("A", "B"),
        widths=powers_of_two(5, 7),
        seeds=(0, 1, 2),
        rates=octave_grid(-12, 0, 1),
        train={**_TEACHER_STUDENT, **_SMOKE, "record": True},
        metric="Z_B",
    ),
}

#: Figure 3 trains each init at its optimal rate of Figure 2. These defaults are the optima of our
#: `lora-sweep figure2 --preset paper` run, results/figure2.nc (train loss, mean of steps
#: 136..150, mean over 8 seeds, argmin over each cell's fine window), for every width of that run;
#: `--from-results` reads them from any figure-2 results file instead.
FIGURE3_DEFAULT_RATES = {
    ("A", 128): 0.03125,
    ("A", 256): 0.018581361171917516,
    ("A", 512): 0.011048543456039806,
    ("A", 1024): 0.0078125,
    ("A", 2048): 0.005524271728019903,
    ("A", 4096): 0.0013810714675388817,
    ("A", 8192): 0.000976563,
    ("B", 128): 0.018581361171917516,
    ("B", 256): 0.009290680585958758,
    ("B", 512): 0.005524271728019903,
    ("B", 1024): 0.0032847516220848223,
    ("B", 2048): 0.00195313,
    ("B", 4096): 0.0011613344786412874,
    ("B", 8192): 0.000488281,
}

_FIGURE3_PAPER = Preset(
    experiment="figure3",
    name="paper",
    model="teacher-student",
    inits=("A", "B"),
    # Every width of Figure 2 and its 8 seeds (issue 12): claims (c) and (e) are read per seed, and
    # their null (width labels permuted) needs more than the paper's two widths to mean anything;
    # the figure draws the paper's two, 2^7 and 2^13. One rate per cell: cheap beside Figure 2.
    widths=powers_of_two(7, 13),
    seeds=tuple(range(8)),
    # The horizon of figure 2's paper preset: its optima are optimal at this T.
    train={**_TEACHER_STUDENT, "steps": 150, "record": True},
    metric="train_loss",
    window=15,
)

#: The quick preset is the paper one at two widths, 2^7 and 2^10; smoke at 2^7 and 2^8.
FIGURE3 = {
    "paper": _FIGURE3_PAPER,
    "quick": dataclasses.replace(_FIGURE3_PAPER, name="quick", widths=(128, 1024)),
    "smoke": dataclasses.replace(
        _FIGURE3_PAPER,
        name="smoke",
        widths=(128, 256),
        seeds=(0, 1),
        train={**_TEACHER_STUDENT, **_SMOKE, "record": True},
        window=2,
    ),
}

#: LoRA+ §3.2 and App. C.1.1: eq. 3 with d = 5, n = 100, r = 4, N = 1000 / 100, both A and B random
#: (A ~ N(0, 1/n), B ~ N(0, 1)), plain gradient descent, 3 seeds, losses at t = 10 and t = 200.
_LORA_MLP = {"optimizer": "sgd", "rank": 4, "n_train": 1000, "n_test": 100, "data_seed": 0}

#: The LoRA+ grid: 16 rates per axis over 1e-4..1e1 (a third of a decade apart).
_LORAPLUS_GRID = log_grid(1e-4, 1e1, 16)
#: Across η_A's stability edge (some seeds diverge from η_A ≈ 2e-2 on) the η_A grid is twice as
#: fine: a sixth of a decade over 10^-7/3..10^-1/3, so the edge is located per seed; the paper's
#: grid points are kept, so every equal pair η_A = η_B of the 16 × 16 grid is still run.
HEATMAP_ETA_A = tuple(
    sorted(set(_LORAPLUS_GRID) | set(log_grid(10 ** (-7 / 3), 10 ** (-1 / 3), 13)))
)

#: Paper: 8 seeds (LoRA+ used 3; with 3, one diverged seed decided the optimum, issue 12).
_HEATMAP_PAPER = Preset(
    experiment="heatmap",
    name="paper",
    model="lora-mlp",
    inits=("AB",),
    widths=(100,),
    seeds=tuple(range(8)),
    eta_A=HEATMAP_ETA_A,
    eta_B=_LORAPLUS_GRID,
    train={**_LORA_MLP, "steps": 200, "record": False},
    summary_steps=(10, 200),
)
# The quick heatmap: 8 × 8 rates over the same range, the paper's 3 seeds (`make demo` time).
HEATMAP = {
    "paper": _HEATMAP_PAPER,
    "quick": dataclasses.replace(
        _HEATMAP_PAPER,
        name="quick",
        seeds=(0, 1, 2),
        eta_A=log_grid(1e-4, 1e1, 8),
        eta_B=log_grid(1e-4, 1e1, 8),
    ),
    "smoke": dataclasses.replace(
        _HEATMAP_PAPER,
        name="smoke",
        seeds=(0, 1),
        eta_A=log_grid(1e-3, 1e0, 4),
        eta_B=log_grid(1e-3, 1e0, 4),
        train={**_LORA_MLP, **_SMOKE, "record": False},
        summary_steps=(5, 10),
    ),
}

EXPERIMENTS = {"figure2": FIGURE2, "figure3": FIGURE3, "heatmap": HEATMAP, "edge": EDGE}


def get_preset(experiment: str, name: str) -> Preset:
    """The preset ``name`` of ``experiment``; :class:`UsageError` for an unknown one."""
    presets = EXPERIMENTS[experiment]
    if name not in presets:
        raise UsageError(
            f"unknown preset {name!r} for {experiment}; expected one of {', '.join(presets)}"
        )
    return presets[name]


# --- The rank sweep (issue 14): the rank as a second scaling variable ----------------------------


@dataclasses.dataclass(frozen=True)
class RankPreset:
    """A rank sweep: one model, every multiplier s × rank r × init × width over one equal-rate grid.

    The (rank, width) pairs are ``ranks`` at the fixed ``width`` plus, for each κ of ``kappas``,
    r = n^κ at each of ``joint_widths[κ]`` (widths where n^κ is an integer). ``train`` holds the
    remaining ``TrainConfig`` fields; ``metrics`` are the recorded ones the analysis needs (the
    edge's ``edge_metric`` and the train loss); ``window`` as in :class:`Preset`.
    """

    name: str
    model: str
    multipliers: tuple[str, ...]
    inits: tuple[str, ...]
    width: int
    ranks: tuple[int, ...]
    kappas: tuple[str, ...]
    joint_widths: Mapping[str, tuple[int, ...]]
    rates: tuple[float, ...]
    seeds: tuple[int, ...]
    train: Mapping[str, Any]
    edge_metric: str
    window: int = 5


#: Adam (the teacher-student model; the calculator's `adam`): n = 1024 so that r ≤ 2^8 stays below
#: n (r = n^(4/5) at most); N = 100 data points (the edge is a per-coordinate feature size, set in
#: the first 10-25 steps, docs/sweeps.md "The stability edge"; 100 points keep the r = 256 cells
#: affordable on 2 cores); B₀ entries N(0, 1) under Init[B] (the calculator's Init[B], whatever r);
#: Adam without weight decay (the theory's optimizer); the edge's grid 2^-17 … 2^0.
_RANK_ADAM = {
    "optimizer": "adam",
    "steps": 25,
    "n_train": 100,
    "n_test": 10,
    "B_std": 1.0,
    "record": True,
    "data_seed": 0,
}
#: Gradient descent: the linear toy at rank r is the calculator's `gd-linear` (one sample, y = 1);
#: the teacher-student model under SGD has no calculator model. Its feature size is the output f.
_RANK_GD = {"optimizer": "sgd", "steps": 25, "record": True, "data_seed": 0}

#: What every rank preset shares, and what `paper` and `quick` set apart (their rates, seeds and
#: horizons differ per model, below).
_RANK_BOTH = {"multipliers": ("1/2", "1"), "inits": ("A", "B")}
_RANK_PAPER = {
    **_RANK_BOTH,
    "name": "paper",
    "width": 1024,
    "ranks": powers_of_two(0, 8),
    "kappas": ("1/2",),
    "joint_widths": {"1/2": (64, 256, 1024, 4096)},
}
_RANK_QUICK = {
    **_RANK_BOTH,
    "name": "quick",
    "width": 256,
    "ranks": powers_of_two(0, 6),
    "kappas": (),
    "joint_widths": {},
}
_RANK_SMOKE = {**_RANK_QUICK, "name": "smoke", "width": 64, "ranks": powers_of_two(0, 2)}

RANK = {
    ("teacher-student", "paper"): RankPreset(
        **_RANK_PAPER, model="teacher-student", rates=octave_grid(-17, 0, 2),
        seeds=tuple(range(4)), train=_RANK_ADAM, edge_metric="Z_B",
    ),
    ("teacher-student", "quick"): RankPreset(
        **_RANK_QUICK, model="teacher-student", rates=octave_grid(-16, 0, 1),
        seeds=tuple(range(3)), train={**_RANK_ADAM, "steps": 15}, edge_metric="Z_B",
    ),
    ("linear", "paper"): RankPreset(
        **_RANK_PAPER, model="linear", rates=octave_grid(-16, 6, 2),
        seeds=tuple(range(8)), train={**_RANK_GD, "steps": 20}, edge_metric="f",
    ),
    ("linear", "quick"): RankPreset(
        **_RANK_QUICK, model="linear", rates=octave_grid(-22, 6, 1),
        seeds=tuple(range(8)), train=_RANK_GD, edge_metric="f",
    ),
    ("teacher-student", "smoke"): RankPreset(
        **_RANK_SMOKE, model="teacher-student", rates=octave_grid(-12, 0, 1),
        seeds=(0, 1), train={**_RANK_ADAM, "steps": 5, "n_train": 20}, edge_metric="Z_B",
    ),
    ("linear", "smoke"): RankPreset(
        **_RANK_SMOKE, model="linear", rates=octave_grid(-12, 4, 1),
        seeds=(0, 1), train={**_RANK_GD, "steps": 5}, edge_metric="f",
    ),
}  # fmt: skip


def get_rank_preset(model: str, name: str) -> RankPreset:
    """The rank sweep preset ``name`` of ``model``; :class:`UsageError` for an unknown one."""
    if (model, name) not in RANK:
        known = sorted({m for m, _ in RANK})
        raise UsageError(
            f"no rank preset {name!r} for model {model!r}; models: {', '.join(known)}, "
            f"presets: {', '.join(PRESETS)}"
        )
    return RANK[model, name]
