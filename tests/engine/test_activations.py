"""The activation registry: every entry carries its derivative, which agrees with finite
differences of its function, and its in-place backward step multiplies by that derivative."""

from decimal import Decimal, localcontext

import numpy as np
import pytest

from mnist_np.activations import ACTIVATIONS, LEAKY_SLOPE, activation, sigmoid

# away from ReLU's kink at 0, where the derivative is undefined
Z = np.concatenate([np.linspace(-6, -0.05, 40), np.linspace(0.05, 6, 40)]).reshape(8, 10)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_grad_matches_finite_differences_of_f(name):
    act = ACTIVATIONS[name]
    h = 1e-6
    numeric = (act.f(Z + h) - act.f(Z - h)) / (2 * h)
    a = act.f(Z)
    np.testing.assert_allclose(act.grad(a), numeric, rtol=1e-6, atol=1e-9)
    assert act.grad(a).shape == Z.shape and act.grad(a).dtype == a.dtype


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_backprop_multiplies_delta_by_the_derivative_in_place(name):
    act = ACTIVATIONS[name]
    a = act.f(Z.astype(np.float32))
    delta = np.random.default_rng(0).normal(size=Z.shape).astype(np.float32)
    want = delta * act.grad(a)
    out = act.backprop(delta, a)
    assert out is delta
    np.testing.assert_allclose(out, want, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_f_writes_into_out_and_leaves_its_input_alone_otherwise(name):
    act = ACTIVATIONS[name]
    z = Z.copy()
    a = act.f(z)
    np.testing.assert_array_equal(z, Z)
    act.f(z, out=z)
    np.testing.assert_array_equal(z, a)


def test_sigmoid_never_overflows_and_hits_its_limits():
    z = np.array([-1e4, -710.0, 0.0, 710.0, 1e4])
    a = sigmoid(z)  # filterwarnings = error: an overflow warning would fail here
    np.testing.assert_allclose(a, [0, 0, 0.5, 1, 1], atol=1e-300)


def _exact_sigmoid(z: np.ndarray) -> np.ndarray:
    """σ at each (exactly represented) z, from 50-digit decimal arithmetic, as float64."""
    with localcontext() as context:
        context.prec = 50
        return np.array([float(1 / (1 + (-Decimal(float(x))).exp())) for x in z.ravel()])


@pytest.mark.parametrize("dtype, edge", [(np.float32, 87), (np.float64, 708)])
def test_sigmoid_is_relatively_precise_in_both_tails(dtype, edge):
    # every z whose σ is a normal number of the dtype, and a fine grid where σ bends;
    # the former (1 + tanh(z/2)) / 2 was off by 1e8 ulps in float32 and gave exactly 0
    # (all precision lost) at z = -708 in float64
    z = np.concatenate([np.linspace(-edge, edge, 2001), np.linspace(-20, 20, 2001)])
    z = z.astype(dtype).reshape(2, -1)
    a = sigmoid(z)
    assert a.dtype == dtype and a.shape == z.shape
    exact = _exact_sigmoid(z)
    ulps = np.abs(a.ravel().astype(np.float64) - exact) / exact / np.finfo(dtype).eps
    assert ulps.max() <= 4, f"{ulps.max():.1f} ulps at z = {z.ravel()[ulps.argmax()]}"


def test_sigmoid_tails_the_issue_names():
    assert sigmoid(np.array([-40.0]))[0] == pytest.approx(4.248354255291589e-18, rel=1e-14)
    assert sigmoid(np.array([-15.0], np.float32))[0] == pytest.approx(3.059022269e-07,
                                                                      rel=1e-6)
    # its derivative, from the cached output, keeps the negative tail's precision too
    a = sigmoid(np.array([-30.0]))
    assert ACTIVATIONS["sigmoid"].grad(a)[0] == pytest.approx(9.357622968838425e-14,
                                                              rel=1e-13)


def test_sigmoid_below_the_floor_and_odd_inputs():
    # below -88 (float32) / -709 (float64) σ is not a normal number: the floor's tiny
    # value is returned, without a warning (filterwarnings = error)
    low = sigmoid(np.array([-1e30, -np.inf], np.float32))
    assert (0 < low).all() and (low < np.finfo(np.float32).tiny).all()
    np.testing.assert_array_equal(sigmoid(np.array([np.inf, np.nan])), [1.0, np.nan])
    np.testing.assert_allclose(sigmoid(np.array([[0, 2]])), [[0.5, 0.8807970779778823]])
    assert sigmoid(np.float32(0)) == 0.5


def test_relu_family_values():
    z = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(ACTIVATIONS["relu"].f(z), [[0, 0, 3]])
    np.testing.assert_allclose(ACTIVATIONS["leaky_relu"].f(z), [[-2 * LEAKY_SLOPE, 0, 3]])
    np.testing.assert_array_equal(ACTIVATIONS["relu"].grad(np.array([0.0, 2.0])), [0, 1])


def test_saturation_counts_saturated_or_dead_units():
    a = np.array([[0.999, 0.5], [0.001, 0.5]])  # column 0 saturated, column 1 not
    assert ACTIVATIONS["sigmoid"].saturation(a) == 0.5
    assert ACTIVATIONS["tanh"].saturation(np.array([[0.99, 0.0]])) == 0.5
    dead_first = np.array([[0.0, 1.0], [0.0, 0.0], [0.0, 2.0]])  # unit 0 never active
    assert ACTIVATIONS["relu"].saturation(dead_first) == 0.5
    assert {ACTIVATIONS[n].saturation_label for n in ACTIVATIONS} == {"saturated", "dead"}


def test_an_entry_derives_whichever_derivative_form_is_missing():
    square = activation("square", np.square, lambda a: 0.0, "", "", "",
                        grad=lambda a: 2 * np.sqrt(a))
    delta = np.array([1.0, 3.0])
    np.testing.assert_allclose(square.backprop(delta, np.array([4.0, 9.0])), [4.0, 18.0])
    doubled = activation("double", lambda z, out=None: np.multiply(z, 2, out=out),
                         lambda a: 0.0, "", "", "",
                         backprop=lambda delta, a: np.multiply(delta, 2, out=delta))
    np.testing.assert_array_equal(doubled.grad(np.array([5.0, -1.0])), [2.0, 2.0])
    with pytest.raises(ValueError, match="needs grad or backprop"):
        activation("none", np.square, lambda a: 0.0, "", "", "")
