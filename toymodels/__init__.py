"""JAX toy models that check the LoRA width-scaling theory empirically."""

from toymodels._store import load_results
from toymodels._sweep import SweepConfig, run_sweep

__version__ = "0.1.0"

__all__ = ["SweepConfig", "load_results", "run_sweep"]
