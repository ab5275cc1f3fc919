"""Per-step instrumentation: per-coordinate RMS of the quantities the theory predicts.

Every [N, n] quantity of a LoRA layer is a product ``U Vᵀ`` of an ``[N, k]`` and an ``[n, k]``
factor with k ∈ {r, 2r}, so its mean square is ``Σ (UᵀU) ⊙ (VᵀV) / (N n)``: two k × k Gram matrices,
O((N + n)·r²) instead of O(N·n·r). The instrumentation therefore costs a small fraction of a step.

>>> import jax.numpy as jnp
>>> U, V = jnp.ones((3, 2)), jnp.ones((4, 2))
>>> float(rms_of_product(U, V))  # every entry of U Vᵀ is 2
2.0
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def rms(x: jax.Array) -> jax.Array:
    """Root mean square over all entries (for a scalar: its absolute value)."""
    return jnp.sqrt(jnp.mean(jnp.square(x)))


def rms_of_product(U: jax.Array, V: jax.Array) -> jax.Array:
    """RMS of the entries of ``U Vᵀ`` (``U`` ``[N, k]``, ``V`` ``[n, k]``) without forming it."""
    squares = jnp.sum((U.T @ U) * (V.T @ V))
    return jnp.sqrt(jnp.maximum(squares, 0.0) / (U.shape[0] * V.shape[0]))


def layer_metrics(A, B, Z_A, prev_B, prev_Z_A, scale: float = 1.0) -> dict[str, jax.Array]:
    """The LoRA layer's quantities at step t from the state t (A, B, Z_A) and t − 1.

    Shapes: ``A`` [r, n], ``B`` and ``prev_B`` [n, r], ``Z_A`` and ``prev_Z_A`` [N, r].
    ``scale`` is the LoRA multiplier α·r^(−s): Z_B = scale·B Z_A, and every Δ and δ below carries
    it; ``A``, ``B``, ``Z_A`` are the matrices and features themselves.
    δ¹ = B_{t−1} ΔZ_A, δ² = ΔB Z_A^{t−1}, δ³ = ΔB ΔZ_A (per data point, times ``scale``), and
    ΔZ_B = δ¹ + δ² + δ³ = [ΔZ_A, Z_A^{t−1}] [B_t, ΔB]ᵀ.
    """
    dZ_A, dB = Z_A - prev_Z_A, B - prev_B
    # ‖Z_B(x_i)‖² = Z_A(x_i)ᵀ BᵀB Z_A(x_i), one number per data point.
    Z_B_sq = jnp.maximum(jnp.einsum("ir,rs,is->i", Z_A, B.T @ B, Z_A), 0.0)
    of_B = {
        "Z_B": jnp.sqrt(jnp.mean(Z_B_sq) / B.shape[0]),
        "dZ_B": rms_of_product(
            jnp.concatenate([dZ_A, prev_Z_A], axis=1), jnp.concatenate([B, dB], axis=1)
        ),
        "delta1": rms_of_product(dZ_A, prev_B),
        "delta2": rms_of_product(prev_Z_A, dB),
        "delta3": rms_of_product(dZ_A, dB),
        "norm_Z_B": jnp.mean(jnp.sqrt(Z_B_sq)),
    }
    if scale != 1.0:  # a Python number: the default adds no operation (bit-identical results)
        of_B = {name: abs(scale) * value for name, value in of_B.items()}
    return {
        "Z_A": rms(Z_A),
        "A": rms(A),
        "B": rms(B),
        "Z_B": of_B["Z_B"],
        "dZ_B": of_B["dZ_B"],
        "delta1": of_B["delta1"],
        "delta2": of_B["delta2"],
        "delta3": of_B["delta3"],
        "norm_Z_A": jnp.mean(jnp.linalg.norm(Z_A, axis=1)),
        "norm_Z_B": of_B["norm_Z_B"],
    }


def linear_metrics(b, aTx, prev_b, prev_aTx, scale: float = 1.0) -> dict[str, jax.Array]:
    """The rank-r linear model's b ``[r]``, aᵀx = a x ``[N, r]``, f = scale·bᵀ a x and δ terms,
    as RMS over coordinates and samples.

    δ¹ = scale·b_{t−1}ᵀ Δ(a x), δ² = scale·Δbᵀ a_{t−1} x, δ³ = scale·Δbᵀ Δ(a x), so that
    Δf = δ¹ + δ² + δ³.
    """
    d_aTx, d_b = aTx - prev_aTx, b - prev_b

    def output(u, v):  # scale·Σ_j u_j v_ij: one number per sample
        total = jnp.sum(u[None, :] * v, axis=-1)
        return total if scale == 1.0 else scale * total

    return {
        "b": rms(b),
        "aTx": rms(aTx),
        "f": rms(output(b, aTx)),
        "delta1": rms(output(prev_b, d_aTx)),
        "delta2": rms(output(d_b, prev_aTx)),
        "delta3": rms(output(d_b, d_aTx)),
    }
