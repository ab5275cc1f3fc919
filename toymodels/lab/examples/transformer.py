"""A transformer teacher–student testbed, written as a user of the width check would write it.

A small pre-norm transformer over token sequences, width n = d_model:

    h₀ = E[tokens] + P                      (frozen embedding V × n and positions L × n, N(0, 1))
    h ← h + Attn(LN(h)),  h ← h + MLP(LN(h))  (DEPTH = 2 blocks; heads of fixed size HEAD = 16)
    f = LN(h) W_out                          (W_out: n × OUT, entries N(0, 1/n))

LN has no learned parameters; attention is causal with scores q·k/√HEAD; the MLP is
n → 4n → n with GELU. Every projection W (fan-in m) has entries N(0, 1/m), frozen: the
"pretrained" weights come from one fixed key per width, so a seed changes only the LoRA draw and
the data. Each of the 6 projections of each block (q, k, v, o, up, down) carries a LoRA adapter of
rank RANK, ``x @ W + (x @ lora_a) @ lora_b`` (lora_a: m × r, lora_b: r × m'; no multiplier), 12
LoRA layers in all. The factory draws Init[A] (lora_a ~ N(0, 1/m), lora_b = 0); the width check
redraws Init[A] or Init[B] itself.

The teacher is the same frozen network with its own LoRA on every projection (fixed key; lora_a
entries N(0, 1/m), lora_b entries N(0, TEACHER_SCALE²)): a rank-r, Θ(1)-per-coordinate
finetuning target. ``data(key, width)`` draws POINTS random sequences of LENGTH tokens and returns
them with the teacher's outputs; the loss is the mean squared error.

>>> import jax
>>> model = factory(64, jax.random.key(0))
>>> tokens, targets = data(jax.random.key(1), 64)
>>> model.apply(model.params, tokens).shape == targets.shape == (POINTS, LENGTH, OUT)
True
>>> sorted(model.params["blocks"][0]["attn"]) == ["k", "o", "q", "v"]
True
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

VOCAB, LENGTH, POINTS, OUT = 64, 8, 4, 4
DEPTH, HEAD, RANK, MLP_RATIO = 2, 16, 4, 4
TEACHER_SCALE = 0.5
PRETRAINED, TEACHER = 2024, 2025  # the fixed keys of the frozen weights and of the teacher's LoRA
WIDTHS = tuple(2**k for k in range(6, 11))


def _shapes(width: int) -> dict:
    """(fan-in, fan-out) of every projection of one block."""
    hidden = MLP_RATIO * width
    return {
        "attn": {p: (width, width) for p in ("q", "k", "v", "o")},
        "mlp": {"up": (width, hidden), "down": (hidden, width)},
    }


def pretrained(width: int) -> dict:
    """The frozen weights, from the fixed key :data:`PRETRAINED`."""
    keys = iter(jax.random.split(jax.random.key(PRETRAINED), 64))
    blocks = []
    for _ in range(DEPTH):
        block = {}
        for part, projections in _shapes(width).items():
            block[part] = {
                name: {"kernel": jax.random.normal(next(keys), shape) / jnp.sqrt(shape[0])}
                for name, shape in projections.items()
            }
        blocks.append(block)
    return {
        "embed": jax.random.normal(next(keys), (VOCAB, width)),
        "position": jax.random.normal(next(keys), (LENGTH, width)),
        "blocks": blocks,
        "out": jax.random.normal(next(keys), (width, OUT)) / jnp.sqrt(width),
    }


def lora_factors(width: int, key, *, b_scale: float = 0.0) -> list:
    """One LoRA (lora_a ~ N(0, 1/m), lora_b ~ N(0, b_scale²)) per projection of every block."""
    keys = iter(jax.random.split(key, 4 * DEPTH * 6))
    blocks = []
    for _ in range(DEPTH):
        block = {}
        for part, projections in _shapes(width).items():
            block[part] = {
                name: {
                    "lora_a": jax.random.normal(next(keys), (m, RANK)) / jnp.sqrt(m),
                    "lora_b": b_scale * jax.random.normal(next(keys), (RANK, m_out)),
                }
                for name, (m, m_out) in projections.items()
            }
        blocks.append(block)
    return blocks


def _with_lora(frozen: dict, lora: list) -> dict:
    blocks = [
        {part: {name: {**frozen_block[part][name], **lora_block[part][name]}
                for name in frozen_block[part]} for part in frozen_block}
        for frozen_block, lora_block in zip(frozen["blocks"], lora, strict=True)
    ]  # fmt: skip
    return {**frozen, "blocks": blocks}


def _norm(h):
    mean = h.mean(-1, keepdims=True)
    return (h - mean) * jax.lax.rsqrt(((h - mean) ** 2).mean(-1, keepdims=True) + 1e-6)


def _project(p: dict, x):
    return x @ p["kernel"] + (x @ p["lora_a"]) @ p["lora_b"]


def _attention(p: dict, x):
    n_points, length, width = x.shape
    heads = width // HEAD

    def split(z):
        return z.reshape(n_points, length, heads, HEAD)

    q, k, v = (split(_project(p[name], x)) for name in ("q", "k", "v"))
    scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) / jnp.sqrt(HEAD)
    causal = jnp.tril(jnp.ones((length, length), bool))
    weights = jax.nn.softmax(jnp.where(causal[None, None], scores, -1e9), axis=-1)
    mixed = jnp.einsum("bhqk,bkhd->bqhd", weights, v).reshape(n_points, length, width)
    return _project(p["o"], mixed)


def apply(params: dict, tokens):
    """The transformer's outputs ``[POINTS, LENGTH, OUT]`` for integer ``tokens``."""
    h = params["embed"][tokens] + params["position"][None]
    for block in params["blocks"]:
        h = h + _attention(block["attn"], _norm(h))
        h = h + _project(block["mlp"]["down"], jax.nn.gelu(_project(block["mlp"]["up"], _norm(h))))
    return _norm(h) @ params["out"]


def factory(width: int, key):
    """The student at ``width``: the pretrained weights and an Init[A] LoRA drawn from ``key``."""
    from toymodels.lab import Model

    if width % HEAD:
        raise ValueError(f"the width must be a multiple of the head size {HEAD}, got {width}")
    return Model(_with_lora(pretrained(width), lora_factors(width, key)), apply)


def data(key, width: int):
    """POINTS random token sequences and the teacher's outputs on them."""
    tokens = jax.random.randint(key, (POINTS, LENGTH), 0, VOCAB)
    teacher = _with_lora(
        pretrained(width), lora_factors(width, jax.random.key(TEACHER), b_scale=TEACHER_SCALE)
    )
    return tokens, apply(teacher, tokens)
