"""The neuron lab: switching units off, edits undone bitwise, votes, pruning, the diagram."""

import numpy as np
import pytest

from mnist_np import ACTIVATIONS, MLP, lab
from mnist_np.stepthrough import sgd_step


def _net(activation="relu", hidden=(12, 8), seed=3):
    return MLP([16, *hidden, 10], activation=activation, seed=seed)


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 16), dtype=np.float32), rng.integers(0, 10, n)


def _removed(net, layer, j):
    """The same network with hidden unit j of ``layer`` deleted outright."""
    sizes = list(net.layer_sizes)
    sizes[layer] -= 1
    small = MLP(sizes, activation=net.activation, output=net.output_name, loss=net.loss_name)
    small.weights = [W.copy() for W in net.weights]
    small.biases = [b.copy() for b in net.biases]
    small.weights[layer - 1] = np.delete(net.weights[layer - 1], j, axis=1)
    small.biases[layer - 1] = np.delete(net.biases[layer - 1], j)
    small.weights[layer] = np.delete(net.weights[layer], j, axis=0)
    return small


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("layer", [1, 2])
def test_switching_off_zeroes_exactly_the_outgoing_row_and_removes_the_unit(activation, layer):
    net = _net(activation)
    before = net.copy()
    X, _ = _data()
    j = 5
    change = lab.switch_off(net, layer, [j])
    # exactly row j of W_{layer+1} is zero now; every other number is unchanged, bitwise
    assert np.all(net.weights[layer][j] == 0)
    expected = before.weights[layer].copy()
    expected[j] = 0
    np.testing.assert_array_equal(net.weights[layer], expected)
    for l in range(len(net.weights)):
        np.testing.assert_array_equal(net.biases[l], before.biases[l])
        if l != layer:
            np.testing.assert_array_equal(net.weights[l], before.weights[l])
    # ... which silences the unit for this activation: as if it were removed
    np.testing.assert_allclose(net.predict_proba(X), _removed(before, layer, j).predict_proba(X),
                               rtol=1e-5, atol=1e-6)
    assert lab.silent(net, layer)[j] and lab.silent(net, layer).sum() == 1
    assert change.units == (j,) and "unit 5 of hidden layer" in change.what


def test_zeroing_the_incoming_column_would_not_silence_a_sigmoid_unit():
    """Why the outgoing row: with W_l[:, j] and b_l[j] zeroed, a sigmoid unit still sends 0.5."""
    net = _net("sigmoid")
    X, _ = _data()
    net.weights[0][:, 5] = 0
    net.biases[0][5] = 0
    assert np.allclose(lab.activations(net, X, 1)[:, 5], 0.5)
    assert not np.allclose(net.predict_proba(X), _removed(net, 1, 5).predict_proba(X))


@pytest.mark.parametrize("make", [
    lambda net: lab.switch_off(net, 1, [0, 3, 11]),
    lambda net: lab.set_weight(net, 2, 7, 4, -3.25),
    lambda net: lab.set_weight(net, 3, 0, 9, 1e-7),
    lambda net: lab.set_bias(net, 1, 2, 0.1),
    lambda net: lab.prune(net, 2, 5, np.arange(8.0)[::-1]),
    lambda net: lab.one_update(net, np.linspace(0, 1, 16), 3, 0.5, "one update")[0],
])
def test_a_change_is_undone_exactly(make):
    net = _net("tanh")
    before = net.copy()
    change = make(net)
    changed = sum(int(np.sum(a != b)) for a, b in zip(net.weights + net.biases,
                                                       before.weights + before.biases))
    assert changed >= 1
    lab.undo(net, change)
    for a, b in zip(net.weights + net.biases, before.weights + before.biases):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_undoing_several_changes_in_reverse_order_restores_the_start():
    net = _net()
    before = net.copy()
    changes = [lab.set_weight(net, 2, 1, 1, 5.0), lab.switch_off(net, 1, [1]),
               lab.set_weight(net, 2, 1, 1, -2.0)]
    for change in reversed(changes):
        lab.undo(net, change)
    for a, b in zip(net.weights, before.weights):
        assert a.tobytes() == b.tobytes()


def test_an_edit_sets_one_number_and_says_what():
    net = _net()
    change = lab.set_weight(net, 2, 3, 4, 0.75)
    assert net.weights[1][3, 4] == np.float32(0.75)
    assert change.what.startswith("set W2[3, 4] from") and change.what.endswith("to 0.75")
    lab.set_bias(net, 3, 9, -1.5)
    assert net.biases[2][9] == np.float32(-1.5)


@pytest.mark.parametrize("call, message", [
    (lambda net: lab.switch_off(net, 3, [0]), "not a hidden layer"),
    (lambda net: lab.switch_off(net, 0, [0]), "not a hidden layer"),
    (lambda net: lab.switch_off(net, 1, [12]), "0 to 11"),
    (lambda net: lab.set_weight(net, 2, 12, 0, 1.0), "no weight"),
    (lambda net: lab.set_weight(net, 4, 0, 0, 1.0), "no layer"),
    (lambda net: lab.set_bias(net, 1, 99, 1.0), "no unit"),
    (lambda net: lab.set_bias(net, 1, 0, float("nan")), "finite"),
])
def test_impossible_changes_are_refused_in_one_line(call, message):
    net = _net()
    before = net.copy()
    with pytest.raises(ValueError, match=message):
        call(net)
    for a, b in zip(net.weights, before.weights):
        assert a.tobytes() == b.tobytes()


def test_undo_refuses_a_network_of_other_shapes():
    net = _net()
    change = lab.switch_off(net, 2, [7])
    with pytest.raises(ValueError, match="shapes"):
        lab.undo(_net(hidden=(12, 4)), change)


def test_votes_of_the_last_hidden_layer_are_its_outgoing_weights_times_its_mean():
    net = _net()
    X, _ = _data()
    a = lab.activations(net, X, 2)
    np.testing.assert_allclose(lab.votes(net, X, 2, 3), a[:, 3].mean() * net.weights[2][3],
                               rtol=1e-4, atol=1e-6)
    # an earlier unit's votes: the logits' change when it is switched off
    off = net.copy()
    lab.switch_off(off, 1, [4])
    logits = lambda n: n.forward(X).logits  # noqa: E731
    np.testing.assert_allclose(lab.votes(net, X, 1, 4), (logits(net) - logits(off)).mean(0),
                               rtol=1e-4, atol=1e-6)


def test_top_activating_and_unit_state():
    a = np.array([0.0, 3.0, 1.0, 3.0, 2.0])
    np.testing.assert_array_equal(lab.top_activating(a, 3), [1, 3, 4])
    relu = _net("relu")
    assert lab.unit_state(relu, np.zeros(5)).label == "dead"
    state = lab.unit_state(relu, a)
    assert state.label == "alive" and state.share == pytest.approx(0.8)
    sigmoid = _net("sigmoid")
    assert lab.unit_state(sigmoid, np.full(10, 0.999)).label == "saturated"
    assert lab.unit_state(sigmoid, np.full(10, 0.5)).label == "alive"


def test_accuracy_per_digit_matches_the_predictions():
    net = _net()
    X, y = _data(200)
    acc = lab.accuracy_per_digit(net, X, y)
    pred = net.predict(X)
    for d in range(10):
        assert acc[d] == pytest.approx(np.mean(pred[y == d] == d))


def test_importance_is_zero_for_a_switched_off_unit_and_orders_the_pruning():
    net = _net()
    X, _ = _data()
    lab.switch_off(net, 1, [6])
    scores = lab.importance(net, X, 1)
    assert scores.shape == (12,) and scores[6] == 0
    assert lab.pruning_order(scores)[0] == 6 or scores[lab.pruning_order(scores)[0]] == 0


def test_the_pruning_curve_matches_pruning_the_network():
    net = _net(hidden=(24,))
    X, y = _data(300)
    scores = lab.importance(net, X, 1)
    ks = lab.curve_points(24, 7)
    assert ks[0] == 0 and ks[-1] == 24 and ks == sorted(set(ks))
    curve = lab.pruning_curve(net, X, y, 1, ks, scores)
    assert curve[0] == net.accuracy(X, y)
    for k, acc in zip(ks, curve):
        pruned = net.copy()
        change = lab.prune(pruned, 1, k, scores)
        assert len(change.units) == k
        assert acc == pruned.accuracy(X, y)
    # every unit off: the output no longer depends on the digit, one class for all
    everything = net.copy()
    lab.prune(everything, 1, 24, scores)
    assert len(set(everything.predict(X))) == 1
    # the network itself was not changed by the curve
    assert net.weights[1].tobytes() == _net(hidden=(24,)).weights[1].tobytes()
    # the pruned sets are nested: k+1 least important hold the k least important
    order = lab.pruning_order(scores)
    for k in range(24):
        assert set(order[:k]) <= set(order[:k + 1])
    with pytest.raises(ValueError, match="k must be"):
        lab.pruning_curve(net, X, y, 1, [25], scores)


def test_votes_importance_and_the_curve_from_activations_already_computed_are_the_same():
    net = _net(hidden=(24, 12))
    X, y = _data(300)
    for layer in (1, 2):
        a = lab.activations(net, X, layer)
        scores = lab.importance(net, X, layer)
        np.testing.assert_array_equal(lab.importance(net, X, layer, a=a), scores)
        np.testing.assert_array_equal(lab.votes(net, X, layer, 3, a=a),
                                      lab.votes(net, X, layer, 3))
        ks = lab.curve_points(net.layer_sizes[layer], 5)
        np.testing.assert_array_equal(lab.pruning_curve(net, X, y, layer, ks, scores, a=a),
                                      lab.pruning_curve(net, X, y, layer, ks, scores))


def test_the_diagram_shows_the_most_active_units_and_their_strongest_edges():
    net = _net(hidden=(40, 30))
    x = _data(1)[0][0]
    view = lab.diagram_view(net, x, max_units=8, top_k=3)
    fwd = net.forward(x[None])
    assert [layer.size for layer in view.layers] == [40, 30, 10]
    assert [len(layer.units) for layer in view.layers] == [8, 8, 10]
    a1 = fwd.activations[1][0]
    shown = view.layers[0].units
    assert np.all(np.diff(shown) > 0)
    assert np.abs(a1[shown]).min() >= np.sort(np.abs(a1))[-8]
    np.testing.assert_array_equal(view.layers[0].a, a1[shown])
    np.testing.assert_array_equal(view.fields, net.weights[0][:, shown].T)
    assert view.prediction == int(fwd.output[0].argmax())
    assert len(view.edges) == 2
    src, dst, w = view.edges[0]
    assert len(src) == 8 * 3 and set(dst) == set(range(8))
    W = net.weights[1][np.ix_(view.layers[0].units, view.layers[1].units)]
    for t in range(8):
        mine = np.abs(w[dst == t])
        assert np.allclose(np.sort(mine), np.sort(np.abs(W[:, t]))[-3:])
        np.testing.assert_array_equal(w[dst == t], W[src[dst == t], t])
    # a unit asked for is always shown, and switched-off ones are marked
    keep = int(np.argmin(np.abs(a1)))
    lab.switch_off(net, 1, [keep])
    view = lab.diagram_view(net, x, max_units=8, keep=(1, keep))
    assert keep in view.layers[0].units and len(view.layers[0].units) == 8
    assert view.layers[0].off.tolist() == [u == keep for u in view.layers[0].units]


def test_one_update_is_the_backprop_pages_step_and_says_so():
    net = _net()
    expected = net.copy()
    x = np.linspace(0, 1, 16, dtype=np.float32)
    before_expected, after_expected = sgd_step(expected, x, 3, 0.5)
    change, before, after = lab.one_update(net, x, 3, 0.5, "one update on digit #7")
    assert change.kind == "update" and change.what == "one update on digit #7"
    for a, b in zip(net.weights + net.biases, expected.weights + expected.biases):
        assert a.tobytes() == b.tobytes()
    assert np.array_equal(before, before_expected) and np.array_equal(after, after_expected)
