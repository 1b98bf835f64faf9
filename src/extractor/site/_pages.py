"""Every page of the site as markdown source for mkdocs: front matter plus an HTML body. Pure: no I/O.

Bodies are HTML rendered with Jinja2 autoescaping, not markdown: model text then shows as text whatever it holds
(a `<script>` title, a `[link](javascript:…)`), and Python-Markdown passes a raw HTML block through without
re-parsing it, which keeps a 3,000-scan build fast. Links between pages are relative `.html` paths, so the site
works from any folder or sub-path.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from extractor.models import CATEGORIES, ENTRY_TABLES
from extractor.render import default_sections
from extractor.site import _charts
from extractor.site._data import STATUSES, TAG_KINDS, Archive, Memory, build_archive, fold, keyword_trends, per_month
from extractor.site._load import ScanEntry
from extractor.site._search import shards

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SIGNAL_COLUMNS = (
    ("name", "Name"),
    ("description", "Description"),
    ("change", "Change"),
    ("ten_year", "10-year"),
    ("driving_force", "Driving force"),
    ("relevancy", "Relevancy"),
)
_ENTRY_COLUMNS = (("name", "Name"), ("description", "Description"), ("relevancy", "Relevancy"))
_LATEST_ISSUES = 10
_TOP_RECURRING = 10

_env = Environment(
    loader=PackageLoader("extractor.site", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=StrictUndefined,
)


def safe_url(url: str | None) -> bool:
    """Only web links become links: a `javascript:` or `data:` url from a page stays text."""
    return bool(url) and re.match(r"https?://", url or "", re.IGNORECASE) is not None


def _title_meta(text: str) -> str:
    """A page title as front matter: HTML-escaped (the theme prints it raw into <title>) and pure ASCII, with
    character references for the rest, so any text is valid YAML."""
    text = _CONTROL.sub(" ", text)
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    ascii_only = "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in escaped)
    return json.dumps(ascii_only)


def _page(title: str, body: str, *, hide_toc: bool = True) -> str:
    # The body reaches the page through the build's hook, not through Python-Markdown (see `_hook`).
    hide = "hide:\n  - toc\n" if hide_toc else ""
    return f"---\ntitle: {_title_meta(title)}\n{hide}---\n\n{body}\n"


class _Renderer:
    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def render(self, template: str, path: str, title: str, *, hide_toc: bool = True, **context: Any) -> str:
        prefix = "../" * path.count("/")  # every target is docs-relative

        def u(target: str) -> str:
            return prefix + (target[:-3] + ".html" if target.endswith(".md") else target)

        body = _env.get_template(template).render(
            archive=self.archive, u=u, safe_url=safe_url, fold=fold, **context
        )
        return _page(title, body, hide_toc=hide_toc)


def _tables(e: ScanEntry) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    s = e.scan
    for name in ("signals", *ENTRY_TABLES):
        rows = [r.model_dump() for r in s.table(name)]
        spec = _SIGNAL_COLUMNS if name == "signals" else _ENTRY_COLUMNS
        # Show the columns that hold something: 2023 signals have no description, 2025 entries no relevancy.
        columns = [c for c in spec if c[0] == "name" or any(r.get(c[0]) not in (None, "") for r in rows)]
        out[name.capitalize()] = {"name": name, "rows": rows, "columns": columns}
    return out


def _scan_page(r: _Renderer, e: ScanEntry, memories_of: dict[str, list[Memory]]) -> str:
    a = r.archive
    related = [(a.by_id[i], score) for i, score in a.related.get(e.id, []) if i in a.by_id]
    sections = e.scan.layout.sections or default_sections(e.scan)
    path = f"scans/{e.id}.md"
    return r.render(
        "scan.html", path, e.scan.title or "(untitled)",
        e=e, s=e.scan, sections=sections, tables=_tables(e), related=related, memories=memories_of.get(e.id, []),
    )


def _signals_data(a: Archive) -> str:
    """The explorer's data as a script (works from file:// where fetch() does not), compact arrays."""
    index = {e.id: n for n, e in enumerate(a.entries)}
    scans = [[e.id, e.scan.title, e.scan.origin, e.date or "", e.scan.category or ""] for e in a.entries]
    rows = [[r.name, index[r.scan_id], r.relevancy, r.status or ""] for r in a.signals]
    data = json.dumps({"scans": scans, "rows": rows}, ensure_ascii=False, separators=(",", ":"))
    # "</" inside a string must not close a <script>; the file is loaded by src, but stay safe if inlined.
    return "window.XS_SIGNALS=" + data.replace("</", "<\\/") + ";\n"


