"""JAX toy models that check the LoRA width-scaling theory empirically."""

from toymodels._optim import lora_optimizer, lora_plus_rates, scale_by_lora_rates
from toymodels.train import TrainConfig, TrainResult, train_grid

__version__ = "0.1.0"

__all__ = [
    "TrainConfig",
    "TrainResult",
    "lora_optimizer",
    "lora_plus_rates",
    "scale_by_lora_rates",
    "train_grid",
]
