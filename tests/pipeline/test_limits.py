"""Limits that hold across processes (Dask workers, two runs on one home): the model slot, per-host politeness
and the run budget, through the shared limits file. Each test runs real separate processes."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from extractor.errors import BudgetExceededError
from extractor.pipeline import Limits, SharedBudget

ROOT = Path(__file__).resolve().parents[2]


def python(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


SLOT_USER = """
import sys, time, json
from pathlib import Path
from extractor.pipeline import Limits
limits = Limits(Path(sys.argv[1]))
spans = []
for _ in range(3):
    with limits.slot("model:local", 1):
        start = time.monotonic()
        time.sleep(0.15)
        spans.append((start, time.monotonic()))
print(json.dumps(spans))
"""


def test_one_model_slot_is_one_request_at_a_time_across_processes(tmp_path: Path) -> None:
    procs = [python(SLOT_USER, str(tmp_path / "limits.sqlite3")) for _ in range(3)]
    spans = sorted(s for p in procs for s in json.loads(p.communicate(timeout=60)[0]))
    assert len(spans) == 9
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end, "two processes held the embedded model's one slot at once"


def test_a_killed_holder_does_not_keep_its_slot(tmp_path: Path) -> None:
    path = tmp_path / "limits.sqlite3"
    holder = python("import sys, time\nfrom pathlib import Path\nfrom extractor.pipeline import Limits\n"
                    "with Limits(Path(sys.argv[1])).slot('model:local', 1):\n    print('held', flush=True)\n"
                    "    time.sleep(60)\n", str(path))  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    limits = Limits(path)
    assert limits.held("model:local") == 1
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    start = time.monotonic()
    with limits.slot("model:local", 1):
        assert time.monotonic() - start < 5
    limits.close()


def test_the_run_budget_counts_what_every_process_spent(tmp_path: Path) -> None:
    path = tmp_path / "limits.sqlite3"
    spender = python("import sys\nfrom pathlib import Path\nfrom extractor.pipeline import Limits, SharedBudget\n"
                     "b = SharedBudget(Limits(Path(sys.argv[1])), 'run-1', max_tokens=1000)\n"
                     "b.check(100)\nb.charge(600, 300)\n", str(path))  # fmt: skip
    assert spender.wait(timeout=60) == 0
    here = SharedBudget(Limits(path), "run-1", max_tokens=1000)
    here.check(50)  # 900 + 50 still fits
    with pytest.raises(BudgetExceededError, match="900 of 1000"):
        here.check(200)
    assert here.spent().prompt_tokens == 600
    SharedBudget(Limits(path), "run-2", max_tokens=1000).check(200)  # another run has its own budget


class SlowSite:
    """A loopback site whose every page takes 0.2 s, counting requests in flight at once."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.max_in_flight = 0
        lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with lock:
                    site.in_flight += 1
                    site.max_in_flight = max(site.max_in_flight, site.in_flight)
                time.sleep(0.2)
                with lock:
                    site.in_flight -= 1
                body = b"<html><body><p>" + b"words " * 400 + b"</p></body></html>"
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def slow_site() -> Iterator[SlowSite]:
    site = SlowSite()
    yield site
    site.server.shutdown()
    site.server.server_close()


FETCHER = """
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from extractor.fetch import Fetcher, FetchSettings
from extractor.pipeline import Limits
host, shared, tag = sys.argv[1], sys.argv[2] == "shared", sys.argv[3]
limits = Limits(Path(sys.argv[4]))
settings = FetchSettings(allow_hosts=frozenset({host}), robots=False, retries=0, per_host=1)
slot = (lambda key: limits.slot(f"host:{key}", 1)) if shared else None
with Fetcher(settings, host_slot=slot) as fetcher, ThreadPoolExecutor(3) as pool:
    print("ready", flush=True)
    sys.stdin.readline()  # every process starts fetching at once, whatever its start-up took
    list(pool.map(lambda n: fetcher.fetch(f"http://{host}/{tag}/{n}"), range(3)))
"""


@pytest.mark.parametrize("shared", [True, False])
def test_per_host_politeness_holds_across_processes(slow_site: SlowSite, tmp_path: Path, shared: bool) -> None:
    mode = "shared" if shared else "own"
    procs = [python(FETCHER, slow_site.host_port, mode, f"p{i}", str(tmp_path / "limits.sqlite3")) for i in range(2)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    if shared:
        assert slow_site.max_in_flight == 1, "one request at a time to a host, whatever the number of processes"
    else:
        assert slow_site.max_in_flight == 2, "without the shared slot each process keeps only its own limit"
