"""`extractor check` with the rule set: hard and soft problems per page, and a folder that holds a broken file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from extractor.models import Entry, Signal
from extractor.parse import parse
from extractor.render import render

ROOT = Path(__file__).resolve().parents[2]
SCANS = ROOT / "fixtures" / "scans"


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    exe = Path(sys.executable).with_name("extractor")
    return subprocess.run([str(exe), *args], capture_output=True, timeout=120)


def results(folder: Path) -> tuple[int, dict[str, dict[str, object]]]:
    done = run("check", str(folder), "--json")
    report = json.loads(done.stdout)
    return done.returncode, {Path(r["path"]).name: r for r in report["results"]}


def hostile_page() -> str:
    scan = parse((SCANS / "2025-plain.md").read_text(encoding="utf-8"))
    same = Entry(name="Same row everywhere", description="Copied.")
    return render(scan.model_copy(update={
        "title": "Visit evil.example/login for <b>prizes</b>",
        "signals": [*scan.signals, Signal(name="## Heading", description="See javascript:alert(1)", relevancy=3)],
        "concerns": [*scan.concerns, same], "behaviors": [*scan.behaviors, same],
        "technologies": [*scan.technologies, same], "issues": [*scan.issues, same],
    }))  # fmt: skip


def test_a_non_utf8_file_is_one_error_line_and_the_folder_goes_on(tmp_path: Path) -> None:
    shutil.copy(SCANS / "2025-plain.md", tmp_path / "a-good.md")
    (tmp_path / "b-latin1.md").write_bytes("# __Caf\xe9__, (from page [x](https://x/p/x).)\n".encode("latin-1"))
    shutil.copy(SCANS / "2025-multilingual.md", tmp_path / "c-good.md")
    code, found = results(tmp_path)
    assert code == 1 and set(found) == {"a-good.md", "b-latin1.md", "c-good.md"}
    assert found["b-latin1.md"]["parsed"] is False and "not UTF-8" in str(found["b-latin1.md"]["error"])
    assert found["a-good.md"]["roundtrip"] and found["c-good.md"]["roundtrip"]
    human = run("check", str(tmp_path))
    lines = [line for line in human.stdout.decode().splitlines() if "b-latin1.md" in line]
    assert len(lines) == 1 and lines[0].startswith("FAIL") and not human.stderr


def test_hard_and_soft_problems_per_page(tmp_path: Path) -> None:
    shutil.copy(SCANS / "2025-plain.md", tmp_path / "plain.md")
    shutil.copy(SCANS / "2025-empty-tables-culture.md", tmp_path / "culture.md")
    (tmp_path / "hostile.md").write_text(hostile_page(), encoding="utf-8", newline="")
    code, found = results(tmp_path)
    assert code == 0  # every page parses and round-trips: problems are reported, not failures
    assert found["plain.md"]["hard"] == []
    assert any("culture" in p for p in found["culture.md"]["soft"])  # type: ignore[attr-defined]
    hard = " | ".join(found["hostile.md"]["hard"])  # type: ignore[arg-type]
    for expected in ("HTML '<b>'", "markdown heading", "javascript:alert(1)", "all four of"):
        assert expected in hard, expected
    assert any("evil.example/login" in p for p in found["hostile.md"]["soft"])  # type: ignore[attr-defined]
