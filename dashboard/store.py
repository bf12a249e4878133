"""The run database: one SQLite file (the standard library's ``sqlite3``, WAL mode) with
every workspace's runs and its current network, so work survives a reload, a closed tab
and a server restart.

A workspace is one browser's work, named by an unguessable token (see
:mod:`dashboard.workspace`). The database stays bounded: workspaces idle for longer than
``idle_days`` are deleted, and past ``max_bytes`` the oldest runs go first. A file that is
not a database, or that a newer version of mnist_np wrote, is moved aside (the app says
so in one line) and a new one started. Several sessions and processes may write at once:
every write is one transaction, and SQLite's WAL lets readers go on meanwhile.

No Streamlit here: the dashboard keeps one :class:`Store` per server process.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path

from mnist_np.data import cache_folder

from . import settings as cfg
from .runs import RunRecord
from .settings import Settings

SCHEMA_VERSION = 1
FILE_NAME = "mnist_np-runs.sqlite3"
DEFAULT_MAX_MB = 512      # MNIST_NP_DB_MAX_MB
DEFAULT_IDLE_DAYS = 30    # MNIST_NP_DB_IDLE_DAYS
BUSY_SECONDS = 30         # how long a writer waits for another one

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workspaces (
    id TEXT PRIMARY KEY, created REAL NOT NULL, seen REAL NOT NULL,
    last_run INTEGER NOT NULL DEFAULT 0);  -- run numbers are never reused
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    created REAL NOT NULL,
    record TEXT NOT NULL,        -- the RunRecord as JSON, curves included
    weights BLOB,                -- the run's final network (MLP.to_bytes), or NULL
    UNIQUE (workspace, number));
CREATE TABLE IF NOT EXISTS current (
    workspace TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    saved REAL NOT NULL,
    settings TEXT NOT NULL,      -- the session's Settings as JSON
    state TEXT NOT NULL,         -- ready, paused, finished, diverged
    training BLOB NOT NULL);     -- the network and its trainer (mnist_np.checkpoint)
CREATE TABLE IF NOT EXISTS changes (
    workspace TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    lines TEXT NOT NULL);        -- the current run's neuron-lab changes, as a JSON list
CREATE INDEX IF NOT EXISTS runs_by_age ON runs (created);
CREATE TABLE IF NOT EXISTS blobs (  -- a page's own small state, e.g. the by-hand network
    workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    saved REAL NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (workspace, key));
"""



def _touch(w: sqlite3.Connection, workspace: str, now: float) -> None:
    """Create ``workspace`` if new and mark it as used at ``now``, inside the write
    transaction ``w``."""
    w.execute("INSERT INTO workspaces (id, created, seen) VALUES (?, ?, ?) "
              "ON CONFLICT (id) DO UPDATE SET seen = excluded.seen", (workspace, now, now))

class StoreError(Exception):
    """A one-line reason the run database cannot be used."""


def default_path() -> Path:
    """``MNIST_NP_DB``, or a file in the cache folder (``MNIST_CACHE`` or the user's)."""
    return Path(os.environ.get("MNIST_NP_DB") or cache_folder() / FILE_NAME).expanduser()


