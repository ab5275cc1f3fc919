"""The core wing: data, models, optimizers, training, instrumentation, fits, errors, vocabulary.

Imports ``theory`` and nothing of ``toymodels`` outside ``core`` (docs/architecture.md).
"""

from toymodels.core._bootstrap import (
    Crossing,
    ExponentBootstrap,
    Optimum,
    bootstrap_exponent,
    bootstrap_exponent_difference,
    crossing_rate,
    geometric_means,
    interpolated_optimum,
    null_pass_rate,
)
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
from toymodels.core._train import TrainConfig, TrainResult, multiplier_exponent, train_grid
from toymodels.core._vocab import (
    INIT_LABELS,
    INITS,
    MODELS,
    ToyModel,
    canonical_init,
    canonical_model,
    theory_model_of,
)

__all__ = [
    "INITS",
    "INIT_LABELS",
    "MODELS",
    "Crossing",
    "Dataset",
    "ExponentBootstrap",
    "LayerFeatures",
    "LinearParams",
    "Lora",
    "Optimum",
    "PowerLawFit",
    "Student",
    "ToyModel",
    "TrainConfig",
    "TrainResult",
    "UsageError",
    "bootstrap_exponent",
    "bootstrap_exponent_difference",
    "canonical_init",
    "canonical_model",
    "crossing_rate",
    "fit_power_law",
    "geometric_means",
    "interpolated_optimum",
    "linear",
    "linear_data",
    "lora_layer",
    "lora_mlp",
    "lora_optimizer",
    "lora_plus_rates",
    "multiplier_exponent",
    "null_pass_rate",
    "scale_by_lora_rates",
    "sine_data",
    "teacher_student",
    "teacher_student_data",
    "theory_model_of",
    "train_grid",
]
