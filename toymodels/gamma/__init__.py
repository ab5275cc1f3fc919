"""The empirical-γ (coordinate) check: measure, report, plot (docs/empirical-gamma.md).

Imports ``core`` and ``theory`` (docs/architecture.md).
"""

from toymodels import _lazy

#: Each public name and the module that defines it, imported on first use (PEP 562): importing
#: the package costs nothing, so `lora-sweep --help` and argument errors never wait for JAX.
_EXPORTS = {
    "DEFAULT_WIDTHS": "toymodels.gamma._measure",
    "coordcheck": "toymodels.gamma._measure",
    "plot_coordcheck": "toymodels.gamma._plot",
    "CoordCheckReport": "toymodels.gamma._report",
    "GammaCheck": "toymodels.gamma._report",
}


__getattr__, __dir__ = _lazy.exports(__name__, _EXPORTS)


__all__ = ["DEFAULT_WIDTHS", "CoordCheckReport", "GammaCheck", "coordcheck", "plot_coordcheck"]
