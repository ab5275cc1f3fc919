"""The same small LoRA MLP three ways, for the width check: Flax NNX, Equinox, a plain pytree.

f(x) = W₂ · relu(W₁ x + B A W₁ x... ) — precisely: a frozen input layer W₀ (d → n), a hidden
layer W₁ (n → n) with a LoRA adapter (A: r × n, B: n × r) and a frozen readout W₂ (n → 1) with
variance 1/n, so every pre-activation is O(1) per coordinate at every width n. The targets come
from a teacher: the same frozen weights with a LoRA of its own (fixed, rank r). Each factory has
the signature the width check expects, ``factory(width, key)``; ``data(key, width)`` gives the
targets. The frozen ("pretrained") weights come from a fixed key, so only the LoRA factors and the
data change with the seed.

>>> import jax
>>> x, y = data(jax.random.key(0), 16)
>>> x.shape, y.shape
((8, 4), (8, 1))
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

INPUT, RANK, POINTS = 4, 2, 8
PRETRAINED = 1234  # the one key of every frozen weight


def frozen(width: int) -> dict:
    """The pretrained weights W₀ (d × n), W₁ (n × n), W₂ (n × 1), entries N(0, 1/fan_in)."""
    k0, k1, k2 = jax.random.split(jax.random.key(PRETRAINED), 3)
    return {
        "w0": jax.random.normal(k0, (INPUT, width)) / jnp.sqrt(INPUT),
        "w1": jax.random.normal(k1, (width, width)) / jnp.sqrt(width),
        "w2": jax.random.normal(k2, (width, 1)) / jnp.sqrt(width),
    }


def forward(w: dict, lora_a, lora_b, x):
    """The MLP with the LoRA branch (x @ A) @ B on the hidden layer (A: n × r, B: r × n)."""
    h = jax.nn.relu(x @ w["w0"])
    h = jax.nn.relu(h @ w["w1"] + (h @ lora_a) @ lora_b)
    return h @ w["w2"]


def data(key, width: int):
    """N = 8 Gaussian inputs and the teacher's outputs (its LoRA: fixed, entries 1/√n and 1)."""
    x = jax.random.normal(key, (POINTS, INPUT))
    teacher_a = jax.random.normal(jax.random.key(7), (width, RANK)) / jnp.sqrt(width)
    teacher_b = jax.random.normal(jax.random.key(8), (RANK, width))
    return x, forward(frozen(width), teacher_a, teacher_b, x)


def pytree_mlp(width: int, key):
    """A plain pytree and a pure apply: ``Model(params, apply)``."""
    from toymodels.lab import Model

    params = {
        **frozen(width),
        "hidden": {
            "lora_a": jax.random.normal(key, (width, RANK)) / jnp.sqrt(width),
            "lora_b": jnp.zeros((RANK, width)),
        },
    }

    def apply(p, x):
        return forward(p, p["hidden"]["lora_a"], p["hidden"]["lora_b"], x)

    return Model(params, apply)


def nnx_mlp(width: int, key):
    """A Flax NNX module with an ``nnx.LoRA`` adapter (its own init: A he-uniform, B = 0)."""
    from flax import nnx

    class MLP(nnx.Module):
        def __init__(self, rngs):
            w = frozen(width)
            self.w0, self.w1, self.w2 = (
                nnx.Variable(w["w0"]),
                nnx.Variable(w["w1"]),
                nnx.Variable(w["w2"]),
            )
            self.lora = nnx.LoRA(width, RANK, width, rngs=rngs)

        def __call__(self, x):
            w = {"w0": self.w0[...], "w1": self.w1[...], "w2": self.w2[...]}
            return forward(w, self.lora.lora_a[...], self.lora.lora_b[...], x)

    return MLP(nnx.Rngs(key))


def eqx_mlp(width: int, key):
    """An Equinox module; its LoRA factors are named ``lora_A`` (r × n) and ``lora_B`` (n × r)."""
    import equinox as eqx

    class MLP(eqx.Module):
        w: dict
        lora_A: jax.Array
        lora_B: jax.Array

        def __call__(self, x):
            return forward(self.w, self.lora_A.T, self.lora_B.T, x)

    lora_A = jax.random.normal(key, (RANK, width)) / jnp.sqrt(width)
    return MLP(frozen(width), lora_A, jnp.zeros((width, RANK)))
