"""Prefect tasks: each a thin wrapper over one library function of `extractor.pipeline`.

Tasks may run in other processes (Dask workers): they receive the run's `RunConfig` (every setting, read once
at the entry point) and build their parts (fetcher, extractor, ledger) once per process with
`extractor.pipeline.shared`. A link that fails ends its task Failed, the message starting with its outcome
code, so the UI shows what the ledger holds; the task's data is still the link's record.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from prefect import task
from prefect.cache_policies import INPUTS, NO_CACHE, TASK_SOURCE
from prefect.client.schemas.objects import State
from prefect.logging import get_run_logger
from prefect.states import Completed, Failed

from extractor.ledger import Record
from extractor.pipeline import RunConfig, new_links, process_link, read_links, shared
from extractor.sources import Link


@task(name="read-links", cache_policy=NO_CACHE)
def read_links_task(spec: str, config: RunConfig, follow: bool | None = None) -> list[Link]:
    """The links of one newsletter post, feed or draft; what reading it has to say goes to the run's log."""
    from extractor.sources import source_notes

    logger = get_run_logger()
    with source_notes(logger.info):
        links = read_links(spec, shared(config), follow=follow)
    logger.info("%s: %d links", spec, len(links))
    return links


@task(name="new-links", cache_policy=NO_CACHE)
def new_links_task(links: list[Link], config: RunConfig) -> list[Link]:
    """Only links never processed, or whose last failure was transient."""
    fresh = new_links(links, shared(config).ledger)
    get_run_logger().info("%d new links of %d found", len(fresh), len(links))
    return fresh


# Cached on its inputs (text, url, origin, title, model, prompt version) AND this task's source: INPUTS alone
# would hand a cached value to any other task with equal inputs. `config` (where files go, the API key) is left
# out of the key: the same article, prompt and model give the same answer whatever the output directory. The
# entry expires after `config.cache_days` (see `process_link_task`).
@task(name="extract", cache_policy=(INPUTS - "config") + TASK_SOURCE, persist_result=True)
def extract_task(
    text: str,
    url: str,
    origin: str,
    origin_url: str,
    title: str | None,
    model: str | None,
    prompt_version: str | None,
    config: RunConfig,
) -> Any:
    """One model call (with its re-asks) for one article's text."""
    return shared(config).extractor.extract(text, url=url, origin=origin, origin_url=origin_url, title=title)


@functools.cache
def _extract_expiring(days: float) -> Any:
    """The extract task with entries kept `days` days (one copy per value: `with_options` rebuilds the task)."""
    return extract_task.with_options(cache_expiration=timedelta(days=days))


def link_state(rec: Record) -> State[Record]:
    """The task state a link's record deserves: Completed for a scan written (or unchanged), Failed with the
    outcome code first in the message otherwise."""
    if rec.succeeded:
        note = " (unchanged, model not called)" if rec.skipped else ""
        return Completed(message=f"{rec.outcome}{note}", data=rec)
    note = " (not retried)" if rec.skipped else ""
    return Failed(message=f"{rec.outcome}: {rec.error}{note}", data=rec)


@task(name="process-link", cache_policy=NO_CACHE)
def process_link_task(link: Link, config: RunConfig, run_id: int) -> State[Record]:
    """Fetch, read, extract (through the cached task), write and record one link."""
    parts = shared(config)
    cached = _extract_expiring(config.cache_days)

    def extract(text: str, *, url: str, origin: str, origin_url: str, title: str | None = None) -> Any:
        return cached(text, url, origin, origin_url, title, parts.model, parts.prompt_version, config)

    rec = process_link(link, parts.context(run_id, extract=extract))
    logger = get_run_logger()
    if rec.succeeded:
        logger.info("%s %s -> %s.md%s", rec.outcome, rec.url, rec.scan_id, " (unchanged)" if rec.skipped else "")
    else:
        logger.warning("%s %s: %s", rec.outcome, rec.url, rec.error)
    return link_state(rec)
