"""`extractor import`: a folder of mixed-layout scan pages brought into OUT byte for byte, then seen by every
other command (index, export, status, check); damaged pages reported with their line; a second import a no-op."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.models import SIDECAR_SCHEMA, Sidecar, scan_id
from extractor.parse import parse
from extractor.sources import date_of_issue
from tests.support.site import FIXTURES

SCANS = FIXTURES / "scans"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("EXTRACTOR_HOME", str(path))
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def archive(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """An archive as the old tool left it: pages named by id, every layout, plus a page that is not a scan and
    one that is not UTF-8. Returns the folder and the good pages' bytes by file name."""
    folder = tmp_path / "archive"
    folder.mkdir()
    good: dict[str, bytes] = {}
    for path in sorted(SCANS.glob("*.md")):
        data = path.read_bytes()
        url = parse(data.decode("utf-8")).url
        name = f"{scan_id(url)}.md"
        (folder / name).write_bytes(data)
        good[name] = data
    (folder / "0123456789abcdef0123456789abcdef.md").write_text("Notes to self\n\nnot a scan", encoding="utf-8")
    latin = (SCANS / "2025-plain.md").read_text(encoding="utf-8").replace("## Keywords", "## Keywords\n\n* café")
    (folder / "fedcba9876543210fedcba9876543210.md").write_bytes(latin.encode("latin-1", errors="replace"))
    return folder, good


def ledger_rows(home: Path) -> list[dict[str, object]]:
    conn = sqlite3.connect(home / "ledger.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM articles ORDER BY id")]
    finally:
        conn.close()


def test_issue_ids_that_are_dates() -> None:
    assert date_of_issue("20250105d") == "2025-01-05"
    assert date_of_issue("20221228") == "2022-12-28"
    assert date_of_issue("2025-06-29-notes") == "2025-06-29"
    for not_a_date in ("4320.0", "weekly-notes-12", "20251399", "", "120250105"):
        assert date_of_issue(not_a_date) == ""


def test_import_keeps_every_page_byte_for_byte_and_reports_unreadable_ones(tmp_path: Path, home: Path) -> None:
    folder, good = archive(tmp_path)
    out = tmp_path / "out"
    code, stdout, stderr = run("import", str(folder), "--out", str(out))
    assert code == 1  # two pages could not be read: said, and skipped
    assert f"skipped {folder / '0123456789abcdef0123456789abcdef.md'}:1: " in stderr
    assert f"{folder / 'fedcba9876543210fedcba9876543210.md'}:9: not UTF-8 text" in stderr
    assert f"{len(good) + 2} pages: {len(good)} imported" in stdout
    for name, data in good.items():
        assert (out / name).read_bytes() == data
        sidecar = json.loads((out / name).with_suffix(".json").read_text(encoding="utf-8"))
        assert sidecar["schema"] == SIDECAR_SCHEMA and sidecar["id"] == name[:-3]
        assert sidecar["provenance"]["imported_from"] == str((folder / name).resolve())
        scan = Sidecar.from_json(json.dumps(sidecar)).scan
        assert scan == parse(data.decode("utf-8"))  # layout included: the sidecar renders back to the page
    assert not (out / "0123456789abcdef0123456789abcdef.md").exists()
    crlf = next(n for n, d in good.items() if b"\r\n" in d)
    assert "layout" in json.loads((out / crlf).with_suffix(".json").read_text(encoding="utf-8"))["scan"]

    rows = ledger_rows(home)
    assert len(rows) == len(good) and {r["outcome"] for r in rows} == {"imported"}
    by_id = {r["scan_id"]: r for r in rows}
    damaged = by_id[next(n for n, d in good.items() if d == (SCANS / "2023-late-damaged.md").read_bytes())[:-3]]
    assert damaged["origin"] == "4320.0" and damaged["issue_date"] is None
    dated = [r for r in rows if r["origin"] and str(r["origin"])[:8].isdigit()]
    assert dated and all(r["issue_date"] == date_of_issue(str(r["origin"])) != "" for r in dated)


def test_second_import_changes_nothing(tmp_path: Path, home: Path) -> None:
    folder, good = archive(tmp_path)
    out = tmp_path / "out"
    run("import", str(folder), "--out", str(out))
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    rows = ledger_rows(home)
    code, stdout, _ = run("import", str(folder), "--out", str(out))
    assert code == 1 and f"0 imported, 0 copied, 0 sidecars written, {len(good)} already there" in stdout
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == before
    assert ledger_rows(home) == rows


def test_every_command_sees_the_imported_pages(tmp_path: Path) -> None:
    folder, good = archive(tmp_path)
    for bad in ("0123456789abcdef0123456789abcdef.md", "fedcba9876543210fedcba9876543210.md"):
        (folder / bad).unlink()
    out = tmp_path / "out"
    assert run("import", str(folder), "--out", str(out))[0] == 0
    index = (out / "index.md").read_text(encoding="utf-8")
    assert f"{len(good)} scans from" in index and all(f"({name})" in index for name in good)
    code, stdout, _ = run("export", "--out", str(out))
    assert code == 0 and f"{len(good)} scans ->" in stdout
    assert len((out / "scans.jsonl").read_text(encoding="utf-8").splitlines()) == len(good)
    code, stdout, _ = run("status", "--json")
    data = json.loads(stdout)
    assert {a["outcome"] for a in data["articles"]} == {"imported"}
    assert data["totals"]["articles"] == len(good) and data["totals"]["failed"] == 0
    code, stdout, _ = run("check", str(out))
    assert code == 0 and f"{len(good)} files, {len(good)} parsed and round-tripped, 0 failed" in stdout


