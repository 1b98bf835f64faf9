"""Reading OUT for the site: every `{id}.md` parsed, its sidecar read defensively, parsed pages cached.

The cache keeps each page's parse keyed by the size and modification time of the page and its sidecar, so a
rebuild after one new scan parses one page, not the whole archive. It is a local file the site builder alone
writes; a cache it cannot read is rebuilt, never trusted in part.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from extractor.errors import ScanFormatError
from extractor.models import Scan
from extractor.output import atomic_write
from extractor.parse import parse

_ID_PAGE = re.compile(r"[0-9a-f]{32}\.md")
_ORIGIN_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_CACHE_VERSION = 2


@dataclass(frozen=True)
class ScanEntry:
    """One scan as the site shows it: the parsed page plus what its sidecar adds."""

    id: str
    scan: Scan
    #: The issue's date (YYYY-MM-DD) when known: the sidecar's issue date, else the date the origin id starts
    #: with, else the article's own date, else the day it was fetched.
    date: str | None = None
    #: The newsletter post, feed or draft the link was found in (provenance `source`).
    source: str | None = None
    #: Evidence quotes per table row: (table, row name folded) -> quotes.
    evidence: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: Changes whenever the page or its sidecar changes (their sizes and modification times).
    stamp: str = ""


@dataclass
class Loaded:
    entries: list[ScanEntry]
    #: Pages that could not be read, with the reason: shown in the build report, left out of the site.
    skipped: list[tuple[str, str]]
    parsed: int  # pages parsed this time (the rest came from the cache)


def row_key(table: str, name: str) -> tuple[str, str]:
    return table, " ".join(name.split()).casefold()


def _iso_day(text: Any) -> str | None:
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def origin_day(origin: str) -> str | None:
    """`20250629d` -> `2025-06-29`; None when the origin does not start with a real date."""
    m = _ORIGIN_DATE.match(origin)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return None


def _sidecar(path: Path) -> dict[str, Any]:
    """The sidecar as plain data; {} when it is missing or unreadable (an imported page has none)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _entry(scan_id: str, scan: Scan, sidecar: dict[str, Any], stamp: str) -> ScanEntry:
    prov = sidecar.get("provenance")
    prov = prov if isinstance(prov, dict) else {}
    day = (
        _iso_day(prov.get("issue_date"))
        or origin_day(scan.origin)
        or _iso_day(prov.get("article_date"))
        or _iso_day(prov.get("fetched_at"))
        or _iso_day(prov.get("created_at"))
    )
    evidence: dict[tuple[str, str], list[str]] = {}
    items = prov.get("evidence")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("row") is not None:
            continue  # a row whose quote was not found is not in the scan
        table, name, quote = item.get("table"), item.get("name"), item.get("quote")
        if isinstance(table, str) and isinstance(name, str) and isinstance(quote, str) and quote.strip():
            evidence.setdefault(row_key(table, name), []).append(quote)
    source = prov.get("source")
    return ScanEntry(
        id=scan_id,
        scan=scan,
        date=day,
        source=source if isinstance(source, str) and source else None,
        evidence=evidence,
        stamp=stamp,
    )


def _stat(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, -1)
    return (st.st_mtime_ns, st.st_size)


def _read(page: Path) -> tuple[str, tuple[Any, ScanEntry] | str]:
    """One page and its sidecar: (file name, (cache key, entry)), or (file name, why it cannot be read)."""
    sidecar_path = page.with_suffix(".json")
    key = (_stat(page), _stat(sidecar_path))
    try:
        scan = parse(page.read_text(encoding="utf-8"))
    except (ScanFormatError, OSError, UnicodeDecodeError) as exc:
        return page.name, str(exc)
    return page.name, (key, _entry(page.name[:-3], scan, _sidecar(sidecar_path), repr(key)))


def load_scans(out: Path, cache_path: Path | None = None) -> Loaded:
    """Every scan page of `out`, newest issue first; unchanged pages come from the cache."""
    cache: dict[str, tuple[Any, ScanEntry]] = {}
    if cache_path is not None and cache_path.is_file():
        with contextlib.suppress(Exception):  # an old or damaged cache is only a slower build
            version, stored = pickle.loads(cache_path.read_bytes())
            if version == _CACHE_VERSION and isinstance(stored, dict):
                cache = stored
    fresh: dict[str, tuple[Any, ScanEntry]] = {}
    skipped: list[tuple[str, str]] = []
    todo: list[Path] = []
    for page in sorted(out.glob("*.md")) if out.is_dir() else []:
        if not _ID_PAGE.fullmatch(page.name):
            continue  # index.md and anything else that is not a scan
        hit = cache.get(page.name[:-3])
        if hit is not None and hit[0] == (_stat(page), _stat(page.with_suffix(".json"))):
            fresh[page.name[:-3]] = hit
        else:
            todo.append(page)
    parsed = 0
    for name, result in map(_read, todo):  # worker processes were tried: sending parsed scans back cost more
        if isinstance(result, str):
            skipped.append((name, result))
        else:
            parsed += 1
            fresh[name[:-3]] = result
    if cache_path is not None and (parsed or len(fresh) != len(cache)):
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(cache_path, pickle.dumps((_CACHE_VERSION, fresh), protocol=pickle.HIGHEST_PROTOCOL))
    entries = [e for _, e in fresh.values()]
    entries.sort(key=lambda e: (e.date or "", e.scan.origin, e.id), reverse=True)
    return Loaded(entries=entries, skipped=skipped, parsed=parsed)
