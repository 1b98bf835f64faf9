"""robots.txt, fetched through the guarded fetcher itself and cached per origin for the Fetcher's life."""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from extractor.errors import FetchError, HTTPStatusError


class RobotsRules:
    """`allowed(url)`: whether robots.txt of the URL's origin lets `user_agent` fetch it.

    As crawlers usually do: a 401/403 on robots.txt forbids the whole site; a missing file (other 4xx), a
    server error, a timeout or an unreadable file allow it (failing open, so a broken robots.txt does not hide
    a site's articles)."""

    def __init__(self, get_text: Callable[[str], str], user_agent: str) -> None:
        self._get_text = get_text
        self._agent = user_agent
        self._rules: dict[str, RobotFileParser] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def _load(self, origin: str) -> RobotFileParser:
        parser = RobotFileParser(origin + "/robots.txt")
        try:
            parser.parse(self._get_text(origin + "/robots.txt").splitlines())
        except HTTPStatusError as exc:
            if exc.status in (401, 403):
                parser.disallow_all = True  # type: ignore[attr-defined]
            else:
                parser.allow_all = True  # type: ignore[attr-defined]
        except FetchError:
            parser.allow_all = True  # type: ignore[attr-defined]
        return parser

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        with self._lock:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:  # one robots.txt request per origin, however many threads ask at once
            if origin not in self._rules:
                self._rules[origin] = self._load(origin)
            parser = self._rules[origin]
        return parser.can_fetch(self._agent, url)
