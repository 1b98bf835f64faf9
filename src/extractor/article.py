"""Article text from a fetched page, with trafilatura on the bytes the fetcher read (never its own downloader).

Outcomes: an `Article` (`truncated` set when the text was cut to `max_chars`: the ledger's `too_long`, still
scanned), or `NoContentError` (no article: JS-only page, paywall, soft 404, a feed) or `TooShortError`. A page
whose text is short is `no_content` when it shows the signs of one of those, `too_short` otherwise; a page with
a long text is never judged by those signs, so an article that mentions paywalls is still an article.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import trafilatura
from trafilatura.settings import Document

from extractor.errors import NoContentError, TooShortError
from extractor.fetch import Page

DEFAULT_MIN_CHARS = 1500
#: About 8,000 tokens of English: the extraction prompt's budget for one article.
DEFAULT_MAX_CHARS = 30_000

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_PLAIN_TYPES = ("text/plain", "text/markdown", "text/x-markdown")

_JS_ONLY = re.compile(
    r"<noscript[^>]*>[^<]*(?:<[^>]+>[^<]*)*?(?:enable|turn on|requires?)\s+javascript"
    r"|<div[^>]+id=[\"'](?:root|app|__next|__nuxt)[\"'][^>]*>\s*</div>",
    re.IGNORECASE,
)
_PAYWALL = re.compile(
    r"[\"']isAccessibleForFree[\"']\s*:\s*[\"']?false"
    r"|class=[\"'][^\"']*paywall"
    r"|(?:subscribe|sign in|log in|register)\s+(?:now\s+)?to (?:continue reading|read (?:the|this) (?:full|rest))"
    r"|this (?:article|story|content) is (?:only )?(?:for|available to) (?:paid )?subscribers"
    r"|already a subscriber\?",
    re.IGNORECASE,
)
_SOFT_404 = re.compile(
    r"\b(?:404|page not found|not found|no longer available|does(?:n't| not) exist|could not be found"
    r"|nothing (?:was )?found)\b",
    re.IGNORECASE,
)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Article:
    url: str
    final_url: str
    text: str
    title: str | None
    author: str | None
    date: str | None
    sitename: str | None
    truncated: bool
    #: sha256 of the text (after any cut): the same article under two URLs has the same hash.
    content_hash: str


def _no_content_reason(page: Page) -> str | None:
    html = page.text
    if _PAYWALL.search(html):
        return "paywalled page"
    if _JS_ONLY.search(html):
        return "page needs JavaScript to show its text"
    titles = " ".join(a or b for a, b in _TITLE.findall(html[:20_000]))
    if _SOFT_404.search(titles):
        return "soft 404: the page says it was not found"
    return None


def _cut(text: str, max_chars: int) -> str:
    """`text` cut to at most `max_chars`, at the last paragraph, sentence or word boundary that keeps most."""
    head = text[:max_chars]
    for sep in ("\n", ". ", " "):
        at = head.rfind(sep)
        if at >= max_chars * 0.8:
            return head[: at + (1 if sep == ". " else 0)].rstrip()
    return head


def article_from_page(page: Page, *, min_chars: int = DEFAULT_MIN_CHARS,
                      max_chars: int = DEFAULT_MAX_CHARS) -> Article:
    title = author = date = sitename = None
    if page.content_type in _PLAIN_TYPES:
        text = page.text.strip()
    elif page.content_type in _HTML_TYPES:
        doc = trafilatura.bare_extraction(
            page.text,
            url=page.final_url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            # The date the page states (metadata, markup), never one guessed from dates in its text.
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
        if isinstance(doc, dict):  # older trafilatura returned a dict
            doc = Document.from_dict(doc) if hasattr(Document, "from_dict") else None
        text = (doc.text or "").strip() if doc is not None else ""
        if doc is not None:
            title, author, date, sitename = doc.title, doc.author, doc.date, doc.sitename
    else:
        raise NoContentError(f"a {page.content_type} document, not an article page", page.url)
    if len(text) < min_chars:
        reason = _no_content_reason(page) if page.content_type in _HTML_TYPES else None
        if not text:
            raise NoContentError(reason or "no article text found on the page", page.url)
        if reason:
            raise NoContentError(reason, page.url)
        raise TooShortError(f"article text has {len(text)} characters, fewer than {min_chars}", page.url)
    truncated = len(text) > max_chars
    if truncated:
        text = _cut(text, max_chars)
    return Article(
        url=page.url,
        final_url=page.final_url,
        text=text,
        title=title,
        author=author,
        date=date,
        sitename=sitename,
        truncated=truncated,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
