"""`extractor watch` on a feed that cannot be reached says so in one line per poll, with no traceback (it printed
three chained ones per poll), and keeps polling. Needs a real Prefect server (schedules never fire without)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.hardening.conftest import EXTRACTOR
from tests.pipeline.test_watch import _stop, prefect_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.prefect


def test_watch_on_an_unreachable_feed_logs_one_line_per_poll(prefect_server: str, env: dict[str, str],  # noqa: F811
                                                             tmp_path: Path) -> None:  # fmt: skip
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    feed = f"http://127.0.0.1:{port}/feed.xml"  # nothing listens there
    env = env | {
        "PREFECT_API_URL": prefect_server,
        "PREFECT_HOME": str(tmp_path / "prefect-client"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "EXTRACTOR_ALLOW_HOSTS": f"127.0.0.1:{port}",
    }
    log_path = tmp_path / "watch.log"
    with log_path.open("wb") as log:
        watch = subprocess.Popen([EXTRACTOR, "watch", feed, "--interval", "3", "--out", str(tmp_path / "out")],
                                 env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        try:
            give_up = time.monotonic() + 240
            while log_path.read_text(errors="replace").count(f"source {feed}:") < 2:
                assert watch.poll() is None, log_path.read_text()
                assert time.monotonic() < give_up, log_path.read_text()
                time.sleep(1)
        finally:
            _stop(watch)  # type: ignore[arg-type]
    text = log_path.read_text(errors="replace")
    assert "Traceback" not in text, text
