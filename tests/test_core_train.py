"""train_grid: the contract (names, shapes, t = 0), batching, chunking, determinism, divergence."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toymodels import TrainConfig, train_grid
from toymodels.core import _data, _models
from toymodels.core import _train as train
from toymodels.core._errors import UsageError
from toymodels.core._train import (
    LAYER_METRICS,
    LINEAR_METRICS,
    _chunks,
    _frozen_setup,
    _layer_run,
    _lora_setup,
    _StepConfig,
    _train_layer_chunk,
)

SMALL = {"width": 16, "rank": 2, "steps": 4, "n_test": 5}
CONFIGS = {
    "teacher-student": TrainConfig(model="teacher-student", optimizer="adam", n_train=20, **SMALL),
    "lora-mlp": TrainConfig(model="lora-mlp", init="AB", n_train=20, **SMALL),
    "linear": TrainConfig(model="linear", **{**SMALL, "rank": 1}),  # LoRA+ §3.1's rank
}
ETA_A, ETA_B, SEEDS = np.array([1e-3, 3e-2, 1e-1]), np.array([2e-3, 1e-2, 5e-2]), np.array([0, 5])


@pytest.fixture(scope="module", params=list(CONFIGS))
def grid(request):
    config = CONFIGS[request.param]
    return config, train_grid(config, ETA_A, ETA_B, SEEDS)


def test_contract_names_and_shapes(grid):
    config, result = grid
    expected = LINEAR_METRICS if config.model == "linear" else LAYER_METRICS
    assert tuple(result.metrics) == expected
    for values in result.metrics.values():
        assert values.shape == (3, 2, config.steps + 1) and values.dtype == np.float32
        assert np.all(np.isfinite(values))
    assert result.diverged_step.shape == (3, 2) and np.all(result.diverged_step == -1)


def test_increments_are_exactly_zero_at_initialization(grid):
    _, result = grid
    for name in ("dZ_B", "delta1", "delta2", "delta3"):
        if name in result.metrics:
            assert np.all(result.metrics[name][:, :, 0] == 0.0)
    assert np.all(result.metrics["delta1"][:, :, 2:] > 0)  # at t = 1 it is 0 under Init[A]


def test_batched_grid_equals_the_runs_one_by_one(grid):
    config, result = grid
    if config.model == "lora-mlp":
        pytest.skip("same batched loop as teacher-student; compile time is the cost")
    for l in (0, 2):
        for s, seed in enumerate(SEEDS):
            alone = train_grid(config, ETA_A[l : l + 1], ETA_B[l : l + 1], [seed])
            for name, values in result.metrics.items():
                np.testing.assert_allclose(values[l, s], alone.metrics[name][0, 0], rtol=2e-5)


@pytest.mark.parametrize("chunk_size", [2, 4])
def test_chunked_training_equals_one_call(chunk_size):
    config = CONFIGS["teacher-student"]
    one_call = train_grid(config, ETA_A, ETA_B, SEEDS)
    chunked = train_grid(config, ETA_A, ETA_B, SEEDS, chunk_size=chunk_size)
    for name, values in one_call.metrics.items():
        np.testing.assert_allclose(chunked.metrics[name], values, rtol=2e-5, err_msg=name)


def test_jitted_and_unjitted_training_agree(grid):
    """One run of the scan op by op (jax.disable_jit) equals the same run in the compiled grid."""
    config, result = grid
    if config.model != "teacher-student":
        pytest.skip("op by op is slow: one model is enough, the loop is shared")
    data = _data.teacher_student_data(0, n_train=20, n_test=5)
    seed = jnp.array([SEEDS[1]])
    setup = (
        *_frozen_setup(config.model, 16, seed, data.x_train, data.x_test),
        _lora_setup(16, 2, config.init, config.initial_B_std, seed),
    )
    features, test, lora0 = jax.tree_util.tree_map(lambda a: a[0], setup)
    with jax.disable_jit():
        eager, eager_step = _layer_run(
            _StepConfig.of(config),
            features,
            test,
            data.y_train,
            data.y_test,
            lora0,
            jnp.float32(ETA_A[1]),
            jnp.float32(ETA_B[1]),
        )
    assert int(eager_step) == -1
    for name, values in result.metrics.items():
        np.testing.assert_allclose(eager[name], values[1, 1], rtol=1e-4, atol=1e-7, err_msg=name)


def test_same_seed_same_numbers_other_seed_other_numbers():
    config = CONFIGS["teacher-student"]
    first = train_grid(config, ETA_A, ETA_B, [3, 3])
    again = train_grid(config, ETA_A, ETA_B, [3, 4])
    for name, values in first.metrics.items():
        np.testing.assert_array_equal(values[:, 0], values[:, 1])
        np.testing.assert_array_equal(values[:, 0], again.metrics[name][:, 0])
    assert not np.array_equal(first.metrics["train_loss"], again.metrics["train_loss"])


def test_a_new_grid_of_the_same_size_does_not_recompile():
    config = CONFIGS["teacher-student"]
    train_grid(config, ETA_A, ETA_B, SEEDS)
    compiled = _train_layer_chunk._cache_size()
    train_grid(config, ETA_A * 2, ETA_B / 3, SEEDS + 1)
    train_grid(dataclasses.replace(config, data_seed=9), ETA_A, ETA_B, SEEDS)
    assert _train_layer_chunk._cache_size() == compiled


def test_divergence_is_caught_without_nan_before_it_or_harm_to_the_batch():
    config = CONFIGS["teacher-student"]
    result = train_grid(config, [1e-3, 1e4], [1e-3, 1e4], [0])
    step = result.diverged_step[1, 0]
    assert result.diverged_step[0, 0] == -1 and step >= 1
    for values in result.metrics.values():
        assert np.all(np.isfinite(values[1, 0, :step])) and np.all(np.isnan(values[1, 0, step:]))
    alone = train_grid(config, [1e-3, 1e-3], [1e-3, 1e-3], [0])
    np.testing.assert_allclose(result.metrics["train_loss"][0], alone.metrics["train_loss"][0])


@pytest.mark.parametrize(
    ("init", "frozen_metric", "zero_terms"),
    [("A", "A", ("delta1", "delta3")), ("B", "B", ("delta2", "delta3"))],
    ids=["Init[A]-A-frozen", "Init[B]-B-frozen"],
)
def test_adam_leaves_the_other_matrix_exactly_unchanged_at_step_1(init, frozen_metric, zero_terms):
    """Init[A]: B₀ = 0 makes ∂L/∂A = 0, and Adam maps a zero gradient to a zero update (and
    Init[B] likewise for B)."""
    config = dataclasses.replace(CONFIGS["teacher-student"], init=init)
    result = train_grid(config, ETA_A, ETA_B, SEEDS)
    values = result.metrics[frozen_metric]
    np.testing.assert_array_equal(values[:, :, 1], values[:, :, 0])
    assert np.all(values[:, :, 2] != values[:, :, 0])
    for name in zero_terms:
        assert np.all(result.metrics[name][:, :, 1] == 0.0)


def test_initial_loss_is_the_papers_model_at_the_seeds_initialization():
    config = CONFIGS["teacher-student"]
    result = train_grid(config, ETA_A[:1], ETA_B[:1], [5])
    data = _data.teacher_student_data(0, n_train=20, n_test=5)
    k_frozen, k_lora = jax.random.split(_data.run_key(5))
    frozen = _models.init_student(k_frozen, width=16, input_dim=5)
    lora = _models.init_lora(k_lora, width=16, rank=2, init="A", B_std=2**-0.5)
    loss = jnp.mean(jnp.square(_models.teacher_student(frozen, lora, data.x_train) - data.y_train))
    assert result.metrics["train_loss"][0, 0, 0] == pytest.approx(float(loss), rel=1e-5)


def test_linear_first_gradient_step_by_hand():
    """Init[B] (a₀ = 0): one GD step gives a₁ = η_a b₀ x, so f₁ = η_a b₀² ‖x‖²."""
    config = dataclasses.replace(CONFIGS["linear"], init="B")
    result = train_grid(config, [1e-3], [0.5], [0])
    x = _data.linear_data(0, width=16).x_train[0]
    b0 = result.metrics["b"][0, 0, 0]
    expected = 1e-3 * b0**2 * float(x @ x)
    assert result.metrics["f"][0, 0, 1] == pytest.approx(expected, rel=1e-5)
    assert result.metrics["delta1"][0, 0, 1] == pytest.approx(expected, rel=1e-5)  # b₀ Δ(aᵀx)
    assert result.metrics["delta2"][0, 0, 1] == 0.0  # Δb₁ = −η_b a₀ᵀx (f − y) = 0


def test_record_false_keeps_only_the_losses():
    config = dataclasses.replace(CONFIGS["lora-mlp"], record=False)
    result = train_grid(config, ETA_A, ETA_B, SEEDS)
    assert tuple(result.metrics) == ("train_loss", "test_loss")


def test_training_jaxpr_has_no_width_by_width_array():
    """Per step the work is O(N·n·r): W_h (n × n) lives only in the precompute."""
    config = dataclasses.replace(CONFIGS["teacher-student"], width=24)
    z, z_test, W_out = jnp.zeros((2, 20, 24)), jnp.zeros((2, 5, 24)), jnp.zeros((2, 24))
    features = _models.LayerFeatures(z, z, W_out)
    test = _models.LayerFeatures(z_test, z_test, W_out)
    lora0 = _models.Lora(jnp.zeros((2, 2, 24)), jnp.zeros((2, 24, 2)))
    jaxpr = jax.make_jaxpr(_train_layer_chunk, static_argnums=0)(
        config, features, test, jnp.zeros(20), jnp.zeros(5), lora0, jnp.ones(3), jnp.ones(3)
    )
    assert "24,24]" not in str(jaxpr)


@pytest.mark.parametrize(
    "bad",
    [
        {"model": "resnet"},
        {"width": 0},
        {"width": 2.5},
        {"rank": 9, "width": 8},
        {"steps": 0},
        {"init": "C"},
        {"optimizer": "lion"},
        {"weight_decay": 0.1, "optimizer": "adam"},
        {"b2": 1.0},
        {"divergence_bound": 0.0},
        {"rank": 0},
        {"model": "linear", "rank": 17, "width": 16},
        {"multiplier": "abc"},
        {"multiplier": "-inf"},
        {"multiplier": float("nan")},
        {"multiplier": True},
        {"alpha": 0.0},
        {"B_std": -1.0},
    ],
    ids=lambda bad: ",".join(f"{k}={v}" for k, v in bad.items()),
)
def test_bad_config_is_a_usage_error(bad):
    with pytest.raises(UsageError):
        TrainConfig(**bad)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("1/2", Fraction(1, 2)), (0.5, Fraction(1, 2)), (Fraction(1), Fraction(1)), (0, Fraction(0))],
    ids=["text", "float", "Fraction", "int"],
)
def test_multiplier_exponent_is_stored_as_an_exact_rational(given, expected):
    assert TrainConfig(multiplier=given).multiplier == expected


def test_the_default_multiplier_is_exactly_one_and_rank_defaults_per_model():
    """α = 1, s = 0: the models as this project always trained them; rank 4, linear rank 1."""
    assert TrainConfig().scale == 1.0 and TrainConfig().rank == 4
    assert TrainConfig(model="linear").rank == 1
    assert TrainConfig(rank=16, multiplier="1/2", alpha=2.0).scale == pytest.approx(0.5)


def test_rank_r_linear_model_learns_with_the_multiplier_in_both_gradients():
    """Init[B] (a₀ = 0), GD: a₁ = η_a c b₀ x (y − f₀) with f₀ = 0, so f₁ = c² η_a ‖b₀‖² ‖x‖² y."""
    config = dataclasses.replace(CONFIGS["linear"], init="B", rank=4, multiplier=1)
    result = train_grid(config, [1e-3], [0.5], [0])
    data = _data.linear_data(0, width=16)
    x, y = data.x_train[0], float(data.y_train[0])
    b0_sq = 4 * result.metrics["b"][0, 0, 0] ** 2  # rms² × r = ‖b₀‖²
    expected = abs((1 / 4) ** 2 * 1e-3 * b0_sq * float(x @ x) * y)
    assert result.metrics["f"][0, 0, 1] == pytest.approx(expected, rel=1e-4)


def test_init_aliases_are_normalized():
    assert TrainConfig(init="Init[B]").init == "B" and TrainConfig(init="1").init == "A"


@pytest.mark.parametrize(
    ("eta_A", "eta_B", "seeds"),
    [
        ([0.1, -0.1], [0.1, 0.1], [0]),
        ([0.1, np.nan], [0.1, 0.1], [0]),
        ([0.1], [0.1, 0.2], [0]),
        ([], [], [0]),
        ([[0.1]], [[0.1]], [0]),
        ([0.1], [0.1], [0.5]),
        ([0.1], [0.1], []),
    ],
    ids=["negative", "nan", "lengths", "empty", "2-D", "float-seed", "no-seed"],
)
def test_bad_rates_or_seeds_are_usage_errors(eta_A, eta_B, seeds):
    with pytest.raises(UsageError):
        train_grid(CONFIGS["linear"], eta_A, eta_B, seeds)


@given(
    n_rates=st.integers(1, 7), n_seeds=st.integers(1, 4), chunk_size=st.none() | st.integers(1, 30)
)
def test_chunks_cover_every_run_in_calls_of_one_shape(n_rates, n_seeds, chunk_size):
    chunks = list(_chunks(n_rates, n_seeds, chunk_size))
    covered = {(s, l) for seeds, rates in chunks for s in seeds for l in rates}
    assert covered == {(s, l) for s in range(n_seeds) for l in range(n_rates)}
    assert len({(len(seeds), len(rates)) for seeds, rates in chunks}) == 1
    if chunk_size is not None:
        assert all(len(seeds) * len(rates) <= chunk_size for seeds, rates in chunks)


def test_init_A_and_init_B_start_from_the_same_pretrained_model():
    """BA = 0 under both inits, and a seed fixes the same frozen weights for both."""
    config = CONFIGS["teacher-student"]
    init_A, init_B = (
        train_grid(dataclasses.replace(config, init=init), ETA_A, ETA_B, SEEDS).metrics
        for init in ("A", "B")
    )
    np.testing.assert_array_equal(init_A["train_loss"][..., 0], init_B["train_loss"][..., 0])
    np.testing.assert_array_equal(init_A["Z_B"][..., 0], 0.0)
    np.testing.assert_array_equal(init_B["Z_A"][..., 0], 0.0)


def test_init_A_and_init_B_cells_share_the_frozen_features_and_numbers_do_not_change():
    """The second init at a width reuses the seed's frozen features (W_h is drawn once), and
    training from the cached features gives the same numbers as from freshly built ones."""
    config_A = CONFIGS["teacher-student"]
    config_B = dataclasses.replace(config_A, init="B")
    train._frozen_features.cache_clear()
    train_grid(config_A, ETA_A, ETA_B, SEEDS)
    cached_B = train_grid(config_B, ETA_A, ETA_B, SEEDS)
    info = train._frozen_features.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    train._frozen_features.cache_clear()
    fresh_B = train_grid(config_B, ETA_A, ETA_B, SEEDS)
    for name, values in fresh_B.metrics.items():
        np.testing.assert_array_equal(cached_B.metrics[name], values, err_msg=name)


def test_the_gram_draw_gives_the_weight_draws_law_of_the_hidden_features():
    """H − Y_in has covariance z zᵀ/n across hidden units under both draws (core/_gram.py)."""
    from toymodels.core import _gram

    x = jax.random.normal(jax.random.PRNGKey(3), (6, 5))
    width = 2048
    key = jax.random.PRNGKey(4)
    frozen = _models.init_student(key, width=width, input_dim=5)
    weights = _models.teacher_student_features(frozen, x)
    gram = _gram.gram_features(key, x, width=width)
    assert jnp.array_equal(weights.z, gram.z)  # W_in from the same key: the same array
    Y_in = x @ frozen.W_in.T
    K = weights.z @ weights.z.T / width
    for features in (weights, gram):
        G = features.H - Y_in
        assert jnp.allclose(G @ G.T / width, K, atol=0.1 * float(K.max()))
    # and the two draws are different matrices (another random stream), not a copy
    assert not jnp.allclose(weights.H, gram.H, atol=1e-3)


def test_a_sweep_with_the_gram_draw_trains_and_rejects_a_model_without_W_h():
    config = TrainConfig(width=64, init="A", steps=3, feature_draw="gram", n_train=20, n_test=5)
    result = train_grid(config, np.array([1e-2]), np.array([1e-2]), np.array([0, 1]))
    assert np.isfinite(result.metrics["train_loss"]).all()
    with pytest.raises(UsageError, match="teacher-student model only"):
        TrainConfig(model="lora-mlp", feature_draw="gram")
    with pytest.raises(UsageError, match="feature_draw must be one of"):
        TrainConfig(feature_draw="cholesky")
