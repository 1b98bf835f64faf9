"""The site as files: every page there, model text escaped, evidence and intelligence shown, incremental
rebuilds that write only what changed, and a folder that is not a site left alone."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.errors import ConfigError
from extractor.models import Signal
from extractor.output import OutputDir
from extractor.site import build_site, site_after_run
from tests.site.conftest import HOSTILE_KEYWORD, Built, hostile_scan, make_out, make_snapshot

EXTERNAL = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["']?(?:https?:)?//""", re.IGNORECASE)


def test_every_scan_issue_and_top_page_is_built(built: Built) -> None:
    assert built.report.skipped == []
    assert built.report.scans == len(built.ids)
    for scan_id in built.ids.values():
        assert (built.dest / "scans" / f"{scan_id}.html").is_file()
    for top in ("index", "issues", "signals", "charts", "tags", "search"):
        assert (built.dest / f"{top}.html").is_file(), top
    assert (built.dest / "issues").is_dir() and any((built.dest / "issues").iterdir())
    home = built.html("index.html")
    assert f"<strong>{len(built.ids)}</strong> scans" in home
    assert "Issue 20261120a" in home  # the newest issue comes first among the latest issues


def test_a_scan_page_shows_its_content_source_and_evidence(built: Built) -> None:
    page = built.html(f"scans/{built.ids['article-harbour-heat']}.html")
    sidecar = json.loads((built.out / f"{built.ids['article-harbour-heat']}.json").read_text())
    scan = sidecar["scan"]
    assert scan["title"] in page
    assert f'href="{scan["url"]}"' in page  # the source link
    for keyword in scan["keywords"]:
        assert keyword in page
    for row in scan["signals"]:
        assert row["name"] in page
    quote = sidecar["provenance"]["evidence"][0]["quote"]
    assert quote.replace('"', "&#34;").replace("'", "&#39;")[:60] in page
    assert '<details class="xs-evidence">' in page  # shown on demand
    assert "2026-11-02" in page  # the issue's date, from the origin id


def test_model_text_is_escaped_everywhere(built: Built) -> None:
    page = built.html(f"scans/{built.ids['hostile']}.html")
    assert "<script>window.pwned" not in page
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror" in page
    assert "<iframe src=x>" not in page
    assert 'href="javascript:' not in page
    assert "source: <code>javascript:window.pwned=4//example.org/hostile</code>" in page
    assert "&lt;/td&gt;&lt;/tr&gt;" in page  # a cell cannot close its table
    # The tab title is the escaped title too, and no page anywhere carries the raw markup.
    assert "<title>&lt;script&gt;" in page
    data = built.html("assets/signals-data.js")
    assert "</script>" not in data  # the explorer's data cannot end a script element
    for html in built.dest.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert "<script>window.pwned" not in text and HOSTILE_KEYWORD not in text, html


def test_nothing_is_loaded_from_another_host(built: Built) -> None:
    for html in built.dest.rglob("*.html"):
        found = EXTERNAL.search(html.read_text(encoding="utf-8"))
        assert found is None, f"{html}: {found.group(0) if found else ''}"


def test_charts_are_inline_svg_drawn_from_the_scans(built: Built) -> None:
    charts = built.html("charts.html")
    assert charts.count('<figure class="xs-chart"><svg') == 4
    assert "technology" in charts and "infrastructures" in charts  # categories in the legend
    assert "Heat storage in public tanks" in charts  # the top recurring signal of the snapshot
    assert "soil sensors" in charts  # a keyword trend from the snapshot


def test_snapshot_gives_related_scans_timelines_and_statuses(built: Built) -> None:
    heat, soil = built.ids["article-harbour-heat"], built.ids["article-soil-sensors"]
    page = built.html(f"scans/{heat}.html")
    assert f'href="../scans/{soil}.html"' in page and "0.42" in page
    timelines = list((built.dest / "timelines").glob("*.html"))
    assert len(timelines) == 1  # the recurring signal; the new one (seen once) has none
    timeline = timelines[0].read_text(encoding="utf-8")
    assert "Heat storage in public tanks" in timeline and "strengthening" in timeline
    assert f"../scans/{heat}.html" in timeline and f"../scans/{soil}.html" in timeline
    data = built.html("assets/signals-data.js")
    assert '"strengthening"' in data
    home = built.html("index.html")
    assert "Kelp cells" in home  # new this month


