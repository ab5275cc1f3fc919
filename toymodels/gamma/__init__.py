"""The empirical-γ (coordinate) check: measure, report, plot (docs/empirical-gamma.md).

Imports ``core`` and ``theory`` (docs/architecture.md).
"""

from toymodels.gamma._measure import DEFAULT_WIDTHS, coordcheck
from toymodels.gamma._plot import plot_coordcheck
from toymodels.gamma._report import CoordCheckReport, GammaCheck

__all__ = ["DEFAULT_WIDTHS", "CoordCheckReport", "GammaCheck", "coordcheck", "plot_coordcheck"]
