"""Runs as the CLI and the flows start them: open a run in the ledger, process links, close it, rewrite the
index. A run always closes, whatever happens inside, so no input is left without an outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from extractor import intelligence
from extractor.errors import Outcome
from extractor.ledger import Ledger, Record, RunTotals
from extractor.output import write_index
from extractor.pipeline._config import RunConfig
from extractor.pipeline._process import Progress, run_links
from extractor.pipeline._resources import Parts, build

if TYPE_CHECKING:
    from extractor.sources import Link


@dataclass
class RunReport:
    run_id: int
    records: list[Record]
    totals: RunTotals
    index: Path

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


def run_links_once(
    links: Sequence[Link],
    parts: Parts,
    *,
    command: str,
    concurrency: int = 8,
    progress: Progress | None = None,
) -> RunReport:
    """One run over `links` with `parts`: ledger run opened and closed, index rewritten."""
    if parts.max_concurrency is not None:
        concurrency = min(concurrency, parts.max_concurrency)
    run_id = parts.ledger.start_run(command, model=parts.model, prompt_version=parts.prompt_version)
    try:
        records = run_links(links, parts.context(run_id), concurrency=concurrency, progress=progress)
    finally:
        totals = parts.ledger.finish_run(run_id)
        index = write_index(parts.out.path)
    intelligence.after_run(parts.out.path, [r.scan_id for r in records if r.outcome in (Outcome.OK, Outcome.TOO_LONG)])
    return RunReport(run_id, records, totals, index)


def scan_url(
    url: str, config: RunConfig, *, origin: str = "", parts: Parts | None = None
) -> RunReport:
    """One article, in process."""
    from extractor.sources import single_link

    own = parts is None
    parts = parts or build(config)
    try:
        return run_links_once([single_link(url, origin=origin)], parts, command="scan", concurrency=1)
    finally:
        if own:
            parts.close()


def scan_source(
    spec: str,
    config: RunConfig,
    *,
    concurrency: int = 8,
    progress: Progress | None = None,
    only_new: bool = False,
    parts: Parts | None = None,
    command: str = "page",
    follow: bool | None = None,
) -> RunReport:
    """Every link of a newsletter post, feed or draft, in process on a bounded thread pool."""
    own = parts is None
    parts = parts or build(config)
    try:
        links = read_links(spec, parts, follow=follow)
        if only_new:
            links = new_links(links, parts.ledger)
        return run_links_once(links, parts, command=command, concurrency=concurrency, progress=progress)
    finally:
        if own:
            parts.close()
