"""The LoRA layer's per-step work as one fused CPU kernel per pass (numba), for many runs at once.

XLA on CPU evaluates :mod:`kernels._fastpath`'s row blocks as several loops per block: the
pre-activation is written and read again, ``∂L/∂pre`` is materialised and then read by the
products that give ``∂L/∂Z_A`` and ``∂L/∂B``. Here each pass is a single loop nest over the
``[N, n]`` elements that keeps everything in registers:

- forward: ``f[i] = Σ_j φ(H[i, j] + Σ_k Z_A[i, k] Bᵀ[k, j]) W_out[j]``;
- backward: with ``d = ∂L/∂f[i] · W_out[j] · 1[pre > 0]``,
  ``∂L/∂Z_A[i, k] = Σ_j d · Bᵀ[k, j]`` and ``∂L/∂Bᵀ[k, j] = Σ_i d · Z_A[i, k]``.

Runs that share ``H`` (the runs of one seed) are processed together, four rows at a time: four rows
of ``H`` (``16n`` bytes) are read from memory once per pass for all of them and reused from cache,
and each run's loads of ``W_out``, ``Bᵀ`` and loads and stores of ``∂L/∂Bᵀ`` are shared by the
four rows (register blocking: 2.5× faster than one row at a time, measured in
docs/performance.md). Rows are split into one chunk per thread; ``∂L/∂Bᵀ`` is summed per chunk,
then over chunks.

The kernels are called through ``jax.experimental.buffer_callback`` on CPU only (the caller,
:mod:`kernels._fastpath`, selects them with ``jax.lax.platform_dependent`` and imports this module,
hence numba, on first use); they take the rank padded to :data:`RANK` with zeros, which changes
no value (``x + 0·0 = x`` exactly). NaN propagates as in ``jax.nn.relu``: the kernels are compiled
with reassociation allowed (the sums over j and i run in another order than XLA's, so results agree
to float32 rounding) but without the no-NaN / no-inf assumptions, so a diverging run still shows NaN
or inf in its loss.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> H, W_out = rng.standard_normal((1, 6, 8), np.float32), rng.standard_normal((1, 8), np.float32)
>>> Z_A = rng.standard_normal((2, 6, 4), np.float32)
>>> B_t = rng.standard_normal((2, 4, 8), np.float32)
>>> f = forward(H, W_out, np.zeros(2, np.int64), Z_A, B_t)
>>> reference = np.maximum(H + Z_A @ B_t, 0) @ W_out[0]
>>> bool(np.allclose(f, reference, rtol=1e-5, atol=1e-5))
True
"""

from __future__ import annotations

import os
import threading

import numba
import numpy as np
from llvmlite import binding as _llvm


def _prefer_512_bit_vectors() -> None:
    """Let LLVM use 512-bit vectors on AVX-512 hosts (it prefers 256 bits on recent Xeons).

    Measured on this project's 2-core Xeon: +16-18 % on the whole training step at n = 2^13
    (docs/performance.md). numba's CPU features are process-wide, so this is skipped when the user
    sets ``NUMBA_CPU_FEATURES`` or ``NUMBA_CPU_NAME`` themselves, and it only changes a tuning
    preference, never which instructions exist. Called once, by the first kernel call (before
    numba compiles anything), never at import.
    """
    if os.environ.get("NUMBA_CPU_FEATURES") or os.environ.get("NUMBA_CPU_NAME"):
        return
    features = _llvm.get_host_cpu_features()
    if features.get("avx512f", False):
        numba.config.CPU_FEATURES = features.flatten() + ",-prefer-256-bit"


_tuned = threading.Event()

# Reassociation (vectorised sums) and contraction (FMA), but NaN and inf keep their meaning.
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}
_ZERO = np.float32(0.0)

# numba's default threading layer must not be entered from two host threads at once (several CPU
# devices each drive their runs from a thread; see toymodels.sweeps._devices).
_LOCK = threading.Lock()


def _tune_once() -> None:
    # Under _LOCK: numba's CPU features must be set before the first compilation, and only once.
    if not _tuned.is_set():
        _prefer_512_bit_vectors()
        _tuned.set()


def _chunks(n_rows: int) -> int:
    return max(1, min(numba.get_num_threads(), n_rows))


@numba.njit(fastmath=_FASTMATH, cache=True)
def _forward_row(h, w, a0, a1, a2, a3, b0, b1, b2, b3):
    total = _ZERO
    for j in range(h.shape[0]):
        pre = h[j] + a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j]
        total += (_ZERO if pre <= _ZERO else pre) * w[j]
    return total


