"""Archive intelligence commands: related, signals, signal, trends. Each reads `--out` like the pipeline
commands, builds what is missing for that folder (first use, or scans added since), and prints."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from extractor.cli._common import fail
from extractor.errors import ConfigError

OutOption = Annotated[
    Path | None, typer.Option("--out", help="Folder of scans (default $EXTRACTOR_OUT or ./scans).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
T = TypeVar("T")


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except ConfigError as exc:
        fail(str(exc), 2)


def _out(out: Path | None) -> Path:
    from extractor import intelligence
    from extractor.pipeline import PipelineSettings

    folder = out or PipelineSettings().out
    if folder.is_dir() and not intelligence.built(folder):
        typer.echo(f"reading the scans of {folder} for the first time (about 10 s per 1,000 scans)", err=True)
    return folder


def _run(call: Callable[[], T]) -> T:
    with _one_line_errors():
        return call()
    raise AssertionError("unreachable")  # fail() exits


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    typer.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _since(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--since {value!r} is not a date (YYYY-MM-DD)")


def register(app: typer.Typer) -> None:
    @app.command()
    def related(
        scan_id: Annotated[str, typer.Argument(help="A scan id (the page's file name without .md).")],
        out: OutOption = None,
        k: Annotated[int, typer.Option("-k", min=1, max=10, help="How many related scans.")] = 5,
        as_json: JsonOption = False,
        closest: Annotated[
            bool, typer.Option("--closest", help="Print a 2023-style `## Closest` section to paste into a page.")
        ] = False,
    ) -> None:
        """The scans closest in meaning to one scan (title, summary, keywords, themes, table rows)."""
        from extractor import intelligence

        folder = _out(out)
        found = _run(lambda: intelligence.related(folder, scan_id.removesuffix(".md"), k))
        if as_json:
            typer.echo(json.dumps({"scan_id": scan_id, "related": found}, ensure_ascii=False, indent=2))
        elif closest:
            typer.echo("## Closest\n")
            for r in found:
                typer.echo(f"* [{r['title']}]({r['scan_id']})")
        else:
            _table(
                ["score", "scan", "origin", "title"],
                [[f"{r['score']:.3f}", r["scan_id"], r["origin"], r["title"]] for r in found],
            )

    @app.command()
    def signals(
        out: OutOption = None,
        status: Annotated[
            str | None, typer.Option("--status", help="Only this status: new, recurring, strengthening, fading.")
        ] = None,
        since: Annotated[str | None, typer.Option("--since", help="Only signals seen on or after YYYY-MM-DD.")] = None,
        as_json: JsonOption = False,
        rebuild: Annotated[bool, typer.Option("--rebuild", help="Recompute everything from scratch first.")] = False,
        limit: Annotated[int, typer.Option("--limit", min=0, help="Rows to print (0: all); not for --json.")] = 50,
    ) -> None:
        """The memory of weak signals: each entry, how often and when it was seen, and its status."""
        from extractor import intelligence

        when = _since(since)
        if status is not None and status not in intelligence.STATUSES:
            fail(f"status {status!r} is not one of {', '.join(intelligence.STATUSES)}")
        folder = _out(out)
        if rebuild:
            _run(lambda: intelligence.rebuild(folder))
        found = _run(lambda: intelligence.signals(folder, status, when))
        if as_json:
            typer.echo(json.dumps({"signals": found}, ensure_ascii=False, indent=2))
            return
        if not found:
            typer.echo(f"no weak signals in {folder}" + (" with that status or date" if status or when else ""))
            return
        shown = found[:limit] if limit else found
        _table(
            ["id", "count", "status", "first seen", "last seen", "name"],
            [
                [s["id"], str(s["count"]), s["status"], s["first_seen"] or "-", s["last_seen"] or "-", s["name"]]
                for s in shown
            ],
        )
        if len(shown) < len(found):
            typer.echo(f"... {len(found) - len(shown)} more (--limit 0 shows all)")

    @app.command()
    def signal(
        signal_id: Annotated[str, typer.Argument(help="A signal id, as `extractor signals` lists them.")],
        out: OutOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """One weak signal's timeline: every time it was seen, in which scan, under which name."""
        from extractor import intelligence

        folder = _out(out)
        entry = _run(lambda: intelligence.signal(folder, signal_id))
        if as_json:
            typer.echo(json.dumps(entry, ensure_ascii=False, indent=2))
            return
        typer.echo(f"{entry['name']}  ({entry['id']})")
        typer.echo(
            f"{entry['status']}; seen {entry['count']} times in {entry['issues']} issues from {entry['sources']} "
            f"sources; first {entry['first_seen'] or '-'}, last {entry['last_seen'] or '-'}; "
            f"novelty when first seen {entry['novelty']:.2f}"
        )
        _table(
            ["date", "origin", "scan", "similarity", "name"],
            [
                [o["date"] or "-", o["origin"], o["scan_id"], "-" if o["similarity"] is None else f"{o['similarity']:.3f}",
                 o["name"]]
                for o in entry["occurrences"]
            ],
        )
        typer.echo("")
        for o in entry["occurrences"]:
            typer.echo(f"{o['date'] or '-'}  {o['name']}: {o['description']}")

    @app.command()
    def trends(
        out: OutOption = None,
        as_json: JsonOption = False,
        as_csv: Annotated[bool, typer.Option("--csv", help="month,field,value,count rows on stdout.")] = False,
        top: Annotated[int, typer.Option("--top", min=1, help="Values per field and month (human output).")] = 3,
        by: Annotated[str, typer.Option("--by", help="month (the default) or issue.")] = "month",
    ) -> None:
        """Counts per category, type, theme and keyword per month of issue (or per issue)."""
        from extractor import intelligence
        from extractor.intelligence._trends import periods, rows

        if as_json and as_csv:
            fail("--json and --csv: choose one")
        if by not in ("month", "issue"):
            fail(f"--by {by!r}: month or issue")
        folder = _out(out)
        found: dict[str, Any] = _run(lambda: intelligence.trends(folder, by))
        if as_json:
            typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        elif as_csv:
            buf = io.StringIO(newline="")
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow([by, "field", "value", "count"])
            writer.writerows(rows(found))
            typer.echo(buf.getvalue(), nl=False)
        else:
            if not periods(found):
                typer.echo(f"no scans in {folder}")
            for month in periods(found):
                parts = []
                for field in intelligence.FIELDS:
                    best = list(found[field][month].items())[:top]
                    if best:
                        parts.append(f"{field}: " + ", ".join(f"{v} {c}" for v, c in best))
                typer.echo(f"{month}  {found['scans'][month]} scans  " + "; ".join(parts))
