"""Prompt tokens per article: extractor's single structured call against the existing archive's design of seven
separate calls, each sending the whole article (summary and title, metadata, signals, issues, technologies,
behaviors, concerns). Both are counted with the same tokenizer, in the same process, on the fixture articles.

One call counts its system and user messages plus the tool schema (servers bill the schema as prompt tokens).
The seven calls' instructions are reconstructed from the archive's sections and kept short, which favours them.

    uv run python bench/tokens.py [--json]

The last line is JSON with `prompt_tokens_ratio_vs_seven_calls` (goal: at most 0.25).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from instructor.function_calls import openai_schema

from extractor.extract import PromptTemplate, ScanAnswer, Tokenizer, default_tokenizer
from extractor.extract._language import detect, name

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "fixtures" / "articles"

SEVEN_CALLS = {
    "summary and title": "Summarize the following article in one paragraph of at most 150 words, and give it a title "
    "of 10 to 20 words. Answer as JSON with the keys title and summary.",
    "metadata": "Read the following article. List its keywords and its themes, and choose its category (technology, "
    "science, politics, sport, city, infrastructures, others) and its type (blog post, news, research article, "
    "social network, error message, others). Answer as JSON.",
    "signals": "List the weak signals of change in the following article. For each give a name, a description, the "
    "change, its 10-year horizon, the driving force and a relevancy from 0 to 5. Answer as a JSON list.",
    "issues": "List the issues raised by the following article, each with a name and a description. Answer as a JSON "
    "list.",
    "technologies": "List the technologies in the following article, each with a name and a description. Answer as a "
    "JSON list.",
    "behaviors": "List the behaviors described in the following article, each with a name and a description. Answer "
    "as a JSON list.",
    "concerns": "List the concerns raised by the following article, each with a name and a description. Answer as a "
    "JSON list.",
}


def chat_tokens(tokenizer: Tokenizer, messages: list[dict[str, str]]) -> int:
    """Tokens of the messages as a ChatML template lays them out (SmolLM2's template)."""
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return tokenizer.count(text + "<|im_start|>assistant\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args()
    tokenizer = default_tokenizer()
    template = PromptTemplate()
    tool = json.dumps({"type": "function", "function": openai_schema(ScanAnswer).openai_schema})
    schema_tokens = tokenizer.count(tool)
    one_total = seven_total = 0
    articles = sorted(ARTICLES.glob("article-*.txt"))
    for path in articles:
        text = path.read_text(encoding="utf-8")
        lang = detect(text)
        prompt = template.render(text, language=name(lang) if lang else "the article's language")
        one = chat_tokens(tokenizer, prompt.messages) + schema_tokens
        seven = sum(
            chat_tokens(tokenizer, [{"role": "system", "content": instruction}, {"role": "user", "content": text}])
            for instruction in SEVEN_CALLS.values()
        )
        one_total += one
        seven_total += seven
        if not args.json:
            print(f"{path.stem:24} one call {one:6}  seven calls {seven:6}  ratio {one / seven:.3f}")
    n = len(articles)
    result = {
        "articles": n,
        "tokenizer": tokenizer.name,
        "schema_tokens": schema_tokens,
        "prompt_tokens_per_article_one_call": round(one_total / n, 1),
        "prompt_tokens_per_article_seven_calls": round(seven_total / n, 1),
        "prompt_tokens_ratio_vs_seven_calls": round(one_total / seven_total, 4),
        "goal": 0.25,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
