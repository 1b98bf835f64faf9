"""Signal memory: every Signals row of every scan, in time order, joins the registry entry of the most similar
earlier row (same phenomenon, other words) or starts a new entry.

Rows are visited in a fixed order (issue date, origin, scan id, position in the table), and a row's decision
depends only on the rows before it. So a rerun gives the same registry, and an incremental update replays only
from the first row that changed: what comes before stays exactly as a rebuild would make it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from extractor.intelligence._vectors import similarities
from extractor.settings import ENV_PREFIX

if TYPE_CHECKING:
    from extractor.intelligence._vectors import Matrix

#: A row joins an entry when its similarity to the entry's centroid reaches this (`EXTRACTOR_INTEL_THRESHOLD`;
#: docs/intelligence.md gives recall and precision around it).
MATCH_THRESHOLD = 0.45
#: Earlier rows at least this similar bring their entries in as candidates.
CANDIDATE_THRESHOLD = 0.3
#: Status windows, counted back from the archive's latest issue date.
RECENT_DAYS = 180
STATUSES = ("new", "recurring", "strengthening", "fading")
_UNDATED = "9999-12-31"  # undated rows come after dated ones
_BLOCK = 1024


@dataclass
class Occurrence:
    """One Signals row and the decision made for it."""

    scan_id: str
    position: int
    name: str
    origin: str
    date: str | None
    host: str
    description: str = ""
    signal: str = ""  # the registry entry's id
    similarity: float | None = None  # to the entry's centroid when it joined; None for the row that started it
    matched: str | None = None  # scan id of the entry's row closest to this one
    novelty: float = 1.0  # 1 - the highest similarity to any earlier row of another scan

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.date or _UNDATED, self.origin, self.scan_id, self.position)


def entry_id(scan_id: str, position: int) -> str:
    """An entry is named after the row that started it, so its id survives reruns and updates."""
    return "s" + hashlib.sha1(f"{scan_id}:{position}".encode()).hexdigest()[:11]


class IntelSettings(BaseSettings):
    """`EXTRACTOR_INTEL_THRESHOLD`: how similar a row must be to join an entry (a change rebuilds the store)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX + "INTEL_", extra="ignore")

    threshold: float = Field(default=MATCH_THRESHOLD, gt=0.0, le=1.0)


def assign(
    rows: list[Occurrence],
    vectors: Matrix,
    start: int,
    threshold: float = MATCH_THRESHOLD,
    candidate: float = CANDIDATE_THRESHOLD,
) -> None:
    """Decides rows[start:] in order, given the decisions already made for rows[:start].

    A row is compared with every earlier row of another scan. An entry is a candidate when one of its rows is
    at least `threshold` similar to the row; candidates are scored by the row's similarity to the entry's
    centroid (the mean of its rows so far: a row close to one member only, at the entry's edge, scores lower,
    which stops chains), and the row joins the best entry scoring at least `threshold`, or starts a new one.
    An entry takes one row per scan."""
    import numpy as np

    first_of_scan: dict[int, int] = {}
    s = start
    while s > 0 and rows[s - 1].scan_id == rows[start].scan_id:
        s -= 1
    for i in range(start, len(rows)):
        if i > start and rows[i - 1].scan_id != rows[i].scan_id:
            s = i
        first_of_scan[i] = s
    members: dict[str, list[int]] = {}
    for j in range(start):
        members.setdefault(rows[j].signal, []).append(j)
    for b0 in range(start, len(rows), _BLOCK):
        b1 = min(len(rows), b0 + _BLOCK)
        block = similarities(vectors[b0:b1], vectors[:b1])
        for i in range(b0, b1):
            row = rows[i]
            s = first_of_scan[i]
            earlier = block[i - b0, :i].copy()
            earlier[s:i] = -1.0  # rows of the same scan are different signals by construction
            best = float(earlier.max()) if i > 0 else 0.0
            row.novelty = round(1.0 - max(best, 0.0), 5)
            taken = {rows[j].signal for j in range(s, i)}
            near = np.nonzero(earlier >= candidate)[0]
            scored: list[tuple[float, int, str]] = []
            for sid in {rows[int(j)].signal for j in near} - taken:
                if float(earlier[members[sid]].max()) < threshold:
                    continue  # no row of the entry is itself this close: joining would only follow its drift
                centroid = vectors[members[sid]].sum(axis=0)
                norm = float(np.linalg.norm(centroid))
                score = round(float(vectors[i] @ centroid) / norm, 5) if norm else 0.0
                scored.append((score, members[sid][0], sid))
            scored.sort(key=lambda t: (-t[0], t[1]))
            if scored and scored[0][0] >= threshold:
                score, _, sid = scored[0]
                closest = max(members[sid], key=lambda j: (earlier[j], -j))
                row.signal, row.similarity, row.matched = sid, score, rows[closest].scan_id
            else:
                row.signal, row.similarity, row.matched = entry_id(row.scan_id, row.position), None, None
            members.setdefault(row.signal, []).append(i)


def _days(iso: str) -> date:
    return date.fromisoformat(iso)


def status(dates: list[str | None], latest: str | None) -> str:
    """new: seen once, recently; fading: not seen in the last RECENT_DAYS; strengthening: seen more often in
    the last RECENT_DAYS than in the RECENT_DAYS before (and at least twice); recurring: the rest."""
    known = sorted(d for d in dates if d)
    if not known or latest is None:
        return "new" if len(dates) == 1 else "recurring"
    end = _days(latest)
    recent_from = end - timedelta(days=RECENT_DAYS)
    if _days(known[-1]) <= recent_from:
        return "fading"
    if len(dates) == 1:
        return "new"
    before_from = recent_from - timedelta(days=RECENT_DAYS)
    recent = sum(1 for d in known if _days(d) > recent_from)
    before = sum(1 for d in known if before_from < _days(d) <= recent_from)
    return "strengthening" if recent >= 2 and recent > before else "recurring"


def registry(rows: list[Occurrence], latest: str | None) -> list[dict[str, Any]]:
    """The entries, most often seen first, each with its occurrences in time order."""
    groups: dict[str, list[Occurrence]] = {}
    for row in rows:
        groups.setdefault(row.signal, []).append(row)
    entries: list[dict[str, Any]] = []
    for sid, members in groups.items():
        dates = [m.date for m in members]
        known = sorted(d for d in dates if d)
        entries.append(
            {
                "id": sid,
                "name": members[0].name,
                "count": len(members),
                "first_seen": known[0] if known else None,
                "last_seen": known[-1] if known else None,
                "status": status(dates, latest),
                "novelty": members[0].novelty,
                "sources": len({m.host for m in members if m.host}),
                "issues": len({m.origin for m in members if m.origin}),
                "occurrences": [
                    {
                        "scan_id": m.scan_id,
                        "origin": m.origin,
                        "date": m.date,
                        "name": m.name,
                        "description": m.description,
                        "similarity": m.similarity,
                        "matched": m.matched,
                        "novelty": m.novelty,
                        "position": m.position,
                        "host": m.host,
                    }
                    for m in members
                ],
            }
        )
    entries.sort(key=lambda e: (-e["count"], _desc(e["last_seen"]), e["id"]))
    return entries


def _desc(iso: str | None) -> str:
    # Sort key that puts later dates first (and undated last) in an ascending sort.
    if iso is None:
        return "~"
    return "".join(chr(ord("0") + 9 - int(c)) if c.isdigit() else c for c in iso)
