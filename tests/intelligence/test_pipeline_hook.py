"""A pipeline run keeps archive intelligence up to date: the scans it writes are in the store when it ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor import intelligence
from extractor.cli import app
from extractor.models import scan_id
from tests.pipeline.article_site import ArticleSite
from tests.pipeline.llm_stub import StubLLM
from tests.pipeline.test_pipeline import pipeline_env


@pytest.fixture
def running(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ArticleSite]:
    with ArticleSite(posted=3) as site, StubLLM() as llm:
        for key, value in pipeline_env(site, llm).items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("PREFECT_API_URL", raising=False)
        yield site


def test_a_run_updates_the_store_for_the_scans_it_wrote(running: ArticleSite, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["page", running.post_url, "--out", str(out), "--concurrency", "2"])
    assert result.exit_code == 0, result.stderr
    written = {scan_id(running.url(n)) for n in range(3)}
    assert written <= {p.stem for p in out.glob("*.json")}
    # Nothing left to read: the run already added its scans.
    assert intelligence.update(out).added == 0
    snap = intelligence.snapshot(out)
    assert set(snap["related"]) == written
    assert {o["scan_id"] for e in snap["signals"] for o in e["occurrences"]} == written
