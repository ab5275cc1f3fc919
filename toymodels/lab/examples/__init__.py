"""What a user of the width check writes: small LoRA models and the transformer testbed.

``mlp`` (one LoRA MLP as Flax NNX, Equinox and a plain pytree), ``transformer`` (the
teacher–student testbed: ``toymodels.lab.examples.transformer:factory``), and the testbed's
measurements (``transformer_study``, ``transformer_edge``).
"""