def _month_series(months: list[str], counts: dict[str, Counter[str]]) -> dict[str, list[int]]:
    totals: Counter[str] = Counter()
    for c in counts.values():
        totals.update(c)
    # A fixed order (the category list first) gives each category the same colour in every chart.
    names = sorted(totals, key=lambda n: (CATEGORIES.index(n) if n in CATEGORIES else len(CATEGORIES), n))
    return {n: [counts.get(m, Counter())[n] for m in months] for n in names}


def _memory_months(a: Archive, m: Memory, months: list[str]) -> list[int]:
    """A recurring signal's occurrences per month (the occurrence's date, else its scan's)."""
    per: Counter[str] = Counter()
    for o in m.occurrences:
        day = o.get("date") or (a.by_id[o["scan_id"]].date if o["scan_id"] in a.by_id else None)
        if isinstance(day, str) and len(day) >= 7:
            per[day[:7]] += 1
    return [per[mo] for mo in months]


def _code_version() -> str:
    """Changes when the site's code or templates change, so that every page is rendered again."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*here.glob("*.py"), *(here / "templates").glob("*.html")]):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


_CODE = _code_version()


def _key(*parts: Any) -> str:
    return hashlib.sha256(repr((_CODE, *parts)).encode("utf-8")).hexdigest()


def _brief(e: ScanEntry) -> tuple[str, str, str | None, str | None]:
    return (e.id, e.scan.title, e.date, e.scan.category)


@dataclass
class Rendered:
    #: Docs-relative path -> file text; None for a page whose inputs did not change (its file stays as it is).
    pages: dict[str, str | None]
    #: Docs-relative path -> fingerprint of the page's inputs, for the next build.
    keys: dict[str, str]


def render_site(
    entries: list[ScanEntry], snapshot: dict[str, Any] | None, previous: dict[str, str] | None = None
) -> Rendered:
    """Every page and generated asset of the site. A per-scan, per-issue, per-tag or per-signal page whose
    fingerprint equals `previous[path]` is not rendered again (the aggregate pages always are: they are few)."""
    a = build_archive(entries, snapshot)
    r = _Renderer(a)
    out = Rendered({}, {})
    previous = previous or {}

    def page(path: str, key: str, render: Callable[[], str]) -> None:
        out.keys[path] = key
        out.pages[path] = None if previous.get(path) == key else render()

    memories_of: dict[str, list[Memory]] = {}
    for m in a.memories:
        for o in m.occurrences:
            if m not in memories_of.setdefault(o["scan_id"], []):
                memories_of[o["scan_id"]].append(m)
    for e in entries:
        s = e.scan
        tag_paths = [t.path if t else None for t in (
            *(a.tag("keyword", k) for k in s.keywords), *(a.tag("theme", k) for k in s.themes),
            a.tag("category", s.category or ""), a.tag("type", s.type or ""),
        )]
        related = [(i, a.by_id[i].scan.title, a.by_id[i].date, sc) for i, sc in a.related.get(e.id, []) if i in a.by_id]
        mems = [(m.path, m.name, m.status, m.count) for m in memories_of.get(e.id, [])]
        page(f"scans/{e.id}.md", _key(e.stamp, tag_paths, related, mems), functools.partial(_scan_page, r, e, memories_of))
    for origin, members in a.issues.items():
        path = a.issue_path(origin)
        page(path, _key(origin, members[0].scan.origin_url, [_brief(e) for e in members]), functools.partial(
            r.render, "issue.html", path, f"Issue {origin or '(no origin)'}",
            origin=origin, day=members[0].date, entries=members, origin_url=members[0].scan.origin_url,
        ))
    for tag in a.tags.values():
        if tag.path:
            members = [a.by_id[i] for i in tag.scan_ids]
            page(tag.path, _key(tag.kind, tag.label, [_brief(e) for e in members]), functools.partial(
                r.render, "tag.html", tag.path, f"{tag.kind.capitalize()}: {tag.label}",
                kind=tag.kind, tag=tag, entries=members,
            ))
    months = a.months()
    for m in a.memories:
        occurrences = [(o, a.by_id[o["scan_id"]]) for o in m.occurrences if o["scan_id"] in a.by_id]

        def timeline(m: Memory = m, occurrences: list[tuple[dict[str, Any], ScanEntry]] = occurrences) -> str:
            # The signal's own span, two months either side: the archive's whole span would flatten it to a line.
            counts = _memory_months(a, m, months)
            seen = [i for i, n in enumerate(counts) if n]
            lo, hi = (max(0, seen[0] - 2), seen[-1] + 3) if seen else (0, len(months))
            chart = _charts.stacked_bars(
                f"{m.name}: occurrences per month", months[lo:hi], {"occurrences": counts[lo:hi]}
            )
            return r.render("timeline.html", m.path, f"Signal: {m.name}", m=m, occurrences=occurrences, chart=chart)

        page(m.path, _key(repr(m), months, [_brief(e) for _, e in occurrences]), timeline)
    pages = out.pages

    groups = []
    for kind, label in zip(TAG_KINDS, ("Categories", "Types", "Themes", "Keywords"), strict=True):
        tags = sorted((t for t in a.tags.values() if t.kind == kind), key=lambda t: (-len(t.scan_ids), fold(t.label)))
        groups.append((kind, label, tags))
    pages["tags.md"] = r.render("tags.html", "tags.md", "Tags", groups=groups)
    pages["issues.md"] = r.render("issues.html", "issues.md", "Issues")
    categories = sorted({e.scan.category for e in entries if e.scan.category})
    pages["signals.md"] = r.render(
        "signals.html", "signals.md", "Signals explorer",
        total=len(a.signals), categories=categories, statuses=STATUSES, has_memory=a.has_memory,
    )
    pages["assets/signals-data.js"] = _signals_data(a)
    scans_chart = _charts.stacked_bars("Scans per month by category", months, _month_series(months, per_month(a, "category")))
    pages["charts.md"] = r.render(
        "charts.html", "charts.md", "Charts",
        scans_chart=scans_chart,
        signals_chart=_charts.stacked_bars(
            "Signals per month by category", months, _month_series(months, per_month(a, "category", signals=True))
        ),
        recurring_chart=_charts.matrix(
            "Top recurring signals over time", months,
            {m.name: _memory_months(a, m, months) for m in a.memories[:_TOP_RECURRING]},
        ),
        recurring=a.memories[:_TOP_RECURRING],
        keywords_chart=_charts.lines("Keyword trends: scans per month", *keyword_trends(a)),
    )
    pages["search.md"] = r.render("search.html", "search.md", "Search", shards=list(shards(entries)))
    pages["index.md"] = _home(r, a, months, scans_chart)
    return out


def _home(r: _Renderer, a: Archive, months: list[str], chart: str) -> str:
    month = months[-1] if months else None

    def in_month(day: str | None) -> bool:
        return bool(month and day and day.startswith(month))

    this_month = [m for m in a.all_memories if in_month(m.last_seen)]
    new = [m for m in this_month if m.status == "new"][:15]
    recurring = [m for m in this_month if m.status != "new" and m.count >= 2][:15]
    month_rows = [(row, a.by_id[row.scan_id]) for row in a.signals if in_month(a.by_id[row.scan_id].date)]
    month_rows.sort(key=lambda x: -(x[0].relevancy or 0))

    def m_first(m: Memory) -> list[tuple[dict[str, Any], ScanEntry]]:
        return [(o, a.by_id[o["scan_id"]]) for o in m.occurrences[:1] if o["scan_id"] in a.by_id]

    return r.render(
        "home.html", "index.md", "Horizon scans",
        months=months, month=month, new=new, recurring=recurring, month_rows=month_rows[:15],
        latest=list(a.issues.items())[:_LATEST_ISSUES], chart=chart, m_first=m_first,
    )
