"""A newsletter's feed of issues, end to end on loopback: a Substack-shaped feed whose items are issues linking
articles on another host. `page` scans the linked articles (not the issues) with each issue's slug and date;
a later poll after a new issue processes only that issue's links; `--follow/--no-follow` force the reading, and
a source with no links fails loudly (stderr, status, exit 1)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest

from extractor.models import Sidecar, scan_id
from extractor.parse import parse
from extractor.pipeline import RunConfig, build, scan_source
from tests.pipeline.article_site import ArticleSite
from tests.pipeline.llm_stub import StubLLM
from tests.pipeline.test_pipeline import pipeline_env, run, status
from tests.support.site import RequestHandler, Site

ISSUES = [("20250615b", [0, 1, 2]), ("20250622c", [3, 4, 5])]
NEW_ISSUE = ("20250629d", [6, 7, 8, 0])  # links article 0 again: already done, not redone


class Newsletter:
    """A Substack-like newsletter on `localhost:PORT`: `/feed` (issues with their bodies, generator Substack),
    `/feed-plain` (no generator), `/feed-bare` (no bodies: posts must be fetched), `/p/{slug}` the posts."""

    def __init__(self, articles: ArticleSite) -> None:
        self.articles = articles
        self.issues = list(ISSUES)
        self.site = Site(root=None)
        self.site.add("/feed", lambda req: self._feed(req, bodies=True, generator=True))
        self.site.add("/feed-plain", lambda req: self._feed(req, bodies=True, generator=False))
        self.site.add("/feed-bare", lambda req: self._feed(req, bodies=False, generator=False))
        self.site.add("/p/*", self._post)

    @property
    def base(self) -> str:
        return f"http://localhost:{self.site.port}"

    def url(self, path: str) -> str:
        return self.base + path

    @staticmethod
    def day(slug: str) -> datetime:
        return datetime(int(slug[:4]), int(slug[4:6]), int(slug[6:8]), 7, tzinfo=UTC)

    def body(self, numbers: list[int]) -> str:
        items = "".join(f'<li><a href="{self.articles.url(n)}">Story {n}</a>: worth a look.</li>' for n in numbers)
        return (f"<p>This week's signals.</p><ul>{items}</ul>"
                f'<p><a href="{self.base}/subscribe">Subscribe</a> or '
                f'<a href="https://twitter.com/intent/tweet?url={self.base}">share</a>.</p>')  # fmt: skip

    def _feed(self, req: RequestHandler, *, bodies: bool, generator: bool) -> None:
        items = []
        for slug, numbers in reversed(self.issues):
            post = self.url(f"/p/{slug}")
            content = f"<content:encoded><![CDATA[{self.body(numbers)}]]></content:encoded>" if bodies else ""
            items.append(
                f"<item><title><![CDATA[Signals {slug}]]></title><description>Weekly links</description>"
                f'<link>{post}</link><guid isPermaLink="false">{post}</guid><dc:creator>K</dc:creator>'
                f"<pubDate>{format_datetime(self.day(slug))}</pubDate>{content}</item>"
            )
        gen = "<generator>Substack</generator>" if generator else ""
        xml = ('<?xml version="1.0" encoding="UTF-8"?><rss xmlns:dc="http://purl.org/dc/elements/1.1/" '
               'xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0"><channel>'
               f"<title><![CDATA[Horizon Notes]]></title><link>{self.base}</link>{gen}{''.join(items)}"
               "</channel></rss>")  # fmt: skip
        req.send(200, xml.encode(), "application/rss+xml; charset=utf-8")

    def _post(self, req: RequestHandler) -> None:
        slug = req.path.split("?")[0].rsplit("/", 1)[-1]
        numbers = dict(self.issues).get(slug)
        if numbers is None:
            req.send(404, b"not found")
            return
        html = (f'<html><head><link rel="canonical" href="{self.url("/p/" + slug)}">'
                f'<meta property="article:published_time" content="{self.day(slug).isoformat()}"></head>'
                f'<body><article><div class="body markup">{self.body(numbers)}</div></article></body></html>')  # fmt: skip
        req.send(200, html.encode())

    def __enter__(self) -> Newsletter:
        self.site.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.site.stop()


@pytest.fixture
def sites(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ArticleSite, Newsletter, StubLLM]]:
    with ArticleSite(posted=0) as articles, Newsletter(articles) as letter, StubLLM() as llm:
        env = pipeline_env(articles, llm)
        env["EXTRACTOR_ALLOW_HOSTS"] += f",localhost:{letter.site.port}"
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("PREFECT_API_URL", raising=False)
        yield articles, letter, llm


def ledger_rows(home: Path) -> list[dict[str, object]]:
    conn = sqlite3.connect(home / "ledger.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM articles ORDER BY id")]
    finally:
        conn.close()


def expected(articles: ArticleSite, issues: list[tuple[str, list[int]]]) -> dict[str, tuple[str, str]]:
    """Article url -> (issue slug, issue date) for the first issue (newest first) that links it."""
    found: dict[str, tuple[str, str]] = {}
    for slug, numbers in reversed(issues):
        for n in numbers:
            found.setdefault(articles.url(n), (slug, f"{slug[:4]}-{slug[4:6]}-{slug[6:8]}"))
    return found


def test_page_on_a_feed_of_issues_scans_the_linked_articles_with_their_issue(
    sites: tuple[ArticleSite, Newsletter, StubLLM], tmp_path: Path, extractor_home: Path
) -> None:
    articles, letter, llm = sites
    out = tmp_path / "out"
    code, stdout, stderr = run("page", letter.url("/feed"), "--out", str(out))
    assert "6 links: 6 scanned" in stdout
    assert code == 0, stderr
    assert "items read as newsletter issues (2 of 2 items link 3 or more articles on other sites)" in stderr
    assert "--no-follow to change" in stderr
    want = expected(articles, ISSUES)
    rows = ledger_rows(extractor_home)
    assert {r["url"]: (r["origin"], r["issue_date"]) for r in rows} == want
    assert {r["outcome"] for r in rows} == {"ok"} and llm.calls == 6
    for url, (slug, day) in want.items():
        page = parse((out / f"{scan_id(url)}.md").read_text(encoding="utf-8"))
        assert page.origin == slug
        prov = Sidecar.from_json((out / f"{scan_id(url)}.json").read_text(encoding="utf-8")).provenance
        assert prov.issue_date == day and prov.source == letter.url(f"/p/{slug}")  # the issue it came from
    conn = sqlite3.connect(extractor_home / "ledger.sqlite3")
    try:
        sources = conn.execute("SELECT spec, kind, last_links, last_error FROM sources").fetchall()
    finally:
        conn.close()
    assert sources == [(letter.url("/feed"), "feed of issues", 6, None)]
    # The issues themselves and the newsletter's own pages were never fetched as articles.
    assert letter.site.hits("/subscribe") == 0 and all(letter.site.hits(f"/p/{s}") == 0 for s, _ in ISSUES)


def test_the_next_poll_after_a_new_issue_processes_only_its_links(
    sites: tuple[ArticleSite, Newsletter, StubLLM], tmp_path: Path, extractor_home: Path
) -> None:
    articles, letter, llm = sites
    config = RunConfig.make(out=tmp_path / "out")
    parts = build(config)
    try:
        first = scan_source(letter.url("/feed-plain"), config, only_new=True, parts=parts, command="watch")
        assert sorted(r.url for r in first.records) == sorted(expected(articles, ISSUES))
        again = scan_source(letter.url("/feed-plain"), config, only_new=True, parts=parts, command="watch")
        assert again.records == [] and llm.calls == 6
        letter.issues.append(NEW_ISSUE)
        third = scan_source(letter.url("/feed-plain"), config, only_new=True, parts=parts, command="watch")
    finally:
        parts.close()
    assert sorted(r.url for r in third.records) == sorted(articles.url(n) for n in (6, 7, 8))
    assert {(r.origin, r.issue_date) for r in third.records} == {("20250629d", "2025-06-29")}
    assert llm.calls == 9
    assert {a["origin"] for a in status()["articles"] if a["url"] == articles.url(0)} == {"20250615b"}


def test_follow_fetches_posts_the_feed_has_no_body_for_and_no_follow_scans_items(
    sites: tuple[ArticleSite, Newsletter, StubLLM], tmp_path: Path, extractor_home: Path
) -> None:
    articles, letter, _ = sites
    # Without bodies or a generator, nothing says these items are issues: read as articles unless told.
    code, _, stderr = run("page", letter.url("/feed-bare"), "--out", str(tmp_path / "a"), "--no-follow")
    assert code == 0 and "items read as articles (--no-follow)" in stderr
    assert {r["url"] for r in ledger_rows(extractor_home)} == {letter.url(f"/p/{s}") for s, _ in ISSUES}
    code, _, stderr = run("page", letter.url("/feed-bare"), "--out", str(tmp_path / "b"), "--follow")
    assert code == 0 and "items read as newsletter issues (--follow)" in stderr
    linked = {r["url"]: (r["origin"], r["issue_date"]) for r in ledger_rows(extractor_home) if "/a/" in str(r["url"])}
    assert linked == expected(articles, ISSUES)
    assert all(letter.site.hits(f"/p/{s}") == 1 for s, _ in ISSUES)


def test_a_source_without_links_fails_loudly(
    sites: tuple[ArticleSite, Newsletter, StubLLM], tmp_path: Path
) -> None:
    _, letter, llm = sites
    letter.issues = [("20250615b", [])]
    code, _, stderr = run("page", letter.url("/feed"), "--out", str(tmp_path / "out"), "--follow")
    assert code == 1 and llm.calls == 0
    last = stderr.strip().splitlines()[-1]
    assert last == f"extractor: {letter.url('/feed')}: no article links found in it"
    assert "issue " + letter.url("/p/20250615b") + ": no article links in it" in stderr
    sources = status()["sources"]
    assert sources == [{"spec": letter.url("/feed"), "kind": "",  # no kind: it was never read through
                        "last_checked_at": sources[0]["last_checked_at"],  # type: ignore[index]
                        "last_links": 0, "last_error": f"{letter.url('/feed')}: no article links found in it"}]  # fmt: skip
    code, stdout, _ = run("status")
    assert f"source {letter.url('/feed')}: {letter.url('/feed')}: no article links found in it" in stdout.replace("\n", "")
    assert json.loads(run("status", "--json")[1])["totals"]["articles"] == 0


def test_the_article_own_date_author_and_site_name_are_kept(tmp_path: Path, extractor_home: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    with Site() as site, StubLLM() as llm:
        for key, value in {"EXTRACTOR_ALLOW_HOSTS": site.host_port, "EXTRACTOR_LLM": llm.base_url,
                           "EXTRACTOR_MODEL": llm.model, "EXTRACTOR_RETRIES": "0"}.items():  # fmt: skip
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("PREFECT_API_URL", raising=False)
        urls = site.add_newsletter("/p/20250701a")
        out = tmp_path / "out"
        code, _, stderr = run("page", site.url("/p/20250701a"), "--out", str(out))
    assert code == 0, stderr
    tidal = next(u for u in urls if "tidal-microgrids" in u)
    prov = Sidecar.from_json((out / f"{scan_id(tidal)}.json").read_text(encoding="utf-8")).provenance
    assert (prov.issue_date, prov.article_date, prov.author, prov.site_name) == (
        "2025-07-01", "2025-06-24", "Marta Ilves", "Coastal Futures")  # fmt: skip
    row = next(r for r in ledger_rows(extractor_home) if r["url"] == tidal)
    assert (row["issue_date"], row["article_date"], row["author"], row["site_name"]) == (
        "2025-07-01", "2025-06-24", "Marta Ilves", "Coastal Futures")  # fmt: skip


@pytest.mark.prefect
def test_watch_flow_polls_a_feed_of_issues(prefect_harness: None, sites: tuple[ArticleSite, Newsletter, StubLLM],
                                           tmp_path: Path) -> None:  # fmt: skip
    """The flow a schedule runs: first poll scans the issues' links, a poll after a new issue only its links."""
    from flows import watch

    articles, letter, llm = sites
    out = str(tmp_path / "out")
    first = watch([letter.url("/feed-plain")], out=out)
    assert sorted(first["outcomes"]) == sorted(expected(articles, ISSUES)) and first["unreadable"] == {}
    letter.issues.append(NEW_ISSUE)
    second = watch([letter.url("/feed-plain")], out=out)
    assert sorted(second["outcomes"]) == sorted(articles.url(n) for n in (6, 7, 8))
    assert set(second["outcomes"].values()) == {"ok"} and llm.calls == 9
    # Forced the other way, the issues themselves are the items: three posts never seen before.
    third = watch([letter.url("/feed-plain")], out=out, follow=False)
    assert sorted(third["outcomes"]) == sorted(letter.url(f"/p/{s}") for s, _ in [*ISSUES, NEW_ISSUE])
