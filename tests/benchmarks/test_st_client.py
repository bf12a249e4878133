"""benchmarks/st_client.py against a real `streamlit run`: one session of the light
client presses Play, sees its step counter move and its page redraw (only because the
client reruns the live fragments on their timers, as the browser does), presses Pause
and sees the counter hold. No timing is asserted. And the client's message cache, which
this app never uses, on its own."""

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from benchmarks.st_client import Clients, MessageCache

from ..browser.conftest import SERVER_PROBLEMS, running_app


@pytest.mark.slow
def test_one_session_plays_redraws_and_pauses(tmp_path):
    log = tmp_path / "streamlit.log"
    log.touch()
    with running_app(tmp_path, log) as url, Clients() as clients:
        session = clients.open(f"{url}/?epochs=0&sched=constant")  # never ends by itself
        session.wait_for_button("Play", timeout=90)
        session.wait_for_full_run(since=0, timeout=90)
        assert session.last_step() == 0
        assert session.fragment_timers == {}  # nothing trains: no live fragment

        session.wait_for_full_run(since=session.play(), timeout=60)
        assert session.button("Pause") is not None and session.button("Play") is None
        assert sorted(session.fragment_timers.values()) == [1.0, 1.0]  # status, curves
        # three different steps: the counter moved twice after Play, each time in a
        # fragment run this client asked for
        session.wait_until(lambda: len({s for _, s in session.steps}) >= 3, timeout=60)
        redraws = len(session.redraws)
        session.wait_until(lambda: len(session.redraws) >= redraws + 2, timeout=60)
        assert session.auto_reruns_sent >= 2

        paused = session.measure_pause(hold_seconds=1.5, timeout_s=60)
        assert paused["step_when_paused"] > 0
        assert paused["step_after_hold"] == paused["step_when_paused"]
        assert session.button("Play") is not None and session.button("Pause") is None
        assert session.fragment_timers == {}  # paused: the live fragments stopped
        assert session.errors == []
    written = log.read_text(errors="replace").splitlines()
    assert [line for line in written if any(p in line for p in SERVER_PROBLEMS)] == []


def test_the_message_cache_resolves_references_and_forgets_as_the_frontend_does():
    """Streamlit sends a big element once, then a reference to it while the client says
    it has it; the frontend forgets a message not referred to in max_age runs (a fragment
    run ages only its own fragment's messages). This app sends no references
    (.streamlit/config.toml), so the server test never takes this path."""

    def element(text: str, hash_: str, fragment: str = "") -> ForwardMsg:
        msg = ForwardMsg(hash=hash_)
        msg.metadata.cacheable = True
        msg.delta.new_element.markdown.body = text
        msg.delta.fragment_id = fragment
        return msg

    cache = MessageCache()
    big, in_fragment = element("a big element", "h1"), element("in a fragment", "h2", "f")
    for msg in (big, in_fragment):
        assert cache.process(msg, msg.SerializeToString()) is msg
    assert set(cache.messages) == {"h1", "h2"}

    ref = ForwardMsg(ref_hash="h1")
    ref.metadata.delta_path.extend([0, 3])
    full = cache.process(ref, ref.SerializeToString())
    assert full.delta.new_element.markdown.body == "a big element"
    assert list(full.metadata.delta_path) == [0, 3] and cache.hits == 1

    for _ in range(3):
        cache.run_finished(max_age=2, fragment_ids=["f"])  # fragment runs: h1 stays
    assert set(cache.messages) == {"h1"}
    for _ in range(3):
        cache.run_finished(max_age=2, fragment_ids=[])
    assert cache.messages == {}
    missing = ForwardMsg(ref_hash="h1")
    with pytest.raises(RuntimeError, match="missing"):
        cache.process(missing, missing.SerializeToString())
