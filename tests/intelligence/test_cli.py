"""The commands, run as a user runs them: the installed `extractor` on a folder of scans."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

from extractor import intelligence
from tests.intelligence.conftest import HandArchive

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "scans"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("extractor")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300)


def test_signals_json_and_one_signal_timeline(hand: HandArchive) -> None:
    result = run("signals", "--out", str(hand.out), "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)["signals"]
    night = next(s for s in found if s["name"] == "Night trains return")
    assert night["count"] == 4 and night["first_seen"] == "2023-01-10"
    timeline = run("signal", night["id"], "--out", str(hand.out))
    assert timeline.returncode == 0, timeline.stderr
    lines = timeline.stdout.splitlines()
    assert lines[0].startswith("Night trains return")
    dates = ["2023-01-10", "2023-09-01", "2024-02-20", "2024-08-30"]
    assert [line.split()[0] for line in lines[3:7]] == dates
    assert lines[8].startswith("2023-01-10  Night trains return: Sleeper trains come back")
    as_json = json.loads(run("signal", night["id"], "--out", str(hand.out), "--json").stdout)
    assert as_json == night


def test_signals_human_output_and_filters(hand: HandArchive) -> None:
    result = run("signals", "--out", str(hand.out), "--since", "2024-06-01")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split()[:3] == ["id", "count", "status"]
    assert rows and all(row.split()[4] >= "2024-06-01" for row in rows)
    fading = json.loads(run("signals", "--out", str(hand.out), "--status", "fading", "--json").stdout)["signals"]
    assert fading and {s["status"] for s in fading} == {"fading"}


def test_related_and_the_closest_section(hand: HandArchive) -> None:
    scan = hand.scans[0]
    result = run("related", scan.id, "--out", str(hand.out), "-k", "2", "--json")
    assert result.returncode == 0, result.stderr
    related = json.loads(result.stdout)["related"]
    assert len(related) == 2 and all(r["scan_id"] != scan.id for r in related)
    closest = run("related", scan.id, "--out", str(hand.out), "-k", "2", "--closest").stdout.splitlines()
    assert closest[:2] == ["## Closest", ""]
    assert closest[2] == f"* [{related[0]['title']}]({related[0]['scan_id']})"


def test_trends_as_csv_and_json(hand: HandArchive) -> None:
    result = run("trends", "--out", str(hand.out), "--csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["field"] for r in rows} == {"category", "type", "theme", "keyword"}
    news = [r for r in rows if r["field"] == "type" and r["month"] == "2023-01"]
    assert news == [{"month": "2023-01", "field": "type", "value": "news", "count": "2"}]
    as_json = json.loads(run("trends", "--out", str(hand.out), "--json").stdout)
    assert as_json["type"]["2023-01"] == {"news": 2}
    human = run("trends", "--out", str(hand.out)).stdout.splitlines()
    assert human[0].startswith("2023-01  2 scans")


def test_a_folder_of_archive_pages_never_seen_before(tmp_path: Path, home: Path) -> None:
    # Pages of every layout the archive holds (2023 to 2025, damaged ones too), without sidecars.
    folder = tmp_path / "archive"
    shutil.copytree(FIXTURES, folder, ignore=shutil.ignore_patterns("*.json"))
    result = run("signals", "--out", str(folder), "--json", "--rebuild")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)["signals"]
    assert sum(s["count"] for s in found) > 20
    assert any(s["first_seen"] and s["first_seen"].startswith("2023") for s in found)
    related = run("related", "2023-closest", "--out", str(folder))
    assert related.returncode == 0, related.stderr
    assert len(related.stdout.splitlines()) == 6


def test_a_first_build_says_so_on_stderr_once(hand: HandArchive) -> None:
    first = run("trends", "--out", str(hand.out))
    assert first.returncode == 0 and "for the first time" in first.stderr
    again = run("trends", "--out", str(hand.out))
    assert again.returncode == 0 and again.stderr == ""
    assert again.stdout == first.stdout


def test_usage_errors_are_one_line(hand: HandArchive, tmp_path: Path) -> None:
    intelligence.snapshot(hand.out)  # built: unknown ids are known to be unknown without a first-build notice
    for args in (
        ["related", "0" * 32, "--out", str(hand.out)],
        ["signal", "nope", "--out", str(hand.out)],
        ["signals", "--out", str(tmp_path / "missing")],
        ["signals", "--out", str(hand.out), "--since", "yesterday"],
        ["signals", "--out", str(hand.out), "--status", "hot"],
        ["trends", "--out", str(hand.out), "--csv", "--json"],
        ["trends", "--out", str(hand.out), "--by", "week"],
    ):
        result = run(*args)
        assert result.returncode == 2, args
        assert result.stderr.startswith("extractor: ") and len(result.stderr.splitlines()) == 1, result.stderr


def test_an_imported_archive(tmp_path: Path, home: Path) -> None:
    out = tmp_path / "imported"
    done = run("import", str(FIXTURES), "--out", str(out))
    assert done.returncode == 0, done.stderr
    pages = {p.stem for p in out.glob("*.md")}
    result = run("signals", "--out", str(out), "--json", "--limit", "0")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)["signals"]
    seen = {o["scan_id"] for s in found for o in s["occurrences"]}
    assert seen and seen <= pages
    dated = [o for s in found for o in s["occurrences"] if o["date"]]
    assert dated and all(o["date"].replace("-", "") == o["origin"][:8] for o in dated)


def test_a_folder_without_scans_says_so(tmp_path: Path, home: Path) -> None:
    empty = tmp_path / "scans"
    empty.mkdir()
    signals = run("signals", "--out", str(empty))
    trends = run("trends", "--out", str(empty))
    assert signals.returncode == 0 and f"no weak signals in {empty}" in signals.stdout
    assert trends.returncode == 0 and f"no scans in {empty}" in trends.stdout
