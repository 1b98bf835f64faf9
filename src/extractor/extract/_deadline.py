"""A wall-clock deadline for each request to the model server, like the fetcher's for pages.

The openai client's timeout bounds each socket operation, not the request: a server that sends a byte just
before each read timeout holds a worker for as long as it likes (measured: 184 s with a 5 s timeout). Here every
socket read, write and connect of one request is bounded by what is left of that request's deadline, headers and
body alike, so a request ends within its deadline, give or take one scheduling tick. A request that runs out is
not retried within the call (a trickling server would trickle again): the article fails with a transient
`ModelDeadlineError` and the next run tries it again.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore2
import httpx2

from extractor._deadline import deadline_scope, remaining

try:  # httpx2 keeps it private: without it, environment proxies are not honoured (direct connections)
    from httpx2._utils import get_environment_proxies
except ImportError:  # pragma: no cover

    def get_environment_proxies() -> dict[str, str | None]:
        return {}

class DeadlinePassed(httpcore2.ReadTimeout):
    """Raised inside the HTTP stack when a request's deadline has passed; found again in the cause chain."""


def _bounded(timeout: float | None) -> float | None:
    left = remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise DeadlinePassed("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


def _passed() -> bool:
    left = remaining()
    return left is not None and left <= 0


@contextmanager
def _named() -> Iterator[None]:
    """A timeout that happened because the deadline passed says so (it is not retried, unlike a timeout)."""
    try:
        yield
    except httpcore2.TimeoutException as exc:
        if _passed() and not isinstance(exc, DeadlinePassed):
            raise DeadlinePassed("the request's deadline passed") from exc
        raise


class _Stream(httpcore2.NetworkStream):
    def __init__(self, stream: httpcore2.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _named():
            return self._stream.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        with _named():
            self._stream.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore2.NetworkStream:  # fmt: skip
        with _named():
            return _Stream(self._stream.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore2.NetworkBackend):
    def __init__(self, inner: httpcore2.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore2.NetworkStream:  # fmt: skip
        with _named():
            return _Stream(self._inner.connect_tcp(host, port, _bounded(timeout), local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore2.NetworkStream:  # fmt: skip
        with _named():
            return _Stream(self._inner.connect_unix_socket(path, _bounded(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Body(httpx2.SyncByteStream):
    """The response body, read under the request's deadline (openai reads it after the transport returned)."""

    def __init__(self, inner: httpx2.SyncByteStream, at: float) -> None:
        self._inner = inner
        self._at = at

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            with deadline_scope(self._at):
                chunk = next(chunks, None)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self._inner.close()


class DeadlineTransport(httpx2.HTTPTransport):
    """httpx2's transport, each request of which ends within `seconds` of its start, whatever the server does."""

    def __init__(self, seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = seconds
        pool: Any = self._pool
        pool._network_backend = _Backend(pool._network_backend)  # httpcore2 has no public hook for this

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        at = time.monotonic() + self.seconds
        with deadline_scope(at):
            response = super().handle_request(request)
        assert isinstance(response.stream, httpx2.SyncByteStream)
        response.stream = _Body(response.stream, at)
        return response


def deadline_client(seconds: float) -> httpx2.Client:
    """An HTTP client for the openai client whose every request has a `seconds` deadline; proxies from the
    environment (HTTPS_PROXY, NO_PROXY...) are honoured as the openai client's own would."""
    # The openai client's own pool limits: a run's workers must not queue at a smaller pool.
    limits = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
    mounts: dict[str, httpx2.BaseTransport | None] = {
        pattern: DeadlineTransport(seconds, proxy=url, limits=limits) if url else None
        for pattern, url in get_environment_proxies().items()
    }
    return httpx2.Client(transport=DeadlineTransport(seconds, limits=limits), mounts=mounts, follow_redirects=True)


def deadline_passed(exc: BaseException) -> bool:
    """Whether `exc` (an openai or instructor error) comes from a request that ran out of its deadline."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, DeadlinePassed):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False
