"""The sweeps wing: configuration and presets, running, the results store, devices, progress, and
the reading of a store that running itself needs (a run's loss, the ONE ``optimal_rates``: the
refinement moves its window by them, Figure 3 takes its rates from Figure 2's optimum). What a
finished sweep *says* (exponents, edges, summaries) is the analysis wing's. Imports ``core``
(docs/architecture.md).
"""

from toymodels import _lazy

#: Each public name and the module that defines it, imported on first use (PEP 562): importing
#: the package costs nothing, so `lora-sweep --help` and argument errors never wait for JAX.
_EXPORTS = {
    "loss_at": "toymodels.sweeps._losses",
    "mean_loss": "toymodels.sweeps._losses",
    "optimal_rates": "toymodels.sweeps._losses",
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
}


__getattr__, __dir__ = _lazy.exports(__name__, _EXPORTS)


__all__ = [
    "NOT_DIVERGED",
    "NOT_RUN",
    "PRESETS",
    "Preset",
    "SweepConfig",
    "get_preset",
    "load_results",
    "loss_at",
    "mean_loss",
    "optimal_rates",
    "run_sweep",
    "stored_config",
    "sweep_config",
]
