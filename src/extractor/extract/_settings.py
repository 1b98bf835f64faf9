"""Extraction settings, from `EXTRACTOR_*` environment variables (pydantic-settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from extractor.settings import ENV_PREFIX


class LLMSettings(BaseSettings):
    """Which model, how much it may cost, how hard to try.

    `EXTRACTOR_LLM` picks the backend: `openai`, an `http(s)://` base URL of an OpenAI-compatible server,
    `local` (the embedded model) or `replay:DIR`. Unset: `local` when the local extra is installed.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", populate_by_name=True)

    llm: str | None = None
    model: str | None = None
    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("EXTRACTOR_API_KEY", "OPENAI_API_KEY", "api_key")
    )
    #: instructor mode (tools, json, md_json, json_schema); None: the backend's measured default.
    llm_mode: str | None = None
    #: Re-asks after the first answer when it breaks the rules (instructor max_retries); None: the backend's
    #: default (2; 0 for the embedded model).
    reasks: int | None = Field(default=None, ge=0, le=10)
    #: Retries of transient failures (429, 5xx, timeouts, connection errors) per call.
    transient_retries: int = Field(default=4, ge=0, le=20)
    #: Longest wait between transient retries, whatever Retry-After asks.
    max_retry_wait: float = Field(default=60.0, gt=0)
    timeout: float = Field(default=300.0, gt=0)
    #: Article text beyond this many tokens is cut before the call (the scan is flagged `truncated`).
    max_input_tokens: int | None = Field(default=None, ge=200)
    #: None: the backend's default (2048; 1200 for the embedded model, which writes about 10 tokens a second).
    max_output_tokens: int | None = Field(default=None, ge=16)
    #: `full` or `compact` (fewer rows); None: compact for the embedded model, full otherwise.
    answer_size: Literal["full", "compact"] | None = None
    temperature: float = 0.0
    #: `article`: the schema offers the article's own sentences as the only evidence values (grammar-constrained
    #: backends; compact answers only); `free`: the model writes its quotes. None: `article` for the embedded model.
    quotes: Literal["article", "free"] | None = None
    #: Extra sampling fields sent as they are (JSON in EXTRACTOR_SAMPLING), e.g. {"repeat_penalty": 1.3} for
    #: llama.cpp; None: the backend's default (none: each server's own sampling defaults).
    sampling: dict[str, float] | None = None
    #: Run budget: stop making calls once this many tokens (prompt + completion) are spent.
    budget_tokens: int | None = Field(default=None, ge=1)
    #: Run budget in US dollars, priced through `prices` (or the built-in table).
    budget_usd: float | None = Field(default=None, gt=0)
    #: Model -> [dollars per million prompt tokens, per million completion tokens]; JSON in EXTRACTOR_PRICES.
    prices: dict[str, tuple[float, float]] = Field(default_factory=dict)
    #: Language the scan must be written in (ISO 639-1); None: the article's own language.
    language: str | None = None
    #: Write every answer received to this directory in the replay format (to build regression fixtures).
    record: str | None = None
