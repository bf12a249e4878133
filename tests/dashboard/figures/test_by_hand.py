"""dashboard.figures.by_hand: the tables of "Backprop by hand" read back as numbers, and
redoing the page's arithmetic on what they print gives the engine's forward values, δs,
gradients and update, bit for bit (exact cells) or to the rounding shown (3 figures)."""

import numpy as np
import pytest

from dashboard.figures import by_hand as fig
from mnist_np import Trainer
from mnist_np.by_hand import hand_trace, pool, tiny_network, tiny_training
from mnist_np.stepthrough import sgd_step

F32 = np.float32
LR = 0.5


@pytest.fixture(scope="module")
def case(sample):
    """A 49-4-10 network after one epoch on the pooled sample, and a digit for which
    some hidden units are on and some off (both ReLU slopes)."""
    X, y = pool(sample.X_train), sample.y_train
    net = tiny_network()
    config = tiny_training()
    config.epochs = 1
    for _ in Trainer(net, X, y, config).run():
        pass
    for i in range(len(X)):
        ht = hand_trace(net, X[i], int(y[i]), LR, index=i)
        a1 = ht.trace.activations[1]
        if (a1 == 0).any() and (a1 > 0).any():
            return net, X[i], int(y[i]), ht
    raise AssertionError("no digit with both on and off hidden units")


def col(frame, name) -> np.ndarray:
    """A column of an exact table, read back as the network's float32 numbers."""
    return np.array([F32(v) for v in frame[name]], F32)


def test_exact_tables_redo_the_forward_pass(case):
    net, x, label, ht = case
    t = ht.trace
    grid = fig.input_grid(t.activations[0], exact=True)
    assert list(grid.columns) == ["row"] + [f"col {c}" for c in range(7)]
    a0 = np.stack([col(grid, f"col {c}") for c in range(7)], axis=1).ravel()
    np.testing.assert_array_equal(a0, x)

    terms = fig.forward_terms(ht, 1, exact=True, all_rows=True)
    assert len(terms) == 49 and terms["pixel (row, col)"][10] == "(1, 3)"
    W1 = np.stack([col(terms, f"W₁[i,{j}]") for j in range(4)], axis=1)
    np.testing.assert_array_equal(W1, net.weights[0])
    products = np.stack([col(terms, f"a₀[i]·W₁[i,{j}]") for j in range(4)], axis=1)
    np.testing.assert_array_equal(products, a0[:, None] * W1)  # each product as printed
    units = fig.forward_units(ht, 1, exact=True)
    sums, b1 = col(units, "Σᵢ a₀[i]·W₁[i,j]"), col(units, "b₁[j]")
    # the printed sum is the products' sum (up to float32's rounding of 49 additions) ...
    np.testing.assert_allclose(products.astype(np.float64).sum(axis=0), sums, rtol=1e-5,
                               atol=1e-6)
    z1 = col(units, "z₁[j] = Σ + b")  # ... and z = Σ + b, a = relu(z) exactly
    np.testing.assert_array_equal(sums + b1, z1)
    np.testing.assert_array_equal(z1, t.zs[0])
    a1 = col(units, "a₁[j] = relu(z₁[j])")
    np.testing.assert_array_equal(np.maximum(z1, 0), a1)
    np.testing.assert_array_equal(a1, t.activations[1])

    terms2 = fig.forward_terms(ht, 2, exact=True)
    assert len(terms2) == 10 and list(terms2["j"]) == [str(k) for k in range(10)]
    W2 = np.stack([col(terms2, f"W₂[{j},j]") for j in range(4)])
    np.testing.assert_array_equal(W2, net.weights[1])
    for j in range(4):
        np.testing.assert_array_equal(col(terms2, f"a₁[{j}]·W₂[{j},j]"), a1[j] * W2[j])
    out = fig.forward_units(ht, 2, exact=True)
    z2 = col(out, "z₂[j] = Σ + b")
    np.testing.assert_array_equal(col(out, "Σᵢ a₁[i]·W₂[i,j]") + col(out, "b₂[j]"), z2)
    shifted = col(out, "z₂[j] − max z₂")
    np.testing.assert_array_equal(z2 - z2.max(), shifted)
    e = col(out, "e^(z₂[j] − max)")
    np.testing.assert_array_equal(np.exp(shifted), e)
    a2 = col(out, "a₂[j] = e / Σe")
    np.testing.assert_array_equal(e / F32(ht.exp_sum), a2)
    np.testing.assert_array_equal(a2, net.predict_proba(x[None, :])[0])  # the network's
    assert t.loss == pytest.approx(float(np.log(e.astype(np.float64).sum()) - shifted[label]),
                                   rel=1e-5)


