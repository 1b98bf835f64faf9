"""`extractor import DIR [--out OUT]`: an existing archive of scan pages into the output directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from extractor.cli._common import fail


def register(app: typer.Typer) -> None:
    """Adds the `import` command to `app`."""

    @app.command(name="import")
    def import_(
        directory: Annotated[Path, typer.Argument(help="A folder of scan pages ({id}.md), any layout.")],
        out: Annotated[
            Path | None,
            typer.Option("--out", help="Where the pages go (default $EXTRACTOR_OUT or ./scans); may be DIR."),
        ] = None,
    ) -> None:
        """Bring an archive of scan pages in: each page kept byte for byte (copied into OUT), a sidecar beside
        it, one ledger row per page (outcome `imported`). Running it again changes nothing. A page that cannot
        be read is reported with its line and skipped (exit 1); the others import."""
        from pydantic import ValidationError

        from extractor.importer import import_archive
        from extractor.ledger import Ledger
        from extractor.output import OutputDir
        from extractor.pipeline import PipelineSettings
        from extractor.settings import CoreSettings, ledger_path

        if not directory.is_dir():
            fail(f"{directory}: no such directory")
        try:
            target = (out or PipelineSettings().out).expanduser()
            home = CoreSettings().home
        except ValidationError as exc:
            fail(f"setting: {exc.errors()[0].get('msg', 'invalid')}")
        if target.exists() and not target.is_dir():
            fail(f"--out {target}: not a directory")
        try:
            with Ledger(ledger_path(home)) as ledger:
                report = import_archive(directory, OutputDir(target), ledger)
        except OSError as exc:  # a folder we may not write, a full disk: said in one line, nothing half-written
            fail(f"{exc.filename or target}: {exc.strerror or exc}", 1)
        for skipped in report.skipped:
            typer.echo(f"skipped {skipped}", err=True)
        typer.echo(
            f"{report.pages} pages: {report.imported} imported, {report.copied} copied, "
            f"{report.sidecars} sidecars written, {report.unchanged} already there, "
            f"{len(report.skipped)} skipped -> {target}"
        )
        if report.skipped:
            raise typer.Exit(1)
