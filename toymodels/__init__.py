"""JAX toy models that check the LoRA width-scaling theory empirically.

The package is split into wings (docs/architecture.md): ``toymodels.core`` (data, models,
optimizers, training), ``toymodels.sweeps`` (width sweeps, results store, analysis),
``toymodels.gamma`` (the empirical-γ check), ``toymodels.reproduce`` (figures, claims, workflow)
and ``toymodels.cli`` (``lora-sweep``). The names most used are re-exported here.
"""

import os as _os
import sys as _sys

if _os.path.basename(_sys.argv[0]) == "lora-sweep":
    # The entry point: handle Ctrl-C before the heavy imports below (toymodels._signals), so a
    # Ctrl-C during start-up ends in one line, never a traceback.
    from toymodels import _signals

    _signals.install()

from toymodels.core import (
    INIT_LABELS,
    MODELS,
    Dataset,
    LayerFeatures,
    LinearParams,
    Lora,
    PowerLawFit,
    Student,
    TrainConfig,
    TrainResult,
    UsageError,
    canonical_init,
    fit_power_law,
    linear,
    linear_data,
    lora_layer,
    lora_mlp,
    lora_optimizer,
    lora_plus_rates,
    scale_by_lora_rates,
    sine_data,
    teacher_student,
    teacher_student_data,
    train_grid,
)
from toymodels.gamma import CoordCheckReport, GammaCheck, coordcheck
from toymodels.sweeps import SweepConfig, load_results, optimal_rates, run_sweep

__version__ = "0.1.0"

__all__ = [
    "INIT_LABELS",
    "MODELS",
    "CoordCheckReport",
    "Dataset",
    "GammaCheck",
    "LayerFeatures",
    "LinearParams",
    "Lora",
    "PowerLawFit",
    "Student",
    "SweepConfig",
    "TrainConfig",
    "TrainResult",
    "UsageError",
    "canonical_init",
    "coordcheck",
    "fit_power_law",
    "linear",
    "linear_data",
    "load_results",
    "lora_layer",
    "lora_mlp",
    "lora_optimizer",
    "lora_plus_rates",
    "optimal_rates",
    "run_sweep",
    "scale_by_lora_rates",
    "sine_data",
    "teacher_student",
    "teacher_student_data",
    "train_grid",
]