def test_exact_tables_redo_the_backward_pass_and_the_update(case):
    net, x, label, ht = case
    t = ht.trace
    a0, a1 = t.activations[0], t.activations[1]
    d = fig.output_delta(ht, exact=True)
    delta2 = col(d, "δ₂[k] = a₂[k] − y[k]")
    np.testing.assert_array_equal(col(d, "a₂[k]") - col(d, "y[k]"), delta2)
    np.testing.assert_array_equal(delta2, t.deltas[1])
    assert list(col(d, "y[k]")) == [float(k == label) for k in range(10)]

    back = fig.hidden_delta_terms(ht, 1, exact=True)
    np.testing.assert_array_equal(col(back, "δ₂[k]"), delta2)
    products = np.stack([col(back, f"W₂[{j},k]·δ₂[k]") for j in range(4)])
    for j in range(4):
        np.testing.assert_array_equal(col(back, f"W₂[{j},k]") * delta2, products[j])
    units = fig.hidden_delta_units(ht, 1, exact=True)
    sums = col(units, "Σₖ W₂[j,k]·δ₂[k]")
    np.testing.assert_allclose(products.astype(np.float64).sum(axis=1), sums, rtol=1e-5,
                               atol=1e-9)
    slope = col(units, "relu′(z₁[j])")
    np.testing.assert_array_equal(slope, (col(units, "z₁[j]") > 0).astype(F32))
    assert set(slope) == {0.0, 1.0}  # this digit has units on and off
    delta1 = col(units, "δ₁[j] = relu′ · Σ")
    np.testing.assert_array_equal(slope * sums, delta1)
    np.testing.assert_array_equal(delta1, t.deltas[0])

    g2 = fig.gradient_table(ht, 2, exact=True)
    dW2 = np.stack([col(g2, f"∂L/∂W₂[{i},j]") for i in range(4)])
    np.testing.assert_array_equal(a1[:, None] * col(g2, "δ₂[j]")[None, :], dW2)
    np.testing.assert_array_equal(dW2, t.dWs[1])
    np.testing.assert_array_equal(col(g2, "∂L/∂b₂[j]"), t.dbs[1])
    g1 = fig.gradient_table(ht, 1, exact=True, all_rows=True)
    dW1 = np.stack([col(g1, f"∂L/∂W₁[i,{j}]") for j in range(4)], axis=1)
    np.testing.assert_array_equal(col(g1, "a₀[i]")[:, None] * delta1[None, :], dW1)
    np.testing.assert_array_equal(dW1, t.dWs[0])
    b1 = fig.unit_gradients(ht, 1, exact=True)
    np.testing.assert_array_equal(col(b1, "δ₁[j] = ∂L/∂b₁[j]"), t.dbs[0])

    after = net.copy()
    sgd_step(after, x, label, LR)  # what the page's "one update" button does
    u2 = fig.update_table(ht, 2, exact=True)
    for i in range(4):
        new = col(u2, f"new W₂[{i},j]")
        np.testing.assert_array_equal(col(u2, f"W₂[{i},j]") - F32(LR) * dW2[i], new)
        np.testing.assert_array_equal(new, after.weights[1][i])
    np.testing.assert_array_equal(col(u2, "new b₂[j]"), after.biases[1])
    u1 = fig.update_table(ht, 1, exact=True, all_rows=True)
    for j in range(4):
        new = col(u1, f"new W₁[i,{j}]")
        np.testing.assert_array_equal(col(u1, f"W₁[i,{j}]") - F32(LR) * dW1[:, j], new)
        np.testing.assert_array_equal(new, after.weights[0][:, j])
    ub = fig.bias_update(ht, 1, exact=True)
    np.testing.assert_array_equal(col(ub, "b₁[j]") - F32(LR) * col(ub, "∂L/∂b₁[j]"),
                                  col(ub, "new b₁[j]"))
    np.testing.assert_array_equal(col(ub, "new b₁[j]"), after.biases[0])
    assert a0.shape == (49,)


def test_rounded_tables_show_3_figures_and_only_the_pixels_that_count(case):
    net, x, _, ht = case
    lit = np.flatnonzero(x)
    terms = fig.forward_terms(ht, 1)
    assert list(terms["i"]) == [str(i) for i in lit] and 0 < len(lit) < 49
    for frame, name, engine in [
        (terms, "W₁[i,0]", net.weights[0][lit, 0]),
        (fig.forward_units(ht, 2), "a₂[j] = e / Σe", ht.trace.output),
        (fig.hidden_delta_units(ht, 1), "δ₁[j] = relu′ · Σ", ht.trace.deltas[0]),
        (fig.gradient_table(ht, 1), "∂L/∂W₁[i,2]", ht.trace.dWs[0][lit, 2]),
    ]:
        shown = frame[name]
        assert all(len(v.lstrip("-").replace(".", "").lstrip("0").split("e")[0]) <= 3
                   for v in shown if v != "0"), list(shown)
        np.testing.assert_allclose([float(v) for v in shown], engine, rtol=5e-3, atol=1e-30)
    assert len(fig.gradient_table(ht, 1, all_rows=True)) == 49
    u2 = fig.update_table(ht, 2)  # a weight that moved is written with figures that show it
    for i in range(4):
        moved = ht.new_weights[1][i] != ht.weights[1][i]
        before, after = u2[f"W₂[{i},j]"], u2[f"new W₂[{i},j]"]
        assert [b != a for b, a in zip(before, after)] == list(moved)
        assert moved.any() == (ht.trace.activations[1][i] != 0)  # off units: no step
    assert list(fig.bias_update(ht, 1).columns) == ["j", "b₁[j]", "∂L/∂b₁[j]", "new b₁[j]"]
    assert fig.cell(float("nan")) == "NaN" and fig.cell(float("inf"), exact=True) == "inf"
    assert fig.cell(0.1, exact=True) == "0.1" and fig.cell(1 / 3) == "0.333"
    assert fig.sub(12) == "₁₂"


def test_epochs_figure():
    from mnist_np.training import EpochRecord
    records = [EpochRecord(e, 100 * e, 1.0 / e, 0.6 + e / 20, 0.9 / e, 0.62 + e / 20, e)
               for e in (1, 2, 3)]
    f = fig.epochs_figure(records, test_accuracy=0.71, epochs=10)
    assert [tr.name for tr in f.data] == ["training (mean over the epoch)", "validation"]
    assert list(f.data[1].y) == [0.67, 0.72, 0.77] and list(f.layout.xaxis.range) == [0.5, 10.5]
    assert "71.0%" in f.layout.annotations[0].text
    assert fig.epochs_figure([]).data[0].x == ()
