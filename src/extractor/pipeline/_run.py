"""The run driver: open a run, give every link one outcome, close the run. The in-process path
(`run_links_once`, on a thread pool) and the Prefect flows (`flows/`, one task per link) both go through
`open_run`, `process_link` and `close_run`, so they cannot drift apart.

Order matters: the output directory is checked before the model's identity is asked for (which starts the
embedded model's server), and a run always closes, whatever happens inside, so no input is left without an
outcome; a stopped run (Ctrl-C, SIGTERM) marks what it did not reach as `interrupted`, not failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from extractor import intelligence
from extractor.ledger import Ledger, Record, RunTotals
from extractor.output import write_index
from extractor.pipeline._config import RunConfig
from extractor.pipeline._process import Progress, input_of, run_links, unique
from extractor.pipeline._resources import Parts, build

if TYPE_CHECKING:
    from extractor.sources import Link


@dataclass
class RunSummary:
    """What a closed run did: its totals, the index written and what its model calls cost."""

    run_id: int
    totals: RunTotals
    index: Path
    model: str | None = None
    #: US dollars for the run's tokens at the model's price; None when the price is unknown.
    cost_usd: float | None = None
    interrupted: bool = False


@dataclass
class RunReport:
    run_id: int
    records: list[Record]
    totals: RunTotals
    index: Path
    summary: RunSummary | None = field(default=None, repr=False)

    @property
    def complete(self) -> bool:
        """Every input got an outcome (failures included): what exit code 0 means."""
        return all(r.outcome for r in self.records) and self.totals.outcomes.get("pending", 0) == 0


def read_links(spec: str, parts: Parts, *, follow: bool | None = None) -> list[Link]:
    """The links of a source (a URL or file: post, feed or draft), noted in the ledger's sources. `follow`
    forces a feed's items to be read as newsletter issues (True) or articles (False); None decides."""
    from extractor.sources import read_source

    try:
        # Issue posts are read through the web archive first: a published post does not change.
        found = read_source(spec, parts.source_fetcher, follow=follow, post_fetcher=parts.fetcher)
    except Exception as exc:
        parts.ledger.source_checked(spec, error=str(exc) or type(exc).__name__, links=0)
        raise
    parts.ledger.source_checked(spec, links=len(found), kind=found.kind)
    return list(found)


def new_links(links: Sequence[Link], ledger: Ledger) -> list[Link]:
    """What a watch processes: links never seen, and those whose last failure was transient."""
    known = ledger.known()
    retry = {r.canonical_url for r in ledger.retryable()}
    return [link for link in links if link.canonical not in known or link.canonical in retry]


def open_run(parts: Parts, command: str, links: Sequence[Link]) -> int:
    """Opens a ledger run with every link registered as pending (a crash leaves them marked, not forgotten).
    Raises ConfigError, before any model call, when the output directory cannot be written."""
    parts.out.check_writable()
    todo = unique(links)
    model = prompt_version = None
    if todo:  # nothing to do (a watch poll with no new item) starts no model
        model, prompt_version = parts.model, parts.prompt_version  # builds the extractor: the model starts here
    run_id = parts.ledger.start_run(command, model=model, prompt_version=prompt_version)
    parts.ledger.add_inputs(run_id, (input_of(link) for link in todo))
    return run_id


def close_run(parts: Parts, run_id: int, *, interrupted: bool = False) -> RunSummary:
    """Closes the run (a pending input becomes `interrupted` or `internal_error`) and rewrites the index."""
    totals = parts.ledger.finish_run(run_id, interrupted=interrupted)
    index = write_index(parts.out.path)
    model = price = None
    if parts.extractor_built:
        model = parts.model
        backend = getattr(parts.extractor, "backend", None)
        if backend is not None and hasattr(backend, "price"):
            price = backend.price(parts.config.llm.prices)
    cost = (totals.tokens_in * price[0] + totals.tokens_out * price[1]) / 1_000_000 if price else None
    return RunSummary(run_id, totals, index, model=model, cost_usd=cost, interrupted=interrupted)


def scans_written(parts: Parts, records: Sequence[Record]) -> None:
    """After a run that finished: the archive intelligence learns the scans it wrote (it never fails the run)."""
    intelligence.after_run(parts.out.path, [r.scan_id for r in records if r.succeeded])


def run_links_once(
    links: Sequence[Link],
    parts: Parts,
    *,
    command: str,
    concurrency: int = 8,
    progress: Progress | None = None,
) -> RunReport:
    """One run over `links` with `parts`, in process on a bounded thread pool."""
    run_id = open_run(parts, command, links)
    if parts.extractor_built and parts.max_concurrency is not None:
        # More threads would only queue at the model while their fetched pages wait in memory.
        concurrency = min(concurrency, parts.max_concurrency)
    interrupted = False
    try:
        if unique(links):
            records = run_links(links, parts.context(run_id), concurrency=concurrency, progress=progress)
        else:  # no model is needed, none is started
            records = []
            if progress is not None:
                progress(None, 0, 0)
    except BaseException as exc:
        interrupted = not isinstance(exc, Exception)  # KeyboardInterrupt (also SIGTERM, see the CLI), SystemExit
        raise
    finally:
        summary = close_run(parts, run_id, interrupted=interrupted)
    scans_written(parts, records)
    return RunReport(run_id, records, summary.totals, summary.index, summary)


def scan_url(
    url: str,
    config: RunConfig | None = None,
    *,
    origin: str = "",
    out: Path | str | None = None,
    parts: Parts | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """One article, in process. `config` defaults to the `EXTRACTOR_*` settings with `out`."""
    from extractor.sources import single_link

    link = single_link(url, origin=origin)  # a malformed URL or origin fails here, before anything starts
    own = parts is None
    parts = parts or build(config or RunConfig.make(out=out))
    try:
        return run_links_once([link], parts, command="scan", concurrency=1, progress=progress)
    finally:
        if own:
            parts.close()


def scan_source(
    spec: str,
    config: RunConfig | None = None,
    *,
    out: Path | str | None = None,
    offline: bool = False,
    concurrency: int | None = None,
    progress: Progress | None = None,
    only_new: bool = False,
    parts: Parts | None = None,
    command: str = "page",
    follow: bool | None = None,
) -> RunReport:
    """Every link of a newsletter post, feed or draft, in process on a bounded thread pool. The source is read
    before the model starts: a typo'd file or an unreachable post costs nothing."""
    config = config or RunConfig.make(out=out, offline=offline, concurrency=concurrency)
    own = parts is None
    parts = parts or build(config)
    try:
        links = read_links(spec, parts, follow=follow)
        if only_new:
            links = new_links(links, parts.ledger)
        return run_links_once(
            links, parts, command=command, concurrency=concurrency or config.concurrency, progress=progress
        )
    finally:
        if own:
            parts.close()
