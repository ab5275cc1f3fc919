"""The LoRA rate transformations compose like optax's own: injectable hyperparameters, schedules,
selectors that match LoRA naming only, and a sign convention that the mistaken chain shows.

``scale_by_lora_rates`` and ``lora_plus_rates`` are deprecated (tests/test_optim_groups.py checks
the warning); these tests keep their behaviour, so the warning is ignored here."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from toymodels import UsageError, lora_optimizer, lora_plus_rates, scale_by_lora_rates
from toymodels.core._optim import SELECT_A, SELECT_B, _matcher
from toymodels.core._optim import rate_labels as lora_labels

pytestmark = pytest.mark.filterwarnings("ignore:.* is deprecated:DeprecationWarning")

PARAMS = {
    "layer": {
        "kernel": jnp.arange(6.0).reshape(2, 3),
        "lora_A": jnp.arange(6.0).reshape(2, 3) - 1.0,
        "lora_B": jnp.arange(4.0).reshape(2, 2) + 0.5,
    }
}
GRADS = jax.tree_util.tree_map(jnp.cos, PARAMS)

# factory, its arguments, the hyperparameters those arguments become under inject_hyperparams.
FACTORIES = [
    (scale_by_lora_rates, {"eta_A": 0.1, "eta_B": 0.4, "eta_other": 0.0}, {"eta_A", "eta_B"}),
    (lora_plus_rates, {"eta_A": 0.1, "ratio": 4.0, "eta_other": 0.0}, {"eta_A", "ratio"}),
    (
        lora_optimizer,
        {"name": "adamw", "eta_A": 0.1, "eta_B": 0.4, "weight_decay": 0.01, "eta_other": 0.0},
        {"eta_A", "eta_B", "b1", "b2", "eps", "weight_decay"},
    ),
]
FACTORY_IDS = ["scale_by_lora_rates", "lora_plus_rates", "lora_optimizer"]


def _updates(opt, steps=1, grads=GRADS):
    state = opt.init(PARAMS)
    for _ in range(steps):
        updates, state = opt.update(grads, state, PARAMS)
    return updates, state


@pytest.mark.parametrize(("factory", "kwargs", "hyper"), FACTORIES, ids=FACTORY_IDS)
def test_inject_hyperparams_gives_the_same_updates_with_the_rates_as_hyperparameters(
    factory, kwargs, hyper
):
    injected = optax.inject_hyperparams(factory)(**kwargs)
    expected, _ = _updates(factory(**kwargs), steps=2)
    got, state = _updates(injected, steps=2)
    assert hyper <= set(state.hyperparams)
    for path in (("layer", "lora_A"), ("layer", "lora_B"), ("layer", "kernel")):
        np.testing.assert_allclose(got[path[0]][path[1]], expected[path[0]][path[1]], rtol=1e-6)


@pytest.mark.parametrize(("factory", "kwargs", "hyper"), FACTORIES, ids=FACTORY_IDS)
def test_changing_an_injected_rate_changes_the_next_update(factory, kwargs, hyper):
    injected = optax.inject_hyperparams(factory)(**kwargs)
    state = injected.init(PARAMS)
    before, _ = injected.update(GRADS, state, PARAMS)
    state.hyperparams["eta_A"] = 2 * state.hyperparams["eta_A"]
    after, _ = injected.update(GRADS, state, PARAMS)
    np.testing.assert_allclose(after["layer"]["lora_A"], 2 * before["layer"]["lora_A"], rtol=1e-6)
    # LoRA+ ties η_B to η_A (η_B = ratio · η_A); the others keep η_B.
    factor_B = 2 if factory is lora_plus_rates else 1
    np.testing.assert_allclose(
        after["layer"]["lora_B"], factor_B * before["layer"]["lora_B"], rtol=1e-6
    )


def test_predicate_selectors_pass_through_inject_hyperparams_as_static_args():
    injected = optax.inject_hyperparams(lora_plus_rates, static_args=("select_A", "select_B"))(
        eta_A=0.1,
        ratio=4.0,
        eta_other=0.0,
        select_A=lambda path: path.endswith("lora_A"),
        select_B=lambda path: path.endswith("lora_B"),
    )
    updates, _ = _updates(injected)
    np.testing.assert_allclose(updates["layer"]["lora_B"], -0.4 * GRADS["layer"]["lora_B"])


def test_injected_optimizer_runs_under_jit():
    injected = optax.inject_hyperparams(lora_optimizer)(
        name="adam", eta_A=0.1, eta_B=0.4, eta_other=0.0
    )
    update = jax.jit(injected.update)
    updates, state = update(GRADS, injected.init(PARAMS), PARAMS)
    # Adam's first step is ±η per entry.
    np.testing.assert_allclose(jnp.abs(updates["layer"]["lora_B"]), 0.4, rtol=1e-5)
    assert int(state.count) == 1


SCHEDULE = optax.linear_schedule(init_value=0.0, end_value=1.0, transition_steps=4)


def test_scheduled_rates_follow_the_schedule_step_by_step():
    opt = scale_by_lora_rates(SCHEDULE, lambda count: 3 * SCHEDULE(count), eta_other=0.0)
    state = opt.init(PARAMS)
    update = jax.jit(opt.update)
    for t in range(6):
        updates, state = update(GRADS, state, PARAMS)
        eta = float(SCHEDULE(t))
        np.testing.assert_allclose(updates["layer"]["lora_A"], -eta * GRADS["layer"]["lora_A"])
        np.testing.assert_allclose(
            updates["layer"]["lora_B"], -3 * eta * GRADS["layer"]["lora_B"], rtol=1e-6
        )


@pytest.mark.parametrize("scheduled", ["eta_A", "ratio"])
def test_lora_plus_rates_accepts_a_schedule_for_either_argument(scheduled):
    kwargs = {"eta_A": 0.5, "ratio": 4.0, scheduled: SCHEDULE}
    opt = lora_plus_rates(**kwargs, eta_other=0.0)
    updates, _ = _updates(opt, steps=3)  # the third update uses the schedule at count 2: 0.5
    eta_A, ratio = (0.5, 4.0) if scheduled == "eta_A" else (0.5, 0.5)
    np.testing.assert_allclose(updates["layer"]["lora_A"], -eta_A * GRADS["layer"]["lora_A"])
    np.testing.assert_allclose(
        updates["layer"]["lora_B"], -ratio * eta_A * GRADS["layer"]["lora_B"], rtol=1e-6
    )


def test_equal_scheduled_rates_reproduce_optax_adam_with_that_schedule():
    ours = lora_optimizer("adam", SCHEDULE, SCHEDULE, eta_other=SCHEDULE)
    reference = optax.adam(SCHEDULE, b1=0.9, b2=0.99)
    state_ours, state_ref = ours.init(PARAMS), reference.init(PARAMS)
    for _ in range(5):
        got, state_ours = ours.update(GRADS, state_ours, PARAMS)
        expected, state_ref = reference.update(GRADS, state_ref, PARAMS)
        for leaf in PARAMS["layer"]:
            np.testing.assert_allclose(got["layer"][leaf], expected["layer"][leaf], rtol=1e-6)


def test_injected_schedule_is_visible_in_the_state():
    injected = optax.inject_hyperparams(lora_plus_rates)(eta_A=SCHEDULE, ratio=4.0, eta_other=0.0)
    _, state = _updates(injected, steps=3)
    assert float(state.hyperparams["eta_A"]) == pytest.approx(float(SCHEDULE(2)))


# --- Which leaves the default selectors take ------------------------------------------------------

DEFAULT_LABELS = {
    "lora_A": "A",
    "lora_a": "A",
    "A": "A",
    "encoder/layer_0/lora_A": "A",
    "attn/lora_A/kernel": "A",  # a Flax linen Dense submodule named lora_A
    "l1/lora/lora_a/value": "A",  # Flax NNX LoRALinear
    "layers/0/lora_A": "A",  # an Equinox module in a list
    "lora_B": "B",
    "lora_b": "B",
    "B": "B",
    "l1/lora/lora_b/value": "B",
    "mlp/linear_0/b": "other",  # a Haiku bias
    "mlp/linear_0/w": "other",
    "a": "other",
    "b": "other",
    "norm/scale": "other",
    "lora_alpha": "other",
    "lora_A_scale": "other",
    "head/B_proj": "other",
    "Attn/bias": "other",
}


@pytest.mark.parametrize(("path", "label"), DEFAULT_LABELS.items(), ids=DEFAULT_LABELS)
def test_default_selectors_match_lora_naming_only(path, label):
    is_A, is_B = _matcher(SELECT_A)(path), _matcher(SELECT_B)(path)
    assert ("A" if is_A else "B" if is_B else "other") == label
    assert not (is_A and is_B)


def test_a_haiku_bias_is_not_a_lora_B():
    params = {
        "mlp/~/linear_0": {"w": 0, "b": 0},
        "mlp/~/linear_0/lora": {"lora_A": 0, "lora_B": 0},
    }
    labels = lora_labels(params)
    assert labels["mlp/~/linear_0"] == {"w": "other", "b": "other"}
    assert labels["mlp/~/linear_0/lora"] == {"lora_A": "A", "lora_B": "B"}


@pytest.mark.parametrize("eta_other", [None, 0.0, 1e-3], ids=["no-eta_other", "frozen", "trained"])
@pytest.mark.parametrize("missing", ["A", "B"])
def test_a_selector_that_matches_nothing_is_an_error_whatever_eta_other(missing, eta_other):
    params = {"kernel": jnp.ones(2), "lora_A": jnp.ones(2), "lora_B": jnp.ones(2)}
    del params[f"lora_{missing}"]
    with pytest.raises(UsageError, match=f"select_{missing}=.* matches no parameter"):
        lora_plus_rates(1e-3, 4.0, eta_other=eta_other).init(params)


def test_a_custom_selector_typo_is_an_error_in_every_factory():
    for make in (
        lambda **s: scale_by_lora_rates(1.0, 1.0, eta_other=0.0, **s),
        lambda **s: lora_optimizer("adam", 1.0, 1.0, eta_other=0.0, **s),
        lambda **s: optax.inject_hyperparams(lora_plus_rates)(1.0, 2.0, eta_other=0.0, **s),
    ):
        with pytest.raises(UsageError, match="select_B='up_prj'"):
            make(select_A="lora_A", select_B="up_prj").init(PARAMS)


# --- The sign convention --------------------------------------------------------------------------


def _loss_after(opt, steps=5):
    """Train PARAMS towards zero on ½‖p‖² (every leaf trainable)."""
    loss = lambda p: 0.5 * sum(jnp.sum(x**2) for x in jax.tree_util.tree_leaves(p))  # noqa: E731
    params, state = PARAMS, opt.init(PARAMS)
    for _ in range(steps):
        updates, state = opt.update(jax.grad(loss)(params), state, params)
        params = optax.apply_updates(params, updates)
    return float(loss(params)), float(loss(PARAMS))


def test_rates_last_after_scale_by_adam_descend():
    after, before = _loss_after(
        optax.chain(optax.scale_by_adam(), lora_plus_rates(0.05, ratio=2.0, eta_other=0.05))
    )
    assert after < before


def test_the_documented_mistake_rates_after_a_whole_optimizer_ascends():
    """docs/models.md shows ``chain(adamw(1.0), lora_plus_rates(...))`` as what not to do."""
    after, before = _loss_after(
        optax.chain(optax.adamw(1.0), lora_plus_rates(0.05, ratio=2.0, eta_other=0.05))
    )
    assert after > before
