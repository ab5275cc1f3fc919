"""Training a user's model: R runs (rate pair, seed) in one jitted, vmapped call per width.

One run: ``key = PRNGKey(seed)`` split into the model's key (``factory(width, key)``), the data's
(``data(key, width) -> (x, y)``) and the LoRA draw's; the LoRA factors are redrawn as Init[A]
(A ~ N(0, 1/n) with n the larger side of A, B = 0) or Init[B] (A = 0, B ~ N(0, 1): the
calculator's Init[B]) unless ``init="model"`` keeps the model's own. Only the LoRA factors train,
as a pytree ``{"blocks.0.q": {"A": A, "B": B}}`` (layer names with ``.`` for ``/``) handed to
``optimizer(eta_A, eta_B)`` (any optax transformation; the default is optax's Adam at η_A on
the A factors and at η_B on the B factors, one ``optax.multi_transform`` by the keys ``A``/``B``,
so no sign flip sits at the end of a chain); everything else is frozen.
Rates are traced, so every (η_A, η_B, seed) triple of a call shares one compilation.

Recorded at t = 0..T (t = 0 the initialization, docs/architecture.md "Steps"): the loss and, per
layer, the per-coordinate RMS of Z_A, Z_B, ΔZ_A^t = Z_A^t − Z_A^(t−1) and ΔZ_B^t (0 at t = 0),
read off the model's jaxpr (:mod:`toymodels.lab._trace`) in the same forward pass as the gradient.

>>> QUANTITIES
('Z_A', 'Z_B', 'dZ_A', 'dZ_B')
"""

from __future__ import annotations

import os
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from toymodels.core import UsageError
from toymodels.lab._trace import rms, tapped

QUANTITIES = ("Z_A", "Z_B", "dZ_A", "dZ_B")
INITS = ("A", "B", "model")


def adam_lora_rates(eta_A, eta_B) -> optax.GradientTransformation:
    """The default optimizer: optax's Adam (its defaults) at η_A on every A, at η_B on every B."""
    return optax.multi_transform(
        {"A": optax.adam(eta_A), "B": optax.adam(eta_B)},
        lambda tree: {layer: {"A": "A", "B": "B"} for layer in tree},
    )


def mse(prediction, target) -> jax.Array:
    """The default loss: mean squared error over every entry."""
    return jnp.mean(jnp.square(prediction - target))


def optimizer_key(layer: str) -> str:
    """The key of a layer in the optimizer's pytree: one path component (``blocks.0.q``), so the
    only components named ``A``/``B`` (what the project's LoRA selectors match) are the factors."""
    return layer.replace("/", ".")


def _redraw(lora: dict, init: str, key) -> dict:
    if init == "model":
        return lora
    out = {}
    for i, (name, factors) in enumerate(sorted(lora.items())):
        A, B = factors["A"], factors["B"]
        draw = jax.random.normal(jax.random.fold_in(key, i), A.shape if init == "A" else B.shape)
        if init == "A":
            fan = max(A.shape)
            out[name] = {"A": (draw / np.sqrt(fan)).astype(A.dtype), "B": jnp.zeros_like(B)}
        else:
            out[name] = {"A": jnp.zeros_like(A), "B": draw.astype(B.dtype)}
    return out


def make_runner(bound, layers, *, data, steps: int, init: str, optimizer=None, loss=None):
    """A jitted ``run(eta_A[R], eta_B[R], seeds[R]) -> {"loss": [R, T+1], layer: [R, T+1, 4]}``
    (the last axis :data:`QUANTITIES`)."""
    optimizer = adam_lora_rates if optimizer is None else optimizer
    loss = mse if loss is None else loss
    forward = tapped(bound.apply, layers)

    keys = {layer.name: optimizer_key(layer.name) for layer in layers}

    def split(flat):
        lora = {keys[layer.name]: {"A": flat[layer.A], "B": flat[layer.B]} for layer in layers}
        lora_paths = {p for layer in layers for p in (layer.A, layer.B)}
        return lora, {p: v for p, v in flat.items() if p not in lora_paths}

    def merge(lora, frozen):
        flat = dict(frozen)
        for layer in layers:
            flat[layer.A], flat[layer.B] = lora[keys[layer.name]]["A"], lora[keys[layer.name]]["B"]
        return flat

    def one(eta_A, eta_B, seed):
        k_model, k_data, k_init = jax.random.split(jax.random.key(seed), 3)
        lora, frozen = split(bound.init(k_model))
        lora = _redraw(lora, init, k_init)
        x, y = data(k_data, bound.width)
        opt = optimizer(eta_A, eta_B)

        def objective(lora):
            out, taps = forward(merge(lora, frozen), x)
            return loss(out, y), {keys[n]: (t["Z_A"], t["Z_B"]) for n, t in taps.items()}

        def metrics(value, taps, prev):
            row = [
                jnp.stack([rms(za), rms(zb), rms(za - pa), rms(zb - pb)])
                for (za, zb), (pa, pb) in (
                    (taps[keys[layer.name]], prev[keys[layer.name]]) for layer in layers
                )
            ]
            return value.astype(jnp.float32), jnp.stack(row)

        def step(carry, _):
            lora, state, prev = carry
            (value, taps), grads = jax.value_and_grad(objective, has_aux=True)(lora)
            updates, state = opt.update(grads, state, lora)
            return (optax.apply_updates(lora, updates), state, taps), metrics(value, taps, prev)

        _, taps0 = objective(lora)
        (lora, _, prev), (values, rows) = jax.lax.scan(
            step, (lora, opt.init(lora), taps0), None, length=steps
        )
        last_value, last_taps = objective(lora)
        last = metrics(last_value, last_taps, prev)
        return jnp.append(values, last[0]), jnp.concatenate([rows, last[1][None]])

    @jax.jit
    def run(eta_A, eta_B, seeds):
        values, rows = jax.vmap(one)(eta_A, eta_B, seeds)
        return values, rows  # [R, T+1], [R, T+1, layers, 4]

    return run


