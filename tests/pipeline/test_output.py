"""Outputs: atomic files, stale temp clean-up, the index page, exports."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from extractor.models import Sidecar
from extractor.output import INDEX_FILE, OutputDir, atomic_write, clean_stale, export, write_index
from extractor.parse import parse
from extractor.render import render
from tests.pipeline.scans import make_provenance, make_scan


def test_scan_files_are_the_rendered_page_and_its_sidecar(tmp_path: Path) -> None:
    out = OutputDir(tmp_path / "out")
    out.prepare()
    scan = make_scan(1)
    md, js = out.write(scan, make_provenance("2025-07-01T00:00:00Z"))
    assert md.name == f"{scan.id}.md" and js.name == f"{scan.id}.json"
    assert md.read_text(encoding="utf-8") == render(scan)
    assert parse(md.read_text(encoding="utf-8")).title == "Article number 1"
    assert Sidecar.from_json(js.read_text(encoding="utf-8")).provenance.model == "stub"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([md.name, js.name])
    assert out.has(scan.id)


def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path: Path) -> None:
    tmp_path = tmp_path / "d"
    tmp_path.mkdir()
    target = tmp_path / "f.md"
    atomic_write(target, b"old")
    atomic_write(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert [p.name for p in tmp_path.iterdir()] == ["f.md"]


def test_temp_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    tmp_path = tmp_path / "d"
    tmp_path.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".abc.md.{dead_pid}.0123abcd.tmp"
    live = tmp_path / f".abc.json.{os.getpid()}.89abcdef.tmp"
    other = tmp_path / "notes.tmp"
    for p in (stale, live, other):
        p.write_bytes(b"partial")
    assert clean_stale(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])


def test_index_groups_by_origin_newest_first(tmp_path: Path) -> None:
    out = OutputDir(tmp_path)
    plan = [
        (1, "20250601", "2025-06-01T10:00:00Z"),
        (2, "20250629d", "2025-06-29T10:00:00Z"),
        (3, "20250629d", "2025-06-29T12:00:00Z"),
        (4, "", "2025-07-01T00:00:00Z"),
    ]
    scans = {}
    for n, origin, when in plan:
        scans[n] = make_scan(n, origin=origin, title=f"Title [{n}]")
        out.write(scans[n], make_provenance(when))
    text = write_index(tmp_path).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.startswith(("## ", "* "))]
    assert lines == [
        "## [20250629d](https://kghosh.substack.com/p/20250629d)",
        f"* [Title \\[3\\]]({scans[3].id}.md)",
        f"* [Title \\[2\\]]({scans[2].id}.md)",
        "## [20250601](https://kghosh.substack.com/p/20250601)",
        f"* [Title \\[1\\]]({scans[1].id}.md)",
        "## (no origin)",
        f"* [Title \\[4\\]]({scans[4].id}.md)",
    ]
    assert (tmp_path / INDEX_FILE).read_text(encoding="utf-8") == text
    # Same scans, same page: rewriting the index is byte-identical.
    assert write_index(tmp_path).read_text(encoding="utf-8") == text


def test_export_writes_jsonl_csv_and_parquet_with_every_row(tmp_path: Path) -> None:
    out = OutputDir(tmp_path / "out")
    for n in range(3):
        out.write(make_scan(n), make_provenance(f"2025-06-0{n + 1}T00:00:00Z"))
    done = export(tmp_path / "out", tmp_path / "exp")
    lines = done.jsonl.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["scan"]["title"] for line in lines] == sorted(
        (f"Article number {n}" for n in range(3)), key=lambda t: make_scan(int(t[-1])).id
    )
    with done.csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    # Each scan: one signal, one concern, two technologies.
    assert done.rows == len(rows) == 12
    assert {r["table"] for r in rows} == {"signals", "concerns", "technologies"}
    table = pq.read_table(done.parquet).to_pylist()
    assert [r["name"] for r in table] == [r["name"] for r in rows]
    assert [r["relevancy"] for r in table if r["table"] == "signals"] == [3, 3, 3]
