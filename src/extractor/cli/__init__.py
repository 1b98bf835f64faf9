"""The `extractor` command. Each module here registers one group of commands and holds no business logic;
heavy libraries are imported inside the commands so that `extractor --help` and `extractor scan` start fast."""

from __future__ import annotations

from importlib import metadata
from typing import Annotated

import typer

from extractor.cli import eval_cmds, format_cmds, import_cmds, intel_cmds, pipeline_cmds, site_cmds
from extractor.cli._common import run_main

app = typer.Typer(
    name="extractor",
    help="Horizon scanning: follow newsletter links, read each article, write a structured scan per article.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        try:
            version = metadata.version("extractor")
        except metadata.PackageNotFoundError:  # a source tree that was never installed
            version = "unknown"
        typer.echo(f"extractor {version}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Horizon scanning: follow newsletter links, read each article, write a structured scan per article."""


format_cmds.register(app)
pipeline_cmds.register(app)
eval_cmds.register(app)
site_cmds.register(app)
import_cmds.register(app)
intel_cmds.register(app)


def main() -> None:
    run_main(app)
