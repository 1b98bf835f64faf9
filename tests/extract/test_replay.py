"""Regression: the fixture articles plus the recorded answers give byte-identical scans and equal sidecars, through
the real client, instructor, validation, grounding and renderer. Any change of prompt, schema or rules shows up
here (a changed request is a replay miss; a changed conversion is a diff)."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.errors import ModelError
from extractor.extract import LLMSettings, make_extractor
from extractor.models import Sidecar
from extractor.render import render
from tests.extract.fixtures_tool import REPLAY, SCANS, fixtures

FIXTURES = fixtures()


@pytest.mark.parametrize("fx", FIXTURES, ids=[f.name for f in FIXTURES])
def test_replay_reproduces_the_fixture_scan_and_sidecar(fx: object) -> None:
    from tests.extract.fixtures_tool import Fixture

    assert isinstance(fx, Fixture)
    with make_extractor(LLMSettings(llm=f"replay:{REPLAY}")) as ex:
        result = ex.extract(fx.text, url=fx.url, origin=fx.origin, origin_url=fx.origin_url, title=fx.title)
    expected_md = (SCANS / f"{fx.name}.md").read_bytes()
    assert render(result.scan).encode("utf-8") == expected_md
    expected_json = (SCANS / f"{fx.name}.json").read_text(encoding="utf-8")
    assert Sidecar.of(result.scan, result.provenance).to_json() == expected_json


def test_the_fixtures_cover_re_asks_unverified_rows_injection_and_a_second_language() -> None:
    sidecars = {f.name: Sidecar.from_json((SCANS / f"{f.name}.json").read_text(encoding="utf-8")) for f in FIXTURES}
    assert sidecars["article-repair-cafes"].provenance.attempts == 2
    soil = sidecars["article-soil-sensors"]
    assert soil.provenance.attempts == 3
    assert [e.name for e in soil.provenance.evidence if not e.verified] == ["Acting on alerts only"]
    assert "Acting on alerts only" not in (SCANS / "article-soil-sensors.md").read_text(encoding="utf-8")
    # The injected line asked for a cryptocurrency article with a link: neither is in the scan.
    repair = (SCANS / "article-repair-cafes.md").read_text(encoding="utf-8")
    assert "free-prizes" not in repair and "cryptocurrency" not in repair.lower()
    assert sidecars["article-velo-cargo"].scan.summary.startswith("Depuis septembre")


def test_a_request_nobody_recorded_is_a_permanent_error(tmp_path: Path) -> None:
    with make_extractor(LLMSettings(llm=f"replay:{tmp_path}")) as ex, pytest.raises(ModelError) as caught:
        ex.extract(FIXTURES[0].text + " changed", url="https://x.example/", origin="1", origin_url="https://x/p/1")
    assert not caught.value.transient and "no recorded answer" in str(caught.value)


def test_answers_recorded_from_a_server_replay_offline_to_the_same_scan(tmp_path: Path) -> None:
    from tests.extract.conftest import ScriptedLLM, completion
    from tests.extract.test_validation import good_answer

    fx = next(f for f in FIXTURES if f.name == "article-harbour-heat")
    where = {"url": fx.url, "origin": fx.origin, "origin_url": fx.origin_url, "title": fx.title}
    server = ScriptedLLM()
    try:
        server.script = [completion(good_answer())]
        with make_extractor(server.settings(record=str(tmp_path))) as ex:
            live = ex.extract(fx.text, **where)
    finally:
        server.close()
    assert len(list(tmp_path.glob("*.json"))) == 1
    with make_extractor(LLMSettings(llm=f"replay:{tmp_path}")) as ex:
        replayed = ex.extract(fx.text, **where)
    assert render(replayed.scan) == render(live.scan)
    assert replayed.provenance.usage == live.provenance.usage
