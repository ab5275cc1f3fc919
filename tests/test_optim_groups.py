"""The LoRA group optimizer cannot mislead: other libraries' LoRA names are labelled (or warned
about), an SSM's mixer/A is not LoRA, a selector that overreaches is an error, no leaf ever climbs
the gradient (optax.masked, whole optimizers), predicates work under inject_hyperparams, and the
factory wraps any optax optimizer with optax's own defaults."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import toymodels
import toymodels.core
from toymodels import (
    PathSelector,
    UsageError,
    lora_label_table,
    lora_labels,
    lora_multi_optimizer,
    lora_optimizer,
)
from toymodels.core._optim import rate_labels
from toymodels.core._optim_groups import GROUPS

# --- Which leaves are LoRA -----------------------------------------------------------------------

# library: (path of A, path of B, their groups)
SPELLINGS = {
    "peft": ("q_proj/lora_A/default/kernel", "q_proj/lora_B/default/kernel", "lora_A", "lora_B"),
    "peft-embedding": (
        "embed/lora_embedding_A",
        "embed/lora_embedding_B",
        "lora_embedding_A",
        "lora_embedding_B",
    ),
    "kohya": ("unet/attn1/lora_down/weight", "unet/attn1/lora_up/weight", "lora_A", "lora_B"),
    "LoRA_A": ("attn/LoRA_A", "attn/LoRA_B", "lora_A", "lora_B"),
    "any-case": ("te/LORA_DOWN", "te/Lora_Up", "lora_A", "lora_B"),
    "linen": ("Dense_0/lora/a", "Dense_0/lora/b", "lora_A", "lora_B"),
    "nnx": ("hidden/lora/lora_a/value", "hidden/lora/lora_b/value", "lora_A", "lora_B"),
    "toymodels": ("A", "B", "lora_A", "lora_B"),
}


def _tree(*paths: str) -> dict:
    tree: dict = {}
    for path in paths:
        *outer, leaf = path.split("/")
        node = tree
        for key in outer:
            node = node.setdefault(key, {})
        node[leaf] = jnp.ones(2)
    return tree


def _labels_by_path(tree, labels) -> dict:
    from toymodels.core._lora_names import leaf_paths

    return dict(zip(leaf_paths(tree), jax.tree_util.tree_leaves(labels), strict=True))


@pytest.mark.parametrize("library", SPELLINGS)
def test_other_libraries_lora_names_are_labelled(library):
    path_A, path_B, group_A, group_B = SPELLINGS[library]
    tree = _tree(path_A, path_B, "base/kernel", "mlp/linear_0/b")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: every LoRA name was taken
        labels = _labels_by_path(tree, lora_labels(tree))
    assert labels == {
        path_A: group_A,
        path_B: group_B,
        "base/kernel": "other",
        "mlp/linear_0/b": "other",  # a Haiku bias, not a LoRA b
    }


def test_legacy_rates_with_eta_other_zero_now_train_kohya_and_linen_names():
    """Before: only lora_A/lora_B/A/B were selected, so eta_other=0 froze lora_down, lora/b."""
    tree = _tree("attn/lora_A", "attn/lora_B", "unet/lora_down", "unet/lora_up", "x/lora/b")
    assert set(jax.tree_util.tree_leaves(rate_labels(tree))) == {"A", "B"}


def test_a_lora_named_leaf_that_no_selector_took_is_warned_about():
    tree = _tree("attn/lora_A", "attn/lora_B", "attn/lora_magnitude")
    with pytest.warns(UserWarning, match="attn/lora_magnitude look like LoRA"):
        labels = lora_labels(tree, freeze=True)
    assert labels["attn"]["lora_magnitude"] == "frozen"
    # Frozen by a selector of yours: on purpose, no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lora_labels(tree, freeze="magnitude")


def test_legacy_rates_warn_about_a_lora_named_leaf_that_eta_other_freezes():
    opt = lora_optimizer("adam", 1e-3, 1e-3, eta_other=0.0)
    with pytest.warns(UserWarning, match="embed/lora_embedding_A"):
        opt.init(_tree("lora_A", "lora_B", "embed/lora_embedding_A", "embed/lora_embedding_B"))


def test_an_ssm_mixer_A_and_B_are_not_lora_by_default():
    tree = _tree("mixer/A", "mixer/B", "mixer/lora_A", "mixer/lora_B")
    assert lora_labels(tree)["mixer"] == {
        "A": "other",
        "B": "other",
        "lora_A": "lora_A",
        "lora_B": "lora_B",
    }
    assert rate_labels(tree)["mixer"] == {"A": "other", "B": "other", "lora_A": "A", "lora_B": "B"}


@pytest.mark.parametrize(
    ("paths", "select_A"),
    [
        (("lora_A", "lora_B", "mixer/A"), r"A$"),  # takes LoRA names and a non-LoRA one
        (("q/down", "q/up", "mixer/A"), r"(down|/A)$"),  # takes a bare nested A
    ],
    ids=["mixed", "bare-letter"],
)
def test_a_selector_that_takes_a_non_lora_name_is_an_error_unless_allowed(paths, select_A):
    tree = _tree(*paths)
    select_B = r"(lora_B|up)$"
    with pytest.raises(UsageError, match="mixer/A, which are not LoRA names"):
        lora_labels(tree, select_A=select_A, select_B=select_B)
    labels = lora_labels(tree, select_A=select_A, select_B=select_B, allow_non_lora_names=True)
    assert labels["mixer"]["A"] == "lora_A"


def test_custom_names_that_are_all_the_user_asked_for_are_accepted():
    labels = lora_labels(_tree("q/down_lr", "q/up_lr", "q/w"), select_A="down", select_B="up")
    assert labels == {"q": {"down_lr": "lora_A", "up_lr": "lora_B", "w": "other"}}


@pytest.mark.parametrize(
    ("tree", "kwargs", "message"),
    [
        (_tree("w", "b"), {}, "no LoRA parameter found"),
        (_tree("lora_A", "w"), {}, "found lora_A parameters but no lora_B"),
        (_tree("lora_A", "lora_B"), {"select_B": "up_prj"}, "select_B='up_prj' matches no"),
        (_tree("lora_A", "lora_B"), {"select_A": "lora", "select_B": "B"}, "both by select_A"),
        (_tree("lora_A", "lora_B"), {"freeze": "kernel"}, "freeze='kernel' matches no"),
    ],
    ids=["no-lora", "A-without-B", "selector-typo", "two-selectors", "freeze-typo"],
)
def test_bad_selections_are_usage_errors(tree, kwargs, message):
    with pytest.raises(UsageError, match=message):
        lora_labels(tree, **kwargs)


def test_lora_labels_is_exported_and_the_table_shows_path_group_rate(capsys):
    assert toymodels.lora_labels is toymodels.core.lora_labels is lora_labels
    tree = _tree("attn/lora_A", "attn/lora_B", "attn/kernel")
    assert lora_label_table(tree, freeze=True).splitlines() == [
        "attn/kernel  frozen",
        "attn/lora_A  lora_A",
        "attn/lora_B  lora_B",
    ]
    opt = lora_multi_optimizer(optax.sgd, 0.5, loraplus_lr_ratio=4.0, show_labels=True)
    opt.init(tree)
    assert capsys.readouterr().out.splitlines() == [
        "attn/kernel  other   rate 0.5",
        "attn/lora_A  lora_A  rate 0.5",
        "attn/lora_B  lora_B  rate 2",
    ]


# --- No leaf climbs the gradient -----------------------------------------------------------------

PARAMS = {
    "attn": {
        "kernel": jnp.arange(6.0).reshape(2, 3) - 2.5,
        "lora_A": jnp.arange(6.0).reshape(2, 3) - 1.0,
        "lora_B": jnp.arange(4.0).reshape(2, 2) + 0.5,
    },
    "norm": {"scale": jnp.array([1.0, -2.0])},
}
GRADS = jax.tree_util.tree_map(jnp.cos, PARAMS)


def _updates(opt, steps=1):
    state = opt.init(PARAMS)
    for _ in range(steps):
        updates, state = opt.update(GRADS, state, PARAMS)
    return updates, state


def test_legacy_rates_under_optax_masked_are_refused_instead_of_climbing_the_gradient():
    """Before: the masked-out kernel kept Adam's un-negated update (+0.99999 per step)."""
    mask = {"attn": {"kernel": False, "lora_A": True, "lora_B": True}, "norm": {"scale": False}}
    with pytest.warns(DeprecationWarning, match="lora_multi_optimizer"):
        rates = toymodels.lora_plus_rates(1e-2, 4.0, eta_other=0.0)
    masked = optax.chain(optax.scale_by_adam(), optax.masked(rates, mask))
    with pytest.raises(UsageError, match=r"optax\.masked"):
        masked.init(PARAMS)


