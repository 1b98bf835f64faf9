"""The pipeline as a library: links in, one outcome per link out (files written, ledger updated).

`scan_url` and `scan_source` run in process on a thread pool; the Prefect flows in the top-level `flows`
package drive the same run (`open_run`, `process_link`, `close_run`) one task per link.
"""

from __future__ import annotations

from extractor.pipeline._config import PipelineSettings, RunConfig
from extractor.pipeline._limits import Limits, SharedBudget
from extractor.pipeline._process import Context, Progress, process_link, run_links, unique
from extractor.pipeline._resources import Parts, build, close_shared, model_identity, release, shared
from extractor.pipeline._run import (
    RunReport,
    RunSummary,
    close_run,
    new_links,
    open_run,
    read_links,
    run_links_once,
    scan_source,
    scan_url,
    scans_written,
)

__all__ = [
    "Context",
    "Limits",
    "Parts",
    "PipelineSettings",
    "Progress",
    "RunConfig",
    "RunReport",
    "RunSummary",
    "SharedBudget",
    "build",
    "close_run",
    "close_shared",
    "model_identity",
    "new_links",
    "open_run",
    "process_link",
    "read_links",
    "release",
    "run_links",
    "run_links_once",
    "scan_source",
    "scan_url",
    "scans_written",
    "shared",
    "unique",
]
