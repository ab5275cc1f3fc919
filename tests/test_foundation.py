"""The project installs and its strict test settings are in force."""

import jax
import jax.numpy as jnp
import pytest

import theory
import toymodels


def test_packages_import_with_versions():
    assert theory.__version__ == toymodels.__version__


def test_jax_runs_on_cpu():
    assert jax.default_backend() == "cpu"


def test_rank_promotion_raises():
    with pytest.raises(ValueError, match="jax_numpy_rank_promotion"):
        _ = jnp.ones((3,)) + jnp.ones((2, 3))
