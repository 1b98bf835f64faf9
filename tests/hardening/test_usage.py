"""Token usage a server reports is checked before the run budget counts it: negative or non-numeric usage would
otherwise switch the budget off (issue 12, point 4)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from extractor.errors import InvalidUsageError, Outcome, outcome_of
from extractor.extract import make_extractor
from extractor.extract._budget import RunBudget
from extractor.extract._settings import LLMSettings
from tests.pipeline.article_site import article_text
from tests.pipeline.llm_stub import StubLLM


class LyingUsage(StubLLM):
    """A stub whose answers are valid but whose usage says `prompt_tokens` is whatever the test sets."""

    prompt_tokens: Any = -100_000

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = super().completion(body)
        answer["usage"]["prompt_tokens"] = self.prompt_tokens
        return answer


@pytest.fixture
def lying() -> Iterator[LyingUsage]:
    with LyingUsage() as stub:
        yield stub


def _article(n: int) -> str:
    title, paragraphs = article_text(n, "usage")
    return title + "\n\n" + "\n\n".join(paragraphs)


@pytest.mark.parametrize("reported", [-100_000, "lots", 12.5, None])
def test_usage_that_cannot_be_counted_is_refused_and_the_budget_holds(lying: LyingUsage, reported: Any) -> None:
    lying.prompt_tokens = reported
    settings = LLMSettings(llm=lying.base_url, model=lying.model, budget_tokens=4000, reasks=0, transient_retries=0)
    extractor = make_extractor(settings)
    try:
        results: list[str] = []
        for n in range(6):
            try:
                extractor.extract(_article(n), url=f"https://a.test/{n}", origin="20250629d",
                                  origin_url="https://kghosh.substack.com/p/20250629d")  # fmt: skip
                results.append("ok")
            except Exception as exc:
                results.append(outcome_of(exc).value)
                if reported is not None:
                    assert isinstance(exc, InvalidUsageError) and repr(reported) in str(exc)
    finally:
        extractor.close()
    assert extractor.budget.prompt_tokens >= 0 and extractor.budget.completion_tokens >= 0
    if reported is None:  # a server that reports no prompt usage: counted as 0, the completions still count
        assert results[0] == "ok"
    else:
        assert results == [Outcome.LLM_ERROR.value] * 6
        assert extractor.budget.tokens == 0


def test_the_budget_itself_refuses_negative_charges() -> None:
    budget = RunBudget(max_tokens=1000)
    with pytest.raises(InvalidUsageError):
        budget.charge(-500, 10)
    budget.charge(400, 100)
    assert budget.tokens == 500