@numba.njit(fastmath=_FASTMATH, inline="always")
def _pre_rows4(h0, h1, h2, h3, a, c0, c1, c2, c3):
    """The pre-activations of four rows at one column: ``H[i, j] + Σ_k Z_A[i, k] Bᵀ[k, j]``."""
    return (
        h0 + a[0, 0] * c0 + a[0, 1] * c1 + a[0, 2] * c2 + a[0, 3] * c3,
        h1 + a[1, 0] * c0 + a[1, 1] * c1 + a[1, 2] * c2 + a[1, 3] * c3,
        h2 + a[2, 0] * c0 + a[2, 1] * c1 + a[2, 2] * c2 + a[2, 3] * c3,
        h3 + a[3, 0] * c0 + a[3, 1] * c1 + a[3, 2] * c2 + a[3, 3] * c3,
    )


@numba.njit(fastmath=_FASTMATH, cache=True)
def _forward_rows4(h0, h1, h2, h3, w, a, b0, b1, b2, b3):
    """Four rows at once: the loads of w and Bᵀ are shared by the four."""
    t0 = t1 = t2 = t3 = _ZERO
    for j in range(h0.shape[0]):
        c0, c1, c2, c3, wj = b0[j], b1[j], b2[j], b3[j], w[j]
        p0, p1, p2, p3 = _pre_rows4(h0[j], h1[j], h2[j], h3[j], a, c0, c1, c2, c3)
        t0 += (_ZERO if p0 <= _ZERO else p0) * wj
        t1 += (_ZERO if p1 <= _ZERO else p1) * wj
        t2 += (_ZERO if p2 <= _ZERO else p2) * wj
        t3 += (_ZERO if p3 <= _ZERO else p3) * wj
    return t0, t1, t2, t3


@numba.njit(parallel=True, fastmath=_FASTMATH, cache=True)
def _forward(H, W_out, group, Z_A, B_t, n_chunks, f):
    n_runs, n_rows = Z_A.shape[0], Z_A.shape[1]
    per_chunk = (n_rows + n_chunks - 1) // n_chunks
    for chunk in numba.prange(n_chunks):
        start, stop = chunk * per_chunk, min(n_rows, (chunk + 1) * per_chunk)
        quad_stop = start + (stop - start) // 4 * 4
        for i in range(start, quad_stop, 4):
            for run in range(n_runs):
                g, b = group[run], B_t[run]
                h = H[g]
                f[run, i], f[run, i + 1], f[run, i + 2], f[run, i + 3] = _forward_rows4(
                    h[i], h[i + 1], h[i + 2], h[i + 3], W_out[g], Z_A[run, i : i + 4],
                    b[0], b[1], b[2], b[3],
                )  # fmt: skip
        for i in range(quad_stop, stop):
            for run in range(n_runs):
                g, a = group[run], Z_A[run, i]
                b = B_t[run]
                f[run, i] = _forward_row(
                    H[g, i], W_out[g], a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]
                )


@numba.njit(fastmath=_FASTMATH, cache=True)
def _backward_row(h, w, d_f, a0, a1, a2, a3, b0, b1, b2, b3, db0, db1, db2, db3):
    s0 = s1 = s2 = s3 = _ZERO
    for j in range(h.shape[0]):
        pre = h[j] + a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j]
        d = d_f * w[j] if pre > _ZERO else _ZERO
        s0 += d * b0[j]
        s1 += d * b1[j]
        s2 += d * b2[j]
        s3 += d * b3[j]
        db0[j] += d * a0
        db1[j] += d * a1
        db2[j] += d * a2
        db3[j] += d * a3
    return s0, s1, s2, s3


