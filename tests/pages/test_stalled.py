"""A stalled network (issue 18, item 9) in the app: the run stops, the sidebar says so in
one line, the page gives the advice, and the run is kept as stalled."""

STALLING = {"hidden": "300", "act": "sigmoid", "out": "sigmoid+mse", "init": "xavier",
            "opt": "momentum", "lr": "3", "epochs": "0", "sched": "constant"}


def test_a_stalled_run_stops_and_says_why(app):
    at = app(STALLING).run()
    session = at.session_state["session"]
    session.play()
    session.join(timeout=120)
    assert session.state == "stalled" and not session.running and session.ended
    at.run()
    assert not at.exception
    status = [p.proto.text for p in at.sidebar.get("progress")]
    assert any(t.startswith("🧊 stalled") for t in status), status
    assert any("pinned at the wrong end" in c.value for c in at.sidebar.caption)
    advice = [w.value for w in at.warning if "Training stalled" in w.value]
    assert advice and "learning rate about 10x lower" in advice[0]
    assert [r.status for r in session.runs] == ["stalled"]
    assert session.runs[0].ending.startswith("Training stalled: by step ")
    assert 0 <= session.runs[0].test_accuracy <= 0.2
    shown = {m.label: m.value for m in at.metric}
    assert shown["Test accuracy"] == f"{session.runs[0].test_accuracy:.2%}"
    # Play does not start it again: the run has ended, new settings start the next one
    session.play()
    assert session.state == "stalled" and not session.training
