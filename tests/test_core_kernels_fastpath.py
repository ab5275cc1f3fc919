"""The fused training hot path computes the same numbers as the readable reference layer.

`kernels._fastpath.lora_layer` (custom VJP, hand-fused backward; on CPU, the numba kernels of
`kernels._cpukernel`) against `core._models.lora_layer` (plain autodiff): values, every
gradient, under jit and vmap, and whole training runs through `train_grid`. Equal up to float32
rounding (sums run in another order).
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from toymodels import TrainConfig, train_grid
from toymodels.core import _models
from toymodels.core import _train as train
from toymodels.core.kernels import _fastpath

N, WIDTH, RANK = 24, 40, 4


def _features(hidden: bool, key=0):
    k = jax.random.split(jax.random.PRNGKey(key), 3)
    return _models.LayerFeatures(
        z=jax.nn.relu(jax.random.normal(k[0], (N, WIDTH))),
        H=jax.random.normal(k[1], (N, WIDTH)) if hidden else None,
        W_out=jax.random.normal(k[2], (WIDTH,)) / np.sqrt(WIDTH),
    )


def _lora(key=1, batch=()):
    k_A, k_B = jax.random.split(jax.random.PRNGKey(key))
    return (
        jax.random.normal(k_A, (*batch, RANK, WIDTH)) / np.sqrt(WIDTH),
        jax.random.normal(k_B, (*batch, WIDTH, RANK)),
    )


def _loss(layer, Z_A_weight=0.1):
    """The training loss, plus (``Z_A_weight``) a term in Z_A to exercise that cotangent too."""
    y = jnp.linspace(-1.0, 1.0, N)

    def loss(z, H, W_out, A, B):
        f, Z_A = layer(_models.LayerFeatures(z, H, W_out), A, B)
        return jnp.mean(jnp.square(f - y)) + Z_A_weight * jnp.mean(jnp.square(Z_A))

    return loss


MODELS = pytest.mark.parametrize("hidden", [True, False], ids=["teacher-student", "lora-mlp"])
JIT = pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
# The XLA path with one block of all N rows and with 6 blocks of 4 rows (the scan over row blocks),
# and the CPU kernel (which the teacher-student model gets by default on CPU; the lora-mlp model,
# without H, falls back to the XLA path).
PATHS = {"XLA, one block": (N, False), "XLA, row blocks": (4, False), "CPU kernel": (N, None)}
PATH = pytest.mark.parametrize("path", list(PATHS))


def _fast(path):
    rows, host_kernel = PATHS[path]
    return partial(_fastpath.lora_layer, rows=rows, host_kernel=host_kernel)


@MODELS
@JIT
@PATH
def test_values_equal_the_reference(hidden, jit, path):
    features, (A, B) = _features(hidden), _lora()
    fast = jax.jit(_fast(path)) if jit else _fast(path)
    for got, want in zip(fast(features, A, B), _models.lora_layer(features, A, B), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@MODELS
@JIT
@PATH
def test_every_gradient_equals_autodiff_of_the_reference(hidden, jit, path):
    features, (A, B) = _features(hidden), _lora()
    argnums = (0, 1, 2, 3, 4) if hidden else (0, 2, 3, 4)  # H is None in the LoRA+ MLP
    args = (features.z, features.H, features.W_out, A, B)
    fast = jax.grad(_loss(_fast(path)), argnums=argnums)
    reference = jax.grad(_loss(_models.lora_layer), argnums=argnums)
    if jit:
        fast = jax.jit(fast)
    for got, want in zip(fast(*args), reference(*args), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


@PATH
@pytest.mark.parametrize(
    "init", ["A", "B"], ids=["Init[A]: B0 = 0, so dA = 0", "Init[B]: A0 = 0, so dB = 0"]
)
def test_a_zero_factor_gives_an_exactly_zero_gradient(init, path):
    """Adam turns any nonzero gradient into a Θ(1) step, so rounding noise here would move A
    (Init[A]) or B (Init[B]) at step 1 where the theory says it stays put."""
    features, (A, B) = _features(True), _lora()
    A, B = (A, jnp.zeros_like(B)) if init == "A" else (jnp.zeros_like(A), B)
    d_A, d_B = jax.grad(_loss(_fast(path), Z_A_weight=0.0), argnums=(3, 4))(
        features.z, features.H, features.W_out, A, B
    )
    frozen = d_A if init == "A" else d_B
    assert not np.any(np.asarray(frozen)), "the gradient of the frozen factor must be exactly 0"


@PATH
def test_vmapped_over_runs_equals_one_run_at_a_time(path):
    features, (A, B) = _features(True), _lora(batch=(3,))
    grad = jax.jit(jax.grad(_loss(_fast(path)), argnums=(3, 4)))
    args = (features.z, features.H, features.W_out)
    batched = jax.jit(jax.vmap(grad, in_axes=(None, None, None, 0, 0)))(*args, A, B)
    for i in range(3):
        for got, want in zip(batched, grad(*args, A[i], B[i]), strict=True):
            np.testing.assert_allclose(got[i], want, rtol=1e-5, atol=1e-7)


def test_the_cpu_kernel_is_what_the_teacher_student_model_runs_on_cpu():
    features, (A, B) = _features(True), _lora()
    default = str(
        jax.make_jaxpr(jax.grad(_loss(_fastpath.lora_layer), argnums=(3, 4)))(
            features.z, features.H, features.W_out, A, B
        )
    )
    xla_only = str(jax.make_jaxpr(_fast("XLA, one block"))(features, A, B))
    assert "buffer_callback" in default
    assert "buffer_callback" not in xla_only


def test_the_cpu_kernel_with_seeds_and_rates_vmapped_equals_each_run_alone():
    """The sweep's layout: features batched over seeds (outer vmap), A and B over seeds × rates;
    each seed's runs share its H inside the kernel."""
    seeds = [_features(True, key=k) for k in (0, 7)]
    features = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *seeds)
    A, B = _lora(batch=(2, 3))
    grad = jax.grad(_loss(_fast("CPU kernel")), argnums=(3, 4))
    over_rates = jax.vmap(grad, in_axes=(None, None, None, 0, 0))
    batched = jax.jit(jax.vmap(over_rates))(features.z, features.H, features.W_out, A, B)
    reference = jax.grad(_loss(_models.lora_layer), argnums=(3, 4))
    for s, one_seed in enumerate(seeds):
        for r in range(3):
            want = reference(one_seed.z, one_seed.H, one_seed.W_out, A[s, r], B[s, r])
            for got, expected in zip(batched, want, strict=True):
                np.testing.assert_allclose(got[s, r], expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("rank", [1, 3], ids=["rank 1", "rank 3"])
def test_the_cpu_kernel_pads_a_smaller_rank_without_changing_values(rank):
    features, (A, B) = _features(True), _lora()
    A, B = A[:rank], B[:, :rank]
    args = (features.z, features.H, features.W_out, A, B)
    fast = jax.grad(_loss(_fast("CPU kernel")), argnums=(3, 4))(*args)
    reference = jax.grad(_loss(_models.lora_layer), argnums=(3, 4))(*args)
    for got, want in zip(fast, reference, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_a_larger_rank_or_no_H_falls_back_to_xla_and_forcing_the_kernel_is_refused():
    features, _ = _features(True), _lora()
    A, B = jnp.ones((5, WIDTH)), jnp.ones((WIDTH, 5))
    assert not _uses_kernel(features, A, B)
    with pytest.raises(ValueError, match="needs H"):
        _fastpath.lora_layer(features, A, B, host_kernel=True)
    with pytest.raises(ValueError, match="needs H"):
        _fastpath.lora_layer(_features(False), *_lora(), host_kernel=True)


def test_nan_and_inf_propagate_through_the_cpu_kernel_as_through_relu():
    """A diverging run must show NaN or inf in its loss, as with the reference layer."""
    features, (A, B) = _features(True), _lora()
    H = features.H.at[3, 5].set(jnp.nan).at[7, 2].set(jnp.inf)
    features = features._replace(H=H)
    got = np.asarray(_fast("CPU kernel")(features, A, B)[0])
    want = np.asarray(_models.lora_layer(features, A, B)[0])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    assert np.isnan(got[3]) and not np.isfinite(got[7])


def test_rows_that_do_not_divide_the_data_are_refused():
    features, (A, B) = _features(True), _lora()
    with pytest.raises(ValueError, match="does not divide"):
        _fastpath.lora_layer(features, A, B, rows=5)


@pytest.mark.parametrize(("n_rows", "width"), [(1000, 8192), (1000, 1024), (997, 4096), (24, 40)])
def test_default_block_divides_the_rows_and_fits_the_budget(n_rows, width):
    rows = _fastpath.rows_per_block(n_rows, width)
    assert n_rows % rows == 0
    assert rows == 1 or rows * width <= _fastpath.BLOCK_FLOATS


@pytest.mark.parametrize(
    ("model", "init", "width"),
    [("teacher-student", "A", 512), ("lora-mlp", "AB", WIDTH)],
    ids=["teacher-student Init[A] (2 row blocks)", "lora-mlp AB (1 block)"],
)
def test_training_equals_the_unoptimised_path(model, init, width, monkeypatch):
    """Whole runs through train_grid, every recorded metric at every step."""
    assert _fastpath.rows_per_block(1000, 512) == 500
    config = TrainConfig(
        model=model, width=width, init=init, optimizer="adamw", steps=8, record=True
    )
    etas, seeds = np.array([3e-3, 3e-2]), np.array([0, 1])
    fast = train_grid(config, etas, etas, seeds)
    # The compiled training is cached by shapes and configuration, not by the layer it traced.
    jax.clear_caches()
    monkeypatch.setattr(train._fastpath, "lora_layer", _models.lora_layer)
    reference = train_grid(config, etas, etas, seeds)
    jax.clear_caches()
    np.testing.assert_array_equal(fast.diverged_step, reference.diverged_step)
    for name in config.metric_names:
        np.testing.assert_allclose(
            fast.metrics[name], reference.metrics[name], rtol=1e-4, atol=1e-7, err_msg=name
        )


@pytest.mark.parametrize(
    "in_axes",
    [(None, 0), (0, 0), (0, None)],
    ids=["runs share z (the rule stacks them)", "each run its own z", "only z batched"],
)
def test_the_batched_dA_product_equals_one_run_at_a_time(in_axes):
    k = jax.random.split(jax.random.PRNGKey(3), 2)
    z = (
        jax.random.normal(k[0], (3, N, WIDTH))
        if in_axes[0] == 0
        else jax.random.normal(k[0], (N, WIDTH))
    )
    d_Z_A = (
        jax.random.normal(k[1], (3, N, RANK))
        if in_axes[1] == 0
        else jax.random.normal(k[1], (N, RANK))
    )
    batched = jax.jit(jax.vmap(_fastpath._d_A, in_axes=in_axes))(z, d_Z_A)
    for i in range(3):
        z_i = z[i] if in_axes[0] == 0 else z
        d_i = d_Z_A[i] if in_axes[1] == 0 else d_Z_A
        np.testing.assert_allclose(batched[i], d_i.T @ z_i, rtol=1e-5, atol=1e-5)


@pytest.fixture
def fresh_kernel_check():
    """The once-per-process kernel check, forgotten before and after the test (and JAX's traces
    of the branches, which hold the test's stand-in for ``buffer_callback``)."""
    _fastpath._kernel_checked.cache_clear()
    jax.clear_caches()
    yield
    _fastpath._kernel_checked.cache_clear()
    jax.clear_caches()


def _uses_kernel(features, A, B) -> bool:
    # A new function each time: JAX caches the trace of a function it has seen.
    fresh = lambda *args: _fastpath.lora_layer(*args)  # noqa: E731
    return "platform_index" in str(jax.make_jaxpr(fresh)(features, A, B))


def _raising_buffer_callback(*args, **kwargs):
    raise RuntimeError("buffer_callback changed its signature")


def _zeros_buffer_callback(fn, result_shape, **kwargs):
    return lambda *args: jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), result_shape)


