"""The pipeline as a library: links in, one outcome per link out (files written, ledger updated).

`scan_url` and `scan_source` run in process on a thread pool; the Prefect flows in the top-level `flows`
package call the same functions (`process_link`, `read_links`, `new_links`) one task per link.
"""

from __future__ import annotations

from extractor.pipeline._config import PipelineSettings, RunConfig
from extractor.pipeline._process import Context, Progress, process_link, run_links, unique
from extractor.pipeline._resources import Parts, build, close_shared, model_identity, shared
from extractor.pipeline._run import (
    RunReport,
    new_links,
    read_links,
    run_links_once,
    scan_source,
    scan_url,
)

__all__ = [
    "Context",
    "Parts",
    "PipelineSettings",
    "Progress",
    "RunConfig",
    "RunReport",
    "build",
    "close_shared",
    "model_identity",
    "new_links",
    "process_link",
    "read_links",
    "run_links",
    "run_links_once",
    "scan_source",
    "scan_url",
    "shared",
    "unique",
]
