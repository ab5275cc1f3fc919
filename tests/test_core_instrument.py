"""The Gram-matrix instrumentation equals the quantities computed directly on [N, n] arrays."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from toymodels.core._instrument import layer_metrics, linear_metrics


def _rms(x):
    return float(jnp.sqrt(jnp.mean(jnp.square(x))))


def test_layer_metrics_equal_direct_computation():
    keys = jax.random.split(jax.random.PRNGKey(0), 5)
    N, n, r = 30, 40, 3
    A = jax.random.normal(keys[0], (r, n))
    B, prev_B = jax.random.normal(keys[1], (n, r)), jax.random.normal(keys[2], (n, r))
    Z_A, prev_Z_A = jax.random.normal(keys[3], (N, r)), jax.random.normal(keys[4], (N, r))
    got = jax.jit(layer_metrics)(A, B, Z_A, prev_B, prev_Z_A)

    Z_B, prev_Z_B = Z_A @ B.T, prev_Z_A @ prev_B.T
    dZ_A, dB = Z_A - prev_Z_A, B - prev_B
    expected = {
        "Z_A": _rms(Z_A),
        "A": _rms(A),
        "B": _rms(B),
        "Z_B": _rms(Z_B),
        "dZ_B": _rms(Z_B - prev_Z_B),
        "delta1": _rms(dZ_A @ prev_B.T),
        "delta2": _rms(prev_Z_A @ dB.T),
        "delta3": _rms(dZ_A @ dB.T),
        "norm_Z_A": float(jnp.mean(jnp.linalg.norm(Z_A, axis=1))),
        "norm_Z_B": float(jnp.mean(jnp.linalg.norm(Z_B, axis=1))),
    }
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert float(got[name]) == pytest.approx(value, rel=1e-4), name


def test_linear_deltas_sum_to_the_change_of_f():
    b, prev_b = jnp.float32(0.3), jnp.float32(-0.2)
    aTx, prev_aTx = jnp.array([2.0]), jnp.array([0.5])
    got = linear_metrics(b, aTx, prev_b, prev_aTx)
    # Δf = δ¹ + δ² + δ³ with δ¹ = −0.2·1.5, δ² = 0.5·0.5, δ³ = 0.5·1.5.
    assert float(got["delta1"]) == pytest.approx(0.3)
    assert float(got["delta2"]) == pytest.approx(0.25)
    assert float(got["delta3"]) == pytest.approx(0.75)
    assert float(got["f"]) == pytest.approx(0.6) and float(got["b"]) == pytest.approx(0.3)
    assert pytest.approx(0.6 - (-0.1)) == -0.3 + 0.25 + 0.75