@pytest.mark.parametrize(
    "broken",
    [_raising_buffer_callback, _zeros_buffer_callback, None],
    ids=["callback raises", "callback gives other numbers", "callback missing"],
)
def test_a_broken_kernel_machinery_warns_once_and_takes_the_xla_path(
    monkeypatch, fresh_kernel_check, broken
):
    monkeypatch.setattr(_fastpath, "buffer_callback", broken)
    features, (A, B) = _features(True), _lora()
    with pytest.warns(RuntimeWarning, match="CPU kernel is off"):
        assert not _uses_kernel(features, A, B)
    assert not _uses_kernel(features, A, B)  # checked once: no second warning (warnings are errors)
    for got, want in zip(
        _fastpath.lora_layer(features, A, B), _models.lora_layer(features, A, B), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("value", ["0", "false", "off"])
def test_the_environment_switch_turns_the_kernel_off(monkeypatch, value):
    features, (A, B) = _features(True), _lora()
    assert _uses_kernel(features, A, B)
    monkeypatch.setenv(_fastpath.HOST_KERNEL_ENV, value)
    assert not _uses_kernel(features, A, B)


def test_the_train_config_switch_gives_the_same_numbers_without_the_kernel():
    rates = jnp.asarray([0.01, 0.1])
    config = TrainConfig(model="teacher-student", width=16, steps=3, n_train=8, n_test=4)
    with_kernel = train_grid(config, rates, rates, seeds=[0])
    without = train_grid(dataclasses.replace(config, host_kernel=False), rates, rates, seeds=[0])
    np.testing.assert_allclose(
        with_kernel.metrics["train_loss"], without.metrics["train_loss"], rtol=1e-4
    )


@PATH
def test_the_multiplier_reaches_values_and_gradients_on_every_path(path):
    """Z_B = scale·B Z_A: the kernel and the XLA path see scale·B, the chain rule gives ∂L/∂B."""
    features, (A, B) = _features(True), _lora()
    args = (features.z, features.H, features.W_out, A, B)

    def scaled(layer):
        return lambda features, A, B: layer(features, A, B, scale=0.5)

    fast = jax.grad(_loss(scaled(_fast(path))), argnums=(3, 4))(*args)
    reference = jax.grad(_loss(scaled(_models.lora_layer)), argnums=(3, 4))(*args)
    unscaled = jax.grad(_loss(_models.lora_layer), argnums=(3, 4))(*args)
    for got, want, other in zip(fast, reference, unscaled, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
        assert not np.allclose(got, other, rtol=1e-2)  # the multiplier did change the gradient


@pytest.mark.parametrize(
    ("rank", "multiplier"),
    [(2, "1/2"), (4, "1"), (8, "1/2")],
    ids=["rank 2 (kernel, padded), s = 1/2", "rank 4 (kernel), s = 1", "rank 8 (XLA), s = 1/2"],
)
def test_training_with_a_multiplier_equals_the_reference_at_every_rank(
    rank, multiplier, monkeypatch
):
    """Kernel (rank <= 4) or its XLA fallback (rank > 4), with α·r^(−s) ≠ 1, against the readable
    reference layer: whole runs through train_grid."""
    config = TrainConfig(
        model="teacher-student", width=16, rank=rank, multiplier=multiplier, alpha=2.0,
        init="A", optimizer="adam", steps=4, n_train=8, n_test=4,
    )  # fmt: skip
    assert config.scale != 1.0
    etas, seeds = np.array([1e-2, 1e-1]), np.array([0, 1])
    fast = train_grid(config, etas, etas, seeds)
    xla = train_grid(dataclasses.replace(config, host_kernel=False), etas, etas, seeds)
    jax.clear_caches()
    monkeypatch.setattr(train._fastpath, "lora_layer", _models.lora_layer)
    reference = train_grid(config, etas, etas, seeds)
    jax.clear_caches()
    for name in config.metric_names:
        for other in (xla, reference):
            np.testing.assert_allclose(
                fast.metrics[name], other.metrics[name], rtol=1e-4, atol=1e-7, err_msg=name
            )
