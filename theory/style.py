"""The project's plotting palette: one colour per initialization, in every figure.

Okabe-Ito colours (safe for the common forms of colour blindness). ``theory`` owns the palette
because its phase diagrams are the first figures; ``toymodels`` imports it (never the reverse).

>>> INIT_COLORS["A"], INIT_COLORS["B"]
('#0072B2', '#D55E00')
"""

from __future__ import annotations

from types import MappingProxyType

#: Init[A] blue, Init[B] vermillion, both-random (LoRA+ toy) bluish green.
INIT_COLORS = MappingProxyType({"A": "#0072B2", "B": "#D55E00", "AB": "#009E73"})

#: Further Okabe-Ito colours for regimes, reference lines and highlights.
OKABE_ITO = (
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
)

#: Line styles for the two reference slopes of the optimal-rate figure.
REFERENCE_STYLES = MappingProxyType({"-1": ":", "-1/2": "--"})

#: Regimes of the phase diagrams (``lora-gamma phase``).
REGIME_COLORS = MappingProxyType(
    {
        "growing": "#CC79A7",
        "unstable": "#E69F00",
        "internal": "#F0E442",
        "stable": "#56B4E9",
        "feature_learning": "#009E73",
        "feature_learning_aligned": "#0072B2",
        "efficient": "#000000",
    }
)
