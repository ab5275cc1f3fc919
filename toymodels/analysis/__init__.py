"""The analysis wing: what a finished sweep says. Exponents of the optimal rate η*(n) and of the
stability edge (per seed, bootstrap intervals), the edge over a set of levels, the loss optimum at
every horizon, running exponents between neighbouring widths, per-seed optima, rank analysis and the
printed summaries. It reads stores written by the sweeps wing and never trains. Imports ``core`` and
``sweeps`` (docs/architecture.md).
"""

from toymodels import _lazy

#: Each public name and the module that defines it, imported on first use (PEP 562).
_EXPORTS = {
    "LOSS_FRACTION": "toymodels.analysis._edge",
    "edge_table": "toymodels.analysis._edge",
    "exponents": "toymodels.analysis._edge",
    "loss_edge": "toymodels.analysis._edge",
    "summarize_edge": "toymodels.analysis._edge",
    "seed_optima": "toymodels.analysis._seed_optima",
    "fit_rate_exponent": "toymodels.analysis._summary",
    "render": "toymodels.analysis._summary",
    "summarize": "toymodels.analysis._summary",
    "summarize_rank": "toymodels.analysis._rank",
}


__getattr__, __dir__ = _lazy.exports(__name__, _EXPORTS)


__all__ = sorted(_EXPORTS)
