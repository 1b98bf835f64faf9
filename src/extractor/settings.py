"""Configuration shared by every part: where extractor keeps its state.

Each subsystem reads its own settings class (fetch, extraction, pipeline), all from `EXTRACTOR_*` environment
variables through pydantic-settings; this module holds what they share.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "EXTRACTOR_"
#: What `EXTRACTOR_HOME` holds: the ledger, and the web archive of raw responses.
LEDGER_FILE = "ledger.sqlite3"
WEB_ARCHIVE_DIR = "web"


def _default_home() -> Path:
    return Path.home() / ".extractor"


class CoreSettings(BaseSettings):
    """`EXTRACTOR_HOME`: the directory that holds everything kept between runs (web archive, ledger, cache)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    home: Path = Field(default_factory=_default_home)
    newsletter_host: str = "kghosh.substack.com"

    @field_validator("home", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()


def ledger_path(home: Path) -> Path:
    return home / LEDGER_FILE


def web_archive_dir(home: Path) -> Path:
    return home / WEB_ARCHIVE_DIR


def home_dir() -> Path:
    """`EXTRACTOR_HOME`, created on first use."""
    path = CoreSettings().home
    path.mkdir(parents=True, exist_ok=True)
    return path