@pytest.mark.parametrize("name", ["scale_by_lora_rates", "lora_plus_rates"])
def test_the_sign_flipping_helpers_are_deprecated_in_favour_of_the_factory(name):
    with pytest.warns(DeprecationWarning, match="lora_multi_optimizer"):
        getattr(toymodels, name)(1e-3, 4.0)


WRAPPED = {
    "adamw": lambda: lora_multi_optimizer(optax.adamw, 0.1, loraplus_lr_ratio=4.0, freeze="kernel"),
    "prodigy": lambda: lora_multi_optimizer("contrib.prodigy", 1.0, freeze="kernel"),
    "schedule_free": lambda: lora_multi_optimizer(
        optax.contrib.schedule_free_adamw, 0.1, loraplus_lr_ratio=4.0, freeze="kernel"
    ),
    "MultiSteps": lambda: optax.MultiSteps(
        lora_multi_optimizer(optax.adam, 0.1, loraplus_lr_ratio=4.0, freeze="kernel"), 2
    ),
    "apply_if_finite": lambda: optax.apply_if_finite(
        lora_multi_optimizer(optax.adam, 0.1, loraplus_lr_ratio=4.0, freeze="kernel"), 3
    ),
}


@pytest.mark.parametrize("make", WRAPPED.values(), ids=WRAPPED)
def test_every_trained_leaf_descends_and_the_frozen_one_stays_put(make):
    updates, _ = _updates(make(), steps=2)
    assert float(jnp.abs(updates["attn"]["kernel"]).max()) == 0.0
    for path in (("attn", "lora_A"), ("attn", "lora_B"), ("norm", "scale")):
        update, grad = updates[path[0]][path[1]], GRADS[path[0]][path[1]]
        assert float(jnp.sum(update * grad)) < 0.0, path  # against the gradient


