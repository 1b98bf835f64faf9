"""Signal memory: recurring signals found as one entry, unrelated ones kept apart, stable on rerun, and an
incremental update equal to a rebuild."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from extractor import intelligence
from extractor.errors import ConfigError
from extractor.intelligence._signals import status
from tests.intelligence import planted
from tests.intelligence.conftest import ISSUES, HandArchive, make_scan, write


def _entries_by_truth(hand: HandArchive, entries: list[dict[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for entry in entries:
        for occ in entry["occurrences"]:
            found.setdefault(hand.truth[(occ["scan_id"], occ["position"])], set()).add(entry["id"])
    return found


def test_recurring_signals_are_one_entry_with_their_dates_and_count(hand: HandArchive) -> None:
    entries = intelligence.signals(hand.out)
    by_id = {e["id"]: e for e in entries}
    where = _entries_by_truth(hand, entries)
    expected = {"repair": ("2023-01-10", "2024-02-20", 3), "heat": ("2023-06-05", "2024-06-10", 3),
                "night": ("2023-01-10", "2024-08-30", 4)}
    for label, (first, last, count) in expected.items():
        assert len(where[label]) == 1, f"{label} split over {len(where[label])} entries"
        entry = by_id[next(iter(where[label]))]
        assert (entry["first_seen"], entry["last_seen"], entry["count"]) == (first, last, count)
        # The first occurrence starts the entry; every later one says how close it was.
        assert entry["occurrences"][0]["similarity"] is None
        assert all(o["similarity"] >= 0.45 for o in entry["occurrences"][1:])
        assert [o["date"] for o in entry["occurrences"]] == sorted(o["date"] for o in entry["occurrences"])
        assert entry["issues"] == count and entry["sources"] == count


def test_unrelated_signals_stay_apart_even_when_they_share_words(hand: HandArchive) -> None:
    entries = intelligence.signals(hand.out)
    for entry in entries:
        truths = {hand.truth[(o["scan_id"], o["position"])] for o in entry["occurrences"]}
        assert len(truths) == 1, f"entry {entry['name']!r} mixes {sorted(truths)}"
    singles = [e for e in entries if e["count"] == 1]
    assert len(singles) == 10  # every unrelated row is its own entry


def test_novelty_is_low_for_a_recurrence_and_high_for_something_never_seen(hand: HandArchive) -> None:
    entries = intelligence.signals(hand.out)
    night = next(e for e in entries if e["name"] == "Night trains return")
    assert night["novelty"] > 0.7  # nothing like it before
    assert all(o["novelty"] < 0.5 for o in night["occurrences"][1:])


def test_status_follows_the_occurrences_over_time() -> None:
    latest = "2025-06-30"
    assert status(["2025-06-01"], latest) == "new"
    assert status(["2023-01-01"], latest) == "fading"
    assert status(["2023-01-01", "2024-01-01"], latest) == "fading"
    assert status(["2024-03-01", "2025-05-01", "2025-06-01"], latest) == "strengthening"
    assert status(["2024-10-01", "2024-11-01", "2025-06-01"], latest) == "recurring"
    assert status([None, None], None) == "recurring"


def test_filters_by_status_and_date(hand: HandArchive) -> None:
    every = intelligence.signals(hand.out)
    recent = intelligence.signals(hand.out, since=date(2024, 6, 1))
    assert recent and all(e["last_seen"] >= "2024-06-01" for e in recent)
    assert len(recent) < len(every)
    for s in intelligence.STATUSES:
        assert all(e["status"] == s for e in intelligence.signals(hand.out, status=s))
    with pytest.raises(ConfigError):
        intelligence.signals(hand.out, status="hot")


def test_rerun_is_stable_and_rebuild_gives_the_same(hand: HandArchive) -> None:
    first = intelligence.snapshot(hand.out)
    assert intelligence.update(hand.out).added == 0  # nothing changed: nothing read again
    assert intelligence.snapshot(hand.out) == first
    intelligence.rebuild(hand.out)
    assert intelligence.snapshot(hand.out) == first


def _rebuilt(out: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("EXTRACTOR_HOME", str(home))
    return intelligence.snapshot(out)


@pytest.mark.parametrize("which", [len(ISSUES) - 1, 3, 0], ids=["latest", "middle", "oldest"])
def test_adding_a_scan_incrementally_equals_a_rebuild(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, which: int
) -> None:
    out = tmp_path / "inc"
    out.mkdir()
    scans = [make_scan(origin, rows, n) for n, (origin, rows) in enumerate(ISSUES)]
    for n, scan in enumerate(scans):
        if n != which:
            write(scan, out)
    intelligence.snapshot(out)
    write(scans[which], out)
    done = intelligence.update(out, [scans[which].id])
    assert done.added == 1
    incremental = intelligence.snapshot(out)
    assert incremental == _rebuilt(out, tmp_path / "other-home", monkeypatch)
    assert len(incremental["related"]) == len(scans)


def test_changed_and_removed_scans_are_noticed(hand: HandArchive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    intelligence.snapshot(hand.out)
    gone = hand.scans[2]
    (hand.out / f"{gone.id}.md").unlink()
    (hand.out / f"{gone.id}.json").unlink(missing_ok=True)
    changed = hand.scans[5].model_copy(update={"title": "A new title about repair cafés"})
    write(changed, hand.out)
    after = intelligence.snapshot(hand.out)
    assert gone.id not in after["related"]
    assert all(gone.id not in {n["scan_id"] for n in ns} for ns in after["related"].values())
    assert all(o["scan_id"] != gone.id for e in after["signals"] for o in e["occurrences"])
    assert after == _rebuilt(hand.out, tmp_path / "other-home", monkeypatch)


def test_generated_archive_incremental_equals_rebuild_and_finds_planted_signals(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = planted.generate(160, planted=12, seed=3)
    out = tmp_path / "gen"
    last = archive.scans[-1]
    rest = planted.Archive(archive.scans[:-1], archive.truth, archive.planted)
    planted.write(rest, out, sidecars=False)
    intelligence.snapshot(out)
    planted.write_scan(last, out)
    intelligence.update(out, [last.id])
    incremental = intelligence.snapshot(out)
    rebuilt = _rebuilt(out, tmp_path / "other-home", monkeypatch)
    assert incremental == rebuilt
    quality = planted.score(archive, incremental["signals"])
    # Not a goal, a guard: the bench prints the measured figures; a broken matcher scores far below these.
    assert quality["recall"] > 0.2 and quality["precision"] > 0.5


def test_store_survives_a_copy_of_the_folder_elsewhere(hand: HandArchive, tmp_path: Path) -> None:
    # The store is keyed by the folder's path: a copy is a folder never seen, and is built for itself.
    copy = tmp_path / "copy"
    shutil.copytree(hand.out, copy)
    assert intelligence.snapshot(copy)["signals"] == intelligence.snapshot(hand.out)["signals"]
