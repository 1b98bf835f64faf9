"""Article text from a fetched page, with trafilatura on the bytes the fetcher read (never its own downloader).

Text a reader cannot see is dropped before trafilatura (it keeps hidden elements): `display:none`,
`visibility:hidden`, the `hidden` attribute, `aria-hidden="true"`, zero or one-pixel fonts, zero opacity, and
text coloured like its background where the page says both inline. An instruction hidden in a white 1-px
paragraph never reaches the model.

Outcomes: an `Article` (`truncated` set when the text was cut to `max_chars`: the ledger's `too_long`, still
scanned), or the gate's errors for a page that is not the article (`bot_wall`, `cookie_wall`, `paywall`,
`not_found` for a soft 404, `error_page`), `NoContentError` (JS-only page, a feed, nothing found) or
`TooShortError`. Only a page whose text is short is judged by those signs, so an article that mentions paywalls
or captchas is still an article.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import lxml.etree
import lxml.html
import trafilatura
from trafilatura.settings import Document

from extractor.errors import (
    BotWallError,
    CookieWallError,
    ErrorPageError,
    GatePageError,
    NoContentError,
    NotFoundPageError,
    PaywallError,
    TooShortError,
)
from extractor.fetch import Page

DEFAULT_MIN_CHARS = 1500
#: A page whose article text is shorter than this may be a wall or an error page (the gate looks); a longer one is
#: an article whatever it mentions.
GATE_MAX_CHARS = 3000
#: About 8,000 tokens of English: the extraction prompt's budget for one article.
DEFAULT_MAX_CHARS = 30_000

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_PLAIN_TYPES = ("text/plain", "text/markdown", "text/x-markdown")

_JS_ONLY = re.compile(
    r"<noscript[^>]*>[^<]*(?:<[^>]+>[^<]*)*?(?:enable|turn on|requires?)\s+javascript"
    r"|<div[^>]+id=[\"'](?:root|app|__next|__nuxt)[\"'][^>]*>\s*</div>",
    re.IGNORECASE,
)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")

# The gate's signs, looked for in the page's title and headings and in its short text (and, for bot walls, the
# challenge scripts' markers in the HTML). Each names what the page is, for the ledger's error line.
_BOT_WALL_HTML = re.compile(r"cf-challenge|challenge-platform|g-recaptcha|h-captcha|hcaptcha|captcha-delivery"
                            r"|px-captcha|perimeterx|datadome", re.IGNORECASE)  # fmt: skip
_BOT_WALL = re.compile(
    r"verify (?:that )?you(?:'re| are) (?:a )?(?:human|not a (?:ro)?bot)|are you a (?:ro)?bot|\bcaptcha\b"
    r"|checking (?:if the site connection is secure|your browser)|just a moment\.\.\.|attention required"
    r"|unusual traffic from your (?:computer|network)|press (?:&|and) hold|access (?:to this page has been )?denied"
    r"|verify your identity|security check|bot (?:detection|protection)",
    re.IGNORECASE,
)
_COOKIE_WALL = re.compile(
    r"(?:accept|agree to|consent to)(?: all| our)? cookies (?:to|before you|in order to) (?:continue|access|read|view"
    r"|use)|cookies? (?:consent|wall)|we value your privacy|manage (?:your )?(?:cookie |consent )?preferences"
    r"|reject all|accept all",
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
_ERROR_PAGE = re.compile(
    r"\b(?:500|502|503|504)\b.{0,40}(?:error|bad gateway|unavailable|timeout)|internal server error|bad gateway"
    r"|service (?:temporarily )?unavailable|something went wrong|an (?:unexpected )?error (?:has )?occurred"
    r"|(?:site|page) is (?:down|under maintenance|temporarily unavailable)|database error",
    re.IGNORECASE,
)
_SOFT_404 = re.compile(
    r"\b(?:404|page not found|not found|no longer available|does(?:n't| not) exist|could not be found"
    r"|couldn't find|nothing (?:was )?found)\b",
    re.IGNORECASE,
)
#: The order matters: a bot wall often also says "access denied"; a cookie wall may mention a paywall.
_GATE: tuple[tuple[type[GatePageError], str, str], ...] = (
    (BotWallError, "bot_wall", "a bot wall: the page asks to prove a human is reading"),
    (CookieWallError, "cookie_wall", "a cookie wall: the page demands consent before showing its text"),
    (PaywallError, "paywall", "paywalled page"),
    (ErrorPageError, "error_page", "an error page: the server says it failed"),
    (NotFoundPageError, "soft_404", "soft 404: the page says it was not found"),
)


def _gate(page: Page, text: str, min_chars: int) -> GatePageError | None:
    """The wall or error page this is, from its signs; None when it looks like an article (or nothing).

    Every sign is judged when the text is too short to be an article. Up to GATE_MAX_CHARS, the title and
    headings of a bot or cookie wall still count (a consent wall may list hundreds of partners); the text and the
    HTML's markers do not, since a real article may mention captchas or carry a comment form's script."""
    html = page.text
    headings = " ".join(_TAG.sub(" ", a or b) for a, b in _TITLE.findall(html[:20_000]))
    short = len(text) < min_chars
    visible = f"{headings} {text[:2000]}" if short else ""
    signs = {
        "bot_wall": bool(_BOT_WALL.search(headings) or _BOT_WALL.search(visible)
                         or (short and _BOT_WALL_HTML.search(html))),
        "cookie_wall": bool(_COOKIE_WALL.search(headings) or _COOKIE_WALL.search(visible)),
        "paywall": bool(short and _PAYWALL.search(html)),
        "error_page": bool(short and (_ERROR_PAGE.search(headings) or (len(text) < 500 and _ERROR_PAGE.search(text)))),
        "soft_404": bool(short and _SOFT_404.search(headings)),
    }  # fmt: skip
    for error, key, reason in _GATE:
        if signs[key]:
            return error(reason, page.url)
    return None


def _no_content_reason(page: Page) -> str | None:
    if _JS_ONLY.search(page.text):
        return "page needs JavaScript to show its text"
    return None


# --- hidden text ------------------------------------------------------------------------------------------

_FONT_SIZE = re.compile(r"font-size\s*:\s*([0-9.]+)\s*(px|pt|em|rem|%)?", re.IGNORECASE)
_COLOR = re.compile(r"(?<![-\w])color\s*:\s*([^;!]+)", re.IGNORECASE)
_BACKGROUND = re.compile(r"background(?:-color)?\s*:\s*([^;!]+)", re.IGNORECASE)
_NAMED = {"white": "#ffffff", "black": "#000000", "#fff": "#ffffff", "#000": "#000000", "transparent": "transparent"}


def _colour(value: str) -> str:
    v = value.strip().lower().replace(" ", "")
    v = _NAMED.get(v, v)
    rgb = re.fullmatch(r"rgba?\((\d+),(\d+),(\d+)(?:,[0-9.]+)?\)", v)
    if rgb:
        v = "#" + "".join(f"{int(c):02x}" for c in rgb.groups())
    if re.fullmatch(r"#[0-9a-f]{3}", v):
        v = "#" + "".join(c * 2 for c in v[1:])
    return v


def _tiny_font(style: str) -> bool:
    for size, unit in _FONT_SIZE.findall(style):
        value = float(size or 0)
        if ((unit or "px").lower() in ("px", "pt") and value <= 1) or (unit in ("em", "rem") and value <= 0.1):
            return True
        if unit == "%" and value <= 10:
            return True
    return False


def _hidden(element: lxml.html.HtmlElement, background: str | None) -> bool:
    if element.get("hidden") is not None or element.get("aria-hidden", "").strip().lower() == "true":
        return True
    if element.tag == "input" and element.get("type", "").lower() == "hidden":
        return True
    style = element.get("style", "")
    if not style:
        return False
    if re.search(r"display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)", style, re.IGNORECASE):
        return True
    if re.search(r"opacity\s*:\s*0(?:\.0+)?\s*(?:;|$)", style, re.IGNORECASE) or _tiny_font(style):
        return True
    colour = _COLOR.search(style)
    own_background = _BACKGROUND.search(style)
    behind = _colour(own_background.group(1)) if own_background else background
    return bool(colour and behind and _colour(colour.group(1)) == behind)


def visible_html(html: str) -> tuple[str, int]:
    """`html` without the elements a reader cannot see (see the module's docstring), and how many were dropped.
    Text coloured like its background counts when both colours are written inline (on the element or an
    ancestor). Unparseable HTML is returned unchanged."""
    try:
        root = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return html, 0
    dropped = 0

    def walk(element: lxml.html.HtmlElement, background: str | None) -> None:
        nonlocal dropped
        for child in list(element):
            if not isinstance(child.tag, str):  # comments, processing instructions
                continue
            if _hidden(child, background):
                child.drop_tree()
                dropped += 1
                continue
            own = _BACKGROUND.search(child.get("style", ""))
            walk(child, _colour(own.group(1)) if own else background)

    walk(root, None)
    if not dropped:
        return html, 0
    return lxml.html.tostring(root, encoding="unicode"), dropped


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
        html, _ = visible_html(page.text)
        doc = trafilatura.bare_extraction(
            html,
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
    if page.content_type in _HTML_TYPES and len(text) < max(min_chars, GATE_MAX_CHARS):
        gated = _gate(page, text, min_chars)
        if gated is not None:  # a wall or an error page: ended here, no model call
            raise gated
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
