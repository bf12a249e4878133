"""Optimizers: the updates they apply, the norms they report, and the scaled-gradient
fast path that the training loop uses for SGD and momentum."""

import numpy as np
import pytest

from mnist_np.optimizers import SGD, Momentum, norm


@pytest.mark.parametrize("cls", [SGD, Momentum])
def test_scaled_gradients_give_the_same_update(cls):
    rng = np.random.default_rng(2)
    params = [rng.normal(size=(5, 4)), rng.normal(size=4)]
    grads = [rng.normal(size=(5, 4)), rng.normal(size=4)]
    a, b = cls(lr=0.05), cls(lr=0.05)
    pa, pb = [p.copy() for p in params], [p.copy() for p in params]
    for _ in range(3):  # momentum carries state from step to step
        norms_a = a.step(pa, [g.copy() for g in grads])
        scaled = [0.05 * g for g in grads]
        norms_b = b.step(pb, scaled, scaled=True, grad_norms=[norm(g) for g in scaled])
        np.testing.assert_allclose(norms_a, norms_b, rtol=1e-12)
        for x, y in zip(pa, pb):
            np.testing.assert_allclose(x, y, rtol=1e-12)
