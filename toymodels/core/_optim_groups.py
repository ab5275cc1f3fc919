"""LoRA parameter groups, each with its own optax optimizer: LoRA+ the PEFT way, with no sign flip.

A LoRA layer adds B A z to a frozen W z. LoRA+ (Hayou et al. 2024) trains B faster than A,
η_B = λ·η_A with λ ≫ 1 (PEFT's ``loraplus_lr_ratio``; the paper suggests 2⁴); the width theory of
this package says how η_A and η_B should scale with n. :func:`lora_multi_optimizer` builds that
optimizer from **any** optax optimizer factory (``optax.adamw``, ``optax.contrib.prodigy``,
``optax.contrib.schedule_free_adamw``, …), called once per group with its own rate, under
``optax.multi_transform``:

====================  =========================================================================
group                 rate
====================  =========================================================================
``lora_A``            η = ``learning_rate``
``lora_B``            λ·η (``loraplus_lr_ratio``, default 1: plain LoRA)
``lora_embedding_A``  ``loraplus_lr_embedding`` if given, else η (PEFT's default is 1e-6)
``lora_embedding_B``  ``loraplus_lr_embedding`` if given, else λ·η
``other``             ``other_learning_rate``, default η: biases, norms, heads train as usual
``frozen``            no update (``optax.set_to_zero``): only what ``freeze`` names, on purpose
====================  =========================================================================

Each group's optimizer applies its own rate and sign, so nothing negates an update at the end of a
chain and a leaf outside the LoRA groups is never left with an un-negated (ascending) update, as
``optax.masked(lora_plus_rates(...))`` did. Every optimizer default is optax's own.

:func:`lora_labels` says which group each leaf is in (default spellings: toymodels.core._lora_names;
``show_labels=True`` prints the table). It warns about a LoRA-named leaf (``lora`` in its path) that
no selector took, and raises :class:`UsageError` for a selector of yours that takes a name that is
not LoRA-named when it also takes LoRA-named ones, or that takes a bare nested ``A``/``B``
(``mixer/A`` of an SSM), unless ``allow_non_lora_names=True`` says you meant it.

>>> import jax.numpy as jnp, optax
>>> params = {"attn": {"kernel": jnp.ones((3, 3)), "lora_down": jnp.ones((2, 3)),
...                    "lora_up": jnp.ones((3, 2))}, "norm": {"scale": jnp.ones(3)}}
>>> print(lora_label_table(params, freeze=r"kernel"))
attn/kernel     frozen
attn/lora_down  lora_A
attn/lora_up    lora_B
norm/scale      other
>>> opt = lora_multi_optimizer(optax.adam, 1e-3, loraplus_lr_ratio=16.0, freeze=r"kernel")
>>> grads = jax.tree_util.tree_map(jnp.ones_like, params)
>>> updates, _ = opt.update(grads, opt.init(params), params)
>>> {p: round(float(u.ravel()[0]), 6) for p, u in zip(leaf_paths(params),
...                                                  jax.tree_util.tree_leaves(updates))}
{'attn/kernel': 0.0, 'attn/lora_down': -0.001, 'attn/lora_up': -0.016, 'norm/scale': -0.001}
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

import jax
import optax

from toymodels.core._errors import UsageError
from toymodels.core._lora_names import (
    SELECT_A,
    SELECT_B,
    SELECT_EMBEDDING_A,
    SELECT_EMBEDDING_B,
    Rate,
    Selector,
    bare_letter,
    leaf_paths,
    lora_named,
    matcher,
    rate_product,
    shown,
)

GROUPS = ("lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B", "other", "frozen")
"""The labels :func:`lora_labels` gives, in the order of the table above."""

_SELECTED = ("lora_embedding_A", "lora_embedding_B", "lora_A", "lora_B")
_DEFAULTS = {
    "lora_A": SELECT_A,
    "lora_B": SELECT_B,
    "lora_embedding_A": SELECT_EMBEDDING_A,
    "lora_embedding_B": SELECT_EMBEDDING_B,
}
_ARGUMENT = {
    "lora_A": "select_A",
    "lora_B": "select_B",
    "lora_embedding_A": "select_embedding_A",
    "lora_embedding_B": "select_embedding_B",
}


def lora_labels(
    tree,
    *,
    select_A: Selector | None = None,
    select_B: Selector | None = None,
    select_embedding_A: Selector | None = None,
    select_embedding_B: Selector | None = None,
    freeze: bool | Selector = False,
    allow_non_lora_names: bool = False,
    warn: bool = True,
):
    """The group of each leaf of ``tree`` (a pytree of strings from :data:`GROUPS`).

    Args:
      select_A, select_B, select_embedding_A, select_embedding_B: :data:`Selector` of each LoRA
        group; ``None`` takes the default spellings (module docstring). A selector you pass must
        match a leaf, and wins over a default that matches the same leaf.
      freeze: ``True`` freezes every leaf outside the LoRA groups (the base model); a selector
        freezes the leaves it matches, LoRA ones included. ``False`` (default) freezes nothing.
      allow_non_lora_names: let your selectors take leaves that are not LoRA-named.
      warn: warn (``UserWarning``) about LoRA-named leaves that no selector took.

    Raises :class:`UsageError` for a leaf that two of your selectors take, a selector of yours that
    matches nothing or takes a non-LoRA name (see the module docstring), no LoRA leaf at all, or
    A matrices without B matrices (or the reverse).

    >>> lora_labels({"mixer": {"A": 0, "B": 0}, "lora": {"a": 0, "b": 0}})
    {'lora': {'a': 'lora_A', 'b': 'lora_B'}, 'mixer': {'A': 'other', 'B': 'other'}}
    """
    paths = leaf_paths(tree)
    given = {
        "lora_A": select_A,
        "lora_B": select_B,
        "lora_embedding_A": select_embedding_A,
        "lora_embedding_B": select_embedding_B,
    }
    groups = ["other"] * len(paths)
    taken_by_user: dict[int, str] = {}
    for group in _SELECTED:
        mine = given[group] is not None
        is_in = matcher(given[group] if mine else _DEFAULTS[group])
        hits = [i for i, path in enumerate(paths) if is_in(path)]
        if mine:
            _check_user_selector(
                group, given[group], [paths[i] for i in hits], allow_non_lora_names
            )
        for i in hits:
            if mine and i in taken_by_user:
                raise UsageError(
                    f"parameter {paths[i]!r} is selected both by {_ARGUMENT[taken_by_user[i]]} "
                    f"and by {_ARGUMENT[group]}"
                )
            if mine or (i not in taken_by_user and groups[i] == "other"):
                groups[i] = group
                if mine:
                    taken_by_user[i] = group
    _check_pairs(groups, paths)
    frozen_on_purpose = _freeze(groups, paths, freeze)
    if warn:
        _warn_unselected(groups, paths, frozen_on_purpose)
    return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(tree), groups)


def _check_user_selector(group, selector, hits, allow_non_lora_names):
    if not hits:
        raise UsageError(f"{_ARGUMENT[group]}={selector!r} matches no parameter")
    if allow_non_lora_names:
        return
    foreign = [path for path in hits if not lora_named(path)]
    mixed = len(foreign) < len(hits)  # LoRA names and others: the others are likely a slip
    unasked = [path for path in foreign if mixed or bare_letter(path)]
    if unasked:
        raise UsageError(
            f"{_ARGUMENT[group]}={selector!r} also takes {shown(unasked)}, which are not LoRA "
            "names (an SSM's mixer/A, a bias b); narrow the selector, or pass "
            "allow_non_lora_names=True if you mean them"
        )


def _check_pairs(groups, paths):
    found = set(groups)
    if not found & set(_SELECTED):
        raise UsageError(
            f"no LoRA parameter found (paths: {shown(paths)}); name them lora_A/lora_B "
            "(or PEFT's, kohya's, linen's spellings) or pass select_A/select_B"
        )
    for a, b in (("lora_A", "lora_B"), ("lora_embedding_A", "lora_embedding_B")):
        if (a in found) != (b in found):
            have, lack = (a, b) if a in found else (b, a)
            raise UsageError(
                f"found {have} parameters but no {lack} (paths: {shown(paths)}); "
                f"pass {_ARGUMENT[lack]}"
            )


def _freeze(groups, paths, freeze) -> set[int]:
    """Relabel frozen leaves in place; the indices frozen by a selector (on purpose)."""
    if freeze is True:
        for i, group in enumerate(groups):
            if group == "other":
                groups[i] = "frozen"
        return set()
    if freeze is False or freeze is None:
        return set()
    is_frozen = matcher(freeze)
    hits = {i for i, path in enumerate(paths) if is_frozen(path)}
    if not hits:
        raise UsageError(f"freeze={freeze!r} matches no parameter")
    for i in hits:
        groups[i] = "frozen"
    return hits


def _warn_unselected(groups, paths, frozen_on_purpose):
    missed = [
        paths[i]
        for i, group in enumerate(groups)
        if group in ("other", "frozen") and i not in frozen_on_purpose and lora_named(paths[i])
    ]
    if missed:
        warnings.warn(
            f"{shown(missed)} look like LoRA parameters but no selector took them; they are "
            "trained as 'other' (or frozen by freeze=True): pass select_A/select_B if they are "
            "LoRA matrices",
            UserWarning,
            stacklevel=3,
        )


def lora_label_table(tree, labels=None, *, rates: Mapping | None = None, **selection) -> str:
    """A table, one line per leaf: its path, its group (``labels``, or :func:`lora_labels` with
    ``selection``) and, given ``rates`` (group → rate), the group's rate."""
    labels = lora_labels(tree, **selection) if labels is None else labels
    paths = leaf_paths(tree)
    groups = jax.tree_util.tree_leaves(labels)
    width, group_width = max(map(len, paths)), max(map(len, groups))
    return "\n".join(
        f"{path:<{width}}  {group:<{group_width}}{_described(rates, group)}".rstrip()
        for path, group in zip(paths, groups, strict=True)
    )


