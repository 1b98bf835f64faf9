"""robots.txt, fetched through the guarded fetcher itself and cached per origin for the Fetcher's life.

Parsed with protego, which follows RFC 9309 and Google's conventions: `*` and `$` in paths (`Disallow: /*.pdf$`),
the longest matching rule wins, `Allow` overrides a shorter `Disallow`. The standard library's parser matches
paths as plain prefixes, so a wildcard rule never applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from protego import Protego

from extractor.errors import FetchError, HTTPStatusError

#: What an unreadable robots.txt means: everything allowed (missing, broken) or nothing (401/403).
_ALLOW_ALL = ""
_DISALLOW_ALL = "User-agent: *\nDisallow: /\n"


class RobotsRules:
    """`allowed(url)`: whether robots.txt of the URL's origin lets `user_agent` fetch it.

    As crawlers usually do: a 401/403 on robots.txt forbids the whole site; a missing file (other 4xx), a
    server error, a timeout or an unreadable file allow it (failing open, so a broken robots.txt does not hide
    a site's articles)."""

    def __init__(self, get_text: Callable[[str], str], user_agent: str) -> None:
        self._get_text = get_text
        self._agent = user_agent
        self._rules: dict[str, Protego] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def _load(self, origin: str) -> Protego:
        try:
            text = self._get_text(origin + "/robots.txt")
        except HTTPStatusError as exc:
            text = _DISALLOW_ALL if exc.status in (401, 403) else _ALLOW_ALL
        except FetchError:
            text = _ALLOW_ALL
        try:
            return Protego.parse(text)
        except Exception:  # protego is lenient; a file it still cannot read allows, like a missing one
            return Protego.parse(_ALLOW_ALL)

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        with self._lock:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:  # one robots.txt request per origin, however many threads ask at once
            if origin not in self._rules:
                self._rules[origin] = self._load(origin)
            rules = self._rules[origin]
        return bool(rules.can_fetch(url, self._agent))
