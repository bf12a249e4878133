"""The Network diagram & neuron lab page (AppTest): the diagram and the card before and
after training, and the lab's changes to the live network through the fallback widgets
(a click on the diagram is a browser's; its selection is read by figures.lab)."""

import numpy as np

from dashboard.session import PAUSED
from mnist_np import lab

from .conftest import chart_keys, open_page, train_to_the_end

PAGE = "network"


def _infos(at) -> list[str]:
    return [i.value.replace("\\", "") for i in at.info]  # plain() escapes ()[]:


def _params(net):
    return [a.tobytes() for a in net.weights + net.biases]


def test_the_page_draws_the_diagram_and_a_units_card_before_and_after_training(app):
    at = open_page(app, PAGE)
    assert not at.exception and not at.error
    assert "Not trained yet" in " ".join(i.value for i in at.info)
    keys = chart_keys(at)
    assert keys[0] == "network_diagram"
    for key in ("network_field", "network_histogram", "network_top", "network_votes",
                "network_pruning"):
        assert key in keys
    train_to_the_end(at)
    at.run()
    assert not at.exception and not at.error
    assert chart_keys(at)[0] == "network_diagram"
    heads = " ".join(h.value for h in at.subheader)
    assert "Hidden 1, unit " in heads and "of the digits" in heads


def test_switch_off_then_undo_on_the_live_network(app):
    at = open_page(app, PAGE)
    session = at.session_state["session"]
    at.button(key="step").click().run()
    before = _params(session.net)
    at.number_input(key="network_unit").set_value(7).run()
    at.button(key="network_off").click().run()
    assert not at.exception and not at.error
    assert np.all(session.net.weights[1][7] == 0) and lab.silent(session.net, 1).sum() == 1
    assert session.state == PAUSED and len(session.lab_changes) == 1
    assert "Done: switched off unit 7 of hidden layer 1." in _infos(at)
    assert "network_change" in chart_keys(at)  # accuracy per digit, before and after
    heads = " ".join(h.value for h in at.subheader)
    assert ": switched off (" in heads and "alive" not in heads and "dead" not in heads
    assert "network_votes" not in chart_keys(at)  # no empty chart: it votes for nothing
    assert any(i.startswith("None: switched off") for i in _infos(at))
    at.button(key="network_undo").click().run()
    assert "network_votes" in chart_keys(at)
    assert _params(session.net) == before and session.lab_changes == []
    assert "Undone: switched off unit 7 of hidden layer 1." in _infos(at)
    log = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "This run's 2 changes so far" in log and "undid: switched off unit 7" in log


def test_edit_a_weight_and_a_bias_and_prune(app):
    at = open_page(app, PAGE)
    session = at.session_state["session"]
    at.selectbox(key="network_layer").set_value(2).run()  # the output layer: digit scores
    assert at.button(key="network_off").disabled
    assert "network_pruning" not in chart_keys(at)
    at.radio(key="network_what").set_value("one incoming weight").run()
    at.number_input(key="network_input").set_value(5)
    at.number_input(key="network_unit").set_value(3)
    at.number_input(key="network_value").set_value(2.5).run()
    at.button(key="network_apply").click().run()
    assert not at.exception and not at.error
    assert session.net.weights[1][5, 3] == np.float32(2.5)
    at.radio(key="network_what").set_value("its bias").run()
    at.number_input(key="network_value").set_value(-1.0).run()
    at.button(key="network_apply").click().run()
    assert session.net.biases[1][3] == np.float32(-1.0)
    at.selectbox(key="network_layer").set_value(1).run()
    at.slider(key="network_k").set_value(10).run()
    at.button(key="network_prune").click().run()
    assert not at.exception and not at.error
    assert lab.silent(session.net, 1).sum() == 10
    assert [c.kind for c in session.lab_changes] == ["weight", "bias", "prune"]


def test_a_network_without_hidden_layers_has_only_its_output_to_look_at(app):
    at = open_page(app, PAGE, {"hidden": "none", "train": "1000"})
    assert not at.exception and not at.error
    assert at.button(key="network_off").disabled
    assert chart_keys(at)[0] == "network_diagram"
    at.number_input(key="network_digit").set_value(9999).run()
    assert not at.exception and not at.error
