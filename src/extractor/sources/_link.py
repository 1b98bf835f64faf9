"""`Link`: one article URL found in a source, with where it came from."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from urllib.parse import unquote, urlsplit

from extractor.errors import ConfigError
from extractor.urls import canonicalize, check_origin, is_http_url, origin_slug

_ISSUE = re.compile(r"/p/([^/?#]+)")
#: An issue id that starts with its date: `20250629d`, `20221228`, `2025-06-29-notes`.
_DATED_ID = re.compile(r"(?P<y>(?:19|20)\d\d)-?(?P<m>\d\d)-?(?P<d>\d\d)(?![0-9])")


@dataclass(frozen=True)
class Link:
    """`url` exactly as found (the scan id is `scan_id(link.url)`), `canonical` its canonical form (for
    deduplication and the web archive), `origin` the newsletter issue id (`20250629d`) or "", `source` the
    page, feed or draft it came from."""

    url: str
    canonical: str
    origin: str
    source: str
    #: The issue's date, YYYY-MM-DD (feed item date, post date, or the date its id starts with), or "".
    date: str = ""


def make_link(url: str, origin: str, source: str, date: str = "") -> Link:
    return Link(url=url, canonical=canonicalize(url), origin=origin, source=source,
                date=date or date_of_issue(origin))


def date_of_issue(issue_id: str) -> str:
    """The date an issue id starts with, as YYYY-MM-DD (`20250105d` -> `2025-01-05`), or "" when it does not
    start with a real date (`4320.0`, `weekly-notes-12`, `20251399`)."""
    match = _DATED_ID.match(issue_id.strip())
    if not match:
        return ""
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"])).isoformat()
    except ValueError:
        return ""


def origin_of(page_url: str) -> str:
    """The issue id of a newsletter page: `20250629d` from `.../p/20250629d`; otherwise the page's last path
    segment without its extension (`weekly-notes-12` from `/blog/weekly-notes-12.html`), or ""."""
    path = urlsplit(page_url).path
    match = _ISSUE.search(path)
    if match:
        return origin_slug(unquote(match.group(1)))
    last = unquote(path.rstrip("/").rsplit("/", 1)[-1])
    # A file name such as `weird name (1) [x].md` must not break the header's `[origin](...)` link.
    return origin_slug(last.rsplit(".", 1)[0] if "." in last else last)


def single_link(url: str, origin: str = "") -> Link:
    """A Link for one article URL given by the user."""
    url = url.strip()
    if not is_http_url(url):
        raise ConfigError(f"not an http(s) URL: {url!r}")
    return make_link(url, check_origin(origin), url)


def dedupe(links: Iterable[Link]) -> list[Link]:
    """First occurrence of each canonical URL, in order."""
    seen: set[str] = set()
    kept = []
    for link in links:
        if link.canonical not in seen:
            seen.add(link.canonical)
            kept.append(link)
    return kept
