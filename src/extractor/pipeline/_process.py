"""One link from URL to files and ledger row, and many links on a bounded thread pool.

Every link ends with exactly one `Record`: success, skip or a typed failure. Nothing escapes `process_link`
but `BaseException`s that are not `Exception`s (KeyboardInterrupt, SystemExit), which stop the run; the ledger
then marks what was left as interrupted, for the next run to redo.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any, Protocol

from extractor.errors import ExtractionError, ExtractorError, Outcome, outcome_of
from extractor.ledger import Input, Ledger, Record, now, should_retry
from extractor.models import Provenance, Scan, scan_id
from extractor.output import OutputDir

if TYPE_CHECKING:
    from extractor.sources import Link

def _package_version() -> str:
    try:
        return metadata.version("extractor")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


_version = _package_version()

#: Called once before the first link with (None, 0, total), then after each link with its record, how many links
#: are done and how many there are.
Progress = Callable[[Record | None, int, int], None]


class ExtractResult(Protocol):
    scan: Scan
    provenance: Provenance


class ExtractFn(Protocol):
    def __call__(
        self, text: str, *, url: str, origin: str, origin_url: str, title: str | None = None
    ) -> ExtractResult: ...


class Fetch(Protocol):
    def __call__(self, url: str) -> Any: ...


@dataclass
class Context:
    """What processing a link needs. Its parts are thread-safe; one context serves all threads of a run."""

    fetch: Fetch
    to_article: Callable[[Any], Any]
    extract: ExtractFn
    out: OutputDir
    ledger: Ledger
    run_id: int
    model: str | None
    prompt_version: str | None
    origin_url: Callable[[str], str]
    retry_permanent: bool = False


def _ms(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)


def _internal(exc: BaseException) -> str:
    # An internal error is a bug: say where, so the message is enough to find it.
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" (at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


def input_of(link: Link) -> Input:
    return Input(link.url, link.canonical, scan_id(link.url), link.origin, link.source, link.date or None)


def process_link(link: Link, ctx: Context) -> Record:
    """Fetch, read, extract, write and record one link; returns its record (already in the ledger)."""
    start = time.perf_counter()
    base: dict[str, Any] = {
        "url": link.url,
        "canonical_url": link.canonical,
        "scan_id": scan_id(link.url),
        "origin": link.origin,
        "source": link.source,
        "started_at": now(),
        "issue_date": link.date or None,
    }
    prior = ctx.ledger.last(link.canonical)
    if prior is not None and not should_retry(prior, retry_permanent=ctx.retry_permanent):
        # A permanent failure: carried over without a fetch, so a rerun costs nothing.
        rec = Record(
            **base,
            outcome=prior.outcome,
            error=prior.error,
            skipped=True,
            model=prior.model,
            prompt_version=prior.prompt_version,
            content_hash=prior.content_hash,
            total_ms=_ms(start),
        )
        ctx.ledger.record(ctx.run_id, rec)
        return rec

    fetch_ms = extract_ms = None
    extract_start: float | None = None
    content_hash: str | None = None
    result: ExtractResult | None = None
    try:
        t = time.perf_counter()
        page = ctx.fetch(link.url)
        article = ctx.to_article(page)
        fetch_ms = _ms(t)
        content_hash = article.content_hash
        # What the article says of itself, when trafilatura finds it: kept in the ledger and the sidecar.
        base |= {"article_date": article.date, "author": article.author, "site_name": article.sitename}
        # One run at a time per article (two runs at once would both pay): waits while another holds it.
        ctx.ledger.lease(link.canonical, ctx.run_id)
        done = ctx.ledger.last_success(link.canonical)
        if (
            done is not None
            and done.content_hash == content_hash
            and done.model == ctx.model
            and done.prompt_version == ctx.prompt_version
            and ctx.out.has(base["scan_id"])
        ):
            # Same text, prompt and model as a scan already written: the model would say the same again.
            rec = Record(
                **base,
                outcome=done.outcome,
                skipped=True,
                model=done.model,
                prompt_version=done.prompt_version,
                content_hash=content_hash,
                fetch_ms=fetch_ms,
                total_ms=_ms(start),
            )
        else:
            extract_start = time.perf_counter()
            result = ctx.extract(
                article.text,
                url=link.url,
                origin=link.origin,
                origin_url=ctx.origin_url(link.origin),
                title=article.title,
            )
            extract_ms = _ms(extract_start)
            prov = result.provenance.model_copy(
                update={
                    "source": link.source or None,
                    "canonical_url": link.canonical,
                    "final_url": page.final_url,
                    "fetched_at": page.fetched_at,
                    "content_hash": content_hash,
                    "truncated": bool(result.provenance.truncated or article.truncated),
                    "created_at": result.provenance.created_at or now(),
                    "extractor_version": _version,
                    "issue_date": link.date or None,
                    "article_date": article.date,
                    "author": article.author,
                    "site_name": article.sitename,
                }
            )
            ctx.out.write(result.scan, prov)
            usage = prov.usage
            rec = Record(
                **base,
                outcome=(Outcome.TOO_LONG if prov.truncated else Outcome.OK).value,
                # The configured identity, as the skip test compares it (prov.model is what the server echoed).
                model=ctx.model or prov.model,
                prompt_version=ctx.prompt_version or prov.prompt_version,
                tokens_in=usage.prompt_tokens if usage else 0,
                tokens_out=usage.completion_tokens if usage else 0,
                attempts=prov.attempts or 1,
                content_hash=content_hash,
                fetch_ms=fetch_ms,
                extract_ms=extract_ms,
                total_ms=_ms(start),
            )
    except Exception as exc:
        if extract_start is not None and extract_ms is None:
            extract_ms = _ms(extract_start)  # a failed model call took time too
        spent: dict[str, Any] = {}
        if result is not None:
            # Paid for, then lost (the files could not be written): what it cost is still recorded.
            usage = result.provenance.usage
            spent = {
                "tokens_in": usage.prompt_tokens if usage else 0,
                "tokens_out": usage.completion_tokens if usage else 0,
                "attempts": result.provenance.attempts or 1,
                "model": ctx.model,
                "prompt_version": ctx.prompt_version,
            }
        elif isinstance(exc, ExtractionError):
            spent = {
                "tokens_in": int(exc.usage.get("prompt_tokens", 0)),
                "tokens_out": int(exc.usage.get("completion_tokens", 0)),
                "attempts": exc.attempts,
                "model": ctx.model,
                "prompt_version": ctx.prompt_version,
            }
        message = str(exc) if isinstance(exc, ExtractorError) else _internal(exc)
        rec = Record(
            **base,
            outcome=outcome_of(exc).value,
            error=message or type(exc).__name__,
            # An unexpected exception may be a passing condition (disk full, a race): let the next run retry.
            transient=bool(getattr(exc, "transient", False)) or not isinstance(exc, ExtractorError),
            content_hash=content_hash,
            fetch_ms=fetch_ms,
            extract_ms=extract_ms,
            total_ms=_ms(start),
            **spent,
        )
    ctx.ledger.record(ctx.run_id, rec)
    return rec


def unique(links: Iterable[Link]) -> list[Link]:
    """One link per canonical URL, the first found: two links to one article must not race for one file."""
    seen: set[str] = set()
    kept: list[Link] = []
    for link in links:
        if link.canonical not in seen:
            seen.add(link.canonical)
            kept.append(link)
    return kept


def run_links(
    links: Sequence[Link],
    ctx: Context,
    *,
    concurrency: int = 8,
    progress: Progress | None = None,
) -> list[Record]:
    """Processes `links` (registered in the ledger by `open_run`) with at most `concurrency` at a time; returns
    one record per unique link, in order."""
    todo = unique(links)
    if progress is not None:
        progress(None, 0, len(todo))
    records: dict[int, Record] = {}
    lock = threading.Lock()
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="extractor")
    try:
        futures: dict[Future[Record], int] = {
            pool.submit(process_link, link, ctx): i for i, link in enumerate(todo)
        }
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                rec = fut.result()
                with lock:
                    records[futures[fut]] = rec
                    done = len(records)
                if progress is not None:
                    progress(rec, done, len(todo))
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM): links not started are dropped at once; the caller closes the run,
        # which marks them for the next run.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [records[i] for i in range(len(todo))]
