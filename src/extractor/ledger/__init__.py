"""The ledger: what was done, what failed, and what a rerun may skip. SQLite under `EXTRACTOR_HOME`."""

from __future__ import annotations

from extractor.errors import Outcome
from extractor.ledger._migrations import MIGRATIONS, migrate
from extractor.ledger._store import (
    INTERRUPTED,
    PENDING,
    Input,
    Ledger,
    Record,
    RunTotals,
    now,
)
from extractor.settings import LEDGER_FILE

__all__ = [
    "INTERRUPTED",
    "LEDGER_FILE",
    "MIGRATIONS",
    "PENDING",
    "Input",
    "Ledger",
    "Record",
    "RunTotals",
    "migrate",
    "now",
    "should_retry",
]


def should_retry(prior: Record | None, *, retry_permanent: bool = False) -> bool:
    """The retry policy: whether an article whose latest outcome is `prior` gets processed again.

    Never seen: yes. Succeeded: yes, but the pipeline then skips the model call when the content, prompt and
    model are unchanged. Transient failure (timeout, 5xx, rate limit, interrupted run): yes. Permanent failure
    (blocked, too short, invalid output...): no, unless `retry_permanent`, since the same input would fail the
    same way and cost the same tokens again.
    """
    if prior is not None and prior.outcome == Outcome.IMPORTED:
        # A page brought in from an archive: its scan is there, and was never ours to redo at a model's cost.
        return retry_permanent
    if prior is None or prior.succeeded or prior.transient:
        return True
    return retry_permanent
