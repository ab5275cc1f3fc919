"""JAX toy models that check the LoRA width-scaling theory empirically."""

from toymodels._coordcheck import coordcheck
from toymodels._coordcheck_report import CoordCheckReport, GammaCheck
from toymodels._data import Dataset, linear_data, sine_data, teacher_student_data
from toymodels._models import (
    LayerFeatures,
    LinearParams,
    Lora,
    Student,
    linear,
    lora_layer,
    lora_mlp,
    teacher_student,
)
from toymodels._optim import lora_optimizer, lora_plus_rates, scale_by_lora_rates
from toymodels._store import load_results
from toymodels._sweep import SweepConfig, run_sweep
from toymodels.train import TrainConfig, TrainResult, train_grid

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
