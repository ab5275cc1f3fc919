"""JAX toy models that check the LoRA width-scaling theory empirically."""

from toymodels._optim import lora_optimizer, lora_plus_rates, scale_by_lora_rates
from toymodels._store import load_results
from toymodels._sweep import SweepConfig, run_sweep
from toymodels.train import TrainConfig, TrainResult, train_grid

__version__ = "0.1.0"

__all__ = [
    "SweepConfig",
    "TrainConfig",
    "TrainResult",
    "load_results",
    "lora_optimizer",
    "lora_plus_rates",
    "run_sweep",
    "scale_by_lora_rates",
    "train_grid",
]
