"""Exact γ-exponent calculus for the width-scaling theory of LoRA (pure Python, no JAX)."""

__version__ = "0.1.0"
