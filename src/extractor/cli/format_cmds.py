"""Format commands: parse, render, check. Reading and writing files is all they add to the library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from extractor.cli._common import fail
from extractor.output import INDEX_FILE, atomic_write

if TYPE_CHECKING:
    from extractor.check import CheckResult
    from extractor.extract import PromptTemplate

OutDir = Annotated[Path | None, typer.Option("-o", "--out", help="Directory for the outputs (one file each).")]


def _outputs(files: list[Path], out: Path | None, suffix: str) -> list[Path | None]:
    if out is None and len(files) > 1:
        fail("several files need -o DIR")
    if out is None:
        return [None]
    out.mkdir(parents=True, exist_ok=True)
    return [out / f"{f.stem}{suffix}" for f in files]


def _read(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: {exc}")


def parse_cmd(files: Annotated[list[Path], typer.Argument(help="Scan pages (.md).")], out: OutDir = None) -> None:
    """Print the JSON form (sidecar) of each scan page."""
    from extractor.errors import ScanFormatError
    from extractor.models import Sidecar
    from extractor.parse import parse

    for path, target in zip(files, _outputs(files, out, ".json"), strict=True):
        try:
            sidecar = Sidecar.of(parse(_read(path)))
        except ScanFormatError as exc:
            fail(f"{path}: {exc}")
        if target is None:
            typer.echo(sidecar.to_json(), nl=False)
        else:
            atomic_write(target, sidecar.to_json().encode("utf-8"))


def render_cmd(files: Annotated[list[Path], typer.Argument(help="Scan sidecars (.json).")], out: OutDir = None) -> None:
    """Write the markdown page of each scan's JSON form, with nothing after its last line."""
    from pydantic import ValidationError

    from extractor.models import Sidecar
    from extractor.render import render

    for path, target in zip(files, _outputs(files, out, ".md"), strict=True):
        try:
            page = render(Sidecar.from_json(_read(path)).scan)
        except (ValueError, ValidationError) as exc:
            fail(f"{path}: not a scan sidecar: {str(exc).splitlines()[0]}")
        if target is None:
            typer.echo(page, nl=False)
        else:
            atomic_write(target, page.encode("utf-8"))


def check_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Scan pages or directories (searched for *.md but index.md).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Check scan pages: parsed, round-trips byte for byte, hard and soft rules broken. Exit 1 when any fails."""
    from extractor.check import CheckResult, check_text
    from extractor.extract import PromptTemplate

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            # the pipeline's output folders hold index.md beside the scans: it is not a scan
            files.extend(sorted(f for f in p.rglob("*.md") if f.is_file() and f.name != INDEX_FILE))
        elif p.exists():
            files.append(p)
        else:
            fail(f"{p}: no such file or directory")
    echo = _prompt_echo(PromptTemplate)
    results: list[CheckResult] = []
    for f in files:
        try:
            with f.open(encoding="utf-8", newline="") as fh:
                text = fh.read()
        except UnicodeDecodeError as exc:
            # One line for this file, and the folder goes on.
            results.append(CheckResult(str(f), parsed=False, error=f"not UTF-8 text (byte {exc.start})",
                                       hard=["not UTF-8 text"]))  # fmt: skip
            continue
        except OSError as exc:
            results.append(CheckResult(str(f), parsed=False, error=f"unreadable: {exc.strerror or exc}",
                                       hard=["unreadable file"]))  # fmt: skip
            continue
        results.append(check_text(text, str(f), echo=echo))
    failed = sum(r.failed for r in results)
    if as_json:
        from dataclasses import asdict

        summary = {"files": len(results), "failed": failed, "roundtrip": sum(r.roundtrip for r in results),
                   "with_hard": sum(bool(r.hard) for r in results)}  # fmt: skip
        typer.echo(json.dumps({"results": [asdict(r) for r in results], "totals": summary}, ensure_ascii=False))
    else:
        _print_check(results, failed)
    raise typer.Exit(1 if failed else 0)


def _prompt_echo(template: type[PromptTemplate]) -> frozenset[str]:
    """The prompt's word runs, to report text copied from our instructions; none when the templates are absent."""
    from extractor.errors import ConfigError

    try:
        return template().echo()
    except (ConfigError, OSError):
        return frozenset()


def _print_check(results: list[CheckResult], failed: int) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    for r in results:
        if not r.parsed:
            where = f" line {r.error_line}" if r.error_line else ""
            console.print(f"[red]FAIL[/] {escape(r.path)}:{where} {escape(r.error or '')}")
            continue
        if r.roundtrip:
            console.print(f"[green]ok[/]   {escape(r.path)}")
        else:
            d = r.difference
            assert d is not None
            console.print(f"[red]DIFF[/] {escape(r.path)}: line {d.line} differs")
            console.print(f"       page:     {escape(repr(d.expected))}")
            console.print(f"       rendered: {escape(repr(d.got))}")
        for problem in r.hard:
            console.print(f"       [red]hard:[/] {escape(problem)}")
        for problem in r.soft:
            console.print(f"       [yellow]soft:[/] {escape(problem)}")
    total = len(results)
    console.print(f"{total} files, {total - failed} parsed and round-tripped, {failed} failed")


def register(app: typer.Typer) -> None:
    """Adds the format commands to `app`."""
    app.command("parse")(parse_cmd)
    app.command("render")(render_cmd)
    app.command("check")(check_cmd)
