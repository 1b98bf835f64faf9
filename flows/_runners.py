"""Task runners by name: `threads` (bounded thread pool, the default) or `dask` (prefect-dask)."""

from __future__ import annotations

from typing import Any

from extractor.errors import ConfigError

RUNNERS = ("threads", "dask")


def task_runner(name: str, workers: int, *, address: str | None = None) -> Any:
    """A task runner for `workers` concurrent tasks. `dask` starts a LocalCluster of that many single-threaded
    worker processes, unless `address` (or `EXTRACTOR_DASK_ADDRESS`) names a running scheduler."""
    import os

    if name == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    if name == "dask":
        try:
            from prefect_dask.task_runners import DaskTaskRunner
        except ImportError as exc:
            raise ConfigError("--runner dask needs the 'dask' extra: uv sync --extra dask") from exc
        address = address or os.environ.get("EXTRACTOR_DASK_ADDRESS")
        if address:
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                            "dashboard_address": None},
        )
    raise ConfigError(f"unknown runner {name!r}: use one of {', '.join(RUNNERS)}")
