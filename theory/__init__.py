"""Exact γ-exponent calculus for the width-scaling theory of LoRA (pure Python, no JAX).

Exponents are exact (``fractions.Fraction`` or ``NEG_INF``); expressions in the rate exponents are
tropical polynomials (``Expr``); conditions on them are exact regions (``Region``); the papers'
recursions are ``Recursion`` objects, unrolled with a derivation trace. A model is a value
(``Model``), stated as data in Python (``model_from_spec``) or in a TOML file (``load_model``);
the built-in ones are spec files too, and every entry point takes a model or a built-in name.

>>> from theory import predict, predicted_rate_exponent
>>> predict("adam", "A", eta_A=-1, eta_B=0).conditions["efficient"]
True
>>> predicted_rate_exponent("adam", "Init[B]")
Fraction(-1, 1)
"""

from theory._closed import ClosedForm
from theory._conditions import Condition
from theory._exponent import (
    GROWING,
    NEG_INF,
    Exponent,
    ExponentError,
    NegInf,
    format_exponent,
    parse_exponent,
)
from theory._expr import Expr, Term
from theory._measured import (
    MeasuredExponent,
    MeasuredExponentError,
    exponent_file_json,
    read_exponent_file,
)
from theory._models import (
    CONDITIONS,
    INITS,
    MODELS,
    MULTIPLIER_PARAMETER,
    RANK_PARAMETER,
    canonical_init,
    canonical_model,
    resolve_model,
)
from theory._parse import parse_expr
from theory._predict import (
    Derivation,
    Prediction,
    derive,
    predict,
    predicted_rate_exponent,
    region,
)
from theory._rank import max_stable_rate_exponent, rate_exponent_table
from theory._recursion import Recursion, Step, TraceLine
from theory._region import Constraint, Polyhedron, Region, compare
from theory._report import headline_report
from theory._spec import (
    EXAMPLE_DIR,
    MODEL_DIR,
    Model,
    Parameter,
    SpecError,
    bind_parameters,
    load_model,
    model_from_spec,
)
from theory._steady import GROWTH_KINDS, Steady
from theory._transfer import RULES as TRANSFER_RULES
from theory._transfer import ScalingExponent, Transfer, TransferError, transfer

__version__ = "0.1.0"

__all__ = [
    "CONDITIONS",
    "EXAMPLE_DIR",
    "GROWING",
    "GROWTH_KINDS",
    "INITS",
    "MODELS",
    "MODEL_DIR",
    "MULTIPLIER_PARAMETER",
    "NEG_INF",
    "RANK_PARAMETER",
    "TRANSFER_RULES",
    "ClosedForm",
    "Condition",
    "Constraint",
    "Derivation",
    "Exponent",
    "ExponentError",
    "Expr",
    "MeasuredExponent",
    "MeasuredExponentError",
    "Model",
    "NegInf",
    "Parameter",
    "Polyhedron",
    "Prediction",
    "Recursion",
    "Region",
    "ScalingExponent",
    "SpecError",
    "Steady",
    "Step",
    "Term",
    "TraceLine",
    "Transfer",
    "TransferError",
    "bind_parameters",
    "canonical_init",
    "canonical_model",
    "compare",
    "derive",
    "exponent_file_json",
    "format_exponent",
    "headline_report",
    "load_model",
    "max_stable_rate_exponent",
    "model_from_spec",
    "parse_exponent",
    "parse_expr",
    "predict",
    "predicted_rate_exponent",
    "rate_exponent_table",
    "read_exponent_file",
    "region",
    "resolve_model",
    "transfer",
]
