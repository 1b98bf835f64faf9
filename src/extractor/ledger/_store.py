"""The ledger: one SQLite file under `EXTRACTOR_HOME` recording every run and every article's outcome.

One connection per `Ledger`, shared by the threads of a run behind a lock; several processes (a `watch` and a
manual `scan`, Dask workers) may open the same file: WAL mode and a busy timeout let them take turns.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extractor._process import pid_alive
from extractor.errors import Outcome
from extractor.ledger._migrations import migrate
from extractor.settings import home_dir, ledger_path

INTERRUPTED = "interrupted: the run stopped before this article got an outcome"
NO_OUTCOME = "the run ended before this article got an outcome"


def now() -> str:
    """ISO 8601 UTC with milliseconds: sortable as text."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Input:
    """One URL a run has to give an outcome to."""

    url: str
    canonical_url: str
    scan_id: str
    origin: str = ""
    source: str = ""
    issue_date: str | None = None


@dataclass(frozen=True)
class Record:
    """What happened to one input in one run."""

    url: str
    canonical_url: str
    scan_id: str
    outcome: str
    origin: str = ""
    source: str = ""
    error: str | None = None
    transient: bool = False
    skipped: bool = False
    model: str | None = None
    prompt_version: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    attempts: int = 0
    fetch_ms: int | None = None
    extract_ms: int | None = None
    total_ms: int | None = None
    content_hash: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    run_id: int | None = None
    #: The newsletter issue's date (YYYY-MM-DD) and the article's own date, author and site name, when known.
    issue_date: str | None = None
    article_date: str | None = None
    author: str | None = None
    site_name: str | None = None

    @property
    def succeeded(self) -> bool:
        """A scan is there: written by a run, or imported from an archive."""
        return self.outcome in (Outcome.OK, Outcome.TOO_LONG, Outcome.IMPORTED)


_RECORD_COLUMNS = tuple(f.name for f in fields(Record))


def _record(row: sqlite3.Row) -> Record:
    data: dict[str, Any] = {k: row[k] for k in _RECORD_COLUMNS}
    data["transient"] = bool(data["transient"])
    data["skipped"] = bool(data["skipped"])
    return Record(**data)


@dataclass
class RunTotals:
    """The tally of one run, or of the whole ledger."""

    inputs: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    attempts: int = 0

    @property
    def succeeded(self) -> int:
        return sum(n for k, n in self.outcomes.items() if k in (Outcome.OK, Outcome.TOO_LONG, Outcome.IMPORTED))

    @property
    def failed(self) -> int:
        return sum(self.outcomes.values()) - self.succeeded

    def as_dict(self) -> dict[str, Any]:
        return {
            "articles": self.inputs,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "skipped": self.skipped,
            "outcomes": dict(sorted(self.outcomes.items())),
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "attempts": self.attempts,
        }


