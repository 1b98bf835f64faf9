"""Scan -> markdown page, byte for byte. Pure: no I/O.

A page is a sequence of blocks (the header line, the link line, each section's heading and its body) separated
by blank lines. The 2025 spacing is one blank line everywhere except three after the link line; a page read
from an archive may carry other spacing, section orders and column sets in its `Layout`, which are honoured.
"""

from __future__ import annotations

import re

from extractor._tables import clean_text, format_table
from extractor.models import Entry, Scan, Signal

ORDER_2025 = (
    "Keywords",
    "Themes",
    "Other",
    "Summary",
    "Signals",
    "Concerns",
    "Behaviors",
    "Technologies",
    "Issues",
)
ORDER_2023 = ("Summary", "Keywords", "Themes", "Signals", "Closest")
TABLE_OF_SECTION = {
    "Signals": "signals",
    "Concerns": "concerns",
    "Behaviors": "behaviors",
    "Technologies": "technologies",
    "Issues": "issues",
}
SIGNAL_COLUMNS = ["name", "description", "change", "10-year", "driving-force", "relevancy"]
ENTRY_COLUMNS = ["name", "description"]
#: Column header -> field, for every layout (2023 Signals use the capitalised names).
FIELD_OF_COLUMN = {
    "name": "name",
    "description": "description",
    "change": "change",
    "10-year": "ten_year",
    "driving-force": "driving_force",
    "relevancy": "relevancy",
    "Signal": "name",
    "Change": "change",
    "10y horizon": "ten_year",
    "Driving force": "driving_force",
}
NUMERIC_COLUMNS = frozenset({"relevancy"})
GAP_AFTER_LINK = 3
_SUMMARY_ESCAPE = re.compile(r"^(\\*)## ", re.MULTILINE)


def default_columns(table: str) -> list[str]:
    return SIGNAL_COLUMNS if table == "signals" else ENTRY_COLUMNS


def default_sections(scan: Scan) -> list[str]:
    """The 2025 order; a table whose list is empty is left out with its heading."""
    sections = [s for s in ORDER_2025 if s not in TABLE_OF_SECTION or scan.table(TABLE_OF_SECTION[s])]
    if scan.closest:
        sections.append("Closest")
    return sections


def header_line(scan: Scan) -> str:
    title, origin = clean_text(scan.title), clean_text(scan.origin)
    if scan.layout.header == "from":
        return f"# __{title}__, from ([{origin}]({clean_text(scan.origin_url)}).)"
    return f"# __{title}__, (from page [{origin}]({clean_text(scan.origin_url)}).)"


def link_line(scan: Scan) -> str:
    return f"__[External link]({clean_text(scan.url)})__"


def escape_summary(summary: str) -> str:
    """A summary line that starts with `## ` would read back as a heading: one more backslash before it. Other
    text is left alone, so old summaries that start with `#hashtags` keep their bytes."""
    return _SUMMARY_ESCAPE.sub(lambda m: m.group(1) + "\\## ", summary)


def table_lines(scan: Scan, table: str) -> list[str]:
    rows: list[Signal] | list[Entry] = scan.table(table)
    columns = scan.layout.columns.get(table, default_columns(table))
    if not rows and table not in scan.layout.columns:
        return []
    cells = [[getattr(row, FIELD_OF_COLUMN[c]) for c in columns] for row in rows]
    numeric = [c in NUMERIC_COLUMNS for c in columns]
    return format_table(columns, cells, numeric, scan.layout.widths.get(table), scan.layout.measure)


def section_body(scan: Scan, section: str) -> list[str]:
    if section in scan.layout.raw:
        return list(scan.layout.raw[section].lines)
    if section in TABLE_OF_SECTION:
        return table_lines(scan, TABLE_OF_SECTION[section])
    if section == "Keywords":
        return [f"* {clean_text(k)}" for k in scan.keywords]
    if section == "Themes":
        return [f"* {clean_text(t)}" for t in scan.themes]
    if section == "Other":
        lines = []
        if scan.category is not None:
            lines.append(f"* Category: {clean_text(scan.category)}")
        if scan.type is not None:
            lines.append(f"* Type: {clean_text(scan.type)}")
        return lines
    if section == "Summary":
        return escape_summary(scan.summary).split("\n") if scan.summary else []
    if section == "Closest":
        return [f"* [{clean_text(r.title)}]({clean_text(r.target)})" for r in scan.closest]
    raise ValueError(f"unknown section {section!r}")


def blocks(scan: Scan) -> list[list[str]]:
    """The page's blocks in order; blank lines go between them."""
    out = [[header_line(scan)], [link_line(scan)]] if scan.layout.link else [[header_line(scan)]]
    for section in scan.layout.sections or default_sections(scan):
        out.append([f"## {section}"])
        body = section_body(scan, section)
        if body:
            out.append(body)
    return out


def default_gaps(count: int) -> list[int]:
    """Blank lines between `count` blocks: one, but three after the link line."""
    return [GAP_AFTER_LINK if i == 1 else 1 for i in range(count - 1)]


def render(scan: Scan) -> str:
    """The markdown page of `scan`. The 2025 format ends with no newline after the last line."""
    parts = blocks(scan)
    layout = scan.layout
    gaps = layout.gaps if layout.gaps is not None and len(layout.gaps) == len(parts) - 1 else None
    gaps = gaps or default_gaps(len(parts))
    lines: list[str] = list(parts[0])
    for gap, block in zip(gaps, parts[1:], strict=True):
        lines.extend([""] * gap)
        lines.extend(block)
    text = layout.newline.join(lines) + layout.tail
    return ("\ufeff" + text) if layout.bom else text
