"""The analyst's site: a static site (mkdocs with the Material theme, Pagefind search) built from OUT's scans,
their sidecars and, when present, the archive intelligence. See docs/site.md."""

from __future__ import annotations

from extractor.site._build import MARKER, SiteReport, build_site, mkdocs_config, site_after_run, work_dir
from extractor.site._load import ScanEntry, load_scans
from extractor.site._pages import render_site

__all__ = ["MARKER", "ScanEntry", "SiteReport", "build_site", "load_scans", "mkdocs_config", "render_site", "site_after_run", "work_dir"]
