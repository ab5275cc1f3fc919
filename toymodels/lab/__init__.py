"""The lab: the width check and the stability edge for a user's own JAX model (docs/user-models.md).

Imports ``core``, ``gamma``, ``sweeps`` and ``theory`` (docs/architecture.md).
"""

from toymodels import _lazy

#: Each public name and the module that defines it, imported on first use (PEP 562).
_EXPORTS = {
    "Model": "toymodels.lab._adapt",
    "find_layers": "toymodels.lab._adapt",
    "check_model": "toymodels.lab._check",
    "edge_model": "toymodels.lab._edge",
    "by_layer": "toymodels.lab._check",
    "plot_model_check": "toymodels.lab._plot",
}


__getattr__, __dir__ = _lazy.exports(__name__, _EXPORTS)


__all__ = ["Model", "by_layer", "check_model", "edge_model", "find_layers", "plot_model_check"]
