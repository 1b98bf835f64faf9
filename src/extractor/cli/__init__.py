"""The `extractor` command. Each module here registers one group of commands and holds no business logic;
heavy libraries are imported inside the commands so that `extractor --help` and `extractor scan` start fast."""

from __future__ import annotations

import typer

from extractor.cli import eval_cmds, format_cmds, import_cmds, pipeline_cmds

app = typer.Typer(
    name="extractor",
    help="Horizon scanning: follow newsletter links, read each article, write a structured scan per article.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

format_cmds.register(app)
pipeline_cmds.register(app)
eval_cmds.register(app)
import_cmds.register(app)


def main() -> None:
    app()
