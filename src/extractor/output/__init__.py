"""Outputs: scan files written atomically, the index page, and exports."""

from __future__ import annotations

from extractor.output._export import ROW_COLUMNS, Exported, export, table_rows
from extractor.output._files import OutputDir, atomic_write, clean_stale
from extractor.output._index import INDEX_FILE, pages_without_sidecar, render_index, write_index

__all__ = [
    "INDEX_FILE",
    "ROW_COLUMNS",
    "Exported",
    "OutputDir",
    "atomic_write",
    "clean_stale",
    "export",
    "pages_without_sidecar",
    "render_index",
    "table_rows",
    "write_index",
]
