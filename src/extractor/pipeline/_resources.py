"""Building a run's parts (fetcher, extractor, ledger, output) from a `RunConfig`, once per process.

Prefect tasks on a Dask cluster run in other processes: they cannot share the parent's objects, so each
process builds its own from the config on first use and keeps them for the next task (`shared`). The heavy
libraries (fetching, the model client) are imported here, on first use, never at module import.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from extractor.ledger import Ledger
from extractor.output import OutputDir
from extractor.pipeline._config import RunConfig
from extractor.pipeline._limits import LIMITS_FILE, Limits, SharedBudget
from extractor.pipeline._process import Context, ExtractFn
from extractor.settings import ledger_path


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


class Parts:
    """A process's fetchers, extractor, ledger, output directory and shared limits for one config. `fetcher`
    answers article URLs from the web archive first (a rerun neither refetches nor sees changed text);
    `source_fetcher` reads sources fresh.

    The extractor is built on first use, after everything else: the embedded model's server (420 MB, seconds
    to start) is started only once the output directory, the ledger and the source have been found usable, so
    a typo costs nothing and no failure leaves the server behind (`close` stops it on every path)."""

    def __init__(
        self,
        config: RunConfig,
        *,
        fetcher: Any,
        source_fetcher: Any,
        ledger: Ledger,
        out: OutputDir,
        limits: Limits,
        extractor: Any = None,
    ) -> None:
        self.config = config
        self.fetcher = fetcher
        self.source_fetcher = source_fetcher
        self.ledger = ledger
        self.out = out
        self.limits = limits
        self._extractor = extractor
        self._extractor_lock = threading.Lock()

    @property
    def extractor(self) -> Any:
        with self._extractor_lock:
            if self._extractor is None:
                self._extractor = make_extractor(self.config, self.limits)
            return self._extractor

    @property
    def extractor_built(self) -> bool:
        """Whether the extractor (and with it the embedded model's server) has been built in this process."""
        with self._extractor_lock:
            return self._extractor is not None

    @property
    def model(self) -> str | None:
        return model_identity(self.extractor)[0]

    @property
    def prompt_version(self) -> str | None:
        return model_identity(self.extractor)[1]

    @property
    def max_concurrency(self) -> int | None:
        """Requests the model's server answers at once (the embedded model: one); None: no limit of ours."""
        limit = getattr(getattr(self.extractor, "backend", None), "max_concurrency", None)
        return int(limit) if limit is not None else None

    def describe(self) -> str:
        """Which backend and model the run uses, in one line."""
        backend = getattr(self.extractor, "backend", None)
        if backend is not None and hasattr(backend, "describe"):
            return str(backend.describe())
        return f"model {self.model or 'unknown'}"

    def local_url(self) -> str | None:
        """The embedded model's server this process started, for workers in other processes to share."""
        server = getattr(getattr(self.extractor, "backend", None), "server", None)
        return str(server.base_url) if server is not None else None

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
        """Closes every part built, the extractor (and the model server it started) first; never raises."""
        with self._extractor_lock:
            extractor, self._extractor = self._extractor, None
        for part in (extractor, self.fetcher, self.source_fetcher, self.ledger, self.limits):
            close: Callable[[], None] | None = getattr(part, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
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


def make_extractor(config: RunConfig, limits: Limits) -> Any:
    """The extractor the run's settings describe, its model slots and budget shared through `limits` with every
    other process of the run."""
    from extractor.extract import Extractor, LocalServer, resolve

    settings = config.llm

    def gate(capacity: int) -> Any:
        # One name for the embedded model whatever the run: on one machine it computes one answer at a time.
        return lambda: limits.slot("model:local", capacity)

    server = LocalServer.attached(config.local_url) if config.local_url else None
    backend = resolve(settings, local_server=server, gate=gate)
    try:
        budget = SharedBudget(
            limits, config.run_key, max_tokens=settings.budget_tokens, max_usd=settings.budget_usd,
            price=backend.price(settings.prices),
        )  # fmt: skip
        return Extractor(settings, backend, budget=budget)
    except BaseException:
        backend.close()
        raise


def build(config: RunConfig, *, extractor: Any = None) -> Parts:
    """New parts for `config`, cheapest and most likely to fail first. `extractor` replaces the one built from
    the settings (tests, benchmarks). Raises ConfigError when the output directory or the home is unusable."""
    from extractor.fetch import Fetcher, WebArchive

    out = OutputDir(Path(config.out))
    out.prepare()
    home = Path(config.home)
    opened: list[Any] = []
    try:
        ledger = Ledger(ledger_path(home))
        opened.append(ledger)
        limits = Limits(home / LIMITS_FILE)
        opened.append(limits)
        settings = config.fetch
        archive = WebArchive(settings.archive_root())
        host_slot = _host_slot(limits, settings.per_host)
        fetcher = Fetcher(settings, offline=config.offline, archive=archive, host_slot=host_slot)
        opened.append(fetcher)
        if config.offline:
            source_fetcher: Any = fetcher
        else:
            source_fetcher = FreshFetcher(Fetcher(settings, host_slot=host_slot), archive)
    except BaseException:
        for part in reversed(opened):
            with contextlib.suppress(Exception):
                part.close()
        raise
    return Parts(
        config, fetcher=fetcher, source_fetcher=source_fetcher, ledger=ledger, out=out, limits=limits,
        extractor=extractor,
    )  # fmt: skip


def _host_slot(limits: Limits, per_host: int) -> Callable[[str], Any]:
    """Per-host politeness across processes: at most `per_host` requests in flight to one host:port from all
    the processes of every run on this home (the fetcher's own semaphore holds it within one process)."""
    return lambda key: limits.slot(f"host:{key}", per_host)


_shared: dict[str, Parts] = {}
_shared_lock = threading.Lock()


def shared(config: RunConfig) -> Parts:
    """This process's parts for `config`, built on first use and closed at exit."""
    with _shared_lock:
        parts = _shared.get(config.run_key)
        if parts is None:
            parts = _shared[config.run_key] = build(config)
        return parts


def release(config: RunConfig) -> None:
    """Closes this process's parts for `config`'s run (the model server they started included)."""
    with _shared_lock:
        parts = _shared.pop(config.run_key, None)
    if parts is not None:
        parts.close()


def close_shared() -> None:
    with _shared_lock:
        for parts in _shared.values():
            parts.close()
        _shared.clear()


atexit.register(close_shared)
