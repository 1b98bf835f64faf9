"""Limits that hold across processes: model slots, per-host politeness and the run budget, kept in one small
SQLite file under `EXTRACTOR_HOME` that every process of a run opens (threads, Dask workers, a second run).

Why SQLite and not Prefect's global concurrency limits: those were measured at 61-282 s for 200 short tasks
on this kind of machine (each acquire is an API round trip); a slot here is one local transaction (see
`bench/pipeline.py` for the measured cost). Dask workers on other machines need `EXTRACTOR_HOME` on a shared
filesystem that honours SQLite's locks.

A slot is a row (name, holder); a holder whose process is gone (same host) or whose lease ran out (another
host) no longer counts, so a killed worker never holds a slot for ever.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from extractor._process import pid_alive
from extractor.extract._budget import RunBudget
from extractor.models import Usage

LIMITS_FILE = "limits.sqlite3"
#: How long a slot stays held by a holder that vanished without a trace on another host.
LEASE_SECONDS = 900.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS slots (
    name TEXT NOT NULL, holder TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (name, holder)
);
CREATE TABLE IF NOT EXISTS spent (
    run TEXT PRIMARY KEY, prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
    calls INTEGER NOT NULL DEFAULT 0
);
"""


class Limits:
    """One process's handle on the shared limits file. Thread-safe."""

    def __init__(self, path: Path, *, lease: float = LEASE_SECONDS) -> None:
        self.path = path
        self.lease = lease
        self._lock = threading.Lock()
        self._host = socket.gethostname()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        # Slots and spending matter while processes run: no fsync per commit (WAL stays consistent after a crash
        # of the process; a power cut may lose the last counts, which a new run does not need). Measured: 6 ms
        # per slot with fsync, see bench/pipeline.py for without.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- slots --------------------------------------------------------------------------------------------

    def _try_take(self, name: str, capacity: int, holder: str) -> bool:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                rows = conn.execute("SELECT holder, pid, host, expires FROM slots WHERE name = ?", (name,)).fetchall()
                clock = time.time()
                stale = [h for h, pid, host, expires in rows
                         if expires < clock or (host == self._host and not pid_alive(pid))]  # fmt: skip
                for h in stale:
                    conn.execute("DELETE FROM slots WHERE name = ? AND holder = ?", (name, h))
                if len(rows) - len(stale) >= capacity:
                    conn.execute("COMMIT")
                    return False
                conn.execute(
                    "INSERT INTO slots (name, holder, pid, host, expires) VALUES (?,?,?,?,?)",
                    (name, holder, os.getpid(), self._host, clock + self.lease),
                )
                conn.execute("COMMIT")
                return True
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _give_back(self, name: str, holder: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM slots WHERE name = ? AND holder = ?", (name, holder))

    @contextmanager
    def slot(self, name: str, capacity: int) -> Iterator[None]:
        """Holds one of `capacity` slots called `name`, waiting (polling, with a growing pause) until one frees."""
        holder = uuid.uuid4().hex
        pause = 0.005
        while not self._try_take(name, capacity, holder):
            time.sleep(pause)
            pause = min(pause * 1.5, 0.25)
        try:
            yield
        finally:
            self._give_back(name, holder)

    def held(self, name: str) -> int:
        """Slots called `name` held now (for tests and the soak's checks)."""
        with self._lock:
            row = self._conn.execute("SELECT COUNT(*) FROM slots WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    # --- the run budget -------------------------------------------------------------------------------------

    def charge(self, run: str, prompt_tokens: int, completion_tokens: int) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO spent (run, prompt_tokens, completion_tokens, calls) VALUES (?,?,?,1) "
                "ON CONFLICT (run) DO UPDATE SET prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
                "completion_tokens = completion_tokens + excluded.completion_tokens, calls = calls + 1",
                (run, prompt_tokens, completion_tokens),
            )

    def spent(self, run: str) -> tuple[int, int, int]:
        """Prompt tokens, completion tokens and calls charged to `run` by every process."""
        with self._lock:
            row = self._conn.execute(
                "SELECT prompt_tokens, completion_tokens, calls FROM spent WHERE run = ?", (run,)
            ).fetchone()
        return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)


class SharedBudget(RunBudget):
    """The run budget of `RunBudget`, its spending kept in the limits file: every process of a run (Dask workers
    included) checks against what all of them spent, so N workers do not get N budgets."""

    def __init__(
        self,
        limits: Limits,
        run: str,
        *,
        max_tokens: int | None = None,
        max_usd: float | None = None,
        price: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(max_tokens=max_tokens, max_usd=max_usd, price=price)
        self._limits = limits
        self._run = run

    def _sync(self) -> None:
        self.prompt_tokens, self.completion_tokens, self.calls = self._limits.spent(self._run)

    def check(self, prompt_tokens: int = 0) -> None:
        if self.max_tokens is None and self.max_usd is None:
            return  # nothing to hold: skip the read
        with self._lock:
            self._sync()
        super().check(prompt_tokens)

    def charge(self, prompt_tokens: int, completion_tokens: int) -> None:
        super().charge(prompt_tokens, completion_tokens)  # its checks of the values first
        self._limits.charge(self._run, prompt_tokens, completion_tokens)
        with self._lock:
            self._sync()

    def spent(self) -> Usage:
        with self._lock:
            self._sync()
        return super().spent()


__all__ = ["LIMITS_FILE", "Limits", "SharedBudget"]
