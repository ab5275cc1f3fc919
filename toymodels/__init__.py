"""JAX toy models that check the LoRA width-scaling theory empirically.

The package is split into wings (docs/architecture.md): ``toymodels.core`` (data, models,
optimizers, training), ``toymodels.sweeps`` (width sweeps, results store),
``toymodels.analysis`` (exponents, edges, horizons, summaries), ``toymodels.gamma`` (the
empirical-γ check), ``toymodels.lab`` (the width check and the edge of a user's own model),
``toymodels.reproduce`` (figures, claims, workflow) and ``toymodels.cli``
(``lora-sweep``). The names most used are re-exported here.
"""

import os as _os
import sys as _sys

if _os.path.basename(_sys.argv[0]) == "lora-sweep":
    # The entry point: handle Ctrl-C before the heavy imports below (toymodels._signals), so a
    # Ctrl-C during start-up ends in one line, never a traceback.
    from toymodels import _signals

    _signals.install()

from toymodels import _lazy

#: Each public name and the module that defines it, imported on first use (PEP 562): importing
#: the package costs nothing, so `lora-sweep --help` and argument errors never wait for JAX.
_EXPORTS = {
    "INIT_LABELS": "toymodels.core",
    "MODELS": "toymodels.core",
    "Dataset": "toymodels.core",
    "LayerFeatures": "toymodels.core",
    "LinearParams": "toymodels.core",
    "Lora": "toymodels.core",
    "PowerLawFit": "toymodels.core",
    "Student": "toymodels.core",
    "TrainConfig": "toymodels.core",
    "TrainResult": "toymodels.core",
    "UsageError": "toymodels.core",
    "canonical_init": "toymodels.core",
    "fit_power_law": "toymodels.core",
    "linear": "toymodels.core",
    "linear_data": "toymodels.core",
    "lora_layer": "toymodels.core",
    "lora_mlp": "toymodels.core",
    "PathSelector": "toymodels.core",
    "init_lora": "toymodels.core",
    "lora_initializers": "toymodels.core",
    "lora_label_table": "toymodels.core",
    "lora_labels": "toymodels.core",
    "lora_multi_optimizer": "toymodels.core",
    "lora_scaling": "toymodels.core",
    "nnx_lora": "toymodels.core",
    "nnx_lora_linear": "toymodels.core",
    "reinit_lora": "toymodels.core",
    "lora_optimizer": "toymodels.core",
    "lora_plus_rates": "toymodels.core",
    "scale_by_lora_rates": "toymodels.core",
    "sine_data": "toymodels.core",
    "teacher_student": "toymodels.core",
    "teacher_student_data": "toymodels.core",
    "train_grid": "toymodels.core",
    "CoordCheckReport": "toymodels.gamma",
    "GammaCheck": "toymodels.gamma",
    "coordcheck": "toymodels.gamma",
    "check_model": "toymodels.lab",
    "edge_model": "toymodels.lab",
    "SweepConfig": "toymodels.sweeps",
    "load_results": "toymodels.sweeps",
    "optimal_rates": "toymodels.sweeps",
    "run_sweep": "toymodels.sweeps",
    "summarize": "toymodels.analysis",
}


__getattr__, __dir__ = _lazy.exports(__name__, _EXPORTS)


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
    "PathSelector",
    "PowerLawFit",
    "Student",
    "SweepConfig",
    "TrainConfig",
    "TrainResult",
    "UsageError",
    "canonical_init",
    "check_model",
    "coordcheck",
    "edge_model",
    "fit_power_law",
    "init_lora",
    "linear",
    "linear_data",
    "load_results",
    "lora_initializers",
    "lora_label_table",
    "lora_labels",
    "lora_layer",
    "lora_mlp",
    "lora_multi_optimizer",
    "lora_optimizer",
    "lora_plus_rates",
    "lora_scaling",
    "nnx_lora",
    "nnx_lora_linear",
    "optimal_rates",
    "reinit_lora",
    "run_sweep",
    "scale_by_lora_rates",
    "sine_data",
    "summarize",
    "teacher_student",
    "teacher_student_data",
    "train_grid",
]
