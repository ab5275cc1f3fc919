"""The core wing: data, models, optimizers, training, instrumentation, fits, errors, vocabulary.

Imports ``theory`` and nothing of ``toymodels`` outside ``core`` (docs/architecture.md).
"""

from toymodels import _lazy

#: Each public name and the module that defines it, imported on first use (PEP 562): importing
#: the package costs nothing, so `lora-sweep --help` and argument errors never wait for JAX.
_EXPORTS = {
    "Crossing": "toymodels.core._bootstrap",
    "ExponentBootstrap": "toymodels.core._bootstrap",
    "Optimum": "toymodels.core._bootstrap",
    "bootstrap_exponent": "toymodels.core._bootstrap",
    "bootstrap_exponent_difference": "toymodels.core._bootstrap",
    "crossing_rate": "toymodels.core._bootstrap",
    "geometric_means": "toymodels.core._bootstrap",
    "interpolated_optimum": "toymodels.core._bootstrap",
    "null_pass_rate": "toymodels.core._bootstrap",
    "Dataset": "toymodels.core._data",
    "linear_data": "toymodels.core._data",
    "sine_data": "toymodels.core._data",
    "teacher_student_data": "toymodels.core._data",
    "UsageError": "toymodels.core._errors",
    "PowerLawFit": "toymodels.core._fit",
    "fit_power_law": "toymodels.core._fit",
    "LayerFeatures": "toymodels.core._models",
    "LinearParams": "toymodels.core._models",
    "Lora": "toymodels.core._models",
    "Student": "toymodels.core._models",
    "linear": "toymodels.core._models",
    "lora_layer": "toymodels.core._models",
    "lora_mlp": "toymodels.core._models",
    "teacher_student": "toymodels.core._models",
    "lora_optimizer": "toymodels.core._optim",
    "lora_plus_rates": "toymodels.core._optim",
    "scale_by_lora_rates": "toymodels.core._optim",
    "TrainConfig": "toymodels.core._train",
    "TrainResult": "toymodels.core._train",
    "multiplier_exponent": "toymodels.core._vocab",
    "train_grid": "toymodels.core._train",
    "INIT_LABELS": "toymodels.core._vocab",
    "INITS": "toymodels.core._vocab",
    "MODELS": "toymodels.core._vocab",
    "ToyModel": "toymodels.core._vocab",
    "canonical_init": "toymodels.core._vocab",
    "canonical_model": "toymodels.core._vocab",
    "theory_model_of": "toymodels.core._vocab",
}


__getattr__, __dir__ = _lazy.exports(__name__, _EXPORTS)


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
