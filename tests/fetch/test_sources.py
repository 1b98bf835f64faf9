"""Sources to links: what a reader of the newsletter would click, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from extractor.errors import ConfigError, SourceError
from extractor.fetch import Fetcher
from extractor.sources import (
    Link,
    dedupe,
    links_from_feed,
    links_from_markdown,
    links_from_newsletter,
    read_source,
    single_link,
)
from tests.support.site import SITE_ROOT, Site

POST = SITE_ROOT / "p" / "20250629d.html"
POST_URL = "https://kghosh.substack.com/p/20250629d"
EXPECTED_POST_LINKS = [
    "https://www.coastal-futures.example/2025/06/tidal-microgrids?utm_source=kghosh&utm_medium=email&utm_campaign=20250629d",
    "https://civic-ledger.example/stories/library-of-seeds",
    "https://railroadweekly.example/articles/quiet-freight/",
    "https://oceannotes.example/reef-robots?ref=kghosh",
    "https://makerreview.example/2025/repair-cafe-parts",
]


def test_substack_post_body_links_only() -> None:
    links = links_from_newsletter(POST.read_bytes(), POST_URL)
    assert [link.url for link in links] == EXPECTED_POST_LINKS
    assert {link.origin for link in links} == {"20250629d"}
    assert {link.source for link in links} == {POST_URL}
    assert links[0].canonical == "https://www.coastal-futures.example/2025/06/tidal-microgrids"
    everything = " ".join(link.url for link in links)
    for unwanted in ("substack.com", "substackcdn", "mailto:", "javascript:", "file:", "spam-comment", "facebook",
                     "twitter", "#comments"):  # fmt: skip
        assert unwanted not in everything


def test_post_accepts_text_and_bytes() -> None:
    assert links_from_newsletter(POST.read_text(encoding="utf-8"), POST_URL) == links_from_newsletter(
        POST.read_bytes(), POST_URL
    )


def test_generic_blog_main_content() -> None:
    page = "https://slowweb.example/blog/weekly-notes-12.html"
    links = links_from_newsletter((SITE_ROOT / "blog" / "weekly-notes-12.html").read_bytes(), page)
    assert [link.canonical for link in links] == [
        "https://railroadweekly.example/articles/quiet-freight/",
        "https://makerreview.example/2025/repair-cafe-parts",
    ]
    assert links[0].url.endswith("?utm_source=rss&fbclid=IwAR0abc")  # as found
    assert links[0].origin == "weekly-notes-12"


def test_page_without_links_or_html() -> None:
    assert links_from_newsletter(b"", POST_URL) == []
    assert links_from_newsletter("<html><body><p>No links here.</p></body></html>", POST_URL) == []


RSS = (SITE_ROOT / "feeds" / "rss.xml").read_bytes()
ATOM = (SITE_ROOT / "feeds" / "atom.xml").read_bytes()


def test_rss_items_newer_than_seen() -> None:
    links = links_from_feed(RSS, "https://kghosh.substack.com/feed", seen={"https://kghosh.substack.com/p/20250615b"},
                            cap=10)  # fmt: skip
    assert [link.canonical for link in links] == [
        "https://kghosh.substack.com/p/20250629d",
        "https://kghosh.substack.com/p/20250622c",
    ]
    assert links[1].url.endswith("?utm_source=rss")


def test_rss_seen_by_entry_id_and_cap() -> None:
    assert [x.canonical for x in links_from_feed(RSS, "f", seen={"post-20250622c"}, cap=10)] == [
        "https://kghosh.substack.com/p/20250629d"
    ]
    assert len(links_from_feed(RSS, "f", seen=set(), cap=3)) == 3
    assert links_from_feed(RSS, "f", seen={"https://kghosh.substack.com/p/20250629d"}, cap=10) == []


def test_atom_items_in_date_order() -> None:
    links = links_from_feed(ATOM, "https://oceannotes.example/feed", seen=set(), cap=10)
    assert [link.canonical for link in links] == [
        "https://oceannotes.example/reef-robots",
        "https://oceannotes.example/seagrass-north",
        "https://oceannotes.example/kelp-storms",
    ]
    assert {link.source for link in links} == {"https://oceannotes.example/feed"}


def test_feed_parser_never_fetches(site: Site) -> None:
    before = len(site.requests)
    with pytest.raises(SourceError, match="not a readable RSS or Atom feed"):  # a URL given as the feed's bytes
        links_from_feed(site.url("/feeds/rss.xml").encode(), site.url("/feeds/rss.xml"), seen=set(), cap=5)
    assert len(site.requests) == before


def test_markdown_draft_links() -> None:
    text = (SITE_ROOT / "drafts" / "20250706a.md").read_text(encoding="utf-8")
    links = links_from_markdown(text, "20250706a", "drafts/20250706a.md")
    assert [link.url for link in links] == [
        "https://www.coastal-futures.example/2025/06/tidal-microgrids?utm_source=kghosh",
        "https://civic-ledger.example/stories/library-of-seeds",
        "https://oceannotes.example/reef-robots",
    ]
    assert {link.origin for link in links} == {"20250706a"}


def test_single_link_and_dedupe() -> None:
    a = single_link(" https://Example.com/a?utm_source=x ", origin="20250629d")
    assert a == Link("https://Example.com/a?utm_source=x", "https://example.com/a", "20250629d",
                     "https://Example.com/a?utm_source=x", "2025-06-29")  # fmt: skip
    b = single_link("https://example.com/a#top")
    c = single_link("https://example.com/b")
    assert dedupe([a, b, c, b]) == [a, c]
    with pytest.raises(ConfigError):
        single_link("ftp://example.com/a")


def test_read_source_detects_each_kind_over_http(site: Site, make_fetcher: Callable[..., Fetcher]) -> None:
    article_urls = site.add_newsletter("/p/20250701a")
    fetcher = make_fetcher()
    post = read_source(site.url("/p/20250701a"), fetcher)
    assert [link.url for link in post] == article_urls
    assert {link.origin for link in post} == {"20250701a"}
    # The fixture feed's items are the newsletter's posts: scanned as items only when told not to follow them.
    assert len(read_source(site.url("/feeds/rss.xml"), fetcher, follow=False)) == 4
    assert len(read_source(site.url("/feeds/atom.xml"), fetcher, cap=1)) == 1
    draft = read_source(site.url("/drafts/20250706a.md"), fetcher)
    assert len(draft) == 3 and draft[0].origin == "20250706a"


def test_read_source_files(tmp_path: Path, make_fetcher: Callable[..., Fetcher]) -> None:
    fetcher = make_fetcher()
    saved = tmp_path / "saved-post.html"
    saved.write_bytes(POST.read_bytes())
    links = read_source(str(saved), fetcher)
    assert [link.url for link in links] == EXPECTED_POST_LINKS
    assert links[0].origin == "20250629d"  # from the page's canonical URL, not the file name
    assert len(read_source(str(SITE_ROOT / "feeds" / "atom.xml"), fetcher)) == 3
    assert len(read_source(str(SITE_ROOT / "drafts" / "20250706a.md"), fetcher)) == 3
    with pytest.raises(ConfigError):
        read_source(str(tmp_path / "missing.html"), fetcher)


def test_newsletter_to_articles_end_to_end(site: Site) -> None:
    """Post -> links -> fetch -> article text, with default politeness (robots on, one request per host)."""
    from extractor.article import article_from_page
    from extractor.fetch import FetchSettings

    site.add_newsletter("/p/20250702b")
    with Fetcher(FetchSettings(allow_hosts=[site.host_port], robots=True)) as fetcher:
        links = read_source(site.url("/p/20250702b"), fetcher)
        articles = [article_from_page(fetcher.fetch(link.url)) for link in links]
    assert len(articles) == 5 and len({a.content_hash for a in articles}) == 5
    assert all(len(a.text) >= 1500 and a.title for a in articles)
    assert {link.origin for link in links} == {"20250702b"}
