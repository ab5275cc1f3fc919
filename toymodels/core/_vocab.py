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

from collections.abc import Mapping
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
