"""Archive intelligence at archive scale: 3,000 generated scans (~60,000 table rows) with planted recurring
signals phrased differently, processed from scratch, then one new scan added incrementally.

Prints: wall time and peak RSS of the build from scratch (in a fresh process, as `extractor signals` on a
folder never seen), against a baseline in the same kind of process that only reads every scan; the time of one
incremental update (the call, and the whole process); recall and precision of the planted recurring signals.
Goals: build <= 120 s, <= 1.5 GB RSS; incremental <= 2 s.

    uv run python bench/intelligence.py [--scans 3000] [--planted 150] [--pages-only] [--sweep] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.intelligence import planted  # noqa: E402

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
start = time.perf_counter()
mode, out = sys.argv[1], Path(sys.argv[2])
import numpy
from extractor import intelligence
from extractor.intelligence._corpus import read_scan, scan_ids
ready = time.perf_counter()  # imports done: "seconds" is the work, "process_seconds" all of it
if mode == "read":
    docs = [read_scan(out, s) for s in scan_ids(out)]
    result = {"scans": sum(d is not None for d in docs)}
elif mode == "build":
    result = intelligence.rebuild(out).__dict__
    result["signals"] = len(intelligence.signals(out))
else:
    result = intelligence.update(out, sys.argv[3:]).__dict__
done = time.perf_counter()
result |= {"seconds": done - ready, "process_seconds": done - start,
           "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
print(json.dumps(result))
"""


def child(mode: str, out: Path, home: Path, *ids: str) -> dict[str, Any]:
    env = os.environ | {"EXTRACTOR_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(out), *ids], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def sweep(archive: planted.Archive, out: Path, home: Path) -> list[dict[str, float]]:
    """Recall and precision at other thresholds, on the vectors the build stored (decisions made again)."""
    import json as _json

    from extractor.intelligence import _signals
    from extractor.intelligence._store import load, store_dir

    os.environ["EXTRACTOR_HOME"] = str(home)
    from extractor.intelligence._build import params

    state = load(store_dir(home, out), params())
    assert state is not None and state.row_vectors is not None
    found = []
    for threshold in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
        _signals.assign(state.rows, state.row_vectors, 0, threshold)
        quality = planted.score(archive, _signals.registry(state.rows, None))
        found.append({"threshold": threshold} | {k: round(v, 3) for k, v in quality.items()})
    _json.dumps(found)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=3000)
    parser.add_argument("--planted", type=int, default=150)
    parser.add_argument("--pages-only", action="store_true", help="no sidecars: an imported archive")
    parser.add_argument("--sweep", action="store_true", help="also score other matching thresholds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-intel-"))
    try:
        archive = planted.generate(args.scans + 1, planted=args.planted)
        newest = archive.scans[-1]  # the last issue's scan: what a pipeline run adds next
        out, home = work / "scans", work / "home"
        planted.write(planted.Archive(archive.scans[:-1]), out, sidecars=not args.pages_only)
        rows = sum(len(s.signals) + sum(len(s.table(t)) for t in ("concerns", "behaviors", "technologies", "issues"))
                   for s in archive.scans[:-1])

        baseline = child("read", out, home)
        build = child("build", out, home)
        planted.write_scan(newest, out, sidecar=not args.pages_only)
        incremental = child("update", out, home, newest.id)

        os.environ["EXTRACTOR_HOME"] = str(home)
        from extractor import intelligence

        quality = planted.score(archive, intelligence.signals(out))
        figures: dict[str, Any] = {
            "scans": args.scans,
            "table_rows": rows,
            "signal_rows": build["rows"],
            "planted_signals": len(archive.planted),
            "planted_occurrences": sum(len(v) for v in archive.planted.values()),
            "sidecars": not args.pages_only,
            "read_seconds": round(baseline["seconds"], 2),
            "build_seconds": round(build["seconds"], 2),
            "build_process_seconds": round(build["process_seconds"], 2),
            "build_over_read": round(build["seconds"] / baseline["seconds"], 2),
            "build_rss_mb": round(build["rss_mb"]),
            "read_rss_mb": round(baseline["rss_mb"]),
            "incremental_seconds": round(incremental["seconds"], 3),
            "incremental_process_seconds": round(incremental["process_seconds"], 2),
            "incremental_replayed_rows": incremental["replayed"],
            "entries": build["signals"],
            "recall": round(quality["recall"], 3),
            "precision": round(quality["precision"], 3),
            "planted_found_whole": round(quality["whole"], 3),
            "goals_met": build["seconds"] <= 120 and build["rss_mb"] <= 1536 and incremental["seconds"] <= 2,
        }
        if args.sweep:
            figures["sweep"] = sweep(archive, out, home)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{figures['scans']} scans, {figures['table_rows']} table rows, {figures['signal_rows']} signal rows; "
          f"{figures['planted_signals']} planted signals in {figures['planted_occurrences']} rows")
    print(f"from scratch: {figures['build_seconds']} s ({figures['build_over_read']}x reading the scans alone, "
          f"{figures['read_seconds']} s), peak RSS {figures['build_rss_mb']} MB (reading alone "
          f"{figures['read_rss_mb']} MB); goal <= 120 s, <= 1536 MB")
    print(f"one new scan: {figures['incremental_seconds']} s in the call, {figures['incremental_process_seconds']} s "
          f"for the whole process; {figures['incremental_replayed_rows']} rows decided; goal <= 2 s")
    print(f"planted signals: recall {figures['recall']}, precision {figures['precision']}, "
          f"found whole {figures['planted_found_whole']}; {figures['entries']} entries")
    for row in figures.get("sweep", []):
        print(f"  threshold {row['threshold']}: recall {row['recall']}, precision {row['precision']}, "
              f"whole {row['whole']}")
    print("goals met" if figures["goals_met"] else "GOALS NOT MET")


if __name__ == "__main__":
    main()
