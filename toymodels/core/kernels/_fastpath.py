"""The training hot path of the LoRA-layer models: :func:`lora_layer` with a hand-fused backward.

Same function as :func:`toymodels.core._models.lora_layer` (the readable reference, which the tests
compare against), written for XLA on CPU, where a training step is bound by passes over ``[N, n]``
arrays, one set per run (``docs/performance.md`` has the measurements behind each choice):

- ``Z_B = Z_A Bᵀ`` is formed as r broadcast multiply-adds fused with the rest of the elementwise
  work; XLA's dot with a contraction of size r = 4 costs several memory passes.
- The backward is written by hand (``jax.custom_vjp``): the pre-activation is recomputed from
  ``H`` instead of stored, ``∂L/∂pre`` is formed once, and ``∂L/∂B = (∂L/∂pre)ᵀ Z_A`` is taken as r
  vector-matrix products, which stream ``∂L/∂pre`` row by row (XLA's ``[r, N] × [N, n]`` dot is 3×
  slower).
- On CPU, rows are processed in blocks of at most :data:`BLOCK_FLOATS` floats per run (a
  ``lax.scan``), so every ``[rows, n]`` intermediate of a block stays in cache instead of travelling
  to memory. Other platforms (GPU/TPU) take all rows in one block by default: a loop of small
  blocks there is a sequence of small kernels, and their memory holds the whole ``[N, n]``.
- On CPU, the forward and backward passes of the teacher-student model (``H`` given, rank ≤ 4;
  a larger rank takes the XLA path, which gives the same numbers) go to
  :mod:`_cpukernel` instead: one fused numba loop nest per pass for all the runs of a
  ``vmap`` at once, which XLA:CPU cannot generate (it keeps the elementwise work and the products
  in separate loops). ``jax.lax.platform_dependent`` picks it when compiling for CPU; other
  platforms, and the lora-mlp model, use the XLA path above.

The results equal the reference up to float32 rounding (the sums run in another order):

>>> import jax, jax.numpy as jnp
>>> from toymodels.core import _models
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

import functools
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

try:  # Experimental in JAX; without it every platform takes the XLA path.
    from jax.experimental.buffer_callback import buffer_callback
except ImportError:  # pragma: no cover (older JAX)
    buffer_callback = None

from toymodels.core import _models
from toymodels.core._models import LayerFeatures, phi

RANK = 4
"""The rank the CPU kernel is written for; smaller ranks are padded with zeros."""

HOST_KERNEL_ENV = "LORA_HOST_KERNEL"
"""Environment variable: ``0`` (or ``false``, ``no``, ``off``) turns the CPU kernel off."""

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
    """``Z_A Bᵀ`` (``[N, r] × [n, r] → [N, n]``) as r broadcast multiply-adds (a dot above
    :data:`RANK`: the unrolled sum would grow the program with r)."""
    if B.shape[1] > RANK:
        return Z_A @ B.T
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
        if B.shape[1] > RANK:  # one dot instead of r vector-matrix products in the program
            d_B = d_pre.T @ Z_A
        else:
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


# --- The CPU kernel, through a host callback ------------------------------------------------------


def _runs(H, W_out, *per_run):
    """Host side of a (possibly vmapped) call: leading batch dims → groups of runs sharing ``H``.

    Under ``vmap_method="expand_dims"`` every argument has the same number of leading batch dims
    (size 1 where it is not batched). Returns the batch shape, ``H`` and ``W_out`` as
    ``[G, N, n]`` / ``[G, n]`` (views: H is not copied), the group of each run, and each per-run
    argument as ``[R, ...]``.
    """
    H, W_out, *per_run = (np.asarray(x) for x in (H, W_out, *per_run))  # zero-copy views
    batch = np.broadcast_shapes(H.shape[:-2], W_out.shape[:-1], *(x.shape[:-2] for x in per_run))
    groups = H.shape[:-2]
    W_groups = np.broadcast_to(W_out, (*groups, W_out.shape[-1])).reshape(-1, W_out.shape[-1])
    group = np.broadcast_to(np.arange(int(np.prod(groups))).reshape(groups), batch).ravel()
    runs = [
        np.ascontiguousarray(np.broadcast_to(x, (*batch, *x.shape[-2:]))).reshape(-1, *x.shape[-2:])
        for x in per_run
    ]
    return batch, H.reshape(-1, *H.shape[-2:]), np.ascontiguousarray(W_groups), group, runs


def _kernel_module():
    # numba (the optional extra `[cpu-kernel]`) is imported on the first kernel call only.
    from toymodels.core.kernels import _cpukernel

    return _cpukernel


def _padded_rank(Z_A, B_t):
    """Rank padded to the kernel's with zeros (``Z_A [R, N, r]``, ``B_t [R, r, n]``)."""
    pad = RANK - Z_A.shape[-1]
    if pad == 0:  # the usual rank: no copy on the hot path
        return Z_A, B_t
    return np.pad(Z_A, ((0, 0), (0, 0), (0, pad))), np.pad(B_t, ((0, 0), (0, pad), (0, 0)))


