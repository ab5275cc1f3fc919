"""A sweep's configuration as data: :class:`SweepConfig`, and :func:`sweep_config`, which builds
one from a preset (``toymodels.sweeps._presets``) and keyword overrides.

The command line (``lora-sweep figure2 --preset quick --steps 30``) and the reproduction workflow
both call :func:`sweep_config`; nothing here knows of argv or flags beyond the wording of its
error messages, which name the flags a user of ``lora-sweep`` gives.

>>> config, preset = sweep_config("figure2", "quick", steps=5, seeds=(0,))
>>> config.experiment, config.train["steps"], config.seeds, preset.name
('figure2', 5, (0,), 'quick')
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

import theory
from toymodels.core import UsageError, canonical_init, multiplier_exponent
from toymodels.sweeps import _presets
from toymodels.sweeps._refine import COARSE, FINE, Refinement

#: Dims the learning-rate coordinates may vary over, outermost first; ``lr`` is always present.
RATE_DIMS = ("init", "width", "lr")


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """Everything that determines a sweep's numbers.

    ``eta_A`` and ``eta_B`` are nested tuples over ``rate_dims`` (a suffix-closed subset of
    ``("init", "width", "lr")`` ending in ``lr``): a plain grid shared by every cell has
    ``rate_dims == ("lr",)``. ``train`` holds the remaining ``TrainConfig`` fields (``steps``,
    ``optimizer``, ``rank``, ...), the same for every cell. With a ``refinement``
    (``_refine.py``) the grid is the first, coarse stage of a two-stage grid, and each cell's
    window of ``refinement.size`` fine rates is chosen from its coarse runs.

    >>> config = SweepConfig.equal_rates(
    ...     experiment="run", model="teacher-student", inits=("A",), widths=(8, 16),
    ...     rates=(1e-3, 1e-2), seeds=(0,), train={"steps": 3, "rank": 2})
    >>> config.cell_rates("A", 16)
    (array([0.001, 0.01 ]), array([0.001, 0.01 ]))
    """

    experiment: str
    model: str
    inits: tuple[str, ...]
    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    rate_dims: tuple[str, ...]
    eta_A: tuple
    eta_B: tuple
    train: Mapping[str, Any]
    preset: str | None = None
    refinement: Refinement | None = None

    @classmethod
    def equal_rates(cls, *, rates, **fields) -> SweepConfig:
        """A sweep with η_A = η_B over one grid ``rates``, shared by every cell."""
        rates = tuple(float(r) for r in rates)
        return cls(rate_dims=("lr",), eta_A=rates, eta_B=rates, **fields)

    @classmethod
    def scaled_rates(
        cls, *, rates, scaling: float, widths, anchor: int | None = None, **fields
    ) -> SweepConfig:
        """η_A = η_B over the grid ``rates · (n/n₀)^scaling`` at width n (n₀ = ``anchor``, by
        default the narrowest width, whatever the order given).

        >>> config = SweepConfig.scaled_rates(
        ...     experiment="run", model="teacher-student", inits=("A",), widths=(512, 128),
        ...     rates=(1e-2,), scaling=-0.5, seeds=(0,), train={"steps": 3})
        >>> config.cell_rates("A", 512)[0]
        array([0.005])
        """
        widths = tuple(widths)
        if not widths or any(not isinstance(w, int) or w <= 0 for w in widths):
            # validate() names the bad width; build nothing from it
            return cls.equal_rates(rates=rates, widths=widths, **fields)
        n0 = anchor if anchor is not None else min(widths)
        table = tuple(tuple(_scaled(r, w / n0, scaling) for r in rates) for w in widths)
        return cls(rate_dims=("width", "lr"), eta_A=table, eta_B=table, widths=widths, **fields)

    def __post_init__(self):
        object.__setattr__(self, "inits", tuple(canonical_init(i) for i in self.inits))
        object.__setattr__(self, "train", dict(self.train))
        validate(self)

    @property
    def steps(self) -> int:
        return int(self.train["steps"])

    @property
    def n_rates(self) -> int:
        """Rates per cell (a two-stage grid: the coarse grid and the fine window)."""
        fine = self.refinement.size if self.refinement is not None else 0
        return int(np.shape(self.eta_A)[-1]) + fine

    def stages(self) -> list[str] | None:
        """The ``stage`` of each rate of a cell, for a two-stage grid (else None)."""
        if self.refinement is None:
            return None
        return [COARSE] * int(np.shape(self.eta_A)[-1]) + [FINE] * self.refinement.size

    def _full(self, rates) -> np.ndarray:
        """The rates broadcast to ``[init, width, lr]``."""
        array = np.asarray(rates, dtype=np.float64)
        for axis, dim in enumerate(RATE_DIMS[:-1]):
            if dim not in self.rate_dims:
                array = np.expand_dims(array, axis)
        shape = (len(self.inits), len(self.widths), array.shape[-1])
        return np.broadcast_to(array, shape)

    def cell_rates(self, init: str, width: int) -> tuple[np.ndarray, np.ndarray]:
        """``(eta_A, eta_B)``, each ``[L]``, of the cell ``(init, width)``."""
        i, w = self.inits.index(init), self.widths.index(width)
        return self._full(self.eta_A)[i, w].copy(), self._full(self.eta_B)[i, w].copy()

    def rate_coords(self):
        """``eta_A`` and ``eta_B`` as DataArrays over ``rate_dims`` (the store's coordinates); for
        a two-stage grid over ``init, width, lr``, the fine rates NaN until their cell has run."""
        import xarray as xr

        if self.refinement is not None:
            window = np.full((len(self.inits), len(self.widths), self.refinement.size), np.nan)
            coords = {"init": list(self.inits), "width": list(self.widths)}
            return tuple(
                xr.DataArray(
                    np.concatenate([self._full(r), window], axis=-1), coords=coords, dims=RATE_DIMS
                )
                for r in (self.eta_A, self.eta_B)
            )
        coords = {"init": list(self.inits), "width": list(self.widths)}
        coords = {d: coords[d] for d in self.rate_dims if d != "lr"}
        return tuple(
            xr.DataArray(np.asarray(r, dtype=np.float64), dims=self.rate_dims, coords=coords)
            for r in (self.eta_A, self.eta_B)
        )

    def cells(self) -> list[tuple[str, int]]:
        """Every ``(init, width)`` cell, narrow widths first (results arrive soonest)."""
        return [(init, width) for width in self.widths for init in self.inits]

    def to_json(self) -> dict:
        """The configuration as plain JSON values (stored in the results file)."""
        refinement = {} if self.refinement is None else {"refinement": self.refinement.to_json()}
        return {
            **refinement,
            "experiment": self.experiment,
            "preset": self.preset,
            "model": self.model,
            "inits": list(self.inits),
            "widths": list(self.widths),
            "seeds": list(self.seeds),
            "rate_dims": list(self.rate_dims),
            "eta_A": np.asarray(self.eta_A, dtype=float).tolist(),
            "eta_B": np.asarray(self.eta_B, dtype=float).tolist(),
            "train": dict(self.train),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SweepConfig:
        """Inverse of :meth:`to_json`."""
        return cls(
            experiment=data["experiment"],
            preset=data.get("preset"),
            model=data["model"],
            inits=tuple(data["inits"]),
            widths=tuple(int(w) for w in data["widths"]),
            seeds=tuple(int(s) for s in data["seeds"]),
            rate_dims=tuple(data["rate_dims"]),
            eta_A=_nested_tuple(data["eta_A"]),
            eta_B=_nested_tuple(data["eta_B"]),
            train=dict(data["train"]),
            refinement=Refinement.from_json(data.get("refinement")),
        )


def _scaled(rate: float, ratio: float, scaling: float) -> float:
    """``rate · ratio^scaling`` to 6 digits; a one-line error if it leaves the positive floats."""
    try:
        value = float(f"{rate * ratio**scaling:.6g}")
    except OverflowError:
        value = math.inf
    if not (0 < value < math.inf) and 0 < rate < math.inf:
        raise UsageError(
            f"--lr-scaling {scaling:g} takes the rate {rate:g} to {value:g} at {ratio:g}× the "
            "narrowest width; rates must stay positive and finite"
        )
    return value


#: Seeds and data seeds are stored as int32 and seed JAX's generator: 0 ≤ seed < 2^31.
SEED_LIMIT = 2**31


def _nested_tuple(value):
    return tuple(_nested_tuple(v) for v in value) if isinstance(value, list | tuple) else value


def _duplicates(values) -> list:
    seen, repeated = set(), []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    return repeated


def validate(config: SweepConfig) -> None:
    """Raise :class:`UsageError` for a sweep that cannot run, before anything trains."""
    if not config.inits:
        raise UsageError("no initialization given (--inits)")
    if not config.widths:
        raise UsageError("no width given (--widths)")
    for width in config.widths:
        if isinstance(width, bool) or not isinstance(width, int | np.integer) or width <= 0:
            raise UsageError(f"width must be a positive integer, got {width!r}")
        if width >= SEED_LIMIT:  # stored as int32
            raise UsageError(f"width {width} is too large: widths lie in 1..{SEED_LIMIT - 1}")
    rank = config.train.get("rank")
    if rank is not None and (not isinstance(rank, int) or rank <= 0):
        raise UsageError(f"rank must be a positive integer, got {rank!r}")
    if rank is not None and rank > min(config.widths):
        raise UsageError(
            f"rank {rank} exceeds width {min(config.widths)}: LoRA needs rank <= width"
        )
    if "multiplier" in config.train:
        multiplier_exponent(config.train["multiplier"])
    alpha = config.train.get("alpha", 1.0)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < math.inf:
        raise UsageError(f"alpha must be a finite number > 0, got {alpha!r}")
    steps = config.train.get("steps")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps <= 0:
        raise UsageError(f"steps must be a positive integer, got {steps!r}")
    if not config.seeds:
        raise UsageError("no seed given (--seeds)")
    for name, values in (("init", config.inits), ("width", config.widths)):
        if repeated := _duplicates(values):
            raise UsageError(f"{name} {repeated[0]} is given twice")
    if repeated := _duplicates(config.seeds):
        raise UsageError(f"seed {repeated[0]} is given twice")
    for seed in config.seeds:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise UsageError(f"seeds must be integers, got {seed!r}")
        if not 0 <= seed < SEED_LIMIT:
            raise UsageError(f"seed {seed} is out of range: seeds lie in 0..{SEED_LIMIT - 1}")
    if config.rate_dims[-1:] != ("lr",) or not set(config.rate_dims) <= set(RATE_DIMS):
        raise ValueError(f"rate_dims must end in 'lr' and lie in {RATE_DIMS}: {config.rate_dims}")
    for name, rates in (("eta_A", config.eta_A), ("eta_B", config.eta_B)):
        array = np.asarray(rates, dtype=np.float64)
        if array.size == 0 or array.shape[-1] == 0:
            raise UsageError("the learning-rate grid is empty")
        if not np.all(np.isfinite(array) & (array > 0)):
            bad = array[~(np.isfinite(array) & (array > 0))].flat[0]
            raise UsageError(f"learning rates must be positive and finite, got {name} = {bad:g}")
        expected = tuple(
            {"init": len(config.inits), "width": len(config.widths)}.get(d, array.shape[-1])
            for d in config.rate_dims
        )
        if array.shape != expected:
            raise UsageError(f"{name} has shape {array.shape}; expected {expected}")
    if np.shape(config.eta_A) != np.shape(config.eta_B):
        raise UsageError("eta_A and eta_B grids differ in shape")
    check_increasing(config.eta_A, config.eta_B)


def check_increasing(eta_A, eta_B, where: str = "the learning-rate grid") -> None:
    """An equal-rate grid (η_A = η_B) must increase along ``lr``: the optimum is interpolated
    between neighbouring rates (2-D grids and one-rate cells have no order to keep).

    >>> check_increasing((1e-1, 1e-3), (1e-1, 1e-3))
    Traceback (most recent call last):
    ...
    toymodels.core._errors.UsageError: the learning-rate grid must increase (0.1, then 0.001)
    """
    a, b = np.asarray(eta_A, dtype=np.float64), np.asarray(eta_B, dtype=np.float64)
    if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True) or a.shape[-1] < 2:
        return
    steps = np.diff(a, axis=-1)
    bad = np.argwhere(steps <= 0)
    if bad.size:
        index = tuple(bad[0])
        after = (*index[:-1], index[-1] + 1)
        raise UsageError(f"{where} must increase ({a[index]:g}, then {a[after]:g})")


# --- From a preset and overrides ------------------------------------------------------------------


def _positive_int(value, what: str) -> int:
    if value is not None and value <= 0:
        raise UsageError(f"{what} must be a positive integer, got {value}")
    return value


def _optimal_rates_of(path, inits, widths) -> dict[tuple[str, int], float]:
    """Each cell's optimal rate in a figure2 results file, as that file's summary reports it."""
    from toymodels.sweeps._losses import optimal_rates
    from toymodels.sweeps._store import load_results, stored_config

    source = load_results(path)
    source_config = stored_config(source)
    if source_config.get("experiment") not in ("figure2", "run"):
        raise UsageError(f"{path} is not a figure2 results file")
    # The optimum the figure-2 summary of that file reports: its preset's loss and window.
    source_preset = _presets.FIGURE2.get(source_config.get("preset"))
    optimal = optimal_rates(
        source,
        source_preset.metric if source_preset else "train_loss",
        None,
        window=source_preset.window if source_preset else 1,
    )
    rates: dict[tuple[str, int], float] = {}
    for init in inits:
        for width in widths:
            if init not in optimal["init"] or width not in optimal["width"]:
                raise UsageError(f"{path} has no cell init {init}, width {width}")
            rate = float(optimal["eta_A"].sel(init=init, width=width))
            if not math.isfinite(rate):
                raise UsageError(f"{path} has no optimal rate at init {init}, width {width}")
            rates[init, width] = rate
    return rates


def _figure3_rates(cell_rates, optimal_from, inits, widths) -> np.ndarray:
    """Per (init, width): ``optimal_from``, else ``cell_rates``, else the documented defaults."""
    if optimal_from is not None and cell_rates is not None:
        raise UsageError("give --from-results or --lr, not both")
    if optimal_from is not None:
        rates = _optimal_rates_of(optimal_from, inits, widths)
    elif isinstance(cell_rates, int | float):
        rates = {(i, w): float(cell_rates) for i in inits for w in widths}
    elif cell_rates is not None:
        rates = {(canonical_init(i), int(w)): float(r) for (i, w), r in cell_rates.items()}
    else:
        rates = dict(_presets.FIGURE3_DEFAULT_RATES)
    missing = [f"{i}@{w}" for i in inits for w in widths if (i, w) not in rates]
    if missing:
        raise UsageError(f"no rate for {', '.join(missing)}; give --lr INIT@WIDTH=RATE,...")
    return np.array([[[rates[i, w]] for w in widths] for i in inits])


def _rate_list(rates, flag: str) -> tuple:
    """A rate grid in increasing order (the optimum's interpolation needs it), each rate once.

    >>> _rate_list((1e-1, 1e-3), "--lr")
    (0.001, 0.1)
    """
    rates = tuple(rates)
    if repeated := _duplicates(rates):
        raise UsageError(f"{flag}: the rate {repeated[0]:g} is given twice")
    if all(isinstance(r, int | float | np.floating) and not isinstance(r, bool) for r in rates):
        return tuple(sorted(rates))
    return rates  # validate() names the bad rate


def _sorted_widths(widths) -> tuple:
    widths = tuple(widths)
    if all(isinstance(w, int | np.integer) and not isinstance(w, bool) for w in widths):
        return tuple(sorted(widths))
    return widths  # validate() names the bad width


def _nested(array):
    return tuple(_nested(a) for a in array) if getattr(array, "ndim", 0) else float(array)


def sweep_config(
    experiment: str,
    preset_name: str | None = "paper",
    *,
    model: str = "teacher-student",
    inits=None,
    widths=None,
    seeds=None,
    steps: int | None = None,
    rates=None,
    rate_scaling: float | None = None,
    eta_A=None,
    eta_B=None,
    cell_rates=None,
    optimal_from=None,
    rank: int | None = None,
    multiplier=None,
    alpha: float | None = None,
    optimizer: str | None = None,
    weight_decay: float = 0.0,
    data_seed: int = 0,
) -> tuple[SweepConfig, _presets.Preset]:
    """The :class:`SweepConfig` of ``experiment`` (``figure2``, ``figure3``, ``heatmap``: from the
    preset ``preset_name``; ``run``: a custom sweep of ``model``) with the given fields overridden,
    and the preset (whose analysis settings summarize it).

    Overrides (``None``: the preset's): ``inits``, ``widths``, ``seeds``, ``steps``; the rates,
    as one of: ``rates`` (an equal-rate grid η_A = η_B, scaled with width by
    ``rate_scaling`` S as η(n) = η(n₀)·(n/n₀)^S), ``eta_A`` and ``eta_B`` (a 2-D grid; the
    heatmap's), or for ``figure3`` ``cell_rates`` (one rate, or ``{(init, width): rate}``) or
    ``optimal_from`` (a figure2 results file whose optimal rates to use). ``model``, ``rank``
    (``None``: 4, 1 for ``linear``), ``multiplier`` and ``alpha`` (α·r^(−s); ``None``: s = 0,
    α = 1, left out of the stored configuration so that older results files still resume),
    ``optimizer``, ``weight_decay`` and ``data_seed`` are the custom ``run``'s.
    """
    _positive_int(steps, "--steps")
    if experiment == "run":
        preset = _presets.Preset(
            experiment="run",
            name="custom",
            model=model,
            inits=inits or ("A", "B"),
            widths=widths or (),
            seeds=seeds or (0,),
            train={
                "rank": rank if rank is not None else (1 if model == "linear" else 4),
                "steps": steps or 100,
                "data_seed": data_seed,
            },
        )
        if multiplier is not None and multiplier_exponent(multiplier) != 0:
            preset.train["multiplier"] = theory.format_exponent(multiplier_exponent(multiplier))
        if alpha is not None and alpha != 1:
            preset.train["alpha"] = alpha
        if widths is None:
            raise UsageError("`lora-sweep run` needs --widths, e.g. --widths 2^7:2^10")
        if optimizer is not None:
            preset.train["optimizer"] = optimizer
        if weight_decay:
            preset.train["weight_decay"] = weight_decay
    else:
        preset = _presets.get_preset(experiment, preset_name)
    train = dict(preset.train)
    if steps is not None:
        train["steps"] = steps
    fields = {
        "experiment": preset.experiment,
        "preset": None if experiment == "run" else preset.name,
        "model": preset.model,
        "inits": inits or preset.inits,
        # sorted: the same experiment whatever the order given, tables in width order
        "widths": _sorted_widths(widths or preset.widths),
        "seeds": seeds or preset.seeds,
        "train": train,
    }
    if experiment == "figure3":
        table = _figure3_rates(cell_rates, optimal_from, fields["inits"], fields["widths"])
        return (
            SweepConfig(
                rate_dims=("init", "width", "lr"),
                eta_A=_nested(table),
                eta_B=_nested(table),
                **fields,
            ),
            preset,
        )
    if experiment == "heatmap" or eta_A or eta_B:
        if rates is not None:
            raise UsageError("give --lr (equal rates) or --eta-A/--eta-B (a 2-D grid), not both")
        eta_A = _rate_list(eta_A, "--eta-A") if eta_A else preset.eta_A
        eta_B = _rate_list(eta_B, "--eta-B") if eta_B else preset.eta_B
        if not eta_A or not eta_B:
            raise UsageError("a 2-D sweep needs both --eta-A and --eta-B")
        pairs = list(itertools.product(eta_A, eta_B))
        return (
            SweepConfig(
                rate_dims=("lr",),
                eta_A=tuple(a for a, _ in pairs),
                eta_B=tuple(b for _, b in pairs),
                **fields,
            ),
            preset,
        )
    rates = _rate_list(rates, "--lr") if rates is not None else preset.rates
    if not rates:
        raise UsageError("no learning rates given (--lr)")
    scaling = rate_scaling if rate_scaling is not None else preset.rate_scaling
    scaling = None if scaling is None else float(Fraction(str(scaling).strip()))  # "-3/4" or -0.75
    # A two-stage preset keeps its fine stage whatever grid the first stage is given.
    fields["refinement"] = preset.refinement
    if scaling is None or scaling == 0:
        return SweepConfig.equal_rates(rates=rates, **fields), preset
    # A preset's own grid is anchored where the preset says (a --widths override keeps it there);
    # a grid given with --lr is anchored at the narrowest width asked for.
    anchor = preset.rate_anchor if rates is preset.rates else None
    return SweepConfig.scaled_rates(rates=rates, scaling=scaling, anchor=anchor, **fields), preset
