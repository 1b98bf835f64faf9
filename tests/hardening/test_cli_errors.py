"""Usage and environment errors end in one `extractor: ...` line and exit 2, never a traceback (issue 12,
point 4), through the real command in a subprocess."""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
from pathlib import Path

from extractor.ledger import Ledger, Record
from tests.hardening.conftest import cli, full_dir, read_only_dir
from tests.pipeline.article_site import ArticleSite
from tests.pipeline.llm_stub import StubLLM


def test_version(env: dict[str, str]) -> None:
    done = cli("--version", env=env)
    assert done.code == 0
    name, version = done.stdout.split()
    assert name == "extractor" and version[0].isdigit()


def test_out_naming_a_file(env: dict[str, str], site: ArticleSite, llm: StubLLM, tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a directory")
    line = cli("page", site.post_url, "--out", str(afile), env=env).one_line_error()
    assert str(afile) in line
    assert afile.read_text() == "not a directory"
    assert llm.calls == 0


def test_export_dest_naming_a_file(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "scans"
    out.mkdir()
    afile = tmp_path / "afile"
    afile.write_text("x")
    line = cli("export", "--out", str(out), "--dest", str(afile), env=env).one_line_error()
    assert str(afile) in line


def test_home_is_a_file(env: dict[str, str], site: ArticleSite, llm: StubLLM, tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    env = env | {"EXTRACTOR_HOME": str(afile)}
    for args in (("page", site.post_url, "--out", str(tmp_path / "o")), ("status",)):
        line = cli(*args, env=env).one_line_error()
        assert "EXTRACTOR_HOME" in line and str(afile) in line
    assert llm.calls == 0


def test_read_only_home(env: dict[str, str], site: ArticleSite, tmp_path: Path) -> None:
    with read_only_dir(tmp_path / "ro") as home:
        line = cli("page", site.post_url, "--out", str(tmp_path / "o"), env=env | {"EXTRACTOR_HOME": str(home)}).one_line_error()
    assert "ledger" in line


def test_read_only_out(env: dict[str, str], site: ArticleSite, tmp_path: Path) -> None:
    with read_only_dir(tmp_path / "ro") as ro:
        for out in (ro, ro / "scans"):
            line = cli("page", site.post_url, "--out", str(out), env=env).one_line_error()
            assert str(ro) in line


def _ledger_with_a_run(home: Path) -> Path:
    with Ledger(home / "ledger.sqlite3") as ledger:
        run = ledger.start_run("test")
        for n in range(50):
            ledger.record(run, Record(f"https://a.test/{n}", f"https://a.test/{n}", f"{n:032x}", "ok"))
        ledger.finish_run(run)
    return home / "ledger.sqlite3"


def test_garbage_and_truncated_ledgers(env: dict[str, str], site: ArticleSite, home: Path, tmp_path: Path) -> None:
    path = _ledger_with_a_run(home)
    data = path.read_bytes()
    for damaged in (b"garbage " * 200, data[: len(data) // 3]):
        path.write_bytes(damaged)
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        for args in (("status",), ("status", "--json"), ("page", site.post_url, "--out", str(tmp_path / "o"))):
            line = cli(*args, env=env).one_line_error()
            assert str(path) in line


def test_ledger_from_a_newer_extractor_is_refused_untouched(env: dict[str, str], site: ArticleSite, home: Path,
                                                            tmp_path: Path) -> None:  # fmt: skip
    path = _ledger_with_a_run(home)
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    for args in (("status",), ("page", site.post_url, "--out", str(tmp_path / "o"))):
        line = cli(*args, env=env).one_line_error()
        assert "99" in line and "newer" in line
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not Path(f"{path}-wal").exists()


def test_prices_not_json(env: dict[str, str], site: ArticleSite, tmp_path: Path) -> None:
    env = env | {"EXTRACTOR_PRICES": "{gpt-4o: 1"}
    line = cli("page", site.post_url, "--out", str(tmp_path / "o"), env=env).one_line_error()
    assert "EXTRACTOR_PRICES" in line


def test_prefect_api_url_with_no_server(env: dict[str, str], site: ArticleSite, tmp_path: Path) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = env | {"PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    done = cli("scan", site.url(0), "--out", str(tmp_path / "o"), env=env)
    line = done.one_line_error()
    assert "PREFECT_API_URL" in line and len(done.lines) <= 2


def test_full_disk_shows_the_real_error(env: dict[str, str], site: ArticleSite, tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        home = stack.enter_context(full_dir(tmp_path / "full", before=_ledger_with_a_run))
        done = cli("page", site.post_url, "--out", str(tmp_path / "o"), env=env | {"EXTRACTOR_HOME": str(home)})
    line = done.one_line_error()
    assert "full" in line and "cannot rollback" not in done.stderr


def test_status_at_80_columns_shows_whole_urls_and_attempts(env: dict[str, str], home: Path) -> None:
    urls = [f"https://news.example.org/2025/06/29/a-rather-long-article-slug-number-{n}-about-things?id={n}"
            for n in range(3)]  # fmt: skip
    with Ledger(home / "ledger.sqlite3") as ledger:
        run = ledger.start_run("test")
        for n, url in enumerate(urls):
            ledger.record(run, Record(url, url, f"{n:032x}", "ok", origin="20250629d", tokens_in=1200 + n,
                                      tokens_out=300, attempts=n + 1))  # fmt: skip
        ledger.finish_run(run)
    done = cli("status", env=env | {"COLUMNS": "80"})
    assert done.code == 0, done.stderr
    assert "attempts" in done.stdout.splitlines()[0]
    for n, url in enumerate(urls):
        line = next(li for li in done.stdout.splitlines() if li.endswith(url))
        assert line.split()[:3] == ["ok", str(n + 1), f"{1200 + n}/300"]
    data = json.loads(cli("status", "--json", env=env).stdout)
    assert [a["attempts"] for a in data["articles"]] == [1, 2, 3]


def test_full_out_is_one_line(env: dict[str, str], site: ArticleSite, tmp_path: Path) -> None:
    with full_dir(tmp_path / "full") as out:
        done = cli("page", site.post_url, "--out", str(out), env=env)
    line = done.one_line_error()
    assert "No space left on device" in line