def train_runs(runner, eta_A, eta_B, seeds, layers, *, chunk: int | None = None) -> dict:
    """Call ``runner`` on R runs, ``chunk`` at a time (padded to one shape: one compilation)."""
    eta_A, eta_B = np.asarray(eta_A, np.float32), np.asarray(eta_B, np.float32)
    seeds = np.asarray(seeds, np.uint32)
    total = len(seeds)
    chunk = total if chunk is None else max(1, int(chunk))  # a short call is padded to it
    values, rows = [], []
    for start in range(0, total, chunk):
        index = np.arange(start, start + chunk).clip(max=total - 1)
        v, r = runner(eta_A[index], eta_B[index], seeds[index])
        keep = min(chunk, total - start)
        values.append(np.asarray(v)[:keep])
        rows.append(np.asarray(r)[:keep])
    values, rows = np.concatenate(values), np.concatenate(rows)
    out = {"loss": values}
    for i, layer in enumerate(layers):
        out[layer.name] = rows[:, :, i, :]
    return out


def _depends_on_input(jaxpr) -> list[bool]:
    """Which outputs of ``jaxpr`` depend on its inputs (frozen weights from a fixed key do not)."""
    live = set(jaxpr.invars)
    for eqn in jaxpr.eqns:
        if any(not hasattr(v, "val") and v in live for v in eqn.invars):
            live.update(eqn.outvars)
    return [not hasattr(v, "val") and v in live for v in jaxpr.outvars]


def memory_estimate(bound, layers, x_shape, runs: int) -> int:
    """Bytes that ``runs`` runs at once need, roughly: parameters drawn per run (those that depend
    on the key) once per run, the fixed ones once, LoRA factors ×4 (gradient, Adam's two moments),
    and every forward intermediate ×3 (kept for the backward pass)."""
    closed = jax.make_jaxpr(bound.init)(jax.random.key(0))
    per_run_flags = _depends_on_input(closed.jaxpr)
    sizes = [int(np.prod(v.aval.shape)) * v.aval.dtype.itemsize for v in closed.jaxpr.outvars]
    shared = sum(s for s, d in zip(sizes, per_run_flags, strict=True) if not d)
    per_run = sum(s for s, d in zip(sizes, per_run_flags, strict=True) if d)
    lora = sum(
        int(np.prod(bound.shapes[p].shape)) * 4 for layer in layers for p in (layer.A, layer.B)
    )
    forward = jax.make_jaxpr(bound.apply)(bound.shapes, x_shape)
    activations = sum(
        int(np.prod(v.aval.shape)) * v.aval.dtype.itemsize
        for eqn in forward.jaxpr.eqns
        for v in eqn.outvars
        if hasattr(v.aval, "shape")
    )
    return shared + runs * (per_run + 4 * lora + 3 * activations)


def available_memory() -> int:
    """Bytes the default device can hold: the accelerator's limit, else the host's free memory."""
    device = jax.devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"])
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def check_memory(need: int, available: int, *, width: int, runs: int) -> None:
    """:class:`UsageError` when ``need`` exceeds 80% of ``available`` (before any training)."""
    if need > 0.8 * available:
        raise UsageError(
            f"width {width} would need about {need / 2**30:.1f} GiB for {runs} runs at once, "
            f"more than the {available / 2**30:.1f} GiB available: use smaller widths, "
            "fewer seeds, or a smaller chunk"
        )


def call_data(data: Callable, key, width: int):
    """``data(key, width)`` as ``(x, y)``; :class:`UsageError` when it is not a pair."""
    out = data(key, width)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise UsageError(f"data(key, {width}) must return a pair (x, y), got {type(out).__name__}")
    return out


__all__ = [
    "INITS",
    "QUANTITIES",
    "adam_lora_rates",
    "available_memory",
    "check_memory",
    "make_runner",
    "memory_estimate",
    "mse",
    "train_runs",
]
