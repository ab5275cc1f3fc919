"""The training hot path of the LoRA-layer models: :func:`lora_layer` with a hand-fused backward.

Same function as :func:`toymodels._models.lora_layer` (the readable reference, which the tests
compare against), written for XLA on CPU, where a training step is bound by passes over ``[N, n]``
arrays, one set per run (``docs/performance.md`` has the measurements behind each choice):

- ``Z_B = Z_A Bᵀ`` is formed as r broadcast multiply-adds fused with the rest of the elementwise
  work; XLA's dot with a contraction of size r = 4 costs several memory passes.
- The backward is written by hand (``jax.custom_vjp``): the pre-activation is recomputed from
  ``H`` instead of stored, ``∂L/∂pre`` is formed once, and ``∂L/∂B = (∂L/∂pre)ᵀ Z_A`` is taken as r
  vector-matrix products, which stream ``∂L/∂pre`` row by row (XLA's ``[r, N] × [N, n]`` dot is 3×
  slower).
- Rows are processed in blocks of at most :data:`BLOCK_FLOATS` floats per run (a ``lax.scan``), so
  every ``[rows, n]`` intermediate of a block stays in cache instead of travelling to memory.

The results equal the reference up to float32 rounding (the sums run in another order):

>>> import jax, jax.numpy as jnp
>>> from toymodels import _models
>>> k = jax.random.split(jax.random.PRNGKey(0), 5)
>>> features = _models.LayerFeatures(z=jax.nn.relu(jax.random.normal(k[0], (6, 8))),
...                                  H=jax.random.normal(k[1], (6, 8)),
...                                  W_out=jax.random.normal(k[2], (8,)))
>>> A, B = jax.random.normal(k[3], (2, 8)), jax.random.normal(k[4], (8, 2))
>>> loss = lambda layer: lambda A, B: jnp.sum(layer(features, A, B)[0] ** 2)
>>> fast = jax.grad(loss(lora_layer), argnums=(0, 1))(A, B)
>>> reference = jax.grad(loss(_models.lora_layer), argnums=(0, 1))(A, B)
>>> all(bool(jnp.allclose(a, b, rtol=1e-5, atol=1e-5)) for a, b in zip(fast, reference))
True
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from toymodels._models import LayerFeatures, phi

BLOCK_FLOATS = 2**18
"""Most floats of one run's ``[rows, n]`` block (1 MiB): measured best between 2^15 and 2^20."""


def rows_per_block(n_rows: int, width: int) -> int:
    """The largest divisor of ``n_rows`` with ``rows · width ≤ BLOCK_FLOATS`` (at least 1).

    >>> rows_per_block(1000, 8192), rows_per_block(1000, 1024), rows_per_block(1000, 128)
    (25, 250, 1000)
    """
    limit = max(1, BLOCK_FLOATS // width)
    return max(d for d in range(1, min(n_rows, limit) + 1) if n_rows % d == 0)


def _outer(Z_A: jax.Array, B: jax.Array) -> jax.Array:
    """``Z_A Bᵀ`` (``[N, r] × [n, r] → [N, n]``) as r broadcast multiply-adds."""
    Z_B = Z_A[:, 0, None] * B[None, :, 0]
    for k in range(1, B.shape[1]):
        Z_B = Z_B + Z_A[:, k, None] * B[None, :, k]
    return Z_B


def _pre_activation(H: jax.Array | None, Z_A: jax.Array, B: jax.Array) -> jax.Array:
    Z_B = _outer(Z_A, B)
    return Z_B if H is None else H + Z_B


def _blocks(x: jax.Array | None, rows: int):
    """``[N, ...]`` → ``[N / rows, rows, ...]`` (``None`` stays ``None``)."""
    return None if x is None else x.reshape(x.shape[0] // rows, rows, *x.shape[1:])


def _output(rows, H, Z_A, B, W_out):
    """``φ(H + Z_A Bᵀ) W_out``, ``[N]``, ``rows`` rows at a time."""
    if rows == Z_A.shape[0]:
        return phi(_pre_activation(H, Z_A, B)) @ W_out
    f = jax.lax.map(
        lambda block: phi(_pre_activation(block[0], block[1], B)) @ W_out,
        (_blocks(H, rows), _blocks(Z_A, rows)),
    )
    return f.reshape(-1)


def _d_pre(H, Z_A, B, W_out, d_f):
    """``∂L/∂pre = 1[pre > 0] · ∂L/∂f ⊗ W_out`` (``[N, n]``), the pre-activation recomputed."""
    return jnp.where(_pre_activation(H, Z_A, B) > 0, d_f[:, None] * W_out[None, :], 0.0)


def _backward(rows, H, Z_A, B, W_out, d_f):
    """``(∂L/∂Z_A [N, r], ∂L/∂B [n, r])`` from ``∂L/∂f``, ``rows`` rows at a time."""

    def block(H, Z_A, d_f):
        d_pre = _d_pre(H, Z_A, B, W_out, d_f)
        d_B = jnp.stack([Z_A[:, k] @ d_pre for k in range(B.shape[1])], axis=1)
        return d_pre @ B, d_B

    if rows == Z_A.shape[0]:
        return block(H, Z_A, d_f)

    def step(d_B, blocks):
        d_Z_A, d_B_block = block(*blocks)
        return d_B + d_B_block, d_Z_A

    d_B, d_Z_A = jax.lax.scan(
        step, jnp.zeros_like(B), (_blocks(H, rows), _blocks(Z_A, rows), _blocks(d_f, rows))
    )
    return d_Z_A.reshape(Z_A.shape), d_B


@partial(jax.custom_vjp, nondiff_argnums=(0,))
def _layer(rows, z, H, W_out, A, B):
    Z_A = z @ A.T
    return _output(rows, H, Z_A, B, W_out), Z_A


def _layer_fwd(rows, z, H, W_out, A, B):
    Z_A = z @ A.T
    # Residuals are inputs and the small Z_A only: no [N, n] array is kept per run.
    return (_output(rows, H, Z_A, B, W_out), Z_A), (z, H, W_out, A, B, Z_A)


def _layer_bwd(rows, residuals, cotangents):
    z, H, W_out, A, B, Z_A = residuals
    d_f, d_Z_A_out = cotangents  # [N], [N, r]
    d_Z_A, d_B = _backward(rows, H, Z_A, B, W_out, d_f)
    d_Z_A = d_Z_A + d_Z_A_out
    # The cotangents of the frozen inputs are exact as well (XLA drops them when unused).
    d_H = None if H is None else _d_pre(H, Z_A, B, W_out, d_f)
    d_W_out = d_f @ phi(_pre_activation(H, Z_A, B))
    return d_Z_A @ A, d_H, d_W_out, d_Z_A.T @ z, d_B


_layer.defvjp(_layer_fwd, _layer_bwd)


def lora_layer(
    features: LayerFeatures, A: jax.Array, B: jax.Array, *, rows: int | None = None
) -> tuple[jax.Array, jax.Array]:
    """``f = φ(H + Z_A Bᵀ) W_out`` and ``Z_A = z Aᵀ``: ``(f [N], Z_A [N, r])``, as
    :func:`toymodels._models.lora_layer`, with the fused, row-blocked backward described above.

    ``rows``: rows per block, a divisor of N (default :func:`rows_per_block`); the results do not
    depend on it beyond float32 rounding.
    """
    n_rows = features.z.shape[0]
    rows = rows_per_block(n_rows, B.shape[0]) if rows is None else rows
    if n_rows % rows:
        raise ValueError(f"rows={rows} does not divide the {n_rows} data points")
    return _layer(rows, features.z, features.H, features.W_out, A, B)
