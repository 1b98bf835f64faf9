"""A loopback site of generated articles, a newsletter post linking them, and an RSS feed that can grow.

Used by the watch test (new feed items appear between polls) and by `bench/pipeline.py` (hundreds of distinct
articles). Articles are English prose, long enough for the article reader, different for each number.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_SALTS = (f"{os.getpid()}x{i}x" for i in itertools.count())
_SUBJECTS = ["Cities", "Farmers", "Hospitals", "Schools", "Ports", "Libraries", "Rail operators", "Utilities"]
_VERBS = ["are testing", "have started using", "quietly rolled out", "are debating", "now depend on"]
_OBJECTS = [
    "shared battery storage",
    "community weather sensors",
    "open transit timetables",
    "repairable delivery robots",
    "low-cost water meters",
    "neighbourhood heat maps",
    "citizen-run data trusts",
    "autonomous street sweepers",
]
_TAILS = [
    "which changes how budgets are planned for the next decade.",
    "and residents say the change was faster than anyone expected.",
    "although critics warn that maintenance costs are still unknown.",
    "while regulators are drafting rules that may arrive too late.",
    "because the old systems could no longer keep up with demand.",
]


def article_text(n: int, salt: str = "") -> tuple[str, list[str]]:
    """The title and paragraphs of article `n`: deterministic, distinct per `n` and per `salt` (each site gets
    its own, since trafilatura drops text it has already seen several times in a process)."""
    rng = random.Random(f"{salt}{n}")
    title = f"Report {n}: {rng.choice(_SUBJECTS)} and {rng.choice(_OBJECTS)}"
    paragraphs = []
    for p in range(6):
        sentences = [
            f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} in district {salt}{n}-{p}-{s}, "
            f"{rng.choice(_TAILS)}"
            for s in range(4)
        ]
        paragraphs.append(" ".join(sentences))
    return title, paragraphs


def article_html(n: int, version: int = 0, salt: str = "") -> str:
    title, paragraphs = article_text(n, salt)
    if version:
        paragraphs = [*paragraphs, f"Update {version}: the district council revised the plan again this week."]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{body}</article>"
        f"<footer>Loopback Gazette</footer></body></html>"
    )


class ArticleSite:
    """`/a/{n}.html` articles, `/p/{origin}` a post linking articles 0..posted-1, `/feed.xml` the feed items."""

    def __init__(self, *, posted: int = 10, origin: str = "20250629d", extra: tuple[str, ...] = ()) -> None:
        self.posted = posted
        self.origin = origin
        self.salt = next(_SALTS)
        #: Paths of special pages the post links after the articles: /short.html (too short to scan),
        #: /gone.html (404, permanent), /flaky.html (503 while `flaky_down`, transient).
        self.extra = list(extra)
        self.flaky_down = True
        #: Article number -> version: a new version changes the article's text.
        self.versions: dict[int, int] = {}
        self.feed_items: list[int] = []
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with site._lock:
                    site.hits[self.path] = site.hits.get(self.path, 0) + 1
                status, ctype, body = site.route(self.path)
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 256
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host_port(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    @property
    def allow_hosts(self) -> str:
        """`EXTRACTOR_ALLOW_HOSTS` for this site: articles on 127.0.0.1, the post on localhost."""
        return f"{self.host_port},localhost:{self.host_port.rsplit(':', 1)[1]}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host_port}"

    def url(self, n: int) -> str:
        return f"{self.base_url}/a/{n}.html"

    @property
    def post_url(self) -> str:
        # Served as `localhost`: a newsletter's links to its own host are navigation, not articles.
        return f"http://localhost:{self.host_port.rsplit(':', 1)[1]}/p/{self.origin}"

    @property
    def feed_url(self) -> str:
        return f"{self.base_url}/feed.xml"

    def route(self, path: str) -> tuple[int, str, str]:
        html = "text/html; charset=utf-8"
        if path.startswith("/a/") and path.endswith(".html"):
            try:
                n = int(path[3:-5])
            except ValueError:
                return 404, "text/plain", "not found"
            return 200, html, article_html(n, self.versions.get(n, 0), self.salt)
        if path == "/robots.txt":
            return 200, "text/plain", "User-agent: *\nAllow: /\n"
        if path == "/short.html":
            return 200, html, "<html><head><title>Short</title></head><body><p>Too short to scan.</p></body></html>"
        if path == "/flaky.html":
            if self.flaky_down:
                return 503, "text/plain", "try later"
            return 200, html, article_html(9999, 0, self.salt)
        if path == f"/p/{self.origin}":
            hrefs = [self.url(n) for n in range(self.posted)] + [self.base_url + p for p in self.extra]
            links = "\n".join(f"<li><a href='{h}'>Link {i}</a></li>" for i, h in enumerate(hrefs))
            return 200, "text/html; charset=utf-8", (
                f"<!doctype html><html><head><title>Issue {self.origin}</title></head><body>"
                f"<article><h1>Weekly links</h1><ul>{links}</ul></article></body></html>"
            )
        if path == "/feed.xml":
            return 200, "application/rss+xml", self.feed()
        return 404, "text/plain", "not found"

    def feed(self) -> str:
        start = datetime(2025, 6, 1, tzinfo=UTC)
        items = "".join(
            f"<item><title>Article {n}</title><link>{self.url(n)}</link><guid>{self.url(n)}</guid>"
            f"<pubDate>{format_datetime(start + timedelta(days=n))}</pubDate></item>"
            for n in self.feed_items
        )
        return (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Loopback Gazette</title>"
            f"<link>{self.base_url}/</link><description>test feed</description>{items}</channel></rss>"
        )

    def start(self) -> ArticleSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ArticleSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
