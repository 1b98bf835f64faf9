"""Imports a generated archive of scan pages in every layout the parser knows; prints the time and pages/s.

Goal: 3,000 pages imported (parsed, copied byte for byte, a sidecar written beside each, one ledger row each,
the index rewritten) in at most 20 s on a 2-core machine. The baseline, timed in the same process, is a plain
copy of the same files (`shutil.copyfile`, no parsing, no fsync): the ratio says what reading each page, writing
it safely and recording it costs on top of moving its bytes. A second import of the same folder must change
nothing; its time is printed too.

    uv run python bench/import.py [--pages N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from extractor.importer import import_archive
from extractor.ledger import Ledger
from extractor.models import scan_id
from extractor.output import OutputDir
from extractor.parse import parse

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 20.0


def templates() -> list[tuple[str, str]]:
    """(page text, its article url) for every fixture page that names its article: all layouts, damaged ones
    and CRLF line endings included."""
    found = []
    for path in sorted((ROOT / "fixtures" / "scans").glob("*.md")):
        text = path.read_bytes().decode("utf-8")
        scan = parse(text)
        if scan.url:
            found.append((text, scan.url))
    return found


def generate(directory: Path, count: int) -> None:
    """`count` pages named by their id, each a fixture page with its own article url."""
    pages = templates()
    for i in range(count):
        text, url = pages[i % len(pages)]
        new_url = f"https://bench-{i % 97}.example/articles/{i}"
        data = text.replace(f"]({url})__", f"]({new_url})__", 1).encode("utf-8")
        (directory / f"{scan_id(new_url)}.md").write_bytes(data)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=3000)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="extractor-bench-import-") as tmp:
        base = Path(tmp)
        archive, out, copy = base / "archive", base / "out", base / "copy"
        for d in (archive, copy):
            d.mkdir()
        generate(archive, args.pages)

        start = time.perf_counter()
        for path in sorted(archive.glob("*.md")):
            shutil.copyfile(path, copy / path.name)
        baseline = time.perf_counter() - start

        with Ledger(base / "ledger.sqlite3") as ledger:
            start = time.perf_counter()
            first = import_archive(archive, OutputDir(out), ledger)
            seconds = time.perf_counter() - start
            before = {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in out.iterdir()}
            start = time.perf_counter()
            again = import_archive(archive, OutputDir(out), ledger)
            again_seconds = time.perf_counter() - start
            after = {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in out.iterdir()}
            rows = len(ledger.latest())
        identical = all((out / p.name).read_bytes() == p.read_bytes() for p in archive.glob("*.md"))
    figures = {
        "pages": args.pages,
        "imported": first.imported,
        "skipped": len(first.skipped),
        "seconds": round(seconds, 2),
        "pages_per_second": round(args.pages / seconds, 1),
        "goal_seconds": GOAL_SECONDS,
        "baseline_copy_seconds": round(baseline, 3),
        "ratio_to_copy": round(seconds / baseline, 1) if baseline else None,
        "second_import_seconds": round(again_seconds, 2),
        "second_import_changed": again.imported + again.copied + again.sidecars + (before != after),
        "ledger_rows": rows,
        "pages_byte_identical": identical,
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"{args.pages} pages imported in {seconds:.2f} s ({figures['pages_per_second']} pages/s; "
              f"goal <= {GOAL_SECONDS:.0f} s); a plain copy took {baseline:.3f} s "
              f"(import = {figures['ratio_to_copy']}x copy)")
        print(f"second import: {again_seconds:.2f} s, changes: {figures['second_import_changed']}; "
              f"ledger rows {rows}; pages byte-identical: {identical}; skipped {len(first.skipped)}")
    ok = seconds <= GOAL_SECONDS and identical and first.imported == args.pages and not figures["second_import_changed"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
