"""The pipeline in process, as `extractor page` / `scan` / `status` run it: a loopback article site, a loopback
OpenAI-compatible stub (real HTTP, real instructor, real validation), the real fetcher, ledger and files."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.ledger import Ledger
from extractor.models import Sidecar, scan_id
from extractor.parse import parse
from tests.pipeline.article_site import ArticleSite
from tests.pipeline.llm_stub import StubLLM

EXTRACTOR = str(Path(sys.executable).parent / "extractor")


def pipeline_env(site: ArticleSite, llm: StubLLM) -> dict[str, str]:
    return {
        "EXTRACTOR_ALLOW_HOSTS": site.allow_hosts,
        "EXTRACTOR_PER_HOST": "8",
        "EXTRACTOR_RETRIES": "0",
        "EXTRACTOR_LLM": llm.base_url,
        "EXTRACTOR_MODEL": llm.model,
    }


@pytest.fixture
def site() -> Iterator[ArticleSite]:
    with ArticleSite(posted=5, extra=("/short.html", "/gone.html", "/flaky.html")) as s:
        yield s


@pytest.fixture
def llm() -> Iterator[StubLLM]:
    with StubLLM() as stub:
        yield stub


@pytest.fixture
def env(site: ArticleSite, llm: StubLLM, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = pipeline_env(site, llm)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return values


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def snapshot(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}


def status() -> dict[str, object]:
    code, stdout, _ = run("status", "--json")
    assert code == 0
    data: dict[str, object] = json.loads(stdout)
    return data


def by_url(data: dict[str, object]) -> dict[str, dict[str, object]]:
    return {a["url"]: a for a in data["articles"]}  # type: ignore[attr-defined,index]


def test_page_gives_every_link_one_outcome_and_writes_scans_and_index(
    env: dict[str, str], site: ArticleSite, llm: StubLLM, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = run("page", site.post_url, "--out", str(out), "--concurrency", "4")
    assert code == 0, stderr
    assert "running in process (PREFECT_API_URL not set)" in stderr
    outcomes = {url: a["outcome"] for url, a in by_url(status()).items()}
    assert outcomes == {
        **{site.url(n): "ok" for n in range(5)},
        f"{site.base_url}/short.html": "too_short",
        f"{site.base_url}/gone.html": "http_error",
        f"{site.base_url}/flaky.html": "http_error",
    }
    assert llm.calls == 5
    for n in range(5):
        sid = scan_id(site.url(n))
        page = parse((out / f"{sid}.md").read_text(encoding="utf-8"))
        assert page.url == site.url(n) and page.origin == site.origin
        sidecar = Sidecar.from_json((out / f"{sid}.json").read_text(encoding="utf-8"))
        assert sidecar.provenance.content_hash and sidecar.provenance.model == llm.model
    index = (out / "index.md").read_text(encoding="utf-8")
    assert f"## [{site.origin}](https://kghosh.substack.com/p/{site.origin})" in index
    assert sum(f"({scan_id(site.url(n))}.md)" in index for n in range(5)) == 5
    assert "3 failed" in stdout and "too_short" in stdout


def test_rerun_makes_no_model_call_and_leaves_every_file_byte_identical(
    env: dict[str, str], site: ArticleSite, llm: StubLLM, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run("page", site.post_url, "--out", str(out))[0] == 0
    before, calls = snapshot(out), llm.calls
    gone_hits = site.hits.get("/gone.html", 0)
    assert run("page", site.post_url, "--out", str(out))[0] == 0
    assert llm.calls == calls
    assert snapshot(out) == before
    # A permanent failure (404) is carried over without asking the site again.
    assert site.hits.get("/gone.html", 0) == gone_hits
    data = status()
    articles = by_url(data)
    # Status shows what each scan cost when it was made, not the rerun's zero.
    assert articles[site.url(0)]["outcome"] == "ok" and articles[site.url(0)]["tokens_in"] > 0
    # Five unchanged scans and two permanent failures carried over; the transient failure was tried again.
    assert data["totals"]["skipped"] == 7  # type: ignore[index]
    with Ledger() as ledger:
        last_run = ledger.runs()[-1]["id"]
        assert all(r.skipped for r in ledger.run_records(last_run) if r.outcome == "ok")


def test_transient_failures_and_changed_articles_are_redone_and_nothing_else(
    env: dict[str, str], site: ArticleSite, llm: StubLLM, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run("page", site.post_url, "--out", str(out))[0] == 0
    calls = llm.calls
    sidecar = out / f"{scan_id(site.url(2))}.json"
    old_hash = Sidecar.from_json(sidecar.read_text(encoding="utf-8")).provenance.content_hash
    site.flaky_down = False
    site.versions[2] = 1
    # The web archive keeps what was fetched; changed content reaches the pipeline through a fresh fetch.
    for path in (Path(os.environ["EXTRACTOR_HOME"]) / "web").rglob("*"):
        if path.is_file():
            path.unlink()
    assert run("page", site.post_url, "--out", str(out))[0] == 0
    assert llm.calls == calls + 2  # the flaky page, now up, and article 2, changed
    articles = by_url(status())
    assert articles[f"{site.base_url}/flaky.html"]["outcome"] == "ok"
    assert articles[f"{site.base_url}/gone.html"]["outcome"] == "http_error"
    new_hash = Sidecar.from_json(sidecar.read_text(encoding="utf-8")).provenance.content_hash
    assert new_hash and new_hash != old_hash


def test_status_json_shape_and_totals(env: dict[str, str], site: ArticleSite, tmp_path: Path) -> None:
    assert run("page", site.post_url, "--out", str(tmp_path / "out"))[0] == 0
    data = status()
    assert set(data) == {"articles", "totals", "sources"}
    first = data["articles"][0]  # type: ignore[index]
    assert set(first) == {"url", "id", "origin", "outcome", "error", "tokens_in", "tokens_out", "attempts"}
    totals = data["totals"]
    assert totals["articles"] == 8 and totals["succeeded"] == 5 and totals["failed"] == 3  # type: ignore[index]
    ok = [a for a in data["articles"] if a["outcome"] == "ok"]  # type: ignore[attr-defined]
    assert all(a["tokens_in"] > 0 and a["tokens_out"] > 0 and a["attempts"] == 1 for a in ok)
    assert totals["tokens_in"] == sum(a["tokens_in"] for a in data["articles"])  # type: ignore[index,attr-defined]
    failed = [a for a in data["articles"] if a["outcome"] != "ok"]  # type: ignore[attr-defined]
    assert all(a["error"] for a in failed)


def test_scan_one_url_in_process_without_prefect(env: dict[str, str], site: ArticleSite, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = (
        "import sys\n"
        "from extractor.cli import app\n"
        "try:\n"
        "    app(sys.argv[1:])\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "print('PREFECT LOADED' if 'prefect' in sys.modules else 'no prefect', file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "scan", site.url(3), "--origin", "20250101", "--out", str(out)],
        capture_output=True, text=True, timeout=120, env={**os.environ},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "running in process" in proc.stderr and "no prefect" in proc.stderr
    md = out / f"{scan_id(site.url(3))}.md"
    assert str(md) in proc.stdout
    assert parse(md.read_text(encoding="utf-8")).origin == "20250101"


def test_usage_and_configuration_errors_are_one_line(env: dict[str, str], site: ArticleSite,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    code, _, stderr = run("page", site.post_url, "--runner", "bogus")
    assert code == 2 and stderr.strip().count("\n") == 0 and "bogus" in stderr
    code, _, stderr = run("watch", site.feed_url, "--interval", "60")
    assert code == 2 and "prefect server start" in stderr and stderr.strip().count("\n") == 0
    assert stderr.startswith("extractor: "), "every command's errors read alike"
    code, _, stderr = run("watch", site.feed_url)
    assert code == 2 and "--cron" in stderr
    monkeypatch.setenv("EXTRACTOR_CONCURRENCY", "many")
    code, _, stderr = run("page", site.post_url)
    assert code == 2 and "concurrency" in stderr and stderr.strip().count("\n") == 0
    assert stderr.startswith("extractor: setting ")
    monkeypatch.delenv("EXTRACTOR_CONCURRENCY")
    monkeypatch.setenv("EXTRACTOR_LLM", "nonsense")
    code, _, stderr = run("scan", site.url(0))
    assert code == 2 and "EXTRACTOR_LLM" in stderr and stderr.strip().count("\n") == 0


def test_export_and_index_commands(env: dict[str, str], site: ArticleSite, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("page", site.post_url, "--out", str(out))[0] == 0
    (out / "index.md").unlink()
    code, stdout, _ = run("index", "--out", str(out))
    assert code == 0 and (out / "index.md").is_file()
    code, stdout, _ = run("export", "--out", str(out), "--dest", str(tmp_path / "exp"))
    assert code == 0
    lines = (tmp_path / "exp" / "scans.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and "5 scans" in stdout


def test_sigkill_mid_run_then_rerun_loses_nothing_and_leaves_no_partial_file(
    site: ArticleSite, tmp_path: Path, extractor_home: Path
) -> None:
    out = tmp_path / "out"
    with StubLLM(latency=0.5) as slow:
        env = {**os.environ, **pipeline_env(site, slow)}
        env.pop("PREFECT_API_URL", None)
        cmd = [EXTRACTOR, "page", site.post_url, "--out", str(out), "--concurrency", "2"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(out.glob("*.json"))) < 2:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        written = {p.name: p.read_bytes() for p in out.glob("*.json")}
        assert 2 <= len(written) < 5, "the kill should land mid-run"
        for name in written:  # every sidecar written before the kill has its page
            assert (out / name.replace(".json", ".md")).is_file()
        calls_before = slow.calls

        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    for n in range(5):
        sid = scan_id(site.url(n))
        parse((out / f"{sid}.md").read_text(encoding="utf-8"))
        Sidecar.from_json((out / f"{sid}.json").read_text(encoding="utf-8"))
    with Ledger() as ledger:
        runs = ledger.runs()
        assert runs[0]["interrupted"] == 1
        outcomes = {r.url: r.outcome for r in ledger.latest()}
    assert [outcomes[site.url(n)] for n in range(5)] == ["ok"] * 5
    # Scans finished before the kill were kept, not redone: the rerun asked the model for the others only.
    assert slow.calls - calls_before <= 5 - len(written) + 2


def test_offline_demo_on_the_fixture_archive(llm: StubLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's demo command, with the stub model standing in for the embedded one: the fixture newsletter
    and its five articles come from `fixtures/archive/`, never from the network."""
    archive = Path(__file__).resolve().parents[2] / "fixtures" / "archive"
    before = {p: p.read_bytes() for p in archive.rglob("*") if p.is_file()}
    monkeypatch.setenv("EXTRACTOR_LLM", llm.base_url)
    monkeypatch.setenv("EXTRACTOR_MODEL", llm.model)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    out = tmp_path / "scans"
    post = "https://kghosh.substack.com/p/20250629d"
    code, _, stderr = run("page", post, "--offline", "--archive", str(archive), "--out", str(out))
    assert code == 0, stderr
    scans = sorted(out.glob("*.md"))
    assert len(scans) == 6  # five articles and the index
    pages = [parse(p.read_text(encoding="utf-8")) for p in scans if p.name != "index.md"]
    assert {p.origin for p in pages} == {"20250629d"}
    assert "https://civic-ledger.example/stories/library-of-seeds" in {p.url for p in pages}
    assert "## [20250629d](https://kghosh.substack.com/p/20250629d)" in (out / "index.md").read_text(encoding="utf-8")
    assert llm.calls == 5
    # Offline reads the archive and never writes it.
    assert {p: p.read_bytes() for p in archive.rglob("*") if p.is_file()} == before


