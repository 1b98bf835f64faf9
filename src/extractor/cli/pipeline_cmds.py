"""Pipeline commands: scan, page, watch, status, index, export, eval (owned by the pipeline and extraction work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Adds the pipeline commands to `app`."""
