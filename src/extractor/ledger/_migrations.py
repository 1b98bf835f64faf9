"""The ledger's schema, as numbered migrations.

`PRAGMA user_version` holds the number of the last migration applied. Never edit a migration that has shipped:
append a new one, so that every existing ledger upgrades in place.
"""

from __future__ import annotations

import contextlib
import sqlite3

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            spec TEXT NOT NULL UNIQUE,          -- the URL or path as the user gave it
            kind TEXT NOT NULL DEFAULT '',      -- page, feed, draft, url
            added_at TEXT NOT NULL,
            last_checked_at TEXT,
            last_error TEXT
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            command TEXT NOT NULL,              -- scan, page, watch, flow:scan_page ...
            started_at TEXT NOT NULL,
            finished_at TEXT,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            model TEXT,
            prompt_version TEXT,
            inputs INTEGER NOT NULL DEFAULT 0,
            interrupted INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            url TEXT NOT NULL,                  -- as found in the source
            canonical_url TEXT NOT NULL,
            scan_id TEXT NOT NULL,
            origin TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            outcome TEXT,                       -- NULL while pending, then an Outcome code
            error TEXT,
            transient INTEGER NOT NULL DEFAULT 0,
            skipped INTEGER NOT NULL DEFAULT 0, -- the outcome was carried over without new work
            model TEXT,
            prompt_version TEXT,
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            fetch_ms INTEGER,
            extract_ms INTEGER,
            total_ms INTEGER,
            content_hash TEXT,
            started_at TEXT,
            finished_at TEXT,
            UNIQUE (run_id, canonical_url)
        );
        CREATE INDEX articles_canonical ON articles (canonical_url, id);
        CREATE INDEX articles_scan_id ON articles (scan_id);
        """,
    ),
    (
        2,
        """
        -- The newsletter issue's date (YYYY-MM-DD) and the article's own date, author and site name, when
        -- known. No comment may follow a column definition: SQLite copies it into the table's schema text.
        ALTER TABLE articles ADD COLUMN issue_date TEXT;
        ALTER TABLE articles ADD COLUMN article_date TEXT;
        ALTER TABLE articles ADD COLUMN author TEXT;
        ALTER TABLE articles ADD COLUMN site_name TEXT;
        -- How many links a source gave at its last check (0 with last_error set: it gave none).
        ALTER TABLE sources ADD COLUMN last_links INTEGER
        """,
    ),
    (
        3,
        """
        ALTER TABLE runs ADD COLUMN boot_id TEXT;         -- the kernel's boot id, to tell a reused pid
        ALTER TABLE runs ADD COLUMN pid_ns TEXT;          -- the pid namespace the pid belongs to
        ALTER TABLE runs ADD COLUMN pid_started TEXT;     -- the process's start time, in ticks since boot
        ALTER TABLE runs ADD COLUMN heartbeat_at REAL;    -- unix time of the run's last sign of life
        UPDATE runs SET heartbeat_at = CAST(strftime('%s', started_at) AS REAL) WHERE finished_at IS NULL;
        CREATE TABLE leases (
            canonical_url TEXT PRIMARY KEY,   -- one article is processed by one run at a time
            run_id INTEGER NOT NULL REFERENCES runs(id),
            taken_at REAL NOT NULL,           -- unix time
            expires_at REAL NOT NULL          -- unix time: past it, any run may take the lease
        );
        """,
    ),
)


def latest_version() -> int:
    return max(number for number, _ in MIGRATIONS)


class NewerLedgerError(Exception):
    """The ledger was written by a newer extractor: its schema is unknown here, so it is never written."""

    def __init__(self, version: int) -> None:
        super().__init__(f"schema version {version}, newer than this extractor knows ({latest_version()})")
        self.version = version


def migrate(conn: sqlite3.Connection) -> int:
    """Applies every migration newer than the ledger; returns the resulting version."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > latest_version():
        raise NewerLedgerError(version)
    for number, sql in sorted(MIGRATIONS):
        if number <= version:
            continue
        # One transaction per migration: a crash half-way leaves the previous version intact. The version is
        # read again under the write lock, since another process may have migrated in the meantime.
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > latest_version():
                raise NewerLedgerError(version)
            if number <= version:
                conn.execute("COMMIT")
                continue
            # Statements are split on ";": keep semicolons out of the migrations' comments and strings.
            for statement in sql.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number:d}")
            conn.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back by itself (disk full): a failed ROLLBACK must not hide the real error.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        version = number
    return version
