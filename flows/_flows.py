"""The flows: what a deployment, a schedule or `extractor page --runner dask` runs.

Each flow drives a run with the library's own driver (`open_run`, then one `process-link` task per link, then
`close_run`) in the flow's process, so the embedded model's server, when there is one, is started and stopped
there and shared by every worker; the run's summary (outcomes, tokens, cost) is published as an artifact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, unmapped
from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from extractor.ledger import Record
from extractor.pipeline import RunConfig, RunSummary, close_run, open_run, release, scans_written, shared, unique
from extractor.sources import Link
from flows._tasks import new_links_task, process_link_task, read_links_task

DEFAULT_WORKERS = 8
SUMMARY_KEY = "extractor-run-summary"


def _threads() -> Any:
    # Typed as Any: prefect's stubs type a fresh ThreadPoolTaskRunner as TaskRunner[Never], which its own
    # flow decorator then refuses.
    return ThreadPoolTaskRunner(max_workers=DEFAULT_WORKERS)


def _config(out: str | None, offline: bool, archive: str | None, config: RunConfig | None) -> RunConfig:
    """The run's settings: as the caller read them (the CLI), else read here, once, for every task."""
    if config is not None:
        return config
    return RunConfig.make(out=Path(out) if out else None, offline=offline, archive=archive)


def summary_markdown(summary: RunSummary) -> str:
    t = summary.totals
    rows = "\n".join(f"| {outcome} | {n} |" for outcome, n in sorted(t.outcomes.items()))
    cost = f"${summary.cost_usd:.4f}" if summary.cost_usd is not None else "unknown (no price for this model)"
    state = " (interrupted)" if summary.interrupted else ""
    return (
        f"# Run {summary.run_id}{state}\n\n"
        f"{t.inputs} links: {t.succeeded} scanned ({t.skipped} unchanged or not retried), {t.failed} failed, "
        f"{t.interrupted} not reached.\n\n"
        f"| outcome | links |\n| --- | ---: |\n{rows}\n\n"
        f"Model {summary.model or 'unknown'}: {t.tokens_in} prompt tokens, {t.tokens_out} completion tokens, "
        f"{t.attempts} attempts; cost {cost}.\n\nIndex: `{summary.index}`\n"
    )


def _drive(links: list[Link], config: RunConfig, command: str) -> dict[str, Any]:
    """One run over `links`: opened and closed here, one task per unique link in between."""
    logger = get_run_logger()
    parts = shared(config)
    try:
        todo = unique(links)
        run_id = open_run(parts, command, todo)
        local_url = parts.local_url() if parts.extractor_built else None
        if local_url:
            # Workers in other processes use this process's embedded model instead of starting their own.
            config = config.model_copy(update={"local_url": local_url})
        logger.info("run %d: %d links, %s", run_id, len(todo), parts.describe() if todo else "no model needed")
        records: list[Record] = []
        interrupted = False
        try:
            futures = process_link_task.map(todo, config=unmapped(config), run_id=unmapped(run_id))
            for fut in futures:
                # A failed link is a Failed task that still carries its record; a task that crashed (a lost
                # worker) carries an exception instead, and close_run gives its input an outcome.
                value = fut.result(raise_on_failure=False)
                if isinstance(value, Record):
                    records.append(value)
        except BaseException as exc:
            interrupted = not isinstance(exc, Exception)
            raise
        finally:
            summary = close_run(parts, run_id, interrupted=interrupted)
            create_markdown_artifact(
                key=SUMMARY_KEY, markdown=summary_markdown(summary), description=f"extractor run {run_id}"
            )
            logger.info(summary_markdown(summary).splitlines()[2])
        scans_written(parts, records)
    finally:
        release(config)
    return {
        "run_id": summary.run_id,
        "totals": summary.totals.as_dict(),
        "outcomes": {r.url: r.outcome for r in records},
        "model": summary.model,
        "cost_usd": summary.cost_usd,
        "interrupted": summary.interrupted,
    }


@flow(name="scan-url")
def scan_url(url: str, origin: str = "", out: str | None = None, config: RunConfig | None = None) -> dict[str, Any]:
    """Scans one article: fetch, extract, write `OUT/{id}.md` and `.json`, record the outcome."""
    from extractor.sources import single_link

    return _drive([single_link(url, origin=origin)], _config(out, False, None, config), "flow:scan-url")


@flow(name="scan-page", task_runner=_threads())
def scan_page(
    source: str,
    out: str | None = None,
    offline: bool = False,
    archive: str | None = None,
    follow: bool | None = None,
    config: RunConfig | None = None,
) -> dict[str, Any]:
    """Scans every link of a newsletter post, feed or draft (URL or file), one task per link, with the bounded
    workers of the flow's task runner (`scan_page.with_options(task_runner=...)` to change them). `follow`: read
    a feed's items as newsletter issues (True) or articles (False); None decides per feed."""
    config = _config(out, offline, archive, config)
    links = read_links_task(source, config, follow)
    return _drive(links, config, "flow:scan-page")


@flow(name="watch", task_runner=_threads())
def watch(
    sources: list[str], out: str | None = None, site: str | None = None, follow: bool | None = None
) -> dict[str, Any]:
    """Polls feeds and newsletter archives; processes only links never seen (or that failed transiently).
    A source that cannot be read is reported and skipped; the others still run. With `site`, the static site
    there is rebuilt after a run that wrote a scan. `follow`: read feed items as newsletter issues (True) or
    articles (False); None decides per feed."""
    logger = get_run_logger()
    config = _config(out, False, None, None)
    links: list[Link] = []
    unreadable: dict[str, str] = {}
    for spec in sources:
        try:
            links.extend(read_links_task(spec, config, follow))
        except Exception as exc:
            unreadable[spec] = str(exc) or type(exc).__name__
            logger.warning("source %s: %s", spec, unreadable[spec])
    fresh = new_links_task(links, config)
    result = _drive(fresh, config, "flow:watch")
    result["unreadable"] = unreadable
    if site:
        from extractor.site import site_after_run

        result["site"] = site_after_run(Path(config.out), Path(site), result["outcomes"])
        logger.info("%s", result["site"])
    return result
