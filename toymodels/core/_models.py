"""The three toy models of the papers, as pure functions of (frozen weights, LoRA matrices, inputs).

Conventions: data points are rows. ``x`` is ``[N, d]``; ``A`` is ``[r, n]``; ``B`` is ``[n, r]``;
the LoRA layer input is ``z`` ``[N, n]``, its features are ``Z_A = z Aᵀ`` ``[N, r]`` and
``Z_B = Z_A Bᵀ`` ``[N, n]`` (row i is the paper's A z(x_i) and B A z(x_i)). Outputs are ``[N]``.

The LoRA output carries the multiplier ``scale`` = α·r^(−s) (``TrainConfig.scale``):
Z_B = scale·B A z. The default 1.0 (α = 1, s = 0) is the papers' toy models as written.

Each LoRA-layer model is written twice: once literally as in the paper (:func:`teacher_student`,
:func:`lora_mlp`), which the tests and the teacher use, and once as the training hot path
(:func:`lora_layer`). The hot path starts from :class:`LayerFeatures`, everything that does not
depend on A and B, computed once per (width, seed) by :func:`teacher_student_features` or
:func:`lora_mlp_features`; so one step costs O(N·n·r), never O(N·n²).

Example (the fast path equals eq. 4):

>>> import jax, jax.numpy as jnp
>>> frozen = init_student(jax.random.PRNGKey(0), width=8, input_dim=5)
>>> lora = init_lora(jax.random.PRNGKey(1), width=8, rank=2, init="AB", B_std=1.0)
>>> x = jax.random.normal(jax.random.PRNGKey(2), (3, 5))
>>> f_fast, Z_A = lora_layer(teacher_student_features(frozen, x), lora.A, lora.B)
>>> bool(jnp.allclose(f_fast, teacher_student(frozen, lora, x), atol=1e-5))
True
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

phi = jax.nn.relu
"""φ = ReLU, the activation of both papers' toy models."""

INITS = ("A", "B", "AB")


class Lora(NamedTuple):
    """The trainable LoRA matrices: ``A`` ``[r, n]``, ``B`` ``[n, r]``."""

    A: jax.Array
    B: jax.Array


class Student(NamedTuple):
    """Frozen weights of Init eq. 4 (``W_h`` is ``None`` in LoRA+ eq. 3, which has no ``W_h``)."""

    W_in: jax.Array  # [n, d]
    W_h: jax.Array | None  # [n, n]
    W_out: jax.Array  # [n] (the paper's 1 × n row)


class LayerFeatures(NamedTuple):
    """What the LoRA layer models need per step, precomputed from x and the frozen weights.

    ``z = φ(Y_in)`` ``[N, n]`` is the LoRA layer input; ``H`` ``[N, n]`` is the part of the
    pre-activation that does not depend on A, B (``Y_in + W_h φ(Y_in)`` in eq. 4; ``None`` in
    eq. 3); ``W_out`` ``[n]`` is the frozen read-out.
    """

    z: jax.Array
    H: jax.Array | None
    W_out: jax.Array


def _normal(key, shape, variance):
    return jnp.sqrt(jnp.float32(variance)) * jax.random.normal(key, shape, dtype=jnp.float32)


# --- Init eq. 4: the teacher-student model -------------------------------------------------------


def teacher_student(frozen: Student, lora: Lora, x: jax.Array, scale: float = 1.0) -> jax.Array:
    """Init eq. 4: Y_in = W_in x; Y_h = Y_in + (W_h + scale·BA) φ(Y_in); Y_out = W_out φ(Y_h)."""
    Y_in = x @ frozen.W_in.T
    Y_h = Y_in + phi(Y_in) @ (frozen.W_h + scale * lora.B @ lora.A).T
    return phi(Y_h) @ frozen.W_out


@partial(jax.jit, static_argnames=("width", "input_dim", "hidden"))
def init_student(key, *, width: int, input_dim: int, hidden: bool = True) -> Student:
    """Frozen weights with the Init paper's variances: W_in ~ N(0, 1/d), W_h, W_out ~ N(0, 1/n)."""
    k_in, k_h, k_out = jax.random.split(key, 3)
    return Student(
        W_in=_normal(k_in, (width, input_dim), 1 / input_dim),
        W_h=_normal(k_h, (width, width), 1 / width) if hidden else None,
        W_out=_normal(k_out, (width,), 1 / width),
    )


def teacher_student_features(frozen: Student, x: jax.Array) -> LayerFeatures:
    """Everything in eq. 4 that does not depend on A, B: z = φ(Y_in) and H = Y_in + W_h z."""
    Y_in = x @ frozen.W_in.T
    z = phi(Y_in)
    return LayerFeatures(z=z, H=Y_in + z @ frozen.W_h.T, W_out=frozen.W_out)


