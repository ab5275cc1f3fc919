"""The teacher-student model's frozen features drawn through the Gram matrix of the data.

The hot path of Init eq. 4 needs, per seed and width, only ``z = φ(Y_in)`` and
``H = Y_in + z W_hᵀ`` over the N train and test points (:class:`~toymodels.core._models.
LayerFeatures`): ``W_h`` itself is never used again. Drawing ``W_h`` (n² normals, 16 GiB at
n = 2^16) and forming ``z W_hᵀ`` (O(N·n²)) is what limits the width.

Given z, the entries of W_h ~ N(0, 1/n) are independent of it, so each column j of ``z W_hᵀ``
(one hidden unit over the N points) is Gaussian with mean 0 and covariance

    K = z zᵀ / n        (N × N, the same for every j),

and the columns are independent. Hence ``z W_hᵀ`` has exactly the law of ``L E`` with
``L Lᵀ = K`` and E an N × n matrix of independent standard normals: the same joint law of
(z, H) over all N points, at O(N²·n + N³) instead of O(N·n²) work and O(N·n) memory. This is a
different random stream from :func:`~toymodels.core._models.init_student`'s (the draw of a seed
is not the same matrix), so a sweep chooses its draw once (``TrainConfig.feature_draw``) and
stores it with its configuration. W_in and W_out are drawn from the same keys as the weight draw.

``L`` is taken from the eigendecomposition ``K = U Λ Uᵀ`` (``L = U Λ₊^½``): K is only positive
semidefinite (rank min(N, n)), where a Cholesky factor can fail.

Example: the covariance of ``H − Y_in`` over the hidden units is K (up to sampling error).

>>> x = jax.random.normal(jax.random.PRNGKey(0), (3, 5))
>>> key, width = jax.random.PRNGKey(1), 4096
>>> f = gram_features(key, x, width=width)
>>> G = f.H - x @ init_student(key, width=width, input_dim=5, hidden=False).W_in.T
>>> K = f.z @ f.z.T / width
>>> bool(jnp.allclose(G @ G.T / width, K, atol=0.05 * float(K.max())))
True
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from toymodels.core._models import LayerFeatures, init_student, phi

#: The two ways of drawing the frozen hidden layer (``TrainConfig.feature_draw``).
FEATURE_DRAWS = ("weights", "gram")


def gram_factor(z: jax.Array) -> jax.Array:
    """``L`` ``[N, N]`` with ``L Lᵀ = z zᵀ / n`` (eigendecomposition, negative rounding clipped).

    >>> z = jnp.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    >>> L = gram_factor(z)
    >>> bool(jnp.allclose(L @ L.T, z @ z.T / 2, atol=1e-5))
    True
    """
    K = z @ z.T / z.shape[1]
    eigenvalues, U = jnp.linalg.eigh(K)
    return U * jnp.sqrt(jnp.clip(eigenvalues, 0.0))[None, :]


@partial(jax.jit, static_argnames=("width",))
def gram_features(key, x: jax.Array, *, width: int) -> LayerFeatures:
    """The features of Init eq. 4 at ``width`` for the points ``x`` ``[N, d]``, one seed's ``key``
    (the key :func:`~toymodels.core._models.init_student` takes), W_h drawn through K.

    All N points must be passed at once: their H are jointly Gaussian.
    """
    frozen = init_student(key, width=width, input_dim=x.shape[1], hidden=False)
    _, k_h, _ = jax.random.split(key, 3)  # init_student's key of W_h, here the key of E
    Y_in = x @ frozen.W_in.T
    z = phi(Y_in)
    E = jax.random.normal(k_h, (x.shape[0], width), dtype=jnp.float32)
    return LayerFeatures(z=z, H=Y_in + gram_factor(z) @ E, W_out=frozen.W_out)
