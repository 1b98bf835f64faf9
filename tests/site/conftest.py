"""Fixtures of the site tests: an OUT folder made of the fixture scans (archive pages without sidecars, pipeline
pages with them) plus one scan holding hostile text, a snapshot of archive intelligence built here, one site
built from them per session, and a loopback HTTP server for it."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from extractor.models import Entry, Evidence, Provenance, Scan, Signal
from extractor.output import OutputDir
from extractor.parse import parse
from extractor.site import SiteReport, build_site

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "scans"
HOSTILE_TITLE = '<script>window.pwned = 1</script> Robots & "hackers" <b>bold</b>'
HOSTILE_KEYWORD = "<img src=x onerror=window.pwned=2>"
KEYWORD = "seaweed batteries"  # only in the hostile scan's summary: a search for it must find that scan


def hostile_scan() -> tuple[Scan, Provenance]:
    scan = Scan(
        title=HOSTILE_TITLE,
        origin="20261120a",
        origin_url="https://kghosh.substack.com/p/20261120a",
        url="javascript:window.pwned=4//example.org/hostile",  # not a web link: must stay text
        keywords=[HOSTILE_KEYWORD, "soil sensors"],
        themes=["energy transition"],
        category="technology",
        type="news",
        summary=f"A page about {KEYWORD}. [click me](javascript:window.pwned=3) and <iframe src=x></iframe>.",
        signals=[
            Signal(name="Cells from kelp </td></tr>", description="<b>not bold</b>", change="c", ten_year="t",
                   driving_force="f", relevancy=4),
        ],
        concerns=[Entry(name="Spoofed quotes", description="a | pipe")],
    )
    prov = Provenance(
        source="https://kghosh.substack.com/p/20261120a",
        evidence=[Evidence(table="signals", name="Cells from kelp </td></tr>", quote="<script>quote</script> kelp",
                           verified=True)],
        created_at="2026-11-20T08:00:00Z",
    )
    return scan, prov


def make_out(out: Path) -> dict[str, str]:
    """OUT with every fixture scan (named by id) and the hostile scan; returns fixture name -> scan id."""
    out.mkdir(parents=True, exist_ok=True)
    ids: dict[str, str] = {}
    for page in sorted(FIXTURES.glob("*.md")):
        text = page.read_bytes()
        scan = parse(text.decode("utf-8"))
        (out / f"{scan.id}.md").write_bytes(text)
        sidecar = page.with_suffix(".json")
        if sidecar.exists():
            shutil.copy(sidecar, out / f"{scan.id}.json")
        ids[page.stem] = scan.id
    scan, prov = hostile_scan()
    OutputDir(out).write(scan, prov)
    ids["hostile"] = scan.id
    return ids


def make_snapshot(ids: dict[str, str]) -> dict[str, Any]:
    """Archive intelligence as `extractor.intelligence.snapshot` returns it, for two fixture articles."""
    heat, soil = ids["article-harbour-heat"], ids["article-soil-sensors"]
    return {
        "related": {heat: [{"scan_id": soil, "score": 0.42}], soil: [{"scan_id": heat, "score": 0.42}]},
        "signals": [
            {
                "id": "sig-heat-storage", "name": "Heat storage in public tanks", "count": 2,
                "first_seen": "2026-11-02", "last_seen": "2026-11-09", "status": "strengthening", "novelty": 0.3,
                "occurrences": [
                    {"scan_id": heat, "origin": "20261102a", "date": "2026-11-02", "name": "Heat tanks as grid batteries",
                     "similarity": 1.0},
                    {"scan_id": soil, "origin": "20261109", "date": "2026-11-09",
                     "name": "Commodity sensors in agriculture", "similarity": 0.61},
                ],
            },
            {"id": "sig-new", "name": "Kelp cells", "count": 1, "first_seen": "2026-11-20", "last_seen": "2026-11-20",
             "status": "new", "novelty": 0.9,
             "occurrences": [{"scan_id": ids["hostile"], "origin": "20261120a", "date": "2026-11-20",
                              "name": "Cells from kelp </td></tr>", "similarity": 1.0}]},
        ],
        "trends": {"months": ["2026-11"], "keyword": {"2026-11": {"heat pumps": 2, "soil sensors": 3}}},
    }


class Built:
    def __init__(self, out: Path, dest: Path, ids: dict[str, str], report: SiteReport) -> None:
        self.out, self.dest, self.ids, self.report = out, dest, ids, report

    def html(self, path: str) -> str:
        return (self.dest / path).read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A site built with snapshot="auto" runs the archive intelligence, which keeps a store under EXTRACTOR_HOME.
    monkeypatch.setenv("EXTRACTOR_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One site for the session, built from the fixture scans with the snapshot."""
    root = tmp_path_factory.mktemp("site")
    ids = make_out(root / "out")
    report = build_site(root / "out", root / "site", snapshot=make_snapshot(ids))
    return Built(root / "out", root / "site", ids, report)


@pytest.fixture(scope="session")
def served(built: Built) -> Iterator[str]:
    """The built site over HTTP on a loopback port (Pagefind's search loads its index with fetch)."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(built.dest)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
