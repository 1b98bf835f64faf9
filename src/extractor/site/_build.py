"""Building the site: pages written to a docs folder only when they change, mkdocs (Material) building only the
pages that changed, then Pagefind indexing the result.

Layout: the site goes to DEST; its sources (mkdocs.yml, docs/, the parse cache) live beside it in `.{DEST}.src`,
since mkdocs refuses a docs folder inside the site folder. A marker file in DEST records the configuration the
site was built with: a change of configuration or of mkdocs/Material version means a clean build, otherwise
mkdocs' dirty build skips every page whose source is older than its HTML.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from extractor.errors import ConfigError, ExtractorError, Outcome, SiteError
from extractor.site import _hook
from extractor.site._load import load_scans
from extractor.site._pages import render_site
from extractor.site._search import shards, update_search

MARKER = ".extractor-site"
_STATIC = ("site.css", "explorer.js", "search.js")
_NAV = (
    ("Home", "index.md"),
    ("Issues", "issues.md"),
    ("Signals", "signals.md"),
    ("Charts", "charts.md"),
    ("Tags", "tags.md"),
    ("Search", "search.md"),
)


@dataclass
class SiteReport:
    dest: Path
    scans: int = 0
    pages: int = 0
    written: int = 0  # docs files created or changed this build
    removed: int = 0
    parsed: int = 0  # scan pages parsed (the rest came from the cache)
    clean: bool = False  # every page built, not only the changed ones
    search_shards: int = 0  # search shards indexed this build
    intelligence: bool = False
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def work_dir(dest: Path) -> Path:
    return dest.parent / f".{dest.name}.src"


def _versions() -> str:
    found = []
    for name in ("mkdocs", "mkdocs-material", "pagefind-bin"):
        try:
            found.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            found.append(f"{name}=?")
    return ",".join(found)


def mkdocs_config(docs: Path, dest: Path) -> str:
    """The mkdocs.yml of the site. Nothing in it loads from the network: no web fonts, no CDN, no analytics."""
    nav = "\n".join(f"  - {title}: {path}" for title, path in _NAV)
    return f"""site_name: Horizon scans
docs_dir: {json.dumps(str(docs))}
site_dir: {json.dumps(str(dest))}
use_directory_urls: false
theme:
  name: material
  font: false
  features:
    - navigation.tabs
  palette:
    - media: "(prefers-color-scheme: light)"
      scheme: default
      toggle:
        icon: material/brightness-7
        name: Switch to dark mode
    - media: "(prefers-color-scheme: dark)"
      scheme: slate
      toggle:
        icon: material/brightness-4
        name: Switch to light mode
plugins: []
hooks:
  - {json.dumps(str(Path(_hook.__file__).resolve()))}
extra_css:
  - assets/site.css
extra:
  generator: false
nav:
{nav}
not_in_nav: |
  /scans/
  /issues/
  /tags/
  /timelines/
"""


def _replace(path: Path, data: bytes) -> None:
    """A temporary file renamed over the target: a reader never sees half a page. No fsync: these files are
    regenerated from OUT by the next build, and thousands of fsyncs would dominate the build's time."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Writes only a changed file, so that its modification time tells mkdocs what to rebuild."""
    with contextlib.suppress(OSError):
        if path.read_bytes() == data:
            return False
    path.parent.mkdir(parents=True, exist_ok=True)
    _replace(path, data)
    return True


def _split_body(page: bytes) -> tuple[bytes, bytes]:
    """A page's markdown source (front matter and a marker naming the body's digest) and its HTML body: see
    `_hook`. The marker changes with the body, so mkdocs' dirty build sees every changed body."""
    end = page.index(b"\n---\n", 4) + 5
    body = page[end:].strip()
    marker = hashlib.sha256(body).hexdigest()[:16]
    return page[:end] + f"\nXS-BODY-{marker}\n".encode("ascii"), body


