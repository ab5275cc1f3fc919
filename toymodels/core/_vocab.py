"""The toy models' one vocabulary: the models, the inits and their labels.

Three toy models, each predicted by one model of the γ-calculus (``theory.MODELS``) and trained in
its paper with one optimizer (docs/models.md):

============== ============ =================
toy model      theory model paper optimizer
============== ============ =================
teacher-student adam        adamw (Init App. B.1.1)
lora-mlp       adam         sgd (LoRA+ eq. 3)
linear         gd-linear    sgd (LoRA+ eq. 2)
============== ============ =================

Inits: ``A`` (Init[A] = Init[1]: B₀ = 0, A₀ random), ``B`` (Init[B] = Init[2]: A₀ = 0, B₀
random) and ``AB`` (both random, no theory prediction). Every entry point parses an init with
:func:`canonical_init`: ``theory.canonical_init``'s aliases (case, spaces and brackets free)
plus ``AB``.

>>> canonical_init(" init[a]"), canonical_init("Init[2]"), canonical_init("ab")
('A', 'B', 'AB')
>>> MODELS["linear"].theory_model, MODELS["teacher-student"].paper_optimizer
('gd-linear', 'adamw')
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Mapping
from fractions import Fraction
from types import MappingProxyType
from typing import NamedTuple

import theory
from toymodels.core._errors import UsageError


class ToyModel(NamedTuple):
    """What the project knows of a toy model besides its code."""

    theory_model: str  # the γ-calculus model that predicts its exponents
    paper_optimizer: str  # the optimizer its paper trains it with


MODELS: Mapping[str, ToyModel] = MappingProxyType(
    {
        "teacher-student": ToyModel("adam", "adamw"),
        "lora-mlp": ToyModel("adam", "sgd"),
        "linear": ToyModel("gd-linear", "sgd"),
    }
)

INITS = ("A", "B", "AB")

#: One label per init, as figures and tables print it.
INIT_LABELS: Mapping[str, str] = MappingProxyType(
    {"A": "Init[A]", "B": "Init[B]", "AB": "A, B random"}
)

_BOTH_RANDOM = ("ab", "init[ab]")


#: Assumption K's other reading (docs/theory.md §12), a spec that extends ``adam`` and reads the
#: rank sums of Z_B and δ¹ per coordinate (+κ/2); the rank sweep and the coordinate check use it.
PER_COORDINATE_SPEC = theory.EXAMPLE_DIR / "adam-per-coordinate.toml"

#: The aligned reading as a model (every rank sum + κ, what ``adam`` computed before it tracked
#: both readings; docs/theory.md §12). The built-in ``adam`` judges Z_B per entry.
ALIGNED_SPEC = theory.EXAMPLE_DIR / "adam-aligned.toml"

#: The readings of a sum over the rank index: the theory model each one names.
READINGS = ("aligned", "per-coordinate")


@functools.cache
def aligned_adam() -> theory.Model:
    """``adam`` with every rank sum read along the loss gradient (:data:`ALIGNED_SPEC`)."""
    return theory.load_model(ALIGNED_SPEC)


@functools.cache
def per_coordinate_adam() -> theory.Model:
    """``adam`` with Assumption K's per-coordinate reading (the example spec
    :data:`PER_COORDINATE_SPEC`).

    >>> per_coordinate_adam().name
    'adam-per-coordinate'
    """
    return theory.load_model(PER_COORDINATE_SPEC)


def theory_model_of(name: str, reading: str = "aligned"):
    """The theory model ``name`` (a built-in's name) under a reading of rank sums; the
    per-coordinate reading exists for ``adam`` only (:class:`UsageError` otherwise)."""
    if reading not in READINGS:
        raise UsageError(f"unknown reading {reading!r}; expected one of {', '.join(READINGS)}")
    if reading == "aligned":
        return aligned_adam() if name == "adam" else name
    if name != "adam":
        raise UsageError(f"the per-coordinate reading is stated for adam only, not {name}")
    return per_coordinate_adam()


def canonical_init(init: object) -> str:
    """``"A"``, ``"B"`` or ``"AB"`` from any accepted spelling; :class:`UsageError` otherwise."""
    if str(init).strip().lower().replace(" ", "") in _BOTH_RANDOM:
        return "AB"
    try:
        return theory.canonical_init(init)
    except theory.ExponentError:
        raise UsageError(
            f"unknown init {init!r}; expected A, B or AB (or Init[A], Init[1], 1, Init[B], ...)"
        ) from None


def canonical_model(model: object) -> str:
    """A toy model's name, checked; :class:`UsageError` for any other."""
    if model not in MODELS:
        raise UsageError(f"unknown model {model!r}; expected one of {', '.join(MODELS)}")
    return str(model)


def multiplier_exponent(value) -> Fraction:
    """The multiplier exponent s of α·r^(−s), exact; :class:`UsageError` for anything that is not a
    finite rational.

    >>> multiplier_exponent("1/2"), multiplier_exponent(0.5), multiplier_exponent(Fraction(1))
    (Fraction(1, 2), Fraction(1, 2), Fraction(1, 1))
    """
    number = isinstance(value, numbers.Real) and not isinstance(value, bool | Fraction)
    if number and math.isfinite(value):
        value = str(value)  # 0.5 → "0.5": the rational it is written as, not its binary expansion
    if isinstance(value, Fraction | str):
        try:
            exponent = theory.parse_exponent(value)
        except theory.ExponentError:
            exponent = None
        if isinstance(exponent, Fraction):
            return exponent
    raise UsageError(
        f"multiplier exponent s (α·r^(−s)) must be a rational such as 0, 1/2 or 1, got {value!r}"
    )
