"""What every command shares: one-line failures.

Errors are raised where a problem is found, typed (`extractor.errors`), and turned into one line here, once,
for every command: `explain` maps what reaches the top of the `extractor` command to a message and an exit code
(2 for usage and environment errors, 1 for the rest), so no traceback reaches a user.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import traceback
from collections.abc import Callable
from typing import NoReturn

import typer

from extractor.errors import ConfigError, ExtractorError
from extractor.settings import ENV_PREFIX

#: Set to see the traceback of an unexpected error instead of its one-line summary.
DEBUG_VAR = f"{ENV_PREFIX}DEBUG"


def fail(message: str, code: int = 2) -> NoReturn:
    """A usage or configuration error: one line on stderr, a non-zero exit."""
    typer.echo(f"extractor: {message}", err=True)
    raise typer.Exit(code)


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(found) < 20:
        seen.add(id(current))
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _os_error(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else ""
    what = exc.strerror or str(exc)
    if isinstance(exc, FileExistsError):  # what mkdir says of a file where a directory should be
        what = "a file is in the way of a directory"
    elif isinstance(exc, NotADirectoryError):
        what = "a part of this path is a file, not a directory"
    return f"{where}: {what}" if where else what


def _prefect_unreachable(chain: list[BaseException]) -> str | None:
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        return None
    for exc in chain:
        text = str(exc)
        name = type(exc).__name__
        if "Failed to reach API" in text or name in ("ConnectError", "ConnectTimeout"):
            return (
                f"cannot reach the Prefect server at PREFECT_API_URL={url}: start it (`prefect server start`) "
                "or unset PREFECT_API_URL to run in process"
            )
    return None


def _settings_error(exc: BaseException) -> str | None:
    """pydantic-settings' error for a value it cannot even parse (EXTRACTOR_PRICES not JSON)."""
    if type(exc).__name__ != "SettingsError":
        return None
    match = re.search(r'field "(\w+)"', str(exc))
    name = f"{ENV_PREFIX}{match.group(1).upper()}" if match else "a setting"
    cause = exc.__cause__
    detail = f": {cause}" if cause is not None else ""
    return f"{name} cannot be read (it must be JSON){detail}"


def explain(exc: BaseException) -> tuple[str, int]:
    """The one line and exit code for an exception that reached the top of a command."""
    from pydantic import ValidationError

    chain = _chain(exc)
    if isinstance(exc, ConfigError):
        return str(exc), 2
    if (message := _prefect_unreachable(chain)) is not None:
        return message, 2
    if isinstance(exc, ExtractorError):
        return str(exc), 1
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or exc.title
        return f"setting {where}: {first.get('msg', 'invalid')}", 2
    for link in chain:
        if (message := _settings_error(link)) is not None:
            return message, 2
    if isinstance(exc, OSError):
        return _os_error(exc), 2
    if isinstance(exc, sqlite3.Error):
        return f"ledger: {exc}", 2
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" (at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})" if frame else ""
    return (
        f"internal error, please report it: {type(exc).__name__}: {exc}{where}; set {DEBUG_VAR}=1 for the "
        "traceback"
    ), 1


def run_main(app: Callable[[], object]) -> None:
    """Runs the `extractor` command: whatever escapes a command becomes one line and an exit code."""
    try:
        app()
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        if os.environ.get(DEBUG_VAR):
            raise
        message, code = explain(exc)
        sys.stderr.write(f"extractor: {message}\n")
        sys.stderr.flush()
        raise SystemExit(code) from None
