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


def layer_metrics(A, B, Z_A, prev_B, prev_Z_A) -> dict[str, jax.Array]:
    """The LoRA layer's quantities at step t from the state t (A, B, Z_A) and t − 1.

    Shapes: ``A`` [r, n], ``B`` and ``prev_B`` [n, r], ``Z_A`` and ``prev_Z_A`` [N, r].
    δ¹ = B_{t−1} ΔZ_A, δ² = ΔB Z_A^{t−1}, δ³ = ΔB ΔZ_A (per data point), and
    ΔZ_B = δ¹ + δ² + δ³ = [ΔZ_A, Z_A^{t−1}] [B_t, ΔB]ᵀ.
    """
    dZ_A, dB = Z_A - prev_Z_A, B - prev_B
    # ‖Z_B(x_i)‖² = Z_A(x_i)ᵀ BᵀB Z_A(x_i), one number per data point.
    Z_B_sq = jnp.maximum(jnp.einsum("ir,rs,is->i", Z_A, B.T @ B, Z_A), 0.0)
    return {
        "Z_A": rms(Z_A),
        "A": rms(A),
        "B": rms(B),
        "Z_B": jnp.sqrt(jnp.mean(Z_B_sq) / B.shape[0]),
        "dZ_B": rms_of_product(
            jnp.concatenate([dZ_A, prev_Z_A], axis=1), jnp.concatenate([B, dB], axis=1)
        ),
        "delta1": rms_of_product(dZ_A, prev_B),
        "delta2": rms_of_product(prev_Z_A, dB),
        "delta3": rms_of_product(dZ_A, dB),
        "norm_Z_A": jnp.mean(jnp.linalg.norm(Z_A, axis=1)),
        "norm_Z_B": jnp.mean(jnp.sqrt(Z_B_sq)),
    }


def linear_metrics(b, aTx, prev_b, prev_aTx) -> dict[str, jax.Array]:
    """The linear model's b, aᵀx ``[N]``, f = b aᵀx and δ terms, as RMS over samples.

    δ¹ = b_{t−1} Δ(aᵀx), δ² = Δb a_{t−1}ᵀx, δ³ = Δb Δ(aᵀx), so that Δf = δ¹ + δ² + δ³.
    """
    d_aTx, d_b = aTx - prev_aTx, b - prev_b
    return {
        "b": jnp.abs(b),
        "aTx": rms(aTx),
        "f": rms(b * aTx),
        "delta1": rms(prev_b * d_aTx),
        "delta2": rms(d_b * prev_aTx),
        "delta3": rms(d_b * d_aTx),
    }
