"""The benchmark's count of essential FLOPs is the count of the products the layer really needs."""

from __future__ import annotations

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks._flops import layer_flops_per_run_step, setup_flops_per_seed
from toymodels.core import _models


def _dot_flops(jaxpr) -> int:
    """2 · contraction size · output size, summed over every dot_general (nested jaxprs too)."""
    total = 0
    for eqn in jaxpr.eqns:
        for inner in jax.extend.core.jaxprs_in_params(eqn.params):
            total += _dot_flops(inner)
        if eqn.primitive.name == "dot_general":
            (contracted, _), _ = eqn.params["dimension_numbers"]
            size = int(np.prod([eqn.invars[0].aval.shape[d] for d in contracted]))
            total += 2 * size * int(np.prod(eqn.outvars[0].aval.shape))
    return total


@pytest.mark.parametrize(("N", "n", "r"), [(12, 16, 3), (7, 32, 4)], ids=["r3", "r4"])
def test_count_equals_the_products_autodiff_writes_for_the_reference_layer(N, n, r):
    """Train loss's gradient in A, B plus the test loss, through ``_models.lora_layer``."""
    N_test = 5
    keys = jax.random.split(jax.random.PRNGKey(0), 7)

    def features(key, points):
        k_z, k_h = jax.random.split(key)
        z, H = jax.random.normal(k_z, (points, n)), jax.random.normal(k_h, (points, n))
        return _models.LayerFeatures(z=z, H=H, W_out=jnp.ones(n))

    train, test = features(keys[0], N), features(keys[1], N_test)
    A, B = jax.random.normal(keys[2], (r, n)), jax.random.normal(keys[3], (n, r))

    def loss(A, B, features):
        return jnp.mean(_models.lora_layer(features, A, B)[0] ** 2)

    step = jax.make_jaxpr(jax.grad(loss, argnums=(0, 1)))(A, B, train)
    test_loss = jax.make_jaxpr(loss)(A, B, test)
    counted = _dot_flops(step.jaxpr) + _dot_flops(test_loss.jaxpr)
    # Autodiff writes ∂L/∂f ⊗ W_out as a dot with a contraction of size 1 (2 FLOPs per element);
    # it is one multiply per element, which is what the benchmark counts.
    assert counted == layer_flops_per_run_step(n_train=N, n_test=N_test, width=n, rank=r) + N * n


def test_setup_count_is_the_products_of_the_frozen_features():
    n, d, N, N_test = 64, 5, 20, 10
    frozen = _models.Student(W_in=jnp.ones((n, d)), W_h=jnp.ones((n, n)), W_out=jnp.ones(n))
    counted = sum(
        _dot_flops(jax.make_jaxpr(_models.teacher_student_features)(frozen, x).jaxpr)
        for x in (jnp.ones((N, d)), jnp.ones((N_test, d)))
    )
    assert counted == setup_flops_per_seed(n_train=N, n_test=N_test, width=n, input_dim=d)
