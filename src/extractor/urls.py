"""Canonical URLs: one spelling per resource, so one article reachable under two URLs is scanned once.

The canonical form is used for deduplication and as the web archive's key. It is never used for the scan id:
`models.scan_id` hashes the URL exactly as found in the newsletter, which keeps the existing archive's ids
reproducible (see docs/fetch.md).

What changes: scheme and host case, an IDN host to its ASCII form, default ports, empty path (`/`), dot
segments, percent-escapes of unreserved characters, the fragment, and tracking parameters (`utm_*`, `fbclid`,
`gclid`, `mc_cid`, `mc_eid` and the like). Query parameters are sorted by name (values of a repeated name keep
their order). What stays: every other parameter, including those that carry meaning (`ref`, `id`, `p`, `v`...),
the path's case and a trailing slash.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

#: Parameters that only say where a click came from. Exact names, compared case-insensitively.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "li_fat_id",
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "__hssc", "__hstc", "__hsfp", "hsctatracking", "igshid",
        "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv", "rb_clickid", "s_cid", "_ga", "_gl",
        "ref_src", "ref_url", "cmpid", "wt.mc_id", "trk", "trkcampaign", "sc_campaign", "sc_channel",
        "sc_content", "sc_medium", "sc_outcome", "sc_geo", "sc_country", "triedredirect",
    }
)  # fmt: skip
#: Prefixes of tracking parameter families.
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "matomo_", "hsa_", "__s")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _normalize_escapes(text: str) -> str:
    """Uppercase every escape and decode the ones for unreserved characters (`%7E` -> `~`)."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(0)[1:], 16))
        return char if char in _UNRESERVED else match.group(0).upper()

    return _ESCAPE.sub(fix, text)


def _host(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        return f"[{host}]"
    # A host the codec cannot encode stays as it is; the fetcher refuses it.
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii")
    return host.rstrip(".")


def _path(path: str) -> str:
    if not path:
        return "/"
    path = quote(unquote(path), safe="/%:@!$&'()*+,;=~") if any(ord(c) > 126 or c == " " for c in path) else path
    normalized = posixpath.normpath(path)
    if normalized.startswith("//"):  # normpath keeps a leading double slash
        normalized = "/" + normalized.lstrip("/")
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    return _normalize_escapes(normalized)


def _query(query: str) -> str:
    if not query:
        return ""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not is_tracking_param(k)]
    pairs.sort(key=lambda pair: pair[0])  # stable: repeated names keep their order
    return urlencode(pairs, quote_via=quote, safe="/:@!$'()*,;~")


def canonicalize(url: str) -> str:
    """The canonical form of an http(s) URL. Other schemes come back stripped of whitespace, otherwise
    unchanged: they are refused elsewhere, not rewritten here."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket: not a URL we can fetch anyway
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.netloc:
        return url
    host = _host(parts)
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username is not None:
        creds = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{creds}@{netloc}"
    return urlunsplit((scheme, netloc, _path(parts.path), _query(parts.query), ""))


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host and a valid port."""
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises on a port out of range or not a number
    except ValueError:
        return False
    return parts.scheme.lower() in _DEFAULT_PORTS and bool(parts.hostname)


#: An issue id as a scan's header holds it: `20250629d`, `weekly-notes-12`. Letters, digits, `.`, `_` and `-`
#: only, so that it can sit in the header's `[origin](https://host/p/origin)` link (and the index) as it is.
_ORIGIN = re.compile(r"[^\W_](?:[\w.-]{0,78}[^\W_])?")
_NOT_ORIGIN = re.compile(r"[^\w.-]+")


def origin_slug(text: str) -> str:
    """The issue id for a name found in a source (a draft's file name, a page's last path segment): every
    run of other characters becomes one `-`, so `weird name (1) [x]` gives `weird-name-1-x`. "" when nothing
    is left."""
    return _NOT_ORIGIN.sub("-", text)[:80].strip("-._")


def check_origin(value: str) -> str:
    """An issue id given by a user (`--origin`), refused with a one-line error unless it is one: a value
    such as `javascript:alert(1)` would otherwise end up as a link in the page header and the index."""
    from extractor.errors import ConfigError

    value = value.strip()
    if value and not _ORIGIN.fullmatch(value):
        suggestion = origin_slug(value)
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        raise ConfigError(
            f"--origin {value!r} is not an issue id: letters, digits, '.', '_' and '-' only, such as "
            f"20250629d{hint}"
        )
    return value
