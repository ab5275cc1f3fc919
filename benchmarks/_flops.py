"""The essential floating-point work of the Figure-2 workload, and the machine's matmul rate.

A compute-bound kernel is judged against arithmetic, not memory traffic. Per run-step the
teacher-student LoRA layer (``toymodels.core._models.lora_layer``; N training points, N_test test
points, width n, rank r) must do these products, counted as 2 FLOPs per multiply-add and 1 per
multiply:

======================================  ====================  ==========================
product                                 shape                 FLOPs
======================================  ====================  ==========================
Z_A = z Aᵀ                              [N, n] × [n, r]        2·N·n·r
Y_h = H + Z_A Bᵀ (accumulated into H)   [N, r] × [r, n]        2·N·n·r
f = φ(Y_h) W_out                        [N, n] × [n]           2·N·n
∂L/∂Y_h = (∂L/∂f ⊗ W_out) ⊙ 1[Y_h > 0]  outer product          N·n
∂L/∂Bᵀ = Z_Aᵀ ∂L/∂Y_h                   [r, N] × [N, n]        2·N·n·r
∂L/∂Z_A = ∂L/∂Y_h B                     [N, n] × [n, r]        2·N·n·r
∂L/∂A = (∂L/∂Z_A)ᵀ z                    [r, N] × [N, n]        2·N·n·r
test loss: the two forward products     on N_test points       N_test·n·(4r + 2)
======================================  ====================  ==========================

so N·n·(10r + 3) + N_test·n·(4r + 2) per run-step. Not counted: the ReLU and the loss (no products),
Adam's O(n·r) update, and anything an implementation adds (the CPU kernel recomputes Y_h in the
backward rather than storing it: 2·N·n·r more that it chose to do). Once per seed and width the
setup forms H = Y_in + W_h φ(Y_in) for the train and test points: 2·(N + N_test)·n² (plus the
negligible 2·(N + N_test)·n·d of Y_in = W_in x); a whole call counts it, the per-step slope does
not.

The reference is the f32 matrix-multiply rate measured in the same process: a jitted ``jnp.dot`` of
two square float32 matrices (best of a few), at JAX's default precision, the one training uses.

>>> layer_flops_per_run_step(n_train=1000, n_test=100, width=8192, rank=4)
367001600
>>> setup_flops_per_seed(n_train=1000, n_test=100, width=8192, input_dim=5)
147729612800
>>> rate = matmul_rate(size=64, repeats=2)
>>> rate["GFLOPs"] > 0 and rate["size"] == 64
True
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np


def layer_flops_per_run_step(*, n_train: int, n_test: int, width: int, rank: int) -> int:
    """Essential FLOPs of one training step of one run: train forward and backward, test forward."""
    return n_train * width * (10 * rank + 3) + n_test * width * (4 * rank + 2)


def setup_flops_per_seed(*, n_train: int, n_test: int, width: int, input_dim: int) -> int:
    """FLOPs of a seed's frozen features, train and test: Y_in = W_in x, H = Y_in + W_h φ(Y_in)."""
    points = n_train + n_test
    return 2 * points * width * width + 2 * points * width * input_dim


def matmul_rate(*, size: int = 4096, repeats: int = 5) -> dict:
    """GFLOP/s (1e9 FLOP/s) of a jitted float32 ``size × size`` matrix product, best of ``repeats``
    after a warm-up call (which compiles)."""
    keys = jax.random.split(jax.random.PRNGKey(0))
    a, b = (jax.random.normal(k, (size, size), jnp.float32) for k in keys)
    dot = jax.jit(jnp.dot)
    dot(a, b).block_until_ready()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        dot(a, b).block_until_ready()
        seconds.append(time.perf_counter() - start)
    flops = 2 * size**3
    return {
        "size": size,
        "repeats": repeats,
        "flops": flops,
        "GFLOPs": flops / min(seconds) / 1e9,
        "median_GFLOPs": flops / float(np.median(seconds)) / 1e9,
    }
