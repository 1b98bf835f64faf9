"""What the site shows, derived from the scans and the archive intelligence. Pure: no I/O.

The snapshot comes from another part (`extractor.intelligence.snapshot`) and may be missing or partial: every
field is read defensively, and without it the site still lists every weak signal from the scans themselves.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from extractor.site._load import ScanEntry

TAG_KINDS = ("category", "type", "theme", "keyword")
#: Keywords and themes are free text: most appear once. A page of one scan adds nothing to the scan's own page,
#: so those get a page from this many scans up; the others link to a search for the word.
MIN_FREE_TAG_SCANS = 2
STATUSES = ("new", "recurring", "strengthening", "fading")


def fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def slug(text: str) -> str:
    """A file name for any text: ASCII words, then a short hash so that two texts never share one."""
    ascii_words = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_words).strip("-")[:40].strip("-")
    digest = hashlib.md5(fold(text).encode("utf-8")).hexdigest()[:6]
    return f"{words}-{digest}" if words else digest


@dataclass
class Tag:
    kind: str
    label: str  # the first spelling met
    scan_ids: list[str] = field(default_factory=list)
    #: The tag's page, docs-relative; None for a free-text tag too rare to have one. Set once every scan is in.
    path: str | None = None

    def settle(self) -> None:
        rare = self.kind in ("keyword", "theme") and len(self.scan_ids) < MIN_FREE_TAG_SCANS
        self.path = None if rare else f"tags/{self.kind}-{slug(self.label)}.md"


@dataclass(frozen=True)
class SignalRow:
    """One weak-signal row of one scan, as the signals explorer lists it."""

    name: str
    description: str
    relevancy: int | None
    scan_id: str
    status: str | None  # from the signal memory, when it knows this row


@dataclass
class Memory:
    """A recurring signal of the snapshot: the same signal met in several scans."""

    id: str
    name: str
    count: int
    first_seen: str | None
    last_seen: str | None
    status: str
    novelty: float | None
    occurrences: list[dict[str, Any]]

    @property
    def path(self) -> str:
        return f"timelines/{slug(self.id)}.md"


@dataclass
class Archive:
    entries: list[ScanEntry]
    by_id: dict[str, ScanEntry]
    issues: dict[str, list[ScanEntry]]  # origin -> scans, newest issue first
    tags: dict[tuple[str, str], Tag]  # (kind, folded value) -> tag
    signals: list[SignalRow]
    memories: list[Memory]  # recurring signals (count >= 2), most seen first
    all_memories: list[Memory]  # every signal the memory knows, new ones included
    related: dict[str, list[tuple[str, float | None]]]  # scan id -> (related scan id, score)
    trends: dict[str, Any]
    has_memory: bool

    def months(self) -> list[str]:
        found = {e.date[:7] for e in self.entries if e.date}
        if not found:
            return []
        first, last = min(found), max(found)
        out, (y, m) = [], (int(first[:4]), int(first[5:7]))
        while f"{y:04d}-{m:02d}" <= last:
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def tag(self, kind: str, value: str) -> Tag | None:
        return self.tags.get((kind, fold(value)))

    def issue_path(self, origin: str) -> str:
        return f"issues/{slug(origin or 'no-origin')}.md"


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _memories(snapshot: dict[str, Any], known: set[str]) -> list[Memory]:
    found: list[Memory] = []
    signals = snapshot.get("signals")
    for raw in signals if isinstance(signals, list) else []:
        if not isinstance(raw, dict) or not _str(raw.get("id")) or not _str(raw.get("name")):
            continue
        occ = raw.get("occurrences")
        occurrences = [
            o for o in (occ if isinstance(occ, list) else []) if isinstance(o, dict) and o.get("scan_id") in known
        ]
        count = raw.get("count")
        found.append(
            Memory(
                id=str(raw["id"]),
                name=str(raw["name"]),
                count=count if isinstance(count, int) else len(occurrences),
                first_seen=_str(raw.get("first_seen")),
                last_seen=_str(raw.get("last_seen")),
                status=str(raw.get("status")) if raw.get("status") in STATUSES else "new",
                novelty=_float(raw.get("novelty")),
                occurrences=occurrences,
            )
        )
    found.sort(key=lambda m: (-m.count, fold(m.name)))
    return found


def _related(snapshot: dict[str, Any], entries: list[ScanEntry], known: set[str]) -> dict[str, list[tuple[str, float | None]]]:
    related: dict[str, list[tuple[str, float | None]]] = defaultdict(list)
    raw = snapshot.get("related")
    for scan_id, items in (raw.items() if isinstance(raw, dict) else []):
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("scan_id") in known and item.get("scan_id") != scan_id:
                related[str(scan_id)].append((str(item["scan_id"]), _float(item.get("score"))))
    for e in entries:  # the 2023 pages' own `## Closest` list points at scan ids too
        have = {r for r, _ in related[e.id]}
        for c in e.scan.closest:
            target = c.target.removesuffix(".md").rsplit("/", 1)[-1]
            if target in known and target != e.id and target not in have:
                related[e.id].append((target, None))
                have.add(target)
    return dict(related)


def build_archive(entries: list[ScanEntry], snapshot: dict[str, Any] | None) -> Archive:
    """Issues, tags, signal rows, recurring signals and related scans, from the scans (newest first)."""
    snap = snapshot if isinstance(snapshot, dict) else {}
    by_id = {e.id: e for e in entries}
    known = set(by_id)
    issues: dict[str, list[ScanEntry]] = defaultdict(list)
    tags: dict[tuple[str, str], Tag] = {}

    def add_tag(kind: str, value: str | None, scan_id: str) -> None:
        if value is None or not fold(value) or len(fold(value)) <= 1:
            return  # damaged one-character bullets of late-2023 pages are not tags
        tag = tags.setdefault((kind, fold(value)), Tag(kind, " ".join(value.split())))
        if not tag.scan_ids or tag.scan_ids[-1] != scan_id:
            tag.scan_ids.append(scan_id)

    memories = _memories(snap, known)
    status_of: dict[tuple[str, str], str] = {}
    for m in memories:
        for o in m.occurrences:
            status_of[(o["scan_id"], fold(str(o.get("name") or m.name)))] = m.status
    signals: list[SignalRow] = []
    for e in entries:
        s = e.scan
        issues[s.origin].append(e)
        add_tag("category", s.category, e.id)
        add_tag("type", s.type, e.id)
        for t in s.themes:
            add_tag("theme", t, e.id)
        for k in s.keywords:
            add_tag("keyword", k, e.id)
        for row in s.signals:
            status = status_of.get((e.id, fold(row.name)))
            signals.append(SignalRow(row.name, row.description, row.relevancy, e.id, status))
    for tag in tags.values():
        tag.settle()
    ordered = dict(sorted(issues.items(), key=lambda kv: (kv[1][0].date or "", kv[0]), reverse=True))
    trends = snap.get("trends")
    return Archive(
        entries=entries,
        by_id=by_id,
        issues=ordered,
        tags=tags,
        signals=signals,
        memories=[m for m in memories if m.count >= 2],
        all_memories=memories,
        related=_related(snap, entries, known),
        trends=trends if isinstance(trends, dict) else {},
        has_memory=bool(memories),
    )


def per_month(archive: Archive, attribute: str, *, signals: bool = False) -> dict[str, Counter[str]]:
    """month -> value of the scan attribute (category or type) -> scans (or signal rows) that month."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for e in archive.entries:
        if e.date:
            value = getattr(e.scan, attribute) or "(none)"
            out[e.date[:7]][value] += len(e.scan.signals) if signals else 1
    return out


def keyword_trends(archive: Archive, top: int = 6) -> tuple[list[str], dict[str, list[int]]]:
    """The most used keywords and their scans per month: from the snapshot's trends when present."""
    months = archive.months()
    raw = archive.trends.get("keyword")
    counts: dict[str, Counter[str]] = defaultdict(Counter)  # keyword -> month -> n
    labels: dict[str, str] = {}
    if isinstance(raw, dict) and raw:
        for month, values in raw.items():
            for value, n in (values.items() if isinstance(values, dict) else []):
                if isinstance(n, int):
                    counts[fold(str(value))][str(month)] += n
                    labels.setdefault(fold(str(value)), str(value))
    else:
        for e in archive.entries:
            if e.date:
                for k in {fold(k): k for k in e.scan.keywords if len(fold(k)) > 1}.items():
                    counts[k[0]][e.date[:7]] += 1
                    labels.setdefault(k[0], " ".join(k[1].split()))
    best = sorted(counts, key=lambda k: (-sum(counts[k].values()), k))[:top]
    return months, {labels[k]: [counts[k][m] for m in months] for k in best}
