"""Full-text search with Pagefind, in shards so that a new scan re-indexes one shard, not the archive.

Each quarter's scan pages (by the scan's date; `undated` for the rest) get their own Pagefind bundle under
`DEST/pagefind/{shard}/`; the search page loads the newest and merges the others (Pagefind's `mergeIndex`). A
shard is indexed again only when the fingerprint of its pages changed or its bundle is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from extractor.errors import ConfigError, SiteError
from extractor.site._load import ScanEntry

BUNDLES = "pagefind"
_TIMEOUT = 900.0
#: Scans per bundle at most: the indexer is given its pages as one glob argument, and Linux caps one argument at
#: 128 KiB (an id and its separator take 33 bytes).
SHARD_MAX = 1000


def shard_of(entry: ScanEntry) -> str:
    if not entry.date:
        return "undated"
    return f"{entry.date[:4]}q{(int(entry.date[5:7]) - 1) // 3 + 1}"


def shards(entries: list[ScanEntry]) -> dict[str, list[str]]:
    """Shard name -> its scan ids, newest shard first (`undated` last)."""
    grouped: dict[str, list[str]] = {}
    for e in entries:
        grouped.setdefault(shard_of(e), []).append(e.id)
    found: dict[str, list[str]] = {}
    for name, ids in sorted(grouped.items(), key=lambda kv: (kv[0] != "undated", kv[0]), reverse=True):
        ids.sort()
        for n in range(0, len(ids), SHARD_MAX):
            found[name if n == 0 else f"{name}-{n // SHARD_MAX + 1}"] = ids[n : n + SHARD_MAX]
    return found


def pagefind_executable() -> str:
    try:
        from pagefind_bin import get_executable  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise ConfigError("the site needs the 'site' extra: uv sync --extra site") from exc
    return str(get_executable())


def _index(dest: Path, shard: str, ids: list[str]) -> None:
    names = ",".join(sorted(ids))
    glob = f"scans/{{{names}}}.html" if len(ids) > 1 else f"scans/{names}.html"
    target = dest / BUNDLES / shard
    shutil.rmtree(target, ignore_errors=True)
    cmd = [pagefind_executable(), "--site", str(dest), "--glob", glob, "--output-subdir", f"{BUNDLES}/{shard}", "--silent"]
    try:
        # subprocess.run kills the indexer if anything (a timeout, Ctrl-C) interrupts the wait.
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SiteError(f"the search indexer failed on {shard}: {exc}") from exc
    if done.returncode != 0 or not (target / "pagefind-entry.json").is_file():
        last = (done.stderr or done.stdout).strip().splitlines()
        raise SiteError(f"the search indexer failed on {shard} (exit {done.returncode}): {last[-1] if last else ''}")


def update_search(dest: Path, plan: dict[str, list[str]], fingerprints: dict[str, str], previous: dict[str, str]) -> int:
    """Indexes the shards whose fingerprint changed (or whose bundle is gone), removes vanished shards' bundles;
    returns how many shards were indexed."""
    root = dest / BUNDLES
    if root.is_dir():
        for stale in root.iterdir():
            if stale.name not in plan:
                if stale.is_dir():
                    shutil.rmtree(stale)
                else:
                    stale.unlink()
    indexed = 0
    for shard, ids in plan.items():
        if previous.get(shard) == fingerprints[shard] and (root / shard / "pagefind-entry.json").is_file():
            continue
        _index(dest, shard, ids)
        indexed += 1
    return indexed
