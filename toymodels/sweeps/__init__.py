"""The sweeps wing: configuration and presets, running, the results store, devices, progress,
summaries and analysis (ONE ``optimal_rates``). Imports ``core`` (docs/architecture.md).
"""

from toymodels import _lazy

#: Each public name and the module that defines it, imported on first use (PEP 562): importing
#: the package costs nothing, so `lora-sweep --help` and argument errors never wait for JAX.
_EXPORTS = {
    "fit_rate_exponent": "toymodels.sweeps._analysis",
    "loss_at": "toymodels.sweeps._analysis",
    "mean_loss": "toymodels.sweeps._analysis",
    "optimal_rates": "toymodels.sweeps._analysis",
    "SweepConfig": "toymodels.sweeps._config",
    "sweep_config": "toymodels.sweeps._config",
    "PRESETS": "toymodels.sweeps._presets",
    "Preset": "toymodels.sweeps._presets",
    "get_preset": "toymodels.sweeps._presets",
    "run_sweep": "toymodels.sweeps._run",
    "NOT_DIVERGED": "toymodels.sweeps._store",
    "NOT_RUN": "toymodels.sweeps._store",
    "load_results": "toymodels.sweeps._store",
    "stored_config": "toymodels.sweeps._store",
    "render": "toymodels.sweeps._summary",
    "summarize": "toymodels.sweeps._summary",
}


__getattr__, __dir__ = _lazy.exports(__name__, _EXPORTS)


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
