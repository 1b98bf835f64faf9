"""Reading a folder of scans for archive intelligence: what each scan says, its date, and a fingerprint that
tells when it changed. Pages with or without sidecars are read alike; nothing here needs the `intel` extra."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from extractor.errors import ScanFormatError
from extractor.models import ENTRY_TABLES, SIDECAR_SCHEMA
from extractor.output import INDEX_FILE

_ID = re.compile(r"[0-9a-f]{32}")
# An issue id starts with its date: 20250629d, 20221228 (a dashed form is read too).
_ORIGIN_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")


@dataclass(frozen=True)
class SignalRow:
    """One row of a scan's Signals table, as signal memory sees it."""

    position: int  # 1-based, in the table
    name: str
    description: str
    text: str  # what is compared: the name, then the description


@dataclass(frozen=True)
class ScanDoc:
    """What intelligence needs of one scan."""

    id: str
    fingerprint: str  # sha256 of the page and sidecar bytes: a change means the scan must be read again
    origin: str
    date: str | None  # YYYY-MM-DD: the issue's date, from the sidecar or the origin; None when unknown
    host: str  # the article's site, for counting distinct sources
    title: str
    category: str | None
    type: str | None
    keywords: tuple[str, ...]
    themes: tuple[str, ...]
    text: str  # title, summary, keywords, themes and every table row: what "related" compares
    signals: tuple[SignalRow, ...]


def valid_date(text: str | None) -> str | None:
    """`YYYY-MM-DD` when `text` starts with a real date (dashed or not), else None."""
    if not text:
        return None
    match = _ORIGIN_DATE.match(text.strip())
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return None


def scan_ids(out: Path) -> list[str]:
    """Ids of the scans in `out`, sorted: the stem of every page but the index (pages that are not scans are
    skipped when read), and of every sidecar named by 32 hex digits."""
    found = {p.stem for p in out.glob("*.md") if p.name != INDEX_FILE and not p.name.startswith(".")}
    found |= {p.stem for p in out.glob("*.json") if _ID.fullmatch(p.stem)}
    return sorted(found)


def stat_key(out: Path, scan_id: str) -> str:
    """Sizes and modification times of a scan's files: a cheap test for "maybe changed"."""
    parts = []
    for suffix in (".md", ".json"):
        try:
            st = (out / f"{scan_id}{suffix}").stat()
            parts.append(f"{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append("-")
    return "/".join(parts)


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _clean(items: Any) -> tuple[str, ...]:
    # Damaged late-2023 pages split words one character per bullet: such bullets carry no meaning.
    return tuple(" ".join(str(i).split()) for i in items or () if len(str(i).strip()) > 1)


def _from_scan_dict(scan_id: str, fingerprint: str, scan: dict[str, Any], issue_date: str | None) -> ScanDoc:
    origin = str(scan.get("origin") or "")
    url = str(scan.get("url") or "")
    keywords, themes = _clean(scan.get("keywords")), _clean(scan.get("themes"))
    title, summary = str(scan.get("title") or ""), str(scan.get("summary") or "")
    signals: list[SignalRow] = []
    parts = [title, title, summary, " ; ".join(keywords), " ; ".join(themes)]
    for position, row in enumerate(scan.get("signals") or (), 1):
        name, description = str(row.get("name") or ""), str(row.get("description") or "")
        if not name.strip():
            continue
        # The name says what the signal is; the description mostly how it was seen: the name counts thrice.
        signals.append(SignalRow(position, name, description, f"{name}. {name}. {name}. {description}"))
        parts.append(f"{name}. {description}")
    for table in ENTRY_TABLES:
        for row in scan.get(table) or ():
            parts.append(f"{row.get('name') or ''}. {row.get('description') or ''}")
    return ScanDoc(
        id=scan_id,
        fingerprint=fingerprint,
        origin=origin,
        date=valid_date(issue_date) or valid_date(origin),
        host=(urlsplit(url).hostname or "") if url else "",
        title=title,
        category=scan.get("category"),
        type=scan.get("type"),
        keywords=keywords,
        themes=themes,
        text="\n".join(p for p in parts if p.strip()),
        signals=tuple(signals),
    )


def read_scan(out: Path, scan_id: str) -> ScanDoc | None:
    """The scan `scan_id` of `out`, from its sidecar when it has a readable one, else from its page. None when
    neither can be read (gone, or not a scan: `extractor check` is where such files are reported)."""
    page = _read_bytes(out / f"{scan_id}.md")
    side = _read_bytes(out / f"{scan_id}.json")
    fingerprint = hashlib.sha256((page or b"") + b"\0" + (side or b"")).hexdigest()
    if side is not None:
        try:
            data = json.loads(side)
            if isinstance(data, dict) and data.get("schema") == SIDECAR_SCHEMA and isinstance(data.get("scan"), dict):
                prov = data.get("provenance") or {}
                return _from_scan_dict(scan_id, fingerprint, data["scan"], prov.get("issue_date"))
        except (ValueError, TypeError, AttributeError):
            pass
    if page is None:
        return None
    from extractor.parse import parse

    try:
        scan = parse(page.decode("utf-8"))
    except (ScanFormatError, UnicodeDecodeError):
        return None
    return _from_scan_dict(scan_id, fingerprint, scan.model_dump(mode="json"), None)
