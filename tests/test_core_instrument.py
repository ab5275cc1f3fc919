"""The Gram-matrix instrumentation equals the quantities computed directly on [N, n] arrays."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from toymodels.core._instrument import layer_metrics, linear_metrics


def _rms(x):
    return float(jnp.sqrt(jnp.mean(jnp.square(x))))


@pytest.mark.parametrize("scale", [1.0, 0.5], ids=["no multiplier", "alpha r^-s = 1/2"])
def test_layer_metrics_equal_direct_computation(scale):
    """Z_B = scale·B Z_A and its increments carry the multiplier; A, B, Z_A do not."""
    keys = jax.random.split(jax.random.PRNGKey(0), 5)
    N, n, r = 30, 40, 3
    A = jax.random.normal(keys[0], (r, n))
    B, prev_B = jax.random.normal(keys[1], (n, r)), jax.random.normal(keys[2], (n, r))
    Z_A, prev_Z_A = jax.random.normal(keys[3], (N, r)), jax.random.normal(keys[4], (N, r))
    got = jax.jit(layer_metrics, static_argnums=5)(A, B, Z_A, prev_B, prev_Z_A, scale)

    Z_B, prev_Z_B = scale * Z_A @ B.T, scale * prev_Z_A @ prev_B.T
    dZ_A, dB = Z_A - prev_Z_A, B - prev_B
    expected = {
        "Z_A": _rms(Z_A),
        "A": _rms(A),
        "B": _rms(B),
        "Z_B": _rms(Z_B),
        "dZ_B": _rms(Z_B - prev_Z_B),
        "delta1": _rms(scale * dZ_A @ prev_B.T),
        "delta2": _rms(scale * prev_Z_A @ dB.T),
        "delta3": _rms(scale * dZ_A @ dB.T),
        "norm_Z_A": float(jnp.mean(jnp.linalg.norm(Z_A, axis=1))),
        "norm_Z_B": float(jnp.mean(jnp.linalg.norm(Z_B, axis=1))),
    }
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert float(got[name]) == pytest.approx(value, rel=1e-4), name


def test_linear_deltas_sum_to_the_change_of_f():
    b, prev_b = jnp.array([0.3]), jnp.array([-0.2])  # rank 1, one sample
    aTx, prev_aTx = jnp.array([[2.0]]), jnp.array([[0.5]])
    got = linear_metrics(b, aTx, prev_b, prev_aTx)
    # Δf = δ¹ + δ² + δ³ with δ¹ = −0.2·1.5, δ² = 0.5·0.5, δ³ = 0.5·1.5.
    assert float(got["delta1"]) == pytest.approx(0.3)
    assert float(got["delta2"]) == pytest.approx(0.25)
    assert float(got["delta3"]) == pytest.approx(0.75)
    assert float(got["f"]) == pytest.approx(0.6) and float(got["b"]) == pytest.approx(0.3)
    assert pytest.approx(0.6 - (-0.1)) == -0.3 + 0.25 + 0.75


def test_rank_r_linear_deltas_sum_to_the_change_of_f():
    """Rank 3, two samples, multiplier 1/2: Δf = δ¹ + δ² + δ³ per sample, each a sum over j."""
    keys = jax.random.split(jax.random.PRNGKey(2), 4)
    b, prev_b = jax.random.normal(keys[0], (3,)), jax.random.normal(keys[1], (3,))
    aTx, prev_aTx = jax.random.normal(keys[2], (2, 3)), jax.random.normal(keys[3], (2, 3))
    got = linear_metrics(b, aTx, prev_b, prev_aTx, 0.5)
    f = 0.5 * aTx @ b
    assert float(got["f"]) == pytest.approx(_rms(f), rel=1e-5)
    assert float(got["b"]) == pytest.approx(_rms(b), rel=1e-5)
    assert float(got["delta1"]) == pytest.approx(_rms(0.5 * (aTx - prev_aTx) @ prev_b), rel=1e-5)
    assert float(got["delta2"]) == pytest.approx(_rms(0.5 * prev_aTx @ (b - prev_b)), rel=1e-5)
    assert float(got["delta3"]) == pytest.approx(
        _rms(0.5 * (aTx - prev_aTx) @ (b - prev_b)), rel=1e-5
    )
