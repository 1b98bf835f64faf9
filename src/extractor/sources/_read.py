"""`read_source`: any source spec (URL or file of a post, feed or draft) to its article links."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from extractor.errors import ConfigError
from extractor.fetch import Page
from extractor.sources._feed import is_feed, links_from_feed
from extractor.sources._html import declared_url, links_from_newsletter, parse_html
from extractor.sources._link import Link, origin_of
from extractor.urls import is_http_url

_MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".txt")
DEFAULT_FEED_CAP = 50


class PageFetcher(Protocol):
    def fetch(self, url: str) -> Page: ...


def _from_bytes(data: bytes, text: str, location: str, content_type: str, *, seen: set[str], cap: int) -> list[Link]:
    if is_feed(data) or content_type in ("application/rss+xml", "application/atom+xml"):
        return links_from_feed(data, location, seen=seen, cap=cap)
    if location.lower().endswith(_MARKDOWN_SUFFIXES) or content_type in ("text/markdown", "text/x-markdown"):
        from extractor.sources._markdown import links_from_markdown

        return links_from_markdown(text, origin_of(location), location)
    return links_from_newsletter(data, location)


def read_source(spec: str, fetcher: PageFetcher, *, seen: set[str] | None = None,
                cap: int = DEFAULT_FEED_CAP) -> list[Link]:
    """Links from a newsletter post, an RSS/Atom feed or a markdown draft, given as an http(s) URL (fetched
    with `fetcher`) or a file path. The kind is detected from the content (feeds), the name or type (drafts:
    `.md`, `.markdown`, `.txt`, text/markdown), else HTML. A saved HTML page is read as the URL it declares
    (`<link rel=canonical>`), so its own pages are recognised and its issue id found."""
    seen = seen or set()
    if is_http_url(spec):
        page = fetcher.fetch(spec)
        return _from_bytes(page.content, page.text, page.final_url if page.final_url else spec,
                           page.content_type, seen=seen, cap=cap)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise ConfigError(f"not an http(s) URL or a readable file: {spec}")
    data = path.read_bytes()
    if is_feed(data):
        return links_from_feed(data, path.resolve().as_uri(), seen=seen, cap=cap)
    if path.suffix.lower() in _MARKDOWN_SUFFIXES:
        from extractor.sources._markdown import links_from_markdown

        text = data.decode("utf-8", errors="replace")
        return links_from_markdown(text, origin_of(path.name), str(path))
    tree = parse_html(data)
    location = (declared_url(tree) if tree is not None else None) or path.resolve().as_uri()
    return links_from_newsletter(data, location)
