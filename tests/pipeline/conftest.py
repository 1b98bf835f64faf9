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
