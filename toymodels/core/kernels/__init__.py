"""The training hot path: the fused LoRA layer and its CPU kernel (README.md in this folder).

numba (the optional extra ``[cpu-kernel]``) is imported on the first kernel call, not here.
"""

from toymodels.core.kernels._fastpath import HOST_KERNEL_ENV, RANK, host_kernel_usable, lora_layer

__all__ = ["HOST_KERNEL_ENV", "RANK", "host_kernel_usable", "lora_layer"]