class Ledger:
    """The record of runs and outcomes. Thread-safe; use as a context manager or call `close()`."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or ledger_path(home_dir())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        # Autocommit (isolation_level=None): every transaction is explicit, so none stays open by accident.
        self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._conn.execute("PRAGMA foreign_keys=ON")
        # WAL with synchronous=NORMAL survives a killed process (not a power cut): enough for a ledger that a
        # rerun can rebuild from the output files anyway.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            self.version = migrate(self._conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    # --- runs -------------------------------------------------------------------------------------------

    def start_run(self, command: str, *, model: str | None = None, prompt_version: str | None = None) -> int:
        """Opens a run, after closing those of dead processes (their pending articles become interrupted)."""
        self.recover_interrupted()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO runs (command, started_at, pid, host, model, prompt_version) "
                "VALUES (?,?,?,?,?,?)",
                (command, now(), os.getpid(), socket.gethostname(), model, prompt_version),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def add_inputs(self, run_id: int, inputs: Iterable[Input]) -> int:
        """Registers the inputs of a run as pending, so that none can end the run without an outcome.
        An input already registered in this run is ignored; returns how many were new."""
        added = 0
        with self._write() as conn:
            for item in inputs:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO articles (run_id, url, canonical_url, scan_id, origin, source, issue_date) "
                    "VALUES (?,?,?,?,?,?,?)",
                    (run_id, item.url, item.canonical_url, item.scan_id, item.origin, item.source, item.issue_date),
                )
                added += cur.rowcount
            conn.execute(
                "UPDATE runs SET inputs = (SELECT COUNT(*) FROM articles WHERE run_id = ?) WHERE id = ?",
                (run_id, run_id),
            )
        return added

    def record(self, run_id: int, rec: Record) -> bool:
        """Stores the outcome of one input. The first outcome of an input in a run wins: returns False (and
        changes nothing) when this input already has one."""
        values = {k: getattr(rec, k) for k in _RECORD_COLUMNS if k != "run_id"}
        values["finished_at"] = rec.finished_at or now()
        values["transient"] = int(rec.transient)
        values["skipped"] = int(rec.skipped)
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        updates = ", ".join(f"{k} = excluded.{k}" for k in values if k not in ("canonical_url",))
        with self._write() as conn:
            cur = conn.execute(
                f"INSERT INTO articles (run_id, {cols}) VALUES (?, {marks}) "
                f"ON CONFLICT (run_id, canonical_url) DO UPDATE SET {updates} WHERE articles.outcome IS NULL",
                (run_id, *values.values()),
            )
            return cur.rowcount > 0

    def finish_run(self, run_id: int) -> RunTotals:
        """Closes a run. An input still pending (a bug or a cancelled task) gets `internal_error` here, so
        every input of a finished run has exactly one outcome."""
        with self._write() as conn:
            conn.execute(
                "UPDATE articles SET outcome = ?, error = ?, transient = 1, finished_at = ? "
                "WHERE run_id = ? AND outcome IS NULL",
                (Outcome.INTERNAL_ERROR.value, NO_OUTCOME, now(), run_id),
            )
            conn.execute("UPDATE runs SET finished_at = ? WHERE id = ?", (now(), run_id))
        return self.run_totals(run_id)

    def recover_interrupted(self) -> int:
        """Closes runs whose process is gone (killed, crashed) on this host; returns how many."""
        host = socket.gethostname()
        open_runs = self._query("SELECT id, pid FROM runs WHERE finished_at IS NULL AND host = ?", (host,))
        dead = [r["id"] for r in open_runs if not pid_alive(r["pid"])]
        if not dead:
            return 0
        with self._write() as conn:
            for run_id in dead:
                # An interruption is transient: the next run tries these articles again.
                conn.execute(
                    "UPDATE articles SET outcome = ?, error = ?, transient = 1, finished_at = ? "
                    "WHERE run_id = ? AND outcome IS NULL",
                    (Outcome.INTERNAL_ERROR.value, INTERRUPTED, now(), run_id),
                )
                conn.execute("UPDATE runs SET finished_at = ?, interrupted = 1 WHERE id = ?", (now(), run_id))
        return len(dead)

    def run_totals(self, run_id: int) -> RunTotals:
        return self._totals(self._query("SELECT * FROM articles WHERE run_id = ?", (run_id,)))

    def run_records(self, run_id: int) -> list[Record]:
        rows = self._query("SELECT * FROM articles WHERE run_id = ? ORDER BY id", (run_id,))
        return [_record(r) for r in rows]

    def runs(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._query("SELECT * FROM runs ORDER BY id")]

    # --- articles -----------------------------------------------------------------------------------------

    def last(self, canonical_url: str) -> Record | None:
        """The latest outcome recorded for this article in any run, or None if never processed."""
        rows = self._query(
            "SELECT * FROM articles WHERE canonical_url = ? AND outcome IS NOT NULL ORDER BY id DESC LIMIT 1",
            (canonical_url,),
        )
        return _record(rows[0]) if rows else None

    def last_success(self, canonical_url: str) -> Record | None:
        """The latest success recorded for this article (a skipped success counts: it vouched for a scan)."""
        rows = self._query(
            "SELECT * FROM articles WHERE canonical_url = ? AND outcome IN (?, ?) ORDER BY id DESC LIMIT 1",
            (canonical_url, Outcome.OK.value, Outcome.TOO_LONG.value),
        )
        return _record(rows[0]) if rows else None

    def known(self) -> set[str]:
        """Canonical URLs of every article that ever got an outcome: what a watch need not look at again,
        unless it failed transiently (see `retryable`)."""
        rows = self._query("SELECT DISTINCT canonical_url FROM articles WHERE outcome IS NOT NULL")
        return {r["canonical_url"] for r in rows}

    def retryable(self) -> list[Record]:
        """Articles whose latest outcome is a transient failure: the next run should try them again."""
        return [r for r in self.latest() if not r.succeeded and r.transient]

    def latest(self) -> list[Record]:
        """One record per article: the latest run that did the work, in the order articles were first seen.
        A later run that only carried the outcome over (skipped) does not hide what that work cost."""
        rows = self._query(
            "SELECT a.* FROM articles a JOIN (SELECT canonical_url, MAX(id) AS id FROM articles "
            "WHERE outcome IS NOT NULL AND skipped = 0 GROUP BY canonical_url) m ON a.id = m.id "
            "ORDER BY (SELECT MIN(id) FROM articles f WHERE f.canonical_url = a.canonical_url)"
        )
        return [_record(r) for r in rows]

    def totals(self) -> RunTotals:
        """Totals over the latest outcome of every article (`skipped`: articles whose last run only carried
        the outcome over); tokens and attempts over every run (spent is spent, even on an attempt a later run
        redid)."""
        latest = self.latest()
        totals = RunTotals(inputs=len(latest))
        for rec in latest:
            totals.outcomes[rec.outcome] = totals.outcomes.get(rec.outcome, 0) + 1
        totals.skipped = self._query(
            "SELECT COUNT(*) n FROM articles a JOIN (SELECT canonical_url, MAX(id) AS id FROM articles "
            "WHERE outcome IS NOT NULL GROUP BY canonical_url) m ON a.id = m.id WHERE a.skipped = 1"
        )[0]["n"]
        spent = self._query(
            "SELECT COALESCE(SUM(tokens_in),0) ti, COALESCE(SUM(tokens_out),0) tout, "
            "COALESCE(SUM(attempts),0) att FROM articles"
        )[0]
        totals.tokens_in, totals.tokens_out, totals.attempts = spent["ti"], spent["tout"], spent["att"]
        return totals

    @staticmethod
    def _totals(rows: list[sqlite3.Row]) -> RunTotals:
        totals = RunTotals(inputs=len(rows))
        for row in rows:
            key = row["outcome"] or "pending"
            totals.outcomes[key] = totals.outcomes.get(key, 0) + 1
            totals.skipped += row["skipped"]
            totals.tokens_in += row["tokens_in"]
            totals.tokens_out += row["tokens_out"]
            totals.attempts += row["attempts"]
        return totals

    # --- sources ------------------------------------------------------------------------------------------

    def add_source(self, spec: str, kind: str = "") -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO sources (spec, kind, added_at) VALUES (?,?,?) ON CONFLICT (spec) DO NOTHING",
                (spec, kind, now()),
            )

    def source_checked(self, spec: str, error: str | None = None, *, links: int | None = None,
                       kind: str | None = None) -> None:
        """Notes a read of a source: when, how many links it gave, and its error (None: read fine)."""
        self.add_source(spec)
        with self._write() as conn:
            conn.execute(
                "UPDATE sources SET last_checked_at = ?, last_error = ?, last_links = ?, kind = COALESCE(?, kind) "
                "WHERE spec = ?",
                (now(), error, links, kind, spec),
            )

    def sources(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._query("SELECT * FROM sources ORDER BY id")]
