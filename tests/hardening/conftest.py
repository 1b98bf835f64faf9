"""Fixtures of the hardening tests: the real `extractor` command in a subprocess (what a user sees: its exit
code and its stderr), a private EXTRACTOR_HOME, a loopback article site and model stub, and real mounts for
read-only and full filesystems when the machine allows them."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pipeline.article_site import ArticleSite
from tests.pipeline.llm_stub import StubLLM

EXTRACTOR = str(Path(sys.executable).parent / "extractor")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def one_line_error(self, code: int = 2) -> str:
        """Asserts the command failed the way a user should see it: one `extractor: ...` line, no traceback."""
        assert "Traceback" not in self.stderr, self.stderr
        assert self.code == code, (self.code, self.stderr)
        errors = [line for line in self.lines if line.startswith("extractor: ")]
        assert len(errors) == 1 and self.lines[-1] == errors[0], self.stderr
        return errors[0]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def site() -> Iterator[ArticleSite]:
    with ArticleSite(posted=3) as s:
        yield s


@pytest.fixture
def llm() -> Iterator[StubLLM]:
    with StubLLM() as stub:
        yield stub


@pytest.fixture
def env(home: Path, site: ArticleSite, llm: StubLLM) -> dict[str, str]:
    """The environment of a run against the loopback site and stub, without any of the caller's settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("EXTRACTOR_", "PREFECT_", "OPENAI_"))}
    return base | {
        "EXTRACTOR_HOME": str(home),
        "EXTRACTOR_ALLOW_HOSTS": site.allow_hosts,
        "EXTRACTOR_RETRIES": "0",
        "EXTRACTOR_LLM": llm.base_url,
        "EXTRACTOR_MODEL": llm.model,
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


def cli(*args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 120) -> Result:
    done = subprocess.run(
        [EXTRACTOR, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    return Result(done.returncode, done.stdout, done.stderr)


@contextlib.contextmanager
def tmpfs(path: Path, *options: str, size: str = "256k") -> Iterator[Path]:
    """A real tmpfs mounted at `path` (root only): skips the test where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    opts = ",".join((f"size={size}", *options))
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@contextlib.contextmanager
def read_only_dir(path: Path) -> Iterator[Path]:
    """A directory nobody may write to: permissions for a normal user, a read-only mount for root (who
    ignores permissions)."""
    if os.geteuid() != 0:
        path.mkdir(parents=True)
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    with tmpfs(path, "ro") as mounted:
        yield mounted


@contextlib.contextmanager
def full_dir(path: Path, before: Callable[[Path], object] | None = None) -> Iterator[Path]:
    """A directory on a filesystem with no space left (a tiny tmpfs, filled up after `before` wrote to it)."""
    with tmpfs(path, size="2m") as mounted:
        if before is not None:
            before(mounted)
        with contextlib.suppress(OSError), open(mounted / "filler", "wb") as fh:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
        yield mounted
