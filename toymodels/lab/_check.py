"""The width check for any model: per LoRA layer, the measured exponents of Z_A, Z_B and their
steps.

For a factory (``factory(width, key)``, :mod:`toymodels.lab._adapt`), a data source
(``data(key, width) -> (x, y)``) and rates η_A = η₀·n^(c_A), η_B = η₀·n^(c_B), it trains T steps
at every width over S seeds (:mod:`toymodels.lab._train`, one compiled call per width), and for
every LoRA layer and step t = 1..T fits the slope of log RMS against log n
(``toymodels.fit_power_law``, every seed an observation, with its 95% interval) of

- Z_A, Z_B, ΔZ_B: judged against ``theory.predict("adam", init, eta_A=c_A, eta_B=c_B)``;
- ΔZ_A: judged against the adam spec's own update rule (theory/models/adam.toml,
  ``Z_A = eta_A + 1 + support(B)``): c_A + 1 where B_(t−1) ≠ 0 in the calculator's trajectory,
  exactly zero where B_(t−1) = 0 (the calculator names no ΔZ_A).

The verdicts are the built-in check's (``toymodels.gamma``: pass iff |γ̂ − γ| ≤ tolerance, a −∞
prediction passes only on exact zeros). The width n of a layer is the model's width argument: a
layer whose input is not Θ(n)-dimensional (a fixed-size embedding) is still measured against n.
Everything that can be wrong with the input (a factory that fails or returns no model at a width,
no LoRA layers, a selector matching nothing, a layer whose Z's cannot be read, too little memory)
is a :class:`toymodels.UsageError` raised before any training.

>>> predicted_dZ_A([{"B": theory.NEG_INF}, {"B": Fraction(-1, 2)}], 2, Fraction(-1, 2))
Fraction(1, 2)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction

import jax
import numpy as np
from tqdm.auto import tqdm

import theory
from toymodels.core import UsageError
from toymodels.gamma._report import CoordCheckReport, WidthMeasurement, compare
from toymodels.lab._adapt import bind, find_layers
from toymodels.lab._trace import check_tapped
from toymodels.lab._train import (
    INITS,
    QUANTITIES,
    available_memory,
    call_data,
    check_memory,
    make_runner,
    memory_estimate,
    train_runs,
)

DEFAULT_STEPS = 3
DEFAULT_SEEDS = 4
DEFAULT_TOLERANCE = 0.15


def predicted_dZ_A(trajectory, step: int, eta_A_exponent: Fraction):
    """γ[ΔZ_A^t] = c_A + 1 if B_(t−1) ≠ 0 else −∞ (module docstring)."""
    return theory.NEG_INF if trajectory[step - 1]["B"] == theory.NEG_INF else eta_A_exponent + 1


def _exponent(value, what: str) -> Fraction:
    try:
        exponent = theory.parse_exponent(str(value))
    except theory.ExponentError as error:
        raise UsageError(f"bad {what}: {error}") from None
    if exponent == theory.NEG_INF:
        raise UsageError(f"{what} must be finite")
    return exponent


def prepare(factory, data, widths, *, runs: int, select_A=None, select_B=None, chunk=None,
            name: str = "factory", echo=None):  # fmt: skip
    """Bind the factory at every width, find and check the LoRA layers and the memory; return
    ``(bounds, layers, selected_by)``. Every failure is a :class:`UsageError`, before training."""
    bounds, layers, selected_by = [], None, None
    for width in widths:
        bound = bind(factory, width, name=name)
        found = find_layers(
            list(bound.shapes), lora_typed=bound.lora_typed, select_A=select_A, select_B=select_B
        )
        if layers is None:
            layers = found
            selected_by = (
                "selector" if select_A is not None
                else "nnx.LoRAParam" if bound.lora_typed else "name"
            )  # fmt: skip
        elif [layer.name for layer in found] != [layer.name for layer in layers]:
            raise UsageError(
                f"{name}: the LoRA layers at width {width} differ from those at {widths[0]}"
            )
        try:
            x_shape, _ = jax.eval_shape(lambda key, w=width: call_data(data, key, w),
                                        jax.random.key(0))  # fmt: skip
        except UsageError:
            raise
        except Exception as error:
            raise UsageError(
                f"data(key, {width}) failed: {type(error).__name__}: {error}"[:300]
            ) from None
        check_tapped(bound.apply, layers, bound.shapes, x_shape)
        at_once = runs if chunk is None else min(runs, chunk)
        need = memory_estimate(bound, layers, x_shape, at_once)
        check_memory(need, available_memory(), width=width, runs=at_once)
        bounds.append(bound)
    if echo is not None:  # once every width is known to be good: bad input prints one line only
        echo(describe_layers(bounds[0], layers, selected_by))
    return bounds, layers, selected_by


def describe_layers(bound, layers, selected_by: str) -> str:
    """What was selected, one line per layer (printed before training)."""
    lines = [f"LoRA layers found by {selected_by} ({bound.kind} model, width {bound.width}):"]
    for layer in layers:
        a, b = bound.shapes[layer.A].shape, bound.shapes[layer.B].shape
        lines.append(f"  {layer.name}: A = {layer.A} {tuple(a)}, B = {layer.B} {tuple(b)}")
    return "\n".join(lines)


def detect_init(bound, layers) -> str:
    """``"A"`` or ``"B"`` from the model's own LoRA factors at seed 0 (B = 0 or A = 0)."""
    flat = bound.init(jax.random.key(0))
    a_zero = all(not np.any(np.asarray(flat[layer.A])) for layer in layers)
    b_zero = all(not np.any(np.asarray(flat[layer.B])) for layer in layers)
    if b_zero and not a_zero:
        return "A"
    if a_zero and not b_zero:
        return "B"
    raise UsageError(
        "the model's own LoRA init has neither every B = 0 (Init[A]) nor every A = 0 (Init[B]): "
        "the calculator has no prediction; pass init='A' or init='B' to redraw the factors"
    )