def test_sigterm_closes_the_run_and_the_next_run_finishes_it(site: ArticleSite, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with StubLLM(latency=1.0) as slow:
        env = {**os.environ, **pipeline_env(site, slow)}
        env.pop("PREFECT_API_URL", None)
        cmd = [EXTRACTOR, "page", site.post_url, "--out", str(out), "--concurrency", "1"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list(out.glob("*.json")):
            time.sleep(0.05)
        proc.terminate()
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130 and "interrupted" in stderr
        with Ledger() as ledger:
            (run,) = ledger.runs()
            # Closed by the process itself and recorded as interrupted, not left for the next run to find.
            assert run["finished_at"] and run["interrupted"]
            records = ledger.run_records(run["id"])
            totals = ledger.run_totals(run["id"])
        assert len(records) == 8 and all(r.outcome for r in records)
        # The links it never reached are interrupted (redone next run), not failures.
        unreached = [r for r in records if r.outcome == "interrupted"]
        assert unreached and all(r.transient for r in unreached)
        assert totals.failed == sum(r.outcome not in ("ok", "too_long", "interrupted") for r in records)
        assert totals.interrupted == len(unreached)
        assert subprocess.run(cmd, env=env, capture_output=True, timeout=120).returncode == 0
    with Ledger() as ledger:
        assert sum(r.outcome == "ok" for r in ledger.latest()) == 5
