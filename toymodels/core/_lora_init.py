"""LoRA initializations and the multiplier, with PEFT's names, for Flax NNX, Equinox, pytrees.

A LoRA layer computes W z + α·r^(−s)·B A z with A: r × n (fan-in n), B: n_out × r (fan-in r).

**The initializations** (``init_lora_weights``, PEFT's argument; strings for the paper's names):

- ``"A"``, the papers' **Init[A]**: A ~ N(0, 1/n), B = 0 (Hayou et al. 2024, "The impact of
  initialization on LoRA finetuning dynamics"; this package's toy models).
- ``True``, PEFT's default (Microsoft's reference code): A ~ U(−1/√n, 1/√n) (Kaiming-uniform with
  a = √5, variance 1/(3n)), B = 0: Init[A] with a third of its variance, the same width exponents.
- ``"gaussian"`` (PEFT): A ~ N(0, 1/r²), B = 0. B = 0 as in Init[A], but A's variance does not fall
  with n, so A z = Θ(√n) at initialization, not Θ(1): not the papers' Init[A] scaling.
- ``"B"``, the papers' **Init[B]**: A = 0, B ~ N(0, σ_B²), σ_B = ``B_std``, default 1/√r (variance
  1/fan-in). PEFT has no name for it on linear layers; its embedding LoRA uses it with σ_B = 1.
- ``False`` (PEFT): A and B both random (each U(±1/√fan-in), torch's ``nn.Linear`` default): not a
  no-op at initialization (LoRA+'s toy MLP trains from such an "AB" initialization).

**The multiplier** α·r^(−s) (:func:`lora_scaling`): s = 1 gives PEFT's default ``lora_alpha / r``,
s = 1/2 rank-stabilized LoRA's ``lora_alpha / √r`` (``use_rslora=True``, PEFT's name).

**Layouts.** ``"torch"``: A is ``[r, n]``, B is ``[n_out, r]`` (``B @ A @ z``: PEFT, Equinox's
``Linear``, this package's models). ``"nnx"``: Flax's transposes, ``lora_a`` ``[n, r]`` and
``lora_b`` ``[r, n_out]`` (``z @ a @ b``). The fan-in is the last axis in ``"torch"``, the first in
``"nnx"``.

>>> import jax
>>> A, B = init_lora(jax.random.PRNGKey(0), 1024, 8, r=4, init_lora_weights="A")
>>> A.shape, B.shape, float(abs(B).max()), round(float(A.var() * 1024), 1)
((4, 1024), (8, 4), 0.0, 1.0)
>>> lora_scaling(16, lora_alpha=32), lora_scaling(16, lora_alpha=32, use_rslora=True)
(2.0, 8.0)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp

from toymodels.core._errors import UsageError

INIT_LORA_WEIGHTS = (True, False, "gaussian", "A", "B")
"""The initializations :func:`lora_initializers` knows (module docstring)."""

LAYOUTS = ("torch", "nnx")

Initializer = Callable[..., jax.Array]
"""A JAX initializer ``(key, shape, dtype) -> array``, as Flax's ``a_initializer`` takes."""


def lora_scaling(r: int, lora_alpha: float, *, use_rslora: bool = False) -> float:
    """The LoRA multiplier α·r^(−s): ``lora_alpha / r``, or ``lora_alpha / √r`` with
    ``use_rslora=True`` (PEFT's names; s = 1 and s = 1/2 of ``TrainConfig.multiplier``)."""
    if not (isinstance(r, int) and r >= 1):
        raise UsageError(f"the LoRA rank r must be a positive integer, got {r!r}")
    return lora_alpha / (math.sqrt(r) if use_rslora else r)


def _check(init_lora_weights, layout):
    if not any(init_lora_weights is v or init_lora_weights == v for v in INIT_LORA_WEIGHTS):
        raise UsageError(
            f"init_lora_weights={init_lora_weights!r}; expected True (PEFT's default), 'gaussian', "
            "'A' (Init[A]), 'B' (Init[B]) or False"
        )
    if layout not in LAYOUTS:
        raise UsageError(f"layout={layout!r}; expected 'torch' ([r, n] A) or 'nnx' ([n, r] A)")


def _normal(std_of: Callable[[int, int], float], fan_in_axis: int) -> Initializer:
    """N(0, std²), std a function of (fan-in, the other dimension)."""

    def init(key, shape, dtype=jnp.float32):
        fan_in, other = shape[fan_in_axis], shape[1 - fan_in_axis % 2]
        return std_of(fan_in, other) * jax.random.normal(key, shape, dtype)

    return init


def _kaiming_uniform(fan_in_axis: int) -> Initializer:
    """U(−1/√fan-in, 1/√fan-in): torch's Kaiming-uniform with a = √5 (``nn.Linear``'s default)."""

    def init(key, shape, dtype=jnp.float32):
        bound = 1.0 / math.sqrt(shape[fan_in_axis])
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


def _zeros(key, shape, dtype=jnp.float32):
    del key
    return jnp.zeros(shape, dtype)