@numba.njit(fastmath=_FASTMATH, cache=True)
def _backward_rows4(h0, h1, h2, h3, w, d_f, a, b0, b1, b2, b3, db0, db1, db2, db3, d_a):
    """Four rows at once: the loads and stores of ∂L/∂Bᵀ are shared by the four."""
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = _ZERO
    s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = _ZERO
    g0, g1, g2, g3 = d_f[0], d_f[1], d_f[2], d_f[3]
    for j in range(h0.shape[0]):
        c0, c1, c2, c3, wj = b0[j], b1[j], b2[j], b3[j], w[j]
        p0, p1, p2, p3 = _pre_rows4(h0[j], h1[j], h2[j], h3[j], a, c0, c1, c2, c3)
        e0 = g0 * wj if p0 > _ZERO else _ZERO
        e1 = g1 * wj if p1 > _ZERO else _ZERO
        e2 = g2 * wj if p2 > _ZERO else _ZERO
        e3 = g3 * wj if p3 > _ZERO else _ZERO
        s00 += e0 * c0
        s01 += e0 * c1
        s02 += e0 * c2
        s03 += e0 * c3
        s10 += e1 * c0
        s11 += e1 * c1
        s12 += e1 * c2
        s13 += e1 * c3
        s20 += e2 * c0
        s21 += e2 * c1
        s22 += e2 * c2
        s23 += e2 * c3
        s30 += e3 * c0
        s31 += e3 * c1
        s32 += e3 * c2
        s33 += e3 * c3
        db0[j] += e0 * a[0, 0] + e1 * a[1, 0] + e2 * a[2, 0] + e3 * a[3, 0]
        db1[j] += e0 * a[0, 1] + e1 * a[1, 1] + e2 * a[2, 1] + e3 * a[3, 1]
        db2[j] += e0 * a[0, 2] + e1 * a[1, 2] + e2 * a[2, 2] + e3 * a[3, 2]
        db3[j] += e0 * a[0, 3] + e1 * a[1, 3] + e2 * a[2, 3] + e3 * a[3, 3]
    d_a[0, 0], d_a[0, 1], d_a[0, 2], d_a[0, 3] = s00, s01, s02, s03
    d_a[1, 0], d_a[1, 1], d_a[1, 2], d_a[1, 3] = s10, s11, s12, s13
    d_a[2, 0], d_a[2, 1], d_a[2, 2], d_a[2, 3] = s20, s21, s22, s23
    d_a[3, 0], d_a[3, 1], d_a[3, 2], d_a[3, 3] = s30, s31, s32, s33


@numba.njit(parallel=True, fastmath=_FASTMATH, cache=True)
def _backward(H, W_out, group, Z_A, B_t, d_f, n_chunks, d_Z_A, d_B_t_chunks):
    n_runs, n_rows = Z_A.shape[0], Z_A.shape[1]
    per_chunk = (n_rows + n_chunks - 1) // n_chunks
    for chunk in numba.prange(n_chunks):
        d_B_t = d_B_t_chunks[chunk]
        d_B_t[:] = _ZERO
        start, stop = chunk * per_chunk, min(n_rows, (chunk + 1) * per_chunk)
        quad_stop = start + (stop - start) // 4 * 4
        for i in range(start, quad_stop, 4):
            for run in range(n_runs):
                g, b, db = group[run], B_t[run], d_B_t[run]
                h = H[g]
                _backward_rows4(
                    h[i], h[i + 1], h[i + 2], h[i + 3], W_out[g], d_f[run, i : i + 4],
                    Z_A[run, i : i + 4], b[0], b[1], b[2], b[3], db[0], db[1], db[2], db[3],
                    d_Z_A[run, i : i + 4],
                )  # fmt: skip
        for i in range(quad_stop, stop):
            for run in range(n_runs):
                g, a, b, db = group[run], Z_A[run, i], B_t[run], d_B_t[run]
                s = _backward_row(
                    H[g, i], W_out[g], d_f[run, i], a[0], a[1], a[2], a[3],
                    b[0], b[1], b[2], b[3], db[0], db[1], db[2], db[3],
                )  # fmt: skip
                d_Z_A[run, i, 0], d_Z_A[run, i, 1], d_Z_A[run, i, 2], d_Z_A[run, i, 3] = s


def forward(H, W_out, group, Z_A, B_t) -> np.ndarray:
    """``f [R, N]`` of R runs; run ``l`` uses ``H[group[l]]`` ``[N, n]`` and ``W_out[group[l]]``.

    ``Z_A`` ``[R, N, 4]``, ``B_t`` ``[R, 4, n]`` (``Bᵀ``), float32.
    """
    f = np.empty(Z_A.shape[:2], np.float32)
    with _LOCK:
        _tune_once()
        _forward(H, W_out, group, Z_A, B_t, _chunks(Z_A.shape[1]), f)
    return f


def backward(H, W_out, group, Z_A, B_t, d_f) -> tuple[np.ndarray, np.ndarray]:
    """``(∂L/∂Z_A [R, N, 4], ∂L/∂Bᵀ [R, 4, n])`` from ``∂L/∂f`` ``[R, N]``; as :func:`forward`."""
    n_chunks = _chunks(Z_A.shape[1])
    d_Z_A = np.empty(Z_A.shape, np.float32)
    d_B_t_chunks = np.empty((n_chunks, *B_t.shape), np.float32)
    with _LOCK:
        _tune_once()
        _backward(H, W_out, group, Z_A, B_t, d_f, n_chunks, d_Z_A, d_B_t_chunks)
    return d_Z_A, d_B_t_chunks.sum(axis=0)
