"""Per-matrix learning rates for LoRA as one optax link (LoRA+: η_B ≠ η_A), and the toy models'
optimizers.

**For your own models use** :func:`~toymodels.core._optim_groups.lora_multi_optimizer` (one optax
optimizer per LoRA group, ``optax.multi_transform``; nothing negates an update at the end of a
chain). :func:`scale_by_lora_rates` and :func:`lora_plus_rates` are deprecated (a
``DeprecationWarning`` points there): they are the last link of a chain and multiply each update by
**−η_A or −η_B**, which is only right after a transformation that applied no rate
(``optax.scale_by_adam()``). After a whole optimizer (``optax.adamw(1.0)``, ``contrib.prodigy``)
the update is negated twice and the chain **ascends**; under ``optax.masked`` the masked-out leaves
keep their un-negated Adam update and climb the gradient, so that is now a :class:`UsageError`.
:func:`lora_optimizer` (``sgd``, ``adam``, ``adamw`` with rates η_A, η_B) is a whole optimizer and
stays: it is the toy models' optimizer, with the papers' defaults (b2 = 0.99, no weight decay),
which are **not optax's** (b2 = 0.999; adamw's weight decay 1e-4).

The rates may be traced arrays (a grid of rates vmapped through one compiled step) or optax
schedules; every argument is a named parameter, so ``optax.inject_hyperparams`` makes the rates
hyperparameters (a predicate selector must be a :class:`PathSelector`, or named in
``static_args``: optax takes every bare callable for a schedule).

Which leaves are A and B: the default spellings of toymodels.core._lora_names (``lora_A``,
``lora_down``, ``LoRA_A``, linen ``lora/a``, the whole path ``A``; B likewise; never a nested bare
``A`` such as an SSM's ``mixer/A``, nor a lone ``a``/``b``). Each selector must match at least one
leaf, and a LoRA-named leaf that neither takes gets a warning, so that ``eta_other=0.0`` never
freezes a LoRA matrix without a word.

Example: the toy models' Adam with LoRA+ rates; the frozen kernel gets no update.

>>> import jax.numpy as jnp, optax
>>> params = {"attn": {"kernel": jnp.ones((3, 3)),
...                    "lora_A": jnp.ones((2, 3)), "lora_B": jnp.ones((3, 2))}}
>>> opt = lora_optimizer("adam", 1e-3, 1.6e-2, eta_other=0.0)
>>> grads = jax.tree_util.tree_map(jnp.ones_like, params)
>>> updates, _ = opt.update(grads, opt.init(params), params)
>>> [round(float(u[0, 0]), 6) for u in jax.tree_util.tree_leaves(updates)]
[-0.0, -0.001, -0.016]

The same with the rates as injectable hyperparameters (a warm-up schedule for η_A):

>>> warmup = optax.linear_schedule(0.0, 1e-3, transition_steps=10)
>>> opt = optax.inject_hyperparams(lora_optimizer)("adam", warmup, 1.6e-2, eta_other=0.0)
>>> state = opt.init(params)
>>> round(float(state.hyperparams["eta_B"]), 6)
0.016
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import optax

from toymodels.core._errors import UsageError
from toymodels.core._lora_names import (
    SELECT_A,
    SELECT_B,
    PathSelector,
    Rate,
    Selector,
    lora_named,
    matcher,
    path_name,
    rate_at,
    rate_product,
    shown,
)

__all__ = ["SELECT_A", "SELECT_B", "PathSelector", "Rate", "Selector", "path_name"]

OPTIMIZERS = ("sgd", "adam", "adamw")

_matcher = matcher  # the name the older tests use

_DEPRECATED = (
    "{name} is deprecated: it negates the update at the end of a chain, so after a whole "
    "optimizer (optax.adamw(1.0), contrib.prodigy) or under optax.masked a leaf climbs the "
    "gradient. Use toymodels.lora_multi_optimizer(optax.adam, eta_A, loraplus_lr_ratio=..., "
    "freeze=...) (docs/lora-optimizers.md)"
)


def rate_labels(tree, *, select_A: Selector = SELECT_A, select_B: Selector = SELECT_B):
    """The label ``"A"``, ``"B"`` or ``"other"`` of each leaf of ``tree`` (a pytree of strings),
    as the per-matrix rates see them (the groups of the new factory: ``toymodels.lora_labels``).

    Raises :class:`UsageError` when a leaf is selected as both A and B, or when a selector matches
    no leaf.

    >>> rate_labels({"linear_0": {"w": 0, "b": 0}, "lora_A": 0, "lora_B": 0})
    {'linear_0': {'b': 'other', 'w': 'other'}, 'lora_A': 'A', 'lora_B': 'B'}
    """
    is_A, is_B = matcher(select_A), matcher(select_B)

    def label(path, _):
        name = path_name(path)
        a, b = is_A(name), is_B(name)
        if a and b:
            raise UsageError(f"parameter {name!r} is selected both as a LoRA A and as a LoRA B")
        return "A" if a else "B" if b else "other"

    labels = jax.tree_util.tree_map_with_path(label, tree)
    found = set(jax.tree_util.tree_leaves(labels))
    for which, selector in (("A", select_A), ("B", select_B)):
        if which not in found:
            names = [path_name(path) for path, _ in jax.tree_util.tree_leaves_with_path(tree)]
            raise UsageError(
                f"select_{which}={selector!r} matches no parameter (paths: {shown(names)}); "
                "name the LoRA matrices lora_A/lora_B or pass select_A/select_B"
            )
    return labels


def _masked_out(tree) -> bool:
    """Whether ``optax.masked`` hid some leaves of ``tree`` (they are ``optax.MaskedNode``)."""
    is_masked = lambda x: isinstance(x, optax.MaskedNode)  # noqa: E731
    return any(map(is_masked, jax.tree_util.tree_leaves(tree, is_leaf=is_masked)))


def _scale_by_lora_rates(
    eta_A: Rate,
    eta_B: Rate,
    *,
    eta_other: Rate | None = None,
    select_A: Selector = SELECT_A,
    select_B: Selector = SELECT_B,
) -> optax.GradientTransformation:
    """Scale updates by −η_A on the A matrices and −η_B on the B matrices (the minus is the step):
    :func:`scale_by_lora_rates` without the deprecation warning, for :func:`lora_optimizer`.

    Stateless for constant rates; counts updates (``optax.ScaleByScheduleState``) when a rate is a
    schedule.
    """
    rates = {"A": eta_A, "B": eta_B, "other": eta_other}
    scheduled = any(callable(rate) for rate in rates.values())

    def labels_of(tree, warn=False):
        if _masked_out(tree):
            raise UsageError(
                "the LoRA rates are under optax.masked: the masked-out leaves would keep an "
                "un-negated update and climb the gradient; use toymodels.lora_multi_optimizer "
                "with freeze=... instead"
            )
        labels = rate_labels(tree, select_A=select_A, select_B=select_B)
        unselected = [
            path_name(path)
            for path, label in jax.tree_util.tree_leaves_with_path(labels)
            if label == "other"
        ]
        if unselected and eta_other is None:
            raise UsageError(
                f"parameters {unselected} match neither select_A nor select_B "
                "(pass eta_other=0.0 to freeze them)"
            )
        looks_lora = [name for name in unselected if lora_named(name)]
        if looks_lora and warn:
            warnings.warn(
                f"{shown(looks_lora)} look like LoRA parameters but neither select_A nor "
                f"select_B took them; they get eta_other={eta_other!r}",
                UserWarning,
                stacklevel=4,
            )
        return labels

    def scale(updates, count):
        return jax.tree_util.tree_map(
            lambda u, label: -jnp.asarray(rate_at(rates[label], count), u.dtype) * u,
            updates,
            labels_of(updates),
        )

    def init_fn(params):
        labels_of(params, warn=True)
        if scheduled:
            return optax.ScaleByScheduleState(count=jnp.zeros([], jnp.int32))
        return optax.EmptyState()

    def update_fn(updates, state, params=None):
        del params
        if not scheduled:
            return scale(updates, None), state
        count = state.count
        return scale(updates, count), optax.ScaleByScheduleState(optax.safe_increment(count))

    return optax.GradientTransformation(init_fn, update_fn)


def scale_by_lora_rates(
    eta_A: Rate,
    eta_B: Rate,
    *,
    eta_other: Rate | None = None,
    select_A: Selector = SELECT_A,
    select_B: Selector = SELECT_B,
) -> optax.GradientTransformation:
    """Deprecated: use ``toymodels.lora_multi_optimizer`` (a ``DeprecationWarning`` says so).

    Scales updates by −η_A on the A matrices and −η_B on the B matrices: the last link of a chain,
    in place of ``optax.scale_by_learning_rate``, after a transformation that applied no rate
    (``chain(scale_by_adam(), scale_by_lora_rates(…))``). **Never after a whole optimizer** such
    as ``optax.adamw(1.0)`` (that chain ascends) and never under ``optax.masked`` (a
    :class:`UsageError`: masked-out leaves would climb the gradient).

    Args:
      eta_A, eta_B: learning rates: Python floats, scalar arrays (possibly traced) or optax
        schedules (callables of the update count, starting at 0).
      eta_other: rate of every other leaf (``0.0`` freezes them; a LoRA-named leaf among them is
        warned about). ``None`` (default) makes an unselected leaf an error.
      select_A, select_B: which leaves are A and B (:data:`Selector`). Each must match a leaf.
    """
    warnings.warn(_DEPRECATED.format(name="scale_by_lora_rates"), DeprecationWarning, stacklevel=2)
    return _scale_by_lora_rates(
        eta_A, eta_B, eta_other=eta_other, select_A=select_A, select_B=select_B
    )


def lora_plus_rates(
    eta_A: Rate,
    ratio: Rate,
    *,
    eta_other: Rate | None = None,
    select_A: Selector = SELECT_A,
    select_B: Selector = SELECT_B,
) -> optax.GradientTransformation:
    """Deprecated: use ``toymodels.lora_multi_optimizer(..., loraplus_lr_ratio=ratio)``.

    LoRA+'s rates: η_B = ratio · η_A (the paper's λ; it recommends λ ≫ 1, e.g. 2⁴), as the last
    link of a chain, with the dangers of :func:`scale_by_lora_rates`. Either may be a schedule.
    """
    warnings.warn(_DEPRECATED.format(name="lora_plus_rates"), DeprecationWarning, stacklevel=2)
    return _scale_by_lora_rates(
        eta_A, rate_product(ratio, eta_A), eta_other=eta_other, select_A=select_A, select_B=select_B
    )


def lora_optimizer(
    name: str,
    eta_A: Rate,
    eta_B: Rate,
    *,
    b1: float = 0.9,
    b2: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    eta_other: Rate | None = None,
    select_A: Selector = SELECT_A,
    select_B: Selector = SELECT_B,
) -> optax.GradientTransformation:
    """``sgd``, ``adam`` or ``adamw`` (optax's, with decoupled weight decay) with rates η_A, η_B:
    the toy models' optimizer.

    **Its defaults are the papers', not optax's**: ``b2=0.99`` (optax: 0.999) and
    ``weight_decay=0.0`` (optax's adamw: 1e-4); ``b1=0.9`` and ``eps=1e-8`` are optax's. A complete
    optimizer (its updates are added to the parameters): with equal rates and optax's
    ``b2``/``weight_decay`` it gives exactly optax's ``sgd``/``adam``/``adamw`` updates (the decay,
    as in optax, is scaled by the rate). The rates and the selectors are those of
    :func:`scale_by_lora_rates`. For other optimizers, PEFT's groups (embedding LoRA, frozen
    leaves) and optax's defaults: ``toymodels.lora_multi_optimizer``.
    """
    if name not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")
    rates = _scale_by_lora_rates(
        eta_A, eta_B, eta_other=eta_other, select_A=select_A, select_B=select_B
    )
    if name == "sgd":
        return rates
    adam = optax.scale_by_adam(b1=b1, b2=b2, eps=eps)
    if name == "adam":
        return optax.chain(adam, rates)
    return optax.chain(adam, optax.add_decayed_weights(weight_decay), rates)
