"""Backpropagation for one digit: every intermediate number, checked against the seed's
equations, and the single gradient-descent step it suggests."""

import numpy as np
import pytest

from mnist_np import ACTIVATIONS, MLP, OUTPUT_LOSSES
from mnist_np.metrics import next_to_learn_from
from mnist_np.stepthrough import (
    follow_weight,
    largest_gradient,
    next_misread,
    one_hot,
    sgd_step,
    trace,
)


def _batch(n=5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 12))
    y = rng.integers(0, 4, n)
    return X, y, np.eye(4)[y]


def test_trace_matches_the_network_and_the_seed_equations():
    net = MLP([12, 6, 5, 4], activation="sigmoid", output="sigmoid", loss="mse",
              init="uniform", seed=2, dtype="float64")
    X, y, Y = _batch()
    t = trace(net, X[0], y[0])
    assert [a.shape for a in t.activations] == [(12,), (6,), (5,), (4,)]
    assert [z.shape for z in t.zs] == [(6,), (5,), (4,)]
    np.testing.assert_array_equal(t.target, one_hot(y[0], 4))
    # forward: a_l = σ(a_{l-1} W_l + b_l)
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        np.testing.assert_allclose(t.zs[l], t.activations[l] @ W + b)
        np.testing.assert_allclose(t.activations[l + 1], 1 / (1 + np.exp(-t.zs[l])))
    # output delta for MSE with a sigmoid output, then the chain rule backwards
    a_L = t.output
    np.testing.assert_allclose(t.deltas[-1], (a_L - t.target) * a_L * (1 - a_L))
    for l in (2, 1):
        a = t.activations[l]
        np.testing.assert_allclose(t.deltas[l - 1], (t.deltas[l] @ net.weights[l].T) * a * (1 - a))
    for l in range(3):
        np.testing.assert_allclose(t.dWs[l], np.outer(t.activations[l], t.deltas[l]))
        np.testing.assert_allclose(t.dbs[l], t.deltas[l])
    assert t.loss == pytest.approx(net.loss(X[:1], Y[:1]))
    assert t.prediction == int(np.argmax(a_L))
    np.testing.assert_allclose(t.grad_norms, [np.linalg.norm(d) for d in t.dWs])


def test_one_update_step_lowers_this_digits_loss():
    net = MLP([12, 8, 4], seed=0)
    X, y, Y = _batch()
    loss_before = net.loss(X[:1], Y[:1])
    W0 = net.weights[0].copy()
    grad = trace(net, X[0], y[0]).dWs[0]
    before, after = sgd_step(net, X[0], y[0], lr=0.1)
    np.testing.assert_allclose(net.weights[0], W0 - np.float32(0.1) * grad, rtol=1e-6)
    assert net.loss(X[:1], Y[:1]) < loss_before
    assert after[y[0]] > before[y[0]]
    np.testing.assert_allclose(after, net.predict_proba(X[:1])[0])


# -- follow one weight -------------------------------------------------------------------
F32 = float(np.finfo(np.float32).eps)


def _every_weight_of(net):
    for layer, W in enumerate(net.weights, start=1):
        for i, j in np.ndindex(W.shape):
            yield layer, i, j


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("output_loss", list(OUTPUT_LOSSES))
@pytest.mark.parametrize("l2", [0.0, 0.05])
@pytest.mark.parametrize("sizes", [[12, 4], [12, 7, 4], [12, 6, 5, 4]])
def test_the_story_of_every_weight_reproduces_the_engines_numbers(activation, output_loss,
                                                                   l2, sizes):
    output, loss = output_loss
    net = MLP(sizes, activation=activation, output=output, loss=loss, l2=l2,
              seed=len(sizes) + int(100 * l2))
    X, y, _ = _batch(seed=len(sizes))
    t = trace(net, X[0], y[0])
    lr = 0.5
    stepped = net.copy()
    sgd_step(stepped, X[0], y[0], lr)
    for layer, i, j in _every_weight_of(net):
        s = follow_weight(net, t, layer, i, j, lr, top=3)
        engine = float(t.dWs[layer - 1][i, j])
        scale = abs(s.data_grad) + abs(s.l2_grad)
        assert s.grad == pytest.approx(engine, rel=4 * F32, abs=4 * F32 * scale)
        assert s.data_grad == s.a_in * s.delta and s.l2_grad == l2 * s.weight_before
        assert s.a_in == t.activations[layer - 1][i] and s.z == t.zs[layer - 1][j]
        assert s.delta == t.deltas[layer - 1][j]
        assert s.weight_before == net.weights[layer - 1][i, j]
        assert s.weight_after == stepped.weights[layer - 1][i, j]  # exactly: same rounding
        assert s.step == -lr * s.grad
        if s.output:
            assert s.terms == () and s.back_sum is None and s.target == t.target[j]
            error = s.a_out - s.target
            expected = error if s.slope is None else error * s.slope
            assert (s.slope is None) == (loss == "cross_entropy")
        else:
            n_next = net.layer_sizes[layer + 1]
            assert len(s.terms) == min(3, n_next) and s.rest_count == n_next - len(s.terms)
            sizes_shown = [abs(term.product) for term in s.terms]
            assert sizes_shown == sorted(sizes_shown, reverse=True)
            products = net.weights[layer][j].astype(float) * t.deltas[layer].astype(float)
            rest = np.delete(products, [term.k for term in s.terms])
            assert all(sizes_shown[-1] >= abs(p) for p in rest)
            for term in s.terms:
                assert term.weight == net.weights[layer][j, term.k]
                assert term.delta == t.deltas[layer][term.k]
                assert term.product == term.weight * term.delta
            total = sum(term.product for term in s.terms) + s.rest_sum
            assert total == pytest.approx(s.back_sum, rel=1e-12, abs=1e-15)
            assert s.back_sum == pytest.approx(products.sum(), rel=1e-12, abs=1e-15)
            # the engine summed in float32: its error is relative to the terms' sizes
            rounding = 2 * n_next * F32 * abs(s.slope) * np.abs(products).sum()
            assert s.slope * s.back_sum == pytest.approx(s.delta, rel=4 * F32, abs=rounding)
            continue
        assert expected == pytest.approx(s.delta, rel=4 * F32)