def _positive_env(name: str, default: float) -> float:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise StoreError(f"{name} must be a number, got {text[:40]!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise StoreError(f"{name} must be a positive number, got {text[:40]!r}")
    return value


class Store:
    """The run database at ``path``. ``notice`` is a one-line message when the file had
    to be moved aside on opening (else None)."""

    def __init__(self, path: str | os.PathLike, max_bytes: int, idle_seconds: float,
                 clock=time.time):
        self.path = Path(path)
        self.max_bytes, self.idle_seconds, self.clock = int(max_bytes), idle_seconds, clock
        self.notice: str | None = None
        self._local = threading.local()
        self._open()

    @classmethod
    def from_environment(cls, path: str | os.PathLike | None = None) -> Store:
        """The store the environment asks for (``MNIST_NP_DB``, ``MNIST_NP_DB_MAX_MB``,
        ``MNIST_NP_DB_IDLE_DAYS``), at ``path`` when given; raise StoreError with a
        one-line message."""
        max_mb = _positive_env("MNIST_NP_DB_MAX_MB", DEFAULT_MAX_MB)
        idle_days = _positive_env("MNIST_NP_DB_IDLE_DAYS", DEFAULT_IDLE_DAYS)
        where = Path(path).expanduser() if path else default_path()
        return cls(where, int(max_mb * 2**20), idle_days * 86400)

    # -- connections ---------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections are not shared between threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_SECONDS * 1000}")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (taken at once, so two writers never deadlock)."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- opening -------------------------------------------------------------------------
    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the folder for the run database: "
                             f"{e.strerror or e}") from None
        problem = self._problem()
        if problem is not None:
            self.close()
            aside = self._move_aside(problem[0])
            self.notice = (f"The run database {self.path.name} {problem[1]}; it was moved "
                           f"aside as {aside} and a new one started.")
        try:
            conn = self._connection()
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # before the first table
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(_SCHEMA)  # each statement idempotent, so no transaction
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                         (str(SCHEMA_VERSION),))
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the run database {self.path.name}: {e}") from None
        self.expire_idle()

    def _problem(self) -> tuple[str, str] | None:
        """``(tag, why)`` when the file at ``path`` cannot be used as it is."""
        if not self.path.exists():
            return None
        try:
            conn = self._connection()
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "meta" not in tables:
                return None if not tables else ("unknown", "is not an mnist_np run database")
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
        except (sqlite3.Error, ValueError):
            return "broken", "is not a database (damaged, or another kind of file)"
        if version > SCHEMA_VERSION:
            return "newer", f"was written by a newer mnist_np (schema {version})"
        return None

    def _move_aside(self, tag: str) -> str:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.{tag}-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{self.path}{suffix}")
            if part.exists():
                part.replace(Path(f"{aside}{suffix}"))
        return aside.name

    # -- workspaces ------------------------------------------------------------------------
    def has_workspace(self, workspace: str) -> bool:
        row = self._connection().execute(
            "SELECT 1 FROM workspaces WHERE id = ?", (workspace,)).fetchone()
        return row is not None

    def touch(self, workspace: str) -> None:
        """Create ``workspace`` if new, and mark it as used now."""
        now = self.clock()
        with self._write() as w:
            _touch(w, workspace, now)

    # -- runs ------------------------------------------------------------------------------
    def add_run(self, workspace: str, record: RunRecord, weights: bytes | None = None
                ) -> RunRecord:
        """Store ``record`` as the workspace's next run; return it with its number."""
        return self.add_runs(workspace, [(record, weights)])[0]

    def add_runs(self, workspace: str, runs: list[tuple[RunRecord, bytes | None]]
                 ) -> list[RunRecord]:
        """Store each ``(record, weights)`` as the workspace's next run, in order, in one
        transaction (all or none: one commit for a batch); return the records numbered."""
        now = self.clock()
        with self._write() as w:
            for record, weights in runs:
                w.execute("INSERT INTO workspaces (id, created, seen, last_run) "
                          "VALUES (?, ?, ?, 1) ON CONFLICT (id) DO UPDATE SET "
                          "last_run = last_run + 1, seen = ?", (workspace, now, now, now))
                number = int(w.execute("SELECT last_run FROM workspaces WHERE id = ?",
                                       (workspace,)).fetchone()[0])
                record.number = number
                w.execute("INSERT INTO runs (workspace, number, created, record, weights) "
                          "VALUES (?, ?, ?, ?, ?)",
                          (workspace, number, now, _record_json(record), weights))
        self.enforce_size()
        return [record for record, _ in runs]

    def runs(self, workspace: str) -> list[RunRecord]:
        """The workspace's runs, oldest first."""
        rows = self._connection().execute(
            "SELECT record FROM runs WHERE workspace = ? ORDER BY number", (workspace,))
        return [_record_from_json(r[0]) for r in rows]

    def run_weights(self, workspace: str, number: int) -> bytes | None:
        row = self._connection().execute(
            "SELECT weights FROM runs WHERE workspace = ? AND number = ?",
            (workspace, number)).fetchone()
        return None if row is None else row[0]

    def _update_record(self, workspace: str, number: int,
                       change: Callable[[RunRecord], None]) -> None:
        """``change(record)`` for run ``number``, written back in one transaction (nothing
        when there is no such run)."""
        with self._write() as w:
            row = w.execute("SELECT record FROM runs WHERE workspace = ? AND number = ?",
                            (workspace, number)).fetchone()
            if row is None:
                return
            record = _record_from_json(row[0])
            change(record)
            w.execute("UPDATE runs SET record = ? WHERE workspace = ? AND number = ?",
                      (_record_json(record), workspace, number))

    def rename_run(self, workspace: str, number: int, name: str) -> None:
        self._update_record(workspace, number, lambda record: setattr(record, "name", name))

    def delete_run(self, workspace: str, number: int) -> None:
        with self._write() as w:
            w.execute("DELETE FROM runs WHERE workspace = ? AND number = ?",
                      (workspace, number))

    def add_run_changes(self, workspace: str, number: int, lines: list[str]) -> None:
        """Add neuron-lab changes made after run ``number`` ended to its record."""
        self._update_record(workspace, number, lambda record: setattr(
            record, "changes", [*record.changes, *lines]))

    def save_changes(self, workspace: str, lines: list[str]) -> None:
        """The current run's neuron-lab changes, kept until the run is recorded."""
        now = self.clock()
        with self._write() as w:
            _touch(w, workspace, now)
            w.execute("INSERT OR REPLACE INTO changes VALUES (?, ?)",
                      (workspace, json.dumps(list(lines))))

    def load_changes(self, workspace: str) -> list[str]:
        """What :meth:`save_changes` kept (an empty list when nothing, or not a list
        of texts)."""
        row = self._connection().execute(
            "SELECT lines FROM changes WHERE workspace = ?", (workspace,)).fetchone()
        try:
            lines = json.loads(row[0]) if row is not None else []
        except ValueError:
            return []
        ok = isinstance(lines, list) and all(isinstance(x, str) for x in lines)
        return lines if ok else []

    # -- the current network -----------------------------------------------------------------
    def save_current(self, workspace: str, settings: Settings, state: str,
                     training: bytes) -> None:
        """The workspace's network and its trainer as they are now (a checkpoint)."""
        now = self.clock()
        with self._write() as w:
            _touch(w, workspace, now)
            w.execute("INSERT OR REPLACE INTO current VALUES (?, ?, ?, ?, ?)",
                      (workspace, now, json.dumps(cfg.as_dict(settings)), state, training))
        self.enforce_size()

    def load_current(self, workspace: str) -> tuple[Settings, str, bytes] | None:
        """``(settings, state, training)`` of the workspace's last checkpoint, or None."""
        row = self._connection().execute(
            "SELECT settings, state, training FROM current WHERE workspace = ?",
            (workspace,)).fetchone()
        if row is None:
            return None
        try:
            settings = _settings_from_dict(json.loads(row[0]))
        except (ValueError, TypeError, KeyError):
            return None  # written by a version with other settings: start afresh
        return settings, str(row[1]), bytes(row[2])

    # -- a page's own state, by key ----------------------------------------------------------
    def save_blob(self, workspace: str, key: str, value: bytes) -> None:
        """Keep ``value`` as the workspace's ``key`` (replacing the one kept before)."""
        now = self.clock()
        with self._write() as w:
            _touch(w, workspace, now)
            w.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?)",
                      (workspace, key, now, bytes(value)))
        self.enforce_size()

    def load_blob(self, workspace: str, key: str) -> bytes | None:
        """The workspace's ``key`` as :meth:`save_blob` kept it, or None."""
        row = self._connection().execute(
            "SELECT value FROM blobs WHERE workspace = ? AND key = ?",
            (workspace, key)).fetchone()
        return None if row is None else bytes(row[0])

    # -- staying bounded ---------------------------------------------------------------------
    def expire_idle(self) -> int:
        """Delete the workspaces not used for ``idle_seconds``; return how many."""
        with self._write() as w:
            gone = w.execute("DELETE FROM workspaces WHERE seen < ?",
                             (self.clock() - self.idle_seconds,)).rowcount
        if gone:
            self._connection().execute("PRAGMA incremental_vacuum")
        return gone

    def size(self) -> int:
        """Bytes the data take in the file (free pages not counted)."""
        conn = self._connection()
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * conn.execute("PRAGMA page_size").fetchone()[0]

    def enforce_size(self) -> int:
        """Delete the oldest runs (then checkpoints, then blobs) while the data take more
        than ``max_bytes``; return how many rows went."""
        deleted = 0
        while self.size() > self.max_bytes:
            with self._write() as w:
                row = w.execute("SELECT id FROM runs ORDER BY created LIMIT 1").fetchone()
                if row is not None:
                    w.execute("DELETE FROM runs WHERE id = ?", row)
                else:
                    row = w.execute("SELECT workspace FROM current ORDER BY saved "
                                    "LIMIT 1").fetchone()
                    if row is not None:
                        w.execute("DELETE FROM current WHERE workspace = ?", row)
                    else:
                        row = w.execute("SELECT rowid FROM blobs ORDER BY saved "
                                        "LIMIT 1").fetchone()
                        if row is None:
                            break
                        w.execute("DELETE FROM blobs WHERE rowid = ?", row)
            deleted += 1
        if deleted:
            self._connection().execute("PRAGMA incremental_vacuum")
        return deleted


