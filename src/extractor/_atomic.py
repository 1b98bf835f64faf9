"""Writing a file all at once, for every writer (scan files, the web archive, exports): a reader or a killed
run never sees half of one. Temporary names are `.{name}.{pid}.{random}.tmp`, so that a later run can tell a
dead writer's leftovers by the pid (`extractor.output.clean_stale`)."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def _fsync_dir(path: Path) -> None:
    # The rename is only durable once the directory entry is; some filesystems refuse to open directories.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Writes `data` to `path` all at once: a temporary file in the same directory (so the rename stays on one
    filesystem), fsync, then rename over the target. A reader sees the old file or the new, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
