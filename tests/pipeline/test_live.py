"""One live run on the embedded model (SmolLM2 via llama.cpp): the whole pipeline, no stub anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.ledger import Ledger
from extractor.models import Sidecar, scan_id
from extractor.parse import parse
from tests.pipeline.article_site import ArticleSite

pytestmark = pytest.mark.live
EXTRACTOR = str(Path(sys.executable).parent / "extractor")


def _local_model() -> bool:
    try:
        from extractor.extract import local_available
    except ImportError:
        return False
    return bool(local_available())


@pytest.mark.skipif(not _local_model(), reason="needs the 'local' extra (embedded model)")
@pytest.mark.timeout(1200)
def test_page_on_the_embedded_model(tmp_path: Path, extractor_home: Path) -> None:
    with ArticleSite(posted=1) as site:
        env = {
            **os.environ,
            "EXTRACTOR_LLM": "local",
            "EXTRACTOR_ALLOW_HOSTS": site.allow_hosts,
            "EXTRACTOR_RETRIES": "0",
            # One attempt: on 2 shared cores a re-ask of the small model costs minutes; the path is the same.
            "EXTRACTOR_REASKS": "0",
        }
        env.pop("EXTRACTOR_MODEL", None)
        env.pop("PREFECT_API_URL", None)
        out = tmp_path / "out"
        proc = subprocess.run(
            [EXTRACTOR, "page", site.post_url, "--out", str(out)],
            env=env, capture_output=True, text=True, timeout=1100,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with Ledger() as ledger:
        records = {r.url: r for r in ledger.latest()}
    assert set(records) == {site.url(0)}
    for url, rec in records.items():
        # A small model may still fail validation after its re-asks: that is an outcome, and it was paid for.
        assert rec.outcome in ("ok", "too_long", "invalid_output"), rec.error
        assert rec.tokens_in > 0 and rec.attempts == 1 and rec.extract_ms
        if rec.outcome == "ok":
            sid = scan_id(url)
            assert parse((out / f"{sid}.md").read_text(encoding="utf-8")).url == url
            prov = Sidecar.from_json((out / f"{sid}.json").read_text(encoding="utf-8")).provenance
            assert prov.backend == "local" and prov.usage and prov.usage.prompt_tokens == rec.tokens_in
    assert (out / "index.md").is_file()
