"""The built-in models, their initializations, and the named conditions.

The built-in models are spec files in ``theory/models/``, loaded the way a user's model is
(``theory.load_model``); every entry point accepts a ``Model`` value or a built-in name.

``adam``: one LoRA layer trained with Adam, rates η_A, η_B (LoRA+ §4 and App. A.5; Init §3.4,
Lemma 1). Adam-processed gradients have Θ(1) entries when the raw gradient is non-zero and are
exactly zero when a factor of it is zero. With Assumption 1 (g_A Z = Θ(n)):

    ΔZ_A^t = η_A g_A Z     γ = η_A + 1   if B_{t−1} ≠ 0, else −∞
    ΔB_t   = η_B g_B       γ = η_B       if Z_A^{t−1} ≠ 0, else −∞

``gd-linear``: f(x) = b aᵀx trained by gradient descent on one sample, rates η_a, η_b (LoRA+ §3.1,
App. A.3-A.4), with ‖x‖² = Θ(n) and the residual f − y of exponent r = max(γ[f], 0):

    Δb_t      = η_b aᵀ_{t−1}x (f − y)          γ = η_b + γ[aᵀx] + r
    Δ(aᵀx)_t  = η_a b_{t−1} (f − y) ‖x‖²       γ = η_a + γ[b] + 1 + r

>>> MODELS["adam"].recursion.increments["Z_A"]
Expr('[B finite] eta_A + 1')
>>> canonical_init("Init[2]"), canonical_model("gd_linear")
('B', 'gd-linear')
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType

from theory._conditions import judge, plain_atom, steady_atom
from theory._exponent import ExponentError
from theory._expr import Expr
from theory._recursion import Step, derived_steady
from theory._region import Region
from theory._spec import MODEL_DIR, Model, Parameter, bind_parameters, load_model
from theory._steady import Steady

__all__ = [
    "CONDITIONS",
    "INITS",
    "MODELS",
    "MULTIPLIER_PARAMETER",
    "RANK_PARAMETER",
    "Model",
    "canonical_condition",
    "canonical_init",
    "canonical_model",
    "condition_regions",
    "conditions_at_step",
    "resolve_model",
]

MODELS: Mapping[str, Model] = MappingProxyType(
    {name: load_model(MODEL_DIR / f"{name}.toml") for name in ("adam", "gd-linear")}
)

#: The parameter names of the rank exponent κ (r = Θ(n^κ)) and the multiplier exponent s
#: (α·r^(−s)) that ``--rank-exponent`` and ``--multiplier`` set (docs/theory.md §12).
RANK_PARAMETER, MULTIPLIER_PARAMETER = "kappa", "s"

#: Init[A] = Init[1] (B₀ = 0, A₀ random); Init[B] = Init[2] (A₀ = 0, B₀ random).
INITS = ("A", "B")
_INIT_ALIASES = {
    "a": "A", "init[a]": "A", "init[1]": "A", "1": "A", "inita": "A", "init1": "A",
    "b": "B", "init[b]": "B", "init[2]": "B", "2": "B", "initb": "B", "init2": "B",
}  # fmt: skip


def canonical_init(init: object, model: Model | None = None) -> str:
    """``"A"`` or ``"B"`` from any accepted spelling (Init[A], Init[1], 1, ...); with a model, also
    the names of its own initializations (``"AB"``)."""
    key = str(init).strip().lower().replace(" ", "")
    if model is not None:
        own = {k.lower(): k for k in model.inits} | {f"init[{k.lower()}]": k for k in model.inits}
        if key in own:
            return own[key]
        if _INIT_ALIASES.get(key) in model.inits:
            return _INIT_ALIASES[key]
        raise ExponentError(
            f"unknown init {_short(init)} for {model.name}: "
            f"expected one of {', '.join(model.inits)}"
        )
    if key not in _INIT_ALIASES:
        raise ExponentError(
            f"unknown init {_short(init)}: expected A, B, Init[A], Init[1], Init[B], Init[2]"
        )
    return _INIT_ALIASES[key]


def canonical_model(model: object) -> str:
    key = str(model).strip().lower().replace("_", "-")
    if key not in MODELS:
        raise ExponentError(
            f"unknown model {_short(model)}: expected one of {', '.join(MODELS)} "
            "or a model spec file (.toml)"
        )
    return key


def resolve_model(
    model: object, *, rank_exponent: object = None, multiplier: object = None
) -> Model:
    """A ``Model`` as given, a built-in by name, or a spec file (a path, or a name ending .toml);
    with ``rank_exponent`` κ (r = Θ(n^κ)) and/or ``multiplier`` s (α·r^(−s)), rebuilt at those
    values of its parameters ``kappa`` and ``s`` (None: as it is)."""
    if isinstance(model, Model):
        spec = model
    else:
        is_path = isinstance(model, str) and (model.endswith(".toml") or os.sep in model)
        if isinstance(model, os.PathLike) or is_path:
            spec = load_model(Path(model))
        else:
            spec = MODELS[canonical_model(model)]
    if rank_exponent is None and multiplier is None:
        return spec
    given = {RANK_PARAMETER: rank_exponent, MULTIPLIER_PARAMETER: multiplier}
    values = {k: v for k, v in given.items() if v is not None}
    if RANK_PARAMETER not in spec.parameter_info:
        # A model without the rank is the papers' r = Θ(1): κ = 0 (any s) is that model.
        kappa = Parameter(Fraction(0)).check("the rank exponent", values.get(RANK_PARAMETER, 0))
        Parameter(Fraction(0)).check("the multiplier exponent", values.get(MULTIPLIER_PARAMETER, 0))
        if kappa != 0:
            raise ExponentError(
                f"{spec.name} declares no rank parameter {RANK_PARAMETER} (its spec's "
                "[parameters]): only the rank exponent 0 applies to it"
            )
        return spec
    return bind_parameters(spec, values)


def _short(value: object, limit: int = 40) -> str:
    text = repr(value) if isinstance(value, str) else repr(str(value))
    return text if len(text) <= limit else f"{text[: limit - 5]}…' ({len(str(value))} characters)"


# -- conditions --------------------------------------------------------------------------------
def condition_regions(
    model: Model,
    steady: Mapping[str, Steady],
    steps: tuple[Step, ...],
    rates: Mapping[str, Expr] | None = None,
) -> dict[str, Region]:
    """The region where each of the model's conditions holds: comparisons judged in the steady
    state, ``every_step_from`` also at each unrolled step (which must reach the steady state)."""
    rates = dict(rates or {})
    values = {**rates, **{q: s.value for q, s in steady.items()}}

    def value_of(e: Expr) -> tuple[Expr, Region]:
        s = derived_steady(e, values, steady)
        return s.value, s.growing

    in_steady = steady_atom(value_of)
    out: dict[str, Region] = {}

    def every(node, start: int) -> Region:
        where = judge(node, in_steady, out, every)
        for step in steps:
            if where.is_empty():
                break
            if step.t >= start:
                at_t = plain_atom({**rates, **step.values}, within=where)
                where = where & judge(node, at_t, out, every)
        return where

    for name, condition in model.conditions.items():
        out[name] = judge(condition.tree, in_steady, out, every)
    return out


def conditions_at_step(
    model: Model, step: Step, rates: Mapping[str, Expr] | None = None, *, vacuous: bool = True
) -> dict[str, bool]:
    """At fixed rates: whether each condition holds at one step, its comparisons judged at that
    step's exponents (``every_step_from(t0, c)`` is ``c`` from step t0 on, and before t0 true
    when ``vacuous``, else ``c`` as well: the reading of "from which step does it hold")."""
    at_t = plain_atom({**(rates or {}), **step.values})
    out: dict[str, Region] = {}

    def every(node, start: int) -> Region:
        if step.t >= start or not vacuous:
            return judge(node, at_t, out, every)
        return Region.universe()

    for name, condition in model.conditions.items():
        out[name] = judge(condition.tree, at_t, out, every)
    return {name: not where.is_empty() for name, where in out.items()}


def _standard(name: str) -> Callable[..., Region]:
    def build(m: Model, st: Mapping[str, Steady], steps: tuple[Step, ...] = ()) -> Region:
        if name not in m.conditions:
            raise ExponentError(f"{m.name} has no condition {name!r}")
        return condition_regions(m, st, steps)[name]

    build.__name__ = f"_{name}"
    return build


#: The conditions every built-in model has: name → (region builder, one-line definition). A model
#: may have more (``adam``'s ``feature_learning_aligned``, ``efficient_aligned``: §12).
CONDITIONS: Mapping[str, tuple[Callable[..., Region], str]] = MappingProxyType(
    {
        name: (_standard(name), condition.meaning)
        for name, condition in MODELS["adam"].conditions.items()
        if all(name in m.conditions for m in MODELS.values())
    }
)


def canonical_condition(name: object, model: Model | None = None) -> str:
    """A condition's name as the model writes it, from its name or a spelling that differs only
    in case or in ``-`` for ``_`` (``Stable``, ``feature-learning``)."""
    names = model.conditions if model is not None else CONDITIONS
    text = str(name).strip()
    if text in names:
        return text

    def folded(n: str) -> str:
        return n.lower().replace("-", "_")

    matches = [n for n in names if folded(n) == folded(text)]
    if len(matches) != 1:
        raise ExponentError(f"unknown condition {_short(name)}: expected one of {', '.join(names)}")
    return matches[0]