def check_model(
    factory: Callable,
    data: Callable,
    *,
    widths: Sequence[int],
    eta_A_exponent,
    eta_B_exponent=None,
    eta0: float = 1.0,
    init: str = "A",
    seeds: int | Sequence[int] = DEFAULT_SEEDS,
    steps: int = DEFAULT_STEPS,
    optimizer: Callable | None = None,
    optimizer_name: str = "adam",
    loss: Callable | None = None,
    select_A=None,
    select_B=None,
    tolerance: float = DEFAULT_TOLERANCE,
    chunk: int | None = None,
    name: str = "factory",
    progress: bool = False,
    echo: Callable[[str], None] | None = print,
) -> CoordCheckReport:
    """The width check of a user's model (module docstring).

    Args:
      factory: ``factory(width, key)`` → an NNX module, an Equinox module or ``Model``.
      data: ``data(key, width)`` → ``(x, y)``, traceable (it runs under ``vmap`` over seeds).
      widths: at least two distinct widths.
      eta_A_exponent, eta_B_exponent: c_A, c_B (exact: ``"-1/2"``); c_B defaults to c_A.
      eta0: η₀ in η = η₀·n^c.
      init: ``"A"``, ``"B"`` (redraw the LoRA factors) or ``"model"`` (keep the model's, which must
        be one of the two).
      seeds: a number of seeds (0..S−1) or the seeds.
      steps: T; steps 1..T are compared.
      optimizer: ``optimizer(eta_A, eta_B)`` → an optax transformation of ``{layer: {"A", "B"}}``
        (default: optax's Adam at η_A on A, η_B on B); ``optimizer_name`` is what it is called in
        the report. The prediction is the calculator's ``adam`` model.
      loss: ``loss(prediction, target)`` → a scalar (default: mean squared error).
      select_A, select_B: regexes or predicates on the parameter paths (both or neither).
      chunk: most runs trained at once (memory).
      echo: prints the selected layers (``None``: silent).

    Returns:
      A ``toymodels.CoordCheckReport`` whose quantities are ``"<layer>:<Z_A|Z_B|dZ_A|dZ_B>"``.
    """
    widths = tuple(sorted({int(w) for w in widths}))
    if len(widths) < 2 or widths[0] < 1:
        raise UsageError(
            f"the width check needs at least two distinct positive widths, got {list(widths)}"
        )
    c_A = _exponent(eta_A_exponent, "eta_A exponent")
    c_B = c_A if eta_B_exponent is None else _exponent(eta_B_exponent, "eta_B exponent")
    if not (math.isfinite(eta0) and eta0 > 0):
        raise UsageError(f"eta0 must be a positive number, got {eta0}")
    if init not in INITS:
        raise UsageError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    seeds = tuple(range(seeds)) if isinstance(seeds, int) else tuple(int(s) for s in seeds)
    if not seeds or int(steps) != steps or steps < 1:
        raise UsageError("the width check needs at least one seed and steps >= 1")
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise UsageError(f"tolerance must be a number >= 0, got {tolerance}")
    bounds, layers, selected_by = prepare(
        factory, data, widths, runs=len(seeds), select_A=select_A, select_B=select_B,
        chunk=chunk, name=name, echo=echo,
    )  # fmt: skip
    theory_init = detect_init(bounds[0], layers) if init == "model" else init
    prediction = theory.predict("adam", theory_init, eta_A=c_A, eta_B=c_B, steps=steps)
    trajectory = [
        {
            f"{layer.name}:{q}": (
                predicted_dZ_A(prediction.trajectory, t, c_A) if q == "dZ_A"
                else prediction.trajectory[t][q]
            ) if t > 0 else theory.NEG_INF
            for layer in layers
            for q in QUANTITIES
        }
        for t in range(steps + 1)
    ]  # fmt: skip
    rms = {f"{layer.name}:{q}": [] for layer in layers for q in QUANTITIES}
    losses = []
    for bound in tqdm(bounds, desc="width check", unit="width", disable=not progress):
        runner = make_runner(
            bound, layers, data=data, steps=steps, init=init, optimizer=optimizer, loss=loss
        )
        n = float(bound.width)
        out = train_runs(
            runner, [eta0 * n ** float(c_A)] * len(seeds), [eta0 * n ** float(c_B)] * len(seeds),
            seeds, layers, chunk=chunk,
        )  # fmt: skip
        losses.append(out["loss"])
        for layer in layers:
            for i, q in enumerate(QUANTITIES):
                rms[f"{layer.name}:{q}"].append(out[layer.name][:, :, i])
    measurement = WidthMeasurement(
        widths=widths, seeds=seeds, rms={**{k: np.stack(v) for k, v in rms.items()},
                                         "loss": np.stack(losses)},
    )  # fmt: skip
    names = [f"{layer.name}:{q}" for layer in layers for q in QUANTITIES]
    checks = compare(measurement, trajectory, quantities=names, steps=range(1, steps + 1),
                     tolerance=tolerance)  # fmt: skip
    setting = {
        "model": name,
        "kind": bounds[0].kind,
        "theory_model": "adam",
        "optimizer": optimizer_name,
        "init": theory_init,
        "init_source": "the model's own" if init == "model" else "redrawn",
        "eta_A_exponent": theory.format_exponent(c_A),
        "eta_B_exponent": theory.format_exponent(c_B),
        "eta0": float(eta0),
        "widths": list(widths),
        "seeds": list(seeds),
        "steps": int(steps),
        "tolerance": float(tolerance),
        "selected_by": selected_by,
        "layers": [{"name": la.name, "A": la.A, "B": la.B} for la in layers],
    }
    return CoordCheckReport(setting=setting, checks=checks, measurement=measurement)


def by_layer(report: CoordCheckReport) -> dict:
    """``{layer: {quantity: {step: GammaCheck}}}`` of a model check's verdicts."""
    table = {}
    for check in report.checks:
        layer, quantity = check.quantity.rsplit(":", 1)
        table.setdefault(layer, {}).setdefault(quantity, {})[check.step] = check
    return table


__all__ = ["DEFAULT_SEEDS", "DEFAULT_STEPS", "by_layer", "check_model", "detect_init", "prepare"]
