"""Optimizers: the updates they apply, the norms they report, and the scaled-gradient
fast path that the training loop uses for SGD and momentum."""

import numpy as np
import pytest

from mnist_np.optimizers import (
    OPTIMIZERS,
    SGD,
    Adam,
    Momentum,
    flush_floor,
    flush_period,
    flush_tiny,
    make_optimizer,
    norm,
)


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


def test_sgd_steps_against_the_gradient_and_reports_the_update_norm():
    p, g = np.array([1.0, 2.0]), np.array([3.0, -4.0])
    norms = SGD(lr=0.1).step([p], [g.copy()])
    np.testing.assert_allclose(p, [0.7, 2.4])
    assert norms == pytest.approx([0.5])  # |0.1 * (3, -4)|


def test_momentum_accumulates_velocity():
    p, g = np.zeros(1), np.ones(1)
    opt = Momentum(lr=0.1, mu=0.5)
    opt.step([p], [g.copy()])   # v = -0.1
    norms = opt.step([p], [g.copy()])  # v = 0.5 * -0.1 - 0.1 = -0.15
    np.testing.assert_allclose(p, [-0.25])
    assert norms == pytest.approx([0.15])


def test_adam_first_step_is_lr_in_the_direction_of_minus_the_gradient_sign():
    p = np.zeros(3)
    g = np.array([1e-3, -5.0, 200.0])  # Adam's step size does not depend on the scale
    Adam(lr=0.01).step([p], [g.copy()])
    np.testing.assert_allclose(p, [-0.01, 0.01, -0.01], rtol=1e-4)
    with pytest.raises(ValueError, match="gradients themselves"):
        Adam().step([p], [g.copy()], scaled=True)


def test_make_optimizer_gives_each_registered_optimizer_its_learning_rate():
    for name, cls in OPTIMIZERS.items():
        opt = make_optimizer(name, 0.25)
        assert type(opt) is cls and opt.lr == 0.25


def test_norm_is_the_frobenius_norm():
    x = np.arange(12.0).reshape(3, 4) - 5
    assert norm(x) == pytest.approx(np.linalg.norm(x))


def test_make_optimizer_passes_each_optimizer_its_own_hyperparameters():
    hyper = {"momentum": 0.5, "beta1": 0.8, "beta2": 0.95, "eps": 1e-4}
    assert make_optimizer("momentum", 0.1, **hyper).mu == 0.5
    adam = make_optimizer("adam", 0.1, **hyper)
    assert (adam.beta1, adam.beta2, adam.eps) == (0.8, 0.95, 1e-4)
    assert make_optimizer("sgd", 0.1, **hyper).lr == 0.1  # takes none of them


def test_momentum_is_the_classic_form_where_a_new_lr_scales_only_new_gradients():
    """v ← μv − ηg, w ← w + v: halving η after one step halves only what the second
    gradient adds (PyTorch's v ← μv + g, w ← w − ηv would halve the whole velocity)."""
    p, g = np.zeros(1), np.ones(1)
    opt = Momentum(lr=0.2, mu=0.9)
    opt.step([p], [g.copy()])  # v = -0.2
    opt.lr = 0.1
    opt.step([p], [g.copy()])  # v = 0.9 * -0.2 - 0.1 = -0.28; PyTorch: -0.1 * 1.9 = -0.19
    np.testing.assert_allclose(p, [-0.48])


def test_adam_betas_and_eps_change_its_steps():
    g = np.array([1e-3, -5.0])
    p1, p2 = np.zeros(2), np.zeros(2)
    Adam(lr=0.01).step([p1], [g.copy()])
    Adam(lr=0.01, eps=1.0).step([p2], [g.copy()])  # a large eps damps the small gradient
    assert abs(p2[0]) < 0.01 * abs(p1[0]) and abs(p2[1]) > 0.8 * abs(p1[1])
    ends = []
    for betas in ({}, {"beta1": 0.5, "beta2": 0.5}):
        p, a = np.zeros(2), Adam(lr=0.01, **betas)
        a.step([p], [g.copy()])
        a.step([p], [-g])  # the second step: how much of the first gradient is remembered
        ends.append(p)
    assert ends[1][0] - ends[0][0] > 0.002  # a short memory turns back sooner (-0.0067, -0.0095)


# -- subnormal numbers: flush ------------------------------------------------------------
def _subnormal(arrays) -> int:
    tiny = np.finfo(np.float32).tiny
    return sum(int(((a != 0) & (np.abs(a) < tiny)).sum()) for a in arrays)


def _train_with_blank_inputs(opt, steps: int, flush: bool):
    """Weights whose gradient is 0 after the first step (a pixel blank from then on):
    their velocity (momentum) or first moment (Adam) only decays."""
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(6, 5)).astype(np.float32), np.zeros(5, np.float32)]
    for step in range(1, steps + 1):
        grads = [rng.normal(size=(6, 5)).astype(np.float32) * 1e-3,
                 rng.normal(size=5).astype(np.float32) * 1e-3]
        if step > 1:
            grads[0][:3] = 0  # the first three rows see only blank pixels
        opt.step(params, grads, measure=False)
        if flush:
            opt.flush(step)
    return params


@pytest.mark.parametrize("make, state", [(lambda: Momentum(lr=0.1, mu=0.9), "velocity"),
                                         (lambda: Adam(lr=1e-3), "m")])
def test_flush_keeps_decaying_state_out_of_the_subnormals_and_the_weights_the_same(make,
                                                                                    state):
    kept, flushed = make(), make()
    p_kept = _train_with_blank_inputs(kept, 1200, flush=False)
    p_flushed = _train_with_blank_inputs(flushed, 1200, flush=True)
    assert _subnormal(getattr(kept, state)) > 0  # what the flush is for
    assert _subnormal(getattr(flushed, state)) == 0
    for a, b in zip(p_kept, p_flushed):
        np.testing.assert_array_equal(a, b)  # bitwise: the flushed values moved nothing


def test_flush_period_stops_an_entry_at_the_floor_short_of_the_subnormals():
    for mu in (0.5, 0.9, 0.99):
        for dtype in (np.float32, np.float64):
            period = flush_period(mu, dtype)
            assert flush_floor(dtype) * mu ** period >= np.finfo(dtype).tiny
            assert flush_floor(dtype) * mu ** (period + 2) < np.finfo(dtype).tiny
    assert flush_period(0.0, np.float32) == 0 and flush_period(1.0, np.float32) == 0


def test_flush_tiny_zeroes_only_what_is_below_the_floor():
    floor = flush_floor(np.float32)
    a = np.array([floor / 2, -floor / 2, floor * 2, -1.0, 1e-40, 0.0], np.float32)
    flush_tiny([a])
    np.testing.assert_array_equal(a, np.array([0, 0, floor * 2, -1.0, 0, 0], np.float32))


def test_momentum_flushes_on_the_steps_its_period_names():
    opt = Momentum(lr=0.1, mu=0.9)
    opt.step([np.zeros(2, np.float32)], [np.ones(2, np.float32)])
    opt.velocity[0][:] = 1e-33  # below the floor
    period = flush_period(0.9, np.float32)
    opt.flush(period - 1)
    assert opt.velocity[0][0] != 0
    opt.flush(2 * period)
    assert not opt.velocity[0].any()
    SGD().flush(period)  # keeps nothing: nothing to flush
