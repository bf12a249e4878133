"""The Train page through AppTest: its numbers agree with the sidebar's while training."""

import re

from dashboard import session as session_module


def test_the_page_and_the_sidebar_show_the_same_step_while_training(app, monkeypatch):
    # Before: the sidebar read the step, then the page read it again a moment later
    # while the thread trained on ("Step 705" beside "step 642").
    monkeypatch.setattr(session_module, "PROGRESS_TICK_SECONDS", 3600.0)
    at = app({"epochs": "100"}).run()
    at.button(key="play").click().run()
    session = at.session_state["session"]
    try:
        for _ in range(3):
            at.run()
            (bar,) = [p for p in at.sidebar.get("progress")]
            sidebar_step = int(re.search(r"step ([\d,]+)", bar.proto.text).group(1)
                               .replace(",", ""))
            page_step = int(next(m for m in at.metric if m.label == "Step").value
                            .replace(",", ""))
            assert page_step == sidebar_step
        assert session.trainer.step_count > page_step  # trained on meanwhile
    finally:
        session.close()
