"""`extractor eval`: score generated scans against reference scans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from extractor.cli._common import fail

if TYPE_CHECKING:
    from extractor.evaluate import Report


def _load(directory: Path) -> dict[str, object]:
    from extractor.errors import ScanFormatError
    from extractor.output import INDEX_FILE
    from extractor.parse import parse

    if not directory.is_dir():
        fail(f"{directory} is not a directory")
    scans: dict[str, object] = {}
    for path in sorted(p for p in directory.glob("*.md") if p.name != INDEX_FILE):
        try:
            scans[path.stem] = parse(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ScanFormatError) as exc:
            fail(f"{path}: {exc}")
    return scans


def eval_cmd(
    scans_dir: Annotated[Path, typer.Argument(help="Generated scans (.md).")],
    reference_dir: Annotated[Path, typer.Argument(help="Reference scans (.md), paired by file name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Score generated scans against reference scans: keyword and theme overlap, rows matched by name, summary;
    and the distance between the two sets' shapes (rows per table, words per field, relevancy, categories)."""
    from tabulate import tabulate

    from extractor.evaluate import evaluate

    generated, reference = _load(scans_dir), _load(reference_dir)
    if not reference:
        fail(f"no reference scans (*.md) in {reference_dir}")
    report = evaluate(generated, reference)  # type: ignore[arg-type]
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    rows = [
        [s.id[:32], f"{s.keywords:.2f}", f"{s.themes:.2f}", f"{s.rows_f1:.2f} ({s.rows_matched}/{s.rows_reference})",
         f"{s.summary:.2f}", "yes" if s.category else "no", "yes" if s.type else "no", f"{s.overall:.2f}"]
        for s in report.scores
    ]  # fmt: skip
    means = report.means()
    if means:
        rows.append(["mean", f"{means['keywords']:.2f}", f"{means['themes']:.2f}", f"{means['rows_f1']:.2f}",
                     f"{means['summary']:.2f}", f"{means['category']:.0%}", f"{means['type']:.0%}",
                     f"{means['overall']:.2f}"])  # fmt: skip
    headers = ["scan", "keywords", "themes", "rows F1", "summary", "category", "type", "overall"]
    typer.echo(tabulate(rows, headers, tablefmt="simple"))
    for key in report.missing:
        typer.echo(f"missing: {key} (no generated scan)")
    for key in report.extra:
        typer.echo(f"extra: {key} (no reference)")
    _print_shape(report)


def _print_shape(report: Report) -> None:
    from tabulate import tabulate

    g, r, d = report.generated_shape, report.reference_shape, report.shape_distance
    if g is None or r is None:
        return

    def show(values: dict[str, float]) -> str:
        return " ".join(f"{k}={v:g}" for k, v in values.items())

    rows = [
        ["rows per table", show(g.rows), show(r.rows), f"{d['rows']:.2f}"],
        ["words per field", show(g.words), show(r.words), f"{d['words']:.2f}"],
        ["relevancy", show(g.relevancy), show(r.relevancy), f"{d['relevancy']:.2f}"],
        ["categories", show(g.categories), show(r.categories), f"{d['categories']:.2f}"],
    ]
    typer.echo("")
    typer.echo(tabulate(rows, [f"shape ({g.scans} vs {r.scans} scans)", "generated", "reference", "distance"],
                        tablefmt="simple"))  # fmt: skip
    typer.echo(f"shape distance: {d['overall']:.2f} (0: same shape as the reference set, 1: nothing alike)")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)
