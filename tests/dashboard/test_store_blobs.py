"""dashboard.store's keyed blobs (a page's own state per workspace, such as the
"Backprop by hand" network): round trips, one workspace never sees another's, they
survive a reopen, come to a database made before them, expire with their workspace and
go last when the file is over its size."""

import sqlite3

from dashboard.settings import Settings
from dashboard.store import Store

DAY = 86400.0


def test_blobs_round_trip_per_workspace_and_key(tmp_path):
    s = Store(tmp_path / "runs.sqlite3", 64 * 2**20, 30 * DAY)
    assert s.load_blob("ws", "by_hand") is None
    s.save_blob("ws", "by_hand", b"\x00first")
    s.save_blob("ws", "other", b"second")
    s.save_blob("ws2", "by_hand", b"theirs")
    assert s.has_workspace("ws") and s.has_workspace("ws2")  # made when first saved
    assert s.load_blob("ws", "by_hand") == b"\x00first"
    s.save_blob("ws", "by_hand", b"replaced")
    assert s.load_blob("ws", "by_hand") == b"replaced"
    assert s.load_blob("ws", "other") == b"second"
    assert s.load_blob("ws2", "by_hand") == b"theirs"
    assert s.load_blob("ws3", "by_hand") is None
    s.close()
    again = Store(tmp_path / "runs.sqlite3", 64 * 2**20, 30 * DAY)
    assert again.notice is None and again.load_blob("ws", "by_hand") == b"replaced"


def test_a_database_made_before_blobs_gets_their_table(tmp_path):
    path = tmp_path / "runs.sqlite3"
    s = Store(path, 64 * 2**20, 30 * DAY)
    s.save_current("ws", Settings(), "paused", b"state")
    s.close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE blobs")  # as an earlier version left it
    conn.commit()
    conn.close()
    reopened = Store(path, 64 * 2**20, 30 * DAY)
    assert reopened.notice is None and reopened.load_current("ws")[2] == b"state"
    reopened.save_blob("ws", "by_hand", b"net")
    assert reopened.load_blob("ws", "by_hand") == b"net"


def test_blobs_expire_with_their_workspace(tmp_path):
    now = [0.0]
    s = Store(tmp_path / "runs.sqlite3", 2**26, idle_seconds=7 * DAY, clock=lambda: now[0])
    s.save_blob("idle", "by_hand", b"net")
    now[0] = 6 * DAY
    s.save_blob("busy", "by_hand", b"net")
    now[0] = 8 * DAY
    assert s.expire_idle() == 1
    assert s.load_blob("idle", "by_hand") is None and s.load_blob("busy", "by_hand") == b"net"


def test_past_the_size_cap_blobs_go_after_runs_and_checkpoints(tmp_path):
    now = [1000.0]
    s = Store(tmp_path / "runs.sqlite3", max_bytes=600_000, idle_seconds=30 * DAY,
              clock=lambda: now[0])
    s.save_current("a", Settings(), "paused", bytes(200_000))
    for i in range(4):
        now[0] += 1
        s.save_blob(f"w{i}", "by_hand", bytes(150_000))
        assert s.size() <= 600_000
    assert s.load_current("a") is None  # the checkpoint went first
    kept = [i for i in range(4) if s.load_blob(f"w{i}", "by_hand") is not None]
    assert kept and kept == list(range(4 - len(kept), 4))  # then the oldest blobs
