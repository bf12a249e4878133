"""The Robustness page headless with AppTest: before and after training, and with a network
that is not finite or diverged."""

import base64
import json

import numpy as np
import pytest

from dashboard.session import DIVERGED

PAGE = "pages/robustness.py"


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
    digit = at.number_input(key="robustness_digit")  # numbered as on every other page
    n = len(session.data.y_test)
    assert (digit.min, digit.max, digit.value) == (0, n - 1, 0)
    assert digit.label == f"Test digit (0 to {n - 1:,})"
    digit.set_value(7).run()
    assert not at.exception
    shapes = _chart(at, "Gaussian noise")["layout"]["shapes"]
    marks = {(s["xref"], s["x0"]) for s in shapes if s["x0"] == s["x1"]}
    assert ("x2", 6) in marks and ("x3", 45) in marks
    answer = _chart(at, "The network says")
    assert len(answer["data"][0]["y"]) == 10
    z = _array(_chart(at, "perturbed")["data"][0]["z"])
    original, perturbed = z[9:, :28], z[9:, 31:]
    assert not np.allclose(original, perturbed)
    np.testing.assert_allclose(original, session.data.X_test[7].reshape(28, 28), atol=1e-6)


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


def test_twins_trained_with_and_without_augmentation_are_compared(app, monkeypatch):
    from dashboard import twins

    from ..conftest import wait_for

    monkeypatch.setattr(twins, "BUDGET_STEPS", 30)
    at = app({"hidden": "16", "train": "1000"}).run()
    at.switch_page(PAGE).run()
    assert any("standard one" in c.value for c in at.caption)
    at.button(key="robustness_twins_start").click().run()
    comparison = at.session_state["robustness_twins"]
    wait_for(lambda: comparison.state != twins.RUNNING, 120)
    at.run()
    assert not at.exception and comparison.state == twins.DONE
    spec = _chart(at, "Shift (x and y)")
    assert {t["name"] for t in spec["data"]} == {
        "without augmentation", "with augmentation (shift ±2 px, rotation ±15°, scale ±10%)"}
    summary = next(c.value for c in at.caption if "steps in" in c.value)
    assert summary.count("30 steps in") == 2
    assert at.session_state["session"].trainer.step_count == 0  # the sidebar's is untouched
    at.button(key="robustness_twins_start").click().run()  # again: a new comparison
    assert at.session_state["robustness_twins"] is not comparison
    at.session_state["robustness_twins"].cancel()
