"""The "Back to the pixels" page headless with AppTest: each view before and after training,
every source of a digit (test set, a mistake, the drawing from the Draw page), a diverged
network, and another data set's class names."""

import json

import numpy as np
import pytest

from dashboard.sections.pixels import DRAWING, DRAWING_KEY, MISTAKE
from mnist_np.pixels import FGSM, ITERATIVE, attack, saliency
from tests.conftest import canvas_value, wait_for
from tests.pages.conftest import SMALL, chart_keys, check_works_for_any_depth, open_page
from tests.pages.test_datasets import fashion_env  # noqa: F401 (a fixture, used by name)

PAGE = "pixels"
SALIENCY, ATTACK, DREAMS = "saliency", "attack", "dreams"


def _spec(at, key: str) -> dict:
    for chart in at.get("plotly_chart"):
        if chart.proto.id.endswith(key):
            return json.loads(chart.proto.spec)
    raise AssertionError(f"no chart {key}")


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def _train(at, steps: int = 40) -> None:
    session = at.session_state["session"]
    for _ in range(steps):
        session.step()
    at.run()


def test_saliency_before_and_after_training(app):
    at = open_page(app, PAGE)
    assert not at.exception and not at.error
    assert "Not trained yet" in " ".join(i.value for i in at.info)
    assert chart_keys(at) == ["pixels_saliency", "pixels_saliency_answer"]
    assert "∂L/∂a₀ = δ₁W₁ᵀ" in _captions(at) and "test digit 0" in _captions(at)

    _train(at)
    at.number_input(key="pixels_index").set_value(3).run()
    at.selectbox(key="pixels_target").set_value(5).run()
    assert not at.exception and not any("Not trained yet" in i.value for i in at.info)
    session = at.session_state["session"]
    net, _ = session.network_copy()
    expected = saliency(net, session.data.X_test[3], 5)
    title = _spec(at, "pixels_saliency")["layout"]["annotations"][1]["text"]
    assert title == "saliency for 5: −∂L/∂x"
    assert "Minus the gradient of the loss" in _captions(at)  # it says what is drawn
    assert "label set to 5" in _captions(at) and "test digit 3" in _captions(at)
    assert "more sure of 5" in _captions(at)
    shown = _spec(at, "pixels_saliency")["data"][1]
    limit = float(np.abs(expected.gradient).max())
    assert shown["zmax"] == -shown["zmin"] and abs(shown["zmax"] - limit) <= 1e-6 * limit


def _epsilon_in_caption(at) -> float:
    text = _captions(at)
    assert "The smallest ε that works is **" in text, text
    return float(text.split("The smallest ε that works is **")[1].split("**")[0])


def test_the_adversarial_digit_is_the_engines_smallest_flip(app):
    at = open_page(app, PAGE)
    _train(at)
    at.radio(key="pixels_view").set_value(ATTACK).run()
    assert not at.exception and not at.error
    assert chart_keys(at) == ["pixels_attack", "pixels_attack_answer", "pixels_epsilons"]
    session = at.session_state["session"]
    net, _ = session.network_copy()
    x = session.data.X_test[0]
    for method in (FGSM, ITERATIVE):
        at.radio(key="pixels_method").set_value(method).run()
        assert not at.exception
        expected = attack(net, x, method)
        assert expected.succeeded
        assert _epsilon_in_caption(at) == expected.epsilon
        titles = [a["text"] for a in _spec(at, "pixels_attack")["layout"]["annotations"]]
        assert titles[1] == f"change<br>at most ε = {expected.epsilon:g}"
        assert titles[2].startswith(f"result<br>reads {expected.answer_after} ")
    assert "20 such steps" in _captions(at)
    assert "(each bar above: orange where the answer changed" in _captions(at)
    at.selectbox(key="pixels_goal").set_value(2).run()
    assert not at.exception and "aiming at 2." in _captions(at)


def test_what_it_thinks_each_digit_looks_like(app):
    at = open_page(app, PAGE)
    at.radio(key="pixels_view").set_value(DREAMS).run()
    assert not at.exception and not at.error
    assert chart_keys(at) == ["pixels_dreams"]
    assert "Not trained yet" in " ".join(i.value for i in at.info)
    captions = [a["text"] for a in _spec(at, "pixels_dreams")["layout"]["annotations"]]
    assert [c.split(" ")[0] for c in captions] == [str(d) for d in range(10)]
    assert "80 steps of gradient ascent" in _captions(at)
    assert not [s for s in at.selectbox if s.key == "pixels_source"]


