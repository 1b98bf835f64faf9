"""Parses and checks every fixture scan many times; prints scans per second.

Goal: at least 300 scans/s parsed and checked (parse, render, JSON round trip, problems) on this machine.
The baseline, timed in the same process, is the least any checker must do: tabulate rendering each page's
tables once. The ratio says how much the rest of the work costs on top of it.

    uv run python bench/format.py [--rounds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import tabulate

from extractor.check import check_text
from extractor.parse import parse
from extractor.render import FIELD_OF_COLUMN, default_columns

ROOT = Path(__file__).resolve().parents[1]


def pages() -> list[str]:
    paths = sorted((ROOT / "fixtures" / "scans").glob("*.md"))
    seed = ROOT / "fixtures" / "seed" / "seed-scan.md"
    if seed.exists():
        paths.append(seed)
    return [p.read_bytes().decode("utf-8") for p in paths]


def check_all(texts: list[str]) -> int:
    failed = 0
    for text in texts:
        failed += check_text(text).failed
    return failed


def baseline(tables: list[list[tuple[list[str], list[list[object]]]]]) -> None:
    for page in tables:
        for headers, rows in page:
            tabulate.tabulate(rows, headers=headers, tablefmt="pipe", disable_numparse=True)


def median_seconds(fn: object, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    texts = pages()
    tables = []
    for text in texts:
        scan = parse(text)
        page = []
        for table in ("signals", "concerns", "behaviors", "technologies", "issues"):
            columns = scan.layout.columns.get(table, default_columns(table))
            rows = [[getattr(r, FIELD_OF_COLUMN[c]) for c in columns] for r in scan.table(table)]
            if rows:
                page.append((columns, rows))
        tables.append(page)

    assert check_all(texts) == 0, "every fixture must parse and round-trip"
    check_s = median_seconds(lambda: check_all(texts), args.rounds)
    base_s = median_seconds(lambda: baseline(tables), args.rounds)
    result = {
        "pages": len(texts),
        "rounds": args.rounds,
        "scans_per_second": round(len(texts) / check_s, 1),
        "baseline_tabulate_pages_per_second": round(len(texts) / base_s, 1),
        "check_over_baseline": round(check_s / base_s, 2),
        "goal_scans_per_second": 300,
    }
    if not args.json:
        print(f"{result['pages']} pages x {args.rounds} rounds (median)")
        print(f"parsed and checked: {result['scans_per_second']} scans/s (goal >= 300)")
        print(f"baseline (tabulate on the same tables): {result['baseline_tabulate_pages_per_second']} pages/s")
        print(f"check time / baseline time: {result['check_over_baseline']}x")
    print(json.dumps(result))
    return 0 if result["scans_per_second"] >= 300 else 1


if __name__ == "__main__":
    sys.exit(main())