def lora_initializers(
    init_lora_weights: bool | str = True, *, layout: str = "nnx", B_std: float | None = None
) -> dict[str, Initializer]:
    """``{"a_initializer": …, "b_initializer": …}`` for ``init_lora_weights`` (module docstring),
    ready for ``nnx.LoRA(…, **lora_initializers("A"))`` and ``nnx.LoRALinear``.

    ``layout`` says which axis is the fan-in (``"nnx"``, the default here: the first; ``"torch"``:
    the last). ``B_std`` is Init[B]'s σ_B (default 1/√r).
    """
    _check(init_lora_weights, layout)
    axis = 0 if layout == "nnx" else -1
    if B_std is not None and init_lora_weights != "B":
        raise UsageError("B_std sets Init[B]'s σ_B; pass it with init_lora_weights='B'")
    if init_lora_weights is True:
        return {"a_initializer": _kaiming_uniform(axis), "b_initializer": _zeros}
    if init_lora_weights is False:
        return {"a_initializer": _kaiming_uniform(axis), "b_initializer": _kaiming_uniform(axis)}
    if init_lora_weights == "gaussian":
        return {"a_initializer": _normal(lambda n, r: 1.0 / r, axis), "b_initializer": _zeros}
    if init_lora_weights == "A":
        return {
            "a_initializer": _normal(lambda n, r: 1.0 / math.sqrt(n), axis),
            "b_initializer": _zeros,
        }
    std = (lambda r, n: 1.0 / math.sqrt(r)) if B_std is None else (lambda r, n: B_std)
    return {"a_initializer": _zeros, "b_initializer": _normal(std, axis)}


def init_lora(
    key,
    in_features: int,
    out_features: int,
    r: int,
    *,
    init_lora_weights: bool | str = True,
    layout: str = "torch",
    B_std: float | None = None,
    dtype=jnp.float32,
) -> tuple[jax.Array, jax.Array]:
    """``(A, B)`` drawn by ``init_lora_weights``: A ``[r, in]`` and B ``[out, r]`` in the
    ``"torch"`` layout (default; Equinox modules and plain pytrees), ``[in, r]`` and ``[r, out]``
    in ``"nnx"``."""
    initializers = lora_initializers(init_lora_weights, layout=layout, B_std=B_std)
    shapes = ((r, in_features), (out_features, r))
    if layout == "nnx":
        shapes = ((in_features, r), (r, out_features))
    key_A, key_B = jax.random.split(key)
    return (
        initializers["a_initializer"](key_A, shapes[0], dtype),
        initializers["b_initializer"](key_B, shapes[1], dtype),
    )


@dataclasses.dataclass(frozen=True)
class ScaledPromote:
    """A Flax ``promote_dtype`` hook that multiplies ``lora_b`` by ``scaling``, so an
    ``nnx.LoRA`` computes ``scaling · z a b`` (Flax's LoRA has no multiplier of its own); the
    gradients see the multiplier as the papers' α·r^(−s) does."""

    scaling: float

    def __call__(self, arrays, dtype=None, **kwargs):
        from flax.nnx.nn import dtypes

        x, a, b = dtypes.promote_dtype(arrays, dtype=dtype, **kwargs)
        return x, a, jnp.asarray(self.scaling, b.dtype) * b


def nnx_lora_linear(
    in_features: int,
    out_features: int,
    *,
    r: int,
    lora_alpha: float,
    use_rslora: bool = False,
    init_lora_weights: bool | str = True,
    rngs,
    **kwargs,
):
    """An ``nnx.LoRALinear`` with PEFT's options: rank ``r``, multiplier ``lora_alpha / r``
    (``/ √r`` with ``use_rslora``) and ``init_lora_weights``; ``kwargs`` go to
    ``nnx.LoRALinear``."""
    from flax import nnx

    return nnx.LoRALinear(
        in_features,
        out_features,
        lora_rank=r,
        lora_promote_dtype=ScaledPromote(lora_scaling(r, lora_alpha, use_rslora=use_rslora)),
        rngs=rngs,
        **lora_initializers(init_lora_weights, layout="nnx"),
        **kwargs,
    )


def nnx_lora(
    in_features: int,
    r: int,
    out_features: int,
    *,
    lora_alpha: float,
    use_rslora: bool = False,
    init_lora_weights: bool | str = True,
    rngs,
    **kwargs,
):
    """An ``nnx.LoRA`` (``base_module=`` in ``kwargs`` wraps an existing layer) with PEFT's
    options, as :func:`nnx_lora_linear`."""
    from flax import nnx

    return nnx.LoRA(
        in_features,
        r,
        out_features,
        promote_dtype=ScaledPromote(lora_scaling(r, lora_alpha, use_rslora=use_rslora)),
        rngs=rngs,
        **lora_initializers(init_lora_weights, layout="nnx"),
        **kwargs,
    )


def reinit_lora(tree, key, *, layout: str, init_lora_weights: bool | str = True, **selection):
    """``tree`` (an Equinox module, an ``nnx.State``, a dict) with every LoRA A and B leaf drawn
    anew by ``init_lora_weights``; the leaves are found by ``toymodels.lora_labels`` (its
    selectors in ``selection``), every other leaf, embedding LoRA included, is left as it is."""
    from toymodels.core._optim_groups import lora_labels

    initializers = lora_initializers(init_lora_weights, layout=layout)
    labels = jax.tree_util.tree_leaves(lora_labels(tree, warn=False, **selection))
    leaves, structure = jax.tree_util.tree_flatten(tree)
    keys = jax.random.split(key, len(leaves))
    drawn = {"lora_A": initializers["a_initializer"], "lora_B": initializers["b_initializer"]}
    new = [
        drawn[label](k, leaf.shape, leaf.dtype) if label in drawn else leaf
        for leaf, label, k in zip(leaves, labels, keys, strict=True)
    ]
    return jax.tree_util.tree_unflatten(structure, new)
