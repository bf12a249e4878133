"""The Robustness page headless with AppTest, before and after training, and its figure
builders without Streamlit."""

import base64
import json

import numpy as np
import pytest

from dashboard.figures.robustness import answer_figure, robustness_figure
from dashboard.session import DIVERGED
from mnist_np.perturb import Sweep

PAGE = "pages/robustness.py"


def _sweep() -> Sweep:
    return Sweep(plain=0.9,
                 noise=(np.array([0.0, 0.5, 1.0]), np.array([0.9, 0.6, 0.3])),
                 shift_x=(np.array([-1, 0, 1]), np.array([0.7, 0.9, 0.8])),
                 shift_y=(np.array([-1, 0, 1]), np.array([0.6, 0.9, 0.7])),
                 rotation=(np.array([-10, 0, 10]), np.array([0.8, 0.9, 0.85])))


def test_robustness_figure_has_a_panel_per_perturbation_and_marks_the_viewer():
    fig = robustness_figure(_sweep(), sigma=0.5, dx=1, dy=-1, degrees=10)
    names = [t.name for t in fig.data]
    assert names == ["noise", "horizontal shift (right +)", "vertical shift (down +)",
                     "rotation (counterclockwise +)"]
    assert [t.xaxis for t in fig.data] == ["x", "x2", "x2", "x3"]
    assert list(fig.data[2].y) == [0.6, 0.9, 0.7]
    lines = [(s.xref, s.x0) for s in fig.layout.shapes if s.x0 == s.x1]
    assert sorted(lines) == [("x", 0.5), ("x2", -1.0), ("x2", 1.0), ("x3", 10.0)]
    levels = sorted(s.y0 for s in fig.layout.shapes if s.y0 == s.y1)
    assert levels == [0.1] * 3 + [0.9] * 3  # chance and the plain accuracy in each panel
    # the same amount on both shift axes is one marker
    assert len([s for s in robustness_figure(_sweep(), dx=2, dy=2).layout.shapes
                if s.x0 == s.x1 and s.xref == "x2"]) == 1


def test_answer_figure_colours_the_answer_by_right_or_wrong():
    proba = np.full(10, 0.02)
    proba[3] = 0.82
    right, wrong = answer_figure(proba, 3), answer_figure(proba, 5)
    assert right.data[0].marker.color[3] == "#2ca02c" and "right" in right.layout.title.text
    assert wrong.data[0].marker.color[3] == "#d62728" and "wrong" in wrong.layout.title.text
    assert "The network says 3 (82%)" in wrong.layout.title.text
    assert "(true)" in wrong.layout.xaxis.ticktext[5]


# -- the page, with AppTest -------------------------------------------------------------
def _chart(at, key_part: str) -> dict:
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if key_part in json.dumps(spec["layout"].get("title", {})) or \
                key_part in json.dumps(spec["layout"].get("annotations", [])):
            return spec
    raise AssertionError(f"no chart with {key_part!r}")


def _array(value) -> np.ndarray:
    """An array from a chart spec: plotly sends numpy arrays as typed binary data."""
    if isinstance(value, dict):
        shape = [int(n) for n in str(value.get("shape", "-1")).split(",")]
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return flat.reshape(shape).astype(float)
    return np.array(value, dtype=float)


def _plain(at) -> float:
    caption = next(c.value for c in at.caption if "Accuracy without any change" in c.value)
    return float(caption.split(": ")[1].split("%")[0]) / 100


def test_robustness_before_and_after_training(app):
    at = app({"hidden": "64", "batch": "64"}).run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error and not at.main.warning
    assert "not trained yet" in at.info[0].value
    assert _plain(at) < 0.3
    curves = _chart(at, "Gaussian noise")
    assert len(curves["data"]) == 4

    session = at.session_state["session"]
    for _ in range(300):
        session.step()
    at.run()
    assert not at.exception and not at.info
    assert _plain(at) > 0.8
    noise = _chart(at, "Gaussian noise")["data"][0]["y"]
    assert noise[0] == pytest.approx(_plain(at), abs=1e-3) and noise[-1] < noise[0] - 0.1

    at.slider(key="robustness_dx").set_value(6).run()
    at.slider(key="robustness_degrees").set_value(45).run()
    at.number_input(key="robustness_digit").set_value(7).run()
    assert not at.exception
    shapes = _chart(at, "Gaussian noise")["layout"]["shapes"]
    marks = {(s["xref"], s["x0"]) for s in shapes if s["x0"] == s["x1"]}
    assert ("x2", 6) in marks and ("x3", 45) in marks
    answer = _chart(at, "The network says")
    assert len(answer["data"][0]["y"]) == 10
    z = _array(_chart(at, "perturbed")["data"][0]["z"])
    original, perturbed = z[9:, :28], z[9:, 31:]
    assert not np.allclose(original, perturbed)


def test_a_network_that_is_not_finite_gets_a_message_not_curves(app):
    at = app({"hidden": "16"}).run()
    session = at.session_state["session"]
    broken = session.net.copy()  # e.g. an uploaded model that overflows
    broken.weights[0][:] = np.nan
    session.load_network(broken, session.settings, "broken.npz")
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any(w.value.startswith("No curves:") and "diverged" in w.value for w in at.warning)


def test_a_diverged_network_is_named_and_overflow_is_not_an_error(diverged):
    at = diverged
    session = at.session_state["session"]
    at.switch_page(PAGE).run()
    assert not at.exception and session.state == DIVERGED
    assert any("diverged" in w.value for w in at.main.warning)
    at.slider(key="robustness_sigma").set_value(1.0).run()
    assert not at.exception
