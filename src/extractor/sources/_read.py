"""`read_source`: any source spec (URL or file of a post, feed or draft) to its article links.

Never silent: what kind of source it read, what a cap cut and why a feed's items are followed or not go to the
`extractor.sources` logger (the CLI prints them on stderr); a source that yields no links raises `SourceError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from extractor.errors import ConfigError, SourceError
from extractor.fetch import Page
from extractor.settings import CoreSettings
from extractor.sources._feed import Feed, feed_of_issues, is_feed, issue_links, items_as_links, parse_feed, root_element
from extractor.sources._html import declared_url, links_from_newsletter, parse_html
from extractor.sources._link import Link, dedupe, origin_of
from extractor.sources._text import decode_text
from extractor.urls import is_http_url

log = logging.getLogger("extractor.sources")

_MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".txt")
_MARKDOWN_TYPES = ("text/markdown", "text/x-markdown")
DEFAULT_FEED_CAP = 50


class _Sink(logging.Handler):
    def __init__(self, sink: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self._sink(record.getMessage())


@contextmanager
def source_notes(sink: Callable[[str], None]) -> Iterator[None]:
    """Sends what reading sources has to say (kind detected, caps applied, issues skipped) to `sink` while
    the block runs: the CLI's stderr, a Prefect run's log."""
    handler = _Sink(sink)
    previous = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)


class SourceLinks(list[Link]):
    """The links of one source, and what the source was: `post`, `draft`, `feed of issues` or `feed of
    articles` (the ledger's `sources.kind`)."""

    def __init__(self, links: list[Link], kind: str) -> None:
        super().__init__(links)
        self.kind = kind


class PageFetcher(Protocol):
    def fetch(self, url: str) -> Page: ...


def _is_xml_type(content_type: str) -> bool:
    return content_type in ("text/xml", "application/xml") or content_type.endswith("+xml")


def _from_feed(data: bytes, location: str, *, seen: set[str], cap: int, follow: bool | None,
               post_fetcher: PageFetcher | None) -> SourceLinks:  # fmt: skip
    feed: Feed = parse_feed(data, location)
    if not feed.items:
        raise SourceError(f"{location}: the feed has no items with a link")
    issues, why = feed_of_issues(feed, CoreSettings().newsletter_host)
    if follow is None:
        how = "following the links in each issue" if issues else "scanning each item"
        flag = "--no-follow" if issues else "--follow"
        log.info(f"feed {location}: items read as {'newsletter issues' if issues else 'articles'} ({why}); "
                 f"{how} ({flag} to change)")  # fmt: skip
    else:
        issues = follow
        log.info(f"feed {location}: items read as {'newsletter issues' if issues else 'articles'} "
                 f"({'--follow' if follow else '--no-follow'})")  # fmt: skip
    if len(feed.items) > cap:
        log.warning(f"feed {location}: {len(feed.items)} items, only the newest {cap} read (the feed item cap)")
    if not issues:
        return SourceLinks(items_as_links(feed, seen=seen, cap=cap), "feed of articles")

    def read_post(url: str) -> tuple[bytes, str]:
        assert post_fetcher is not None
        page = post_fetcher.fetch(url)
        return page.content, page.final_url or url

    found = issue_links(feed, cap=cap, read_post=read_post if post_fetcher else None, warn=log.warning)
    links = dedupe(found)
    issues_read = len({link.origin for link in links})
    log.info(f"feed {location}: {len(links)} links in {issues_read} of {min(cap, len(feed.items))} issues")
    return SourceLinks(links, "feed of issues")


def _from_bytes(data: bytes, text: str | None, location: str, content_type: str, *, seen: set[str], cap: int,
                follow: bool | None, post_fetcher: PageFetcher | None, name: str) -> SourceLinks:  # fmt: skip
    # Any XML media type but XHTML is read as a feed, so that a document that is not one fails loudly.
    xml = _is_xml_type(content_type) and (root_element(data) or "").lower() != "html"
    if is_feed(data) or xml:
        return _from_feed(data, location, seen=seen, cap=cap, follow=follow, post_fetcher=post_fetcher)
    if follow is not None:
        log.info(f"{location}: not a feed, so --{'follow' if follow else 'no-follow'} changes nothing here")
    if name.lower().endswith(_MARKDOWN_SUFFIXES) or content_type in _MARKDOWN_TYPES:
        from extractor.sources._markdown import links_from_markdown

        if text is None:
            text, charset = decode_text(data)
            if charset != "utf-8":
                log.info(f"draft {location}: read as {charset}")
        return SourceLinks(links_from_markdown(text, origin_of(name), location), "draft")
    return SourceLinks(links_from_newsletter(data, location), "post")


def read_source(spec: str, fetcher: PageFetcher, *, seen: set[str] | None = None, cap: int = DEFAULT_FEED_CAP,
                follow: bool | None = None, post_fetcher: PageFetcher | None = None) -> SourceLinks:  # fmt: skip
    """Links from a newsletter post, an RSS/Atom feed or a markdown draft, given as an http(s) URL (fetched
    with `fetcher`) or a file path. The kind is detected from the content (feeds, in any XML form), the name or
    type (drafts: `.md`, `.markdown`, `.txt`, text/markdown, in any charset), else HTML. A saved HTML page is
    read as the URL it declares (`<link rel=canonical>`), so its own pages are recognised and its issue id found.

    A feed's items are articles or newsletter issues: decided from the feed (and logged), or forced with
    `follow`. Issue posts the feed holds no body for are fetched with `post_fetcher` (default: `fetcher`).
    Raises `SourceError` when the source yields no links (besides those in `seen`), `ConfigError` for a spec
    that is neither a URL nor a readable file."""
    seen = seen or set()
    post_fetcher = post_fetcher or fetcher
    if is_http_url(spec):
        page = fetcher.fetch(spec)
        location = page.final_url or spec
        links = _from_bytes(page.content, page.text, location, page.content_type, seen=seen, cap=cap,
                            follow=follow, post_fetcher=post_fetcher, name=location.split("?")[0])  # fmt: skip
    else:
        path = Path(spec).expanduser()
        if not path.is_file():
            raise ConfigError(f"not an http(s) URL or a readable file: {spec}")
        data = path.read_bytes()
        if is_feed(data) or path.suffix.lower() in _MARKDOWN_SUFFIXES:
            location = path.resolve().as_uri() if is_feed(data) else str(path)
        else:
            tree = parse_html(data)
            location = (declared_url(tree) if tree is not None else None) or path.resolve().as_uri()
        links = _from_bytes(data, None, location, "", seen=seen, cap=cap, follow=follow,
                            post_fetcher=post_fetcher, name=path.name)  # fmt: skip
    if not links and not seen:
        raise SourceError(f"{spec}: no article links found in it")
    return links
