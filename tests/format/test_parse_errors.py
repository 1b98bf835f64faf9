"""Text that is not a scan is refused with a typed error naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.errors import ScanFormatError
from extractor.parse import parse
from extractor.render import render

GOOD = (Path(__file__).resolve().parents[2] / "fixtures/scans/2025-plain.md").read_text(encoding="utf-8")


def broken(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


NOT_A_SCAN = [
    (broken("# __", "# "), None, "header"),
    (broken("__[External link]", "[External link]"), "[External link]", "External link"),
    (broken("## Keywords", "Keywords"), "Keywords", "section heading"),
    (GOOD + "\n\n## Keywords\n\n* again", "## Keywords\n\n* again", "twice"),
]
BAD_SECTION = [
    (broken("## Themes", "## Topics"), "## Topics", "unknown section", "Topics"),
    (broken("* energy transition", "- energy transition"), "- energy transition", "bullet", "Themes"),
    (broken("* Category: infrastructures", "* Kind: infrastructures"), "* Kind", "Category", "Other"),
    (broken("| Municipal energy ownership |", "| Municipal energy ownership | extra |"), "extra |", "cells", "Signals"),
    (broken("|           4 |", "|        four |"), "four", "not an integer", "Signals"),
    (broken("| name ", "| title"), "| title", "unknown column", "Signals"),
]


def expected_line(text: str, needle: str | None) -> int:
    if needle is None:
        return 1
    if "\n" in needle:  # the first line of a multi-line needle
        return text[: text.rindex(needle)].count("\n") + 1
    return line_of(text, needle)


@pytest.mark.parametrize(("text", "needle", "words"), NOT_A_SCAN, ids=["header", "link", "heading", "duplicate"])
def test_not_a_scan_raises_naming_the_line(text: str, needle: str | None, words: str) -> None:
    for strict in (False, True):
        with pytest.raises(ScanFormatError) as caught:
            parse(text, strict=strict)
        line = expected_line(text, needle)
        assert caught.value.line == line
        assert words in str(caught.value)
        assert str(caught.value).startswith(f"line {line}: ")


@pytest.mark.parametrize(
    ("text", "needle", "words", "section"),
    BAD_SECTION,
    ids=["section", "bullet", "other", "cells", "relevancy", "column"],
)
def test_unreadable_section_strict_raises_lenient_keeps_it(text: str, needle: str, words: str, section: str) -> None:
    line = line_of(text, needle)
    with pytest.raises(ScanFormatError) as caught:
        parse(text, strict=True)
    assert caught.value.line == line and words in str(caught.value)

    scan = parse(text)  # an archive still imports whole: the section is kept as found and reported
    assert render(scan) == text
    reported = [p for p in scan.problems() if p.startswith(f"unreadable section {section}")]
    assert reported and f"line {line}:" in reported[0]


def test_not_markdown_at_all() -> None:
    with pytest.raises(ScanFormatError) as caught:
        parse("<html><body>hello</body></html>")
    assert caught.value.line == 1


def test_empty_text() -> None:
    with pytest.raises(ScanFormatError):
        parse("")


def test_a_page_without_the_link_line_still_reads() -> None:
    text = GOOD.replace("__[External link](https://example.org/energy/tidal-batteries)__\n\n", "", 1)
    assert "External link" not in text
    scan = parse(text)
    assert scan.url == "" and scan.layout.link is False
    assert render(scan) == text
    assert scan.keywords[0] == "tidal energy"