def _host_output(ctx, out, H, W_out, Z_A, B_t):
    del ctx
    batch, H, W_out, group, (Z_A, B_t) = _runs(H, W_out, Z_A, B_t)
    f = _kernel_module().forward(H, W_out, group, *_padded_rank(Z_A, B_t))
    np.asarray(out)[...] = f.reshape(*batch, f.shape[-1])


def _host_backward(ctx, out, H, W_out, Z_A, B_t, d_f):
    del ctx
    rank = B_t.shape[-2]
    batch, H, W_out, group, (Z_A, B_t, d_f) = _runs(H, W_out, Z_A, B_t, np.asarray(d_f)[..., None])
    d_Z_A, d_B_t = _kernel_module().backward(H, W_out, group, *_padded_rank(Z_A, B_t), d_f[..., 0])
    np.asarray(out[0])[...] = d_Z_A[..., :rank].reshape(*batch, d_Z_A.shape[1], rank)
    np.asarray(out[1])[...] = d_B_t[:, :rank].reshape(*batch, rank, d_B_t.shape[-1])


# Buffer callbacks hand the kernels XLA's own buffers; jax.pure_callback would copy every input
# (64 MB of H per call at n = 2^13, more than the kernel's own time).
def _output_on_cpu(H, Z_A, B, W_out):
    shape = jax.ShapeDtypeStruct(Z_A.shape[:1], jnp.float32)
    call = buffer_callback(_host_output, shape, vmap_method="expand_dims")
    return call(H, W_out, Z_A, B.T)


def _backward_on_cpu(H, Z_A, B, W_out, d_f):
    shapes = (
        jax.ShapeDtypeStruct(Z_A.shape, jnp.float32),
        jax.ShapeDtypeStruct(B.T.shape, jnp.float32),
    )
    call = buffer_callback(_host_backward, shapes, vmap_method="expand_dims")
    d_Z_A, d_B_t = call(H, W_out, Z_A, B.T, d_f)
    return d_Z_A, d_B_t.T


def _host_kernel_applies(H, B) -> bool:
    return H is not None and B.shape[1] <= RANK


def host_kernel_usable() -> bool:
    """Whether the CPU kernel may run: not switched off, JAX's default backend is the CPU, and the
    kernel machinery passed its check in this process (see :func:`_kernel_problem`).

    ``LORA_HOST_KERNEL=0`` (read at every trace) or ``TrainConfig(host_kernel=False)`` turn it
    off. A failed check warns once and leaves the XLA path, which gives the same numbers.
    """
    if os.environ.get(HOST_KERNEL_ENV, "").strip().lower() in ("0", "false", "no", "off"):
        return False
    return jax.default_backend() == "cpu" and _kernel_checked()


@functools.cache
def _kernel_checked() -> bool:
    # A fresh thread: the check runs outside whatever trace the caller is in.
    with ThreadPoolExecutor(1) as pool:
        try:
            problem = pool.submit(_kernel_problem).result()
        except Exception as error:  # any failure of the kernel machinery means: use XLA
            problem = f"{type(error).__name__}: {error}"
    if problem is not None:
        warnings.warn(
            f"the CPU kernel is off ({problem}); training takes the XLA path",
            RuntimeWarning,
            stacklevel=3,
        )
    return problem is None


def _kernel_problem() -> str | None:
    """``None`` when the kernel path gives the reference's values and gradients on a small
    vmapped layer (on the CPU device), else what went wrong. Imports numba."""
    if buffer_callback is None:
        return "jax.experimental.buffer_callback is missing"
    _kernel_module()
    rng = np.random.default_rng(0)
    n_rows, width, runs = 8, 16, 2
    z, H = rng.standard_normal((2, n_rows, width), np.float32)
    W_out = rng.standard_normal(width, np.float32)
    A = rng.standard_normal((runs, RANK, width), np.float32)
    B = rng.standard_normal((runs, width, RANK), np.float32)
    # This process's own CPU device: in a multi-process run, jax.devices() lists the others' too.
    with jax.default_device(jax.local_devices(backend="cpu")[0]):
        features = LayerFeatures(z=jnp.asarray(z), H=jnp.asarray(H), W_out=jnp.asarray(W_out))

        def value_and_grads(layer):
            loss = lambda A, B: jnp.sum(layer(features, A, B)[0] ** 2)  # noqa: E731
            return jax.jit(jax.vmap(jax.value_and_grad(loss, argnums=(0, 1))))(A, B)

        fast = value_and_grads(partial(lora_layer, host_kernel=True))
        reference = value_and_grads(_models.lora_layer)
    for got, want in zip(jax.tree.leaves(fast), jax.tree.leaves(reference), strict=True):
        if not np.allclose(got, want, rtol=1e-3, atol=1e-3):
            return "its values differ from the XLA path's"
    return None


def _dispatch(use_host, rows, on_cpu, xla, *args):
    """Compiling for CPU: ``on_cpu`` (the kernel) if ``use_host``, else ``xla`` in blocks of
    ``rows[0]`` rows; for any other platform, ``xla`` in blocks of ``rows[1]`` rows."""
    cpu_rows, other_rows = rows
    if not use_host and cpu_rows == other_rows:
        return xla(cpu_rows, *args)
    cpu = on_cpu if use_host else partial(xla, cpu_rows)
    return jax.lax.platform_dependent(*args, cpu=cpu, default=partial(xla, other_rows))


