"""The embedded model (SmolLM2-135M through llama-cpp-python's server on loopback) through the real extraction
path: prompt, grammar-constrained tool call, validation, re-ask, grounding. For every fixture article the outcome
must be a valid scan or an `invalid_output` carrying its errors and spend; the valid rate and the grounding rate
(share of answered rows whose quote is found in the article) are printed for the record.

Slow (about 30-40 s per answer on two busy cores, 800 answer tokens at most): marked `live`, and bounded to
about 3 minutes for the four articles (5 at worst). `EXTRACTOR_LIVE_REASKS` sets the re-asks (default 1: each
costs a whole extra answer)."""

from __future__ import annotations

import os
import time

import pydantic_core
import pytest

from extractor.errors import InvalidOutputError, Outcome, outcome_of
from extractor.extract import Grounder, LLMSettings, LocalServer, describe, make_extractor
from extractor.models import Scan
from extractor.render import render
from tests.extract.fixtures_tool import fixtures

pytestmark = pytest.mark.live


def _rows(answer_json: str | None) -> list[str]:
    """Evidence quotes of every row of a (possibly invalid or cut) answer, when it is JSON at all."""
    try:
        data = pydantic_core.from_json(answer_json or "", allow_partial=True)
    except ValueError:
        return []
    quotes = []
    for table in ("signals", "concerns", "behaviors", "technologies", "issues"):
        for row in data.get(table) or [] if isinstance(data, dict) else []:
            if isinstance(row, dict):
                quotes.append(str(row.get("evidence", "")))
    return quotes


@pytest.mark.timeout(600)
def test_every_fixture_article_gives_a_valid_scan_or_an_invalid_output_with_errors(
    local_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = LLMSettings(
        llm="local", reasks=int(os.environ.get("EXTRACTOR_LIVE_REASKS", "1")), max_input_tokens=800,
        max_output_tokens=800,
    )  # fmt: skip
    valid = rows = grounded = 0
    lines = []
    started = time.monotonic()
    with make_extractor(settings, local_server=local_server) as ex:
        for fx in fixtures():
            try:
                result = ex.extract(fx.text, url=fx.url, origin=fx.origin, origin_url=fx.origin_url, title=fx.title)
            except InvalidOutputError as exc:
                assert outcome_of(exc) is Outcome.INVALID_OUTPUT
                assert exc.errors and exc.attempts >= 1 and exc.usage["completion_tokens"] > 0
                quotes = _rows(exc.last_output)
                g = Grounder(fx.text)
                rows += len(quotes)
                grounded += sum(g.check(q).verified for q in quotes)
                lines.append(f"{fx.name}: invalid_output after {exc.attempts} attempts: {'; '.join(exc.errors)[:200]}")
                continue
            Scan.model_validate(result.scan.model_dump())  # strict: what the pipeline may write
            assert render(result.scan).startswith("# __")
            valid += 1
            rows += len(result.provenance.evidence)
            grounded += sum(e.verified for e in result.provenance.evidence)
            lines.append(f"{fx.name}: valid, {describe(result)}")
    n = len(fixtures())
    with capsys.disabled():
        print(f"\nembedded model, {n} fixture articles, {time.monotonic() - started:.0f} s:")
        for line in lines:
            print("  " + line)
        print(f"  valid rate {valid}/{n} = {valid / n:.0%}; grounding rate {grounded}/{rows} = "
              f"{grounded / rows if rows else 0:.0%} of answered rows")  # fmt: skip
    assert len(lines) == n