def _read_json(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _html_of(docs_path: str) -> str:
    return docs_path[:-3] + ".html" if docs_path.endswith(".md") else docs_path


def _check_dest(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise ConfigError(f"{dest} is a file, not a folder for the site")
    if dest.is_dir() and not (dest / MARKER).exists() and any(dest.iterdir()):
        raise ConfigError(f"{dest} holds files that are not an extractor site: choose a new or empty folder")


def _intelligence(out: Path, report: SiteReport) -> dict[str, Any] | None:
    try:
        from extractor.intelligence import snapshot  # type: ignore[attr-defined,import-not-found,unused-ignore]
    except ImportError:
        return None  # the archive intelligence is optional: no related scans, no timelines
    try:
        result = snapshot(out)
    except Exception as exc:  # the site is still worth building without it; the report says why
        report.warnings.append(f"archive intelligence unavailable: {exc}")
        return None
    return result if isinstance(result, dict) else None


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        # mkdocs warns on every dirty build; its worry (stale navigation) does not apply to a fixed nav.
        if "'dirty' build" not in message:
            self.into.append(message)


def _mkdocs(config_file: Path, dirty: bool, report: SiteReport) -> None:
    try:
        from mkdocs.commands.build import build
        from mkdocs.config import load_config
        from mkdocs.exceptions import MkDocsException
    except ImportError as exc:
        raise ConfigError("the site needs the 'site' extra: uv sync --extra site") from exc
    logger = logging.getLogger("mkdocs")
    handler, level, propagate = _Collect(report.warnings), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # mkdocs' messages go to the report, not to the caller's terminal
    try:
        config = load_config(config_file=str(config_file))
        config.plugins.on_startup(command="build", dirty=dirty)
        try:
            build(config, dirty=dirty)
        finally:
            config.plugins.on_shutdown()
    except (MkDocsException, OSError) as exc:
        raise SiteError(f"mkdocs could not build the site: {exc}") from exc
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def build_site(out: Path, dest: Path, *, snapshot: Any = "auto", clean: bool = False) -> SiteReport:
    """Builds (or updates) the static site of the scans in `out` into `dest`.

    `snapshot`: the archive intelligence (`extractor.intelligence.snapshot(out)` is called when "auto" and the
    module is there), a dict, or None for none. `clean` rebuilds every page instead of the changed ones."""
    out, dest = out.resolve(), dest.resolve()
    _check_dest(dest)
    report = SiteReport(dest=dest)
    work = work_dir(dest)
    docs = work / "docs"
    started = time.perf_counter()

    loaded = load_scans(out, work / "scans.cache")
    report.scans, report.parsed, report.skipped = len(loaded.entries), loaded.parsed, loaded.skipped
    snap = _intelligence(out, report) if snapshot == "auto" else snapshot
    report.intelligence = snap is not None
    report.seconds["load"] = time.perf_counter() - started

    config_text = mkdocs_config(docs, dest)
    stamp = hashlib.sha256(f"{config_text}\n{_versions()}".encode()).hexdigest()
    marker = dest / MARKER
    previous_stamp = marker.read_text(encoding="utf-8").strip() if marker.is_file() else ""
    report.clean = clean or previous_stamp != stamp
    keys_file, search_file = work / "pages.json", work / "search.json"
    # Fingerprints count only for pages still on disk, and not at all for a clean build.
    previous = {} if report.clean else {p: k for p, k in _read_json(keys_file).items() if (docs / p).is_file()}

    t = time.perf_counter()
    rendered = render_site(loaded.entries, snap, previous)
    static = importlib.resources.files("extractor.site") / "assets"
    files: dict[str, bytes | None] = {p: None if text is None else text.encode("utf-8") for p, text in rendered.pages.items()}
    for name in _STATIC:
        files[f"assets/{name}"] = static.joinpath(name).read_bytes()
    report.pages = sum(1 for p in files if p.endswith(".md"))
    report.seconds["render"] = time.perf_counter() - t

    t = time.perf_counter()
    if report.clean:
        marker.unlink(missing_ok=True)  # a build that stops half-way must not pass for a complete one
        keys_file.unlink(missing_ok=True)
        search_file.unlink(missing_ok=True)
    for path, data in files.items():
        if data is not None:
            if path.endswith(".md"):
                data, body = _split_body(data)
                _write_if_changed(_hook.body_path(docs, path), body)
            report.written += _write_if_changed(docs / path, data)
    for stale in [p for p in docs.rglob("*") if p.is_file()] if docs.is_dir() else []:
        rel = stale.relative_to(docs).as_posix()
        if rel not in files:
            stale.unlink()
            _hook.body_path(docs, rel).unlink(missing_ok=True)
            (dest / _html_of(rel)).unlink(missing_ok=True)
            report.removed += 1
    _write_if_changed(work / "mkdocs.yml", config_text.encode("utf-8"))
    report.seconds["write"] = time.perf_counter() - t

    t = time.perf_counter()
    dest.mkdir(parents=True, exist_ok=True)
    _mkdocs(work / "mkdocs.yml", dirty=not report.clean, report=report)
    _replace(keys_file, json.dumps(rendered.keys).encode("utf-8"))
    report.seconds["mkdocs"] = time.perf_counter() - t

    t = time.perf_counter()
    plan = shards(loaded.entries)
    fingerprints = {
        shard: hashlib.sha256(repr([rendered.keys[f"scans/{i}.md"] for i in sorted(ids)]).encode()).hexdigest()
        for shard, ids in plan.items()
    }
    report.search_shards = update_search(dest, plan, fingerprints, {} if report.clean else _read_json(search_file))
    _replace(search_file, json.dumps(fingerprints).encode("utf-8"))
    report.seconds["search"] = time.perf_counter() - t
    _replace(marker, stamp.encode("ascii"))
    report.seconds["total"] = time.perf_counter() - started
    return report


def _wrote(outcome: str) -> bool:
    try:
        return Outcome(outcome).succeeded
    except ValueError:  # a code this version does not know wrote nothing it could show
        return False


def site_after_run(out: Path, dest: Path, outcomes: dict[str, str]) -> str:
    """For a scheduled run (`watch --site`): rebuilds the site when the run wrote a scan; returns what happened
    in one line. A failed build does not fail the run (its scans are written): the line says why."""
    if not any(_wrote(o) for o in outcomes.values()):
        return "site: nothing new"
    try:
        report = build_site(out, dest)
    except ExtractorError as exc:
        return f"site: not rebuilt: {exc}"
    return f"site: {report.scans} scans, {report.written} pages written in {report.seconds['total']:.1f} s"
