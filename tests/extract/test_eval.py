"""`extractor eval`: scores generated scans against reference scans, for people and for scripts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from extractor.cli import app
from extractor.parse import parse
from extractor.render import render
from tests.extract.fixtures_tool import SCANS

runner = CliRunner()


def _copy_fixture_scans(target: Path) -> list[Path]:
    target.mkdir()
    out = []
    for md in sorted(SCANS.glob("article-*.md")):
        out.append(Path(shutil.copy(md, target / md.name)))
    return out


def test_identical_scans_score_one_and_a_worse_scan_scores_lower(tmp_path: Path) -> None:
    ref = tmp_path / "ref"
    gen = tmp_path / "gen"
    _copy_fixture_scans(ref)
    copies = _copy_fixture_scans(gen)
    result = runner.invoke(app, ["eval", str(gen), str(ref), "--json"])
    assert result.exit_code == 0, result.output
    perfect = json.loads(result.output)["means"]
    assert perfect["overall"] == 1.0 and perfect["coverage"] == 1.0

    # Damage one generated scan: other keywords, half its signals renamed, a different summary.
    scan = parse(copies[0].read_text(encoding="utf-8"))
    damaged = scan.model_copy(update={
        "keywords": ["unrelated", "words"],
        "signals": [s.model_copy(update={"name": f"Something else {i}"}) if i % 2 else s
                    for i, s in enumerate(scan.signals)],
        "summary": "A short and different summary about nothing in particular.",
    })  # fmt: skip
    copies[0].write_text(render(damaged), encoding="utf-8")
    copies[1].unlink()
    report = json.loads(runner.invoke(app, ["eval", str(gen), str(ref), "--json"]).output)
    worst = next(s for s in report["scans"] if s["id"] == copies[0].stem)
    assert worst["keywords"] == 0.0 and worst["rows_f1"] < 1.0 and worst["summary"] < 0.5
    assert report["missing"] == [copies[1].stem]
    assert report["means"]["overall"] < 1.0 and report["means"]["coverage"] == 0.75

    table = runner.invoke(app, ["eval", str(gen), str(ref)])
    assert table.exit_code == 0 and "rows F1" in table.output and f"missing: {copies[1].stem}" in table.output


def test_a_missing_directory_is_a_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", str(tmp_path / "nope"), str(tmp_path)])
    assert result.exit_code != 0 and "is not a directory" in result.output


REFERENCE = Path(__file__).resolve().parents[2] / "fixtures" / "reference"


def test_the_reference_scans_pair_with_themselves_and_have_no_shape_distance() -> None:
    result = runner.invoke(app, ["eval", str(REFERENCE), str(REFERENCE), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert len(report["scans"]) == 5 and report["missing"] == [] and report["extra"] == []
    assert report["shape"]["distance"]["overall"] == 0.0
    assert report["shape"]["generated"] == report["shape"]["reference"]
    table = runner.invoke(app, ["eval", str(REFERENCE), str(REFERENCE)])
    assert "shape distance" in table.output


def test_shape_distance_grows_when_a_set_of_scans_looks_different() -> None:
    from extractor.evaluate import shape, shape_distance

    reference = [parse(p.read_text(encoding="utf-8")) for p in sorted(REFERENCE.glob("*.md"))]
    # Every scan with one signal, all relevancy 1, one category: another shape, whatever it says.
    odd = [s.model_copy(update={
        "category": "sport",
        "signals": [s.signals[0].model_copy(update={"relevancy": 1})],
    }) for s in reference]  # fmt: skip
    same = shape_distance(shape(reference), shape(reference))
    other = shape_distance(shape(odd), shape(reference))
    assert same["overall"] == 0.0
    assert other["relevancy"] == 1.0 and other["rows"] > 0.0 and other["overall"] > 0.2
    assert 0.0 <= other["categories"] <= 1.0
