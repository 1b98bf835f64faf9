"""The Prefect flows on a real Prefect API (the test harness, started once per session): `scan_page` against
the loopback fixture site, the extraction cache, and the Dask runner end to end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from extractor.ledger import Ledger
from extractor.models import scan_id
from extractor.parse import parse
from tests.pipeline.article_site import ArticleSite
from tests.pipeline.llm_stub import StubLLM
from tests.pipeline.test_pipeline import pipeline_env
from tests.support.site import SITE_ROOT, Site

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


@pytest.fixture
def fixture_site(llm: StubLLM, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Site, str, list[str]]]:
    """The fixture newsletter post served on loopback, its article links pointing at the fixture articles
    served by the same site. Returns the site, the post's URL and the article URLs. (After `llm`: it replaces
    the allowed hosts.)"""
    post = (SITE_ROOT / "p" / "20250629d.html").read_text(encoding="utf-8")
    names = sorted(p.stem for p in (SITE_ROOT / "articles").glob("*.html"))
    with Site() as site:
        urls: list[str] = []

        def loopback(match: re.Match[str]) -> str:
            for name in names:
                if re.search(rf"/{name}(/|\?|#|$)", match.group(1)):
                    url = site.url(f"/articles/{name}.html")
                    urls.append(url)
                    return f'href="{url}"'
            return match.group(0)

        site.add("/p/20250629d", body=re.sub(r'href="(https?://[^"]*\.example[^"]*)"', loopback, post))
        # The post is read as `localhost`: links to a newsletter's own host are navigation, not articles.
        port = site.host_port.rsplit(":", 1)[1]
        monkeypatch.setenv("EXTRACTOR_ALLOW_HOSTS", f"{site.host_port},localhost:{port}")
        monkeypatch.setenv("EXTRACTOR_ROBOTS", "false")
        yield site, f"http://localhost:{port}/p/20250629d", sorted(set(urls))


def test_scan_page_flow_on_the_fixture_site(prefect_harness: None, fixture_site: tuple[Site, str, list[str]],
                                            llm: StubLLM, tmp_path: Path) -> None:  # fmt: skip
    from flows import scan_page, task_runner

    _, post_url, articles = fixture_site
    assert len(articles) == 5
    flow = scan_page.with_options(task_runner=task_runner("threads", 3))
    result = flow(post_url, out=str(tmp_path / "out"))
    assert result["outcomes"] == dict.fromkeys(articles, "ok")
    assert result["totals"]["articles"] == 5 and result["totals"]["succeeded"] == 5
    for url in articles:
        page = parse((tmp_path / "out" / f"{scan_id(url)}.md").read_text(encoding="utf-8"))
        assert page.origin == "20250629d" and page.url == url
    index = (tmp_path / "out" / "index.md").read_text(encoding="utf-8")
    assert sum(f"({scan_id(url)}.md)" in index for url in articles) == 5
    with Ledger() as ledger:
        (run,) = ledger.runs()
        assert run["command"] == "flow:scan-page" and run["finished_at"]
    assert llm.calls == 5

    # Same articles into another directory: files are written again, the extraction comes from the task cache.
    again = flow(post_url, out=str(tmp_path / "out2"))
    assert again["totals"]["succeeded"] == 5
    assert llm.calls == 5
    for url in articles:
        name = f"{scan_id(url)}.md"
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


def test_failed_link_is_a_failed_task_with_its_outcome_and_the_run_publishes_a_summary(
    prefect_harness: None, site: ArticleSite, llm: StubLLM, tmp_path: Path
) -> None:
    from flows import scan_page, task_runner
    from flows._flows import SUMMARY_KEY
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, FlowRunFilter

    flow = scan_page.with_options(task_runner=task_runner("threads", 2))
    state = flow(site.post_url, out=str(tmp_path / "out"), return_state=True)
    result = state.result()
    assert result["totals"]["succeeded"] == 4 and result["totals"]["outcomes"]["too_short"] == 1
    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id={"any_": [flow_run_id]}))
        links = [t for t in tasks if t.name.startswith("process-link")]
        assert len(links) == 5
        failed = [t for t in links if t.state and t.state.is_failed()]
        completed = [t for t in links if t.state and t.state.is_completed()]
        assert len(failed) == 1 and len(completed) == 4
        assert failed[0].state is not None and (failed[0].state.message or "").startswith("too_short: ")
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key={"any_": [SUMMARY_KEY]}))
    ours = [a for a in artifacts if a.flow_run_id == flow_run_id]
    assert len(ours) == 1
    text = str(ours[0].data)
    assert "| too_short | 1 |" in text and "| ok | 4 |" in text
    assert f"{result['totals']['tokens_in']} prompt tokens" in text and "cost" in text


def test_extraction_cache_entries_expire(
    prefect_harness: None, site: ArticleSite, llm: StubLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cache of model answers is not kept for ever: a changed model behind the same name, or a fixed bug in
    # validation, must reach old articles some day. Here entries live about a second.
    import time

    from flows import scan_url

    monkeypatch.setenv("EXTRACTOR_CACHE_DAYS", "0.00001")
    first = scan_url(site.url(0), out=str(tmp_path / "a"))
    assert first["outcomes"] == {site.url(0): "ok"} and llm.calls == 1
    time.sleep(1.5)
    again = scan_url(site.url(0), out=str(tmp_path / "b"))  # another OUT: only the cache could skip the call
    assert again["outcomes"] == {site.url(0): "ok"} and llm.calls == 2


def test_dask_workers_share_the_one_embedded_model(
    prefect_harness: None, site: ArticleSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The flow's process starts the embedded model's server (here: points it at a slow stub) and every Dask
    # worker process uses that one server, one request at a time, instead of each starting its own.
    from flows import scan_page, task_runner

    from extractor.extract._local import LocalServer

    with StubLLM(latency=0.3) as stub:
        for key, value in pipeline_env(site, stub).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("EXTRACTOR_LLM", "local")
        monkeypatch.setenv("EXTRACTOR_REASKS", "0")
        port = int(stub.base_url.rsplit(":", 1)[1].split("/")[0])
        starts: list[int] = []
        stops: list[int] = []

        def start(self: LocalServer) -> LocalServer:
            starts.append(1)
            self.port = port
            return self

        monkeypatch.setattr(LocalServer, "start", start)
        monkeypatch.setattr(LocalServer, "stop", lambda self: stops.append(1))
        flow = scan_page.with_options(task_runner=task_runner("dask", 2))
        result = flow(site.post_url, out=str(tmp_path / "out"))
    assert result["totals"]["articles"] == 5 and result["totals"].get("outcomes", {}).get("internal_error") is None
    assert stub.calls >= 4, "every article of the post reached the model"
    assert stub.max_in_flight == 1, "two workers asked the embedded model at once"
    assert (len(starts), len(stops)) == (1, 1), "one server for the run, stopped at its end"
