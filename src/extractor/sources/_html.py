"""Links in the body of a newsletter post: on Substack the post's body markup, elsewhere the main content.

Never navigation, subscribe/share widgets, comments, images, non-http links or the newsletter's own pages."""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml.etree import ParserError

from extractor.sources._link import Link, dedupe, make_link, origin_of

#: Where a post states its publication date, most specific first.
_DATE_XPATHS = (
    "//meta[@property='article:published_time']/@content",
    "//meta[@name='article:published_time']/@content",
    "//meta[@itemprop='datePublished']/@content",
    "//meta[@name='date']/@content",
    "//time[@datetime]/@datetime",
)
_ISO_DAY = re.compile(r"((?:19|20)\d\d)-(\d\d)-(\d\d)")

#: Where the post body lives, most specific first. Substack: `div.body.markup` inside `.available-content`.
_BODY_XPATHS = (
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' body ')"
    " and contains(concat(' ', normalize-space(@class), ' '), ' markup ')]",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' available-content ')]",
    "//article",
    "//main",
    "//*[@role='main']",
    "//*[contains(@class, 'entry-content') or contains(@class, 'post-content')]",
    "//body",
)
#: Parts of a body that are never the post's own text.
_NOISE_TAGS = ("nav", "header", "footer", "aside", "form", "figure", "script", "style", "noscript", "template")
_NOISE_CLASSES = ("subscri", "share", "comment", "button", "image-link", "captioned-image", "footnote",
                  "sidebar", "related", "social", "newsletter-signup", "paywall")  # fmt: skip
_SHARE_URLS = re.compile(
    r"(facebook\.com/sharer|twitter\.com/intent|x\.com/intent|linkedin\.com/share|reddit\.com/submit"
    r"|api\.whatsapp\.com/send|t\.me/share|pinterest\.com/pin/create|news\.ycombinator\.com/submitlink)",
    re.IGNORECASE,
)
_PLATFORM_HOSTS = ("substack.com", "www.substack.com", "substackcdn.com")


def _has_noise_class(element: lxml.html.HtmlElement) -> bool:
    attrs = f"{element.get('class', '')} {element.get('id', '')}".lower()
    return any(word in attrs for word in _NOISE_CLASSES)


def _in_noise(anchor: lxml.html.HtmlElement, body: lxml.html.HtmlElement) -> bool:
    element: lxml.html.HtmlElement | None = anchor
    while element is not None and element is not body:
        if element.tag in _NOISE_TAGS or _has_noise_class(element):
            return True
        element = element.getparent()
    return False


def _own_hosts(page_url: str, tree: lxml.html.HtmlElement) -> set[str]:
    """The newsletter's host: the one the page declares as its own URL, else the one it was read from (a copy
    served elsewhere, e.g. a saved page or a test server, keeps its newsletter's identity)."""
    declared = declared_url(tree)
    host = urlsplit(declared or page_url).hostname or ""
    return {host.lower()} if host else set()


def declared_url(tree: lxml.html.HtmlElement) -> str | None:
    """The page's own URL as it declares it (`<link rel=canonical>` or `og:url`)."""
    for href in tree.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content"):
        if str(href).startswith(("http://", "https://")):
            return str(href).strip()
    return None


def _day(value: str) -> str:
    match = _ISO_DAY.search(value)
    return "-".join(match.groups()) if match else ""


def published_date(tree: lxml.html.HtmlElement) -> str:
    """The post's publication day (YYYY-MM-DD) as its page states it (meta tags, JSON-LD, `<time>`), or ""."""
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(str(script))
        except ValueError:
            continue
        for node in data if isinstance(data, list) else [data]:
            if isinstance(node, dict) and (day := _day(str(node.get("datePublished") or ""))):
                return day
    for xpath in _DATE_XPATHS:
        for value in tree.xpath(xpath):
            if day := _day(str(value)):
                return day
    return ""


def parse_html(html: str | bytes) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.document_fromstring(html)
    except (ParserError, ValueError):
        return None


def links_from_newsletter(html: str | bytes, page_url: str, *, origin: str | None = None,
                          date: str = "") -> list[Link]:  # fmt: skip
    """Article links in the post body, deduplicated by canonical URL, each with the post's issue id and date:
    `origin` and `date` when given (a feed item's), else the page's own (its URL's slug; the date it states,
    else the one its slug starts with)."""
    tree = parse_html(html)
    if tree is None:
        return []
    body = next((found[0] for xpath in _BODY_XPATHS if (found := tree.xpath(xpath))), None)
    if body is None:
        return []
    own = _own_hosts(page_url, tree)
    origin = origin_of(declared_url(tree) or page_url) if origin is None else origin
    date = date or published_date(tree)
    links = []
    for anchor in body.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or _in_noise(anchor, body):
            continue
        if not anchor.text_content().strip():
            continue  # an image or icon wrapped in a link
        url = href if urlsplit(href).scheme else urljoin(page_url, href)
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme.lower() not in ("http", "https") or not host:
            continue  # mailto:, javascript:, file:, tel:, data:, in-page anchors resolved to file pages
        if host in own or host in _PLATFORM_HOSTS or host.endswith(".substackcdn.com"):
            continue
        if host.endswith(".substack.com") and not parts.path.startswith("/p/"):
            continue  # another newsletter's subscribe or home page, not a post
        if _SHARE_URLS.search(url):
            continue
        links.append(make_link(url, origin, page_url, date))
    return dedupe(links)
