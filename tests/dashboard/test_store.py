"""dashboard.store: the SQLite run database, round trips, concurrent writers (threads and
processes), damaged and newer files, eviction by size and expiry of idle workspaces."""

import math
import sqlite3
import subprocess
import sys
import threading

import pytest

from dashboard import store as store_module
from dashboard.runs import RunRecord
from dashboard.settings import Settings
from dashboard.store import SCHEMA_VERSION, Store, StoreError

from ..conftest import REPO

DAY = 86400.0


def record(lr: float = 0.2, test: float = 0.97, **changes) -> RunRecord:
    fields = dict(
        number=0, settings=Settings(hidden=(64, 32), lr=lr), data_source="mnist",
        status="finished", steps=300, epochs=2.0, train_seconds=1.5,
        samples_per_second=25_000.0, final_loss=0.12, train_accuracy=0.98,
        val_accuracy=float("nan"), test_accuracy=test,
        epoch_curves={"epoch": [1.0, 2.0], "train_loss": [0.3, float("inf")],
                      "val_loss": [0.2, 0.1], "train_accuracy": [0.9, 0.95],
                      "val_accuracy": [float("nan"), 0.96]},
        loss_curve=([1.0, 2.0, 3.0], [2.3, 1.0, float("nan")]))
    return RunRecord(**{**fields, **changes})


def same(a: RunRecord, b: RunRecord) -> bool:
    def eq(x, y):
        if isinstance(x, float) and isinstance(y, float):
            return x == y or (math.isnan(x) and math.isnan(y))
        if isinstance(x, (list, tuple)):
            return len(x) == len(y) and all(eq(u, v) for u, v in zip(x, y))
        if isinstance(x, dict):
            return x.keys() == y.keys() and all(eq(x[k], y[k]) for k in x)
        return x == y
    return all(eq(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)


@pytest.fixture
def db(tmp_path):
    s = Store(tmp_path / "runs.sqlite3", max_bytes=64 * 2**20, idle_seconds=30 * DAY)
    yield s
    s.close()


def test_runs_round_trip_with_numbers_names_weights_and_nan(db):
    db.touch("ws1")
    db.touch("ws2")
    first = db.add_run("ws1", record(lr=0.1), weights=b"\x00weights")
    second = db.add_run("ws1", record(lr=0.05, status="diverged"))
    other = db.add_run("ws2", record())
    assert (first.number, second.number, other.number) == (1, 2, 1)  # per workspace
    got = db.runs("ws1")
    assert [r.number for r in got] == [1, 2] and same(got[0], first) and same(got[1], second)
    assert got[0].settings == Settings(hidden=(64, 32), lr=0.1)
    assert math.isinf(got[0].epoch_curves["train_loss"][1])
    assert db.run_weights("ws1", 1) == b"\x00weights" and db.run_weights("ws1", 2) is None
    db.rename_run("ws1", 2, "too fast")
    db.delete_run("ws1", 1)
    (left,) = db.runs("ws1")
    assert left.number == 2 and left.name == "too fast"
    assert [r.number for r in db.runs("ws2")] == [1]  # untouched
    assert db.add_run("ws1", record()).number == 3  # numbers are not reused
    db.delete_run("ws1", 3)
    assert db.add_run("ws1", record()).number == 4  # not even the last one's


def test_the_current_network_is_one_checkpoint_per_workspace(db):
    db.touch("ws")
    assert db.load_current("ws") is None
    db.save_current("ws", Settings(lr=0.05), "paused", b"first")
    db.save_current("ws", Settings(lr=0.07), "finished", b"second")
    assert db.load_current("ws") == (Settings(lr=0.07), "finished", b"second")
    assert db.load_current("someone else") is None


def test_a_reopened_store_has_everything(tmp_path):
    path = tmp_path / "runs.sqlite3"
    a = Store(path, 64 * 2**20, 30 * DAY)
    a.touch("ws")
    a.add_run("ws", record())
    a.save_current("ws", Settings(), "paused", b"state")
    a.close()
    b = Store(path, 64 * 2**20, 30 * DAY)
    assert b.notice is None and b.has_workspace("ws") and len(b.runs("ws")) == 1
    assert b.load_current("ws")[2] == b"state"
    assert b._connection().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_threads_writing_at_once_lose_nothing(db):
    db.touch("ws")
    errors = []

    def writer(k):
        try:
            for i in range(15):
                db.add_run("ws", record(lr=k + i / 100))
                db.save_current("ws", Settings(), "paused", bytes([k]))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    runs = db.runs("ws")
    assert [r.number for r in runs] == list(range(1, 91))
    assert sorted(r.settings.lr for r in runs) == sorted(k + i / 100 for k in range(6)
                                                         for i in range(15))


def _process_writer(path: str, k: int) -> None:
    s = Store(path, 64 * 2**20, 30 * DAY)
    s.touch("shared")
    for i in range(10):
        s.add_run("shared", record(lr=k * 10 + i + 1.0))
    s.close()


def test_processes_writing_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "runs.sqlite3")
    Store(path, 64 * 2**20, 30 * DAY).close()
    code = "import sys; from tests.dashboard.test_store import _process_writer; " \
           "_process_writer(sys.argv[1], int(sys.argv[2]))"
    workers = [subprocess.Popen([sys.executable, "-c", code, path, str(k)], cwd=REPO)
               for k in range(3)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0]
    runs = Store(path, 64 * 2**20, 30 * DAY).runs("shared")
    assert [r.number for r in runs] == list(range(1, 31))
    assert sorted(r.settings.lr for r in runs) == [k * 10 + i + 1.0 for k in range(3)
                                                   for i in range(10)]


