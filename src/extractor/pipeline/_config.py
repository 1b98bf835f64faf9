"""What a run needs to know, as one small serialisable value: it travels to Prefect tasks and Dask workers,
which rebuild their fetcher, extractor, ledger and output directory from it (see `_resources`)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from extractor.settings import ENV_PREFIX, CoreSettings


class PipelineSettings(BaseSettings):
    """`EXTRACTOR_OUT`, `EXTRACTOR_CONCURRENCY`, `EXTRACTOR_RETRY_PERMANENT`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    out: Path = Path("scans")
    concurrency: int = Field(default=8, ge=1, le=256)
    #: Try again articles whose last failure was permanent (blocked, too short, invalid output...).
    retry_permanent: bool = False


class RunConfig(BaseModel):
    """Everything a worker needs to process links of one run, in any process."""

    model_config = ConfigDict(frozen=True)

    home: str
    out: str
    offline: bool = False
    #: A web archive to read (offline) and fill, other than `EXTRACTOR_HOME/web`.
    archive: str | None = None
    retry_permanent: bool = False
    newsletter_host: str = "kghosh.substack.com"

    @classmethod
    def make(
        cls,
        *,
        out: Path | None = None,
        offline: bool = False,
        archive: Path | None = None,
        retry_permanent: bool | None = None,
    ) -> RunConfig:
        core = CoreSettings()
        pipe = PipelineSettings()
        if archive is None and os.environ.get(f"{ENV_PREFIX}ARCHIVE_DIR"):
            # The fetcher's own setting; read here so that workers in other processes get it too.
            archive = Path(os.environ[f"{ENV_PREFIX}ARCHIVE_DIR"])
        return cls(
            home=str(core.home.resolve()),
            out=str((out or pipe.out).expanduser().resolve()),
            offline=offline,
            archive=str(archive.expanduser().resolve()) if archive else None,
            retry_permanent=pipe.retry_permanent if retry_permanent is None else retry_permanent,
            newsletter_host=core.newsletter_host,
        )

    def origin_url(self, origin: str) -> str:
        return f"https://{self.newsletter_host}/p/{origin}" if origin else ""
