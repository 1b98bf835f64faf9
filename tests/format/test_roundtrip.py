"""Every fixture scan and the seed parse and render back byte for byte, directly and through the JSON form."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.models import Sidecar
from extractor.parse import parse
from extractor.render import render

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "fixtures" / "seed" / "seed-scan.md"  # a copy of ../shared/format/seed-scan.md
SHARED_SEED = ROOT.parent / "shared" / "format" / "seed-scan.md"
FIXTURES = sorted((ROOT / "fixtures" / "scans").glob("*.md"))


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def test_there_are_fixtures_for_every_layout() -> None:
    names = {p.stem.split("-")[0] for p in FIXTURES}
    assert {"2023", "2024", "2025"} <= names
    assert len(FIXTURES) >= 12


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_round_trips_exactly(path: Path) -> None:
    text = read(path)
    scan = parse(text)
    assert render(scan) == text
    again = Sidecar.from_json(Sidecar.of(scan).to_json()).scan
    assert render(again) == text


@pytest.mark.skipif(not SHARED_SEED.exists(), reason="no shared/ beside this checkout")
def test_our_seed_copy_is_the_shared_reference() -> None:
    assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_seed_renders_exactly_with_the_default_layout() -> None:
    text = read(SEED)
    scan = parse(text)
    assert scan.layout.is_default(), "the 2025 seed must need no layout hints"
    assert render(scan) == text
    assert not text.endswith("\n")
    assert scan.problems() == []
    assert scan.title == "The Vital Role of Relational Labor in an Automated World"
    assert scan.origin == "20250629d"
    assert [s.relevancy for s in scan.signals] == [5, 4, 4, 5, 4]
    assert len(scan.concerns) == 7 and len(scan.issues) == 8


def test_seed_built_from_scratch_renders_exactly() -> None:
    """A scan made by the pipeline (strict, default layout) writes the 2025 page, not only a parsed one."""
    parsed = parse(read(SEED))
    fresh = type(parsed).model_validate(parsed.model_dump(exclude={"layout"}))
    assert render(fresh) == read(SEED)


def test_old_layouts_are_written_back_in_their_own_layout() -> None:
    scan_2023 = parse(read(ROOT / "fixtures/scans/2023-closest.md"))
    assert scan_2023.layout.header == "from"
    assert scan_2023.layout.sections == ["Summary", "Keywords", "Themes", "Signals", "Closest"]
    assert scan_2023.signals[0].ten_year == "Libraries become neighbourhood depots."
    assert len(scan_2023.closest) == 2 and len(scan_2023.closest[0].target) == 32

    scan_2024 = parse(read(ROOT / "fixtures/scans/2024-relevancy-everywhere.md"))
    assert scan_2024.layout.columns["concerns"] == ["name", "description", "relevancy"]
    assert [c.relevancy for c in scan_2024.concerns] == [5, 3]


def test_number_like_text_stays_text_and_left_aligned() -> None:
    text = read(ROOT / "fixtures/scans/2025-numbers.md")
    scan = parse(text)
    assert scan.signals[0].name == "2030"
    assert scan.signals[0].description == "1.5"
    assert scan.signals[2].change == "12,000"
    assert "|:-----" in text.split("## Signals")[1].splitlines()[3]


def test_pipes_and_backslashes_in_cells_survive() -> None:
    scan = parse(read(ROOT / "fixtures/scans/2025-pipes.md"))
    assert scan.signals[0].change == "From monoliths to a | b | c."
    assert scan.signals[1].name == "Paths like C:\\temp"
    assert scan.signals[1].description == "Windows paths \\ and escaped \\| pipes appear in text."


def test_crlf_and_trailing_newline_are_kept() -> None:
    raw = (ROOT / "fixtures/scans/2025-crlf.md").read_bytes()
    assert b"\r\n" in raw
    assert render(parse(raw.decode())).encode() == raw