# -- records as JSON -------------------------------------------------------------------------
def _number(x):
    """JSON has no NaN or infinity: they are written as strings."""
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    if isinstance(x, list):
        return [_number(v) for v in x]
    return x


def _float(x) -> float:
    return float(x) if isinstance(x, (int, float, str)) else float("nan")


def _record_json(record: RunRecord) -> str:
    d = asdict(record)
    d["settings"] = cfg.as_dict(record.settings)
    d["epoch_curves"] = {k: _number(list(map(float, v)))
                         for k, v in record.epoch_curves.items()}
    d["loss_curve"] = [_number(list(map(float, c))) for c in record.loss_curve]
    return json.dumps({k: _number(v) for k, v in d.items()})


def _settings_from_dict(d: dict) -> Settings:
    d = dict(d)
    d["hidden"] = tuple(int(u) for u in d["hidden"])
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in d.items() if k in known})


def _record_from_json(text: str) -> RunRecord:
    d = json.loads(text)
    floats = {f.name for f in fields(RunRecord) if f.type in ("float", float)}
    for name in floats:
        d[name] = _float(d[name])
    d["settings"] = _settings_from_dict(d["settings"])
    d["epoch_curves"] = {k: [_float(v) for v in vs] for k, vs in d["epoch_curves"].items()}
    d["loss_curve"] = tuple([_float(v) for v in c] for c in d["loss_curve"])
    known = {f.name for f in fields(RunRecord)}
    return RunRecord(**{k: v for k, v in d.items() if k in known})
