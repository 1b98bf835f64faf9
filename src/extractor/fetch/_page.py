"""`Page`: one fetched response, as a frozen value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Page:
    """A successful response. `url` is the URL asked for, `final_url` where redirects ended; `content` the
    decompressed body, `text` that body decoded with `charset`; `content_type` the media type alone."""

    url: str
    final_url: str
    status: int
    content_type: str
    charset: str
    content: bytes = field(repr=False)
    text: str = field(repr=False)
    fetched_at: str
    from_archive: bool = False