def test_a_mistake_and_the_drawing(app):
    at = open_page(app, PAGE)
    _train(at)
    at.selectbox(key="pixels_source").set_value(MISTAKE).run()
    at.number_input(key="pixels_mistake").set_value(2).run()
    assert not at.exception and not at.error
    assert "mistake 2 of" in _captions(at)
    assert chart_keys(at) == ["pixels_saliency", "pixels_saliency_answer"]
    at.number_input(key="pixels_mistake").set_value(100_000).run()
    assert "this is the last one" in _captions(at)

    at.selectbox(key="pixels_source").set_value(DRAWING).run()
    assert not at.exception
    assert any("Nothing drawn yet" in i.value for i in at.info) and not chart_keys(at)
    image = np.zeros((140, 140), np.uint8)
    image[30:110, 65:75] = 255  # a 1
    at.session_state[DRAWING_KEY] = canvas_value(image)["image"]
    at.run()
    assert not at.exception and "your drawing" in _captions(at)
    assert chart_keys(at) == ["pixels_saliency", "pixels_saliency_answer"]
    at.session_state[DRAWING_KEY] = {"w": 3, "h": 3, "b64": "!!"}
    at.run()
    assert not at.exception
    assert any("Your drawing cannot be used" in e.value for e in at.error)


def test_a_network_that_is_not_finite_gets_a_message_in_every_view(app):
    at = app({"hidden": "16"}).run()
    session = at.session_state["session"]
    broken = session.net.copy()  # e.g. an uploaded model that overflows
    broken.weights[0][:] = np.nan
    session.load_network(broken, session.settings, "broken.npz")
    at.switch_page("pages/pixels.py").run()
    for view in (SALIENCY, ATTACK, DREAMS):
        at.radio(key="pixels_view").set_value(view).run()
        assert not at.exception and not chart_keys(at)
        assert any("not finite" in w.value for w in at.warning), view


def test_a_diverged_network_is_said_not_drawn(diverged):
    at = diverged.switch_page("pages/pixels.py").run()
    assert not at.exception
    assert any("diverged" in w.value for w in at.main.warning)
    for view in (ATTACK, DREAMS):
        at.radio(key="pixels_view").set_value(view).run()
        assert not at.exception


@pytest.mark.usefixtures("fashion_env")
def test_another_data_set_names_its_classes(app):
    at = app({"data": "fashion", "hidden": "16"}).run()
    at.session_state["session"].step()
    at.switch_page("pages/pixels.py").run()
    assert not at.exception and not at.error
    names = list(at.session_state["session"].data.classes)
    assert at.radio(key="pixels_view").options == ["Saliency map", "Adversarial image",
                                                   "What it thinks each class looks like"]
    title = _spec(at, "pixels_saliency")["layout"]["annotations"][1]["text"]
    assert title.removeprefix("saliency for ").removesuffix(": −∂L/∂x") in names
    assert "test image 0" in _captions(at)
    at.radio(key="pixels_view").set_value(DREAMS).run()
    captions = [a["text"] for a in _spec(at, "pixels_dreams")["layout"]["annotations"]]
    assert [c.rsplit(" (", 1)[0] for c in captions] == names
    assert "Sneaker" in names and "output for that class" in _captions(at)


@pytest.mark.parametrize("hidden", ["none", "24,16,12"])
def test_the_page_works_for_any_depth(app, hidden):
    """No hidden layer (δ₁ is the output's δ) and three, sigmoid with mean squared error."""
    check_works_for_any_depth(app, PAGE, hidden)


def test_the_page_draws_while_training_runs(app):
    at = open_page(app, PAGE, {**SMALL, "epochs": "0", "sched": "constant"})
    session = at.session_state["session"]
    session.play()
    try:
        wait_for(lambda: session.progress().step >= 5)
        assert session.running
        at.radio(key="pixels_view").set_value(ATTACK).run()
        assert not at.exception and not at.error
        assert chart_keys(at) == ["pixels_attack", "pixels_attack_answer", "pixels_epsilons"]
        assert "Redrawn at most every 3 s while training runs" in _captions(at)
        at.radio(key="pixels_view").set_value(DREAMS).run()
        assert not at.exception and chart_keys(at) == ["pixels_dreams"]
    finally:
        session.pause()
