"""A light Streamlit client for benchmarks: many sessions on one server without a browser.

It speaks Streamlit 1.67's websocket protocol the way the browser frontend does, with
Streamlit's own protobuf classes, and draws nothing. Read from the installed package
(``web/server/starlette/starlette_websocket.py``, ``runtime/app_session.py``,
``runtime/fragment.py``, ``runtime/forward_msg_cache.py``, and the frontend bundle's
``App`` and ``ForwardMsgCache`` in ``static/static/js/index.*.js``):

- **Connect**: a websocket to ``/_stcore/stream`` offering the subprotocol ``streamlit``
  (the server repurposes later entries for an XSRF token and a session id to resume;
  a new session sends neither). The server then waits for the first ``rerun_script``.
- **Run the script**: a ``BackMsg.rerun_script`` ClientState with the query string, the
  page (on the first run ``page_name`` from the URL path and no hash; afterwards the
  ``page_script_hash`` the server's ``new_session`` named), the widget states, the
  hashes of the messages this client has cached, and the browser's context.
- **What comes back** (``ForwardMsg``): ``new_session`` at the start of every run (a
  fragment run's metadata lists its fragment ids), ``delta`` per element at its
  ``delta_path`` (root 0 the main area, 1 the sidebar) carrying the server's hash of
  the message, ``ref_hash`` for a large element the client said it had cached (looked
  up here as the frontend's cache does, which forgets entries not seen for
  ``max_cached_message_age`` runs), ``auto_rerun`` / ``stop_auto_rerun``,
  ``page_info_changed`` (the query string the app set), ``script_finished``.
- **``st.fragment(run_every=...)``**: the server does not rerun a fragment by itself.
  It sends ``auto_rerun`` (interval, fragment id) each time the fragment is drawn, and
  the frontend starts a ``setInterval`` that sends a ``rerun_script`` for that
  fragment with ``is_auto_rerun`` every interval, whether a run is going on or not (the
  same interval again leaves the running timer alone); a full run's ``new_session``
  clears every timer, and the fragments that run again start theirs anew. So does this
  client: a page "keeps drawing" only because the client keeps asking.
- **A click** on a button: a WidgetState with the button's widget id (from its delta)
  and ``trigger_value`` True, in a rerun of the whole app (or of the button's fragment).

What differs from the browser: widget values are not echoed back (the browser sends the
value each widget holds, which is the server's own unless the user changed it; without
them the server keeps the values it has), no heartbeats and no HTTP requests beside the
websocket, and no drawing: the CPU this client uses is what reading the messages costs.

For benchmarks (``benchmarks/sessions.py --client ws``) each :class:`Session` keeps, on
its own clock (``time.monotonic()`` in ms), the same records the browser benchmark
reads from inside its pages: every change of the sidebar's step counter, every change
of the main area (a delta whose content differs from what was at its place), and when a
sidebar Play or Pause button appeared. All sessions run on one asyncio loop in one
thread (:class:`Clients`); their methods may be called from any other thread.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from websockets.asyncio.client import ClientConnection, connect

MAIN, SIDEBAR = 0, 1  # the roots of a delta_path
STEP = re.compile(r"step ([\d,]+)")
REDRAW_GAP_MS = 100  # main-area changes closer than this count once (as in the browser's)
FINISHED = ForwardMsg.ScriptFinishedStatus
DEFAULT_MAX_AGE = 2  # Streamlit's global.maxCachedMessageAge


def clock() -> float:
    """This client's clock, in ms (the benchmarks' "page clock")."""
    return time.monotonic() * 1000


@dataclass
class Element:
    """What a delta put at one place: the server's hash of it, the run that sent it, its
    fragment, and for buttons and progress bars what the benchmark reads."""

    hash: str
    run_id: str
    fragment_id: str
    kind: str  # "new_element:button", "add_block", ...
    label: str = ""  # a button's label, a progress bar's text
    widget_id: str = ""


@dataclass
class _Cached:
    data: bytes
    run_count: int
    fragment_id: str


class MessageCache:
    """The frontend's ForwardMsgCache: cacheable messages by hash, so the server may send
    a reference instead; an entry not referred to in ``max_age`` runs (of its fragment,
    when fragment runs) is forgotten."""

    def __init__(self) -> None:
        self.messages: dict[str, _Cached] = {}
        self.run_count = 0
        self.hits = 0  # references resolved

    def process(self, msg: ForwardMsg, data: bytes) -> ForwardMsg:
        """``msg`` itself, or for a reference the cached message it names (with the
        reference's metadata)."""
        kind = msg.WhichOneof("type")
        if kind != "ref_hash" and msg.metadata.cacheable and msg.hash:
            if self._get(msg.hash) is None:
                self.messages[msg.hash] = _Cached(data, self.run_count, msg.delta.fragment_id)
        if kind != "ref_hash":
            return msg
        cached = self._get(msg.ref_hash)
        if cached is None:
            raise RuntimeError(f"cached ForwardMsg missing: {msg.ref_hash}")
        self.hits += 1
        full = ForwardMsg()
        full.ParseFromString(cached)
        full.metadata.CopyFrom(msg.metadata)
        return full

    def _get(self, hash_: str) -> bytes | None:
        entry = self.messages.get(hash_)
        if entry is None:
            return None
        entry.run_count = self.run_count  # referred to now: young again
        return entry.data

    def run_finished(self, max_age: int, fragment_ids: list[str]) -> None:
        self.run_count += 1
        for hash_, entry in list(self.messages.items()):
            if fragment_ids and entry.fragment_id not in fragment_ids:
                continue  # a fragment run ages only its own fragments' messages
            if self.run_count - entry.run_count > max_age:
                del self.messages[hash_]


@dataclass
class Session:
    """One browser session: its websocket, its elements and fragment timers, and what the
    benchmarks read (``steps``, ``redraws``, ``appeared``, ``finished``)."""

    url: str  # e.g. http://127.0.0.1:8501/?epochs=100 (path: the page)
    loop: asyncio.AbstractEventLoop
    steps: list[tuple[float, int]] = field(default_factory=list)
    redraws: list[float] = field(default_factory=list)
    appeared: list[tuple[float, str]] = field(default_factory=list)
    # (time, status, fragment ids) of every script_finished
    finished: list[tuple[float, int, tuple[str, ...]]] = field(default_factory=list)
    # (time of its new_session, time of its first delta or None, fragment ids) of every run
    started: list[tuple[float, float | None, tuple[str, ...]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # exceptions the app showed, protocol
    messages: int = 0
    bytes_received: int = 0
    reruns_sent: int = 0
    auto_reruns_sent: int = 0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        self._ws_url = f"ws://{parts.netloc}/_stcore/stream"
        self.query = parts.query
        self._first_page_name = parts.path.strip("/")
        self.page_script_hash = ""
        self.elements: dict[tuple[int, ...], Element] = {}
        self.cache = MessageCache()
        self.max_age = DEFAULT_MAX_AGE
        self.running = False  # session_status_changed's script_is_running
        self._run_id = ""
        self._new_session_seen = False
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}
        self._shown = {"Play": False, "Pause": False}
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._changed = threading.Condition()

    # -- in the loop's thread --------------------------------------------------------
    async def _connect(self) -> None:
        # as a browser: no pings of its own (a server starved for 20 s would otherwise be
        # dropped), and no backpressure (the server's send queue would overflow instead)
        self._ws = await connect(self._ws_url, subprotocols=["streamlit"],  # type: ignore[list-item]
                                 max_size=None, max_queue=None, ping_interval=None,
                                 open_timeout=120)
        self._reader = asyncio.create_task(self._read())
        await self._rerun()

    async def _rerun(self, triggers: tuple[str, ...] = (), fragment_id: str = "",
                     auto: bool = False) -> None:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        if self.page_script_hash:
            state.page_script_hash = self.page_script_hash
        else:
            state.page_name = self._first_page_name
        states = WidgetStates()
        for widget_id in triggers:
            states.widgets.add(id=widget_id, trigger_value=True)
        state.widget_states.CopyFrom(states)
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        state.cached_message_hashes.extend(self.cache.messages)
        info = state.context_info
        info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
        info.url, info.is_embedded, info.color_scheme = self.url, False, "light"
        self._new_session_seen = False
        self.reruns_sent += 1
        self.auto_reruns_sent += auto
        assert self._ws is not None
        await self._ws.send(msg.SerializeToString())

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for data in self._ws:
                assert isinstance(data, bytes)
                self.messages += 1
                self.bytes_received += len(data)
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._handle(self.cache.process(msg, data))
                with self._changed:
                    self._changed.notify_all()
        except Exception as e:  # a socket closed cleanly ends the loop; anything else is noted
            self.errors.append(f"{type(e).__name__}: {e}")
        finally:
            for _, task in self._timers.values():
                task.cancel()
            with self._changed:
                self._changed.notify_all()

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self._new_session_seen = True
            self._run_id = msg.metadata.run.script_run_id
            self.started.append((clock(), None, tuple(msg.metadata.run.fragment_ids)))
            if msg.new_session.page_script_hash:
                self.page_script_hash = msg.new_session.page_script_hash
            if msg.new_session.config.max_cached_message_age:
                self.max_age = msg.new_session.config.max_cached_message_age
            if not msg.metadata.run.fragment_ids:  # a full run: its fragments start anew
                for _, task in self._timers.values():
                    task.cancel()
                self._timers.clear()
        elif kind == "navigation":  # the page this run shows (MPA v2)
            self.page_script_hash = msg.navigation.page_script_hash
        elif kind == "delta":
            self._delta(msg)
        elif kind == "auto_rerun":
            self._auto_rerun(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids:
                timer = self._timers.pop(fragment_id, None)
                if timer:
                    timer[1].cancel()
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "session_status_changed":
            self.running = msg.session_status_changed.script_is_running
        elif kind == "script_finished":
            self._script_finished(msg)

    def _delta(self, msg: ForwardMsg) -> None:
        path = tuple(msg.metadata.delta_path)
        delta = msg.delta
        kind: str = delta.WhichOneof("type") or ""
        label = widget_id = ""
        if kind == "new_element":
            element = delta.new_element
            what = element.WhichOneof("type") or ""
            kind = f"new_element:{what}"
            if what == "button":
                label, widget_id = element.button.label, element.button.id
            elif what == "progress":
                label = element.progress.text
            elif what == "exception":
                self.errors.append(f"{element.exception.type}: {element.exception.message}")
            elif what == "alert" and element.alert.format == 1:  # ERROR
                self.errors.append(element.alert.body)
        old = self.elements.get(path)
        now = clock()
        if self.started and self.started[-1][1] is None:
            self.started[-1] = (self.started[-1][0], now, self.started[-1][2])
        self.elements[path] = Element(msg.hash, self._run_id, delta.fragment_id, kind,
                                      label, widget_id)
        if path and path[0] == MAIN and (old is None or old.hash != msg.hash):
            if not self.redraws or now - self.redraws[-1] > REDRAW_GAP_MS:
                self.redraws.append(now)
        if path and path[0] == SIDEBAR:
            if kind == "new_element:progress" and (m := STEP.search(label)):
                step = int(m.group(1).replace(",", ""))
                if not self.steps or self.steps[-1][1] != step:
                    self.steps.append((now, step))
            if kind == "new_element:button" or (old and old.kind == "new_element:button"):
                self._note_buttons(now)

    def _note_buttons(self, now: float) -> None:
        labels = [e.label for p, e in self.elements.items()
                  if p[0] == SIDEBAR and e.kind == "new_element:button"]
        for name in self._shown:
            shown = any(name in label for label in labels)
            if shown and not self._shown[name]:
                self.appeared.append((now, name))
            self._shown[name] = shown

    def _script_finished(self, msg: ForwardMsg) -> None:
        status = msg.script_finished
        fragments = tuple(msg.metadata.run.fragment_ids)
        self.finished.append((clock(), status, fragments))
        if status in (FINISHED.FINISHED_SUCCESSFULLY,
                      FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
            run_id = msg.metadata.run.script_run_id or self._run_id
            # what this run did not draw again is gone (the frontend's clearStaleNodes)
            stale = [p for p, e in self.elements.items() if e.run_id != run_id
                     and (not fragments or e.fragment_id in fragments)]
            for p in stale:
                del self.elements[p]
            if stale:
                self._note_buttons(clock())
        if status != FINISHED.FINISHED_EARLY_FOR_RERUN and self._new_session_seen:
            self.cache.run_finished(self.max_age, list(fragments))

    def _auto_rerun(self, fragment_id: str, interval: float) -> None:
        if not fragment_id:
            return
        timer = self._timers.get(fragment_id)
        if timer is not None and timer[0] == interval:
            return  # the frontend leaves a running timer of the same interval alone
        if timer is not None:
            timer[1].cancel()
        self._timers[fragment_id] = (interval, asyncio.create_task(
            self._every(fragment_id, interval)))

    async def _every(self, fragment_id: str, interval: float) -> None:
        """setInterval: a fragment rerun every ``interval`` s from now, on time."""
        due = self.loop.time()
        while True:
            due += interval
            await asyncio.sleep(max(0.0, due - self.loop.time()))
            await self._rerun(fragment_id=fragment_id, auto=True)

    async def _close(self) -> None:
        for _, task in self._timers.values():
            task.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass

    # -- from any other thread ---------------------------------------------------------
    def _call(self, coro: Any, timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def clock(self) -> float:
        return clock()

    @property
    def fragment_timers(self) -> dict[str, float]:
        """The fragments this session reruns by itself now, with their intervals (s)."""
        return {fragment_id: interval for fragment_id, (interval, _) in
                list(self._timers.items())}

    def buttons(self, where: int = SIDEBAR) -> dict[str, Element]:
        """The buttons drawn now under the root ``where``, by label."""
        return {e.label: e for p, e in list(self.elements.items())
                if p[0] == where and e.kind == "new_element:button"}

    def button(self, name: str, where: int = SIDEBAR) -> Element | None:
        """The button whose label contains ``name`` ("Play" finds "▶ Play")."""
        return next((e for label, e in self.buttons(where).items() if name in label), None)

    def click(self, name: str, where: int = SIDEBAR) -> float:
        """Click the button labelled ``name``: the time the click was sent."""
        found = self.button(name, where)
        if found is None:
            raise LookupError(f"no {name!r} button; there are {sorted(self.buttons(where))}")
        sent = clock()
        self._call(self._rerun((found.widget_id,), fragment_id=found.fragment_id))
        return sent

    def rerun(self) -> float:
        """A rerun of the whole app, no widget changed (as after a reconnect): its time."""
        sent = clock()
        self._call(self._rerun())
        return sent

    def wait_until(self, done: Callable[[], bool], timeout: float = 120) -> None:
        """Until ``done()`` (checked after every message), at most ``timeout`` s."""
        with self._changed:
            if not self._changed.wait_for(
                    lambda: done() or (self._reader is not None and self._reader.done()),
                    timeout):
                raise TimeoutError(f"not within {timeout} s")
        if not done():
            raise ConnectionError(f"the websocket closed: {self.errors[-1:]}")

    def wait_for_button(self, name: str, timeout: float = 120) -> Element:
        self.wait_until(lambda: self.button(name) is not None, timeout)
        found = self.button(name)
        assert found is not None
        return found

    def wait_for_full_run(self, since: float, timeout: float = 120) -> float:
        """Until a run of the whole app that started after ``since`` (ms) finished
        successfully: when it did. (A run that started before ``since`` and ended after
        it does not count: after a click, its step counter can predate the click's
        own run, whose sidebar draws the step below the Play button.)"""
        def done() -> float | None:
            start = next((t for t, _, f in list(self.started) if t > since and not f), None)
            if start is None:
                return None
            return next((t for t, s, f in list(self.finished)
                         if t > start and s == FINISHED.FINISHED_SUCCESSFULLY and not f),
                        None)
        self.wait_until(lambda: done() is not None, timeout)
        return done()  # type: ignore[return-value]

    def last_step(self) -> int | None:
        return self.steps[-1][1] if self.steps else None

    def measure_pause(self, hold_seconds: float = 2.0, timeout_s: float = 60) -> dict:
        """Click Pause: the time from sending the click to the Play button being back,
        then whether training stayed stopped: the step once that run finished, and the
        step a fresh run of the whole app shows ``hold_seconds`` later (the server's
        figure, not only the absence of updates). Keys as in
        ``app_throughput.measure_pause``, and where the time went: until the server
        started the click's run (``to_start_ms``: its new_session), from there to the
        run's first element (``to_first_element_ms``: the button's callback, which
        pauses, and the top of the script), and on to the Play button."""
        sent = self.click("Pause")
        self.wait_until(lambda: any(t > sent and n == "Play" for t, n in list(self.appeared)),
                        timeout_s)
        back = next(t for t, n in list(self.appeared) if t > sent and n == "Play")
        run = next(((t, first) for t, first, fragments in list(self.started)
                    if t > sent and not fragments), (sent, sent))
        self.wait_for_full_run(sent, timeout_s)
        step_at_back = self.last_step()
        time.sleep(hold_seconds)
        self.wait_for_full_run(self.rerun(), timeout_s)
        return {"play_back_ms": back - sent, "step_when_paused": step_at_back,
                "step_after_hold": self.last_step(), "hold_seconds": hold_seconds,
                "to_start_ms": run[0] - sent,
                "to_first_element_ms": (run[1] or back) - run[0]}

    def play(self, timeout_s: float = 600) -> float:
        """Click Play and wait for the Pause button: the time the click was sent."""
        sent = self.click("Play")
        self.wait_until(lambda: any(t > sent and n == "Pause" for t, n in list(self.appeared)),
                        timeout_s)
        return sent


class Clients:
    """Sessions on one asyncio loop in a thread of its own. ``with Clients() as c:``;
    ``c.open(url)`` connects one session and starts its first run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                        name="st-client")
        self._thread.start()
        self.sessions: list[Session] = []

    def open(self, url: str) -> Session:
        session = Session(url, self.loop)
        session._call(session._connect())
        self.sessions.append(session)
        return session

    def close(self) -> None:
        for session in self.sessions:
            try:
                session._call(session._close(), timeout=30)
            except Exception:  # closing is best effort: the server may have gone first
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
