"""Pipe tables as the archive holds them: tabulate's `pipe` format, with cells that cannot change the table's shape.

Escaping is a bijection on what the renderer writes: a `|` in a cell becomes `\\|`, and a run of backslashes that
stands right before a `|` is doubled first, so `a\\|b` (backslash, pipe) and `a|b` stay distinct. A backslash
anywhere else is left alone, so old cells holding backslashes keep their bytes.
"""

from __future__ import annotations

import re
import unicodedata

import tabulate as _tabulate

# tabulate measures East Asian wide characters with wcwidth when that package happens to be importable, so
# the same scan would render differently on two machines. The archive was written measuring code points.
_tabulate.WIDE_CHARS_MODE = False

_NEWLINES = re.compile(r"\r\n|\r|\n")
_BACKSLASHES_BEFORE_PIPE = re.compile(r"(\\*)\|")


def clean_text(text: str) -> str:
    """One line of text: newlines folded to spaces, other control characters dropped (tabulate would count
    ANSI escapes as invisible and misalign the table)."""
    text = _NEWLINES.sub(" ", text)
    return "".join(c if c == "\t" or unicodedata.category(c) != "Cc" else "" for c in text)


def escape_cell(text: str) -> str:
    return _BACKSLASHES_BEFORE_PIPE.sub(lambda m: m.group(1) * 2 + "\\|", _NEWLINES.sub(" ", text))


def split_row(line: str) -> list[str] | None:
    """The cells of one table line, unescaped and stripped of padding; None when the line is not a table row."""
    if len(line) < 2 or not (line.startswith("|") and line.endswith("|")):
        return None
    cells: list[str] = []
    current: list[str] = []
    body = line[1:-1]
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            j = i
            while j < len(body) and body[j] == "\\":
                j += 1
            run = j - i
            if j < len(body) and body[j] == "|":
                current.append("\\" * (run // 2))
                if run % 2:  # an escaped pipe, part of the cell
                    current.append("|")
                else:
                    cells.append("".join(current))
                    current = []
                i = j + 1
            else:
                current.append("\\" * run)
                i = j
        elif ch == "|":
            cells.append("".join(current))
            current = []
            i += 1
        else:
            current.append(ch)
            i += 1
    cells.append("".join(current))
    return [c.strip(" ") for c in cells]


def separator_widths(line: str) -> list[int] | None:
    """Column widths read off a `|:---|---:|` line; None when the line is not a separator."""
    if not re.fullmatch(r"\|(:?-+:?\|)+", line):
        return None
    return [len(seg) - 2 for seg in line[1:-1].split("|")]


def _cell(value: str | int | None) -> str:
    return "" if value is None else str(value)


def display_width(text: str) -> int:
    """Terminal cells, as wcwidth counts them: East Asian wide and fullwidth characters take two, combining
    marks and format characters none. Some archive pages were padded this way."""
    width = 0
    for ch in text:
        if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def format_table(
    headers: list[str],
    rows: list[list[str | int | None]],
    numeric: list[bool],
    widths: list[int] | None = None,
    measure: str = "chars",
) -> list[str]:
    """The table's lines. Text cells stay text (no number parsing); numeric columns are right-aligned.

    `measure` is how a cell's width is counted: `chars` (code points, as tabulate does without wcwidth) or
    `display` (terminal cells). With `widths`, columns are padded to those widths instead of the widest cell's."""
    headers = [escape_cell(h) for h in headers]
    text_rows = [[escape_cell(_cell(v)).strip() for v in row] for row in rows]
    if widths is None and rows and measure == "chars":
        table = _tabulate.tabulate(
            text_rows,
            headers=headers,
            tablefmt="pipe",
            disable_numparse=True,
            colalign=["right" if n else "left" for n in numeric],
        )
        return table.split("\n")
    width = display_width if measure == "display" else len
    if widths is None:  # tabulate pads headers by two, and drops the alignment of a table with no rows
        widths = [max([width(h) + 2, *(width(r[i]) for r in text_rows)]) for i, h in enumerate(headers)]

    def pad(cell: str, w: int, right: bool) -> str:
        fill = " " * max(0, w - width(cell))
        return fill + cell if right else cell + fill

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(pad(c, w, n) for c, w, n in zip(cells, widths, numeric, strict=True)) + " |"

    sep = "|".join(("-" * (w + 1) + ":") if n else (":" + "-" * (w + 1)) for w, n in zip(widths, numeric, strict=True))
    return [line(headers), "|" + sep + "|", *(line(r) for r in text_rows)]
