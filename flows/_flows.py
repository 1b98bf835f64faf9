"""The flows: what a deployment, a schedule or `extractor page --runner dask` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, unmapped
from prefect.task_runners import ThreadPoolTaskRunner

from extractor.ledger import Record
from extractor.pipeline import RunConfig
from extractor.sources import Link
from flows._tasks import (
    close_run_task,
    new_links_task,
    open_run_task,
    process_link_task,
    read_links_task,
)

DEFAULT_WORKERS = 8


def _threads() -> Any:
    # Typed as Any: prefect's stubs type a fresh ThreadPoolTaskRunner as TaskRunner[Never], which its own
    # flow decorator then refuses.
    return ThreadPoolTaskRunner(max_workers=DEFAULT_WORKERS)


def _config(out: str | None, offline: bool, archive: str | None) -> RunConfig:
    return RunConfig.make(
        out=Path(out) if out else None, offline=offline, archive=Path(archive) if archive else None
    )


def _process(links: list[Link], config: RunConfig, command: str) -> dict[str, Any]:
    run_id = open_run_task(config, command, links)
    futures = process_link_task.map(links, config=unmapped(config), run_id=unmapped(run_id))
    records: list[Record] = []
    try:
        # process_link turns every Exception into a record; a task that still fails (a crashed worker) leaves
        # its input pending, and close-run gives it an outcome.
        for fut in futures:
            try:
                records.append(fut.result())
            except Exception:
                continue
    finally:
        totals = close_run_task(config, run_id)
    return {"run_id": run_id, "totals": totals, "outcomes": {r.url: r.outcome for r in records}}


@flow(name="scan-url", log_prints=True)
def scan_url(url: str, origin: str = "", out: str | None = None) -> dict[str, Any]:
    """Scans one article: fetch, extract, write `OUT/{id}.md` and `.json`, record the outcome."""
    from extractor.sources import single_link

    config = _config(out, False, None)
    return _process([single_link(url, origin=origin)], config, "flow:scan-url")


@flow(name="scan-page", task_runner=_threads(), log_prints=True)
def scan_page(
    source: str,
    out: str | None = None,
    offline: bool = False,
    archive: str | None = None,
    follow: bool | None = None,
) -> dict[str, Any]:
    """Scans every link of a newsletter post, feed or draft (URL or file), one task per link, with the bounded
    workers of the flow's task runner (`scan_page.with_options(task_runner=...)` to change them)."""
    config = _config(out, offline, archive)
    links = read_links_task(source, config, follow)
    return _process(links, config, "flow:scan-page")


@flow(name="watch", task_runner=_threads(), log_prints=True)
def watch(
    sources: list[str], out: str | None = None, site: str | None = None, follow: bool | None = None
) -> dict[str, Any]:
    """Polls feeds and newsletter archives; processes only links never seen (or that failed transiently).
    A source that cannot be read is reported and skipped; the others still run. With `site`, the static site
    there is rebuilt after a run that wrote a scan. `follow`: read feed items as newsletter issues (True) or
    articles (False); None decides per feed."""
    config = _config(out, False, None)
    links: list[Link] = []
    unreadable: dict[str, str] = {}
    for spec in sources:
        try:
            links.extend(read_links_task(spec, config, follow))
        except Exception as exc:
            unreadable[spec] = str(exc) or type(exc).__name__
            print(f"source {spec}: {unreadable[spec]}")
    fresh = new_links_task(links, config)
    print(f"{len(fresh)} new links of {len(links)} found")
    result = _process(fresh, config, "flow:watch")
    result["unreadable"] = unreadable
    if site:
        from extractor.site import site_after_run

        result["site"] = site_after_run(Path(config.out), Path(site), result["outcomes"])
        print(result["site"])
    return result
