"""`Retry-After`, read one way for the fetcher and the model client alike."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime


def seconds_to_wait(value: str | None) -> float | None:
    """Seconds a `Retry-After` header value asks for: a number of seconds or an HTTP date; None when absent or
    unreadable. Never negative (a date in the past means now)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
