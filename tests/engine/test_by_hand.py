"""mnist_np.by_hand: 7×7 pooling, the 49-4-10 network, and one digit's trace taken apart
into pieces that add up to the engine's own numbers, bit for bit."""

import numpy as np
import pytest

from mnist_np import Trainer
from mnist_np.by_hand import N_POOLED, hand_trace, pool, tiny_network, tiny_training
from mnist_np.stepthrough import sgd_step


def test_pool_averages_4x4_blocks_and_keeps_float32():
    X = np.arange(2 * 784, dtype=np.float32).reshape(2, 784) / 2000
    P = pool(X)
    assert P.shape == (2, 49) and P.dtype == np.float32
    image = X[1].reshape(28, 28)
    assert P[1, 0] == pytest.approx(image[:4, :4].mean(), rel=1e-6)
    assert P[1, 7 * 6 + 3] == pytest.approx(image[24:28, 12:16].mean(), rel=1e-6)  # (6, 3)
    assert pool(np.ones((3, 784), np.uint8)).dtype == np.float32
    assert pool(np.zeros((0, 784), np.float32)).shape == (0, 49)
    with pytest.raises(ValueError, match="square image"):
        pool(np.zeros((1, 780)))
    with pytest.raises(ValueError, match="shape"):
        pool(np.zeros(784))


def test_the_tiny_network_and_its_training():
    net = tiny_network(seed=3)
    assert net.layer_sizes == [N_POOLED, 4, 10] and net.n_params == 250
    assert (net.activation, net.output_name, net.loss_name) == ("relu", "softmax",
                                                                 "cross_entropy")
    config = tiny_training(seed=3)
    assert (config.optimizer, config.seed, config.epochs) == ("sgd", 3, 10)


@pytest.fixture(scope="module")
def pooled(sample):
    return pool(sample.X_train), sample.y_train


def _checked_trace(net, x, label, lr=0.5):
    ht = hand_trace(net, x, label, lr, index=7)
    t = ht.trace
    for l in range(2):
        a, W, b = t.activations[l], net.weights[l], net.biases[l]
        np.testing.assert_array_equal(ht.products[l], a[:, None] * W)
        # z = Σ_i a[i] W[i, j] + b[j]: the engine's z exactly, the sum to float rounding
        np.testing.assert_array_equal(ht.sums[l] + b, t.zs[l])
        np.testing.assert_allclose(ht.products[l].astype(np.float64).sum(axis=0), ht.sums[l],
                                   rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.maximum(t.zs[0], 0), t.activations[1])
    np.testing.assert_array_equal(ht.shifted, t.zs[1] - t.zs[1].max())
    np.testing.assert_array_equal(np.exp(ht.shifted), ht.exps)
    np.testing.assert_array_equal(ht.exps / np.float32(ht.exp_sum), t.output)
    assert t.loss == pytest.approx(np.log(ht.exp_sum) - ht.shifted[label], rel=1e-6)
    np.testing.assert_array_equal(t.output - t.target, t.deltas[1])  # δ_2 = a_2 - y
    np.testing.assert_array_equal(ht.back_products[0], net.weights[1] * t.deltas[1])
    np.testing.assert_array_equal(ht.slopes[0], (t.zs[0] > 0).astype(np.float32))
    np.testing.assert_array_equal(ht.back_sums[0] * ht.slopes[0], t.deltas[0])
    np.testing.assert_allclose(ht.back_products[0].astype(np.float64).sum(axis=1),
                               ht.back_sums[0], rtol=1e-5, atol=1e-9)
    for l in range(2):  # ∂L/∂W_l[i, j] = a_{l-1}[i] · δ_l[j], one product each
        np.testing.assert_array_equal(t.activations[l][:, None] * t.deltas[l][None, :],
                                      t.dWs[l])
        np.testing.assert_array_equal(t.dbs[l], t.deltas[l])
    after = net.copy()
    sgd_step(after, x, label, lr)  # the update the page's button applies
    for l in range(2):
        np.testing.assert_array_equal(ht.new_weights[l], after.weights[l])
        np.testing.assert_array_equal(ht.new_biases[l], after.biases[l])
        np.testing.assert_array_equal(ht.weights[l], net.weights[l])  # copies, untouched
    assert ht.index == 7 and ht.lr == 0.5
    return ht


def test_the_pieces_add_up_to_the_engines_numbers(pooled):
    X, y = pooled
    net = tiny_network()
    for i in range(5):
        _checked_trace(net, X[i], int(y[i]))


def test_it_trains_like_any_network_and_the_trace_still_adds_up(pooled, sample):
    X, y = pooled
    net = tiny_network()
    X_test, y_test = pool(sample.X_test), sample.y_test
    before = net.accuracy(X_test, y_test)
    config = tiny_training()
    config.epochs = 2
    trainer = Trainer(net, X, y, config)
    for _ in trainer.run():
        pass
    accuracy = net.accuracy(X_test, y_test)
    # 200 steps on the 3,200 training digits of the sample: about 30% (10 epochs: ~65%)
    assert trainer.completed_epochs == 2 and accuracy > max(0.2, before + 0.1)
    ht = _checked_trace(net, X[0], int(y[0]))
    assert (ht.slopes[0] == 0).any() or (ht.slopes[0] == 1).all()


def test_a_non_softmax_network_is_refused():
    from mnist_np import MLP
    net = MLP([49, 4, 10], output="sigmoid", loss="mse")
    with pytest.raises(ValueError, match="softmax"):
        hand_trace(net, np.zeros(49), 0, 0.1)


@pytest.mark.slow
def test_on_full_mnist_10_epochs_reach_about_80_percent(mnist):
    net = tiny_network()
    trainer = Trainer(net, pool(mnist.X_train), mnist.y_train, tiny_training())
    for _ in trainer.run():
        pass
    accuracy = net.accuracy(pool(mnist.X_test), mnist.y_test)
    print(f"49-4-10 after {trainer.completed_epochs} epochs: test accuracy {accuracy:.4f}")
    assert accuracy > 0.78
