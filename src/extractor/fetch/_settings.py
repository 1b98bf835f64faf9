"""`FetchSettings`: every limit of the fetcher, from `EXTRACTOR_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from extractor.settings import ENV_PREFIX, CoreSettings, web_archive_dir

DEFAULT_USER_AGENT = "extractor/0.1 (horizon-scanning article reader; +https://github.com/extractor)"


class FetchSettings(BaseSettings):
    """Limits of one fetch. Environment: `EXTRACTOR_ALLOW_HOSTS=127.0.0.1:8081,localhost:9000`,
    `EXTRACTOR_DEADLINE=30`, `EXTRACTOR_MAX_BYTES=5000000`, `EXTRACTOR_PER_HOST=1`, `EXTRACTOR_ROBOTS=false`..."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    #: `host:port` pairs admitted although they resolve to loopback/private addresses (local test servers).
    #: Matched against the URL's host exactly as written (lowercased) and its port; nothing else private passes.
    allow_hosts: Annotated[frozenset[str], NoDecode] = frozenset()
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=20.0, gt=0)
    #: Wall-clock limit for one attempt (connect, redirects, headers and body), enforced on every socket operation.
    deadline: float = Field(default=30.0, gt=0)
    #: Cap on the decompressed body.
    max_bytes: int = Field(default=5_000_000, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    #: Extra attempts after the first, for 408, 429, 5xx and timeouts only.
    retries: int = Field(default=2, ge=0)
    #: Base of the exponential backoff between attempts (seconds; jittered).
    backoff: float = Field(default=1.0, ge=0)
    #: A `Retry-After` longer than this is not waited for: the fetch fails (transient) instead.
    retry_after_max: float = Field(default=30.0, ge=0)
    #: Requests in flight at once per host:port.
    per_host: int = Field(default=1, ge=1)
    user_agent: str = DEFAULT_USER_AGENT
    #: Honour robots.txt.
    robots: bool = True
    #: Extra CA certificates (PEM) to trust besides the system's, e.g. a test or corporate CA.
    ca_bundle: Path | None = None
    #: Root of the web archive; default `EXTRACTOR_HOME/web`.
    archive_dir: Path | None = None

    @field_validator("allow_hosts", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(item.strip().lower() for item in value.split(",") if item.strip())
        if isinstance(value, list | set | frozenset | tuple):
            return frozenset(str(item).strip().lower() for item in value)
        return value

    @field_validator("allow_hosts", mode="after")
    @classmethod
    def _check_pairs(cls, value: frozenset[str]) -> frozenset[str]:
        for item in value:
            host, sep, port = item.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"EXTRACTOR_ALLOW_HOSTS entries are host:port, got {item!r}")
        return value

    def archive_root(self) -> Path:
        if self.archive_dir is not None:
            return self.archive_dir.expanduser()
        return web_archive_dir(CoreSettings().home)
