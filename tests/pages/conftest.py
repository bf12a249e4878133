"""Shared by the page tests (AppTest): the spy on the download buttons, and the checks every
"Inside the network" page (Weights, Gradients, Mistakes, Backprop) goes through."""

import logging
import time

import pytest

from dashboard.session import FINISHED, READY


@pytest.fixture
def downloads(monkeypatch):
    """What the app's download buttons would send, by file name: bytes, or the callable
    of a deferred download. Spies on Streamlit's media file manager (which still works)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    files = {}
    add, add_deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def spy_add(self, content, *args, **kwargs):
        files[kwargs.get("file_name")] = content
        return add(self, content, *args, **kwargs)

    def spy_add_deferred(self, make, *args, **kwargs):
        files[kwargs.get("file_name")] = make
        return add_deferred(self, make, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", spy_add)
    monkeypatch.setattr(MediaFileManager, "add_deferred", spy_add_deferred)
    return files


ARROW_FALLBACK = "Serialization of dataframe to Arrow table was unsuccessful"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_server_side_errors():
    """Fail a page test whose app logged an error or fell back from Arrow: a server logs
    them and the browser shows nothing (a column of "all" beside 5000 did that on every
    redraw of the runs table). Streamlit's loggers do not propagate, so caplog misses
    them: the handler goes on each one."""
    import streamlit.dataframe_util  # noqa: F401 (its logger is the Arrow fallback's)

    handler = _Records()
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
               if name == "streamlit" or name.startswith("streamlit.")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    bad = [f"{r.name}: {r.getMessage()[:300]}" for r in handler.records
           if r.levelno >= logging.ERROR or ARROW_FALLBACK in r.getMessage()]
    assert not bad, "the app logged on the server side:\n" + "\n".join(bad)


SMALL = {"hidden": "32", "train": "1000", "batch": "100", "epochs": "2"}  # 20 quick steps


def chart_keys(at) -> list[str]:
    """The keys of the plotly charts on the page (Streamlit ends an element id with it)."""
    return [c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")]


def open_page(app, page: str, query: dict | None = None):
    at = app(query or SMALL).run()
    return at.switch_page(f"pages/{page}.py").run()


def train_to_the_end(at) -> None:
    session = at.session_state["session"]
    session.play()
    for _ in range(600):
        if session.state == FINISHED:
            return
        time.sleep(0.05)
    raise AssertionError(f"training did not finish: {session.state}")


def check_before_and_after_training(app, page: str, charts: list[str]) -> None:
    """The page (one of the "Inside the network" ones) before any training, then after a
    short run: ``charts`` are its plotly charts' keys, in order."""
    at = open_page(app, page)
    assert not at.exception and not at.error
    assert at.session_state["session"].state == READY
    assert "Not trained yet" in " ".join(i.value for i in at.info)
    assert chart_keys(at) == charts
    train_to_the_end(at)
    at.run()
    assert not at.exception and not at.error
    assert not any("Not trained yet" in i.value for i in at.info)
    assert chart_keys(at)[:len(charts)] == charts


def check_works_for_any_depth(app, page: str, hidden: str) -> None:
    """The page for a network of ``hidden`` layers ("none" or sizes), before and after a step."""
    at = open_page(app, page, {"hidden": hidden, "act": "sigmoid", "out": "sigmoid+mse"})
    assert not at.exception and not at.error
    assert at.session_state["session"].net.layer_sizes[1:-1] == (
        [] if hidden == "none" else [24, 16, 12])
    at.button(key="step").click().run()
    assert not at.exception and not at.error and chart_keys(at)
