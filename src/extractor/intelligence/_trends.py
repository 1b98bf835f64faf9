"""Trends: how often each category, type, theme and keyword appears per month of issue. Pure counting."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

FIELDS = ("category", "type", "theme", "keyword")
UNDATED = "undated"


@dataclass(frozen=True)
class TrendInput:
    origin: str
    date: str | None
    category: str | None
    type: str | None
    themes: tuple[str, ...]
    keywords: tuple[str, ...]


def _label(value: str) -> str:
    return " ".join(value.split()).casefold()


def _period(doc: TrendInput, by: str) -> str:
    if by == "issue":
        return doc.origin or UNDATED
    return doc.date[:7] if doc.date else UNDATED


def trends(docs: Iterable[TrendInput], by: str = "month") -> dict[str, Any]:
    """`{"months": [...], "category": {month: {value: count}}, "type": ..., "theme": ..., "keyword": ...}`.
    Months are `YYYY-MM`, oldest first; scans without a date count under "undated", listed last. Values are
    folded to lower case with single spaces; within a month they are listed most frequent first. `by="issue"`
    counts per newsletter issue (origin) instead, under the key "issues"."""
    counts: dict[str, dict[str, Counter[str]]] = {f: defaultdict(Counter) for f in FIELDS}
    scans: Counter[str] = Counter()
    for doc in docs:
        month = _period(doc, by)
        scans[month] += 1
        if doc.category:
            counts["category"][month][_label(doc.category)] += 1
        if doc.type:
            counts["type"][month][_label(doc.type)] += 1
        # A value counts once per scan, however often the scan repeats it.
        counts["theme"][month].update({_label(t) for t in doc.themes if t.strip()})
        counts["keyword"][month].update({_label(k) for k in doc.keywords if k.strip()})
    months = sorted(m for m in scans if m != UNDATED) + ([UNDATED] if UNDATED in scans else [])
    result: dict[str, Any] = {"issues" if by == "issue" else "months": months, "scans": {m: scans[m] for m in months}}
    for field in FIELDS:
        result[field] = {
            m: dict(sorted(counts[field][m].items(), key=lambda kv: (-kv[1], kv[0]))) for m in months
        }
    return result


def periods(result: dict[str, Any]) -> list[str]:
    return list(result.get("months", result.get("issues", [])))


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """The trends flattened to (month or issue, field, value, count) rows, for CSV."""
    out: list[tuple[str, str, str, int]] = []
    for field in FIELDS:
        for month in periods(result):
            out.extend((month, field, value, count) for value, count in result[field][month].items())
    return out
