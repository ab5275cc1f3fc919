"""The core wing: data, models, optimizers, training, instrumentation, fits, errors, vocabulary.

Imports ``theory`` and nothing of ``toymodels`` outside ``core`` (docs/architecture.md).
"""

from toymodels.core._data import Dataset, linear_data, sine_data, teacher_student_data
from toymodels.core._errors import UsageError
from toymodels.core._fit import PowerLawFit, fit_power_law
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
from toymodels.core._vocab import (
    INIT_LABELS,
    INITS,
    MODELS,
    ToyModel,
    canonical_init,
    canonical_model,
)

__all__ = [
    "INITS",
    "INIT_LABELS",
    "MODELS",
    "Dataset",
    "LayerFeatures",
    "LinearParams",
    "Lora",
    "PowerLawFit",
    "Student",
    "ToyModel",
    "TrainConfig",
    "TrainResult",
    "UsageError",
    "canonical_init",
    "canonical_model",
    "fit_power_law",
    "linear",
    "linear_data",
    "lora_layer",
    "lora_mlp",
    "lora_optimizer",
    "lora_plus_rates",
    "scale_by_lora_rates",
    "sine_data",
    "teacher_student",
    "teacher_student_data",
    "train_grid",
]
