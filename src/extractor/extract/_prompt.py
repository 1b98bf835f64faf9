"""The extraction prompt: Jinja templates in `prompts/`, rendered to chat messages, versioned and hashed.

The system message holds the instructions; the user message holds the article, fenced as data. Each scan
records the template version (declared on the template's first line) and a hash of the exact messages sent, so
a changed prompt is visible in every scan it produced.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from extractor.errors import ConfigError
from extractor.extract._answer import QUOTE_MAX_WORDS, SUMMARY_MAX_WORDS, SUMMARY_WORDS, TITLE_WORDS, ScanAnswer, limits
from extractor.rules import USUAL_COUNTS, echo_shingles

SYSTEM = "extract.system.j2"
USER = "extract.user.j2"
_VERSION = re.compile(r"\{#-?\s*version:\s*(\S+)\s*-?#\}")
# Anything that could close or reopen the article fence is defused, so the article cannot step outside it.
_FENCE = re.compile(r"<\s*/?\s*article\b[^>]*>", re.IGNORECASE)


def prompts_dir() -> Path:
    """`EXTRACTOR_PROMPTS` if set; the copy inside the installed wheel; else the repository's `prompts/`."""
    if env := os.environ.get("EXTRACTOR_PROMPTS"):
        return Path(env)
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "prompts", here.parent.parent / "prompts"):
        if (candidate / SYSTEM).is_file():
            return candidate
    raise ConfigError(f"prompt templates not found (looked for {SYSTEM} in {here / 'prompts'}); set EXTRACTOR_PROMPTS")


@dataclass(frozen=True)
class Prompt:
    messages: list[dict[str, str]]
    version: str
    hash: str


class PromptTemplate:
    """`name`: which pair of templates (`NAME.system.j2`, `NAME.user.j2`); `extract` for every backend but the
    embedded model, which gets `extract.small` (measured: a 135M model copies the instructions into its answer
    unless the article comes first and one short example shows the shape)."""

    def __init__(self, directory: Path | None = None, name: str = "extract") -> None:
        directory = directory or prompts_dir()
        self._env = _environment(str(directory))
        self._system = SYSTEM.replace("extract", name, 1)
        self._user = USER.replace("extract", name, 1)
        source = (directory / self._system).read_text(encoding="utf-8")
        found = _VERSION.search(source.splitlines()[0] if source else "")
        if not found:
            raise ConfigError(f"{directory / self._system}: the first line must declare {{#- version: NAME/N -#}}")
        self.version = found.group(1)

    def render(
        self, article: str, *, language: str, title: str | None = None, model: type[ScanAnswer] = ScanAnswer
    ) -> Prompt:
        rules = {"title_words": TITLE_WORDS, "summary_words": SUMMARY_WORDS, "summary_max_words": SUMMARY_MAX_WORDS,
                 "quote_words": QUOTE_MAX_WORDS, "language": language, "limits": limits(model),
                 "counts": USUAL_COUNTS}  # fmt: skip
        system = self._env.get_template(self._system).render(**rules)
        user = self._env.get_template(self._user).render(article=defuse(article), title=defuse(title or ""), **rules)
        messages = [{"role": "system", "content": system.strip()}, {"role": "user", "content": user.strip()}]
        digest = hashlib.sha256(json.dumps(messages, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
        return Prompt(messages=messages, version=self.version, hash=f"sha256:{digest}")


    def echo(self, *, language: str = "English") -> frozenset[str]:
        """The instructions' word runs (`extractor.rules.echo_shingles`): an answer field holding one copies the
        prompt instead of describing the article."""
        prompt = self.render("", language=language)
        text = "\n".join(m["content"] for m in prompt.messages)
        return echo_shingles(line for line in text.splitlines() if "<article>" not in line and "</article>" not in line)


def defuse(text: str) -> str:
    return _FENCE.sub(lambda m: m.group().replace("<", "‹").replace(">", "›"), text)


@lru_cache(maxsize=4)
def _environment(directory: str) -> jinja2.Environment:
    # Plain text, not HTML: no autoescape; StrictUndefined so a missing variable fails loudly.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )
