"""The run driver's promises to a user: nothing paid for is thrown away unrecorded, the embedded model's server
starts only when the run can go ahead and never outlives the command, a set API key is used, the progress bar
knows its total from the start. Real loopback site and model stub, real ledger and files."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.models import scan_id
from tests.pipeline.article_site import ArticleSite
from tests.pipeline.llm_stub import StubLLM
from tests.pipeline.test_pipeline import pipeline_env


@pytest.fixture
def site() -> Iterator[ArticleSite]:
    with ArticleSite(posted=3, extra=("/short.html",)) as s:
        yield s


@pytest.fixture
def llm(site: ArticleSite, monkeypatch: pytest.MonkeyPatch) -> Iterator[StubLLM]:
    with StubLLM() as stub:
        for key, value in pipeline_env(site, stub).items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("PREFECT_API_URL", raising=False)
        yield stub


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def articles() -> dict[str, dict[str, Any]]:
    code, stdout, _ = run("status", "--json")
    assert code == 0
    return {a["url"]: a for a in json.loads(stdout)["articles"]}


def test_out_that_is_a_file_or_unwritable_fails_before_any_model_call(
    site: ArticleSite, llm: StubLLM, tmp_path: Path
) -> None:
    a_file = tmp_path / "scans.txt"
    a_file.write_text("not a directory", encoding="utf-8")
    code, _, stderr = run("page", site.post_url, "--out", str(a_file))
    assert code == 2 and stderr.startswith("extractor: ") and stderr.strip().count("\n") == 0
    assert "a file is in the way" in stderr
    # A directory nobody can write into (even root cannot create files in /proc): found before the first call.
    code, _, stderr = run("page", site.post_url, "--out", "/proc")
    assert code == 2 and "cannot write" in stderr and stderr.strip().count("\n") == 0
    assert llm.calls == 0


def test_an_answer_whose_files_cannot_be_written_is_recorded_with_its_cost_and_leaves_no_page(
    site: ArticleSite, llm: StubLLM, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    url = site.url(0)
    blocker = out / f"{scan_id(url)}.json"
    blocker.mkdir()  # the sidecar cannot be written where a directory stands
    code, stdout, _ = run("scan", url, "--out", str(out))
    assert code == 0, "the article got an outcome"
    assert "write_error" in stdout
    row = articles()[url]
    assert row["outcome"] == "write_error"
    assert row["tokens_in"] > 0 and row["tokens_out"] > 0 and row["attempts"] >= 1, "the paid answer is counted"
    assert not (out / f"{scan_id(url)}.md").exists(), "no page without its sidecar"
    blocker.rmdir()
    code, stdout, _ = run("scan", url, "--out", str(out))
    assert code == 0 and articles()[url]["outcome"] == "ok"
    assert (out / f"{scan_id(url)}.md").is_file() and (out / f"{scan_id(url)}.json").is_file()


class ServerSpy:
    """Stands in for the embedded model's server process: 'starts' by pointing at the model stub."""

    def __init__(self, llm: StubLLM) -> None:
        self.port = int(llm.base_url.rsplit(":", 1)[1].split("/")[0])
        self.started = 0
        self.stopped = 0


@pytest.fixture
def embedded(llm: StubLLM, monkeypatch: pytest.MonkeyPatch) -> ServerSpy:
    from extractor.extract._local import LocalServer

    spy = ServerSpy(llm)

    def start(self: LocalServer) -> LocalServer:
        spy.started += 1
        self.port = spy.port
        return self

    def stop(self: LocalServer) -> None:
        spy.stopped += 1

    monkeypatch.setattr(LocalServer, "start", start)
    monkeypatch.setattr(LocalServer, "stop", stop)
    monkeypatch.setattr("extractor.extract._backends.local_available", lambda: True)
    monkeypatch.setenv("EXTRACTOR_LLM", "local")
    return spy


def test_embedded_model_starts_only_when_the_run_can_go_ahead(
    site: ArticleSite, embedded: ServerSpy, tmp_path: Path
) -> None:
    code, _, stderr = run("page", str(tmp_path / "draft-typo.md"), "--out", str(tmp_path / "out"))
    assert code in (1, 2) and "draft-typo.md" in stderr and stderr.strip().count("\n") == 0
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    code, _, _ = run("page", site.post_url, "--out", str(a_file))
    assert code == 2
    code, _, _ = run("scan", site.url(0), "--out", "/proc")
    assert code == 2
    assert embedded.started == 0, "a typo or a bad --out costs no model start-up"


def test_a_run_with_nothing_new_starts_no_model(
    site: ArticleSite, llm: StubLLM, embedded: ServerSpy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A watch poll that finds no new item must not start the embedded model (seconds, about 420 MB) for nothing.
    from extractor import scan_source

    monkeypatch.setenv("EXTRACTOR_LLM", llm.base_url)
    first = scan_source(site.post_url, out=tmp_path / "out")
    assert first.totals.inputs == 4 and llm.calls == 3
    monkeypatch.setenv("EXTRACTOR_LLM", "local")
    again = scan_source(site.post_url, out=tmp_path / "out", only_new=True)
    assert again.records == [] and again.complete
    assert embedded.started == 0


def test_embedded_model_is_stopped_on_every_path(
    site: ArticleSite, embedded: ServerSpy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, stderr = run("scan", site.url(0), "--out", str(tmp_path / "out"))
    assert code == 0
    assert "SmolLM2" in stderr and "local backend" in stderr, "the run says which model it uses"
    assert (embedded.started, embedded.stopped) == (1, 1)

    from extractor.ledger import Ledger

    def broken(*args: object, **kwargs: object) -> int:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Ledger, "start_run", broken)
    with pytest.raises(sqlite3.OperationalError):
        run("scan", site.url(1), "--out", str(tmp_path / "out"))
    assert (embedded.started, embedded.stopped) == (2, 2), "a failure after the start still stops the server"


def test_an_api_key_means_openai_unless_extractor_llm_says_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.extract import LLMSettings, LocalServer, resolve

    monkeypatch.setattr("extractor.extract._backends.local_available", lambda: True)
    monkeypatch.delenv("EXTRACTOR_LLM", raising=False)
    monkeypatch.delenv("EXTRACTOR_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert resolve(LLMSettings()).kind == "openai"
    monkeypatch.setenv("EXTRACTOR_LLM", "local")
    backend = resolve(LLMSettings(), local_server=LocalServer.attached("http://127.0.0.1:9/v1"))
    assert backend.kind == "local" and backend.max_concurrency == 1
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("EXTRACTOR_LLM")
    backend = resolve(LLMSettings(), local_server=LocalServer.attached("http://127.0.0.1:9/v1"))
    assert backend.kind == "local", "no key, the local extra installed: the embedded model"


def test_progress_knows_the_total_before_the_first_article(
    site: ArticleSite, llm: StubLLM, tmp_path: Path
) -> None:
    from extractor import scan_source

    calls: list[tuple[str | None, int, int]] = []
    report = scan_source(
        site.post_url, out=tmp_path / "out",
        progress=lambda rec, done, total: calls.append((rec.outcome if rec else None, done, total)),
    )  # fmt: skip
    assert calls[0] == (None, 0, 4), "0/4 while the first article is read, not 0/?"
    assert [c[1] for c in calls[1:]] == [1, 2, 3, 4] and all(c[2] == 4 for c in calls)
    assert report.totals.succeeded == 3


def test_export_without_pyarrow_writes_jsonl_and_csv_and_says_how_to_get_parquet(
    site: ArticleSite, llm: StubLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    out = tmp_path / "out"
    assert run("scan", site.url(0), "--out", str(out))[0] == 0
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if the 'parquet' extra were not installed
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    code, _, stderr = run("export", "--out", str(out), "--dest", str(tmp_path / "exp"))
    assert code == 0
    assert stderr.strip().count("\n") == 0 and "--extra parquet" in stderr
    assert (tmp_path / "exp" / "scans.jsonl").read_text(encoding="utf-8").count("\n") == 1
    assert (tmp_path / "exp" / "scans-rows.csv").is_file() and not (tmp_path / "exp" / "scans-rows.parquet").exists()
