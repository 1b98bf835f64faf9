"""`extractor export`: every scan as JSONL, every table row as CSV and Parquet, for analysis elsewhere."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractor.models import ENTRY_TABLES, Sidecar
from extractor.output._files import OutputDir, atomic_write

ROW_COLUMNS = (
    "id",
    "origin",
    "url",
    "title",
    "category",
    "type",
    "table",
    "position",
    "name",
    "description",
    "change",
    "ten_year",
    "driving_force",
    "relevancy",
)


@dataclass(frozen=True)
class Exported:
    jsonl: Path
    csv: Path
    #: None when pyarrow (the `parquet` extra) is not installed: JSONL and CSV are still written.
    parquet: Path | None
    scans: int
    rows: int


def table_rows(sidecars: list[Sidecar]) -> list[dict[str, Any]]:
    """One flat row per table row of every scan (signals carry change, ten_year and driving_force)."""
    rows: list[dict[str, Any]] = []
    for sc in sidecars:
        scan = sc.scan
        base = {
            "id": sc.id,
            "origin": scan.origin,
            "url": scan.url,
            "title": scan.title,
            "category": scan.category,
            "type": scan.type,
        }
        for position, sig in enumerate(scan.signals, 1):
            rows.append(
                base
                | {"table": "signals", "position": position, "name": sig.name, "description": sig.description}
                | {"change": sig.change, "ten_year": sig.ten_year, "driving_force": sig.driving_force}
                | {"relevancy": sig.relevancy}
            )
        for table in ENTRY_TABLES:
            for position, entry in enumerate(scan.table(table), 1):
                rows.append(
                    base
                    | {"table": table, "position": position, "name": entry.name}
                    | {"description": entry.description, "change": None, "ten_year": None}
                    | {"driving_force": None, "relevancy": entry.relevancy}
                )
    return rows


def export(out: Path, dest: Path, stem: str = "scans") -> Exported:
    """Writes `dest/{stem}.jsonl` (one sidecar per line), `dest/{stem}-rows.csv` and, with the `parquet` extra
    (pyarrow, 165 MB, so optional), `dest/{stem}-rows.parquet`."""
    dest.mkdir(parents=True, exist_ok=True)
    sidecars = OutputDir(out).sidecars()
    jsonl = dest / f"{stem}.jsonl"
    lines = [json.dumps(json.loads(sc.to_json()), ensure_ascii=False, sort_keys=False) for sc in sidecars]
    atomic_write(jsonl, "".join(line + "\n" for line in lines).encode("utf-8"))

    rows = table_rows(sidecars)
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=ROW_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    csv_path = dest / f"{stem}-rows.csv"
    atomic_write(csv_path, buf.getvalue().encode("utf-8"))
    try:
        import pyarrow as pa  # heavy: only this command pays for it
        import pyarrow.parquet as pq
    except ImportError:
        return Exported(jsonl, csv_path, None, len(sidecars), len(rows))

    schema = pa.schema(
        [(c, pa.int64() if c in ("position", "relevancy") else pa.string()) for c in ROW_COLUMNS]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    parquet_path = dest / f"{stem}-rows.parquet"
    atomic_write(parquet_path, sink.getvalue().to_pybytes())
    return Exported(jsonl, csv_path, parquet_path, len(sidecars), len(rows))
