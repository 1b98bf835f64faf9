"""Items of an RSS or Atom feed, newest first, stopping at the first one already seen."""

from __future__ import annotations

import calendar
from typing import Any

import feedparser

from extractor.sources._link import Link, make_link
from extractor.urls import canonicalize, is_http_url


def _timestamp(entry: Any) -> float | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return float(calendar.timegm(value))
    return None


def is_feed(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip()
    if head.startswith(b"<?xml"):
        head = head[head.find(b"?>") + 2 :].lstrip()
        while head.startswith(b"<!--"):
            head = head[head.find(b"-->") + 3 :].lstrip()
    return head.startswith((b"<rss", b"<feed", b"<rdf:rdf", b"<?xml-stylesheet"))


def links_from_feed(data: bytes, feed_url: str, *, seen: set[str], cap: int) -> list[Link]:
    """At most `cap` items newer than any already seen, newest first.

    `seen` holds canonical URLs and/or entry ids of items met before. Items are ordered by their date when
    every item has one (feeds are not always in order), else kept in feed order; the walk stops at the first
    seen item, since everything after it is older. feedparser is given the bytes: it never fetches."""
    parsed = feedparser.parse(data, response_headers={"content-location": feed_url})
    entries = list(parsed.entries)
    stamps = [_timestamp(e) for e in entries]
    if entries and all(s is not None for s in stamps):
        entries = [e for _, e in sorted(zip(stamps, entries, strict=True), key=lambda pair: -(pair[0] or 0))]
    links: list[Link] = []
    chosen: set[str] = set()
    for entry in entries:
        if len(links) >= cap:
            break
        url = str(entry.get("link") or "").strip()
        if not is_http_url(url):
            continue
        canonical = canonicalize(url)
        if canonical in seen or (entry.get("id") and str(entry.get("id")) in seen):
            break
        if canonical in chosen:
            continue
        chosen.add(canonical)
        links.append(make_link(url, "", feed_url))
    return links
