"""Soak: 1,000 loopback URLs through the Prefect path on a real Prefect server, killed at a random point and run
again; then the Prefect path's wall time over the in-process path's on the same 96 articles.

    uv run --all-extras python bench/soak.py [--n 1000] [--seed 7] [--json]

- The site (a child process) serves `n` articles; one URL in ten is a fault of a kind the fetcher handles: 404,
  a 500 that never heals, a 429 that never heals, a page slower than the fetch deadline, a body over the size
  cap, a PDF, a page with no article, a page too short, a redirect loop, a path robots.txt forbids.
- The model stub answers 5% of requests with a 500 or a 429 (the extractor retries them) and counts, per
  article, the answers it gave with a 200: an article answered twice across both runs was paid twice.
- `extractor page` runs as a Prefect flow against `prefect server start` on a loopback port; it is SIGKILLed
  once a random share (20-70%) of its links has an outcome, then the same command runs again.

Checked and printed: every URL has exactly one outcome in the second run, the killed run is closed as
interrupted, answers paid twice, every scan written has its page and sidecar and parses, no temporary file
is left, and the peak RSS of a run. An answer counts as paid when the stub sends it: calls in flight at the
SIGKILL are paid (a provider bills them) though the killed process never reads them, so up to `--workers`
articles can be paid twice; an answer the killed process did receive is in the extraction cache and is not
asked for again. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import re
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pipeline.article_site import article_html  # noqa: E402
from tests.pipeline.llm_stub import _ARTICLE, answer_for  # noqa: E402

EXTRACTOR = str(Path(sys.executable).parent / "extractor")
FAULTS = ("not_found", "server_error", "rate_limited", "slow", "too_large", "pdf", "no_content", "too_short",
          "redirect_loop", "robots")  # fmt: skip
ORIGIN = "20250629d"


def fault_of(n: int) -> str | None:
    """One URL in ten is a fault, every kind equally often."""
    return FAULTS[n % 100] if n % 100 < len(FAULTS) else None


# --- the servers (a child process: they stand for other machines) ------------------------------------------


def _site_handler(n_articles: int, salt: str) -> type[BaseHTTPRequestHandler]:
    class Site(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", **headers: str) -> None:
            self.send_response(status)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key.replace("_", "-"), value)
            self.end_headers()
            with_body = self.command != "HEAD"
            if with_body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path
            host = self.headers.get("host", "").replace("localhost", "127.0.0.1")
            if path == "/robots.txt":
                return self._send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
            if path == f"/p/{ORIGIN}":
                links = "".join(f"<li><a href='http://{host}{url_path(n)}'>Link {n}</a></li>" for n in range(n_articles))
                return self._send(200, f"<html><body><article><h1>Links</h1><ul>{links}</ul></article></body></html>"
                                  .encode())  # fmt: skip
            match = re.fullmatch(r"/(?:a|private|loop)/(\d+)\.html(?:\?hop=(\d+))?", path)
            if not match:
                return self._send(404, b"not found", "text/plain")
            n = int(match[1])
            fault = fault_of(n)
            page = article_html(n, 0, salt).encode()
            if fault == "not_found":
                return self._send(404, b"gone", "text/plain")
            if fault == "server_error":
                return self._send(500, b"broken", "text/plain")
            if fault == "rate_limited":
                return self._send(429, b"slow down", "text/plain", retry_after="0")
            if fault == "slow":
                time.sleep(3.0)
                return self._send(200, page)
            if fault == "too_large":
                return self._send(200, page + b"<!--" + b"x" * 400_000 + b"-->")
            if fault == "pdf":
                return self._send(200, b"%PDF-1.4 " + b"0" * 4000, "application/pdf")
            if fault == "no_content":
                return self._send(200, b"<html><body><div id=app></div><script>render()</script></body></html>")
            if fault == "too_short":
                return self._send(200, b"<html><body><article><p>Too short to scan.</p></article></body></html>")
            if fault == "redirect_loop":
                hop = int(match[2] or 0) + 1
                return self._send(302, b"", "text/plain", location=f"/loop/{n}.html?hop={hop}")
            return self._send(200, page)  # a plain article (and the robots-forbidden one, never fetched)

    return Site


def url_path(n: int) -> str:
    fault = fault_of(n)
    return f"/private/{n}.html" if fault == "robots" else f"/a/{n}.html"


class QuietServer(ThreadingHTTPServer):
    """A client that gave up (a fetch past its deadline, a killed run) is expected here: no traceback."""

    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class ModelStub:
    """An OpenAI-compatible stub: 5% errors, answers counted per article."""

    def __init__(self, error_rate: float, latency: float, seed: int) -> None:
        self.answers: Counter[str] = Counter()
        self.errors = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: dict[str, Any], **headers: str) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                text = "\n".join(str(m.get("content") or "") for m in body.get("messages", [])
                                 if m.get("role") == "user")  # fmt: skip
                found = _ARTICLE.search(text)
                article = found.group(1) if found else text
                with stub._lock:
                    fail = stub._rng.random() < error_rate
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    time.sleep(latency)
                    if fail:
                        with stub._lock:
                            stub.errors += 1
                        if stub._rng.random() < 0.5:
                            return self._send(500, {"error": {"message": "stub failure", "type": "server_error"}})
                        return self._send(429, {"error": {"message": "stub rate limit", "type": "rate_limit"}},
                                          retry_after="0")  # fmt: skip
                    args = json.dumps(answer_for(article))
                    name = body["tools"][0]["function"]["name"] if body.get("tools") else None
                    message: dict[str, Any] = {"role": "assistant", "content": None if name else args}
                    if name:
                        message["tool_calls"] = [{"id": "c1", "type": "function",
                                                  "function": {"name": name, "arguments": args}}]  # fmt: skip
                    with stub._lock:
                        stub.answers[hashlib.sha256(article.encode()).hexdigest()] += 1
                    return self._send(200, {
                        "id": "stub", "object": "chat.completion", "created": int(time.time()),
                        "model": body.get("model", "stub-model"),
                        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if name else "stop"}],
                        "usage": {"prompt_tokens": len(text.split()), "completion_tokens": len(args.split()),
                                  "total_tokens": len(text.split()) + len(args.split())},
                    })  # fmt: skip
                finally:
                    with stub._lock:
                        stub.in_flight -= 1

        self.server = QuietServer(("127.0.0.1", 0), Handler)


def _serve(conn: Any, n: int, error_rate: float, latency: float, seed: int) -> None:
    site = QuietServer(("127.0.0.1", 0), _site_handler(n, f"soak{seed}x"))
    stub = ModelStub(error_rate, latency, seed)
    for server in (site, stub.server):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send((f"127.0.0.1:{site.server_address[1]}", f"http://127.0.0.1:{stub.server.server_address[1]}/v1"))
    while conn.recv() != "stop":
        with stub._lock:
            conn.send({"answers": dict(stub.answers), "errors": stub.errors, "max_in_flight": stub.max_in_flight})
    site.shutdown()
    stub.server.shutdown()


class Servers:
    def __init__(self, n: int, error_rate: float, latency: float, seed: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, n, error_rate, latency, seed), daemon=True)

    def __enter__(self) -> Servers:
        self._proc.start()
        self.host_port, self.llm_url = self._conn.recv()
        return self

    def stats(self) -> dict[str, Any]:
        self._conn.send("stats")
        stats: dict[str, Any] = self._conn.recv()
        return stats

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.kill()


# --- Prefect server -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PrefectServer:
    """`prefect server start` on a loopback port with its own PREFECT_HOME; stopped on every path."""

    def __init__(self, home: Path) -> None:
        self.port = _free_port()
        self.env = {**os.environ, "PREFECT_HOME": str(home), "DO_NOT_TRACK": "1",
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false"}  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}/api"
        self._log = open(home / "server.log", "wb")  # noqa: SIM115
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PrefectServer:
        import httpx

        self._proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError("prefect server exited; see server.log")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError("prefect server did not start in 180 s")

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait(timeout=10)
        self._log.close()


# --- runs ---------------------------------------------------------------------------------------------------


def env_for(servers: Servers, home: Path, prefect: PrefectServer | None) -> dict[str, str]:
    env = {
        **(prefect.env if prefect else os.environ),
        "EXTRACTOR_HOME": str(home),
        # The post is read as localhost, its articles as 127.0.0.1: links to a post's own host are navigation.
        "EXTRACTOR_ALLOW_HOSTS": f"{servers.host_port},{servers.host_port.replace('127.0.0.1', 'localhost')}",
        "EXTRACTOR_PER_HOST": "8",
        "EXTRACTOR_LLM": servers.llm_url,
        "EXTRACTOR_MODEL": "stub-model",
        "EXTRACTOR_RETRIES": "1",
        "EXTRACTOR_BACKOFF": "0.05",
        "EXTRACTOR_DEADLINE": "1.5",
        "EXTRACTOR_READ_TIMEOUT": "1",
        "EXTRACTOR_MAX_BYTES": "200000",
        "EXTRACTOR_MAX_RETRY_WAIT": "0.2",
        "DO_NOT_TRACK": "1",
    }
    env.pop("PREFECT_API_URL", None)
    if prefect:
        env["PREFECT_API_URL"] = prefect.url
    return env


def finished_in_open_run(ledger: Path) -> int:
    try:
        with sqlite3.connect(ledger, timeout=5) as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM articles WHERE outcome IS NOT NULL AND run_id = "
                "(SELECT MAX(id) FROM runs)"
            ).fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0])


def peak_children_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_page(args: list[str], env: dict[str, str], log: Path, kill_at: int | None = None,
             ledger: Path | None = None) -> tuple[float, int]:  # fmt: skip
    """Runs `extractor page ...`; with `kill_at`, SIGKILLs it once that many links of its run have an outcome."""
    start = time.perf_counter()
    with open(log, "wb") as fh:
        proc = subprocess.Popen([EXTRACTOR, "page", *args], env=env, stdout=fh, stderr=subprocess.STDOUT)
        try:
            if kill_at is not None and ledger is not None:
                while proc.poll() is None and finished_in_open_run(ledger) < kill_at:
                    time.sleep(0.2)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
            code = proc.wait(timeout=3600)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return time.perf_counter() - start, code


def run_wall(ledger: Path) -> float:
    """Seconds between the last run's start and finish, as the ledger recorded them (start-up excluded)."""
    from datetime import datetime

    with sqlite3.connect(ledger) as conn:
        started, finished = conn.execute("SELECT started_at, finished_at FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(finished) - parse(started)).total_seconds()


def verify(home: Path, out: Path, n: int, host_port: str, answers: dict[str, int]) -> dict[str, Any]:
    from extractor.ledger import Ledger
    from extractor.models import scan_id
    from extractor.parse import parse

    with Ledger(home / "ledger.sqlite3") as ledger:
        runs = ledger.runs()
        last = ledger.run_records(runs[-1]["id"])
        latest = {r.url: r for r in ledger.latest()}
    urls = {f"http://{host_port}{url_path(i)}" for i in range(n)}
    per_url = Counter(r.url for r in last)
    no_outcome = [r.url for r in last if not r.outcome]
    broken: list[str] = []
    for url, rec in latest.items():
        if rec.outcome in ("ok", "too_long"):
            md, js = out / f"{scan_id(url)}.md", out / f"{scan_id(url)}.json"
            try:
                parse(md.read_text(encoding="utf-8"))
                json.loads(js.read_text(encoding="utf-8"))
            except Exception as exc:
                broken.append(f"{url}: {exc}")
    by_kind: dict[str, Counter[str]] = {}
    for i in range(n):
        rec = latest.get(f"http://{host_port}{url_path(i)}")
        by_kind.setdefault(fault_of(i) or "article", Counter())[rec.outcome if rec else "missing"] += 1
    return {
        "urls": len(urls),
        "second_run_inputs": len(last),
        "every_url_one_outcome": set(per_url) == urls and max(per_url.values()) == 1 and not no_outcome,
        "first_run_interrupted": bool(runs[0]["interrupted"]),
        "paid_twice": sum(1 for c in answers.values() if c > 1),
        "files_broken": len(broken),
        "temporary_files_left": len(list(out.glob(".*.tmp"))),
        "outcomes": dict(Counter(r.outcome for r in latest.values())),
        "outcomes_by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--compare-n", type=int, default=96)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.05, help="model stub seconds per answer (soak)")
    parser.add_argument("--compare-latency", type=float, default=0.5, help="model stub seconds (comparison)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="end with one JSON line (always printed last)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    result: dict[str, Any] = {"n": args.n, "workers": args.workers, "seed": args.seed}

    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        base = Path(tmp)
        (base / "prefect").mkdir()
        with PrefectServer(base / "prefect") as prefect, Servers(args.n, 0.05, args.latency, args.seed) as servers:
            home, out = base / "home", base / "out"
            env = env_for(servers, home, prefect)
            post = f"http://{servers.host_port.replace('127.0.0.1', 'localhost')}/p/{ORIGIN}"
            page_args = [post, "--out", str(out), "--concurrency", str(args.workers)]
            kill_at = int(args.n * rng.uniform(0.2, 0.7))
            wall1, code1 = run_page(page_args, env, base / "run1.log", kill_at, home / "ledger.sqlite3")
            rss1 = peak_children_rss_mb()
            print(f"run 1 (Prefect, {prefect.url}): SIGKILL after {kill_at} outcomes, {wall1:.1f}s, exit {code1}")
            wall2, code2 = run_page(page_args, env, base / "run2.log")
            rss2 = peak_children_rss_mb()
            print(f"run 2: {wall2:.1f}s, exit {code2}; peak RSS of a run {max(rss1, rss2):.0f} MB")
            stats = servers.stats()
            checks = verify(home, out, args.n, servers.host_port, stats["answers"])
            result.update(checks, killed_after=kill_at, run1_s=round(wall1, 1), run2_s=round(wall2, 1),
                          run2_exit=code2, model_errors=stats["errors"], model_answers=sum(stats["answers"].values()),
                          peak_rss_mb=round(max(rss1, rss2), 1))  # fmt: skip
            print(f"every URL one outcome: {checks['every_url_one_outcome']} ({checks['second_run_inputs']} inputs); "
                  f"killed run closed as interrupted: {checks['first_run_interrupted']}; paid twice: "
                  f"{checks['paid_twice']}; broken files: {checks['files_broken']}; temporary files left: "
                  f"{checks['temporary_files_left']}; model errors injected: {stats['errors']}")  # fmt: skip
            for kind, outcomes in checks["outcomes_by_kind"].items():
                print(f"  {kind:<14} {outcomes}")

            # The same 96 articles through each path, each from a fresh home (so both fetch and call the model).
            compare: dict[str, float] = {}
            with Servers(args.compare_n, 0.0, args.compare_latency, args.seed + 1) as plain:
                for path, server in (("in_process", None), ("prefect", prefect)):
                    home_c = base / f"home-{path}"
                    env_c = env_for(plain, home_c, server)
                    post_c = f"http://{plain.host_port.replace('127.0.0.1', 'localhost')}/p/{ORIGIN}"
                    wall, code = run_page([post_c, "--out", str(base / f"out-{path}"), "--concurrency",
                                           str(args.workers)], env_c, base / f"compare-{path}.log")  # fmt: skip
                    compare[f"{path}_command_s"] = round(wall, 2)
                    compare[f"{path}_run_s"] = round(run_wall(home_c / "ledger.sqlite3"), 2)
                    print(f"{path}: {args.compare_n} links in {wall:.1f}s (run {compare[f'{path}_run_s']}s), exit {code}")
            compare["prefect_over_in_process_run"] = round(compare["prefect_run_s"] / compare["in_process_run_s"], 3)
            compare["prefect_over_in_process_command"] = round(
                compare["prefect_command_s"] / compare["in_process_command_s"], 3
            )
            print(f"Prefect path / in-process path on {args.compare_n} articles: run "
                  f"{compare['prefect_over_in_process_run']}, whole command {compare['prefect_over_in_process_command']} "
                  "(goal <= 1.2)")  # fmt: skip
            result.update(compare, compare_n=args.compare_n, compare_latency_s=args.compare_latency)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
