"""Fixtures for the sources-and-fetching tests: a loopback site per module and fetchers with fast limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from extractor.fetch import Fetcher, FetchSettings
from tests.support.site import Site


@pytest.fixture(autouse=True)
def _env(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACTOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    for name in ("EXTRACTOR_ALLOW_HOSTS", "EXTRACTOR_ROBOTS", "EXTRACTOR_PER_HOST", "EXTRACTOR_DEADLINE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with Site() as running:
        yield running


def fast_settings(site: Site, **overrides: Any) -> FetchSettings:
    values: dict[str, Any] = {
        "allow_hosts": [site.host_port],
        "robots": False,
        "backoff": 0.01,
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "deadline": 5.0,
        "per_host": 8,
    }
    values.update(overrides)
    return FetchSettings(**values)


@pytest.fixture
def make_fetcher(site: Site) -> Iterator[Callable[..., Fetcher]]:
    made: list[Fetcher] = []

    def make(**overrides: Any) -> Fetcher:
        resolver = overrides.pop("resolver", None)
        archive = overrides.pop("archive", None)
        offline = overrides.pop("offline", False)
        fetcher = Fetcher(fast_settings(site, **overrides), resolver=resolver, archive=archive, offline=offline)
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        fetcher.close()
