"""Archive intelligence over a folder of scans: related scans, a memory of weak signals across issues, and
trends over time. Built on first use for any folder, kept under `EXTRACTOR_HOME`, updated incrementally when
the pipeline writes scans. Needs the `intel` extra (numpy); the method is in docs/intelligence.md.

    snapshot(out)            everything at once, for the site: {"related", "signals", "trends"}
    update(out, scan_ids)    after scans were written (the pipeline calls this)
    rebuild(out)             from scratch
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from extractor.errors import ConfigError
from extractor.intelligence._build import Updated
from extractor.intelligence._signals import STATUSES
from extractor.intelligence._trends import FIELDS, TrendInput

__all__ = [
    "FIELDS",
    "STATUSES",
    "Updated",
    "after_run",
    "built",
    "rebuild",
    "related",
    "require_extra",
    "signal",
    "signals",
    "snapshot",
    "trends",
    "update",
]

DEFAULT_K = 5
_log = logging.getLogger(__name__)


def require_extra() -> None:
    """Raises a one-line ConfigError when the `intel` extra is not installed."""
    try:
        import numpy  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"archive intelligence needs the 'intel' extra ({exc.name} is missing): uv sync --extra intel"
        ) from None


def _home() -> Path:
    from extractor.settings import home_dir

    return home_dir()


def _folder(out_dir: Path) -> Path:
    if not out_dir.is_dir():
        raise ConfigError(f"{out_dir}: no such directory")
    return out_dir


def update(out_dir: Path, scan_ids: Iterable[str] | None = None) -> Updated:
    """Adds (or refreshes) the scans `scan_ids` of `out_dir` to its store; None checks the whole folder."""
    require_extra()
    from extractor.intelligence._build import update as run

    return run(_home(), _folder(out_dir), scan_ids)


def rebuild(out_dir: Path) -> Updated:
    """Recomputes the store of `out_dir` from scratch."""
    require_extra()
    from extractor.intelligence._build import update as run

    return run(_home(), _folder(out_dir), None, rebuild=True)


def after_run(out_dir: Path, scan_ids: Iterable[str] | None) -> None:
    """The pipeline's hook once a run wrote scans (None: which ones is not known, check the folder): updates the
    store when the extra is installed, and never fails the run (intelligence can always be rebuilt; a run's
    scans cannot be rewritten for free)."""
    ids = None if scan_ids is None else list(scan_ids)
    if ids is not None and not ids:
        return
    try:
        require_extra()
    except ConfigError:
        return
    try:
        update(out_dir, ids)
    except Exception as exc:  # reported, not raised: the scans are written, the next read rebuilds
        _log.warning("archive intelligence not updated: %s", exc)


def built(out_dir: Path) -> bool:
    """Whether a store exists for `out_dir` (a first build of a large archive takes a while: say so first)."""
    from extractor.intelligence._store import store_dir

    return (store_dir(_home(), out_dir) / "state.pickle").is_file()


def _state(out_dir: Path) -> Any:
    require_extra()
    from extractor.intelligence._build import current

    return current(_home(), _folder(out_dir))


def _latest(state: Any) -> str | None:
    dates = [d.date for d in state.docs.values() if d.date]
    return max(dates) if dates else None


def _signals_of(state: Any) -> list[dict[str, Any]]:
    from extractor.intelligence._signals import registry

    return registry(state.rows, _latest(state))


def _trends_of(state: Any, by: str = "month") -> dict[str, Any]:
    from extractor.intelligence._trends import trends as count

    return count(
        (
            TrendInput(d.origin, d.date, d.category, d.type, tuple(d.themes), tuple(d.keywords))
            for d in state.docs.values()
        ),
        by,
    )


def _related_of(state: Any, k: int) -> dict[str, list[dict[str, Any]]]:
    return {sid: [{"scan_id": n, "score": s} for n, s in state.related[sid][:k]] for sid in sorted(state.related)}


def snapshot(out_dir: Path, k: int = DEFAULT_K) -> dict[str, Any]:
    """Builds what is missing and returns `{"related": {scan_id: [{"scan_id", "score"}]}, "signals": [...],
    "trends": {...}}` (see docs/intelligence.md for every key). Dates are `YYYY-MM-DD` or None."""
    state = _state(out_dir)
    return {"related": _related_of(state, k), "signals": _signals_of(state), "trends": _trends_of(state)}


def related(out_dir: Path, scan_id: str, k: int = DEFAULT_K) -> list[dict[str, Any]]:
    """The `k` scans closest to `scan_id`, closest first, with their score, title and origin."""
    state = _state(out_dir)
    if scan_id not in state.related:
        raise ConfigError(f"no scan {scan_id} in {out_dir}")
    found = []
    for other, score in state.related[scan_id][:k]:
        meta = state.docs[other]
        found.append({"scan_id": other, "score": score, "title": meta.title, "origin": meta.origin})
    return found


def title_of(out_dir: Path, scan_id: str) -> str:
    state = _state(out_dir)
    meta = state.docs.get(scan_id)
    return str(meta.title) if meta else ""


def signals(out_dir: Path, status: str | None = None, since: date | None = None) -> list[dict[str, Any]]:
    """The registry, most often seen first; `status` keeps one status, `since` entries seen on or after it."""
    if status is not None and status not in STATUSES:
        raise ConfigError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    found = _signals_of(_state(out_dir))
    if status is not None:
        found = [s for s in found if s["status"] == status]
    if since is not None:
        found = [s for s in found if s["last_seen"] is not None and s["last_seen"] >= since.isoformat()]
    return found


def signal(out_dir: Path, signal_id: str) -> dict[str, Any]:
    """One registry entry and its timeline."""
    for entry in _signals_of(_state(out_dir)):
        if entry["id"] == signal_id:
            return entry
    raise ConfigError(f"no signal {signal_id} in {out_dir}")


def trends(out_dir: Path, by: str = "month") -> dict[str, Any]:
    """Counts per category, type, theme and keyword per month of issue (`by="issue"`: per issue)."""
    if by not in ("month", "issue"):
        raise ConfigError(f"trends by {by!r}: month or issue")
    return _trends_of(_state(out_dir), by)
