"""The ledger: one SQLite file under `EXTRACTOR_HOME` recording every run and every article's outcome.

One connection per `Ledger`, shared by the threads of a run behind a lock; several processes (a `watch` and a
manual `scan`, Dask workers) may open the same file: WAL mode and a busy timeout let them take turns.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extractor.errors import CarriedOverError, LeaseBusyError, LedgerError, Outcome, succeeded
from extractor.ledger._leases import take
from extractor.ledger._liveness import HEARTBEAT_SECONDS, Stamp, is_alive
from extractor.ledger._migrations import NewerLedgerError, latest_version, migrate
from extractor.settings import home_dir, ledger_path

INTERRUPTED = "interrupted: the run stopped before this article got an outcome"
NO_OUTCOME = "the run ended before this article got an outcome"
#: What `in_progress` calls an article a live run has not finished yet (not an outcome: it has none yet).
PENDING = "pending"


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
        return succeeded(self.outcome)


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
        return sum(n for k, n in self.outcomes.items() if succeeded(k))

    @property
    def interrupted(self) -> int:
        """Inputs a stopped run never got to: not failures, the next run does them."""
        return self.outcomes.get(Outcome.INTERRUPTED, 0)

    @property
    def failed(self) -> int:
        return sum(self.outcomes.values()) - self.succeeded - self.interrupted

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

    #: Seconds a lease stays valid without its run's heartbeat renewing it: past it, another run may take the
    #: article even if its holder looks alive (stuck, or on another machine that stopped beating).
    lease_ttl: float = 600.0
    #: Seconds a run waits for an article another live run is processing before giving it up as `busy`.
    lease_wait: float = 1800.0
    lease_poll: float = 0.25

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or ledger_path(home_dir())
        self._lock = threading.RLock()
        self._beating: set[int] = set()
        self._stop = threading.Event()
        self._heart: threading.Thread | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            what = "not a directory" if isinstance(exc, (FileExistsError, NotADirectoryError)) else exc.strerror
            raise LedgerError(f"{self.path.parent} cannot hold the ledger (EXTRACTOR_HOME): {what}") from exc
        try:
            # Autocommit (isolation_level=None): every transaction is explicit, so none stays open by accident.
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        try:
            self._open()
        except BaseException:
            self._conn.close()
            raise

    def _open(self) -> None:
        try:
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA busy_timeout=30000")
            # Refuse a newer ledger before anything writes to it (switching to WAL writes its header).
            version: int = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > latest_version():
                raise NewerLedgerError(version)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            # WAL with synchronous=NORMAL survives a killed process (not a power cut): enough for a ledger that a
            # rerun can rebuild from the output files anyway.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            with self._lock:
                self.version = migrate(self._conn)
        except NewerLedgerError as exc:
            raise LedgerError(
                f"ledger {self.path} has {exc}: upgrade extractor (the ledger is left untouched)"
            ) from None
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def _error(self, exc: sqlite3.Error) -> LedgerError:
        """The one-line error a user gets for a SQLite failure, with what to do about it."""
        text = str(exc)
        if "not a database" in text or "malformed" in text:
            hint = "it is damaged or not a ledger: move it away and the next run starts a new one"
        elif "full" in text:
            hint = "free some space"
        elif "readonly" in text or "unable to open" in text or "disk I/O" in text:
            hint = "check that EXTRACTOR_HOME is a writable directory"
        else:
            hint = ""
        return LedgerError(f"ledger {self.path}: {text}" + (f" ({hint})" if hint else ""))

    def close(self) -> None:
        self._stop.set()
        if self._heart is not None and self._heart is not threading.current_thread():
            self._heart.join(timeout=5)
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    # SQLite rolls back by itself on some errors (disk full): a failed ROLLBACK ("cannot
                    # rollback - no transaction is active") must not hide the error that caused it.
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                raise self._error(exc) from exc

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as exc:
                raise self._error(exc) from exc

    # --- runs -------------------------------------------------------------------------------------------

    def start_run(self, command: str, *, model: str | None = None, prompt_version: str | None = None) -> int:
        """Opens a run, after closing those of dead processes (their pending articles become interrupted).
        The run beats a heartbeat into the ledger until it is finished or this ledger closed."""
        self.recover_interrupted()
        me = Stamp.current()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO runs (command, started_at, pid, host, model, prompt_version, boot_id, pid_ns, "
                "pid_started, heartbeat_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (command, now(), me.pid, me.host, model, prompt_version, me.boot_id, me.pid_ns, me.started,
                 time.time()),
            )  # fmt: skip
            assert cur.lastrowid is not None
            run_id = cur.lastrowid
        self._beat(run_id)
        return run_id

    def _beat(self, run_id: int) -> None:
        with self._lock:
            self._beating.add(run_id)
            if self._heart is None:
                self._heart = threading.Thread(target=self._heartbeat, name="ledger-heartbeat", daemon=True)
                self._heart.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            with self._lock:
                runs = sorted(self._beating)
            if not runs:
                continue
            # A missed beat is harmless (a busy or full disk, a closed ledger): the next one catches up long
            # before it matters, and this thread must outlive any of them.
            with contextlib.suppress(Exception), self._write() as conn:
                marks = ",".join("?" for _ in runs)
                at = time.time()
                conn.execute(
                    f"UPDATE runs SET heartbeat_at = ? WHERE id IN ({marks}) AND finished_at IS NULL", (at, *runs)
                )
                # A live run keeps its leases however long its model calls take.
                conn.execute(
                    f"UPDATE leases SET expires_at = ? WHERE run_id IN ({marks})", (at + self.lease_ttl, *runs)
                )

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
            # An article with its outcome is done: whoever waits for it may go on.
            conn.execute("DELETE FROM leases WHERE canonical_url = ? AND run_id = ?", (rec.canonical_url, run_id))
            return cur.rowcount > 0

    def finish_run(self, run_id: int, *, interrupted: bool = False) -> RunTotals:
        """Closes a run. An input still pending gets `interrupted` when the run was stopped (Ctrl-C, SIGTERM),
        else `internal_error` (a bug or a cancelled task), so every input of a finished run has one outcome."""
        pending = (Outcome.INTERRUPTED.value, INTERRUPTED) if interrupted else (Outcome.INTERNAL_ERROR.value, NO_OUTCOME)
        with self._write() as conn:
            conn.execute(
                "UPDATE articles SET outcome = ?, error = ?, transient = 1, finished_at = ? "
                "WHERE run_id = ? AND outcome IS NULL",
                (*pending, now(), run_id),
            )
            conn.execute(
                "UPDATE runs SET finished_at = ?, interrupted = ? WHERE id = ?", (now(), int(interrupted), run_id)
            )
            conn.execute("DELETE FROM leases WHERE run_id = ?", (run_id,))
        with self._lock:
            self._beating.discard(run_id)
        return self.run_totals(run_id)

    def _alive(self, row: sqlite3.Row) -> bool:
        stamp = Stamp(row["host"], row["pid"], row["boot_id"], row["pid_ns"], row["pid_started"])
        return is_alive(stamp, row["heartbeat_at"])

    def dead_runs(self) -> list[int]:
        """Open runs whose process is gone: killed, crashed, its container replaced (see `_liveness`)."""
        open_runs = self._query("SELECT * FROM runs WHERE finished_at IS NULL")
        return [r["id"] for r in open_runs if not self._alive(r)]

    def recover_interrupted(self) -> int:
        """Closes the runs whose process is gone; returns how many. Their pending articles become
        `internal_error` (interrupted, transient: the next run redoes them) and their leases are freed."""
        dead = self.dead_runs()
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
                conn.execute("DELETE FROM leases WHERE run_id = ?", (run_id,))
        return len(dead)

    # --- leases -----------------------------------------------------------------------------------------

    def lease(self, canonical_url: str, run_id: int) -> None:
        """Takes this article for `run_id` until its outcome is recorded: call it right before paying for the
        article. While another live run holds it, waits (up to `lease_wait`, else `LeaseBusyError`). When
        that run then failed on it, raises `CarriedOverError` with its outcome rather than paying again for
        the same failure; when it succeeded, the caller's skip test finds its scan."""
        give_up = time.monotonic() + self.lease_wait
        holder: int | None = None
        while True:
            with self._write() as conn:
                busy = take(conn, canonical_url, run_id, ttl=self.lease_ttl, alive=self._alive)
            if busy is None:
                break
            holder = busy
            if time.monotonic() >= give_up:
                raise LeaseBusyError(
                    f"run {busy} is processing this article and still holds it after {self.lease_wait:g} s"
                )
            time.sleep(self.lease_poll)
        if holder is None:
            return
        done = self._query(
            "SELECT * FROM articles WHERE run_id = ? AND canonical_url = ? AND outcome IS NOT NULL",
            (holder, canonical_url),
        )
        if done and not succeeded(done[0]["outcome"]):
            prior = _record(done[0])
            raise CarriedOverError(
                f"{prior.error or prior.outcome} (run {holder}, processing it at the same time)",
                Outcome(prior.outcome),
                transient=prior.transient,
            )

    def in_progress(self) -> list[Record]:
        """Articles of open runs that have no outcome yet and no later one: `pending` while their run lives;
        for a dead run (killed, its container gone) the outcome its recovery will record, interrupted."""
        rows = self._query(
            "SELECT a.*, r.host, r.pid, r.boot_id, r.pid_ns, r.pid_started, r.heartbeat_at "
            "FROM articles a JOIN runs r ON r.id = a.run_id "
            "WHERE r.finished_at IS NULL AND a.outcome IS NULL AND NOT EXISTS (SELECT 1 FROM articles b "
            "WHERE b.canonical_url = a.canonical_url AND b.id > a.id AND b.outcome IS NOT NULL) ORDER BY a.id"
        )
        found = []
        for row in rows:
            data = {k: row[k] for k in _RECORD_COLUMNS if k != "outcome"}
            data["transient"], data["skipped"] = True, False
            if self._alive(row):
                data["outcome"], data["error"] = PENDING, f"run {row['run_id']} (pid {row['pid']}) is on it"
            else:
                data["outcome"], data["error"] = Outcome.INTERNAL_ERROR.value, INTERRUPTED
            found.append(Record(**data))
        return found

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
