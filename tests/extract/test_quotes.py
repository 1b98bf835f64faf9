"""The embedded model's evidence: an enum of the article's own sentences in the schema (so the grammar allows
only verbatim quotes), while validation still checks every quote against the article."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from extractor.extract import Grounder
from extractor.extract._answer import TITLE_WORDS, CompactScanAnswer, ScanAnswer
from extractor.extract._quotes import MAX_QUOTES, MAX_WORDS, candidate_quotes
from tests.extract.fixtures_tool import fixtures


def test_every_candidate_is_a_sentence_of_the_article_that_the_grounder_accepts() -> None:
    for fx in fixtures():
        quotes = candidate_quotes(fx.text)
        assert 5 <= len(quotes) <= MAX_QUOTES, fx.name
        grounder = Grounder(fx.text)
        for q in quotes:
            assert " ".join(q.split()) in " ".join(fx.text.split()), q
            assert grounder.check(q).verified
            assert len(q.split()) <= MAX_WORDS and '"' not in q and "\\" not in q


def test_a_long_article_is_sampled_across_its_length_not_only_its_start() -> None:
    text = " ".join(f"Sentence number {i} says something about the harbour today." for i in range(200))
    quotes = candidate_quotes(text)
    assert len(quotes) == MAX_QUOTES
    assert quotes[0].startswith("Sentence number 0 ") and int(quotes[-1].split()[2]) > 190


def test_the_schema_offers_only_the_articles_sentences_as_evidence_first_in_each_row() -> None:
    quotes = candidate_quotes(fixtures()[0].text)
    model = CompactScanAnswer.with_quotes(quotes)
    schema = model.model_json_schema()
    assert schema["title"] == "CompactScanAnswer"  # the tool name is unchanged
    assert schema["$defs"]["Quote"]["enum"] == quotes
    for row in ("Row", "SignalRow"):
        props = schema["$defs"][row]["properties"]
        assert next(iter(props)) == "evidence" and props["evidence"] == {"$ref": "#/$defs/Quote"}
    assert "Quote" not in CompactScanAnswer.model_json_schema()["$defs"]  # the base class is untouched
    assert "Quote" not in ScanAnswer.model_json_schema().get("$defs", {})  # other backends: free quotes


def test_the_grammar_stays_small_enough_for_llama_cpp() -> None:
    llama_grammar = pytest.importorskip("llama_cpp.llama_grammar")
    longest = max(fixtures(), key=lambda fx: sum(map(len, candidate_quotes(fx.text))))
    schema = CompactScanAnswer.with_quotes(candidate_quotes(longest.text)).model_json_schema()
    grammar = llama_grammar.json_schema_to_gbnf(json.dumps(schema))
    assert len(grammar) < 32_000  # a 37 kB grammar crashed the server


def test_validation_still_checks_quotes_and_rules() -> None:
    fx = fixtures()[0]
    model = CompactScanAnswer.with_quotes(candidate_quotes(fx.text))
    answer = {
        "title": "**" + " ".join(["word"] * (TITLE_WORDS[0] - 2)) + "**", "summary": "A short summary.",
        "keywords": ["a", "b", "c"], "themes": ["x", "y"], "category": "city", "type": "news",
        "signals": [{"evidence": "this sentence is not in the article at all", "name": "n", "description": "d",
                     "change": "now this", "ten_year": "later something else entirely", "driving_force": "f",
                     "relevancy": 3}],
        "concerns": [], "behaviors": [], "technologies": [], "issues": [],
    }  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        model.model_validate(answer, context={"grounder": Grounder(fx.text), "language": None})
    text = str(caught.value)
    # A hard rule (markup) and a missing quote are errors; the title's word count is only a note.
    assert "markdown emphasis" in text and "not found in the article" in text and "title has" not in text
