"""Related scans, trends, dates, the store, and the pipeline's hook."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from extractor import intelligence
from extractor.errors import ConfigError
from extractor.intelligence._corpus import read_scan, valid_date
from tests.intelligence.conftest import HEAT, NIGHT, REPAIR, UNRELATED, HandArchive, make_scan, write


def test_related_finds_the_scans_about_the_same_thing(hand: HandArchive) -> None:
    by_origin = {s.origin: s for s in hand.scans}
    repair_2023, repair_2024 = by_origin["20230605a"], by_origin["20240220a"]
    closest = intelligence.related(hand.out, by_origin["20230110a"].id, k=3)
    assert {r["scan_id"] for r in closest[:2]} == {repair_2023.id, repair_2024.id}
    assert [r["score"] for r in closest] == sorted((r["score"] for r in closest), reverse=True)
    assert all(r["title"] and r["origin"] for r in closest)
    with pytest.raises(ConfigError):
        intelligence.related(hand.out, "0" * 32)


def test_snapshot_has_the_shape_the_site_reads(hand: HandArchive) -> None:
    snap = intelligence.snapshot(hand.out)
    assert set(snap) == {"related", "signals", "trends"}
    assert set(snap["related"]) == {s.id for s in hand.scans}
    for neighbours in snap["related"].values():
        assert len(neighbours) == 5
        assert all(set(n) == {"scan_id", "score"} and isinstance(n["score"], float) for n in neighbours)
    for entry in snap["signals"]:
        assert {"id", "name", "count", "first_seen", "last_seen", "status", "novelty", "occurrences"} <= set(entry)
        assert entry["status"] in intelligence.STATUSES
        for occ in entry["occurrences"]:
            assert {"scan_id", "origin", "date", "name", "description", "similarity"} <= set(occ)
            assert occ["description"]  # the row itself, not only its name
    trends = snap["trends"]
    assert trends["months"] == sorted(trends["months"])
    assert set(intelligence.FIELDS) <= set(trends)
    json.dumps(snap)  # plain JSON all the way down


def test_trends_count_per_month(hand: HandArchive) -> None:
    trends = intelligence.trends(hand.out)
    assert trends["months"] == ["2023-01", "2023-06", "2023-09", "2023-11", "2024-02", "2024-04", "2024-06",
                                "2024-08"]
    assert trends["scans"]["2023-01"] == 2
    assert sum(trends["category"]["2023-01"].values()) == 2
    assert trends["type"]["2023-01"] == {"news": 2}
    assert sum(sum(m.values()) for m in trends["category"].values()) == len(hand.scans)


def test_dates_come_from_the_sidecar_then_the_origin(tmp_path: Path) -> None:
    scan = make_scan("20240102b", [UNRELATED[0]], 1)
    write(scan, tmp_path, issue_date="2024-01-01")
    doc = read_scan(tmp_path, scan.id)
    assert doc is not None and doc.date == "2024-01-01"
    (tmp_path / f"{scan.id}.json").unlink()
    doc = read_scan(tmp_path, scan.id)
    assert doc is not None and doc.date == "2024-01-02"  # the page alone: the origin's date
    assert valid_date("20221228") == "2022-12-28"
    assert valid_date("4320.0") is None and valid_date("20221332") is None and valid_date("") is None


def test_pages_without_a_date_are_listed_as_undated(tmp_path: Path, home: Path) -> None:
    for n, origin in enumerate(["4320.0", "20230401a"]):
        write(make_scan(origin, [NIGHT[n]], n), tmp_path, sidecar=False)
    snap = intelligence.snapshot(tmp_path)
    assert snap["trends"]["months"] == ["2023-04", "undated"]
    entry = snap["signals"][0]
    assert entry["count"] == 2 and entry["first_seen"] == entry["last_seen"] == "2023-04-01"
    assert [o["date"] for o in entry["occurrences"]] == ["2023-04-01", None]


def test_store_lives_under_extractor_home(hand: HandArchive, home: Path) -> None:
    intelligence.snapshot(hand.out)
    stores = list((home / "intelligence").iterdir())
    assert len(stores) == 1
    assert (stores[0] / "state.pickle").is_file()
    assert sorted(p.suffix for p in stores[0].glob("*.npy")) == [".npy", ".npy"]
    assert not list(hand.out.glob("*.npy"))  # the scans folder is left alone


def test_a_damaged_store_is_rebuilt(hand: HandArchive, home: Path) -> None:
    before = intelligence.snapshot(hand.out)
    state = next((home / "intelligence").iterdir()) / "state.pickle"
    state.write_bytes(b"not a pickle")
    assert intelligence.snapshot(hand.out) == before


def test_the_pipeline_hook_updates_and_never_fails_a_run(tmp_path: Path, home: Path) -> None:
    out = tmp_path / "scans"
    out.mkdir()
    first = make_scan("20240101a", [HEAT[0]], 1)
    write(first, out)
    intelligence.after_run(out, [first.id])
    second = make_scan("20240301a", [HEAT[1]], 2)
    write(second, out)
    intelligence.after_run(out, [second.id])
    entries = intelligence.signals(out)
    assert [e["count"] for e in entries] == [2]
    intelligence.after_run(tmp_path / "missing", [first.id])  # logged, not raised
    intelligence.after_run(out, [])


def test_without_the_extra_the_error_is_one_line(monkeypatch: pytest.MonkeyPatch, hand: HandArchive) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(ConfigError, match="intel' extra"):
        intelligence.snapshot(hand.out)
    intelligence.after_run(hand.out, [hand.scans[0].id])  # the pipeline goes on without it


def test_a_french_row_keeping_the_signal_term_joins_it(hand: HandArchive) -> None:
    entries = intelligence.signals(hand.out)
    repair = next(e for e in entries if e["name"] == REPAIR[0].name)
    assert REPAIR[2].name in {o["name"] for o in repair["occurrences"]}


def test_trends_per_issue(hand: HandArchive) -> None:
    trends = intelligence.trends(hand.out, by="issue")
    assert trends["issues"] == sorted(s.origin for s in hand.scans)
    assert all(n == 1 for n in trends["scans"].values())
    with pytest.raises(ConfigError):
        intelligence.trends(hand.out, by="week")


def test_pages_that_are_not_scans_are_skipped_and_read_again_only_when_changed(hand: HandArchive) -> None:
    stray = hand.out / "notes.md"
    stray.write_text("some notes, not a scan\n", encoding="utf-8")
    first = intelligence.snapshot(hand.out)
    assert "notes" not in first["related"]
    assert intelligence.update(hand.out).added == 0
    stray.write_text(hand.out.joinpath(f"{hand.scans[0].id}.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert intelligence.update(hand.out).added == 1  # now it is a scan (a copy of one, under another name)
