"""One wall-clock deadline per thread, shared by the two HTTP stacks (httpx for fetching, the openai client's
httpx2 for the model): their timeouts are per socket operation, so without this a server sending a byte just
before each read timeout could hold a thread for ever. Each stack raises its own timeout type when it passes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_local = threading.local()


@contextmanager
def deadline_scope(at: float) -> Iterator[None]:
    """Every socket operation of this thread inside the block gives up at `at` (a `time.monotonic()` value);
    nested scopes keep the earlier deadline."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = at if previous is None else min(at, previous)
    try:
        yield
    finally:
        _local.deadline = previous


def remaining() -> float | None:
    """Seconds left before this thread's deadline (zero or less once it has passed); None without one."""
    deadline: float | None = getattr(_local, "deadline", None)
    return None if deadline is None else deadline - time.monotonic()
