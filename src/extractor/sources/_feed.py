"""Feeds (RSS 0.9x/1.0/2.0, Atom) in any XML form: their items as articles, or as newsletter issues whose
bodies hold the article links.

A feed of articles (a news site's RSS) yields its items. A feed of issues (Substack: the channel is the
newsletter, each item one issue with the post body in `content:encoded`) yields the links inside each item, with
the item as origin: its slug (`20250629d`) and its date. `feed_of_issues` decides which a feed is, and says why.
feedparser is always given bytes: it never fetches.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser

from extractor.errors import SourceError
from extractor.sources._link import Link, make_link, origin_of
from extractor.urls import canonicalize, is_http_url

#: Root elements of the feed formats: RSS 0.9x/2.0 `<rss>`, RSS 0.90/1.0 `<rdf:RDF>` (any prefix), Atom `<feed>`.
_FEED_ROOTS = ("rss", "RDF", "feed")
_ROOT = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
#: How far into a document its root element is looked for (long comments and DOCTYPEs come first).
_PROLOG_BYTES = 64 * 1024
#: An item body with at least this many links to other hosts reads as an issue of a newsletter.
_ISSUE_MIN_LINKS = 3


def _head_text(data: bytes) -> str:
    """The start of a document as text, whatever its encoding: markup is ASCII in every encoding a feed uses,
    so a BOM or the byte pattern of `<` in UTF-16/32 is enough to read the prolog."""
    head = data[:_PROLOG_BYTES]
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"),
                       (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):  # fmt: skip
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, errors="ignore")
    if b"\x00" in head[:4]:  # UTF-16/32 without a BOM: the zero bytes of ASCII markup tell the byte order
        wide = head[:4]
        if wide[:3] == b"\x00\x00\x00":
            return head.decode("utf-32-be", errors="ignore")
        if wide[1:4] == b"\x00\x00\x00":
            return head.decode("utf-32-le", errors="ignore")
        return head.decode("utf-16-be" if wide[0] == 0 else "utf-16-le", errors="ignore")
    return head.decode("latin-1")


def _skip_prolog(text: str) -> str:
    """`text` after its XML declaration, processing instructions, comments and DOCTYPE (with an internal
    subset), however long each is."""
    i = 0
    while True:
        while i < len(text) and text[i] in " \t\r\n\ufeff":
            i += 1
        if text.startswith("<?", i):
            end = text.find("?>", i)
        elif text.startswith("<!--", i):
            end = text.find("-->", i)
            end = end + 1 if end != -1 else -1
        elif text[i : i + 9].upper() == "<!DOCTYPE":
            subset = text.find("[", i)
            close = text.find(">", i)
            if subset != -1 and subset < close:
                close = text.find("]", subset)
                close = text.find(">", close) if close != -1 else -1
            end = close - 1 if close != -1 else -1
        else:
            return text[i:]
        if end == -1:
            return ""
        i = end + 2


def root_element(data: bytes) -> str | None:
    """The local name of a document's root element (`rss`, `RDF`, `feed`, `html`...), or None."""
    match = _ROOT.match(_skip_prolog(_head_text(data)))
    return match.group(1) if match else None


def is_feed(data: bytes) -> bool:
    """The document is an RSS or Atom feed, judged by its root element whatever precedes it."""
    return root_element(data) in _FEED_ROOTS


@dataclass(frozen=True)
class FeedItem:
    url: str
    entry_id: str
    title: str
    #: YYYY-MM-DD (published, else updated), or "".
    date: str
    timestamp: float | None
    #: The item's HTML body (`content:encoded`, Atom content, else a summary holding markup), or "".
    body: str


@dataclass(frozen=True)
class Feed:
    url: str
    title: str
    generator: str
    #: Every item with an http(s) link, newest first when every item is dated, else in feed order.
    items: list[FeedItem]


def _timestamp(entry: Any) -> float | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return float(calendar.timegm(value))
    return None


def _body(entry: Any) -> str:
    for content in entry.get("content") or ():
        value = str(content.get("value") or "")
        if value.strip():
            return value
    summary = str(entry.get("summary") or "")
    return summary if "<a " in summary.lower() else ""


