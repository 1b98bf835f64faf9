"""`extractor site`: the static site of the scans (the work is in `extractor.site`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from extractor.cli._common import fail
from extractor.errors import ConfigError, ExtractorError


def register(app: typer.Typer) -> None:
    @app.command()
    def site(
        out: Annotated[
            Path | None, typer.Option("--out", help="Directory of the scans (default $EXTRACTOR_OUT or ./scans).")
        ] = None,
        dest: Annotated[Path, typer.Option("--dest", help="Folder of the site (made or updated).")] = Path("site"),
        clean: Annotated[bool, typer.Option("--clean", help="Rebuild every page, not only the changed ones.")] = False,
    ) -> None:
        """Build the static site of OUT's scans into DEST: issues, scans with their evidence, tags, a signals
        explorer, charts and search. Serve it with any static server, e.g. `python -m http.server -d DEST`."""
        from extractor.pipeline import PipelineSettings

        try:
            directory = out or PipelineSettings().out
            if not directory.is_dir():
                raise ConfigError(f"{directory}: no such directory")
            from extractor.site import build_site

            report = build_site(directory, dest, clean=clean)
        except ConfigError as exc:
            fail(str(exc), 2)
        except ExtractorError as exc:
            fail(str(exc), 1)
        for name, why in report.skipped:
            typer.echo(f"skipped {name}: {why}", err=True)
        for warning in report.warnings:
            typer.echo(f"warning: {warning}", err=True)
        how = "built" if report.clean else "updated"
        typer.echo(
            f"{report.scans} scans, {report.pages} pages ({report.written} written) {how} in "
            f"{report.seconds['total']:.1f} s -> {report.dest / 'index.html'}"
        )
