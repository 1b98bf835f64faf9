"""`extractor watch` serving a scheduled deployment on a real `prefect server start`: the schedule fires, and
each poll processes only feed items never seen before."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from extractor.ledger import Ledger
from tests.pipeline.article_site import ArticleSite
from tests.pipeline.llm_stub import StubLLM
from tests.pipeline.test_pipeline import pipeline_env

pytestmark = pytest.mark.prefect
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
    }
    env.pop("PREFECT_API_URL", None)
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "prefect server did not start"
            time.sleep(0.5)
        yield url
    finally:
        _stop(proc)
        log.close()


def _wait(what: str, check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_scheduled_watch_processes_only_new_feed_items(
    prefect_server: str, tmp_path: Path, extractor_home: Path
) -> None:
    with ArticleSite() as site, StubLLM() as llm:
        site.feed_items = [0, 1]
        env = {
            **os.environ,
            **pipeline_env(site, llm),
            "PREFECT_API_URL": prefect_server,
            "PREFECT_HOME": str(tmp_path / "prefect-client"),
            "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        }
        log = (tmp_path / "watch.log").open("wb")
        watch = subprocess.Popen(
            [str(BIN / "extractor"), "watch", site.feed_url, "--interval", "4", "--out", str(tmp_path / "out")],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

        def ok_count() -> int:
            if not (extractor_home / "ledger.sqlite3").exists():
                return 0
            with Ledger() as ledger:
                return sum(r.outcome == "ok" for r in ledger.latest())

        try:
            _wait("the first scheduled run", lambda: ok_count() == 2, 240)
            site.feed_items = [0, 1, 2, 3]
            _wait("a run picking up the new items", lambda: ok_count() == 4, 120)
            with Ledger() as ledger:
                done = [r for r in ledger.runs() if r["finished_at"]]
                watch_runs = [r for r in done if r["command"] == "flow:watch"]
                articles = [ledger.run_records(r["id"]) for r in watch_runs]
        finally:
            _stop(watch)
            log.close()
    # Each item was extracted once, in the run after it appeared; later polls found nothing new.
    assert llm.calls == 4, (tmp_path / "watch.log").read_text()
    processed = [sorted(r.url for r in recs) for recs in articles if recs]
    assert processed == [[site.url(0), site.url(1)], [site.url(2), site.url(3)]]