def test_with_ratio_one_the_factory_equals_the_optax_optimizer_with_optax_defaults():
    ours, reference = lora_multi_optimizer(optax.adamw, 0.1), optax.adamw(0.1)
    state_ours, state_ref = ours.init(PARAMS), reference.init(PARAMS)
    for _ in range(3):
        got, state_ours = ours.update(GRADS, state_ours, PARAMS)
        expected, state_ref = reference.update(GRADS, state_ref, PARAMS)
    for a, b in zip(
        jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(expected), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_loraplus_ratio_and_embedding_rate_set_each_groups_first_adam_step():
    tree = {**PARAMS, "embed": {"lora_embedding_A": jnp.ones(2), "lora_embedding_B": jnp.ones(2)}}
    grads = jax.tree_util.tree_map(jnp.ones_like, tree)
    schedule = optax.linear_schedule(0.1, 0.0, transition_steps=10)
    opt = lora_multi_optimizer(
        optax.adam, schedule, loraplus_lr_ratio=16.0, loraplus_lr_embedding=1e-3,
        other_learning_rate=0.01,
    )  # fmt: skip
    updates, _ = opt.update(grads, opt.init(tree), tree)
    first = {
        path: float(jnp.abs(leaf).max()) for path, leaf in _labels_by_path(tree, updates).items()
    }
    assert first == pytest.approx(
        {
            "attn/kernel": 0.01,
            "attn/lora_A": 0.1,
            "attn/lora_B": 1.6,
            "norm/scale": 0.01,
            "embed/lora_embedding_A": 1e-3,
            "embed/lora_embedding_B": 1e-3,
        },
        rel=1e-4,
    )


def test_other_optimizer_kwargs_reach_the_other_group_only():
    zero = jax.tree_util.tree_map(jnp.zeros_like, PARAMS)
    opt = lora_multi_optimizer(
        optax.adamw,
        0.1,
        optimizer_kwargs={"weight_decay": 0.5},
        other_optimizer_kwargs={"weight_decay": 0.0},
    )
    updates, _ = opt.update(zero, opt.init(PARAMS), PARAMS)  # only the decay moves anything
    np.testing.assert_allclose(updates["attn"]["lora_A"], -0.05 * PARAMS["attn"]["lora_A"])
    assert float(jnp.abs(updates["norm"]["scale"]).max()) == 0.0


# --- inject_hyperparams --------------------------------------------------------------------------


def test_a_bare_predicate_works_when_the_groups_optimizer_is_injected():
    opt = lora_multi_optimizer(
        optax.inject_hyperparams(optax.adam),
        0.1,
        loraplus_lr_ratio=4.0,
        select_A=lambda path: path.endswith("lora_A"),
    )
    updates, state = _updates(opt)
    np.testing.assert_allclose(jnp.abs(updates["attn"]["lora_B"]), 0.4, rtol=1e-5)
    lr_B = state.inner_states["lora_B"].inner_state.hyperparams["learning_rate"]
    assert float(lr_B) == pytest.approx(0.4)


def test_a_path_selector_passes_through_inject_hyperparams_without_static_args():
    """Before: a predicate was called as a schedule ('ArrayImpl' object has no attribute ...)."""
    select_A = PathSelector(lambda path: path.endswith("lora_A"), "ends with lora_A")
    injected = optax.inject_hyperparams(lora_multi_optimizer)(
        "adam", 0.1, loraplus_lr_ratio=4.0, select_A=select_A
    )
    updates, state = _updates(injected)
    assert {"learning_rate", "loraplus_lr_ratio"} <= set(state.hyperparams)
    np.testing.assert_allclose(jnp.abs(updates["attn"]["lora_B"]), 0.4, rtol=1e-5)
    legacy = optax.inject_hyperparams(lora_optimizer)(
        "adam", 0.1, 0.4, eta_other=0.0, select_A=select_A
    )
    np.testing.assert_allclose(jnp.abs(_updates(legacy)[0]["attn"]["lora_B"]), 0.4, rtol=1e-5)


@pytest.mark.parametrize(
    ("optimizer", "message"),
    [(optax.adam(0.1), "not a built transformation"), ("adamx", "optax has no optimizer")],
    ids=["built", "unknown-name"],
)
def test_an_optimizer_that_is_not_an_optax_factory_is_a_usage_error(optimizer, message):
    with pytest.raises(UsageError, match=message):
        lora_multi_optimizer(optimizer, 0.1)


def test_lora_optimizer_says_its_defaults_are_not_optaxs():
    assert "not optax's" in lora_optimizer.__doc__
    assert set(GROUPS) == {"lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B"} | {
        "other",
        "frozen",
    }
