"""The Prefect flows on a real Prefect API (the test harness, started once per session): `scan_page` against
the loopback fixture site, the extraction cache, and the Dask runner end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from extractor.ledger import Ledger
from extractor.models import scan_id
from extractor.parse import parse
from tests.pipeline.article_site import ArticleSite
from tests.pipeline.llm_stub import StubLLM
from tests.pipeline.test_pipeline import pipeline_env

pytestmark = pytest.mark.prefect


@pytest.fixture
def site() -> Iterator[ArticleSite]:
    with ArticleSite(posted=4, extra=("/short.html",)) as s:
        yield s


@pytest.fixture
def llm(site: ArticleSite, monkeypatch: pytest.MonkeyPatch) -> Iterator[StubLLM]:
    with StubLLM() as stub:
        for key, value in pipeline_env(site, stub).items():
            monkeypatch.setenv(key, value)
        yield stub


def test_scan_page_flow_processes_every_link(prefect_harness: None, site: ArticleSite, llm: StubLLM,
                                             tmp_path: Path) -> None:  # fmt: skip
    from flows import scan_page, task_runner

    flow = scan_page.with_options(task_runner=task_runner("threads", 3))
    result = flow(site.post_url, out=str(tmp_path / "out"))
    assert result["totals"]["succeeded"] == 4 and result["totals"]["failed"] == 1
    assert result["outcomes"][f"{site.base_url}/short.html"] == "too_short"
    for n in range(4):
        page = parse((tmp_path / "out" / f"{scan_id(site.url(n))}.md").read_text(encoding="utf-8"))
        assert page.origin == site.origin
    assert (tmp_path / "out" / "index.md").is_file()
    with Ledger() as ledger:
        (run,) = ledger.runs()
        assert run["command"] == "flow:scan-page" and run["finished_at"]
    assert llm.calls == 4

    # Same articles into another directory: files are written again, the extraction comes from the task cache.
    again = flow(site.post_url, out=str(tmp_path / "out2"))
    assert again["totals"]["succeeded"] == 4
    assert llm.calls == 4
    for n in range(4):
        name = f"{scan_id(site.url(n))}.md"
        assert (tmp_path / "out2" / name).read_bytes() == (tmp_path / "out" / name).read_bytes()


def test_dask_runner_end_to_end(prefect_harness: None, site: ArticleSite, llm: StubLLM, tmp_path: Path) -> None:
    from flows import scan_page, task_runner

    flow = scan_page.with_options(task_runner=task_runner("dask", 2))
    result = flow(site.post_url, out=str(tmp_path / "out"))
    assert result["totals"]["succeeded"] == 4 and result["totals"]["failed"] == 1
    for n in range(4):
        assert (tmp_path / "out" / f"{scan_id(site.url(n))}.json").is_file()
    with Ledger() as ledger:
        assert {r.outcome for r in ledger.latest()} == {"ok", "too_short"}
        assert len(ledger.latest()) == 5
