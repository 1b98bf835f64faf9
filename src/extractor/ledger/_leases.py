"""Leases: one article is processed by one run at a time, across processes, so two runs never pay twice.

A run takes an article's lease before the model call and keeps it until the article's outcome is recorded (or
the run is finished or found dead). A lease held by a live run makes the other runs wait. The holder's heartbeat
pushes `expires_at` on while it lives; past it, the lease is free whatever its holder looks like, so a holder that
stopped beating cannot block an article for ever.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable


def take(
    conn: sqlite3.Connection,
    canonical_url: str,
    run_id: int,
    *,
    ttl: float,
    alive: Callable[[sqlite3.Row], bool],
) -> int | None:
    """Takes the lease of `canonical_url` for `run_id` inside the caller's write transaction; returns None when
    taken, else the id of the live run that holds it. `alive` tells from a `runs` row whether that run lives."""
    at = time.time()
    row = conn.execute(
        "SELECT l.run_id AS holder, l.expires_at, r.* FROM leases l JOIN runs r ON r.id = l.run_id "
        "WHERE l.canonical_url = ?",
        (canonical_url,),
    ).fetchone()
    if (
        row is not None
        and row["holder"] != run_id
        and row["expires_at"] > at
        and row["finished_at"] is None
        and alive(row)
    ):
        return int(row["holder"])
    conn.execute(
        "INSERT INTO leases (canonical_url, run_id, taken_at, expires_at) VALUES (?,?,?,?) "
        "ON CONFLICT (canonical_url) DO UPDATE SET run_id = excluded.run_id, taken_at = excluded.taken_at, "
        "expires_at = excluded.expires_at",
        (canonical_url, run_id, at, at + ttl),
    )
    return None
