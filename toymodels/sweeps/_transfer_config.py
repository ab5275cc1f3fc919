"""The rate-transfer sweep's configuration: tune at the smallest width, transfer, train, compare.

A practitioner tunes the learning rate at a small width n₀ and moves it to a larger width n by a
rule (``theory.transfer``). This sweep measures what each rule costs. Per *family* of rate pairs
(``equal``: η_A = η_B = x; ``pair``: η_A = x, η_B = λx, LoRA+'s shipped ratio λ = 16), init and
width, a *cell* trains one grid of x (2^(1/4) apart at the paper preset, the same grid at n₀ and,
scaled by (n/n₀)^c, at every larger width) and, at a width n > n₀, the rates every rule transfers
from n₀'s tuned optimum, one per (rule, horizon T). Everything trains for the longest horizon;
the loss at a shorter T is read from the same runs (rates are constant, so step t does not
depend on the horizon), and each horizon has its own tuned optimum and its own transfers.

Rules per family: ``equal`` — none, edge, loraplus, measured (Adam: the loss-optimum exponent of
results/figure2.nc, fixed below before the runs); ``pair`` — loraplus-fixed (the tuned pair kept:
"none" for a LoRA+ user), loraplus, edge. GD has no committed width sweep of its own, so no
``measured`` rule.

>>> c = transfer_config("linear", "smoke")
>>> c.cells()[0], c.settings()[len(c.grid)]
(TransferCell(family='equal', init='A', width=32), ('none', 2))
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

from toymodels.core import UsageError, canonical_init
from toymodels.sweeps._presets import _TEACHER_STUDENT, PRESETS, octave_grid

EXPERIMENT = "transfer"
FAMILIES = ("equal", "pair")
#: LoRA+'s shipped ratio η_B/η_A (the ``pair`` family and the ``loraplus-fixed`` rule).
RATIO = 16.0
RULES = {
    "equal": ("none", "edge", "loraplus", "measured"),
    "pair": ("loraplus-fixed", "loraplus", "edge"),
}
#: Every rule a results file has a slot for, in the order of its ``setting`` axis.
ALL_RULES = ("none", "edge", "loraplus", "measured", "loraplus-fixed")
#: Fixed before the runs (issue 25): the ``measured`` rule uses the exponent of the loss-optimal
#: rate (a penalty is a loss), fitted from the committed results/figure2.nc with
#: ``lora-sweep exponents`` into this file.
MEASURED_SOURCE = "optimum"
MEASURED_FILE = Path("results") / "exponents.json"
#: The theory model of each toy model (the calculator's rules read it).
THEORY_MODEL = {"teacher-student": "adam", "linear": "gd-linear"}


class TransferCell(NamedTuple):
    """One cell: a family's grid (and, above n₀, its transfers) for one init and width."""

    family: str
    init: str
    width: int


