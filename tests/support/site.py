"""A real, threaded HTTP server on loopback for tests: serves `fixtures/site/` plus routes a test adds, and a set
of hostile routes (redirects, statuses, trickling bodies, compression bombs, flaky servers).

    with Site() as site:
        site.add("/hello", body=b"<html>...", content_type="text/html")
        fetcher = Fetcher(FetchSettings(allow_hosts=[site.host_port], robots=False))
        fetcher.fetch(site.url("/hello"))

Built-in routes (query parameters in brackets):
- `/redirect?to=URL[&status=302]`, `/redirect-chain/N` (N hops, then `/articles/tidal-microgrids.html`)
- `/status/CODE[?retry_after=S]`
- `/flaky/KEY?fail=N[&status=503][&retry_after=S]`: fails N times per KEY, then serves an article
- `/trickle[?interval=0.5&bytes=100]`: one byte per interval, HTML declared
- `/stall[?seconds=5]`: headers, then silence
- `/bomb[?size=50000000]`: a gzip body that inflates to `size` zero-ish bytes of HTML
- `/echo-headers`: the request headers as text/plain
`add_newsletter(path)` serves the fixture newsletter post with its article links pointing at this server.
Every request is recorded in `site.requests` as (method, path, headers).
"""

from __future__ import annotations

import functools
import gzip
import http.server
import mimetypes
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SITE_ROOT = FIXTURES / "site"

Handler = Callable[["RequestHandler"], None]
#: The fixture post's article links (without query) -> fixture page slug.
NEWSLETTER_ARTICLES = {
    "https://www.coastal-futures.example/2025/06/tidal-microgrids": "tidal-microgrids",
    "https://civic-ledger.example/stories/library-of-seeds": "library-of-seeds",
    "https://railroadweekly.example/articles/quiet-freight/": "quiet-freight",
    "https://oceannotes.example/reef-robots": "reef-robots",
    "https://makerreview.example/2025/repair-cafe-parts": "repair-cafe-parts",
}
NEWSLETTER_QUERIES = {"tidal-microgrids": "?utm_source=kghosh&utm_medium=email&utm_campaign=20250629d",
                      "reef-robots": "?ref=kghosh"}


