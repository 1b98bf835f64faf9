"""`Fetcher`: URL in, `Page` or one typed `FetchError` out, safely."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from extractor._deadline import deadline_scope
from extractor._retry_after import seconds_to_wait
from extractor.errors import (
    ArchiveEntryError,
    BlockedError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    NoContentError,
    OfflineMissError,
    TooLargeError,
)
from extractor.fetch._archive import WebArchive
from extractor.fetch._body import (
    SNIFF_BYTES,
    check_declared_type,
    content_codings,
    decode,
    media_type,
    read_capped,
    sniff,
)
from extractor.fetch._guard import Guard, GuardedTransport, Resolver, host_key
from extractor.fetch._page import Page, utc_now
from extractor.fetch._robots import RobotsRules
from extractor.fetch._settings import FetchSettings
from extractor.urls import is_http_url

_REDIRECTS = (301, 302, 303, 307, 308)
ROBOTS_MAX_BYTES = 500_000


class _StatusError(HTTPStatusError):
    """An HTTP status that may be retried, with the server's `Retry-After` in seconds if it gave one."""

    def __init__(self, message: str, url: str, status: int, retry_after: float | None) -> None:
        super().__init__(message, url, status)
        self.retry_after = retry_after


class _DeadlineError(FetchTimeoutError):
    """The whole attempt ran out of time. Not retried within the fetch: a trickling server would trickle again."""


def _guess_type(head: bytes) -> str:
    start = head.lstrip()[:512].lower()
    if start.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf")):
        return "application/xml"
    if b"<html" in start or b"<!doctype html" in start or b"<body" in start or b"<head" in start:
        return "text/html"
    return "text/plain"