@dataclasses.dataclass(frozen=True)
class TransferSweep:
    """Everything that determines a transfer sweep's numbers (stored in its results file)."""

    model: str
    inits: tuple[str, ...]
    widths: tuple[int, ...]  # n₀ first, then the targets, increasing
    seeds: tuple[int, ...]
    grid: tuple[float, ...]  # x at n₀; at n it is x · (n/n₀)^grid_scaling
    grid_scaling: str
    horizons: tuple[int, ...]
    windows: tuple[int, ...]  # the loss at horizon T is the mean of the last W steps up to T
    train: Mapping[str, Any]
    measured: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # init → exponent
    ratio: float = RATIO
    preset: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "inits", tuple(canonical_init(i) for i in self.inits))
        object.__setattr__(self, "train", dict(self.train))
        object.__setattr__(self, "measured", dict(self.measured))
        if len(self.widths) < 2 or list(self.widths) != sorted(set(self.widths)):
            raise UsageError("a transfer sweep needs increasing widths: n₀, then the targets")
        if len(self.seeds) < 2 or len(set(self.seeds)) != len(self.seeds):
            raise UsageError("a transfer sweep needs at least 2 different seeds")
        if len(self.grid) < 3 or list(self.grid) != sorted(set(self.grid)):
            raise UsageError("the tuning grid needs at least 3 increasing rates")
        if not all(0 < x < math.inf for x in self.grid):
            raise UsageError("the tuning grid's rates must be positive and finite")
        if len(self.horizons) != len(self.windows) or not self.horizons:
            raise UsageError("give one loss window per horizon")
        for t, w in zip(self.horizons, self.windows, strict=True):
            if not 1 <= w <= t <= self.steps:
                raise UsageError(f"horizon {t} (window {w}) must lie within 1..{self.steps} steps")

    @property
    def steps(self) -> int:
        return int(self.train["steps"])

    @property
    def base_width(self) -> int:
        return self.widths[0]

    @property
    def theory_model(self) -> str:
        return THEORY_MODEL[self.model]

    def rules(self, family: str) -> tuple[str, ...]:
        """The rules of ``family`` this sweep runs (``measured`` only with an exponent)."""
        return tuple(r for r in RULES[family] if r != "measured" or self.measured)

    def settings(self) -> list[tuple[str, int]]:
        """The ``setting`` axis: the grid (``("grid", i)``), then (rule, horizon) slots."""
        return [("grid", i) for i in range(len(self.grid))] + [
            (rule, t) for rule in ALL_RULES for t in self.horizons
        ]

    def grid_at(self, width: int) -> list[float]:
        """x of the grid at ``width``."""
        scale = (width / self.base_width) ** float(Fraction(self.grid_scaling))
        return [x * scale for x in self.grid]

    def pair(self, family: str, x: float) -> tuple[float, float]:
        """(η_A, η_B) of base rate x in ``family``."""
        return (x, x) if family == "equal" else (x, self.ratio * x)

    def cells(self) -> list[TransferCell]:
        """Every cell, n₀ first (the transfers need its optimum), cheap widths first."""
        return [TransferCell(f, i, n) for n in self.widths for i in self.inits for f in FAMILIES]

    def train_config(self, cell: TransferCell):
        from toymodels.core import TrainConfig

        return TrainConfig(model=self.model, width=cell.width, init=cell.init, **self.train)

    def to_json(self) -> dict:
        return json.loads(json.dumps({"experiment": EXPERIMENT, **dataclasses.asdict(self)}))

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> TransferSweep:
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in payload.items() if k in fields}
        for name in ("inits", "widths", "seeds", "grid", "horizons", "windows"):
            values[name] = tuple(values[name])
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class TransferPreset:
    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    grid: tuple[float, ...]
    grid_scaling: str
    horizons: tuple[int, ...]
    windows: tuple[int, ...]
    train: Mapping[str, Any]


#: Adam: the teacher-student model of Figure 2 (N = 1000, T = 150, AdamW without weight decay),
#: so that figure2.nc's optimum exponent is measured on the same problem; horizons T = 50 and
#: 150 (the loss a mean of the last T/10 steps, Figure 2's window at T = 150). n₀ = 2^7, targets
#: up to 2^11 (a 16-fold transfer). The grid: 2^-12 … 2^-3 at n₀ (2^(1/3) apart), scaled by
#: (n/n₀)^(-3/4) (near the measured optimum's n^-0.75 … n^-0.89), so each width's own search
#: brackets its optimum for both families (an optimum on the grid edge is reported as a bound).
_ADAM = {**_TEACHER_STUDENT, "optimizer": "adamw", "record": False}
#: GD: the linear toy (one sample, the calculator's gd-linear). Its loss falls geometrically to
#: float32's floor (≈1e-15) within 20-100 steps at good rates, where loss ratios are noise:
#: horizons T = 5 and 10 keep every loss far above it.
_GD = {"optimizer": "sgd", "record": False, "data_seed": 0}