def test_the_terms_listed_are_the_largest_and_top_can_show_them_all():
    net = MLP([12, 5, 9], activation="tanh", seed=3)
    X, y, _ = _batch()
    t = trace(net, X[1], y[1])
    products = net.weights[1][2].astype(float) * t.deltas[1].astype(float)
    s = follow_weight(net, t, 1, 0, 2, 0.1, top=4)
    assert [term.k for term in s.terms] == list(np.argsort(-np.abs(products))[:4])
    every = follow_weight(net, t, 1, 0, 2, 0.1, top=50)
    assert len(every.terms) == 9 and every.rest_count == 0 and every.rest_sum == 0
    none = follow_weight(net, t, 1, 0, 2, 0.1, top=0)
    assert none.terms == () and none.rest_count == 9
    assert none.rest_sum == pytest.approx(s.back_sum)


def test_a_softmax_output_delta_is_a_minus_y_and_mse_has_the_sigmoid_slope():
    X, y, _ = _batch()
    ce = MLP([12, 4], seed=1)
    s = follow_weight(ce, trace(ce, X[0], y[0]), 1, 3, int(y[0]), 0.1)
    assert s.slope is None and s.target == 1 and s.delta == pytest.approx(s.a_out - 1)
    mse = MLP([12, 4], output="sigmoid", loss="mse", seed=1)
    s = follow_weight(mse, trace(mse, X[0], y[0]), 1, 3, 0, 0.1)
    assert s.slope == pytest.approx(s.a_out * (1 - s.a_out))


def test_follow_weight_refuses_a_weight_that_is_not_there():
    net = MLP([12, 5, 4])
    X, y, _ = _batch()
    t = trace(net, X[0], y[0])
    for layer, i, j in [(0, 0, 0), (3, 0, 0), (1, 12, 0), (1, 0, 5), (2, -1, 0)]:
        with pytest.raises(ValueError):
            follow_weight(net, t, layer, i, j, 0.1)


def test_a_diverged_network_tells_its_story_in_nan_and_inf():
    net = MLP([12, 5, 4], activation="sigmoid")
    net.weights[0][:] = np.nan
    X, y, _ = _batch()
    t = trace(net, X[0], y[0])
    s = follow_weight(net, t, 1, 0, 0, 0.1)
    assert np.isnan(s.grad) and np.isnan(s.weight_after) and np.isnan(s.delta)
    assert largest_gradient(t, 1) == (0, 0)  # no finite entry


def test_largest_gradient_is_the_largest_finite_entry():
    net = MLP([12, 6, 4], seed=4)
    X, y, _ = _batch()
    t = trace(net, X[2], y[2])
    for layer in (1, 2):
        i, j = largest_gradient(t, layer)
        assert abs(t.dWs[layer - 1][i, j]) == np.abs(t.dWs[layer - 1]).max()
    t.dWs[1][0, 0] = np.inf
    i, j = largest_gradient(t, 2)
    assert (i, j) != (0, 0) and np.isfinite(t.dWs[1][i, j])


def test_next_misread_scans_in_chunks_and_answers_as_next_to_learn_from():
    net = MLP([12, 8, 4], seed=3, dtype="float64")
    X, y, _ = _batch(n=257, seed=4)
    proba = net.predict_proba(X)
    for after in (-5, -1, 0, 3, 100, 255, 256, 400):
        for chunk in (1, 7, 500):
            assert next_misread(net, X, y, after, chunk) == next_to_learn_from(proba, y, after)
    # every row read right: the one least sure of its label, as next_to_learn_from says
    right = proba.argmax(axis=1)
    assert next_misread(net, X, right, 10, 50) == next_to_learn_from(proba, right, 10)
