"""JAX toy models that check the LoRA width-scaling theory empirically."""

__version__ = "0.1.0"
