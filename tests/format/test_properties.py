"""render -> parse -> render is stable on generated scans, hostile strings included, and parsing gives back
the scan that was rendered."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractor.models import CATEGORIES, TYPES, Entry, Scan, Signal
from extractor.parse import parse
from extractor.render import render

# Any character but surrogates, and often the ones that break tables and pages.
HOSTILE = st.sampled_from(
    [
        "|",
        "\\",
        "\\|",
        "\n",
        "\r\n",
        "## ",
        "# ",
        "* ",
        "__",
        "](",
        ")",
        "`",
        "\t",
        "\x1b[31m",
        "\u0301",
        "😀",
        "表",
        " ",
    ]
)
TEXT = st.lists(st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12), HOSTILE), max_size=6).map(
    "".join
)
NAME = TEXT.filter(lambda s: "".join(s.split()) != "")
RELEVANCY = st.integers(min_value=0, max_value=5)


def distinct(rows: list, key=lambda r: " ".join(r.name.split()).casefold()) -> list:  # type: ignore[no-untyped-def]
    seen, out = set(), []
    for row in rows:
        if key(row) not in seen:
            seen.add(key(row))
            out.append(row)
    return out


def _signal(draw: st.DrawFn) -> Signal | None:
    try:
        return Signal(
            name=draw(NAME),
            description=draw(TEXT),
            change=draw(TEXT),
            ten_year=draw(TEXT),
            driving_force=draw(TEXT),
            relevancy=draw(RELEVANCY),
        )
    except ValueError:
        return None


@st.composite
def scans(draw: st.DrawFn) -> Scan:
    signals = distinct([s for s in (_signal(draw) for _ in range(draw(st.integers(0, 4)))) if s is not None])
    tables = {}
    for table in ("concerns", "behaviors", "technologies", "issues"):
        rows = []
        for _ in range(draw(st.integers(0, 3))):
            with contextlib.suppress(ValueError):
                rows.append(Entry(name=draw(NAME), description=draw(TEXT)))
        tables[table] = distinct(rows)
    origin = draw(st.from_regex(r"20[0-9]{6}[a-e]?", fullmatch=True))
    return Scan(
        title=draw(TEXT),
        origin=origin,
        origin_url=f"https://kghosh.substack.com/p/{origin}",
        url="https://example.org/" + draw(TEXT),
        keywords=draw(st.lists(TEXT, max_size=5)),
        themes=draw(st.lists(TEXT, max_size=5)),
        category=draw(st.none() | st.sampled_from(CATEGORIES)),
        type=draw(st.none() | st.sampled_from(TYPES)),
        summary=draw(TEXT),
        signals=signals,
        **tables,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scans())
def test_render_parse_render_is_stable(scan: Scan) -> None:
    page = render(scan)
    back = parse(page)
    assert render(back) == page
    assert back.model_dump(exclude={"layout"}) == scan.model_dump(exclude={"layout"})
    assert back.layout.is_default()


@settings(max_examples=200, deadline=None)
@given(scans())
def test_no_cell_changes_a_tables_shape(scan: Scan) -> None:
    page = render(scan)
    for block in page.split("\n## ")[1:]:
        rows = [line for line in block.split("\n") if line.startswith("|")]
        if rows:
            widths = {len(line) for line in rows} if scan.layout.measure == "chars" else None
            assert len(widths or {0}) == 1, "every line of a table has the same length"


LAYOUTS = st.fixed_dictionaries(
    {
        "header": st.sampled_from(["page", "from"]),
        "order": st.sampled_from(["2025", "2023"]),
        "relevancy_everywhere": st.booleans(),
        "measure": st.sampled_from(["chars", "display"]),
    }
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scans(), LAYOUTS)
def test_old_layouts_are_stable_too(scan: Scan, options: dict) -> None:  # type: ignore[type-arg]
    """Pages in the 2023 and 2024 layouts, and pages padded in terminal cells, read back to the same page."""
    from extractor.models import Layout
    from extractor.render import ENTRY_COLUMNS, ORDER_2023, default_sections

    columns: dict[str, list[str]] = {}
    if options["order"] == "2023":
        sections = list(ORDER_2023)
        columns["signals"] = ["Signal", "Change", "10y horizon", "Driving force"]
    else:
        sections = default_sections(scan)
    if options["relevancy_everywhere"]:
        columns.update({t: [*ENTRY_COLUMNS, "relevancy"] for t in ("concerns", "behaviors", "technologies", "issues")})
    layout = Layout(header=options["header"], sections=sections, columns=columns, measure=options["measure"])
    page = render(scan.model_copy(update={"layout": layout}))
    back = parse(page)
    assert render(back) == page
    assert back.title == scan.title and back.keywords == scan.keywords
    if options["order"] == "2023":
        assert [s.name for s in back.signals] == [s.name for s in scan.signals]
