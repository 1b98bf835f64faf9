"""Links in a markdown draft: inline, reference-style and autolinks; never images, code or non-http links."""

from __future__ import annotations

from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

from extractor.settings import CoreSettings
from extractor.sources._link import Link, dedupe, make_link


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark")
    # Keep hrefs exactly as written (the scan id hashes the URL as found); markdown-it would percent-encode.
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    return md


def _hrefs(tokens: list[Token]) -> list[str]:
    found: list[str] = []
    for token in tokens:
        if token.type == "link_open":
            found.append(str(token.attrGet("href") or ""))
        if token.children and token.type != "image":
            found.extend(_hrefs(token.children))
    return found


def links_from_markdown(text: str, origin: str, source: str) -> list[Link]:
    """Article links in a draft, deduplicated, skipping links to the newsletter's own host."""
    own = CoreSettings().newsletter_host.lower()
    links = []
    for href in _hrefs(_parser().parse(text)):
        parts = urlsplit(href.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            continue
        if parts.hostname.lower() == own:
            continue
        links.append(make_link(href.strip(), origin, source))
    return dedupe(links)
