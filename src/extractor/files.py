"""Writing files so that nothing already written is lost or half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TMP_SUFFIX = ".tmp"


def write_text_atomic(path: Path, text: str) -> None:
    """Writes `text` to `path` so that a reader never sees half a file: a temporary file in the same directory
    (`.{name}.*.tmp`), fsync, rename. A run killed midway leaves at most a temporary file, never a partial one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
