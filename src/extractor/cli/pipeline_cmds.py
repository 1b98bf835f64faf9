"""Pipeline commands: scan, page, watch, status, index, export.

No business logic here: each command parses options, calls `extractor.pipeline` (in process) or a flow of the
top-level `flows` package (on a Prefect server or Dask), and prints what happened. Prefect, the model client and
pyarrow are imported inside the commands that need them, so `status` and `index` start fast and `scan` does not
pay Prefect's start-up.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from pydantic import ValidationError

from extractor.cli._common import fail
from extractor.errors import ConfigError, ExtractorError

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

    from extractor.ledger import Record
    from extractor.pipeline import RunReport

OutOption = Annotated[
    Path | None, typer.Option("--out", help="Directory for the scans (default $EXTRACTOR_OUT or ./scans).")
]
FollowOption = Annotated[
    bool | None,
    typer.Option(
        "--follow/--no-follow",
        help="Read a feed's items as newsletter issues and scan the articles they link (--follow), or scan "
        "the items themselves (--no-follow). Default: decided per feed, and said on stderr.",
    ),
]


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _sigterm_as_interrupt() -> None:
    """SIGTERM (a `kill`, a stopped container) unwinds like Ctrl-C: the run is closed in the ledger and the
    embedded model's server stopped, instead of both being left behind."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread (tests calling the app in a thread)
        signal.signal(signal.SIGTERM, handler)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Usage and configuration errors, or a source that cannot be read: one line on stderr, exit 2 or 1."""
    try:
        yield
    except KeyboardInterrupt:
        _err("interrupted: links not done are marked in the ledger and redone by the next run")
        sys.stderr.flush()
        # Worker threads may sit in a model call for minutes; the run is already closed, so do not wait.
        os._exit(130)
    except ConfigError as exc:
        fail(str(exc), 2)
    except ValidationError as exc:  # a bad EXTRACTOR_* value in the environment
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or exc.title
        fail(f"setting {where}: {first.get('msg', 'invalid')}", 2)
    except ExtractorError as exc:
        fail(str(exc), 1)


def _prefect_url() -> str | None:
    return os.environ.get("PREFECT_API_URL") or None


def _via_prefect(runner: str) -> bool:
    """Whether the run goes through Prefect (a server, or Dask), saying so; the in-process path says so
    itself once its parts are built, so that a configuration error stays the only line printed."""
    url = _prefect_url()
    if runner == "dask":
        _err(f"running as a Prefect flow on Dask ({'server ' + url if url else 'ephemeral Prefect API'})")
        return True
    if url:
        _err(f"running as a Prefect flow on {url}")
        return True
    return False


IN_PROCESS = "running in process (PREFECT_API_URL not set)"
PARQUET_MISSING = "no Parquet file: it needs pyarrow, the 'parquet' extra (uv sync --extra parquet)"


def _line(rec: Record, out: Path) -> str:
    if rec.succeeded:
        note = " (unchanged, model not called)" if rec.skipped else ""
        return f"{rec.outcome:<16} {out / (rec.scan_id + '.md')}{note}"
    note = " (not retried)" if rec.skipped else ""
    return f"{rec.outcome:<16} {rec.url}: {rec.error}{note}"


def _summary(report: RunReport) -> str:
    t = report.totals
    return (
        f"{t.inputs} links: {t.succeeded} scanned ({t.skipped} unchanged or not retried), {t.failed} failed; "
        f"tokens {t.tokens_in} in, {t.tokens_out} out; index {report.index}"
    )


@contextmanager
def _progress(total_hint: str, announce: Callable[[], str]) -> Iterator[Callable[[Record | None, int, int], None]]:
    """A rich progress bar on stderr, fed by the pipeline's progress callback. It appears at the callback's first
    call (the run open, the links counted: no record yet), so it shows `0/N` through the first article, never
    `0/?`, and not at all when the run fails to start; that call also says which model runs."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
        console=console,
        transient=False,
    )
    task: list[TaskID] = []

    def update(rec: Record | None, done: int, total: int) -> None:
        if rec is None:
            console.print(announce(), highlight=False, soft_wrap=True)
            task.append(bar.add_task(total_hint, total=total, last=""))
            bar.start()
            return
        bar.update(task[0], completed=done, total=total, last=f"{rec.outcome} {rec.url[:60]}")

    try:
        yield update
    finally:
        if task:
            bar.stop()


