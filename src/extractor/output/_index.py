"""`OUT/index.md`: every scan's title linked by id, grouped by origin, newest first."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from extractor.models import Sidecar
from extractor.output._files import OutputDir, atomic_write

INDEX_FILE = "index.md"
NO_ORIGIN = "(no origin)"


def _title(text: str) -> str:
    # A title is link text: brackets would end it early, newlines would break the bullet.
    return " ".join(text.replace("[", "\\[").replace("]", "\\]").split()) or "(untitled)"


def _when(sidecar: Sidecar) -> str:
    prov = sidecar.provenance
    return prov.created_at or prov.fetched_at or ""


def render_index(sidecars: list[Sidecar]) -> str:
    """The index page. Origins are issue ids that start with their date, so newest first is descending text
    order; within an origin, scans are newest first by creation time, then by title for a stable page."""
    groups: dict[str, list[Sidecar]] = defaultdict(list)
    for sc in sidecars:
        groups[sc.scan.origin].append(sc)
    lines = ["# Scans", "", f"{len(sidecars)} scans from {len(groups)} origins.", ""]
    ordered = sorted((o for o in groups if o), reverse=True) + ([""] if "" in groups else [])
    for origin in ordered:
        members = groups[origin]
        if origin:
            url = members[0].scan.origin_url
            lines.append(f"## [{origin}]({url})" if url else f"## {origin}")
        else:
            lines.append(f"## {NO_ORIGIN}")
        lines.append("")
        members.sort(key=lambda s: _title(s.scan.title).casefold())
        members.sort(key=_when, reverse=True)
        lines.extend(f"* [{_title(s.scan.title)}]({s.id}.md)" for s in members)
        lines.append("")
    return "\n".join(lines)


def pages_without_sidecar(out: Path) -> list[Path]:
    """Scan pages (`{id}.md`) in `out` with no sidecar beside them. The index and the exports read sidecars
    only, so such pages (an archive copied in by hand) are left out until `extractor import` brings them in."""
    return [p for p in sorted(out.glob("*.md"))
            if re.fullmatch(r"[0-9a-f]{32}\.md", p.name) and not p.with_suffix(".json").is_file()]  # fmt: skip


def write_index(out: Path) -> Path:
    """Regenerates `OUT/index.md` from the sidecars in `out`; returns its path."""
    target = out / INDEX_FILE
    atomic_write(target, render_index(OutputDir(out).sidecars()).encode("utf-8"))
    return target
