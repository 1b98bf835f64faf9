"""Prefect flows over the `extractor.pipeline` library: `scan_url`, `scan_page`, `watch`.

Thin on purpose: each task calls one library function, so the CLI's in-process path and the flows do the same
work. Run them on a Prefect server (`prefect server start`, `PREFECT_API_URL`), serve `watch` on a schedule
(`extractor watch`), or on a Dask cluster (`extractor page --runner dask`).
"""

from __future__ import annotations

from extractor._expected_errors import quiet_expected_errors
from flows._flows import DEFAULT_WORKERS, scan_page, scan_url, watch
from flows._runners import task_runner

quiet_expected_errors()  # a failed task that failed on purpose is logged in one line, not three tracebacks

__all__ = ["DEFAULT_WORKERS", "scan_page", "scan_url", "task_runner", "watch"]
