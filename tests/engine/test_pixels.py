"""Backpropagation to the pixels: the input gradient against finite differences for every
activation, output pair and depth; saliency, FGSM and the iterative attack on a known
digit; the class-maximising inputs."""

import numpy as np
import pytest

from mnist_np import MLP
from mnist_np.activations import ACTIVATIONS
from mnist_np.gradcheck import float64_copy
from mnist_np.losses import OUTPUT_LOSSES
from mnist_np.pixels import (
    EPSILONS,
    FGSM,
    ITERATIVE,
    NOT_FINITE,
    attack,
    blur,
    dream,
    input_gradient,
    saliency,
)


def _per_sample_loss(net: MLP, x: np.ndarray, label: int) -> float:
    Y = np.eye(net.layer_sizes[-1])[[label]]
    return net.data_loss(net.forward(x[None, :]), Y)


def _finite_differences(net: MLP, x: np.ndarray, label: int, h: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in range(len(x)):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (_per_sample_loss(net, up, label) - _per_sample_loss(net, down, label)) / (2 * h)
    return grad


@pytest.mark.parametrize("hidden", [[], [7], [9, 6]])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("pair", sorted(OUTPUT_LOSSES))
def test_input_gradient_matches_finite_differences(hidden, activation, pair):
    """Every row's own ∂L/∂x (not the batch mean's), with L2 on (it must drop out)."""
    output, loss = pair
    net = MLP([16, *hidden, 4], activation=activation, output=output, loss=loss,
              init="xavier", l2=0.1, seed=2, dtype="float64")
    rng = np.random.default_rng(5)
    X = rng.random((3, 16))
    labels = np.array([0, 3, 1])
    grad, proba = input_gradient(net, X, labels)
    assert grad.shape == X.shape and proba.shape == (3, 4)
    np.testing.assert_allclose(proba, net.forward(X).output)
    for i in range(3):
        numeric = _finite_differences(net, X[i], int(labels[i]))
        assert np.abs(numeric).max() > 1e-4  # a real gradient, not zeros on both sides
        np.testing.assert_allclose(grad[i], numeric, rtol=1e-5, atol=1e-8)


def test_input_gradient_is_wrong_when_the_backward_pass_is():
    """The finite-difference comparison can fail: with W_1 doubled only in the backward
    step, the gradient no longer matches."""
    net = MLP([16, 8, 4], activation="tanh", seed=1, dtype="float64")
    x = np.random.default_rng(0).random(16)
    grad, _ = input_gradient(net, x, 2)
    numeric = _finite_differences(net, x, 2)
    np.testing.assert_allclose(grad[0], numeric, rtol=1e-5, atol=1e-8)
    net.weights[0] *= 2
    doubled, _ = input_gradient(net, x, 2)
    assert not np.allclose(doubled[0], numeric, rtol=1e-3)


def test_input_gradient_leaves_the_input_and_network_alone():
    net = MLP([16, 8, 4], seed=0)
    X = np.random.default_rng(0).random((2, 16)).astype(np.float32)
    X0, W0 = X.copy(), net.weights[0].copy()
    input_gradient(net, X, [1, 2])
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(net.weights[0], W0)


def test_bad_inputs_and_classes_are_refused_in_one_line():
    net = MLP([16, 4], seed=0)
    with pytest.raises(ValueError, match="rows of 16 pixels"):
        input_gradient(net, np.zeros((2, 15)), 0)
    with pytest.raises(ValueError, match="between 0 and 3"):
        input_gradient(net, np.zeros((1, 16)), 4)
    with pytest.raises(ValueError, match="unknown attack"):
        attack(net, np.zeros(16), "pgd")
    with pytest.raises(ValueError, match="positive"):
        attack(net, np.zeros(16), epsilons=[0.1, -0.1])
    with pytest.raises(ValueError, match="at least 1 step"):
        attack(net, np.zeros(16), ITERATIVE, steps=0)
    with pytest.raises(ValueError, match="rate"):
        dream(net, rate=float("nan"))


def test_a_diverged_network_is_said_in_words():
    net = MLP([16, 8, 4], seed=0)
    net.weights[0][:] = np.nan
    x = np.zeros(16)
    for call in (lambda: saliency(net, x), lambda: attack(net, x), lambda: dream(net)):
        with pytest.raises(ValueError, match="not finite"):
            call()
    assert "diverged" in NOT_FINITE


def test_saliency_is_the_gradient_of_log_p_for_softmax(trained, sample):
    """For softmax + cross-entropy, -∂L/∂x with label c is ∂ log p_c/∂x: a small step
    along it raises p_c by about the squared norm times the step."""
    x = sample.X_test[0].astype(np.float64)
    s = saliency(trained, x)
    assert s.target == s.answer == int(np.argmax(trained.forward(x[None]).output[0]))
    step = 1e-3 * s.gradient / np.linalg.norm(s.gradient)
    log_p = np.log(trained.forward((x + step)[None].astype(np.float32)).output[0, s.target])
    rise = log_p - np.log(s.proba[s.target])
    assert rise == pytest.approx(1e-3 * np.linalg.norm(s.gradient), rel=0.05)
    other = saliency(trained, x, target=(s.target + 1) % 10)
    assert other.target != s.target and not np.allclose(other.gradient, s.gradient)


def test_fgsm_flips_a_known_digit_at_a_stated_epsilon(trained, sample):
    """The sample's test digit 1 is a 1, read right; FGSM at ε = 0.1 makes the network
    read something else, at ε = 0.05 it does not."""
    x, label = sample.X_test[1], int(sample.y_test[1])
    assert label == 1 and trained.predict(x[None])[0] == 1
    flips = attack(trained, x, FGSM, epsilons=[0.1])
    assert flips.succeeded and flips.epsilon == 0.1
    assert trained.predict(flips.x_adv[None])[0] != 1 == flips.answer_before
    assert flips.answer_after == trained.predict(flips.x_adv[None])[0]
    change = flips.change
    assert np.abs(change).max() <= 0.1 + 1e-6
    moved = np.abs(change) > 1e-6  # each pixel moved by exactly ε, unless clipped at 0 or 1
    np.testing.assert_allclose(np.abs(change[moved & (flips.x_adv > 0) & (flips.x_adv < 1)]),
                               0.1, atol=1e-6)
    np.testing.assert_array_equal(flips.x, x)
    assert not attack(trained, x, FGSM, epsilons=[0.05]).succeeded


def test_the_smallest_epsilon_is_the_first_that_flips(trained, sample):
    x = sample.X_test[1]
    found = attack(trained, x, FGSM)
    assert found.succeeded and 0.05 < found.epsilon <= 0.1
    i = int(np.searchsorted(EPSILONS, found.epsilon))
    assert found.flipped[i] and not found.flipped[:i].any()
    # the iterative attack needs no more than FGSM's ε, and stays within its own
    it = attack(trained, x, ITERATIVE, epsilons=EPSILONS[:40])
    assert it.succeeded and it.epsilon <= found.epsilon and it.steps == 20
    assert np.abs(it.change).max() <= it.epsilon + 1e-6
    assert 0 <= it.x_adv.min() and it.x_adv.max() <= 1
    assert it.answer_after != it.answer_before


def test_a_targeted_attack_reaches_its_target_or_says_it_did_not(trained, sample):
    x = sample.X_test[1]
    to_seven = attack(trained, x, ITERATIVE, target=7)
    assert to_seven.succeeded and to_seven.answer_after == 7 and to_seven.target == 7
    tiny = attack(trained, x, FGSM, target=7, epsilons=[0.001])
    assert not tiny.succeeded and tiny.epsilon is None
    already = attack(trained, x, FGSM, target=1)
    assert not already.succeeded  # it is the answer already: nothing to reach


def test_dream_raises_each_class_from_a_faint_grey_image(trained):
    grey = trained.forward(np.full((1, 784), 0.1, np.float32)).output[0]
    d = dream(trained)
    assert d.X.shape == (10, 784) and d.proba.shape == (10, 10)
    assert 0 <= d.X.min() and d.X.max() <= 1 and d.X.max() > 0.5
    assert np.all(d.proba.argmax(axis=1) == np.arange(10))
    assert np.all(d.confidence > 0.9) and np.all(d.confidence > grey)
    # the L2 term keeps ink away: a stronger one leaves less of it
    assert dream(trained, classes=[3], l2=0.5).X.sum() < d.X[3].sum()
    # each class's row is its own ascent: alone or among all ten, the same image (in
    # float64: float32 sums differ with the batch's size, and 80 steps amplify that)
    wide = float64_copy(trained)
    np.testing.assert_allclose(dream(wide, classes=[3]).X[0], dream(wide).X[3], atol=1e-8)
    assert np.all(dream(trained, steps=0).X == np.float32(0.1))


def test_dream_gets_going_on_a_fresh_relu_network():
    """From a blank image every hidden unit of a fresh ReLU network is exactly 0: no
    gradient, nothing moves. The faint grey start gives them something to respond to."""
    fresh = MLP([784, 64, 10], seed=0)
    stuck = dream(fresh, classes=[0, 1], start=0.0)
    assert stuck.X.max() == 0 and np.allclose(stuck.confidence, 0.1, atol=0.01)
    moving = dream(fresh, classes=[0, 1])
    assert np.all(moving.confidence > 0.3) and moving.X.std() > 0.01


def test_blur_spreads_a_point_and_keeps_its_mass_inside():
    X = np.zeros((1, 49))
    X[0, 24] = 1.0  # the middle of a 7×7 image
    out = blur(X, 1.0)
    assert out.sum() == pytest.approx(1.0) and out[0, 24] == out.max() < 1
    image = out.reshape(7, 7)
    np.testing.assert_allclose(image, image.T)
    np.testing.assert_allclose(image, image[::-1])
    np.testing.assert_array_equal(blur(X, 0), X)


def test_the_iterative_attack_is_the_plain_loop_stopping_at_the_first_change(trained, sample):
    """Each ε's row follows ε·2.5/20 steps of the gradient's sign, projected within ε and
    into [0, 1], and stops at the first iterate the network reads differently: the
    same as a plain loop on that ε alone."""
    x = sample.X_test[1]
    answer = int(trained.predict(x[None])[0])
    epsilons = np.array([0.02, 0.07, 0.3])
    found = attack(trained, x, ITERATIVE, epsilons=epsilons)
    for eps in epsilons:
        xk, steps = x.copy(), 0
        while steps < 20 and trained.predict(xk[None])[0] == answer:
            grad, _ = input_gradient(trained, xk, answer)
            xk = np.clip(xk + np.float32(eps * 2.5 / 20) * np.sign(grad[0]),
                         np.clip(x - np.float32(eps), 0, 1), np.clip(x + np.float32(eps), 0, 1))
            steps += 1
        alone = attack(trained, x, ITERATIVE, epsilons=[eps])
        np.testing.assert_allclose(alone.x_adv, xk, atol=1e-6)
        assert alone.succeeded == (trained.predict(xk[None])[0] != answer)
        if eps == 0.3:
            assert steps < 20  # a large ε works within a few steps, and stops there
    assert list(found.flipped) == [False, True, True]