def _described(rates: Mapping | None, group: str) -> str:
    if rates is None or group not in rates:
        return ""
    rate = rates[group]
    if callable(rate):
        return "  rate: a schedule"
    try:
        return f"  rate {float(rate):g}"
    except TypeError:  # a traced rate: no value yet
        return ""


def _factory(optimizer) -> Callable[..., optax.GradientTransformation]:
    if isinstance(optimizer, optax.GradientTransformation):
        raise UsageError(
            "optimizer must be a factory such as optax.adamw (called once per group with its "
            "rate), not a built transformation; under optax.inject_hyperparams name it by a "
            "string ('adamw')"
        )
    if isinstance(optimizer, str):
        found = optax
        for part in optimizer.split("."):
            found = getattr(found, part, None)
        if not callable(found):
            raise UsageError(
                f"optax has no optimizer {optimizer!r} (e.g. 'adamw', 'contrib.prodigy')"
            )
        return found
    if not callable(optimizer):
        raise UsageError(f"optimizer must be an optax factory or its name, not {optimizer!r}")
    return optimizer


def lora_multi_optimizer(
    optimizer: str | Callable[..., optax.GradientTransformation],
    learning_rate: Rate,
    *,
    loraplus_lr_ratio: Rate = 1.0,
    loraplus_lr_embedding: Rate | None = None,
    other_learning_rate: Rate | None = None,
    freeze: bool | Selector = False,
    select_A: Selector | None = None,
    select_B: Selector | None = None,
    select_embedding_A: Selector | None = None,
    select_embedding_B: Selector | None = None,
    allow_non_lora_names: bool = False,
    optimizer_kwargs: Mapping | None = None,
    other_optimizer_kwargs: Mapping | None = None,
    show_labels: bool = False,
) -> optax.GradientTransformationExtraArgs:
    """One optax optimizer per LoRA group, each at its own rate (module docstring), as a whole
    optimizer: apply its updates with ``optax.apply_updates``; chain nothing after it.

    Args:
      optimizer: an optax factory taking ``learning_rate`` (``optax.adamw``,
        ``optax.inject_hyperparams(optax.adamw)`` for per-group rates in the state,
        ``functools.partial(optax.adamw, weight_decay=0.1)``) or its name in optax (``"adamw"``,
        ``"contrib.prodigy"``). Its defaults are optax's; nothing here changes them.
      learning_rate: η = η_A (number, scalar array, or optax schedule).
      loraplus_lr_ratio: λ = η_B / η_A (PEFT's name); default 1.0, plain LoRA.
      loraplus_lr_embedding: the embedding LoRA's rate (PEFT's name; PEFT's default is 1e-6);
        ``None`` (default) gives embedding A and B the rates of A and B.
      other_learning_rate: the rate of every other leaf; ``None`` (default) is η.
      freeze, select_*, allow_non_lora_names: as in :func:`lora_labels`.
      optimizer_kwargs: more keyword arguments for every group's optimizer.
      other_optimizer_kwargs: ones for the ``other`` group only, over ``optimizer_kwargs``
        (``{"weight_decay": 0.0}``: no decay on biases and norms, as PEFT's no-decay group).
      show_labels: print :func:`lora_label_table` (path, group, rate) when the state is made.

    Under ``optax.inject_hyperparams(lora_multi_optimizer)``, name the optimizer by a string and
    pass predicate selectors as :class:`~toymodels.core._lora_names.PathSelector` (a bare callable
    is taken for a schedule); a regex needs nothing.
    """
    make = _factory(optimizer)
    extra = dict(optimizer_kwargs or {})
    rate_B = rate_product(loraplus_lr_ratio, learning_rate)
    rates = {
        "lora_A": learning_rate,
        "lora_B": rate_B,
        "lora_embedding_A": learning_rate
        if loraplus_lr_embedding is None
        else loraplus_lr_embedding,
        "lora_embedding_B": rate_B if loraplus_lr_embedding is None else loraplus_lr_embedding,
        "other": learning_rate if other_learning_rate is None else other_learning_rate,
    }
    kwargs = {group: extra for group in rates} | {
        "other": extra | dict(other_optimizer_kwargs or {})
    }
    transforms = {group: make(learning_rate=rate, **kwargs[group]) for group, rate in rates.items()}
    transforms["frozen"] = optax.set_to_zero()
    selection = dict(
        select_A=select_A,
        select_B=select_B,
        select_embedding_A=select_embedding_A,
        select_embedding_B=select_embedding_B,
        freeze=freeze,
        allow_non_lora_names=allow_non_lora_names,
    )
    inner = optax.multi_transform(
        transforms, lambda tree: lora_labels(tree, warn=False, **selection)
    )

    def init_fn(params):
        labels = lora_labels(params, **selection)  # checks and warns once, here
        if show_labels:
            print(lora_label_table(params, labels, rates=rates))
        return inner.init(params)

    return optax.GradientTransformationExtraArgs(init_fn, inner.update)
