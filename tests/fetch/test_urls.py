from __future__ import annotations

import hashlib

import pytest

from extractor.models import scan_id
from extractor.urls import canonicalize, is_tracking_param


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://Example.COM/Path", "https://example.com/Path"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a?utm_source=x&utm_medium=email&id=7", "https://example.com/a?id=7"),
        ("https://example.com/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&msclkid=5", "https://example.com/a"),
        ("https://example.com/a?ref=hn&p=3&v=dQw4w9WgXcQ", "https://example.com/a?p=3&ref=hn&v=dQw4w9WgXcQ"),
        ("https://example.com/a?b=2&a=1&a=0", "https://example.com/a?a=1&a=0&b=2"),
        ("https://example.com/a/./b/../c/", "https://example.com/a/c/"),
        ("https://example.com/%7euser/caf%c3%a9", "https://example.com/~user/caf%C3%A9"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://example.com./x", "https://example.com/x"),
        ("http://[::1]:80/x", "http://[::1]/x"),
        ("  https://example.com/trailing  ", "https://example.com/trailing"),
        ("mailto:someone@example.com", "mailto:someone@example.com"),
    ],
)
def test_canonicalize(url: str, canonical: str) -> None:
    assert canonicalize(url) == canonical


def test_canonicalize_is_idempotent() -> None:
    for url in ["HTTPS://A.example:443/x/../y?utm_x=1&z=%7e#f", "https://bücher.example/ä ö?q=a b"]:
        once = canonicalize(url)
        assert canonicalize(once) == once


def test_meaningful_parameters_are_not_tracking() -> None:
    assert not any(is_tracking_param(p) for p in ("ref", "id", "p", "v", "page", "q", "s", "article"))
    assert all(is_tracking_param(p) for p in ("utm_source", "UTM_Campaign", "fbclid", "gclid", "mc_cid"))


def test_scan_id_uses_the_url_as_found() -> None:
    """The archive's ids hash the URL exactly as found, tracking parameters included: canonical forms are for
    deduplication only, so existing ids stay reproducible."""
    found = "https://www.coastal-futures.example/2025/06/tidal-microgrids?utm_source=kghosh"
    assert scan_id(found) != scan_id(canonicalize(found))
    assert scan_id(found) == hashlib.md5(f"b'{found}'".encode()).hexdigest()
