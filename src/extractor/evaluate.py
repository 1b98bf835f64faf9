"""Scoring generated scans against reference scans, so a prompt or model change can be judged before it ships.

Per scan (paired by file name, i.e. scan id): keyword and theme overlap (Jaccard of case-folded items), table
rows matched one-to-one by name similarity (F1 per table, all tables pooled), summary similarity, and whether
category and type agree.

Per set (every scan of each side, paired or not): the shape of the scans (rows per table, words per field,
relevancy histogram, category mix) and its distance to the reference set's shape, 0 when the shapes agree; a
reference set can be a sample of the archive. Pure functions on `Scan` values; the command reads the files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from statistics import fmean

from rapidfuzz import fuzz

from extractor.models import TABLES, Scan

#: Two row names this similar (rapidfuzz token_set_ratio) name the same thing.
NAME_MATCH = 70.0


@dataclass(frozen=True)
class ScanScore:
    id: str
    keywords: float
    themes: float
    rows_f1: float
    rows_matched: int
    rows_generated: int
    rows_reference: int
    summary: float
    category: bool
    type: bool

    @property
    def overall(self) -> float:
        return fmean([self.keywords, self.themes, self.rows_f1, self.summary])


WORD_FIELDS = ("title", "summary", "name", "description")


@dataclass(frozen=True)
class Shape:
    """What a set of scans looks like, whatever they say: means per scan and shares."""

    scans: int
    rows: dict[str, float]  # mean rows per table
    words: dict[str, float]  # mean words per field (name and description over every table row)
    relevancy: dict[str, float]  # share of signals per relevancy value
    categories: dict[str, float]  # share of scans per category


def shape(scans: Iterable[Scan]) -> Shape:
    items = list(scans)
    n = max(len(items), 1)
    rows = {t: round(sum(len(s.table(t)) for s in items) / n, 2) for t in TABLES}
    texts: dict[str, list[int]] = {f: [] for f in WORD_FIELDS}
    for s in items:
        texts["title"].append(len(s.title.split()))
        texts["summary"].append(len(s.summary.split()))
        for t in TABLES:
            for r in s.table(t):
                texts["name"].append(len(r.name.split()))
                texts["description"].append(len(r.description.split()))
    words = {f: round(fmean(v), 2) if v else 0.0 for f, v in texts.items()}
    rel = Counter(str(r.relevancy) for s in items for r in s.signals if r.relevancy is not None)
    cats = Counter(s.category or "none" for s in items)
    return Shape(len(items), rows, words, _shares(rel), _shares(cats))


def _shares(counts: Counter[str]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: round(v / total, 3) for k, v in sorted(counts.items())} if total else {}


def _relative(g: dict[str, float], r: dict[str, float]) -> float:
    """Mean relative difference of the means, each capped at 1."""
    keys = sorted(set(g) | set(r))
    return round(fmean(min(abs(g.get(k, 0.0) - r.get(k, 0.0)) / max(r.get(k, 0.0), 1.0), 1.0) for k in keys), 4)


def _variation(g: dict[str, float], r: dict[str, float]) -> float:
    """Total variation distance between two shares: 0 the same, 1 disjoint."""
    keys = set(g) | set(r)
    return round(0.5 * sum(abs(g.get(k, 0.0) - r.get(k, 0.0)) for k in keys), 4) if keys else 0.0


def shape_distance(generated: Shape, reference: Shape) -> dict[str, float]:
    """Per part and overall (their mean), each between 0 (same shape) and 1."""
    parts = {
        "rows": _relative(generated.rows, reference.rows),
        "words": _relative(generated.words, reference.words),
        "relevancy": _variation(generated.relevancy, reference.relevancy),
        "categories": _variation(generated.categories, reference.categories),
    }
    parts["overall"] = round(fmean(parts.values()), 4)
    return parts


@dataclass
class Report:
    scores: list[ScanScore] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # reference scans with no generated scan
    extra: list[str] = field(default_factory=list)  # generated scans with no reference
    generated_shape: Shape | None = None
    reference_shape: Shape | None = None

    @property
    def shape_distance(self) -> dict[str, float]:
        if self.generated_shape is None or self.reference_shape is None:
            return {}
        return shape_distance(self.generated_shape, self.reference_shape)

    def means(self) -> dict[str, float]:
        if not self.scores:
            return {}
        keys = ("keywords", "themes", "rows_f1", "summary")
        out = {k: round(fmean(getattr(s, k) for s in self.scores), 4) for k in keys}
        out["category"] = round(fmean(float(s.category) for s in self.scores), 4)
        out["type"] = round(fmean(float(s.type) for s in self.scores), 4)
        out["overall"] = round(fmean(s.overall for s in self.scores), 4)
        # A missing scan scores zero: a model that answers less must not look better.
        total = len(self.scores) + len(self.missing)
        out["coverage"] = round(len(self.scores) / total, 4) if total else 0.0
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "means": self.means(),
            "scans": [{**asdict(s), "overall": round(s.overall, 4)} for s in self.scores],
            "missing": self.missing,
            "extra": self.extra,
            "shape": {
                "generated": asdict(self.generated_shape) if self.generated_shape else None,
                "reference": asdict(self.reference_shape) if self.reference_shape else None,
                "distance": self.shape_distance,
            },
        }


def _norm(items: list[str]) -> set[str]:
    return {" ".join(i.split()).casefold() for i in items if i.strip()}


def jaccard(a: list[str], b: list[str]) -> float:
    x, y = _norm(a), _norm(b)
    if not x and not y:
        return 1.0
    return len(x & y) / len(x | y)


def match_rows(generated: list[str], reference: list[str]) -> int:
    """How many rows pair up one-to-one by name similarity (best pairs first)."""
    pairs = sorted(
        ((fuzz.token_set_ratio(g.casefold(), r.casefold()), i, j)
         for i, g in enumerate(generated) for j, r in enumerate(reference)),
        reverse=True,
    )  # fmt: skip
    used_g: set[int] = set()
    used_r: set[int] = set()
    for score, i, j in pairs:
        if score < NAME_MATCH:
            break
        if i not in used_g and j not in used_r:
            used_g.add(i)
            used_r.add(j)
    return len(used_g)


def score(generated: Scan, reference: Scan, key: str | None = None) -> ScanScore:
    """`key` names the pair in reports (the file stem); default the scan id."""
    matched = n_gen = n_ref = 0
    for table in TABLES:
        g = [r.name for r in generated.table(table)]
        r = [r.name for r in reference.table(table)]
        matched += match_rows(g, r)
        n_gen += len(g)
        n_ref += len(r)
    precision = matched / n_gen if n_gen else 0.0
    recall = matched / n_ref if n_ref else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else float(n_gen == n_ref == 0)
    return ScanScore(
        id=key or reference.id,
        keywords=round(jaccard(generated.keywords, reference.keywords), 4),
        themes=round(jaccard(generated.themes, reference.themes), 4),
        rows_f1=round(f1, 4),
        rows_matched=matched,
        rows_generated=n_gen,
        rows_reference=n_ref,
        summary=round(fuzz.token_sort_ratio(generated.summary.casefold(), reference.summary.casefold()) / 100, 4),
        category=generated.category == reference.category,
        type=generated.type == reference.type,
    )


def evaluate(generated: dict[str, Scan], reference: dict[str, Scan]) -> Report:
    """Both maps are keyed by file stem (the scan id)."""
    report = Report()
    for key in sorted(reference):
        if key in generated:
            report.scores.append(score(generated[key], reference[key], key))
        else:
            report.missing.append(key)
    report.extra = sorted(set(generated) - set(reference))
    report.generated_shape = shape(generated.values())
    report.reference_shape = shape(reference.values())
    return report