def test_a_file_that_is_not_a_database_is_moved_aside(tmp_path):
    path = tmp_path / "runs.sqlite3"
    path.write_bytes(b"this is not a database, just some text " * 200)
    s = Store(path, 64 * 2**20, 30 * DAY)
    assert s.notice is not None and "\n" not in s.notice and str(tmp_path) not in s.notice
    assert "is not a database" in s.notice and "moved aside" in s.notice
    (aside,) = tmp_path.glob("runs.sqlite3.broken-*")
    assert aside.read_bytes().startswith(b"this is not a database")
    s.touch("ws")
    assert s.add_run("ws", record()).number == 1  # a fresh, working database


def test_a_database_from_a_newer_version_is_moved_aside_not_changed(tmp_path):
    path = tmp_path / "runs.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?)",
                     (str(SCHEMA_VERSION + 1),))
        conn.execute("CREATE TABLE future (x)")
    s = Store(path, 64 * 2**20, 30 * DAY)
    assert "newer mnist_np" in s.notice
    (aside,) = tmp_path.glob("runs.sqlite3.newer-*")
    with sqlite3.connect(aside) as conn:  # kept as it was, for the newer version
        assert conn.execute("SELECT value FROM meta").fetchone()[0] == str(SCHEMA_VERSION + 1)
    assert s.runs("anyone") == []


def test_another_sqlite_database_is_moved_aside(tmp_path):
    path = tmp_path / "runs.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE photos (x)")
    assert "is not an mnist_np run database" in Store(path, 2**26, DAY).notice


def test_past_the_size_cap_the_oldest_runs_go_first(tmp_path):
    now = [1000.0]
    s = Store(tmp_path / "runs.sqlite3", max_bytes=600_000, idle_seconds=30 * DAY,
              clock=lambda: now[0])
    s.touch("old")
    s.touch("new")
    for i in range(12):
        now[0] += 1
        s.add_run("old" if i < 6 else "new", record(lr=i + 1.0), weights=bytes(100_000))
        assert s.size() <= 600_000
    kept = [r.settings.lr for r in s.runs("old") + s.runs("new")]
    assert kept == sorted(kept) and kept[-1] == 12.0 and len(kept) < 12
    assert kept == [float(i) for i in range(13 - len(kept), 13)]  # the newest survive


def test_idle_workspaces_expire_with_their_runs(tmp_path):
    now = [0.0]
    path = tmp_path / "runs.sqlite3"
    s = Store(path, 2**26, idle_seconds=7 * DAY, clock=lambda: now[0])
    s.touch("idle")
    s.add_run("idle", record())
    s.save_current("idle", Settings(), "paused", b"x")
    now[0] = 6 * DAY
    s.touch("busy")
    now[0] = 8 * DAY
    assert s.expire_idle() == 1
    assert not s.has_workspace("idle") and s.runs("idle") == []
    assert s.load_current("idle") is None and s.has_workspace("busy")


def test_settings_from_the_environment_are_checked(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_NP_DB", str(tmp_path / "mine.sqlite3"))
    monkeypatch.setenv("MNIST_NP_DB_MAX_MB", "2")
    monkeypatch.setenv("MNIST_NP_DB_IDLE_DAYS", "0.5")
    s = Store.from_environment()
    assert s.path == tmp_path / "mine.sqlite3" and s.max_bytes == 2 * 2**20
    assert s.idle_seconds == 0.5 * DAY
    for value in ("lots", "-1", "nan"):
        monkeypatch.setenv("MNIST_NP_DB_MAX_MB", value)
        with pytest.raises(StoreError, match="MNIST_NP_DB_MAX_MB must be"):
            Store.from_environment()
    monkeypatch.delenv("MNIST_NP_DB")
    monkeypatch.setenv("MNIST_CACHE", str(tmp_path / "cache"))
    assert store_module.default_path() == tmp_path / "cache" / store_module.FILE_NAME


def test_how_a_run_ended_and_its_dropout_and_stopping_settings_are_kept(db):
    settings = Settings(dropout=0.4, patience=3, target_accuracy=0.98, val_size=1000,
                        momentum=0.95, eps=1e-6)
    ending = "Stopped early at epoch 9: validation accuracy has not improved for 3 epochs"
    added = db.add_run("ws1", record(settings=settings, ending=ending))
    (got,) = db.runs("ws1")
    assert same(got, added) and got.settings == settings and got.ending == ending