def test_tag_pages_list_their_scans(built: Built) -> None:
    tags = built.html("tags.html")
    assert "infrastructures" in tags
    category_pages = [p for p in (built.dest / "tags").glob("category-technology-*.html")]
    assert len(category_pages) == 1
    page = category_pages[0].read_text(encoding="utf-8")
    assert built.ids["hostile"] in page


def _small_out(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    out = tmp_path / "out"
    ids = make_out(out)
    return out, tmp_path / "site", ids


def test_rebuild_writes_only_what_changed(tmp_path: Path) -> None:
    out, dest, ids = _small_out(tmp_path)
    first = build_site(out, dest, snapshot=None)
    assert first.clean and first.written == first.pages + 4  # every page, the explorer data, 3 static assets
    again = build_site(out, dest, snapshot=None)
    assert not again.clean and again.written == 0 and again.parsed == 0 and again.search_shards == 0
    html = dest / "scans" / f"{ids['2025-plain']}.html"
    before = html.stat().st_mtime_ns

    scan, prov = hostile_scan()
    scan = scan.model_copy(update={"url": "https://example.org/new-one", "title": "A brand new scan"})
    OutputDir(out).write(scan, prov)
    third = build_site(out, dest, snapshot=None)
    assert third.parsed == 1 and not third.clean
    assert (dest / "scans" / f"{scan.id}.html").is_file()
    assert "A brand new scan" in (dest / "index.html").read_text(encoding="utf-8")
    assert html.stat().st_mtime_ns == before  # an unrelated scan's page was not rebuilt
    assert 0 < third.written < 20 and third.search_shards == 1

    (out / f"{scan.id}.md").unlink()
    (out / f"{scan.id}.json").unlink()
    fourth = build_site(out, dest, snapshot=None)
    assert fourth.removed >= 1
    assert not (dest / "scans" / f"{scan.id}.html").exists()


def test_a_changed_scan_is_shown_changed(tmp_path: Path) -> None:
    out, dest, ids = _small_out(tmp_path)
    build_site(out, dest, snapshot=None)
    scan, prov = hostile_scan()
    changed = scan.model_copy(update={"signals": [Signal(name="Entirely different signal", relevancy=2)]})
    OutputDir(out).write(changed, prov)
    build_site(out, dest, snapshot=None)
    page = (dest / "scans" / f"{ids['hostile']}.html").read_text(encoding="utf-8")
    assert "Entirely different signal" in page and "Cells from kelp" not in page


def test_unreadable_page_is_reported_and_left_out(tmp_path: Path) -> None:
    out, dest, _ = _small_out(tmp_path)
    (out / ("0" * 32 + ".md")).write_text("not a scan at all\n", encoding="utf-8")
    report = build_site(out, dest, snapshot=None)
    assert [name for name, _ in report.skipped] == ["0" * 32 + ".md"]
    assert "line 1" in report.skipped[0][1]


def test_without_intelligence_every_signal_is_still_listed(tmp_path: Path) -> None:
    out, dest, _ = _small_out(tmp_path)
    report = build_site(out, dest)  # "auto": the intelligence module is not on this branch, or finds nothing
    data = (dest / "assets" / "signals-data.js").read_text(encoding="utf-8")
    assert "Cells from kelp" in data and "Heat tanks as grid batteries" in data
    if not report.intelligence:
        assert not (dest / "timelines").exists()


def test_a_folder_that_is_not_a_site_is_refused(tmp_path: Path) -> None:
    out, dest, _ = _small_out(tmp_path)
    dest.mkdir()
    (dest / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(ConfigError, match="not an extractor site"):
        build_site(out, dest, snapshot=None)
    assert (dest / "thesis.docx").read_text(encoding="utf-8") == "precious"
    result = CliRunner().invoke(app, ["site", "--out", str(out), "--dest", str(dest)])
    assert result.exit_code == 2  # a usage error: the folder chosen
    assert result.output.strip().startswith("extractor: ") and "Traceback" not in result.output


def test_cli_builds_and_reports_in_one_line(tmp_path: Path) -> None:
    out, dest, ids = _small_out(tmp_path)
    result = CliRunner().invoke(app, ["site", "--out", str(out), "--dest", str(dest)])
    assert result.exit_code == 0, result.output
    assert f"{len(ids)} scans" in result.output and str(dest / "index.html") in result.output
    missing = CliRunner().invoke(app, ["site", "--out", str(tmp_path / "nope"), "--dest", str(dest)])
    assert missing.exit_code == 2 and missing.output.startswith("extractor: ")


def test_watch_rebuilds_only_after_a_run_that_wrote(tmp_path: Path) -> None:
    out, dest, ids = _small_out(tmp_path)
    assert site_after_run(out, dest, {"https://a": "http_error"}) == "site: nothing new"
    assert not dest.exists()
    line = site_after_run(out, dest, {"https://a": "ok", "https://b": "timeout"})
    assert line.startswith(f"site: {len(ids)} scans") and (dest / "index.html").is_file()
    shutil.rmtree(dest)
    dest.write_text("a file where the site should go", encoding="utf-8")
    assert site_after_run(out, dest, {"https://a": "ok"}).startswith("site: not rebuilt:")


def test_snapshot_fields_may_be_missing(tmp_path: Path) -> None:
    out, dest, ids = _small_out(tmp_path)
    snapshot = make_snapshot(ids)
    snapshot["signals"][0].pop("status")
    snapshot["signals"][0]["occurrences"].append({"scan_id": "f" * 32})  # a scan the site does not have
    snapshot["related"]["nope"] = "not a list"
    del snapshot["trends"]
    report = build_site(out, dest, snapshot=snapshot)
    assert report.intelligence and len(list((dest / "timelines").glob("*.html"))) == 1


def test_an_empty_folder_gives_an_empty_site(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    report = build_site(tmp_path / "out", tmp_path / "site", snapshot=None)
    assert report.scans == 0 and (tmp_path / "site" / "index.html").is_file()
    assert "No scans yet." in (tmp_path / "site" / "search.html").read_text(encoding="utf-8")


def test_search_shards_are_quarters_capped_in_size() -> None:
    from datetime import date, timedelta

    from extractor.site._load import ScanEntry
    from extractor.site._search import SHARD_MAX, shards

    scan, _ = hostile_scan()
    day = date(2025, 7, 1)
    entries = [ScanEntry(id=f"{n:032x}", scan=scan, date=(day + timedelta(days=n % 80)).isoformat())
               for n in range(SHARD_MAX + 5)]
    entries.append(ScanEntry(id="f" * 32, scan=scan, date=None))
    entries.append(ScanEntry(id="e" * 32, scan=scan, date="2026-01-03"))
    plan = shards(entries)
    assert list(plan) == ["2026q1", "2025q3", "2025q3-2", "undated"]  # newest first, undated last
    assert len(plan["2025q3"]) == SHARD_MAX and len(plan["2025q3-2"]) == 5


def test_a_damaged_sidecar_costs_only_the_evidence(tmp_path: Path) -> None:
    out, dest, ids = _small_out(tmp_path)
    (out / f"{ids['article-velo-cargo']}.json").write_text('{"schema": "extractor.scan/1", "provenance": [', "utf-8")
    report = build_site(out, dest, snapshot=None)
    assert report.skipped == []
    page = (dest / "scans" / f"{ids['article-velo-cargo']}.html").read_text(encoding="utf-8")
    assert "Valmont-sur-Loire" in page and '<details class="xs-evidence">' not in page