class Fetcher:
    """Thread-safe. `fetch(url)` follows at most `max_redirects` redirects, checking every hop's scheme, robots
    rule and resolved addresses; retries 408, 429, 5xx and timeouts; reads at most `max_bytes` decompressed.

    With an `archive`, a URL whose canonical form is stored is answered from it and every new page is stored.
    `offline=True` answers only from the archive (by default `settings.archive_root()`), never opening a socket.
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        offline: bool = False,
        archive: WebArchive | None = None,
        resolver: Resolver | None = None,
        host_slot: Callable[[str], AbstractContextManager[object]] | None = None,
    ) -> None:
        self.settings = settings or FetchSettings()
        #: A per-host slot shared with other processes (the pipeline's limits), held inside this process's own.
        self._host_slot = host_slot
        self.offline = offline
        if archive is None and offline:
            archive = WebArchive(self.settings.archive_root())
        self.archive = archive
        self._client: httpx.Client | None = None
        if not offline:
            s = self.settings
            transport = GuardedTransport(
                Guard(s.allow_hosts, resolver),
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
                ca_bundle=s.ca_bundle,
            )
            self._client = httpx.Client(
                transport=transport,
                follow_redirects=False,
                trust_env=False,
                headers={
                    "User-Agent": s.user_agent,
                    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,text/*;q=0.8",
                    "Accept-Encoding": "gzip, deflate",
                },
            )
        self._robots = RobotsRules(self._robots_text, self.settings.user_agent) if self.settings.robots else None
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._slots_lock = threading.Lock()

    # --- public ------------------------------------------------------------------------------------------

    def fetch(self, url: str) -> Page:
        url = url.strip()
        if not is_http_url(url):
            raise BlockedError(f"only http and https URLs are fetched: {url!r}", url)
        if self.archive is not None:
            try:
                stored = self.archive.get(url)
            except ArchiveEntryError:
                if self.offline or self._client is None:
                    raise  # offline, a damaged entry is this URL's outcome, said clearly
                stored = None  # online, it is fetched again and replaced
            if stored is not None:
                return stored
        if self.offline or self._client is None:
            raise OfflineMissError(f"offline and not in the web archive: {url}", url)
        page = self._with_retries(url, self.settings.max_bytes, robots=True)
        if self.archive is not None:
            self.archive.put(page)
        return page

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- retries -----------------------------------------------------------------------------------------

    def _should_retry(self, exc: BaseException) -> bool:
        if isinstance(exc, _DeadlineError):
            return False
        if isinstance(exc, FetchTimeoutError):
            return True
        if isinstance(exc, _StatusError) and exc.transient:  # 408, 429, 5xx
            wait = exc.retry_after
            return wait is None or wait <= self.settings.retry_after_max
        return False

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        jitter = random.uniform(0.5, 1.5)
        if isinstance(exc, _StatusError) and exc.retry_after is not None:
            return exc.retry_after + self.settings.backoff * 0.1 * jitter
        return float(self.settings.backoff * 2 ** (state.attempt_number - 1) * jitter)

    def _with_retries(self, url: str, max_bytes: int, *, robots: bool) -> Page:
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.retries + 1),
            retry=retry_if_exception(self._should_retry),
            wait=self._wait,
            reraise=True,
        )
        return retrying(self._attempt, url, max_bytes, robots)

    # --- one attempt -------------------------------------------------------------------------------------

    @contextmanager
    def _slot(self, key: str) -> Iterator[None]:
        with self._slots_lock:
            slot = self._slots.setdefault(key, threading.BoundedSemaphore(self.settings.per_host))
        with slot, (self._host_slot(key) if self._host_slot is not None else nullcontext()):
            yield

    def _robots_text(self, robots_url: str) -> str:
        return self._with_retries(robots_url, ROBOTS_MAX_BYTES, robots=False).text

    def _attempt(self, url: str, max_bytes: int, robots: bool) -> Page:
        s = self.settings
        deadline = time.monotonic() + s.deadline
        current = url
        status = 0
        for _hop in range(s.max_redirects + 1):
            if not is_http_url(current):
                raise BlockedError(f"redirect to a non-http(s) URL: {current!r}", url)
            parts = urlsplit(current)
            if robots and self._robots is not None and not self._robots.allowed(current):
                raise BlockedError(f"robots.txt disallows {current}", url)
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
            with self._slot(host_key(parts.hostname or "", port)), deadline_scope(deadline):
                location = self._request(url, current, deadline, max_bytes)
            if isinstance(location, Page):
                return location
            current, status = location
        raise HTTPStatusError(f"more than {s.max_redirects} redirects", url, status=status)

    def _request(self, url: str, current: str, deadline: float, max_bytes: int) -> Page | tuple[str, int]:
        """One request: a `Page`, or (next URL, status) when the answer is a redirect."""
        assert self._client is not None
        s = self.settings
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlineError(f"no answer within the {s.deadline:g} s deadline", url)
        timeout = httpx.Timeout(
            connect=min(s.connect_timeout, remaining),
            read=min(s.read_timeout, remaining),
            write=min(s.read_timeout, remaining),
            pool=remaining,
        )
        try:
            request = self._client.build_request("GET", current, timeout=timeout)
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            if time.monotonic() >= deadline:
                raise _DeadlineError(f"no answer within the {s.deadline:g} s deadline", url) from exc
            raise FetchTimeoutError(f"timed out: {exc or type(exc).__name__}", url) from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise BlockedError(f"not a fetchable URL: {exc}", url) from exc
        except httpx.TransportError as exc:
            raise HTTPStatusError(f"connection failed: {exc or type(exc).__name__}", url, status=0) from exc
        try:
            status = response.status_code
            if status in _REDIRECTS and response.headers.get("location"):
                return urljoin(current, response.headers["location"].strip()), status
            if status == 204:
                raise NoContentError("204 No Content", url)
            if not 200 <= status < 300:
                raise _StatusError(
                    f"HTTP {status}", url, status, seconds_to_wait(response.headers.get("retry-after"))
                )
            return self._read(url, current, response, deadline, max_bytes)
        except httpx.TimeoutException as exc:
            if time.monotonic() >= deadline:
                raise _DeadlineError(f"body not complete within the {s.deadline:g} s deadline", url) from exc
            raise FetchTimeoutError(f"timed out reading the body: {exc or type(exc).__name__}", url) from exc
        except httpx.TransportError as exc:
            raise HTTPStatusError(f"connection broken: {exc or type(exc).__name__}", url, status=0) from exc
        finally:
            response.close()

    def _read(self, url: str, current: str, response: httpx.Response, deadline: float, max_bytes: int) -> Page:
        mime, header_charset = media_type(response.headers.get("content-type"))
        check_declared_type(mime, url)
        codings = content_codings(response.headers.get("content-encoding"))
        length = response.headers.get("content-length", "")
        if not codings and length.isdigit() and int(length) > max_bytes:
            raise TooLargeError(f"Content-Length {length} is over the {max_bytes} byte cap", url)
        pieces: list[bytes] = []
        size = 0
        sniffed = False
        for piece in read_capped(response.iter_raw(), codings, max_bytes, url):
            if time.monotonic() > deadline:
                raise _DeadlineError(f"body not complete within the {self.settings.deadline:g} s deadline", url)
            pieces.append(piece)
            size += len(piece)
            if not sniffed and size >= SNIFF_BYTES:
                sniff(b"".join(pieces), url)  # refuse binaries before reading the rest
                sniffed = True
        content = b"".join(pieces)
        if not sniffed:
            sniff(content, url)
        if mime not in ("", "application/octet-stream") and mime.startswith(("text/", "application/")):
            content_type = mime
        else:
            content_type = _guess_type(content)
        text, charset = decode(content, header_charset)
        return Page(
            url=url,
            final_url=current,
            status=response.status_code,
            content_type=content_type,
            charset=charset,
            content=content,
            text=text,
            fetched_at=utc_now(),
        )


__all__ = ["FetchError", "Fetcher"]