# --- LoRA+ eq. 3: the toy MLP --------------------------------------------------------------------


def lora_mlp(frozen: Student, lora: Lora, x: jax.Array, scale: float = 1.0) -> jax.Array:
    """LoRA+ eq. 3, literally: f(x) = W_out φ(scale·B A φ(W_in x))."""
    return phi(phi(x @ frozen.W_in.T) @ (scale * lora.B @ lora.A).T) @ frozen.W_out


@partial(jax.jit, static_argnames=("width", "input_dim"))
def init_mlp(key, *, width: int, input_dim: int) -> Student:
    """Frozen weights of LoRA+ App. C.1.1: W_in ~ N(0, 1), W_out ~ N(0, 1/n); no W_h."""
    k_in, k_out = jax.random.split(key)
    return Student(
        W_in=_normal(k_in, (width, input_dim), 1.0),
        W_h=None,
        W_out=_normal(k_out, (width,), 1 / width),
    )


def lora_mlp_features(frozen: Student, x: jax.Array) -> LayerFeatures:
    """The A, B-independent part of eq. 3: z = φ(W_in x); no residual term."""
    return LayerFeatures(z=phi(x @ frozen.W_in.T), H=None, W_out=frozen.W_out)


# --- The LoRA layer, shared hot path of both models above -----------------------------------------


def lora_layer(
    features: LayerFeatures, A: jax.Array, B: jax.Array, scale: float = 1.0
) -> tuple[jax.Array, jax.Array]:
    """``f = φ(H + Z_B) W_out``, ``Z_A = z Aᵀ``, ``Z_B = scale·Z_A Bᵀ``; returns
    ``(f [N], Z_A [N, r])``.

    Cost O(N·n·r): the n × n product W_h z is already inside ``features.H``.
    """
    Z_A = features.z @ A.T
    Z_B = scale * (Z_A @ B.T)
    pre = Z_B if features.H is None else features.H + Z_B
    return phi(pre) @ features.W_out, Z_A


@partial(jax.jit, static_argnames=("width", "rank", "init", "B_std"))
def init_lora(key, *, width: int, rank: int, init: str, B_std: float) -> Lora:
    """LoRA initialization: ``A`` = Init[A] (B₀ = 0, A₀ ~ N(0, 1/n)), ``B`` = Init[B] (A₀ = 0,
    B₀ ~ N(0, B_std²)), ``AB`` both random (LoRA+ App. C.1.1)."""
    k_A, k_B = jax.random.split(key)
    A = _normal(k_A, (rank, width), 1 / width)
    B = _normal(k_B, (width, rank), B_std**2)
    if init == "A":
        B = jnp.zeros_like(B)
    elif init == "B":
        A = jnp.zeros_like(A)
    return Lora(A=A, B=B)


# --- LoRA+ eq. 2: the linear model, at rank r ---------------------------------------------------


class LinearParams(NamedTuple):
    """The linear model's trainable weights: ``a`` ``[r, n]`` (plays A), ``b`` ``[r]`` (plays B).

    Rank 1 is LoRA+ §3.1's model (one row ``a``, one number ``b``).
    """

    a: jax.Array
    b: jax.Array


def linear(params: LinearParams, x: jax.Array, scale: float = 1.0) -> jax.Array:
    """LoRA+ eq. 2 with W* = 0 (y shifted), rank r: f(x) = scale·bᵀ a x; ``x`` ``[N, n]`` → ``[N]``.

    >>> import jax.numpy as jnp
    >>> params = LinearParams(a=jnp.array([[1.0, 0.0], [0.0, 2.0]]), b=jnp.array([3.0, 1.0]))
    >>> linear(params, jnp.array([[1.0, 1.0]]), scale=0.5).tolist()  # 0.5·(3·1 + 1·2)
    [2.5]
    """
    return scale * jnp.sum((x @ params.a.T) * params.b[None, :], axis=-1)


@partial(jax.jit, static_argnames=("width", "rank", "init", "b_std"))
def init_linear(key, *, width: int, init: str, rank: int = 1, b_std: float = 1.0) -> LinearParams:
    """LoRA+ §3.1 at rank r: Init[A] (b₀ = 0, a₀ ~ N(0, 1/n)), Init[B] (a₀ = 0, b₀ ~ N(0, b_std²)),
    or both random."""
    k_a, k_b = jax.random.split(key)
    a = _normal(k_a, (rank, width), 1 / width)
    b = _normal(k_b, (rank,), b_std**2)
    if init == "A":
        b = jnp.zeros_like(b)
    elif init == "B":
        a = jnp.zeros_like(a)
    return LinearParams(a=a, b=b)
