"""The toy models: the fast hot path equals the papers' equations, gradients equal the closed forms,
initializations and data follow the papers' variances and are deterministic."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from toymodels.core import _data, _models

WIDTH, RANK, N = 32, 4, 16


@pytest.fixture(scope="module")
def x():
    return jax.random.normal(jax.random.PRNGKey(7), (N, 5))


def _student(model):
    key = jax.random.PRNGKey(3)
    if model == "teacher-student":
        frozen = _models.init_student(key, width=WIDTH, input_dim=5)
        return frozen, _models.teacher_student, _models.teacher_student_features
    frozen = _models.init_mlp(key, width=WIDTH, input_dim=5)
    return frozen, _models.lora_mlp, _models.lora_mlp_features


def _lora():
    return _models.init_lora(jax.random.PRNGKey(4), width=WIDTH, rank=RANK, init="AB", B_std=1.0)


@pytest.mark.parametrize("model", ["teacher-student", "lora-mlp"])
def test_precomputed_hot_path_equals_the_papers_equation(model, x):
    frozen, literal, features = _student(model)
    lora = _lora()
    f_fast, Z_A = _models.lora_layer(features(frozen, x), lora.A, lora.B)
    np.testing.assert_allclose(f_fast, literal(frozen, lora, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(Z_A, jax.nn.relu(x @ frozen.W_in.T) @ lora.A.T, rtol=1e-6)


@pytest.mark.parametrize("model", ["teacher-student", "lora-mlp"])
def test_lora_layer_gradients_equal_the_closed_forms(model, x):
    """∂L/∂B = dZ̄ ⊗ A z and ∂L/∂A = Bᵀ dZ̄ ⊗ z, summed over data points, with dZ̄ = ∂L/∂Z̄."""
    frozen, literal, features = _student(model)
    lora = _lora()
    y = jnp.sin(x[:, 0])

    def loss(lora):
        return jnp.mean(jnp.square(literal(frozen, lora, x) - y))

    grads = jax.grad(loss)(lora)
    # Closed form: Z̄ = H + B A z, f = W_out φ(Z̄), L = mean (f − y)².
    feats = features(frozen, x)
    f, Z_A = _models.lora_layer(feats, lora.A, lora.B)
    Z_bar = Z_A @ lora.B.T + (0.0 if feats.H is None else feats.H)
    dZ_bar = (2 / N) * (f - y)[:, None] * (Z_bar > 0) * frozen.W_out[None, :]  # [N, n]
    np.testing.assert_allclose(grads.B, dZ_bar.T @ (feats.z @ lora.A.T), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(grads.A, (dZ_bar @ lora.B).T @ feats.z, rtol=1e-4, atol=1e-6)


def test_linear_gradients_equal_lora_plus_closed_forms():
    """LoRA+ §3.1: ∂L/∂b = aᵀx (f − y), ∂L/∂a = b (f − y) x for L = ½ (f − y)²."""
    key_a, key_x = jax.random.split(jax.random.PRNGKey(0))
    params = _models.LinearParams(a=jax.random.normal(key_a, (1, WIDTH)), b=jnp.array([0.7]))
    x, y = jax.random.normal(key_x, (1, WIDTH)), jnp.array([1.0])

    grads = jax.grad(lambda p: 0.5 * jnp.sum(jnp.square(_models.linear(p, x) - y)))(params)
    a, b = params.a[0], params.b[0]
    f = b * (x[0] @ a)
    np.testing.assert_allclose(grads.b, [(x[0] @ a) * (f - 1.0)], rtol=1e-5)
    np.testing.assert_allclose(grads.a, [b * (f - 1.0) * x[0]], rtol=1e-5)


@pytest.mark.parametrize("scale", [1.0, 0.25], ids=["no multiplier", "alpha r^-s = 1/4"])
def test_rank_r_linear_gradients_carry_the_multiplier_once(scale):
    """f = c·bᵀ a x: ∂L/∂b = c (a x)(f − y), ∂L/∂a = c b (f − y) xᵀ (docs/theory.md §12, GD)."""
    key_a, key_b, key_x = jax.random.split(jax.random.PRNGKey(1), 3)
    params = _models.LinearParams(
        a=jax.random.normal(key_a, (3, WIDTH)), b=jax.random.normal(key_b, (3,))
    )
    x = jax.random.normal(key_x, (1, WIDTH))
    loss = lambda p: 0.5 * jnp.sum(jnp.square(_models.linear(p, x, scale) - 1.0))  # noqa: E731
    grads = jax.grad(loss)(params)
    ax = params.a @ x[0]
    f = scale * params.b @ ax
    np.testing.assert_allclose(grads.b, scale * ax * (f - 1.0), rtol=1e-4)
    np.testing.assert_allclose(grads.a, scale * (f - 1.0) * jnp.outer(params.b, x[0]), rtol=1e-4)


@pytest.mark.parametrize(
    ("init", "A_var", "B_var"),
    [("A", 1 / 512, 0.0), ("B", 0.0, 0.25), ("AB", 1 / 512, 0.25)],
    ids=["Init[A]", "Init[B]", "AB"],
)
def test_lora_init_variances(init, A_var, B_var):
    lora = _models.init_lora(jax.random.PRNGKey(0), width=512, rank=4, init=init, B_std=0.5)
    assert lora.A.shape == (4, 512) and lora.B.shape == (512, 4)
    assert float(jnp.var(lora.A)) == pytest.approx(A_var, rel=0.1)
    assert float(jnp.var(lora.B)) == pytest.approx(B_var, rel=0.1)


@pytest.mark.parametrize(("init", "a_zero", "b_zero"), [("A", False, True), ("B", True, False)])
def test_linear_init_zeroes_one_factor(init, a_zero, b_zero):
    params = _models.init_linear(jax.random.PRNGKey(0), width=4096, init=init)
    assert params.a.shape == (1, 4096) and params.b.shape == (1,)
    assert bool(jnp.all(params.a == 0)) == a_zero and bool(jnp.all(params.b == 0)) == b_zero
    if not a_zero:
        assert float(jnp.var(params.a)) == pytest.approx(1 / 4096, rel=0.1)


def test_student_weights_have_the_init_papers_variances():
    frozen = _models.init_student(jax.random.PRNGKey(0), width=1024, input_dim=5)
    assert float(jnp.var(frozen.W_in)) == pytest.approx(1 / 5, rel=0.1)
    assert float(jnp.var(frozen.W_h)) == pytest.approx(1 / 1024, rel=0.05)
    assert float(jnp.var(frozen.W_out)) == pytest.approx(1 / 1024, rel=0.15)


def test_teacher_has_no_hidden_weight_and_fan_in_variances():
    frozen, lora = _data.make_teacher(jax.random.PRNGKey(0))
    assert bool(jnp.all(frozen.W_h == 0))
    assert lora.A.shape == (20, 1000) and lora.B.shape == (1000, 20)
    assert float(jnp.var(lora.A)) == pytest.approx(1 / 1000, rel=0.05)
    assert float(jnp.var(lora.B)) == pytest.approx(1 / 20, rel=0.05)


@pytest.mark.parametrize(
    "make",
    [_data.teacher_student_data, _data.sine_data, lambda s: _data.linear_data(s, width=8)],
    ids=["teacher-student", "sine", "linear"],
)
def test_same_data_seed_same_data_other_seed_other_data(make):
    first, again, other = make(0), make(0), make(1)
    np.testing.assert_array_equal(first.x_train, again.x_train)
    np.testing.assert_array_equal(first.y_train, again.y_train)
    assert not np.array_equal(first.x_train, other.x_train)


def test_sine_targets_are_sin_of_the_input_mean():
    data = _data.sine_data(0, n_train=10, n_test=3)
    np.testing.assert_allclose(data.y_train, np.sin(np.asarray(data.x_train).mean(axis=1)), 1e-6)


def test_data_and_run_keys_never_coincide():
    assert not np.array_equal(_data.data_key(0), _data.run_key(0))
