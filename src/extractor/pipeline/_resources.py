"""Building a run's parts (fetcher, extractor, ledger, output) from a `RunConfig`, once per process.

Prefect tasks on a Dask cluster run in other processes: they cannot share the parent's objects, so each
process builds its own from the config on first use and keeps them for the next task (`shared`). The heavy
libraries (fetching, the model client) are imported here, on first use, never at module import.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractor.ledger import Ledger
from extractor.output import OutputDir
from extractor.pipeline._config import RunConfig
from extractor.pipeline._process import Context, ExtractFn
from extractor.settings import ledger_path, web_archive_dir


class FreshFetcher:
    """Fetches sources (posts, feeds) from the network every time, never from the web archive (a feed read
    from the archive would never change), but still stores them there so that `--offline` can replay a run."""

    def __init__(self, fetcher: Any, archive: Any) -> None:
        self._fetcher = fetcher
        self._archive = archive

    def fetch(self, url: str) -> Any:
        page = self._fetcher.fetch(url)
        if self._archive is not None:
            self._archive.put(page)
        return page

    def close(self) -> None:
        self._fetcher.close()


@dataclass
class Parts:
    """A process's fetchers, extractor, ledger and output directory for one config. `fetcher` answers article
    URLs from the web archive first (a rerun neither refetches nor sees changed text); `source_fetcher` reads
    sources fresh."""

    config: RunConfig
    fetcher: Any
    source_fetcher: Any
    extractor: Any
    ledger: Ledger
    out: OutputDir
    model: str | None
    prompt_version: str | None

    @property
    def max_concurrency(self) -> int | None:
        """The embedded model's server answers one request at a time: more links in flight only queue at it
        until their calls time out. None: no limit of our own."""
        backend = getattr(self.extractor, "backend", None)
        return 1 if getattr(backend, "kind", None) == "local" else None

    def context(self, run_id: int, extract: ExtractFn | None = None) -> Context:
        from extractor.article import article_from_page

        return Context(
            fetch=self.fetcher.fetch,
            to_article=article_from_page,
            extract=extract or self.extractor.extract,
            out=self.out,
            ledger=self.ledger,
            run_id=run_id,
            model=self.model,
            prompt_version=self.prompt_version,
            origin_url=self.config.origin_url,
            retry_permanent=self.config.retry_permanent,
        )

    def close(self) -> None:
        for part in (self.fetcher, self.source_fetcher, self.extractor, self.ledger):
            close: Callable[[], None] | None = getattr(part, "close", None)
            if close is not None:
                close()


def model_identity(extractor: Any) -> tuple[str | None, str | None]:
    """The model and prompt version an extractor will use: with the content hash, what decides whether an
    article scanned before needs the model again. The configured model name, not the one a server echoes back
    (llama.cpp answers with a file path), so that it is known before any call."""
    model = getattr(extractor, "model", None) or getattr(getattr(extractor, "backend", None), "model", None)
    version = getattr(extractor, "prompt_version", None) or getattr(
        getattr(extractor, "template", None), "version", None
    )
    return (str(model) if model else None, str(version) if version else None)


def build(config: RunConfig, *, extractor: Any = None) -> Parts:
    """New parts for `config`. `extractor` replaces the one built from `EXTRACTOR_LLM` (tests, benchmarks)."""
    from extractor.fetch import Fetcher, FetchSettings, WebArchive

    # The archive of the run's EXTRACTOR_HOME, which a Dask worker may not have in its environment.
    settings = FetchSettings().model_copy(
        update={"archive_dir": Path(config.archive) if config.archive else web_archive_dir(Path(config.home))}
    )
    archive = WebArchive(settings.archive_root())
    if extractor is None:
        from extractor.extract import make_extractor

        extractor = make_extractor()
    out = OutputDir(Path(config.out))
    out.prepare()
    fetcher = Fetcher(settings, offline=config.offline, archive=archive)
    if config.offline:
        source_fetcher: Any = fetcher
    else:
        source_fetcher = FreshFetcher(Fetcher(settings), archive)
    model, prompt_version = model_identity(extractor)
    ledger = Ledger(ledger_path(Path(config.home)))
    return Parts(config, fetcher, source_fetcher, extractor, ledger, out, model, prompt_version)


_shared: dict[RunConfig, Parts] = {}
_shared_lock = threading.Lock()


def shared(config: RunConfig) -> Parts:
    """This process's parts for `config`, built on first use and closed at exit."""
    with _shared_lock:
        parts = _shared.get(config)
        if parts is None:
            parts = _shared[config] = build(config)
        return parts


def close_shared() -> None:
    with _shared_lock:
        for parts in _shared.values():
            parts.close()
        _shared.clear()


atexit.register(close_shared)
