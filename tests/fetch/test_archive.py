"""The web archive: reruns never refetch, --offline reads only the archive, and the shipped fixture archive
holds the demo newsletter and its articles."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from extractor.article import article_from_page
from extractor.errors import OfflineMissError, Outcome, outcome_of
from extractor.fetch import Fetcher, FetchSettings, WebArchive
from extractor.models import scan_id
from extractor.sources import read_source
from tests.support.site import FIXTURES, Site

FixtureFetcher = Callable[..., Fetcher]


def test_reruns_never_refetch(tmp_path: Path, site: Site, make_fetcher: FixtureFetcher) -> None:
    archive = WebArchive(tmp_path / "web")
    first = make_fetcher(archive=archive).fetch(site.url("/articles/repair-cafe-parts.html?utm_source=a"))
    hits = site.hits("/articles/repair-cafe-parts.html")
    again = make_fetcher(archive=archive).fetch(site.url("/articles/repair-cafe-parts.html?utm_medium=b#x"))
    assert site.hits("/articles/repair-cafe-parts.html") == hits
    assert again.from_archive and not first.from_archive
    assert (again.content, again.text, again.charset, again.final_url) == (
        first.content, first.text, first.charset, first.final_url)  # fmt: skip
    assert again.url.endswith("utm_medium=b#x")


def test_archive_entry_on_disk(tmp_path: Path, site: Site, make_fetcher: FixtureFetcher) -> None:
    archive = WebArchive(tmp_path / "web")
    page = make_fetcher(archive=archive).fetch(site.url("/articles/reef-robots.html"))
    metas = list((tmp_path / "web").glob("*/*.json"))
    assert len(metas) == 1
    meta = json.loads(metas[0].read_text())
    assert meta["canonical"] == site.url("/articles/reef-robots.html")
    assert (metas[0].parent / meta["body"]).read_bytes() == page.content
    assert not list((tmp_path / "web").rglob(".tmp-*"))


def test_failures_are_not_archived(tmp_path: Path, site: Site, make_fetcher: FixtureFetcher) -> None:
    archive = WebArchive(tmp_path / "web")
    with pytest.raises(Exception):  # noqa: B017 - any failure
        make_fetcher(archive=archive, retries=0).fetch(site.url("/status/503"))
    assert archive.urls() == []


def test_offline_reads_only_the_archive(tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACTOR_HOME", str(tmp_path / "home"))
    settings = FetchSettings(allow_hosts=[site.host_port], robots=False)
    with Fetcher(settings, archive=WebArchive(settings.archive_root())) as online:
        online.fetch(site.url("/articles/tidal-microgrids.html"))
    assert (tmp_path / "home" / "web").is_dir()
    before = len(site.requests)
    with Fetcher(settings, offline=True) as offline:  # default archive: EXTRACTOR_HOME/web
        assert offline.fetch(site.url("/articles/tidal-microgrids.html")).from_archive
        with pytest.raises(OfflineMissError) as info:
            offline.fetch(site.url("/articles/quiet-freight.html"))
    assert outcome_of(info.value) is Outcome.HTTP_ERROR
    assert len(site.requests) == before


def test_archive_dir_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACTOR_ARCHIVE_DIR", str(tmp_path / "elsewhere"))
    assert FetchSettings().archive_root() == tmp_path / "elsewhere"


def test_fixture_archive_runs_the_demo_offline() -> None:
    """The README demo: the fixture newsletter post and every article it links to, with no network."""
    fetcher = Fetcher(offline=True, archive=WebArchive(FIXTURES / "archive"))
    links = read_source("https://kghosh.substack.com/p/20250629d", fetcher)
    assert len(links) == 5 and {link.origin for link in links} == {"20250629d"}
    for link in links:
        article = article_from_page(fetcher.fetch(link.url))
        assert len(article.text) > 1500 and article.title
        assert len(scan_id(link.url)) == 32


def test_fixture_archive_is_up_to_date(tmp_path: Path) -> None:
    """fixtures/archive is what fixtures/build_archive.py makes from fixtures/site (rebuild after editing)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_archive", FIXTURES / "build_archive.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(tmp_path / "rebuilt")
    shipped = {p.relative_to(FIXTURES / "archive"): p.read_bytes() for p in (FIXTURES / "archive").rglob("*.*")}
    rebuilt = {p.relative_to(tmp_path / "rebuilt"): p.read_bytes() for p in (tmp_path / "rebuilt").rglob("*.*")}
    assert shipped == rebuilt