def parse_feed(data: bytes, feed_url: str) -> Feed:
    """The feed's items. Raises `SourceError` for a document feedparser cannot read as a feed."""
    parsed = feedparser.parse(data, response_headers={"content-location": feed_url})
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise SourceError(f"{feed_url}: not a readable RSS or Atom feed" + (f" ({reason})" if reason else ""))
    items: list[FeedItem] = []
    for entry in parsed.entries:
        url = str(entry.get("link") or "").strip()
        if not is_http_url(url):
            continue
        stamp = _timestamp(entry)
        day = datetime.fromtimestamp(stamp, UTC).date().isoformat() if stamp is not None else ""
        items.append(FeedItem(url, str(entry.get("id") or ""), str(entry.get("title") or ""), day, stamp,
                              _body(entry)))  # fmt: skip
    if items and all(i.timestamp is not None for i in items):
        items.sort(key=lambda i: -(i.timestamp or 0))
    meta = parsed.get("feed", {})
    return Feed(feed_url, str(meta.get("title") or ""), str(meta.get("generator") or ""), items)


def _external_links(item: FeedItem) -> list[Link]:
    from extractor.sources._html import links_from_newsletter

    return links_from_newsletter(item.body, item.url, origin=origin_of(item.url), date=item.date) if item.body else []


def feed_of_issues(feed: Feed, newsletter_host: str) -> tuple[bool, str]:
    """Whether the feed's items are newsletter issues (follow their links) or articles (scan them), and why.

    Item bodies decide when the feed carries them: issues when at least half of them link articles on other
    sites (a newsletter on Substack that writes essays is a feed of articles). Without bodies, the feed's
    generator (Substack) or items that are all newsletter posts (`/p/...`) say issues."""
    if not feed.items:
        return False, "it has no items"
    with_body = [i for i in feed.items if i.body]
    if with_body:
        linking = sum(len(_external_links(i)) >= _ISSUE_MIN_LINKS for i in with_body)
        said = f"{linking} of {len(with_body)} items link {_ISSUE_MIN_LINKS} or more articles on other sites"
        return linking * 2 >= len(with_body), said if linking * 2 >= len(with_body) else f"only {said}"
    if "substack" in feed.generator.lower():
        return True, "its generator is Substack"
    hosts = {(urlsplit(i.url).hostname or "").lower() for i in feed.items}
    posts = all(urlsplit(i.url).path.startswith("/p/") for i in feed.items)
    if posts and all(h == newsletter_host.lower() or h.endswith(".substack.com") for h in hosts):
        return True, "its items are newsletter posts (/p/...)"
    return False, "its items carry no body and are not newsletter posts"


def links_from_feed(data: bytes, feed_url: str, *, seen: set[str], cap: int) -> list[Link]:
    """A feed of articles: at most `cap` items newer than any already seen, newest first, each dated.

    `seen` holds canonical URLs and/or entry ids of items met before; the walk stops at the first seen item,
    since everything after it is older."""
    return items_as_links(parse_feed(data, feed_url), seen=seen, cap=cap)


def items_as_links(feed: Feed, *, seen: set[str], cap: int) -> list[Link]:
    links: list[Link] = []
    chosen: set[str] = set()
    for item in feed.items:
        if len(links) >= cap:
            break
        canonical = canonicalize(item.url)
        if canonical in seen or (item.entry_id and item.entry_id in seen):
            break
        if canonical in chosen:
            continue
        chosen.add(canonical)
        links.append(make_link(item.url, "", feed.url, item.date))
    return links


#: Reads a post's page: (its bytes, the URL it ended at). Used for items whose body the feed leaves out.
PostReader = Callable[[str], tuple[bytes, str]]


def issue_links(feed: Feed, *, cap: int, read_post: PostReader | None,
                warn: Callable[[str], None]) -> list[Link]:  # fmt: skip
    """A feed of issues: the article links of its `cap` newest items, newest issue first, each link with its
    issue's slug and date. An item's body is read when the feed carries it, else its post is fetched."""
    from extractor.sources._html import links_from_newsletter

    links: list[Link] = []
    for item in feed.items[:cap]:
        origin = origin_of(item.url)
        if item.body:
            found = _external_links(item)
        elif read_post is None:
            warn(f"issue {item.url}: the feed holds no body for it and posts are not fetched here")
            continue
        else:
            try:
                content, final_url = read_post(item.url)
            except Exception as exc:  # one unreadable post must not hide the other issues
                warn(f"issue {item.url}: could not be read ({exc}); its links are skipped this time")
                continue
            found = links_from_newsletter(content, final_url, origin=origin, date=item.date)
        if not found:
            warn(f"issue {item.url}: no article links in it")
        links.extend(found)
    return links
