"""The reproduction of the papers' figures and claims: plots, claims checker, workflow.

Without results, every claim is ``no data``, never a guess:

>>> from toymodels import reproduce
>>> print(reproduce.claims_table(reproduce.check_claims()).splitlines()[2])  # doctest: +ELLIPSIS
| E2(a) | for n >= 2^9 the optimal rate ... | | needs the figure2 results | n/a | no data |
"""

from toymodels import _lazy
from toymodels.core import INIT_LABELS
from toymodels.reproduce._claims import (
    CLAIMS_E2,
    check_claims,
    check_init_paper,
    claims_table,
)
from toymodels.reproduce._claims_edge import CLAIMS_EDGE, EDGE_TOLERANCE, check_stability_edge
from toymodels.reproduce._claims_horizon import (
    check_bend,
    horizon_table,
    optimum_edge_table,
    running_table,
)
from toymodels.reproduce._claims_levels import check_edge_levels, definitions_table, level_table
from toymodels.reproduce._claims_loraplus import CLAIMS_E1, check_loraplus
from toymodels.reproduce._figure_data import figure2_optimum, provenance
from toymodels.reproduce._rank_workflow import (
    RANK_MODELS,
    rank_figure,
    rank_results_path,
    rank_sweep,
    rank_table,
)
from toymodels.reproduce._transfer_workflow import (
    TRANSFER_MODELS,
    transfer_figure,
    transfer_results_path,
    transfer_sweep,
    transfer_table,
)
from toymodels.reproduce._verdicts import NO_DATA, NOT, PARTLY, REPRODUCED, ClaimCheck
from toymodels.reproduce._workflow import (
    GAMMA_SETTINGS,
    describe,
    empirical_gamma,
    exponent_table,
    figures_dir,
    gamma_summary,
    preset,
    project_root,
    quick_mode,
    results_dir,
    sweep,
    wide_preset,
)

#: The drawing functions, imported on first use (PEP 562): matplotlib loads only when a figure is
#: drawn, so the claims, the workflow and the GPU check run without it.
_LAZY = {
    **dict.fromkeys(
        (
            "FIGURE_STEMS",
            "PHASE_MODELS",
            "make_figures",
            "phase_diagrams",
            "plot_feature_norms",
            "plot_loss_curves",
            "plot_optimal_rates",
            "plot_rate_heatmaps",
            "plot_stability_edge",
            "save_figure",
        ),
        "toymodels.reproduce._figures",
    ),
    "plot_rank_scaling": "toymodels.reproduce._rank_figures",
    "plot_optimum_vs_horizon": "toymodels.reproduce._horizon_figures",
    "plot_running_exponents": "toymodels.reproduce._horizon_figures",
}


__getattr__, __dir__ = _lazy.exports(__name__, _LAZY)


__all__ = [
    "CLAIMS_E1",
    "CLAIMS_E2",
    "CLAIMS_EDGE",
    "EDGE_TOLERANCE",
    "FIGURE_STEMS",
    "GAMMA_SETTINGS",
    "INIT_LABELS",
    "NOT",
    "NO_DATA",
    "PARTLY",
    "PHASE_MODELS",
    "RANK_MODELS",
    "REPRODUCED",
    "TRANSFER_MODELS",
    "ClaimCheck",
    "check_bend",
    "check_claims",
    "check_edge_levels",
    "check_init_paper",
    "check_loraplus",
    "check_stability_edge",
    "claims_table",
    "definitions_table",
    "describe",
    "empirical_gamma",
    "exponent_table",
    "figure2_optimum",
    "figures_dir",
    "gamma_summary",
    "horizon_table",
    "level_table",
    "make_figures",
    "optimum_edge_table",
    "phase_diagrams",
    "plot_feature_norms",
    "plot_loss_curves",
    "plot_optimal_rates",
    "plot_optimum_vs_horizon",
    "plot_rank_scaling",
    "plot_rate_heatmaps",
    "plot_running_exponents",
    "plot_stability_edge",
    "preset",
    "project_root",
    "provenance",
    "quick_mode",
    "rank_figure",
    "rank_results_path",
    "rank_sweep",
    "rank_table",
    "results_dir",
    "running_table",
    "save_figure",
    "sweep",
    "transfer_figure",
    "transfer_results_path",
    "transfer_sweep",
    "transfer_table",
    "wide_preset",
]