PRESETS_ = {
    ("teacher-student", "paper"): TransferPreset(
        widths=(128, 256, 512, 1024, 2048), seeds=tuple(range(8)),
        grid=octave_grid(-12, -3, 3), grid_scaling="-3/4", horizons=(50, 150), windows=(5, 15),
        train={**_ADAM, "steps": 150},
    ),
    ("teacher-student", "quick"): TransferPreset(
        widths=(128, 256, 512), seeds=tuple(range(8)),
        grid=octave_grid(-12, -2, 2), grid_scaling="-3/4", horizons=(20, 60), windows=(2, 6),
        train={**_ADAM, "steps": 60, "n_train": 200},
    ),
    ("teacher-student", "smoke"): TransferPreset(
        widths=(32, 64), seeds=(0, 1), grid=octave_grid(-9, -1, 1), grid_scaling="-3/4",
        horizons=(5, 10), windows=(1, 2), train={**_ADAM, "steps": 10, "n_train": 50},
    ),
    ("linear", "paper"): TransferPreset(
        widths=(128, 256, 512, 1024, 2048, 4096, 8192), seeds=tuple(range(8)),
        grid=octave_grid(-12, 0, 4), grid_scaling="-1/2", horizons=(5, 10), windows=(1, 1),
        train={**_GD, "steps": 10},
    ),
    ("linear", "quick"): TransferPreset(
        widths=(128, 512, 2048), seeds=tuple(range(8)),
        grid=octave_grid(-12, 0, 2), grid_scaling="-1/2", horizons=(5, 10), windows=(1, 1),
        train={**_GD, "steps": 10},
    ),
    ("linear", "smoke"): TransferPreset(
        widths=(32, 64), seeds=(0, 1), grid=octave_grid(-10, 0, 1), grid_scaling="-1/2",
        horizons=(2, 4), windows=(1, 1), train={**_GD, "steps": 4},
    ),
}  # fmt: skip


def transfer_config(
    model: str = "teacher-student",
    preset: str = "quick",
    *,
    inits=None,
    seeds=None,
    measured: Mapping[str, Any] | None = None,
) -> TransferSweep:
    """The :class:`TransferSweep` of a preset; ``measured`` (init → exponent, from
    :func:`measured_exponents`) enables the ``measured`` rule."""
    if (model, preset) not in PRESETS_:
        models = sorted({m for m, _ in PRESETS_})
        raise UsageError(
            f"no transfer preset {preset!r} for model {model!r}; models: {', '.join(models)}, "
            f"presets: {', '.join(PRESETS)}"
        )
    p = PRESETS_[model, preset]
    return TransferSweep(
        model=model, inits=tuple(inits or ("A", "B")), widths=p.widths,
        seeds=tuple(p.seeds if seeds is None else seeds), grid=p.grid,
        grid_scaling=p.grid_scaling, horizons=p.horizons, windows=p.windows, train=p.train,
        measured=measured or {}, preset=preset,
    )  # fmt: skip


def measured_exponents(model: str, path=MEASURED_FILE) -> dict[str, dict]:
    """init → the stored form of the ``measured`` rule's exponent, read from the exponent file
    (``lora-sweep exponents``); empty for a model without one (GD)."""
    import theory

    if model != "teacher-student":
        return {}
    out = {}
    for init in ("A", "B"):
        try:
            m = theory.read_exponent_file(path, THEORY_MODEL[model], init, MEASURED_SOURCE)
        except theory.MeasuredExponentError as err:
            raise UsageError(f"the measured rule's exponent: {err}") from None
        out[init] = m.to_json()
    return out


def measured_exponent(config: TransferSweep, init: str):
    """The ``theory.MeasuredExponent`` stored in ``config`` for ``init`` (None without one)."""
    import theory

    raw = config.measured.get(init)
    if raw is None:
        return None
    return theory.MeasuredExponent(
        model=raw["model"], init=raw["init"], source=raw["source"], exponent=raw["exponent"],
        interval=tuple(raw["interval"]), level=raw["level"], provenance=raw["provenance"],
    )  # fmt: skip
