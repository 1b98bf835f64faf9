"""Which model-server failures are worth retrying, and how long to wait: one tenacity layer.

The openai client runs with max_retries=0 and instructor never retries HTTP errors (it wraps them in
InstructorRetryException with the API error as `__cause__`), so this is the only place transient failures are
retried: 429 (honouring Retry-After), 408/409, 5xx, timeouts and connection errors. `insufficient_quota` comes
as a 429 too, but waiting will not refill an account: it fails at once, like every other 4xx.
"""

from __future__ import annotations

from collections.abc import Callable

import openai
from tenacity import RetryCallState

from extractor._retry_after import seconds_to_wait
from extractor.errors import ExtractorError
from extractor.extract._deadline import deadline_passed


def api_error(exc: BaseException) -> BaseException:
    """The API error behind an instructor wrapper, or `exc` itself."""
    seen = 0
    while not isinstance(exc, openai.APIError) and exc.__cause__ is not None and seen < 5:
        exc = exc.__cause__
        seen += 1
    return exc


def _code(exc: openai.APIError) -> str:
    code = getattr(exc, "code", None) or ""
    body = exc.body if isinstance(exc.body, dict) else {}
    inner = body.get("error") if isinstance(body.get("error"), dict) else body
    return str(code or (inner or {}).get("code") or (inner or {}).get("type") or "")


def is_quota(exc: BaseException) -> bool:
    exc = api_error(exc)
    return isinstance(exc, openai.APIError) and "insufficient_quota" in (_code(exc) + " " + str(exc))


def is_transient(exc: BaseException) -> bool:
    """Worth retrying within the call. A request that ran out of its deadline is not: a server that trickled
    once would trickle again (the article's outcome is still transient, for the next run)."""
    if isinstance(exc, ExtractorError) or deadline_passed(exc):
        return False
    exc = api_error(exc)
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        if is_quota(exc):
            return False
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, `retry-after` as seconds or an HTTP date)."""
    exc = api_error(exc)
    if not isinstance(exc, openai.APIStatusError):
        return None
    headers = exc.response.headers
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return max(0.0, float(ms) / 1000)
        return seconds_to_wait(headers.get("retry-after"))
    except (TypeError, ValueError):
        return None


def waiter(max_wait: float, base: float = 0.5) -> Callable[[RetryCallState], float]:
    """Retry-After when the server sends it, else exponential backoff; never more than `max_wait`."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after(exc) if exc else None
        if asked is not None:
            return min(asked, max_wait)
        return float(min(base * 2 ** (state.attempt_number - 1), max_wait))

    return wait
