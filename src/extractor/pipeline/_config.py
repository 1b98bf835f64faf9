"""What a run needs to know, read once at the entry point (the CLI, a flow, the library call) into one value
that travels to Prefect tasks and Dask workers. Workers rebuild their fetcher, extractor, ledger and output
directory from it (see `_resources`) and never read the environment themselves: a worker on another machine
has other environment variables, or none."""

from __future__ import annotations

import uuid
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from extractor.extract._settings import LLMSettings
from extractor.fetch._settings import FetchSettings
from extractor.settings import ENV_PREFIX, CoreSettings, web_archive_dir


class PipelineSettings(BaseSettings):
    """`EXTRACTOR_OUT`, `EXTRACTOR_CONCURRENCY`, `EXTRACTOR_RETRY_PERMANENT`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    out: Path = Path("scans")
    concurrency: int = Field(default=8, ge=1, le=256)
    #: Try again articles whose last failure was permanent (blocked, too short, invalid output...).
    retry_permanent: bool = False
    #: How long the Prefect flows' cache of extraction results keeps an answer (days).
    cache_days: float = Field(default=30.0, gt=0)


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
    concurrency: int = 8
    cache_days: float = 30.0
    #: The model's settings and the fetcher's, as read at the entry point.
    llm: LLMSettings = Field(default_factory=LLMSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    #: The embedded model's server, once the entry point started it: workers use it instead of starting their own.
    local_url: str | None = None
    #: Names this run's shared limits (the run budget): one value per entry point, the same in every worker.
    run_key: str = Field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def make(
        cls,
        *,
        out: Path | str | None = None,
        offline: bool = False,
        archive: Path | str | None = None,
        retry_permanent: bool | None = None,
        concurrency: int | None = None,
    ) -> RunConfig:
        """Reads every `EXTRACTOR_*` setting once. Raises pydantic's ValidationError on a bad value."""
        core = CoreSettings()
        pipe = PipelineSettings()
        fetch = FetchSettings()
        home = core.home.resolve()
        if archive is None:
            archive = fetch.archive_dir  # EXTRACTOR_ARCHIVE_DIR, the fetcher's own setting
        archive_dir = Path(archive).expanduser().resolve() if archive else web_archive_dir(home)
        return cls(
            home=str(home),
            out=str(Path(out or pipe.out).expanduser().resolve()),
            offline=offline,
            archive=str(archive_dir),
            retry_permanent=pipe.retry_permanent if retry_permanent is None else retry_permanent,
            newsletter_host=core.newsletter_host,
            concurrency=concurrency or pipe.concurrency,
            cache_days=pipe.cache_days,
            llm=LLMSettings(),
            fetch=fetch.model_copy(update={"archive_dir": archive_dir}),
        )

    def origin_url(self, origin: str) -> str:
        return f"https://{self.newsletter_host}/p/{origin}" if origin else ""
