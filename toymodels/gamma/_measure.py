"""The empirical-γ check: train at several widths, fit the width exponents, compare with theory.

For a toy model, an initialization and learning rates η_A = η₀·n^(c_A), η_B = η₀·n^(c_B), it
trains a few steps at each width over several seeds (one compiled call per width), records the
per-coordinate RMS of every tracked quantity, and judges the fitted slope of log RMS against
log n at each step t = 1..T against ``theory.predict(...).trajectory[t]`` (see
:mod:`toymodels.gamma._report` for the verdict and ``docs/empirical-gamma.md`` for the
protocol).

**Across rank** (``rank_exponent`` κ, ``multiplier`` s; docs/theory.md §12): at each width the rank
is r = round(n^κ) (a Θ(1) factor from n^κ) and the LoRA output carries r^(−s); B₀'s entries are
N(0, 1) under Init[B] (the calculator's Init[B] at every rank). The fitted slope against log n is
then compared with ``theory.predict(..., rank_exponent=κ, multiplier=s)``: a quantity Θ(n^(a + bκ))
checks a and b together.

>>> ranks_at((128, 1024, 8192), "1/2")
(11, 32, 91)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

import theory
from toymodels.core import (
    MODELS,
    TrainConfig,
    UsageError,
    canonical_init,
    theory_model_of,
    train_grid,
)
from toymodels.gamma._report import CoordCheckReport, WidthMeasurement, compare

#: toy model → the optimizer it is trained with for the check (Adam without weight decay where its
#: paper uses AdamW: the γ-calculus models Adam); its theory model is ``core.MODELS[model]``.
CHECK_OPTIMIZER = {"teacher-student": "adam", "lora-mlp": "adam", "linear": "sgd"}

#: The quantities compared, per theory model (names of docs/architecture.md).
QUANTITIES = {
    "adam": ("Z_A", "B", "Z_B", "dZ_B", "delta1", "delta2", "delta3"),
    "gd-linear": ("b", "aTx", "f", "delta1", "delta2", "delta3"),
}


DEFAULT_WIDTHS = tuple(2**k for k in range(7, 14))
#: t = 1 (the asymmetric first step) and t = 2, where Z_A, B, Z_B reach their fixed point in every
#: setting; later steps add loss-landscape effects the γ-calculus does not model (see the docs).
DEFAULT_STEPS = 2
DEFAULT_TOLERANCE = 0.15


class ModelDefaults(NamedTuple):
    """Per-model defaults of the check; docs/empirical-gamma.md gives the reasons."""

    eta0: float  # η = η₀·n^c
    n_train: int  # full-batch data points: few, so Assumption 1 holds at n ≥ 2^7
    seeds: int  # enough for a slope CI of about ±0.1


DEFAULTS = {
    "teacher-student": ModelDefaults(eta0=1.0, n_train=8, seeds=4),
    "lora-mlp": ModelDefaults(eta0=1.0, n_train=8, seeds=4),
    # One sample (LoRA+ §3.1): b, aᵀx are single numbers per seed, so many seeds.
    "linear": ModelDefaults(eta0=0.5, n_train=1, seeds=128),
}


def normalize_init(init) -> str:
    """``"Init[1]"`` → ``"A"`` (:func:`toymodels.core.canonical_init`); :class:`UsageError` for
    ``AB`` or any other init: the check needs a theory prediction.

    >>> normalize_init("Init[2]")
    'B'
    """
    canonical = canonical_init(init)
    if canonical not in theory.INITS:
        raise UsageError(
            f"unknown init {init!r} for the empirical-γ check: it needs a theory prediction (A, B)"
        )
    return canonical


def ranks_at(widths, rank_exponent) -> tuple[int, ...]:
    """r = round(n^κ) at each width (at least 1)."""
    kappa = float(Fraction(rank_exponent))
    return tuple(max(1, round(int(n) ** kappa)) for n in widths)


def rank_setting(rank_exponent, multiplier) -> tuple[Fraction, Fraction | None]:
    """κ and s, exact; :class:`UsageError` for κ outside [0, 1) or s not a rational."""
    from toymodels.core import multiplier_exponent

    try:
        kappa = theory.parse_exponent(str(rank_exponent))
    except theory.ExponentError as error:
        raise UsageError(f"bad rank exponent: {error}") from None
    if kappa == theory.NEG_INF or not 0 <= kappa < 1:
        raise UsageError(f"the rank exponent κ must lie in [0, 1), got {rank_exponent}")
    return kappa, None if multiplier is None else multiplier_exponent(multiplier)


def rate_exponent(value) -> Fraction:
    """A learning-rate exponent, exact: ``"-1/2"``, ``"-0.5"``, ``-1``, ``Fraction(-1, 2)``."""
    try:
        exponent = theory.parse_exponent(value)
    except theory.ExponentError as error:
        raise UsageError(f"bad learning-rate exponent: {error}") from None
    if exponent == theory.NEG_INF:
        raise UsageError("a learning-rate exponent must be finite (η = n^-inf is no training)")
    return exponent


def measure(
    model: str,
    init: str,
    *,
    eta_A_exponent: Fraction,
    eta_B_exponent: Fraction,
    eta0: float,
    widths: Sequence[int],
    steps: int,
    seeds: Sequence[int],
    quantities: Sequence[str],
    n_train: int,
    progress: bool = False,
    ranks: Sequence[int] | None = None,
    multiplier: Fraction = Fraction(0),
) -> WidthMeasurement:
    """Train ``model`` at every width with η = η₀·n^c and record the per-coordinate RMS.

    ``ranks``: the rank at each width (default: the model's default rank everywhere, B₀ as the
    model draws it); given, B₀ has entries N(0, 1) (the calculator's Init[B]).
    Returns a :class:`WidthMeasurement` with ``rms[q]`` of shape ``[W, S, T + 1]``.
    """
    optimizer = CHECK_OPTIMIZER[model]
    per_width = {q: [] for q in quantities}
    across_rank = {} if ranks is None else {"B_std": 1.0, "multiplier": multiplier}
    ranks = [None] * len(widths) if ranks is None else ranks
    for width, rank in tqdm(
        list(zip(widths, ranks, strict=True)),
        desc="coordcheck widths",
        unit="width",
        disable=not progress,
    ):
        config = TrainConfig(
            model=model, width=width, init=init, optimizer=optimizer, steps=steps,
            n_train=n_train, rank=rank, **across_rank,
        )  # fmt: skip
        lr_A = np.array([eta0 * width ** float(eta_A_exponent)])
        lr_B = np.array([eta0 * width ** float(eta_B_exponent)])
        result = train_grid(config, lr_A, lr_B, np.asarray(seeds))
        for q in quantities:
            per_width[q].append(np.asarray(result.metrics[q])[0])  # [S, T + 1]
    return WidthMeasurement(
        widths=tuple(int(w) for w in widths),
        seeds=tuple(int(s) for s in seeds),
        rms={q: np.stack(v) for q, v in per_width.items()},
    )


def coordcheck(
    model: str,
    init: str,
    *,
    eta_A_exponent,
    eta_B_exponent,
    eta0: float | None = None,
    widths: Sequence[int] = DEFAULT_WIDTHS,
    steps: int = DEFAULT_STEPS,
    seeds: int | Sequence[int] | None = None,
    n_train: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    progress: bool = False,
    rank_exponent=None,
    multiplier=None,
    reading: str = "aligned",
) -> CoordCheckReport:
    """Measure the width exponents of ``model`` and check them against ``theory.predict``.

    Args:
      model: ``"teacher-student"``, ``"lora-mlp"`` (Adam; theory model ``adam``) or ``"linear"``
        (gradient descent; theory model ``gd-linear``).
      init: ``"A"`` or ``"B"`` (aliases ``Init[1]``, ``Init[2]``, ...).
      eta_A_exponent, eta_B_exponent: exact rate exponents c_A, c_B (``"-1/2"``,
        ``Fraction(-1, 2)``); the rates are η = η₀·n^c.
      eta0: the prefactor η₀ > 0 (default: the model's in :data:`DEFAULTS`).
      widths: at least two distinct widths n ≥ 1.
      steps: T ≥ 1 updates; steps t = 1..T are compared.
      seeds: a number of seeds (0..S−1) or the seeds themselves (default: the model's).
      n_train: full-batch training points (default: the model's).
      tolerance: a cell passes when |measured − predicted| ≤ tolerance.
      rank_exponent: κ ∈ [0, 1): train at rank r = round(n^κ) (module docstring); ``None``: the
        model's fixed rank, as the papers (κ = 0).
      multiplier: s in α·r^(−s), an exact rational (default: the calculator's s = 1 when κ is
        given; the toys' no multiplier otherwise, which at a fixed rank changes no exponent).
      reading: ``"aligned"`` (the built-in model) or ``"per-coordinate"`` (Assumption K's other
        reading of the sums over the rank index, ``core.theory_model_of``; adam only).

    Returns:
      A :class:`CoordCheckReport`. Raises :class:`UsageError` for bad input.
    """
    if model not in MODELS:
        raise UsageError(
            f"unknown model {model!r} for the empirical-γ check: "
            f"expected one of {', '.join(MODELS)}"
        )
    init = normalize_init(init)
    eta_A_exponent, eta_B_exponent = rate_exponent(eta_A_exponent), rate_exponent(eta_B_exponent)
    defaults = DEFAULTS[model]
    eta0 = defaults.eta0 if eta0 is None else float(eta0)
    if not (math.isfinite(eta0) and eta0 > 0):
        raise UsageError(f"eta0 must be a positive number, got {eta0}")
    widths = tuple(widths)
    if any(int(w) != w or w < 1 for w in widths):
        raise UsageError(f"widths must be positive integers, got {list(widths)}")
    if len(set(widths)) < 2:
        raise UsageError("the empirical-γ check needs at least two distinct widths to fit a slope")
    widths = tuple(sorted(set(int(w) for w in widths)))
    if int(steps) != steps or steps < 1:
        raise UsageError(f"steps must be an integer >= 1, got {steps}")
    seeds = defaults.seeds if seeds is None else seeds
    seeds = tuple(range(seeds)) if isinstance(seeds, int) else tuple(int(s) for s in seeds)
    if not seeds:
        raise UsageError("the empirical-γ check needs at least one seed")
    n_train = defaults.n_train if n_train is None else n_train
    if int(n_train) != n_train or n_train < 1:
        raise UsageError(f"n_train must be an integer >= 1, got {n_train}")
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise UsageError(f"tolerance must be a number >= 0, got {tolerance}")

    theory_model = MODELS[model].theory_model
    ranks, rank_inputs = None, {}
    if rank_exponent is not None or multiplier is not None:
        kappa, s = rank_setting(rank_exponent or 0, multiplier)
        s = Fraction(1) if s is None else s
        ranks = ranks_at(widths, kappa)
        if any(r > n for r, n in zip(ranks, widths, strict=True)):
            raise UsageError(f"rank n^κ exceeds the width at widths {list(widths)}")
        rank_inputs = {"rank_exponent": kappa, "multiplier": s}
    prediction = theory.predict(
        theory_model_of(theory_model, reading), init,
        eta_A=eta_A_exponent, eta_B=eta_B_exponent, steps=steps,
        **rank_inputs,
    )  # fmt: skip
    quantities = QUANTITIES[theory_model]
    measurement = measure(
        model,
        init,
        eta_A_exponent=eta_A_exponent,
        eta_B_exponent=eta_B_exponent,
        eta0=eta0,
        widths=widths,
        steps=steps,
        seeds=seeds,
        quantities=quantities,
        n_train=int(n_train),
        progress=progress,
        ranks=ranks,
        multiplier=rank_inputs.get("multiplier", Fraction(0)),
    )
    checks = compare(
        measurement,
        prediction.trajectory,
        quantities=quantities,
        steps=range(1, steps + 1),
        tolerance=tolerance,
    )
    setting = {
        "model": model,
        "theory_model": theory_model,
        "optimizer": CHECK_OPTIMIZER[model],
        "init": init,
        "eta_A_exponent": theory.format_exponent(eta_A_exponent),
        "eta_B_exponent": theory.format_exponent(eta_B_exponent),
        "eta0": eta0,
        "widths": list(widths),
        "seeds": list(seeds),
        "n_train": int(n_train),
        "steps": steps,
        "tolerance": tolerance,
    }
    if rank_inputs:
        setting["rank_exponent"] = theory.format_exponent(rank_inputs["rank_exponent"])
        setting["multiplier"] = theory.format_exponent(rank_inputs["multiplier"])
        setting["ranks"] = list(ranks)
    if reading != "aligned":
        setting["reading"] = reading
    return CoordCheckReport(setting=setting, checks=checks, measurement=measurement)
