"""Train a grid of learning-rate pairs × seeds of one toy model in one compiled call.

>>> import numpy as np
>>> config = TrainConfig(model="teacher-student", width=64, init="A", optimizer="adam", steps=5)
>>> result = train_grid(config, eta_A=np.array([1e-3, 1e-2]), eta_B=np.array([1e-3, 1e-2]),
...                     seeds=np.array([0, 1]))
>>> result.metrics["train_loss"].shape, result.diverged_step.shape
((2, 2, 6), (2, 2))
>>> float(result.metrics["delta1"][0, 0, 0])  # Δ and δ are 0.0 at t = 0
0.0

The learning rates are traced inputs: a new grid of the same size reuses the compiled code. Runs
that share a seed share its precomputed features (``z = φ(Y_in)``, ``H = Y_in + W_h z``), computed
once; per step the work is O(N·n·r).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterator
from fractions import Fraction
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from toymodels.core import _data, _gram, _models
from toymodels.core._errors import UsageError
from toymodels.core._instrument import layer_metrics, linear_metrics
from toymodels.core._optim import OPTIMIZERS, lora_optimizer
from toymodels.core._vocab import (
    MODELS,
    canonical_init,
    canonical_model,
    multiplier_exponent,  # re-exported: TrainConfig checks it
)
from toymodels.core.kernels import _fastpath

LAYER_METRICS = (
    "train_loss",
    "test_loss",
    "Z_A",
    "A",
    "B",
    "Z_B",
    "dZ_B",
    "delta1",
    "delta2",
    "delta3",
    "norm_Z_A",
    "norm_Z_B",
)
LINEAR_METRICS = ("train_loss", "b", "aTx", "f", "delta1", "delta2", "delta3")


def _is_int(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One toy-model experiment, everything but the learning rates and the run seeds.

    Attributes:
      model: ``"teacher-student"`` (Init eq. 4), ``"lora-mlp"`` (LoRA+ eq. 3) or ``"linear"``
        (LoRA+ eq. 2).
      width: n.
      init: ``"A"`` (Init[A]: B₀ = 0), ``"B"`` (Init[B]: A₀ = 0) or ``"AB"`` (both random);
        aliases ``Init[A]``, ``Init[1]``, ``1``, ``Init[B]``, ``Init[2]``, ``2`` are normalized.
      rank: r; ``None``: 4 for the LoRA-layer models (the papers'), 1 for ``linear`` (LoRA+ §3.1;
        at rank r the linear model is f(x) = α r^(−s) bᵀ A x, b ∈ ℝ^r, A ∈ ℝ^{r×n}).
      multiplier: s in the LoRA multiplier α·r^(−s) of the output (Z_B = α r^(−s) B A z), an exact
        rational: ``"1/2"``, ``0.5``, ``Fraction(1, 2)``; stored as a ``Fraction``. 0 (with
        α = 1): no multiplier, the toy models as the papers write them and as this project trained
        them before the rank became a variable. s = 1/2 is rank-stabilized LoRA's α/√r, s = 1
        the common α/r.
      alpha: α > 0 in the multiplier (default 1).
      B_std: the standard deviation of B₀'s entries under Init[B] and ``AB`` (b₀'s for
        ``linear``); ``None``: the model's default, 1/√r for the teacher-student model (so that
        Z_B₀ = B₀A₀z is Θ(1) whatever r under ``AB``), 1 for the other two (LoRA+ App. C.1.1,
        §3.1). The calculator's Init[B] has entries Θ(1) whatever r: rank sweeps set 1.
      optimizer: ``"sgd"``, ``"adam"`` or ``"adamw"``; ``None`` picks the paper's (AdamW for the
        teacher-student model, gradient descent for the other two).
      steps: T, the number of optimizer updates (metrics have T + 1 entries).
      weight_decay: decoupled weight decay of ``adamw`` (the papers give none; 0 for γ checks).
      b1, b2, eps: Adam's (Init App. B.1.1: β1 = 0.9, β2 = 0.99).
      data_seed: fixes the data and the teacher.
      n_train: training points, full batch; ``None``: 1000 (1 for ``linear``: one sample).
      n_test: test points (not used by ``linear``).
      record: record the per-step instrumentation; ``False`` records only the losses.
      divergence_bound: a run diverges at the first step whose train loss is NaN, infinite or
        larger than this.
      host_kernel: let the teacher-student model use the fused CPU kernel on CPU (same numbers
        up to float32 rounding; toymodels/core/kernels/README.md). ``False`` takes the XLA path;
        so does the environment variable ``LORA_HOST_KERNEL=0``.
    """

    model: str = "teacher-student"
    width: int = 128
    init: str = "A"
    rank: int | None = None
    multiplier: Fraction | str | float = Fraction(0)
    alpha: float = 1.0
    B_std: float | None = None
    optimizer: str | None = None
    steps: int = 100
    weight_decay: float = 0.0
    b1: float = 0.9
    b2: float = 0.99
    eps: float = 1e-8
    data_seed: int = 0
    n_train: int | None = None
    n_test: int = _data.N_TEST
    record: bool = True
    divergence_bound: float = 1e6
    host_kernel: bool = True
    feature_draw: str = "weights"

    def __post_init__(self):
        canonical_model(self.model)
        object.__setattr__(self, "init", canonical_init(self.init))
        if self.optimizer is None:
            object.__setattr__(self, "optimizer", MODELS[self.model].paper_optimizer)
        if self.optimizer not in OPTIMIZERS:
            raise UsageError(
                f"unknown optimizer {self.optimizer!r}; expected one of {', '.join(OPTIMIZERS)}"
            )
        if self.rank is None:
            object.__setattr__(self, "rank", 1 if self.model == "linear" else 4)
        object.__setattr__(self, "multiplier", multiplier_exponent(self.multiplier))
        if not (_is_number(self.alpha) and math.isfinite(self.alpha) and self.alpha > 0):
            raise UsageError(f"alpha must be a finite number > 0, got {self.alpha!r}")
        if self.B_std is not None and not (
            _is_number(self.B_std) and math.isfinite(self.B_std) and self.B_std > 0
        ):
            raise UsageError(f"B_std must be a finite number > 0, got {self.B_std!r}")
        if self.n_train is None:
            object.__setattr__(self, "n_train", 1 if self.model == "linear" else _data.N_TRAIN)
        for name in ("width", "steps", "n_train", "n_test", "rank"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise UsageError(f"{name} must be an integer >= 1, got {value!r}")
        if self.rank > self.width:
            raise UsageError(f"rank {self.rank} is larger than width {self.width}")
        if not _is_int(self.data_seed) or not 0 <= self.data_seed < 2**31:
            raise UsageError(f"data_seed must be an integer in [0, 2^31), got {self.data_seed!r}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise UsageError(f"weight_decay must be finite and >= 0, got {self.weight_decay!r}")
        if self.weight_decay and self.optimizer != "adamw":
            raise UsageError(f"weight_decay needs optimizer 'adamw', not {self.optimizer!r}")
        for name in ("b1", "b2"):
            if not 0 <= getattr(self, name) < 1:
                raise UsageError(f"{name} must lie in [0, 1), got {getattr(self, name)!r}")
        if not self.eps > 0:
            raise UsageError(f"eps must be > 0, got {self.eps!r}")
        if self.feature_draw not in _gram.FEATURE_DRAWS:
            raise UsageError(
                f"feature_draw must be one of {', '.join(_gram.FEATURE_DRAWS)}, "
                f"got {self.feature_draw!r}"
            )
        if self.feature_draw == "gram" and self.model != "teacher-student":
            raise UsageError("feature_draw 'gram' draws W_h: the teacher-student model only")
        if not self.divergence_bound > 0:
            raise UsageError(f"divergence_bound must be > 0, got {self.divergence_bound!r}")

    @property
    def scale(self) -> float:
        """The LoRA multiplier α·r^(−s); exactly 1.0 by default."""
        if self.multiplier == 0:
            return float(self.alpha)
        return float(self.alpha * self.rank ** -float(self.multiplier))

    @property
    def initial_B_std(self) -> float:
        """:attr:`B_std`, or the model's default when it is ``None``."""
        if self.B_std is not None:
            return float(self.B_std)
        return 1 / math.sqrt(self.rank) if self.model == "teacher-student" else 1.0

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The names of ``TrainResult.metrics`` for this configuration."""
        if self.model == "linear":
            return LINEAR_METRICS if self.record else ("train_loss",)
        return LAYER_METRICS if self.record else ("train_loss", "test_loss")


@dataclasses.dataclass(frozen=True, eq=False)
class TrainResult:
    """The trajectories of L rate pairs × S seeds.

    Attributes:
      config: the :class:`TrainConfig`.
      eta_A, eta_B: float ``[L]``; seeds: int ``[S]``.
      metrics: name → float32 ``[L, S, T + 1]``; index t = 0 is the initialization, t the state
        after t updates. NaN from a run's ``diverged_step`` on.
      diverged_step: int ``[L, S]``, the first t whose train loss was NaN, infinite or above
        ``config.divergence_bound``; −1 for a run that did not diverge.
    """

    config: TrainConfig
    eta_A: np.ndarray
    eta_B: np.ndarray
    seeds: np.ndarray
    metrics: dict[str, np.ndarray]
    diverged_step: np.ndarray

    @property
    def diverged(self) -> np.ndarray:
        """bool ``[L, S]``."""
        return self.diverged_step >= 0


class _StepConfig(NamedTuple):
    """The part of a :class:`TrainConfig` the compiled training loop depends on (besides shapes).

    Init, data seed and model live elsewhere (in the inputs), so Init[A] and Init[B], or a new data
    seed, reuse the compiled code.
    """

    optimizer: str
    steps: int
    b1: float
    b2: float
    eps: float
    weight_decay: float
    record: bool
    divergence_bound: float
    host_kernel: bool
    scale: float

    @classmethod
    def of(cls, config: TrainConfig) -> _StepConfig:
        return cls(**{name: getattr(config, name) for name in cls._fields})  # scale: a property


# --- One run: a scan over steps -------------------------------------------------------------------


def _run(cfg: _StepConfig, params0, loss_fn, test_loss_fn, metrics_fn, eta_A, eta_B):
    """Train one run for ``cfg.steps`` updates; returns (records name → [T + 1], diverged_step).

    ``loss_fn(params) -> (loss, aux)``; ``metrics_fn(params, aux, prev_params, prev_aux)`` gives the
    instrumentation of the state t from the state t − 1. At t = 0 the "previous" state is the state
    itself, *the same arrays*: every Δ is ``x − x``, exactly 0 on any CPU. (Evaluating ``aux`` a
    second time outside the scan would not do: XLA may fuse and round the two evaluations
    differently, e.g. with AVX2 against AVX-512, and leave a Δ of 1e-7.)
    """
    opt = lora_optimizer(
        cfg.optimizer,
        eta_A,
        eta_B,
        b1=cfg.b1,
        b2=cfg.b2,
        eps=cfg.eps,
        weight_decay=cfg.weight_decay,
    )
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def step(carry, t):
        params, opt_state, prev_params, prev_aux, diverged_step = carry
        (loss, aux), grads = grad_fn(params)
        # `not loss <= bound` is also true for NaN.
        diverged_step = jnp.where(
            (diverged_step < 0) & ~(loss <= cfg.divergence_bound), t, diverged_step
        )
        alive = diverged_step < 0
        record = {"train_loss": loss}
        if test_loss_fn is not None:
            record["test_loss"] = test_loss_fn(params)
        if cfg.record:
            first = t == 0
            prev_aux = jax.tree_util.tree_map(partial(jnp.where, first), aux, prev_aux)
            record.update(metrics_fn(params, aux, prev_params, prev_aux))
        record = {name: jnp.where(alive, value, jnp.nan) for name, value in record.items()}
        updates, new_opt_state = opt.update(grads, opt_state, params)
        new_params = optax.apply_updates(params, updates)
        # A diverged run stops moving, so inf and NaN never feed later steps.
        keep = partial(jnp.where, alive)
        new_params, new_opt_state = jax.tree_util.tree_map(
            keep, (new_params, new_opt_state), (params, opt_state)
        )
        return (new_params, new_opt_state, params, aux, diverged_step), record

    # A placeholder of the right shape: step 0 replaces it by its own aux (above).
    aux0 = jax.tree_util.tree_map(
        lambda s: jnp.zeros(s.shape, s.dtype), jax.eval_shape(loss_fn, params0)[1]
    )
    carry = (params0, opt.init(params0), params0, aux0, jnp.int32(-1))
    # T + 1 steps: step t records the state t; the update made by the last one is never used.
    (*_, diverged_step), records = jax.lax.scan(step, carry, jnp.arange(cfg.steps + 1))
    return records, diverged_step


def _mse(f, y):
    return jnp.mean(jnp.square(f - y))


def _layer_run(cfg, features, test_features, y, y_test, lora0, eta_A, eta_B):
    # The fused hot path; `_models.lora_layer` is the readable reference it is tested against.
    kernel = {} if cfg.host_kernel else {"host_kernel": False}  # default: the kernel if usable

    def loss_fn(params):
        f, Z_A = _fastpath.lora_layer(features, params["A"], params["B"], scale=cfg.scale, **kernel)
        return _mse(f, y), Z_A

    def test_loss_fn(params):
        layer = _fastpath.lora_layer(
            test_features, params["A"], params["B"], scale=cfg.scale, **kernel
        )
        return _mse(layer[0], y_test)

    def metrics_fn(params, Z_A, prev, prev_Z_A):
        return layer_metrics(params["A"], params["B"], Z_A, prev["B"], prev_Z_A, cfg.scale)

    params0 = {"A": lora0.A, "B": lora0.B}
    return _run(cfg, params0, loss_fn, test_loss_fn, metrics_fn, eta_A, eta_B)


def _linear_run(cfg, x, y, params0, eta_A, eta_B):
    def loss_fn(params):
        aTx = x @ params["A"].T  # [N, r]
        f = jnp.sum(aTx * params["B"][None, :], axis=-1)
        f = f if cfg.scale == 1.0 else cfg.scale * f
        return 0.5 * _mse(f, y), aTx

    def metrics_fn(params, aTx, prev, prev_aTx):
        return linear_metrics(params["B"], aTx, prev["B"], prev_aTx, cfg.scale)

    # Keyed A, B: a and b play LoRA's A and B, and the optimizer selects by those names.
    params = {"A": params0.a, "B": params0.b}
    return _run(cfg, params, loss_fn, None, metrics_fn, eta_A, eta_B)


# --- Batched over rates (inner) and seeds (outer) -------------------------------------------------


@partial(jax.jit, static_argnames="cfg")
def _train_layer_chunk(cfg, features, test_features, y, y_test, lora0, eta_A, eta_B):
    """features, test_features, lora0: leading seed axis [S']; eta_A, eta_B: [L'].

    Returns records name → [S', L', T + 1] and diverged_step [S', L'].
    """
    run = partial(_layer_run, cfg)
    over_rates = jax.vmap(run, in_axes=(None, None, None, None, None, 0, 0))
    return jax.vmap(over_rates, in_axes=(0, 0, None, None, 0, None, None))(
        features, test_features, y, y_test, lora0, eta_A, eta_B
    )


@partial(jax.jit, static_argnames="cfg")
def _train_linear_chunk(cfg, x, y, params0, eta_A, eta_B):
    run = partial(_linear_run, cfg)
    over_rates = jax.vmap(run, in_axes=(None, None, None, 0, 0))
    return jax.vmap(over_rates, in_axes=(None, None, 0, None, None))(x, y, params0, eta_A, eta_B)


@partial(jax.jit, static_argnames=("model", "width", "feature_draw"))
def _frozen_setup(model, width, seeds, x_train, x_test, feature_draw="weights"):
    """Per seed: frozen weights → precomputed train and test features (W_h is dropped here).

    ``lax.map`` builds one seed at a time, so at most one n × n ``W_h`` is alive; with
    ``feature_draw="gram"`` none is (train and test points drawn jointly, ``_gram.py``).
    """

    def one(seed):
        k_frozen, _ = jax.random.split(_data.run_key(seed))
        if feature_draw == "gram":
            both = _gram.gram_features(k_frozen, jnp.concatenate([x_train, x_test]), width=width)
            split = lambda a: (a[: x_train.shape[0]], a[x_train.shape[0] :])  # noqa: E731
            (z, z_test), (H, H_test) = split(both.z), split(both.H)
            return (
                _models.LayerFeatures(z, H, both.W_out),
                _models.LayerFeatures(z_test, H_test, both.W_out),
            )
        if model == "teacher-student":
            frozen = _models.init_student(k_frozen, width=width, input_dim=x_train.shape[1])
            features = _models.teacher_student_features
        else:
            frozen = _models.init_mlp(k_frozen, width=width, input_dim=x_train.shape[1])
            features = _models.lora_mlp_features
        return features(frozen, x_train), features(frozen, x_test)

    return jax.lax.map(one, seeds)


@partial(jax.jit, static_argnames=("width", "rank", "init", "B_std"))
def _lora_setup(width, rank, init, B_std, seeds):
    """Per seed: the LoRA initialization (the other half of the seed's key)."""

    def one(seed):
        _, k_lora = jax.random.split(_data.run_key(seed))
        return _models.init_lora(k_lora, width=width, rank=rank, init=init, B_std=B_std)

    return jax.vmap(one)(seeds)


@functools.lru_cache(maxsize=2)
def _frozen_features(model, width, seeds, data_seed, n_train, n_test, device, feature_draw):
    """The frozen features of a seed chunk, kept for the next cell of a sweep.

    Init[A] and Init[B] cells of one width share them (the frozen weights depend on the seed only),
    and a Figure-2 sweep trains the two one after the other: drawing W_h (n² normals) and forming
    H (O(N·n²)) is then done once per seed and width instead of twice. ``device`` (the default
    device of the calling thread) is part of the key: features live on the device that made them.
    Holds at most two chunks' features (4·(N + N_test)·n bytes per seed and per array).
    """
    del device
    data = _dataset(model, data_seed, _data.INPUT_DIM, n_train, n_test)
    return _frozen_setup(
        model, width, np.asarray(seeds, np.int32), data.x_train, data.x_test, feature_draw
    )


@partial(jax.jit, static_argnames=("width", "rank", "init", "b_std"))
def _linear_setup(width, rank, init, b_std, seeds):
    def one(seed):
        key = _data.run_key(seed)
        return _models.init_linear(key, width=width, rank=rank, init=init, b_std=b_std)

    return jax.vmap(one)(seeds)


# --- The public entry point -----------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _dataset(model: str, data_seed: int, input_width: int, n_train: int, n_test: int):
    """The data of a configuration, kept for the next cell of a sweep (only the linear model's
    inputs depend on the student's width)."""
    if model == "linear":
        return _data.linear_data(data_seed, width=input_width, n_train=n_train)
    make = _data.teacher_student_data if model == "teacher-student" else _data.sine_data
    return make(data_seed, n_train=n_train, n_test=n_test)


def _rates(name, values) -> np.ndarray:
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.ndim != 1:
        raise UsageError(f"{name} must be 1-D (flatten a 2-D grid), got shape {array.shape}")
    if array.size == 0:
        raise UsageError(f"{name} is empty")
    if not np.all(np.isfinite(array) & (array > 0)):
        raise UsageError(f"{name} must be finite and > 0, got {array.tolist()}")
    return array


def _seeds(values) -> np.ndarray:
    array = np.atleast_1d(np.asarray(values))
    if array.ndim != 1 or array.size == 0 or array.dtype.kind not in "iu":
        raise UsageError(f"seeds must be a non-empty 1-D array of integers, got {values!r}")
    if np.any(array < 0) or np.any(array >= 2**31):
        raise UsageError(f"seeds must lie in [0, 2^31), got {array.tolist()}")
    return array.astype(np.int32)


def _chunks(n_rates: int, n_seeds: int, chunk_size: int | None) -> Iterator[tuple[list, list]]:
    """Rectangles (seed indices, rate indices) of at most ``chunk_size`` runs, all of one shape.

    A short last rectangle is padded by repeating its last index, so every call has the same shapes
    (one compilation); a repeated run computes the same numbers and is written twice.
    """

    def padded(indices, size):
        return indices + [indices[-1]] * (size - len(indices))

    if chunk_size is None or chunk_size >= n_rates * n_seeds:
        yield list(range(n_seeds)), list(range(n_rates))
    elif chunk_size >= n_rates:
        per_call = chunk_size // n_rates
        for start in range(0, n_seeds, per_call):
            seeds = list(range(start, min(start + per_call, n_seeds)))
            yield padded(seeds, per_call), list(range(n_rates))
    else:
        for seed in range(n_seeds):
            for start in range(0, n_rates, chunk_size):
                rates = list(range(start, min(start + chunk_size, n_rates)))
                yield [seed], padded(rates, chunk_size)


def train_grid(config: TrainConfig, eta_A, eta_B, seeds, *, chunk_size: int | None = None):
    """Train every (eta_A[l], eta_B[l]) pair with every seed; see :class:`TrainResult`.

    Args:
      config: the experiment.
      eta_A, eta_B: float ``[L]``, pairs of rates (η_a, η_b for ``linear``); finite and > 0.
      seeds: int ``[S]``; each fixes the student's frozen weights and the LoRA initialization.
      chunk_size: at most this many runs per compiled call (memory: each run of a LoRA-layer model
        holds a few ``[N, n]`` float32 arrays); ``None`` trains all L × S runs in one call. The
        numbers do not depend on it.

    Raises:
      UsageError: bad rates, seeds or chunk size.
    """
    eta_A, eta_B = _rates("eta_A", eta_A), _rates("eta_B", eta_B)
    if eta_A.shape != eta_B.shape:
        raise UsageError(f"eta_A and eta_B differ in length: {eta_A.size} vs {eta_B.size}")
    seeds = _seeds(seeds)
    if chunk_size is not None and (not _is_int(chunk_size) or chunk_size < 1):
        raise UsageError(f"chunk_size must be an integer >= 1, got {chunk_size!r}")
    n_rates, n_seeds, n_steps = eta_A.size, seeds.size, config.steps + 1
    static = _StepConfig.of(config)

    metrics = {
        name: np.full((n_rates, n_seeds, n_steps), np.nan, np.float32)
        for name in config.metric_names
    }
    diverged_step = np.full((n_rates, n_seeds), -1, np.int32)

    input_width = config.width if config.model == "linear" else _data.INPUT_DIM
    data = _dataset(config.model, config.data_seed, input_width, config.n_train, config.n_test)
    if config.model == "linear":
        linear_args = (config.width, config.rank, config.init, config.initial_B_std)
        setup = lambda seed_idx: (_linear_setup(*linear_args, seeds[seed_idx]),)  # noqa: E731
        train = lambda params0, rates: _train_linear_chunk(  # noqa: E731
            static, data.x_train, data.y_train, params0, *rates
        )
    else:

        def setup(seed_idx):
            chunk_seeds = tuple(int(seed) for seed in seeds[seed_idx])
            features, test_features = _frozen_features(
                config.model,
                config.width,
                chunk_seeds,
                config.data_seed,
                config.n_train,
                config.n_test,
                jax.config.jax_default_device,
                config.feature_draw,
            )
            lora0 = _lora_setup(
                config.width, config.rank, config.init, config.initial_B_std, seeds[seed_idx]
            )
            return features, test_features, lora0

        def train(features, test_features, lora0, rates):
            return _train_layer_chunk(
                static, features, test_features, data.y_train, data.y_test, lora0, *rates
            )

    prepared: tuple = (None, None)  # (seed indices, their setup): reused across rate chunks
    for seed_idx, rate_idx in _chunks(n_rates, n_seeds, chunk_size):
        if prepared[0] != seed_idx:
            prepared = (seed_idx, setup(np.asarray(seed_idx)))
        rates = tuple(jnp.asarray(eta[rate_idx], jnp.float32) for eta in (eta_A, eta_B))
        records, diverged = train(*prepared[1], rates)
        where = np.ix_(rate_idx, seed_idx)
        for name in metrics:
            metrics[name][where] = np.swapaxes(np.asarray(records[name]), 0, 1)
        diverged_step[where] = np.asarray(diverged).T
    return TrainResult(config, eta_A, eta_B, seeds, metrics, diverged_step)
