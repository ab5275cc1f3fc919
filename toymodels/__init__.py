"""JAX toy models that check the LoRA width-scaling theory empirically."""

from toymodels.core._data import Dataset, linear_data, sine_data, teacher_student_data
from toymodels.core._models import (
    LayerFeatures,
    LinearParams,
    Lora,
    Student,
    linear,
    lora_layer,
    lora_mlp,
    teacher_student,
)
from toymodels.core._optim import lora_optimizer, lora_plus_rates, scale_by_lora_rates
from toymodels.core._train import TrainConfig, TrainResult, train_grid
from toymodels.gamma._measure import coordcheck
from toymodels.gamma._report import CoordCheckReport, GammaCheck
from toymodels.sweeps._run import SweepConfig, run_sweep
from toymodels.sweeps._store import load_results

__version__ = "0.1.0"

__all__ = [
    "CoordCheckReport",
    "Dataset",
    "GammaCheck",
    "LayerFeatures",
    "LinearParams",
    "Lora",
    "Student",
    "SweepConfig",
    "TrainConfig",
    "TrainResult",
    "coordcheck",
    "linear",
    "linear_data",
    "load_results",
    "lora_layer",
    "lora_mlp",
    "lora_optimizer",
    "lora_plus_rates",
    "run_sweep",
    "scale_by_lora_rates",
    "sine_data",
    "teacher_student",
    "teacher_student_data",
    "train_grid",
]
