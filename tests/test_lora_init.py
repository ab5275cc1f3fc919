"""PEFT's initializations and multiplier for NNX, Equinox and pytrees: Init[A] and Init[B] draw
the papers' variances, PEFT's options draw PEFT's, and the multiplier α·r^(−s) reaches both the
output and the gradients of Flax's LoRA."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from toymodels import UsageError, init_lora, lora_scaling, reinit_lora

N, R = 4096, 4


@pytest.mark.parametrize("layout", ["torch", "nnx"])
def test_init_A_draws_A_with_variance_one_over_fan_in_and_B_zero(layout):
    A, B = init_lora(jax.random.PRNGKey(0), N, 8, R, init_lora_weights="A", layout=layout)
    assert A.shape == ((R, N) if layout == "torch" else (N, R))
    assert float(jnp.abs(B).max()) == 0.0
    assert float(A.var()) * N == pytest.approx(1.0, rel=0.05)


@pytest.mark.parametrize("layout", ["torch", "nnx"])
def test_init_B_draws_B_with_variance_one_over_r_and_A_zero(layout):
    A, B = init_lora(jax.random.PRNGKey(0), 8, N, R, init_lora_weights="B", layout=layout)
    assert B.shape == ((N, R) if layout == "torch" else (R, N))
    assert float(jnp.abs(A).max()) == 0.0
    assert float(B.var()) * R == pytest.approx(1.0, rel=0.05)
    _, B = init_lora(jax.random.PRNGKey(0), 8, N, R, init_lora_weights="B", B_std=1.0)
    assert float(B.var()) == pytest.approx(1.0, rel=0.05)


def test_peft_options_draw_what_peft_draws():
    key = jax.random.PRNGKey(1)
    A, B = init_lora(key, N, 8, R)  # True, PEFT's default: Kaiming-uniform(a=√5), B = 0
    assert float(jnp.abs(A).max()) <= 1 / N**0.5 and float(jnp.abs(B).max()) == 0.0
    assert float(A.var()) * 3 * N == pytest.approx(1.0, rel=0.05)
    A, B = init_lora(key, N, 8, R, init_lora_weights="gaussian")  # std 1/r, whatever n
    assert float(A.std()) * R == pytest.approx(1.0, rel=0.05) and float(jnp.abs(B).max()) == 0.0
    A, B = init_lora(key, N, 8, R, init_lora_weights=False)  # both random: not a no-op
    assert float(jnp.abs(B).max()) <= 1 / R**0.5 and float(jnp.abs(B).min()) > 0.0


def test_the_multiplier_is_alpha_over_r_or_over_sqrt_r_with_rslora():
    assert lora_scaling(16, lora_alpha=32) == 2.0
    assert lora_scaling(16, lora_alpha=32, use_rslora=True) == 8.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lora_scaling(0, 1.0), "positive integer"),
        (lambda: init_lora(jax.random.PRNGKey(0), 4, 4, 2, init_lora_weights="pissa"), "pissa"),
        (lambda: init_lora(jax.random.PRNGKey(0), 4, 4, 2, layout="jax"), "layout"),
        (lambda: init_lora(jax.random.PRNGKey(0), 4, 4, 2, B_std=1.0), "B_std"),
    ],
    ids=["rank-0", "unknown-init", "unknown-layout", "B_std-without-Init[B]"],
)
def test_bad_options_are_usage_errors(call, message):
    with pytest.raises(UsageError, match=message):
        call()


def test_nnx_lora_linear_carries_the_multiplier_in_its_output_and_gradients():
    nnx = pytest.importorskip("flax.nnx")
    from toymodels import nnx_lora_linear

    layer = nnx_lora_linear(
        6, 5, r=4, lora_alpha=8.0, use_rslora=True, init_lora_weights=False, rngs=nnx.Rngs(0)
    )
    x = jax.random.normal(jax.random.PRNGKey(1), (7, 6))
    a, b = layer.lora.lora_a[...], layer.lora.lora_b[...]
    scale = 8.0 / 2.0  # α / √r
    expected = x @ layer.kernel[...] + layer.bias[...][None, :] + scale * x @ a @ b
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-6)
    grads = nnx.grad(lambda m: jnp.sum(m(x)), argnums=nnx.DiffState(0, nnx.LoRAParam))(layer)
    # ∂/∂b Σ scale·x a b = scale · (x a)ᵀ 1
    expected_b = scale * (x @ a).T @ jnp.ones((7, 5))
    np.testing.assert_allclose(grads["lora"]["lora_b"][...], expected_b, rtol=1e-5)


def test_nnx_lora_wraps_a_base_module_with_init_A():
    nnx = pytest.importorskip("flax.nnx")
    from toymodels import nnx_lora

    base = nnx.Linear(6, 5, rngs=nnx.Rngs(0))
    layer = nnx_lora(
        6, 2, 5, lora_alpha=2.0, init_lora_weights="A", base_module=base, rngs=nnx.Rngs(1)
    )
    x = jnp.ones((3, 6))
    np.testing.assert_allclose(layer(x), base(x), rtol=1e-6)  # B = 0: a no-op at init


def test_reinit_lora_redraws_only_the_lora_leaves_of_an_equinox_module():
    eqx = pytest.importorskip("equinox")

    class Layer(eqx.Module):
        weight: jax.Array
        lora_A: jax.Array
        lora_B: jax.Array

    model = Layer(jnp.ones((8, 512)), jnp.ones((4, 512)), jnp.ones((8, 4)))
    fresh = reinit_lora(model, jax.random.PRNGKey(0), layout="torch", init_lora_weights="A")
    assert isinstance(fresh, Layer) and jnp.array_equal(fresh.weight, model.weight)
    assert float(jnp.abs(fresh.lora_B).max()) == 0.0
    assert float(fresh.lora_A.var()) * 512 == pytest.approx(1.0, rel=0.1)
