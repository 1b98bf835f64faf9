"""Format commands: parse, render, check."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Adds the format commands to `app`."""