def _check_complete(report: RunReport) -> None:
    # Exit 0 means every input got an outcome (failures are outcomes); anything else is a bug worth an alarm.
    if not report.complete:
        _err("error: some links ended without an outcome (see extractor status)")
        raise typer.Exit(1)


def _say_unimported(directory: Path) -> None:
    from extractor.output import pages_without_sidecar

    missing = pages_without_sidecar(directory)
    if missing:
        _err(f"{len(missing)} pages in {directory} have no sidecar and are left out "
             f"(`extractor import {directory}` brings them in)")  # fmt: skip


def _flow_result(result: dict[str, Any]) -> None:
    totals = dict(result.get("totals", {}))
    totals["cost_usd"] = result.get("cost_usd")
    typer.echo(json.dumps(totals, indent=None))


def register(app: typer.Typer) -> None:
    """Adds the pipeline commands to `app`."""

    @app.command()
    def scan(
        url: Annotated[str, typer.Argument(help="The article's URL.")],
        origin: Annotated[str, typer.Option("--origin", help="Newsletter issue id, e.g. 20250629d.")] = "",
        out: OutOption = None,
    ) -> None:
        """Scan one article: writes OUT/{id}.md and OUT/{id}.json and records the outcome."""
        _sigterm_as_interrupt()
        with _one_line_errors():
            from extractor.pipeline import RunConfig, build
            from extractor.pipeline import scan_url as run_scan_url

            config = RunConfig.make(out=out)  # every setting, read once here, for this process and any worker
            if _via_prefect("threads"):
                from flows import scan_url

                _flow_result(scan_url(url, origin=origin, config=config))
                return
            parts = build(config)
            try:

                def announce(rec: Record | None, done: int, total: int) -> None:
                    if rec is None:  # the run is open, the model ready: say where it runs and which model
                        _err(f"{IN_PROCESS}, {parts.describe()}")

                report = run_scan_url(url, config, origin=origin, parts=parts, progress=announce)
            finally:
                parts.close()
            for rec in report.records:
                typer.echo(_line(rec, Path(config.out)))
            _check_complete(report)

    @app.command()
    def page(
        source: Annotated[str, typer.Argument(help="A newsletter post, feed or draft: URL or file.")],
        out: OutOption = None,
        concurrency: Annotated[
            int | None, typer.Option("--concurrency", min=1, max=256, help="Links processed at once.")
        ] = None,
        offline: Annotated[
            bool, typer.Option("--offline", help="Read pages from the web archive only; never the network.")
        ] = False,
        archive: Annotated[
            Path | None,
            typer.Option("--archive", help="Web archive directory (default $EXTRACTOR_HOME/web)."),
        ] = None,
        runner: Annotated[
            str, typer.Option("--runner", help="threads (default) or dask (needs the 'dask' extra).")
        ] = "threads",
        follow: FollowOption = None,
    ) -> None:
        """Scan every link of a newsletter post: each link ends with one outcome in the ledger."""
        from extractor.sources import source_notes

        _sigterm_as_interrupt()
        with _one_line_errors(), source_notes(_err):
            from extractor.pipeline import RunConfig, build, scan_source

            if runner not in ("threads", "dask"):
                raise ConfigError(f"unknown runner {runner!r}: use threads or dask")
            if archive is not None and not archive.is_dir():
                raise ConfigError(f"--archive {archive}: no such directory")
            # Every setting, read once here, for this process and any worker.
            config = RunConfig.make(out=out, offline=offline, archive=archive, concurrency=concurrency)
            if _via_prefect(runner):
                from flows import scan_page, task_runner

                flow = scan_page.with_options(task_runner=task_runner(runner, config.concurrency))
                _flow_result(flow(source, follow=follow, config=config))
                return
            parts = build(config)
            try:

                def announce() -> str:
                    if not parts.extractor_built:
                        return f"{IN_PROCESS}, no links to scan: no model started"
                    limit = parts.max_concurrency
                    note = f"; it answers {limit} request at a time" if limit and limit < config.concurrency else ""
                    return f"{IN_PROCESS}, {parts.describe()}{note}"

                with _progress("links", announce) as progress:
                    report = scan_source(source, config, progress=progress, parts=parts, follow=follow)
            finally:
                parts.close()
            for rec in report.records:
                if not rec.succeeded:
                    typer.echo(_line(rec, Path(config.out)))
            typer.echo(_summary(report))
            _check_complete(report)

    @app.command()
    def watch(
        sources: Annotated[list[str], typer.Argument(help="Feeds and newsletter archives (URLs or files).")],
        cron: Annotated[str | None, typer.Option("--cron", help="Cron schedule, e.g. '0 7 * * *'.")] = None,
        interval: Annotated[
            float | None, typer.Option("--interval", min=1, help="Seconds between polls.")
        ] = None,
        out: OutOption = None,
        name: Annotated[str, typer.Option("--name", help="Deployment name.")] = "extractor-watch",
        site: Annotated[
            Path | None, typer.Option("--site", help="Rebuild the static site in this folder after a run that wrote.")
        ] = None,
        follow: FollowOption = None,
    ) -> None:
        """Serve a scheduled Prefect deployment that processes only new items of SOURCES. Needs a Prefect
        server (`prefect server start`, then PREFECT_API_URL): schedules never fire on the ephemeral API."""
        with _one_line_errors():
            if (cron is None) == (interval is None):
                raise ConfigError("give exactly one of --cron EXPR or --interval SECONDS")
            if not _prefect_url():
                raise ConfigError(
                    "watch needs a Prefect server: run `prefect server start` and set "
                    "PREFECT_API_URL=http://127.0.0.1:4200/api"
                )
            from flows import watch as watch_flow
            from prefect import serve

            params: dict[str, Any] = {
                "sources": list(sources),
                "out": str(out.resolve()) if out else None,
                "follow": follow,
            }
            if site:
                params["site"] = str(site.resolve())
            deployment = watch_flow.to_deployment(
                name=name, cron=cron, interval=interval, parameters=params
            )
            _err(f"serving deployment watch/{name} on {_prefect_url()} (Ctrl-C to stop)")
            # limit=1: overlapping polls would both see the same new items as new.
            serve(cast("RunnerDeployment", deployment), print_starting_message=False, limit=1)

    @app.command()
    def status(
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Every article in the ledger under EXTRACTOR_HOME, with its latest outcome (and the links of runs
        still going, or killed, that have none yet)."""
        from extractor.cli._status import read_sources, read_status, status_json, status_text

        with _one_line_errors():
            latest, totals = read_status()
            sources = read_sources()
        if as_json:
            typer.echo(status_json(latest, totals, sources))
        else:
            typer.echo(status_text(latest, totals, sources))

    @app.command()
    def index(out: OutOption = None) -> None:
        """Rewrite OUT/index.md: titles linked by id, grouped by origin, newest first."""
        from extractor.output import write_index
        from extractor.pipeline import PipelineSettings

        with _one_line_errors():
            directory = out or PipelineSettings().out
            if not directory.is_dir():
                raise ConfigError(f"{directory}: no such directory")
            typer.echo(str(write_index(directory)))
            _say_unimported(directory)

    @app.command()
    def export(
        out: OutOption = None,
        dest: Annotated[
            Path | None, typer.Option("--dest", help="Where to write the exports (default: OUT).")
        ] = None,
    ) -> None:
        """Write every scan as JSONL and every table row as CSV and Parquet (Parquet with the 'parquet' extra)."""
        from extractor.output import export as run_export
        from extractor.pipeline import PipelineSettings

        with _one_line_errors():
            directory = out or PipelineSettings().out
            if not directory.is_dir():
                raise ConfigError(f"{directory}: no such directory")
            done = run_export(directory, dest or directory)
            typer.echo(f"{done.scans} scans -> {done.jsonl}")
            if done.parquet is None:
                typer.echo(f"{done.rows} rows -> {done.csv}")
                _err(PARQUET_MISSING)
            else:
                typer.echo(f"{done.rows} rows -> {done.csv}, {done.parquet}")
            _say_unimported(directory)