# --- The layer ------------------------------------------------------------------------------------


def _forward(rows, use_host, H, Z_A, B, W_out):
    return _dispatch(use_host, rows, _output_on_cpu, _output, H, Z_A, B, W_out)


@partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _layer(rows, use_host, z, H, W_out, A, B):
    Z_A = z @ A.T
    return _forward(rows, use_host, H, Z_A, B, W_out), Z_A


def _layer_fwd(rows, use_host, z, H, W_out, A, B):
    Z_A = z @ A.T
    # Residuals are inputs and the small Z_A only: no [N, n] array is kept per run.
    return (_forward(rows, use_host, H, Z_A, B, W_out), Z_A), (z, H, W_out, A, B, Z_A)


def _layer_bwd(rows, use_host, residuals, cotangents):
    z, H, W_out, A, B, Z_A = residuals
    d_f, d_Z_A_out = cotangents  # [N], [N, r]
    d_Z_A, d_B = _dispatch(use_host, rows, _backward_on_cpu, _backward, H, Z_A, B, W_out, d_f)
    d_Z_A = d_Z_A + d_Z_A_out
    # The cotangents of the frozen inputs are exact as well (XLA drops them when unused).
    d_H = None if H is None else _d_pre(H, Z_A, B, W_out, d_f)
    d_W_out = d_f @ phi(_pre_activation(H, Z_A, B))
    return d_Z_A @ A, d_H, d_W_out, _d_A(z, d_Z_A), d_B


_layer.defvjp(_layer_fwd, _layer_bwd)


@jax.custom_batching.custom_vmap
def _d_A(z, d_Z_A):
    """``∂L/∂A = (∂L/∂Z_A)ᵀ z`` (``[N, n], [N, r] → [r, n]``) of one run."""
    return d_Z_A.T @ z


@_d_A.def_vmap
def _d_A_batched(axis_size, in_batched, z, d_Z_A):
    """Runs that share ``z`` (the rates of a seed) in one product ``zᵀ [n, N] × [N, L·r]``.

    XLA batches the per-run product into a dot it runs at ~60 GFLOP/s here; this layout runs at
    ~110 (docs/performance.md). The outer ``vmap`` over seeds then batches this rule as usual.
    """
    z_batched, d_batched = in_batched
    if z_batched:  # every run its own z: a plain batched product
        d_Z_A = d_Z_A if d_batched else jnp.broadcast_to(d_Z_A, (axis_size, *d_Z_A.shape))
        return jnp.swapaxes(d_Z_A, -1, -2) @ z, True
    n_rows, rank = d_Z_A.shape[-2:]
    stacked = jnp.moveaxis(d_Z_A, 0, 1).reshape(n_rows, axis_size * rank)  # [N, L·r]
    return (z.T @ stacked).T.reshape(axis_size, rank, z.shape[-1]), True


def lora_layer(
    features: LayerFeatures,
    A: jax.Array,
    B: jax.Array,
    *,
    scale: float = 1.0,
    rows: int | None = None,
    host_kernel: bool | None = None,
) -> tuple[jax.Array, jax.Array]:
    """``f = φ(H + scale·Z_A Bᵀ) W_out`` and ``Z_A = z Aᵀ``: ``(f [N], Z_A [N, r])``, as
    :func:`toymodels.core._models.lora_layer`, with the fused backward described above.

    ``scale``: the LoRA multiplier α·r^(−s), a Python number. Both paths (kernel and XLA) see
    ``scale·B`` in place of ``B``, and JAX's chain rule through that product gives ∂L/∂B; the
    default 1.0 adds no operation.
    ``rows``: rows per block of the XLA path, a divisor of N (default: :func:`rows_per_block` on
    CPU, all N rows on other platforms); the results do not depend on it beyond float32 rounding.
    ``host_kernel``: use the CPU kernel when compiling for CPU (``None``: whenever it applies, i.e.
    ``H`` is given and r ≤ 4, and :func:`host_kernel_usable`; ``True``: always, unchecked;
    ``False``: never, the XLA path on every platform).
    """
    n_rows = features.z.shape[0]
    if rows is not None and n_rows % rows:
        raise ValueError(f"rows={rows} does not divide the {n_rows} data points")
    # (CPU, other platforms): cache-sized blocks on CPU, one block on GPU/TPU unless told.
    blocks = (rows_per_block(n_rows, B.shape[0]), n_rows) if rows is None else (rows, rows)
    applies = _host_kernel_applies(features.H, B)
    if host_kernel and not applies:
        raise ValueError("the CPU kernel needs H (the teacher-student model) and rank <= 4")
    if host_kernel and buffer_callback is None:
        raise ValueError("the CPU kernel needs jax.experimental.buffer_callback")
    use_host = applies and host_kernel_usable() if host_kernel is None else host_kernel
    if scale != 1.0:
        B = scale * B
    return _layer(blocks, use_host, features.z, features.H, features.W_out, A, B)
