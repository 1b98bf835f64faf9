"""Markdown page -> Scan, for every layout the archive holds. Pure: no I/O.

The parser keeps what it needs to write the page back byte for byte (spacing, section order, column sets,
padding) in the scan's `Layout`, and only what differs from what the renderer would do by default. Text that is
not a scan raises `ScanFormatError` naming the 1-based line.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from extractor._tables import separator_widths, split_row
from extractor.errors import ScanFormatError
from extractor.models import ARCHIVE, Scan
from extractor.render import (
    FIELD_OF_COLUMN,
    NUMERIC_COLUMNS,
    TABLE_OF_SECTION,
    default_columns,
    default_gaps,
    default_sections,
    render,
    table_lines,
)

_HEADER = {
    "page": re.compile(r"# __(?P<title>.*)__, \(from page \[(?P<origin>[^\]]*)\]\((?P<url>.*)\)\.\)"),
    "from": re.compile(r"# __(?P<title>.*)__, from \(\[(?P<origin>[^\]]*)\]\((?P<url>.*)\)\.\)"),
}
_LINK = re.compile(r"__\[External link\]\((?P<url>.*)\)__")
_RELATED = re.compile(r"\* \[(?P<title>.*)\]\((?P<target>[^()]*)\)")
_UNESCAPE_SUMMARY = re.compile(r"^(\\*)\\## ", re.MULTILINE)
_SECTIONS = ("Keywords", "Themes", "Other", "Summary", *TABLE_OF_SECTION, "Closest")


def _split(text: str) -> tuple[list[str], str, str, bool]:
    """Lines, line ending, what follows the last line, and whether a BOM led."""
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    newline = "\r\n" if "\r\n" in text else "\n"
    core = text
    while core.endswith(newline):
        core = core[: -len(newline)]
    return core.split(newline), newline, text[len(core) :], bom


def _blocks(lines: list[str], start: int) -> tuple[list[tuple[int, list[str]]], list[int]]:
    """Non-blank runs from `start` with their first line number (1-based), and the blank counts between them.
    A section body is one block even when blank lines stand inside it."""
    found: list[tuple[int, list[str]]] = []
    gaps: list[int] = []
    i, blank = start, 0
    while i < len(lines):
        if lines[i] == "":
            blank += 1
            i += 1
            continue
        if found:
            gaps.append(blank)
        blank = 0
        if lines[i].startswith("## ") or not found:  # the link line stands alone
            found.append((i + 1, [lines[i]]))
            i += 1
            continue
        j = i
        while j < len(lines) and not lines[j].startswith("## "):
            j += 1
        body = lines[i:j]
        while body and body[-1] == "":
            body.pop()
        found.append((i + 1, body))
        blank = (j - i) - len(body)
        i = j
    return found, gaps


def _bullets(body: list[str], first: int) -> list[str]:
    items = []
    for n, line in enumerate(body, first):
        if not line.startswith("* "):
            raise ScanFormatError(f"expected a bullet '* …', found {line[:60]!r}", n)
        items.append(line[2:])
    return items


def _table(body: list[str], first: int, section: str) -> tuple[list[str], list[dict[str, Any]]]:
    headers = split_row(body[0])
    if headers is None:
        raise ScanFormatError(f"expected the {section} table's header row, found {body[0][:60]!r}", first)
    unknown = [h for h in headers if h not in FIELD_OF_COLUMN]
    if unknown:
        raise ScanFormatError(f"unknown column {unknown[0]!r} in the {section} table", first)
    widths = separator_widths(body[1]) if len(body) > 1 else None
    if widths is None or len(widths) != len(headers):
        raise ScanFormatError(f"expected the {section} table's |---| separator line", first + 1)
    rows: list[dict[str, Any]] = []
    for n, line in enumerate(body[2:], first + 2):
        cells = split_row(line)
        if cells is None or len(cells) != len(headers):
            got = "not a table row" if cells is None else f"{len(cells)} cells, expected {len(headers)}"
            raise ScanFormatError(f"{section} table: {got}", n)
        row: dict[str, Any] = {}
        for header, cell in zip(headers, cells, strict=True):
            if header in NUMERIC_COLUMNS:
                if cell == "":
                    row[FIELD_OF_COLUMN[header]] = None
                    continue
                if not re.fullmatch(r"[+-]?\d+", cell):
                    raise ScanFormatError(f"{section} table: {header} {cell!r} is not an integer", n)
                row[FIELD_OF_COLUMN[header]] = int(cell)
            else:
                row[FIELD_OF_COLUMN[header]] = cell
        rows.append(row)
    return headers, rows


def parse(text: str, *, strict: bool = False) -> Scan:
    """The scan a page holds, with the layout needed to render it back unchanged.

    A page without the header and External link lines is not a scan: `ScanFormatError`. A section whose body
    cannot be read (a stray line among bullets, a table cell that breaks the columns) is kept as found and
    reported by `Scan.problems()`, so an old archive still imports whole; with `strict=True` it raises instead."""
    lines, newline, tail, bom = _split(text)
    data: dict[str, Any] = {}
    layout: dict[str, Any] = {"newline": newline, "tail": tail, "bom": bom}
    for style, pattern in _HEADER.items():
        m = pattern.fullmatch(lines[0])
        if m:
            data.update(title=m["title"], origin=m["origin"], origin_url=m["url"])
            layout["header"] = style
            break
    else:
        raise ScanFormatError("expected the header '# __{title}__, (from page [{origin}](…).)'", 1)

    found, gaps = _blocks(lines, 1)
    if found and found[0][1][0].startswith("## "):  # a page that went straight to its sections
        data["url"], layout["link"], k = "", False, 0
    elif len(found) >= 2 and (m := _LINK.fullmatch(found[0][1][0])):
        data["url"], k = m["url"], 1
    else:
        where = found[0][0] if found else len(lines)
        raise ScanFormatError("expected the line '__[External link]({url})__'", where)
    gaps.insert(0, found[0][0] - 2)  # blank lines between the header and the next block
    sections: list[str] = []
    tables: dict[str, list[str]] = {}  # each table's lines as found
    columns: dict[str, list[str]] = {}
    raw: dict[str, dict[str, Any]] = {}
    while k < len(found):
        n, heading = found[k]
        if not heading[0].startswith("## "):
            raise ScanFormatError(
                f"expected a section heading (## Keywords, ## Summary, …), found {heading[0][:60]!r}", n
            )
        name = heading[0][3:]
        if name in sections:
            raise ScanFormatError(f"section {name} appears twice", n)
        sections.append(name)
        body: list[str] = []
        first = n + 1
        if k + 1 < len(found) and not found[k + 1][1][0].startswith("## "):
            first, body = found[k + 1]
            k += 1
        k += 1
        try:
            _section(name, n, body, first, data, tables, columns)
        except ScanFormatError as exc:
            if strict:
                raise
            raw[name] = {"lines": body, "error": str(exc)}
    layout.update(sections=sections, columns=columns, gaps=gaps, raw=raw)
    try:
        scan = Scan.model_validate({**data, "layout": layout}, context=ARCHIVE)
    except ValidationError as exc:  # only shapes can fail in archive mode
        raise ScanFormatError(f"not a scan: {exc.errors()[0]['msg']}") from exc
    return _minimal_layout(scan, tables)


def _section(
    name: str,
    heading_line: int,
    body: list[str],
    first: int,
    data: dict[str, Any],
    tables: dict[str, list[str]],
    columns: dict[str, list[str]],
) -> None:
    """Reads one section's body into `data`; raises `ScanFormatError` at the line it cannot read."""
    if name not in _SECTIONS:
        raise ScanFormatError(f"unknown section {name!r}", heading_line)
    if name in ("Keywords", "Themes"):
        data[name.lower()] = _bullets(body, first)
    elif name == "Other":
        for i, item in enumerate(_bullets(body, first)):
            key, sep, value = item.partition(": ")
            if not sep or key not in ("Category", "Type"):
                raise ScanFormatError(f"expected '* Category: …' or '* Type: …', found {item[:60]!r}", first + i)
            data[key.lower()] = value
    elif name == "Summary":
        data["summary"] = _UNESCAPE_SUMMARY.sub(lambda m: m.group(1) + "## ", "\n".join(body))
    elif name == "Closest":
        related = []
        for i, line in enumerate(body):
            if not (r := _RELATED.fullmatch(line)):
                raise ScanFormatError(f"expected '* [title](scan id)', found {line[:60]!r}", first + i)
            related.append({"title": r["title"], "target": r["target"]})
        data["closest"] = related
    elif body:
        table = TABLE_OF_SECTION[name]
        headers, rows = _table(body, first, name)
        data[table], tables[table] = rows, body
        if headers != default_columns(table) or not rows:
            columns[table] = headers


def _minimal_layout(scan: Scan, tables: dict[str, list[str]]) -> Scan:
    """Drops what the renderer would do anyway, so a plain 2025 page has the default layout, and finds how the
    page's tables were padded: by code points (tabulate today), by terminal cells (wcwidth), or to widths
    neither explains, kept per table."""
    layout = scan.layout
    if layout.sections == default_sections(scan):
        layout.sections = None
    if layout.gaps == default_gaps(len(layout.gaps or []) + 1):
        layout.gaps = None
    measures = {
        m: scan.model_copy(update={"layout": layout.model_copy(update={"widths": {}, "measure": m})})
        for m in ("chars", "display")
    }
    fits = {m: {t for t, lines in tables.items() if table_lines(v, t) == lines} for m, v in measures.items()}
    layout.measure = "display" if len(fits["display"]) > len(fits["chars"]) else "chars"
    for table, lines in tables.items():
        if table not in fits[layout.measure]:
            observed = separator_widths(lines[1])
            if observed is not None:
                layout.widths[table] = observed
    return scan


__all__ = ["parse", "render"]
