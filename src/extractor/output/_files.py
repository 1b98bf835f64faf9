"""Writing scan files so that a reader (or a killed run) never sees half of one."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

from extractor._atomic import atomic_write as atomic_write  # re-exported: the output package's writer
from extractor._process import pid_alive
from extractor.errors import ConfigError, OutputWriteError
from extractor.models import Provenance, Scan, Sidecar

#: `.{name}.{pid}.{random}.tmp`: the pid tells whether the writer is still alive.
_TMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")


def clean_stale(directory: Path) -> list[Path]:
    """Removes the temporary files of writers that died (killed runs); a live writer's are left alone."""
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    for entry in directory.iterdir():
        match = _TMP.match(entry.name)
        if match and not pid_alive(int(match["pid"])):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed.append(entry)
    return removed


class OutputDir:
    """`OUT/`: one `{id}.md` (the scan page) and one `{id}.json` (its sidecar) per article."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def prepare(self) -> list[Path]:
        """Creates the directory and cleans up after a killed run; returns the stale files removed. Raises
        ConfigError when the directory cannot be made (a file in the way, no permission)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise ConfigError(f"output directory {self.path}: a file is in the way") from None
        except OSError as exc:
            raise ConfigError(f"output directory {self.path}: {exc.strerror or exc}") from None
        return clean_stale(self.path)

    def check_writable(self) -> None:
        """Raises ConfigError unless a file can be written here: checked before the first model call, so that
        an unwritable OUT never throws away answers already paid for."""
        self.prepare()
        probe = self.path / f".write-check.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            with open(probe, "wb") as fh:
                fh.write(b"x")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise ConfigError(f"output directory {self.path}: cannot write there ({exc.strerror or exc})") from None
        finally:
            with contextlib.suppress(OSError):
                probe.unlink()

    def md_path(self, scan_id: str) -> Path:
        return self.path / f"{scan_id}.md"

    def json_path(self, scan_id: str) -> Path:
        return self.path / f"{scan_id}.json"

    def has(self, scan_id: str) -> bool:
        """Both files of a scan are there."""
        return self.md_path(scan_id).is_file() and self.json_path(scan_id).is_file()

    def write(self, scan: Scan, provenance: Provenance) -> tuple[Path, Path]:
        """Writes the page, then the sidecar: a sidecar's presence means the scan is complete. When the sidecar
        cannot be written the page is removed again: no page is left without its sidecar. Raises
        OutputWriteError (disk full, permissions)."""
        from extractor.render import render  # the renderer is the lead's module (issue 2)

        md, js = self.md_path(scan.id), self.json_path(scan.id)
        page = render(scan).encode("utf-8")
        sidecar = Sidecar.of(scan, provenance).to_json().encode("utf-8")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            atomic_write(md, page)
        except OSError as exc:
            raise OutputWriteError(f"cannot write {md}: {exc.strerror or exc}") from exc
        try:
            atomic_write(js, sidecar)
        except OSError as exc:
            with contextlib.suppress(OSError):
                md.unlink()
            raise OutputWriteError(f"cannot write {js}: {exc.strerror or exc} (page removed)") from exc
        return md, js

    def sidecars(self) -> list[Sidecar]:
        """Every readable sidecar in the directory, in id order. Unreadable ones are skipped: they are not
        ours to judge here (`extractor check` reports them)."""
        found: list[Sidecar] = []
        for path in sorted(self.path.glob("*.json")):
            if not re.fullmatch(r"[0-9a-f]{32}\.json", path.name):
                continue
            try:
                found.append(Sidecar.from_json(path.read_text(encoding="utf-8")))
            except (ValueError, OSError):
                continue
        return found
