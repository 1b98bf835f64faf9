"""The format commands as a user runs them: a real `extractor` process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANS = ROOT / "fixtures" / "scans"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    exe = Path(sys.executable).with_name("extractor")
    return subprocess.run([str(exe), *args], capture_output=True, cwd=cwd, timeout=120)


def test_check_passes_on_every_fixture_and_reports_problems() -> None:
    result = run("check", str(SCANS), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["totals"]["failed"] == 0
    assert report["totals"]["files"] == len(list(SCANS.glob("*.md")))
    problems = {Path(r["path"]).stem: r["problems"] for r in report["results"]}
    assert any("culture" in p for p in problems["2025-empty-tables-culture"])
    assert any("damaged keywords" in p for p in problems["2023-late-damaged"])
    assert any("relevancy out of range" in p for p in problems["2024-problems"])
    assert problems["2025-plain"] == []


def test_check_fails_with_the_line_of_a_broken_page(tmp_path: Path) -> None:
    shutil.copy(SCANS / "2025-plain.md", tmp_path / "good.md")
    (tmp_path / "bad.md").write_text("# not a scan\n", encoding="utf-8")
    result = run("check", str(tmp_path))
    assert result.returncode == 1
    out = result.stdout.decode()
    assert "bad.md: line 1" in out and "ok   " in out


def test_check_reports_the_first_differing_line(tmp_path: Path) -> None:
    text = (SCANS / "2025-plain.md").read_text(encoding="utf-8")
    lines = text.split("\n")
    # a table row padded one column too narrow cannot be written back the same way
    row = next(i for i, line in enumerate(lines) if line.startswith("| Lagoon"))
    lines[row] = lines[row].replace("  |", " |", 1)
    (tmp_path / "drift.md").write_text("\n".join(lines), encoding="utf-8")
    result = run("check", str(tmp_path / "drift.md"), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)["results"][0]
    assert report["parsed"] is True and report["roundtrip"] is False
    assert report["difference"]["line"] == row + 1


def test_parse_then_render_reproduces_every_fixture(tmp_path: Path) -> None:
    files = sorted(SCANS.glob("*.md"))
    assert run("parse", *map(str, files), "-o", str(tmp_path / "json")).returncode == 0
    jsons = sorted((tmp_path / "json").glob("*.json"))
    assert len(jsons) == len(files)
    assert run("render", *map(str, jsons), "-o", str(tmp_path / "md")).returncode == 0
    for f in files:
        assert (tmp_path / "md" / f.name).read_bytes() == f.read_bytes(), f.name


def test_single_file_goes_to_stdout_with_nothing_after_the_last_line() -> None:
    page = SCANS / "2025-plain.md"
    parsed = run("parse", str(page))
    sidecar = json.loads(parsed.stdout)
    assert sidecar["schema"] == "extractor.scan/1" and len(sidecar["id"]) == 32
    assert "layout" not in sidecar["scan"], "a 2025 page needs no layout hints"


def test_render_of_stdin_json(tmp_path: Path) -> None:
    page = SCANS / "2023-closest.md"
    (tmp_path / "s.json").write_bytes(run("parse", str(page)).stdout)
    rendered = run("render", str(tmp_path / "s.json"))
    assert rendered.returncode == 0
    assert rendered.stdout == page.read_bytes()


def test_bad_inputs_get_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"schema": "other"}', encoding="utf-8")
    for args in (
        ["render", str(tmp_path / "x.json")],
        ["parse", str(tmp_path / "missing.md")],
        ["check", str(tmp_path / "nope")],
    ):
        result = run(*args)
        assert result.returncode != 0
        err = result.stderr.decode().strip()
        assert err.startswith("extractor: ") and "\n" not in err and "Traceback" not in err
    two = [str(SCANS / "2025-plain.md"), str(SCANS / "2023-late.md")]
    assert "-o DIR" in run("parse", *two).stderr.decode()


def test_check_of_an_output_folder_skips_its_index(tmp_path: Path) -> None:
    shutil.copy(SCANS / "2025-plain.md", tmp_path / "a.md")
    (tmp_path / "index.md").write_text("# Index\n\n* [a](a.md)\n", encoding="utf-8")
    result = run("check", str(tmp_path), "--json")
    assert result.returncode == 0
    assert [Path(r["path"]).name for r in json.loads(result.stdout)["results"]] == ["a.md"]
