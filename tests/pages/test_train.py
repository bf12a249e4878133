"""The Train page through AppTest: its numbers agree with the sidebar's while training."""

import re

from dashboard.session import FINISHED

from ..conftest import wait_for


def test_the_step_is_shown_once_so_the_page_never_contradicts_the_sidebar(app):
    # Before: the sidebar's "step 642" beside the page's "Step 705" while training ran
    # (two redraws, each about once a second, at different moments).
    at = app({"epochs": "100", "hidden": "16"}).run()
    at.button(key="step").click().run()
    (bar,) = at.sidebar.get("progress")
    assert re.search(r"step 1$", bar.proto.text)
    labels = [m.label for m in at.metric]
    assert labels == ["Train accuracy", "Validation accuracy", "Test accuracy"]


def test_a_setting_changed_after_the_run_ended_is_for_the_next_run(app):
    # Before: moving the learning rate after the end relabelled the finished run
    # ("adam lr=0.007" beside its test accuracy), changed the URL and left Play greyed out.
    at = app({"hidden": "16", "act": "tanh", "opt": "adam", "lr": "0.003", "seed": "7",
              "steps": "30", "train": "1000"}).run()
    session = at.session_state["session"]
    at.button(key="play").click().run()
    wait_for(lambda: session.state == FINISHED, timeout=60)
    at.run()
    finished = session.settings
    at.select_slider(key="cfg_lr").set_value(0.007).run()
    assert session.state == FINISHED and session.settings == finished  # not relabelled
    assert at.query_params["lr"] == "0.003"  # the URL describes the network on screen
    captions = " ".join(c.value for c in at.caption)
    assert "adam lr=0.003" in captions and "**Next run**" in captions
    assert "adam lr=0.007" in captions.split("**Next run**")[1]
    assert any("for the next run" in i.value for i in at.sidebar.info)
    play = at.button(key="play")
    assert not play.disabled
    play.click().run()  # starts the next run with the new settings
    assert session.settings.lr == 0.007 and session.trainer.lr == 0.007
    assert len(session.runs) == 1 and session.runs[0].settings.lr == 0.003
    wait_for(lambda: session.state == FINISHED, timeout=60)
    at.run()
    assert at.query_params["lr"] == "0.007"
    assert not any("for the next run" in i.value for i in at.sidebar.info)


def test_going_back_to_the_ended_runs_settings_plans_nothing(app):
    at = app({"hidden": "16", "steps": "5", "train": "1000"}).run()
    session = at.session_state["session"]
    at.button(key="step").click().run()
    for _ in range(4):
        at.button(key="step").click().run()
    assert session.state == FINISHED and at.button(key="play").disabled
    at.select_slider(key="cfg_lr").set_value(0.05).run()
    assert session.next_settings is not None and not at.button(key="play").disabled
    at.select_slider(key="cfg_lr").set_value(0.2).run()
    assert session.next_settings is None and at.button(key="play").disabled


def test_epochs_0_trains_until_paused(app):
    at = app({"hidden": "16", "train": "1000", "batch": "100"}).run()
    session = at.session_state["session"]
    at.number_input(key="cfg_epochs").set_value(0).run()
    assert session.settings.until_paused and session.settings.schedule == "constant"
    assert any("uses the constant learning-rate schedule" in i.value for i in at.info)
    at.button(key="play").click().run()
    try:
        wait_for(lambda: session.trainer.completed_epochs >= 3, timeout=60)  # past 6 epochs'
        at.run()                                                              # worth of none
        assert session.running
        (bar,) = at.sidebar.get("progress")
        assert "(until you pause)" in bar.proto.text
        assert "until paused" in " ".join(c.value for c in at.caption)
    finally:
        session.close()
    assert session.state == "paused" and not session.ended


def test_the_curves_are_explained(app):
    at = app({"hidden": "16"}).run()
    said = " ".join(c.value for c in at.caption)
    for words in ("**Batch loss**", "moving average", "**validation loss**",
                  "sits above", "by heart"):
        assert words in said


def test_after_an_early_stop_the_validation_accuracy_is_the_put_back_epochs(app):
    # Before: the page showed the last epoch's validation accuracy (75.50%) beside a
    # network whose weights were the best epoch's (77.90%).
    at = app({"hidden": "16", "opt": "sgd", "lr": "1.0", "sched": "constant", "seed": "1",
              "epochs": "30", "train": "1000", "patience": "1"}).run()
    session = at.session_state["session"]
    at.button(key="play").click().run()
    wait_for(lambda: session.state == FINISHED, timeout=60)
    at.run()
    trainer = session.trainer
    assert trainer.stop_reason.startswith("Stopped early")
    assert trainer.epoch_records[-1].val_accuracy < trainer.best.accuracy
    shown = {m.label: m.value for m in at.metric}["Validation accuracy"]
    assert shown == f"{trainer.best.accuracy:.2%}"
