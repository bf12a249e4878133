"""dashboard.explain: the gradient check's table and verdict (on a real check of a small
network, and on made-up checks for the other verdicts), and the pages' captions."""

import numpy as np
import pytest

from dashboard.explain import (
    digit_worth,
    gradient_check_table,
    gradient_check_verdict,
    measured_batches,
    mistakes_title,
    saturation_caption,
    update_caption,
    update_ratio_caption,
)
from mnist_np import MLP
from mnist_np.gradcheck import RTOL, Check, gradient_check, relative_error


@pytest.fixture(scope="module")
def checks():
    """Two weights and one bias of each layer of a 16-6-4 tanh network, on 5 inputs."""
    rng = np.random.default_rng(0)
    X = rng.random((5, 16))
    Y = np.eye(4)[[0, 1, 2, 3, 0]]
    return gradient_check(MLP([16, 6, 4], activation="tanh", seed=1), X, Y)


def check(backprop: float, numeric: float, rounding: float = 1e-10, index=(0, 0)) -> Check:
    return Check(1, "W", index, backprop, numeric, relative_error(backprop, numeric), rounding)


def test_the_table_has_a_row_per_checked_parameter(checks):
    table = gradient_check_table(checks)
    assert list(table) == ["parameter", "backprop", "finite difference", "difference",
                           "relative error", "agree"]
    assert {len(column) for column in table.values()} == {6}
    assert [p[:2] for p in table["parameter"]] == ["W1", "W1", "b1", "W2", "W2", "b2"]
    for row, c in enumerate(checks):
        name = f"{c.param}{c.layer}[{', '.join(str(i) for i in c.index)}]"
        assert table["parameter"][row] == name
        assert table["backprop"][row] == c.backprop and table["finite difference"][row] == c.numeric
        assert table["difference"][row] == abs(c.backprop - c.numeric)
        assert table["relative error"][row] == c.rel_error
    assert table["parameter"][2].count(",") == 0 and table["parameter"][0].count(",") == 1
    assert table["agree"] == [True] * 6


def test_hand_made_rows_name_their_parameter():
    rows = [check(0.5, 0.25, index=(12, 3)),
            Check(2, "b", (7,), 1.0, 1.0, 0.0, 1e-10)]
    table = gradient_check_table(rows)
    assert table["parameter"] == ["W1[12, 3]", "b2[7]"]
    assert table["difference"] == [0.25, 0.0] and table["agree"] == [False, True]


def test_a_real_check_of_backprop_agrees(checks):
    level, message, note = gradient_check_verdict(checks)
    worst = max(c.rel_error for c in checks)
    assert worst <= RTOL
    assert level == "success" and note is None
    assert message == ("Backpropagation agrees with finite differences (computed in float64 "
                       f"on a copy of the network): largest relative error {worst:.1e}.")


def test_tiny_gradients_agree_up_to_rounding():
    rows = [check(1e-12, 3e-12), check(0.5, 0.5 + 1e-13)]
    assert all(c.agrees for c in rows) and rows[0].rel_error > RTOL
    level, message, note = gradient_check_verdict(rows)
    assert level == "success"
    assert "up to rounding" in message
    assert ("for one weight, whose gradient is tiny, the difference (at most 2.0e-12) is "
            "within the ±1e-10 that rounding allows") in message
    assert note is not None and "±1e-10" in note and "up to 7e-01" in note
    assert "gradients are at most 1.0e-12" in note  # their size, not a guess about why


def test_rounding_verdict_quotes_only_the_rows_that_need_rounding():
    # the second row agrees to RTOL with a difference (1e-9) far above the rounding bound;
    # quoting it beside "within the ±1e-10 that rounding allows" would be false, and
    # calling 2e-12 "the largest difference" beside a table showing 1e-9 contradicts it
    rows = [check(1e-12, 3e-12), check(0.5, 0.5 + 1e-9)]
    assert all(c.agrees for c in rows) and rows[1].rel_error <= RTOL
    _, message, _ = gradient_check_verdict(rows)
    assert "for one weight, whose gradient is tiny, the difference (at most 2.0e-12)" in (
        message)
    assert "largest difference" not in message


def test_gradients_that_disagree_get_a_warning():
    rows = [check(0.5, 0.5), check(1.0, 0.5)]
    assert [c.agrees for c in rows] == [True, False]
    level, message, note = gradient_check_verdict(rows)
    assert level == "warning" and note is None
    assert message.startswith("Some gradients disagree (largest relative error 5.0e-01).")
    assert "ReLU" in message


def test_update_caption_reads_the_true_digit_and_both_predictions():
    before = np.array([0.1, 0.7, 0.2])
    after = np.array([0.05, 0.3, 0.65])
    text = update_caption(before, after, label=2, lr=0.5)
    assert text.startswith("With η = 0.5, one step on this digit alone")
    assert "true digit 2 from 20.0% to 65.0%" in text
    assert "the prediction went from 1 to 2." in text
    assert "η = 0.001," in update_caption(before, before, 0, 1e-3)
    assert "from 10.0% to 10.0%; the prediction went from 1 to 1." in update_caption(
        before, before, 0, 1e-3)


def test_saturation_caption_explains_the_label_it_is_given():
    saturated = saturation_caption("saturated", 500)
    assert saturated.startswith("Saturated units (a sigmoid or tanh unit whose slope")
    assert "ReLU" not in saturated
    dead = saturation_caption("dead", 1000)
    assert dead.startswith("Dead units (a ReLU unit that outputs 0 for every image")
    assert "sigmoid" not in dead
    for text, n in ((saturated, 500), (dead, 1000)):
        assert text.endswith(f"The bars measure the network as it is on {n} validation images.")


def test_update_ratio_caption_says_what_a_decaying_schedule_does():
    # with the default linear decay every run ends near 1e-5, which the old caption
    # called "stuck"
    constant = update_ratio_caption("constant")
    assert "1e-3 is healthy" in constant and "schedule" not in constant
    for schedule in ("linear", "cosine"):
        text = update_ratio_caption(schedule)
        assert text.startswith(constant) and f"the {schedule} schedule" in text
        assert "falls to 0" in text


def test_the_mistakes_title_never_says_the_most_confident_of_0():
    cm = np.array([[5, 0], [3, 7]])
    names = ["0", "1"]
    assert mistakes_title(None, cm, names) == "The most confident mistakes"
    assert mistakes_title((1, 0), cm, names) == "True 1, predicted 0: the most confident of 3"
    assert mistakes_title((0, 1), cm, names) == "True 0, predicted 1: no such mistakes"
    assert mistakes_title((1, 1), cm, names) == (
        "True 1, predicted 1: read right (7), no mistakes here")


@pytest.mark.parametrize("loss, words", [(0.25, "0.25"), (1e-4, "1.0e-04"), (0.0, "0 to float")])
def test_a_sure_digits_loss_never_reads_0_when_it_is_not(loss, words):
    _, text = digit_worth(np.array([0.0, 1.0]), 1, loss)
    assert f"the loss is only {words}" in text


def test_the_step_curves_say_which_mini_batches_they_show():
    assert measured_batches(1) == "each mini-batch"
    assert measured_batches(32) == "single mini-batches (each of the first 100, then one in 32)"
    assert "on single mini-batches (each of the first 100, then one in 8)" in \
        update_ratio_caption("constant", 8)
