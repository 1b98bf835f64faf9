"""Prefect tasks: each a thin wrapper over one library function of `extractor.pipeline`.

Tasks may run in other processes (Dask workers): they receive the run's `RunConfig` and build their parts
(fetcher, extractor, ledger) once per process with `extractor.pipeline.shared`.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import INPUTS, TASK_SOURCE

from extractor import intelligence
from extractor.ledger import Record
from extractor.output import write_index
from extractor.pipeline import RunConfig, new_links, process_link, read_links, shared
from extractor.sources import Link


@task(name="read-links")
def read_links_task(spec: str, config: RunConfig, follow: bool | None = None) -> list[Link]:
    """The links of one newsletter post, feed or draft; what reading it has to say goes to the run's log."""
    from prefect.logging import get_run_logger

    from extractor.sources import source_notes

    logger = get_run_logger()
    with source_notes(logger.info):
        return read_links(spec, shared(config), follow=follow)


@task(name="new-links")
def new_links_task(links: list[Link], config: RunConfig) -> list[Link]:
    """Only links never processed, or whose last failure was transient."""
    return new_links(links, shared(config).ledger)


@task(name="open-run")
def open_run_task(config: RunConfig, command: str, links: list[Link]) -> int:
    """Opens a ledger run and registers its inputs as pending."""
    from extractor.pipeline._process import input_of, unique

    parts = shared(config)
    run_id = parts.ledger.start_run(command, model=parts.model, prompt_version=parts.prompt_version)
    parts.ledger.add_inputs(run_id, (input_of(link) for link in unique(links)))
    return run_id


@task(name="close-run")
def close_run_task(config: RunConfig, run_id: int) -> dict[str, Any]:
    """Closes the run (a pending input becomes internal_error) and rewrites the index."""
    parts = shared(config)
    totals = parts.ledger.finish_run(run_id)
    write_index(parts.out.path)
    intelligence.after_run(parts.out.path, None)  # the scans this run wrote are the folder's new ones
    return totals.as_dict()


# Cached on its inputs (text, url, origin, title, model, prompt version) AND this task's source: INPUTS alone
# would hand a cached value to any other task with equal inputs. `config` (where files go) is left out of the
# key: the same article, prompt and model give the same answer whatever the output directory.
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


@task(name="process-link")
def process_link_task(link: Link, config: RunConfig, run_id: int) -> Record:
    """Fetch, read, extract (through the cached task), write and record one link."""
    parts = shared(config)

    def extract(text: str, *, url: str, origin: str, origin_url: str, title: str | None = None) -> Any:
        return extract_task(text, url, origin, origin_url, title, parts.model, parts.prompt_version, config)

    return process_link(link, parts.context(run_id, extract=extract))
