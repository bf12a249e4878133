"""The "Backprop by hand" page's parts: its own tiny network (49-4-10 on digits averaged
to 7×7, :mod:`mnist_np.by_hand`), kept per workspace in the run database so a reload
finds it where it was; its training buttons; and one digit's pass through it, one step
at a time, as tables of numbers beside the Backprop page's equations.

The tiny network is not the sidebar's network: Play, Pause and the settings do not touch
it, and it trains here, in the page's own run, with the engine's :class:`Trainer`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from mnist_np import MLP, ModelFileError, Trainer, stepthrough
from mnist_np.by_hand import HandTrace, hand_trace, pool, tiny_network, tiny_training
from mnist_np.checkpoint import load_training, save_training
from mnist_np.data import MNIST
from mnist_np.stepthrough import follow_weight, largest_gradient, sgd_step

from .. import equations
from ..explain import visible_step_size
from ..figures import by_hand as tables
from ..figures.images import digit_figure
from ..markdown import plain
from ..page import get_store
from ..session import TrainingSession

STORE_KEY = "by_hand"    # the network's key among the workspace's blobs
RUN = "by_hand_run"      # this browser session's TinyRun
STAGE = "by_hand_stage"  # how many steps of the digit's pass are shown
STAGES = ("The input: 49 averaged pixels", "Forward: layer 1", "Forward: layer 2 and softmax",
          "The loss", "Backward: δ₂ at the output", "Backward: δ₁ at the hidden units",
          "Gradients of layer 2", "Gradients of layer 1", "The update")


@dataclass(frozen=True)
class Pooled:
    """The data set averaged to 7×7: ``(n, 49)`` images and their labels."""

    source: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


@st.cache_resource(show_spinner=False)
def _pooled(_data: MNIST, source: str, n_train: int, n_test: int) -> Pooled:
    """Pooled once per process and data set (12 MB for full MNIST), shared read-only."""
    arrays = [pool(_data.X_train), _data.y_train, pool(_data.X_test), _data.y_test]
    for a in arrays:
        a.flags.writeable = False
    return Pooled(f"{source}, averaged to 7x7", *arrays)


def pooled(data: MNIST) -> Pooled:
    return _pooled(data, data.source, len(data.X_train), len(data.X_test))


@dataclass
class TinyRun:
    """The page's network and its trainer, on ``data``; ``save_error`` says why the last
    save failed (None when it worked)."""

    trainer: Trainer
    data: Pooled
    save_error: str | None = None

    @property
    def net(self) -> MLP:
        return self.trainer.net

    def test_accuracy(self) -> float:
        with np.errstate(all="ignore"):
            return self.net.accuracy(self.data.X_test, self.data.y_test)


def _fresh(data: Pooled) -> TinyRun:
    return TinyRun(Trainer(tiny_network(), data.X_train, data.y_train, tiny_training()), data)


def _restored(raw: bytes, data: Pooled) -> tuple[TinyRun | None, str | None]:
    """The saved network and trainer, or None and why not in one line."""
    try:
        found = load_training(raw, data.X_train, data.y_train, data.source)
    except ModelFileError as e:
        return None, f"Your tiny network could not be restored ({e}); this is a fresh one."
    if found.trainer is None or found.net.config != tiny_network().config | {
            "seed": found.net.seed}:
        return None, "Your tiny network was trained on other data; this is a fresh one."
    return TinyRun(found.trainer, data), None


def tiny_run(session: TrainingSession) -> TinyRun:
    """This browser's tiny network: as left in this session, else as the workspace
    saved it, else a fresh one (seed 0)."""
    data = pooled(session.data)
    run = st.session_state.get(RUN)
    if run is not None and run.data.source == data.source:
        return run
    store, _ = get_store()
    raw = store.load_blob(st.session_state.workspace, STORE_KEY) if store else None
    run, why = _restored(raw, data) if raw is not None else (None, None)
    if why:
        st.info(plain(why))
    run = st.session_state[RUN] = run or _fresh(data)
    return run


def _save(run: TinyRun) -> None:
    store, _ = get_store()
    if store is None:
        return
    try:
        store.save_blob(st.session_state.workspace, STORE_KEY,
                        save_training(run.trainer, run.data.source))
        run.save_error = None
    except (sqlite3.Error, OSError, ValueError) as e:
        run.save_error = str(e) or type(e).__name__


# -- the buttons' actions -------------------------------------------------------------------
def train(run: TinyRun, epochs: int | None = None, progress=None) -> None:
    """Train ``epochs`` more epochs (the epoch under way counts as one), or to the end;
    ``progress(fraction, epoch)`` is told every 100 steps. Then save."""
    trainer = run.trainer
    start = trainer.epochs_done
    goal = trainer.config.epochs if epochs is None else trainer.completed_epochs + epochs
    for record in trainer.run():
        if trainer.completed_epochs >= goal:
            break
        if progress is not None and record.step % 100 == 0:
            progress((trainer.epochs_done - start) / max(goal - start, 1e-9),
                     trainer.completed_epochs + 1)
    _save(run)


def new_network(run: TinyRun) -> None:
    st.session_state[RUN] = fresh = _fresh(run.data)
    st.session_state.pop("by_hand_result", None)
    _save(fresh)


STEP_SIZES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)  # η of "one update on this digit"


def visible_step(run: TinyRun, index: int) -> float:
    """The smallest step size whose update on this digit visibly moves its answer (the
    Backprop page's rule, :func:`dashboard.explain.visible_step_size`)."""
    x, label = run.data.X_train[index], int(run.data.y_train[index])
    return visible_step_size(run.net, x, label, STEP_SIZES, STEP_SIZES[0])


def update_on_digit(run: TinyRun, index: int, lr: float) -> None:
    """One plain gradient-descent step on training digit ``index`` alone."""
    x, label = run.data.X_train[index], int(run.data.y_train[index])
    accuracy = run.test_accuracy()
    before, after = sgd_step(run.net, x, label, lr)
    st.session_state.by_hand_result = dict(trainer=run.trainer, index=index, lr=lr,
                                           before=before, after=after,
                                           accuracy=(accuracy, run.test_accuracy()))
    _save(run)


def next_misread(run: TinyRun, after: int = -1) -> int:
    """The next training digit after ``after`` that the tiny network misreads."""
    return stepthrough.next_misread(run.net, run.data.X_train, run.data.y_train, after)


# -- training ------------------------------------------------------------------------------
def train_it(run: TinyRun) -> None:
    """The training buttons, where training is, the test accuracy now, and the accuracy
    over the epochs."""
    trainer, config = run.trainer, run.trainer.config
    st.header("Train it")
    buttons = st.container(horizontal=True, gap="medium")
    one = buttons.button("Train one epoch", key="by_hand_epoch", disabled=trainer.finished)
    end = buttons.button(f"Train to the end ({config.epochs} epochs)", key="by_hand_end",
                         type="primary", disabled=trainer.finished)
    buttons.button("New network", key="by_hand_new", on_click=new_network, args=(run,))
    if one or end:  # in the script run, not a callback, so the bar can show the epochs
        bar = st.progress(0.0, text="Training…")
        train(run, 1 if one else None, lambda done, epoch: bar.progress(
            min(done, 1.0), text=f"Training: epoch {epoch} of {config.epochs}…"))
        st.rerun()  # drawn anew: the buttons know training has ended
    accuracy = run.test_accuracy()
    cols = st.columns(3)
    cols[0].metric("Epochs trained", f"{trainer.completed_epochs} of {config.epochs}")
    cols[1].metric("Training steps", f"{trainer.step_count:,}")
    cols[2].metric("Test accuracy now", f"{accuracy:.1%}",
                   help=f"Of the {len(run.data.y_test):,} test digits, averaged to 7×7")
    n_train = trainer.n_train
    st.caption(
        f"Training is the engine's own Trainer on {n_train:,} training digits "
        f"({len(trainer.X_val):,} more held out for validation), averaged to 7×7: plain "
        f"SGD on batches of {config.batch_size}, η = {config.lr:g} decaying linearly to 0 "
        f"over {config.epochs} epochs. Each step is the update worked out below, averaged "
        f"over {config.batch_size} digits. On full MNIST its {config.epochs} epochs reach "
        "about 82% test accuracy (measured: 82.1% for this seed, 80.4-83.1% over four "
        "seeds); 4 hidden units cannot do much better, where 784-256-10 reaches 98%.")
    if trainer.finished and not trainer.diverged:
        st.success(f"Trained to the end: this network reads {accuracy:.1%} of the test "
                   "digits right.")
    if trainer.diverged:
        st.warning(plain(trainer.message))
    if trainer.epoch_records:
        st.plotly_chart(tables.epochs_figure(trainer.epoch_records, accuracy, config.epochs),
                        key="by_hand_epochs")
    if run.save_error:
        st.caption(f"⚠️ Your tiny network could not be saved ({plain(run.save_error)}); a "
                   "reload would go back to the last one saved.")


# -- one digit, one step at a time ---------------------------------------------------------
def show(frame: pd.DataFrame, name: str, exact: bool) -> None:
    """A table of numbers, right-aligned, tall enough for 25 rows. Its key changes with
    ``exact``, so the columns are sized anew for the longer exact numbers."""
    labels = ("i", "j", "k", "row", "pixel (row, col)")
    # each column as wide as its longest text (Streamlit's own sizing kept the rounded
    # numbers' widths when the exact ones came, and cut them)
    config = {c: st.column_config.TextColumn(
        alignment=None if c in labels else "right",
        width=8 * max([len(c), *(len(v) for v in frame[c])]) + 18) for c in frame.columns}
    st.dataframe(frame, hide_index=True, width="content", column_config=config,
                 height=35 * (min(len(frame), 25) + 1) + 3,
                 key=f"by_hand_table_{name}_{'exact' if exact else 'rounded'}")


def _stage(n: int) -> None:
    st.subheader(f"Step {n + 1} of {len(STAGES)}: {STAGES[n]}")


def _weight_example(net: MLP, ht: HandTrace, layer: int) -> None:
    """The largest gradient of ``W_layer`` worked out as the Backprop page does."""
    i, j = largest_gradient(ht.trace, layer)
    lines = equations.weight_story(follow_weight(net, ht.trace, layer, i, j, ht.lr))
    st.caption(f"For example, the largest gradient of W{tables.sub(layer)} (as the "
               "Backprop page's 'Follow one weight' works it out):")
    st.latex(lines.gradient)
    st.latex(lines.delta)


def draw_stages(run: TinyRun, ht: HandTrace, full_image: np.ndarray, shown: int,
                exact: bool, all_rows: bool) -> None:
    """Steps 1 to ``shown`` of training digit ``ht.index``'s pass (``full_image``: its
    784 pixels)."""
    net, t = run.net, ht.trace
    general, act = equations.general(net), net.activation
    lit = int(np.count_nonzero(t.activations[0]))
    hidden = ("" if all_rows else f"Only the {lit} pixels that are not 0 are listed: a 0 "
              "input adds nothing to z and its weights get no gradient. ")
    steps = [lambda: _input(ht, full_image, exact), lambda: _forward_1(net, ht, exact,
                                                                        all_rows, hidden),
             lambda: _forward_2(net, ht, exact), lambda: _loss(net, ht),
             lambda: _delta_2(net, ht, exact, general),
             lambda: _delta_1(net, ht, exact, general, act),
             lambda: _gradients_2(net, ht, exact), lambda: _gradients_1(net, ht, exact,
                                                                         all_rows, hidden),
             lambda: _update(net, ht, exact, all_rows, general)]
    for n in range(shown):
        _stage(n)
        steps[n]()


def _input(ht: HandTrace, full_image: np.ndarray, exact: bool) -> None:
    t = ht.trace
    # side by side where there is room, one under another in a narrow window
    row = st.container(horizontal=True, gap="medium")
    row.plotly_chart(digit_figure(full_image, f"Digit #{ht.index}: a {t.label}", height=230),
                     key="by_hand_original", width=200)
    row.plotly_chart(digit_figure(t.activations[0], "a₀: 7×7", height=230), key="by_hand_pooled",
                     width=200)
    with row:
        show(tables.input_grid(t.activations[0], exact), "input", exact)
    st.caption("Each input is the mean of a 4×4 block of the original's 28×28 pixels, read "
               "row by row: a₀[i] is at row i // 7, column i % 7 (so i = 7·row + col).")


def _forward_1(net: MLP, ht: HandTrace, exact: bool, all_rows: bool, hidden: str) -> None:
    st.latex(equations.forward_layer(net, 1))
    show(tables.forward_terms(ht, 1, exact, all_rows), "terms_1", exact)
    show(tables.forward_units(ht, 1, net.activation, exact), "units_1", exact)
    st.caption(f"{hidden}Each hidden unit j adds up its column of products a₀[i]·W₁[i,j], "
               "adds its bias, and passes z through relu: a unit whose z is below 0 "
               "outputs 0 (it is off for this digit).")


def _forward_2(net: MLP, ht: HandTrace, exact: bool) -> None:
    t = ht.trace
    st.latex(equations.forward_layer(net, 2))
    st.latex(r"\mathrm{softmax}(z)_k = \frac{e^{z_k - \max z}}{\sum_m e^{z_m - \max z}}")
    show(tables.forward_terms(ht, 2, exact), "terms_2", exact)
    show(tables.forward_units(ht, 2, net.activation, exact), "units_2", exact)
    st.caption(f"One row per digit j. Σe = {tables.cell(ht.exp_sum, exact)}. Subtracting "
               "the largest z first changes nothing in the result and keeps e^z from "
               f"overflowing. Prediction: {t.prediction} ({t.output[t.prediction]:.1%}); "
               f"true digit: {t.label}.")


def _loss(net: MLP, ht: HandTrace) -> None:
    t, n = ht.trace, equations.number
    y = t.label
    st.latex(equations.general(net)["loss"])
    st.latex(rf"\mathcal{{L}} = -\log a_2[{y}] = -\log {n(float(t.output[y]))} = "
             rf"\log \textstyle\sum e - (z_2[{y}] - \max z_2) = \log {n(ht.exp_sum)} - "
             rf"({n(float(ht.shifted[y]))}) = {n(t.loss, 4)}")
    st.caption("One digit, so the mean is this digit's loss. Only the true digit's "
               "probability counts: the loss is 0 when it is 1, and grows fast as it "
               "falls.")


def _delta_2(net: MLP, ht: HandTrace, exact: bool, general: dict[str, str]) -> None:
    st.latex(general["delta_output"])
    show(tables.output_delta(ht, exact), "delta_2", exact)
    st.caption(f"Softmax and cross-entropy together make the output's error simply "
               f"a₂ − y: negative for the true digit {ht.trace.label} (its probability "
               "should rise), positive for every other (theirs should fall).")


def _delta_1(net: MLP, ht: HandTrace, exact: bool, general: dict[str, str],
             act: str) -> None:
    st.latex(general["delta_hidden"])
    st.latex(equations.delta_layer(net, 1))
    show(tables.hidden_delta_terms(ht, 1, exact), "delta_terms_1", exact)
    show(tables.hidden_delta_units(ht, 1, act, exact), "delta_1", exact)
    st.caption("Each hidden unit j collects the output errors δ₂[k], each weighted by the "
               "weight W₂[j,k] it sends them through, then multiplies by its slope: "
               "relu′ is 1 where z > 0 and 0 elsewhere, so a unit that was off for this "
               "digit passes no error back and learns nothing from it.")


def _gradients_2(net: MLP, ht: HandTrace, exact: bool) -> None:
    a1 = ", ".join(tables.cell(v, exact) for v in ht.trace.activations[1])
    st.latex(equations.gradient_layer(net, 2))
    show(tables.gradient_table(ht, 2, exact), "gradient_2", exact)
    st.caption(f"∂L/∂W₂[i,j] = a₁[i]·δ₂[j], with a₁ = ({a1}) from step 2: the weights out "
               "of a unit that was off (a₁[i] = 0) get no gradient.")
    _weight_example(net, ht, 2)


def _gradients_1(net: MLP, ht: HandTrace, exact: bool, all_rows: bool, hidden: str) -> None:
    st.latex(equations.gradient_layer(net, 1))
    show(tables.unit_gradients(ht, 1, exact), "bias_gradient_1", exact)
    show(tables.gradient_table(ht, 1, exact, all_rows), "gradient_1", exact)
    st.caption(f"{hidden}∂L/∂W₁[i,j] = a₀[i]·δ₁[j]: the pixel times the error of the unit "
               "its weight feeds.")
    _weight_example(net, ht, 1)


def _update(net: MLP, ht: HandTrace, exact: bool, all_rows: bool,
            general: dict[str, str]) -> None:
    st.latex(general["update"])
    st.caption(f"With η = {ht.lr:g}: new W = W − {ht.lr:g} × ∂L/∂W, every weight and bias. "
               "Press **One update on this digit** to apply it.")
    show(tables.update_table(ht, 2, exact), "update_2", exact)
    show(tables.update_table(ht, 1, exact, all_rows), "update_1", exact)
    show(tables.bias_update(ht, 1, exact), "bias_update_1", exact)


def update_result(run: TinyRun, index: int) -> None:
    """What the last update on this digit did, if it was on this network and digit."""
    r = st.session_state.get("by_hand_result")
    if r is None or r["trainer"] is not run.trainer or r["index"] != index:
        return
    before, after, label = r["before"], r["after"], int(run.data.y_train[index])
    test_before, test_after = r["accuracy"]
    st.caption(f"With η = {r['lr']:g}, one step on this digit alone moved the probability "
               f"of the true digit {label} from {before[label]:.1%} to {after[label]:.1%}; "
               f"the prediction went from {int(before.argmax())} to "
               f"{int(after.argmax())}, and the test accuracy from {test_before:.1%} to "
               f"{test_after:.1%}. The tables show the network after it. Such a step is not "
               "counted in the epochs or steps above: training averages it over a batch "
               "of digits, so that no single digit pulls the weights its own way.")


def trace_digit(run: TinyRun, index: int, lr: float) -> HandTrace:
    x, label = run.data.X_train[index], int(run.data.y_train[index])
    return hand_trace(run.net, x, label, lr, index)
