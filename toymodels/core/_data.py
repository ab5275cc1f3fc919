"""Seeded, deterministic data sets of the papers' toy experiments.

Every data set is a jitted function of ``data_seed`` (and, for the linear model, the width): the
same seed gives the same numbers, and a new seed does not recompile. Keys are domain-separated
from the run seeds (see :func:`data_key`): ``data_seed = 0`` and run seed 0 share no numbers.

>>> data = teacher_student_data(0)
>>> data.x_train.shape, data.y_train.shape, data.x_test.shape
((1000, 5), (1000,), (100, 5))
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from toymodels.core._models import Lora, Student, _normal, teacher_student

# The teacher of the Init paper (§3.7, App. B.1.1).
TEACHER_WIDTH = 1000
TEACHER_RANK = 20
INPUT_DIM = 5
N_TRAIN = 1000
N_TEST = 100

_DATA_DOMAIN, _RUN_DOMAIN = 0, 1


class Dataset(NamedTuple):
    """Inputs ``x`` ``[N, d]`` and targets ``y`` ``[N]``; ``x_test``, ``y_test`` may be ``None``."""

    x_train: jax.Array
    y_train: jax.Array
    x_test: jax.Array | None
    y_test: jax.Array | None


def data_key(data_seed: int) -> jax.Array:
    """The PRNG key of the data (and the teacher) for ``data_seed``."""
    return jax.random.fold_in(jax.random.PRNGKey(data_seed), _DATA_DOMAIN)


def run_key(seed):
    """The PRNG key of a run seed: it draws the student's frozen weights and the LoRA init."""
    return jax.random.fold_in(jax.random.PRNGKey(seed), _RUN_DOMAIN)


@jax.jit
def make_teacher(key) -> tuple[Student, Lora]:
    """Init §3.7's teacher: eq. 4 with n = 1000, r = 20, W_h = 0, all weights N(0, 1/fan-in)."""
    n, r, d = TEACHER_WIDTH, TEACHER_RANK, INPUT_DIM
    k_in, k_out, k_A, k_B = jax.random.split(key, 4)
    frozen = Student(
        W_in=_normal(k_in, (n, d), 1 / d),
        W_h=jnp.zeros((n, n), jnp.float32),
        W_out=_normal(k_out, (n,), 1 / n),
    )
    return frozen, Lora(A=_normal(k_A, (r, n), 1 / n), B=_normal(k_B, (n, r), 1 / r))


def _gaussian_inputs(key, n_train, n_test, dim):
    k_train, k_test = jax.random.split(key)
    return (
        jax.random.normal(k_train, (n_train, dim), jnp.float32),
        jax.random.normal(k_test, (n_test, dim), jnp.float32),
    )


@partial(jax.jit, static_argnames=("n_train", "n_test"))
def teacher_student_data(
    data_seed: int, *, n_train: int = N_TRAIN, n_test: int = N_TEST
) -> Dataset:
    """X ~ N(0, I_5), Y = teacher(X) (Init App. B.1.1)."""
    k_teacher, k_x = jax.random.split(data_key(data_seed))
    x_train, x_test = _gaussian_inputs(k_x, n_train, n_test, INPUT_DIM)
    frozen, lora = make_teacher(k_teacher)
    teacher = lambda x: teacher_student(frozen, lora, x)  # noqa: E731
    return Dataset(x_train, teacher(x_train), x_test, teacher(x_test))


@partial(jax.jit, static_argnames=("input_dim", "n_train", "n_test"))
def sine_data(
    data_seed: int, *, input_dim: int = INPUT_DIM, n_train: int = N_TRAIN, n_test: int = N_TEST
) -> Dataset:
    """X ~ N(0, I_d), Y = sin(d⁻¹ Σᵢ Xᵢ) (LoRA+ §3.2, App. C.1.1)."""
    x_train, x_test = _gaussian_inputs(data_key(data_seed), n_train, n_test, input_dim)
    return Dataset(
        x_train,
        jnp.sin(jnp.mean(x_train, axis=1)),
        x_test,
        jnp.sin(jnp.mean(x_test, axis=1)),
    )


@partial(jax.jit, static_argnames=("width", "n_train"))
def linear_data(data_seed: int, *, width: int, n_train: int = 1) -> Dataset:
    """LoRA+ §3.1: inputs x ~ N(0, I_n) (Θ(1) coordinates, ‖x‖² = Θ(n)) and target y = 1.

    W* = 0 after shifting y, so f₀ − y = −1 = Θ(1) under both inits. No test set.
    """
    x = jax.random.normal(data_key(data_seed), (n_train, width), jnp.float32)
    return Dataset(x, jnp.ones((n_train,), jnp.float32), None, None)
