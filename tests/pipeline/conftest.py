"""Fixtures of the pipeline tests: a private EXTRACTOR_HOME per test, Prefect kept offline and quiet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

QUIET_PREFECT = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


@pytest.fixture(autouse=True)
def extractor_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("EXTRACTOR_HOME", str(home))
    for key, value in QUIET_PREFECT.items():
        monkeypatch.setenv(key, value)
    yield home


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Prefect test harness (a real API on a temporary database) for the whole session: it takes ~20 s to
    start. Task results (the extraction cache) go to a temporary directory, not ~/.prefect."""
    import os

    os.environ.update(QUIET_PREFECT)
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    storage = tmp_path_factory.mktemp("prefect-results")
    with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: storage}), prefect_test_harness(
        server_startup_timeout=120
    ):
        yield
