"""Other data sets in the app (issue 18, item 5): ``?data=fashion`` and the sidebar's
choice train on Fashion-MNIST (here a generated folder of the four IDX files), pages
name its classes; a set that cannot be had is one line, and the app stays where it was."""

import json

import pytest

from dashboard import data as dd

from ..engine.test_data import server, small_set, write_set

__all__ = ["server"]  # a fixture


@pytest.fixture
def fashion_env(monkeypatch, tmp_path, mnist_or_sample_env):
    """Fashion-MNIST from a local folder of generated files; KMNIST nowhere to be had."""
    write_set(tmp_path / "fashion", small_set(n_train=400, n_test=100, seed=2))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "fashion"))
    monkeypatch.delenv("KMNIST_DIR", raising=False)
    monkeypatch.setenv("KMNIST_MIRRORS", "http://127.0.0.1:9/")
    dd._load_other.clear()
    yield
    dd._load_other.clear()


def test_the_url_picks_fashion_and_pages_name_its_classes(app, fashion_env):
    at = app({"data": "fashion"}).run()
    assert not at.exception
    session = at.session_state["session"]
    assert session.data.title == "Fashion-MNIST" and session.settings.dataset == "fashion"
    assert session.trainer.n_images == 400
    assert at.sidebar.selectbox(key="cfg_dataset").value == "fashion"
    assert any("Fashion" in c.value and "400 train / 100 test" in c.value
               for c in at.sidebar.caption)
    assert at.query_params["data"] == ["fashion"] or at.query_params["data"] == "fashion"
    session.step()
    at.switch_page("pages/mistakes.py").run()
    assert not at.exception
    confusion = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert confusion["layout"]["xaxis"]["ticktext"][7] == "Sneaker"
    assert confusion["layout"]["xaxis"]["title"]["text"] == "predicted class"


def test_a_set_that_cannot_be_had_is_one_line_and_mnist_stays(app, fashion_env):
    at = app({"data": "kmnist"}).run()
    assert not at.exception
    session = at.session_state["session"]
    assert session.settings.dataset == "mnist" and session.data.source.startswith("mnist")
    warned = [w.value for w in at.warning if w.value.startswith("URL: data=kmnist")]
    assert len(warned) == 1 and "Kuzushiji" in warned[0] and "no mirror" in warned[0]
    assert "\n" not in warned[0] and "Traceback" not in warned[0]
    # each mirror's host and reason stay out of it (QA: two lines of S3 host names)
    assert "1 mirror tried" in warned[0] and "127.0.0.1" not in warned[0]


def test_the_sidebar_switches_the_data_set_or_says_why_not(app, fashion_env):
    at = app().run()
    session = at.session_state["session"]
    session.step()  # a run that trained: kept when the data set changes
    at.sidebar.selectbox(key="cfg_dataset").set_value("fashion").run()
    assert not at.exception
    assert session.data.title == "Fashion-MNIST" and session.trainer.step_count == 0
    assert any("Now on Fashion" in i.value and "Sneaker" in i.value for i in at.info)
    assert [r.data_source for r in session.runs][-1].startswith("mnist")
    at.sidebar.selectbox(key="cfg_dataset").set_value("kmnist").run()
    assert not at.exception
    assert session.data.title == "Fashion-MNIST" and session.settings.dataset == "fashion"
    assert at.sidebar.selectbox(key="cfg_dataset").value == "fashion"
    said = [i.value for i in at.info if "Kuzushiji-MNIST is not available" in i.value]
    assert len(said) == 1 and said[0].endswith("Staying on Fashion-MNIST.")
    assert "no mirror could be reached" in said[0]
    # a preset keeps the data set
    at.sidebar.selectbox(key="cfg_preset").set_value("seed").run()
    assert session.settings.dataset == "fashion" and session.settings.hidden == (16,)


def test_the_data_set_in_the_url_and_presets():
    from dashboard import settings as cfg

    settings, warnings = cfg.from_query({"data": "fashion", "preset": "seed"})
    assert settings.dataset == "fashion" and not warnings
    assert cfg.to_query(settings)["data"] == "fashion" and "data" not in cfg.to_query(
        cfg.Settings())
    assert cfg.matching_preset(settings) == "seed"  # a preset on another data set
    assert settings.needs_reset(cfg.Settings(dataset="mnist", hidden=(16,)))
    _, warnings = cfg.from_query({"data": "cifar10"})
    assert warnings == ["ignored data='cifar10': data set 'cifar10' is unknown; choose from "
                        "mnist, fashion, kmnist"]


def test_fashion_downloaded_from_a_local_mirror_in_the_app(app, mnist_or_sample_env, server,
                                                           monkeypatch, tmp_path):
    # generated files served on 127.0.0.1, checked against their own SHA-256s (the
    # published ones are Fashion-MNIST's real files')
    import dataclasses

    from mnist_np import data

    root, url = server
    hashes = write_set(root / "fashion", small_set(n_train=300, n_test=60, seed=8))
    monkeypatch.setitem(data.DATASETS, "fashion",
                        dataclasses.replace(data.DATASETS["fashion"], sha256=hashes))
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setenv("FASHION_MNIST_MIRRORS", url + "fashion/")
    dd._load_other.clear()
    try:
        at = app({"data": "fashion"}).run()
        assert not at.exception
        session = at.session_state["session"]
        assert session.data.title == "Fashion-MNIST" and len(session.data.X_train) == 300
        assert session.data.public_origin.startswith("downloaded from 127.0.0.1:")
        assert any("downloaded from 127.0.0.1" in c.value for c in at.sidebar.caption)
        assert (tmp_path / "cache" / "fashion-mnist" / "t10k-images-idx3-ubyte.gz").is_file()
    finally:
        dd._load_other.clear()


def test_a_reload_comes_back_on_the_data_set_it_trained_on(app, fashion_env, monkeypatch):
    from dashboard import page, workspace

    sent = {"token": None}
    monkeypatch.setattr(workspace, "cookie", lambda: sent["token"])
    page.get_store.clear()
    try:
        at = app({"data": "fashion", "hidden": "16"}).run()
        at.button(key="step").click().run()
        at.button(key="step").click().run()
        sent["token"] = at.session_state["workspace"]
        again = app().run()  # F5 without the URL's settings: the workspace's own
        back = again.session_state["session"]
        assert not again.exception
        assert back.data.title == "Fashion-MNIST" and back.settings.dataset == "fashion"
        assert back.trainer.step_count == 2 and back.trainer.n_images == 400
        assert again.sidebar.selectbox(key="cfg_dataset").value == "fashion"
    finally:
        page.get_store.clear()
