"""What every command shares: one-line failures."""

from __future__ import annotations

from typing import NoReturn

import typer


def fail(message: str, code: int = 2) -> NoReturn:
    """A usage or configuration error: one line on stderr, a non-zero exit."""
    typer.echo(f"extractor: {message}", err=True)
    raise typer.Exit(code)
