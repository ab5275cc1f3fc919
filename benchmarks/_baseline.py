"""The straightforward implementation of the Figure-2 workload, the yardstick of the benchmark.

Init eq. 4 trained the way it is usually written with a PEFT-style LoRA layer: the frozen base layer
and the adapter are both evaluated in every forward pass,

    Y_in = W_in x,   Y_h = Y_in + W_h φ(Y_in) + B (A φ(Y_in)),   Y_out = W_out φ(Y_h),

so each step recomputes the frozen product W_h φ(Y_in), O(N·n²) work, although it never changes.
One run at a time: a jitted AdamW step (optax) called in a Python loop over steps, then over
learning rates and seeds, logging every step's loss to the host (``float(loss)``) as a training
script does.

This is deliberately *not* the project's code: it shares only the maths (same loss, same optimizer)
and, when compared, the same initial arrays, so its per-step losses equal the project's
(``tests/test_benchmarks_smoke.py`` checks it on a small case).

Shapes follow ``toymodels``: data points are rows; ``x`` ``[N, d]``, ``y`` ``[N]``, ``W_in``
``[n, d]``, ``W_h`` ``[n, n]``, ``W_out`` ``[n]``, ``A`` ``[r, n]``, ``B`` ``[n, r]``.

>>> import jax, jax.numpy as jnp
>>> k = jax.random.split(jax.random.PRNGKey(0), 5)
>>> frozen = Frozen(W_in=jax.random.normal(k[0], (8, 5)), W_h=jnp.zeros((8, 8)),
...                 W_out=jax.random.normal(k[1], (8,)) / 8)
>>> lora = {"A": jax.random.normal(k[2], (2, 8)) / 8, "B": jnp.zeros((8, 2))}
>>> x, y = jax.random.normal(k[3], (16, 5)), jax.random.normal(k[4], (16,))
>>> losses = train_one_run(frozen, lora, x, y, eta=1e-2, steps=3, weight_decay=0.0)
>>> losses.shape, bool(losses[-1] < losses[0])
((4,), True)
"""

from __future__ import annotations

import time
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax


class Frozen(NamedTuple):
    """The student's frozen weights of Init eq. 4."""

    W_in: jax.Array
    W_h: jax.Array
    W_out: jax.Array


def peft_forward(frozen: Frozen, lora: dict, x: jax.Array) -> jax.Array:
    """Eq. 4 as a PEFT-style forward: base layer ``W_h φ(Y_in)`` plus adapter ``B(A φ(Y_in))``."""
    Y_in = x @ frozen.W_in.T
    z = jax.nn.relu(Y_in)
    Y_h = Y_in + z @ frozen.W_h.T + (z @ lora["A"].T) @ lora["B"].T
    return jax.nn.relu(Y_h) @ frozen.W_out


def mse(frozen: Frozen, lora: dict, x: jax.Array, y: jax.Array) -> jax.Array:
    """Mean squared error over the data points."""
    return jnp.mean((peft_forward(frozen, lora, x) - y) ** 2)


@partial(jax.jit, static_argnames=("b1", "b2", "eps", "weight_decay"))
def adamw_step(lora, opt_state, eta, frozen, x, y, *, b1, b2, eps, weight_decay):
    """One AdamW step of one run; returns the new state and the loss *before* the update."""
    loss, grads = jax.value_and_grad(mse, argnums=1)(frozen, lora, x, y)
    optimizer = optax.adamw(eta, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay)
    updates, opt_state = optimizer.update(grads, opt_state, lora)
    return optax.apply_updates(lora, updates), opt_state, loss


_loss = jax.jit(mse)


def _adamw_loop(frozen, lora, opt_state, x, y, eta, steps, hyper, seconds=None):
    """``steps`` jitted steps in a Python loop; the state and the losses before each update.
    ``seconds``, a list, receives each step's wall time (the step and its loss on the host)."""
    eta = jnp.float32(eta)
    losses = []
    for _ in range(steps):
        start = time.perf_counter()
        lora, opt_state, loss = adamw_step(lora, opt_state, eta, frozen, x, y, **hyper)
        losses.append(float(loss))  # the host sync a logging training loop does every step
        if seconds is not None:
            seconds.append(time.perf_counter() - start)
    return lora, opt_state, losses


def _hyper(weight_decay: float, b1: float = 0.9, b2: float = 0.99, eps: float = 1e-8) -> dict:
    return {"b1": b1, "b2": b2, "eps": eps, "weight_decay": weight_decay}


def train_one_run(
    frozen: Frozen,
    lora: dict,
    x: jax.Array,
    y: jax.Array,
    *,
    eta: float,
    steps: int,
    weight_decay: float,
    b1: float = 0.9,
    b2: float = 0.99,
    eps: float = 1e-8,
) -> np.ndarray:
    """Train one run for ``steps`` updates; the train loss at t = 0..steps, ``[steps + 1]``."""
    hyper = _hyper(weight_decay, b1, b2, eps)
    opt_state = optax.adamw(eta, **hyper).init(lora)
    lora, _, losses = _adamw_loop(frozen, lora, opt_state, x, y, eta, steps, hyper)
    losses.append(float(_loss(frozen, lora, x, y)))
    return np.asarray(losses, np.float32)


def step_seconds(
    frozen: Frozen,
    lora: dict,
    x: jax.Array,
    y: jax.Array,
    *,
    eta: float,
    timed_steps: int,
    min_seconds: float = 0.0,
    max_steps: int = 2000,
    warmup_steps: int = 1,
    weight_decay: float = 0.0,
) -> np.ndarray:
    """Wall seconds of each timed step of one run, after ``warmup_steps`` steps (which compile the
    step): at least ``timed_steps`` steps, more until they add up to ``min_seconds`` (at most
    ``max_steps``). Each step ends with its loss on the host, so each is timed alone."""
    hyper = _hyper(weight_decay)
    opt_state = optax.adamw(eta, **hyper).init(lora)
    lora, opt_state, _ = _adamw_loop(frozen, lora, opt_state, x, y, eta, warmup_steps, hyper)
    seconds: list[float] = []
    while len(seconds) < timed_steps or (sum(seconds) < min_seconds and len(seconds) < max_steps):
        lora, opt_state, _ = _adamw_loop(frozen, lora, opt_state, x, y, eta, 1, hyper, seconds)
    return np.asarray(seconds)
