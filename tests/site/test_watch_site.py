"""`extractor watch --site` on a real `prefect server start`: after a scheduled run that wrote scans, the site
is there and lists them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.pipeline.article_site import ArticleSite
from tests.pipeline.conftest import QUIET_PREFECT
from tests.pipeline.llm_stub import StubLLM
from tests.pipeline.test_pipeline import pipeline_env
from tests.pipeline.test_watch import BIN, _stop, _wait, prefect_server

pytestmark = pytest.mark.prefect
__all__ = ["prefect_server"]  # the fixture, shared with the pipeline's watch test


def test_watch_rebuilds_the_site_after_a_run_that_wrote(prefect_server: str, tmp_path: Path) -> None:
    out, dest = tmp_path / "out", tmp_path / "site"
    with ArticleSite() as site, StubLLM() as llm:
        site.feed_items = [0, 1]
        env = {
            **os.environ,
            **QUIET_PREFECT,
            **pipeline_env(site, llm),
            "EXTRACTOR_HOME": str(tmp_path / "home"),
            "PREFECT_API_URL": prefect_server,
            "PREFECT_HOME": str(tmp_path / "prefect-client"),
            "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        }
        log = (tmp_path / "watch.log").open("wb")
        watch = subprocess.Popen(
            [str(BIN / "extractor"), "watch", site.feed_url, "--interval", "4", "--out", str(out), "--site", str(dest)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

        def built() -> bool:
            index = dest / "index.html"
            return index.is_file() and "<strong>2</strong> scans" in index.read_text(encoding="utf-8")

        try:
            _wait("the site after the first scheduled run", built, 300)
        finally:
            _stop(watch)
            log.close()
    scans = sorted(p.stem for p in out.glob("*.md") if p.stem != "index")
    assert len(scans) == 2
    for scan_id in scans:
        assert (dest / "scans" / f"{scan_id}.html").is_file()