@dataclass
class Static:
    body: bytes
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class RequestHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def send(self, status: int, body: bytes, content_type: str | None = "text/html; charset=utf-8",
             headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        site = self.server.site
        path = urlsplit(self.path).path
        with site.lock:
            site.requests.append((self.command, self.path, dict(self.headers.items())))
        try:
            handler = site.find(path)
            if handler is None:
                self.send(404, b"<html><body><h1>Not found</h1></body></html>")
            else:
                handler(self)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_HEAD = do_GET


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    site: Site

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up on bombs and trickles are what the tests are about


class _Server6(_Server):
    address_family = socket.AF_INET6


class Site:
    def __init__(self, root: Path | None = SITE_ROOT, host: str = "127.0.0.1",
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.root = root
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.routes: dict[str, Handler] = {}
        self.prefixes: dict[str, Handler] = {}
        self.counters: dict[str, int] = {}
        server_class = _Server6 if ":" in host else _Server
        self._server = server_class((host, 0), RequestHandler)
        self._server.site = self
        self.scheme = "http"
        if ssl_context is not None:  # HTTPS: the handshake happens on accept
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None
        self._builtins()

    # --- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> Site:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for serve_forever, which must have started
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Site:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- addresses ---------------------------------------------------------------------------------------
    @property
    def host_port(self) -> str:
        """The `EXTRACTOR_ALLOW_HOSTS` entry for this server."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host_port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    # --- routes ------------------------------------------------------------------------------------------
    def add(self, path: str, handler: Handler | None = None, *, body: bytes | str = b"", status: int = 200,
            content_type: str | None = "text/html; charset=utf-8", headers: dict[str, str] | None = None) -> None:
        """Serves `handler(request)` or a fixed response at `path` (exact; a trailing `*` makes it a prefix)."""
        if handler is None:
            static = Static(body.encode() if isinstance(body, str) else body, status, content_type, headers or {})

            def handler(req: RequestHandler, s: Static = static) -> None:
                req.send(s.status, s.body, s.content_type, s.headers)

        if path.endswith("*"):
            self.prefixes[path[:-1]] = handler
        else:
            self.routes[path] = handler

    def add_newsletter(self, path: str = "/p/20250701a") -> list[str]:
        """Serves the fixture Substack-like post at `path` with its five article links pointing at this server's
        `/articles/*.html` pages (query strings kept). Returns the article URLs as they appear in the post."""
        assert self.root is not None
        html = (self.root / "p" / "20250629d.html").read_text(encoding="utf-8")
        # The copy declares its own (public) URL, as a saved page does: its issue id comes from `path`.
        html = html.replace("https://kghosh.substack.com/p/20250629d", "https://kghosh.substack.com" + path)
        found = []
        for public, slug in NEWSLETTER_ARTICLES.items():
            html = html.replace(public, self.url(f"/articles/{slug}.html"))
            found.append(self.url(f"/articles/{slug}.html") + NEWSLETTER_QUERIES.get(slug, ""))
        self.add(path, body=html.encode("utf-8"))
        return found

    def hits(self, path: str) -> int:
        """Requests seen for `path` (query string ignored)."""
        with self.lock:
            return sum(1 for _, p, _ in self.requests if urlsplit(p).path == path)

    def find(self, path: str) -> Handler | None:
        if path in self.routes:
            return self.routes[path]
        for prefix, handler in sorted(self.prefixes.items(), key=lambda item: -len(item[0])):
            if path.startswith(prefix):
                return handler
        if self.root is not None:
            for candidate in (path, path + ".html", path.rstrip("/") + "/index.html"):
                file = (self.root / candidate.lstrip("/")).resolve()
                if file.is_file() and self.root.resolve() in file.parents:
                    return self._file_handler(file)
        return None

    @staticmethod
    def _file_handler(file: Path) -> Handler:
        types = {".md": "text/markdown; charset=utf-8", ".xml": "application/xml", ".rss": "application/rss+xml",
                 ".atom": "application/atom+xml", ".html": "text/html; charset=utf-8", ".txt": "text/plain"}
        content_type = types.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"

        def handler(req: RequestHandler) -> None:
            req.send(200, file.read_bytes(), content_type)

        return handler

    def _builtins(self) -> None:
        def redirect(req: RequestHandler) -> None:
            q = req.query
            req.send(int(q.get("status", "302")), b"", None, {"Location": q["to"]})

        def chain(req: RequestHandler) -> None:
            left = int(urlsplit(req.path).path.rsplit("/", 1)[1])
            target = f"/redirect-chain/{left - 1}" if left > 0 else "/articles/tidal-microgrids.html"
            req.send(302, b"", None, {"Location": target})

        def status(req: RequestHandler) -> None:
            code = int(urlsplit(req.path).path.rsplit("/", 1)[1])
            headers = {"Retry-After": req.query["retry_after"]} if "retry_after" in req.query else {}
            req.send(code, f"<html><body>status {code}</body></html>".encode(), headers=headers)

        def flaky(req: RequestHandler) -> None:
            key = urlsplit(req.path).path
            q = req.query
            with self.lock:
                seen = self.counters.get(key, 0)
                self.counters[key] = seen + 1
            if seen < int(q.get("fail", "1")):
                headers = {"Retry-After": q["retry_after"]} if "retry_after" in q else {}
                req.send(int(q.get("status", "503")), b"<html><body>busy</body></html>", headers=headers)
            else:
                assert self.root is not None
                req.send(200, (self.root / "articles" / "tidal-microgrids.html").read_bytes())

        def trickle(req: RequestHandler) -> None:
            q = req.query
            interval, count = float(q.get("interval", "0.5")), int(q.get("bytes", "100"))
            req.send_response(200)
            req.send_header("Content-Type", "text/html; charset=utf-8")
            req.send_header("Content-Length", str(count))
            req.end_headers()
            for _ in range(count):
                req.wfile.write(b"x")
                req.wfile.flush()
                time.sleep(interval)

        def stall(req: RequestHandler) -> None:
            req.send_response(200)
            req.send_header("Content-Type", "text/html")
            req.send_header("Content-Length", "1000")
            req.end_headers()
            req.wfile.flush()
            time.sleep(float(req.query.get("seconds", "5")))

        def bomb(req: RequestHandler) -> None:
            size = int(req.query.get("size", str(50_000_000)))
            req.send(200, gzip_bomb(size), headers={"Content-Encoding": "gzip"})

        def echo(req: RequestHandler) -> None:
            text = "".join(f"{k}: {v}\n" for k, v in req.headers.items())
            req.send(200, text.encode(), "text/plain; charset=utf-8")

        self.add("/redirect", redirect)
        self.add("/redirect-chain/*", chain)
        self.add("/status/*", status)
        self.add("/flaky/*", flaky)
        self.add("/trickle", trickle)
        self.add("/stall", stall)
        self.add("/bomb", bomb)
        self.add("/echo-headers", echo)


@functools.lru_cache(maxsize=8)
def gzip_bomb(size: int) -> bytes:
    """A small gzip body that inflates to `size` bytes of HTML-looking text."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = [compressor.compress(b"<html><body>")]
    block = b" " * 1_000_000
    for _ in range(size // len(block)):
        out.append(compressor.compress(block))
    out.append(compressor.flush())
    return b"".join(out)


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data)
