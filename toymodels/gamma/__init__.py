"""The empirical-γ (coordinate) check: measure, report, plot (docs/empirical-gamma.md).

Imports ``core`` and ``theory`` (docs/architecture.md).
"""

import importlib

#: Each public name and the module that defines it, imported on first use (PEP 562): importing
#: the package costs nothing, so `lora-sweep --help` and argument errors never wait for JAX.
_EXPORTS = {
    "DEFAULT_WIDTHS": "toymodels.gamma._measure",
    "coordcheck": "toymodels.gamma._measure",
    "plot_coordcheck": "toymodels.gamma._plot",
    "CoordCheckReport": "toymodels.gamma._report",
    "GammaCheck": "toymodels.gamma._report",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:  # a submodule (`import toymodels; toymodels.sweeps`), as eager imports gave
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = ["DEFAULT_WIDTHS", "CoordCheckReport", "GammaCheck", "coordcheck", "plot_coordcheck"]
