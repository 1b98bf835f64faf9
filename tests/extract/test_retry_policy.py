"""How long to wait and what to retry, read from real openai exceptions built on real responses."""

from __future__ import annotations

import email.utils
import time

import httpx2
import openai
import pytest

from extractor.extract._retry import is_transient, retry_after

REQUEST = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")


def status_error(status: int, headers: dict[str, str] | None = None, code: str = "x") -> openai.APIStatusError:
    body = {"error": {"message": "m", "type": code, "code": code}}
    response = httpx2.Response(status, json=body, headers=headers or {}, request=REQUEST)
    cls = {429: openai.RateLimitError, 500: openai.InternalServerError, 400: openai.BadRequestError}.get(
        status, openai.APIStatusError
    )
    return cls("m", response=response, body=body["error"])


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({}, None),
        ({"retry-after": "soon"}, None),
    ],
)
def test_retry_after_forms(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(status_error(429, headers)) == expected


def test_retry_after_as_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    wait = retry_after(status_error(429, {"retry-after": when}))
    assert wait is not None and 25 <= wait <= 31


def test_what_is_transient() -> None:
    assert is_transient(status_error(429))
    assert is_transient(status_error(500)) and is_transient(status_error(503)) and is_transient(status_error(408))
    assert not is_transient(status_error(429, code="insufficient_quota"))
    assert not is_transient(status_error(400)) and not is_transient(status_error(404))
    assert is_transient(openai.APITimeoutError(request=REQUEST))
    assert is_transient(openai.APIConnectionError(request=REQUEST))
    wrapped = RuntimeError("instructor wrapper")
    wrapped.__cause__ = status_error(502)
    assert is_transient(wrapped)