def test_import_in_place_writes_only_sidecars(tmp_path: Path) -> None:
    folder, good = archive(tmp_path)
    code, stdout, _ = run("import", str(folder), "--out", str(folder))
    assert code == 1  # the two unreadable pages
    assert f"{len(good)} imported, 0 copied, {len(good)} sidecars written" in stdout
    assert all((folder / name).read_bytes() == data for name, data in good.items())
    assert all((folder / name).with_suffix(".json").is_file() for name in good)


def test_pages_already_in_out_are_never_replaced(tmp_path: Path, home: Path) -> None:
    folder, good = archive(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    first, second = sorted(good)[:2]
    # A page the pipeline wrote, with its own sidecar: kept, and its ledger rows are the pipeline's.
    (out / first).write_bytes(good[first])
    mine = Sidecar.of(parse(good[first].decode("utf-8"))).to_json()
    (out / first).with_suffix(".json").write_text(mine, encoding="utf-8")
    # Another page under the same name with other content: not replaced, and said.
    (out / second).write_bytes(b"# __Something else__")
    code, _, stderr = run("import", str(folder), "--out", str(out))
    assert code == 1 and f"{out / second} is there with other content" in stderr
    assert (out / second).read_bytes() == b"# __Something else__"
    assert (out / first).with_suffix(".json").read_text(encoding="utf-8") == mine
    ids = {r["scan_id"] for r in ledger_rows(home)}
    assert first[:-3] not in ids and second[:-3] not in ids and len(ids) == len(good) - 2


def test_missing_folder_is_one_line(tmp_path: Path) -> None:
    code, _, stderr = run("import", str(tmp_path / "nope"))
    assert code == 2 and stderr.startswith("extractor: ") and stderr.strip().count("\n") == 0


def test_a_run_meeting_an_imported_article_does_not_scan_it_again(tmp_path: Path, home: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from tests.pipeline.article_site import ArticleSite
    from tests.pipeline.llm_stub import StubLLM
    from tests.pipeline.test_pipeline import pipeline_env

    with ArticleSite(posted=2) as site, StubLLM() as llm:
        for key, value in pipeline_env(site, llm).items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("PREFECT_API_URL", raising=False)
        folder = tmp_path / "archive"
        folder.mkdir()
        text = (SCANS / "2025-plain.md").read_text(encoding="utf-8")
        old = parse(text).url
        page = text.replace(f"]({old})__", f"]({site.url(0)})__").encode("utf-8")
        (folder / f"{scan_id(site.url(0))}.md").write_bytes(page)
        out = tmp_path / "out"
        assert run("import", str(folder), "--out", str(out))[0] == 0
        code, stdout, stderr = run("page", site.post_url, "--out", str(out))
    assert code == 0, stderr
    assert llm.calls == 1 and "2 links: 2 scanned" in stdout  # only the article that was not imported
    assert (out / f"{scan_id(site.url(0))}.md").read_bytes() == page
    outcomes = {r["url"]: r["outcome"] for r in ledger_rows(home)}
    assert outcomes == {site.url(0): "imported", site.url(1): "ok"}


def test_index_and_export_say_which_pages_need_an_import(tmp_path: Path) -> None:
    folder, good = archive(tmp_path)
    for bad in ("0123456789abcdef0123456789abcdef.md", "fedcba9876543210fedcba9876543210.md"):
        (folder / bad).unlink()
    code, stdout, stderr = run("index", "--out", str(folder))
    assert code == 0 and (folder / "index.md").read_text(encoding="utf-8").count("](") == 0
    hint = f"{len(good)} pages in {folder} have no sidecar and are left out (`extractor import {folder}`"
    assert hint in stderr
    assert run("import", str(folder), "--out", str(folder))[0] == 0
    code, stdout, stderr = run("export", "--out", str(folder))
    assert code == 0 and f"{len(good)} scans ->" in stdout and "no sidecar" not in stderr


def test_an_out_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    folder, _ = archive(tmp_path)
    (tmp_path / "taken").write_text("x", encoding="utf-8")
    code, _, stderr = run("import", str(folder), "--out", str(tmp_path / "taken"))
    assert code == 2 and stderr == f"extractor: --out {tmp_path / 'taken'}: not a directory\n"


def test_a_ledger_of_version_1_upgrades_in_place(tmp_path: Path) -> None:
    from extractor.ledger import MIGRATIONS, Ledger

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(dict(MIGRATIONS)[1] + "; PRAGMA user_version = 1;")
    conn.execute("INSERT INTO runs (command, started_at, finished_at, pid, host) VALUES ('page', 't', 't', 1, 'h')")
    conn.execute("INSERT INTO articles (run_id, url, canonical_url, scan_id, origin, outcome) "
                 "VALUES (1, 'https://a.example/x', 'https://a.example/x', 'id', '20250105d', 'ok')")  # fmt: skip
    conn.commit()
    conn.close()
    with Ledger(path) as ledger:
        assert ledger.version >= 2
        (rec,) = ledger.latest()
    assert (rec.url, rec.outcome, rec.origin, rec.issue_date, rec.author) == (
        "https://a.example/x", "ok", "20250105d", None, None)  # fmt: skip
