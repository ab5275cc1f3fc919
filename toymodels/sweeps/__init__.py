"""The sweeps wing: configuration and presets, running, the results store, devices, progress,
summaries and analysis (ONE ``optimal_rates``). Imports ``core`` (docs/architecture.md).
"""

from toymodels.sweeps._analysis import fit_rate_exponent, loss_at, mean_loss, optimal_rates
from toymodels.sweeps._config import SweepConfig, sweep_config
from toymodels.sweeps._presets import PRESETS, Preset, get_preset
from toymodels.sweeps._run import run_sweep
from toymodels.sweeps._store import NOT_DIVERGED, NOT_RUN, load_results, stored_config
from toymodels.sweeps._summary import render, summarize

__all__ = [
    "NOT_DIVERGED",
    "NOT_RUN",
    "PRESETS",
    "Preset",
    "SweepConfig",
    "fit_rate_exponent",
    "get_preset",
    "load_results",
    "loss_at",
    "mean_loss",
    "optimal_rates",
    "render",
    "run_sweep",
    "stored_config",
    "summarize",
    "sweep_config",
]
