"""`extractor import`: an existing archive of scan pages brought into an output directory.

Each readable page is kept byte for byte (copied when the archive is not the output directory), gets a sidecar
beside it (provenance `imported_from`: the page it came from) and one ledger row with outcome `imported`, so
that `index`, `export`, `status` and `check` see it like a scan the pipeline wrote. Importing again changes
nothing: a page already there with the same bytes, a sidecar already there and a page already recorded as
imported are left alone. A page that cannot be read is reported with its line and skipped; the others import.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from extractor.errors import Outcome, ScanFormatError
from extractor.ledger import Ledger, Record, now
from extractor.models import SIDECAR_SCHEMA, Provenance, Scan, Sidecar
from extractor.output import INDEX_FILE, OutputDir, atomic_write, write_index
from extractor.parse import parse
from extractor.sources import date_of_issue
from extractor.urls import canonicalize

_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Skipped:
    """A page left out, and why. `line` is 1-based, None when the reason is not tied to a line."""

    path: Path
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.reason}"


@dataclass
class ImportReport:
    """What one import did. `pages`: pages found; `imported`: new ledger rows; `copied`: pages written into
    OUT; `sidecars`: sidecars written; `unchanged`: pages that were already fully there."""

    source: Path
    out: Path
    pages: int = 0
    imported: int = 0
    copied: int = 0
    sidecars: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    run_id: int | None = None
    index: Path | None = None


def archive_pages(directory: Path) -> Iterator[Path]:
    """The scan pages of a directory, in name order: every `*.md` but the index and hidden files."""
    for path in sorted(directory.glob("*.md")):
        if path.name != INDEX_FILE and not path.name.startswith(".") and path.is_file():
            yield path


def _read(path: Path) -> tuple[bytes, Scan]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScanFormatError("not UTF-8 text", data[: exc.start].count(b"\n") + 1) from exc
    return data, parse(text)


def _stem(path: Path, scan: Scan) -> str | None:
    """The page's id: its file name when that is an id (the archive's names are kept), else its url's id."""
    if _ID.fullmatch(path.stem):
        return path.stem
    return scan.id if scan.url else None


def _sidecar(stem: str, scan: Scan, page: Path) -> bytes:
    prov = Provenance(
        source=scan.origin_url or None,
        issue_date=date_of_issue(scan.origin) or None,
        imported_from=str(page),
    )
    # Built, not validated: the scan holds archive values (damaged pages included) that strict mode refuses.
    sidecar = Sidecar.model_construct(schema_=SIDECAR_SCHEMA, id=stem, scan=scan, provenance=prov)
    return sidecar.to_json().encode("utf-8")


def _existing_sidecar(path: Path) -> Sidecar | None:
    """The readable sidecar already there, the pipeline's or a previous import's: either is kept."""
    try:
        return Sidecar.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def import_archive(source: Path, out: OutputDir, ledger: Ledger) -> ImportReport:
    """Imports every page of `source` into `out`, recording each new one in `ledger` (one run, `import`)."""
    report = ImportReport(source=source, out=out.path)
    out.prepare()
    same_dir = source.resolve() == out.path.resolve()
    imported = {r.scan_id for r in ledger.latest() if r.outcome == Outcome.IMPORTED}
    keys: set[str] = set()
    records: list[Record] = []
    for path in archive_pages(source):
        report.pages += 1
        try:
            data, scan = _read(path)
        except ScanFormatError as exc:
            report.skipped.append(Skipped(path, exc.reason, exc.line or None))
            continue
        except OSError as exc:
            report.skipped.append(Skipped(path, exc.strerror or str(exc)))
            continue
        stem = _stem(path, scan)
        if stem is None:
            report.skipped.append(Skipped(path, "no article link on the page and the file name is not an id"))
            continue
        page, sidecar = out.md_path(stem), out.json_path(stem)
        wrote = False
        if not same_dir or page.resolve() != path.resolve():
            if page.is_file():
                if page.read_bytes() != data:
                    report.skipped.append(Skipped(path, f"{page} is there with other content: kept, not replaced"))
                    continue
            else:
                atomic_write(page, data)
                report.copied += 1
                wrote = True
        existing = _existing_sidecar(sidecar)
        if existing is None:
            atomic_write(sidecar, _sidecar(stem, scan, path.resolve()))
            report.sidecars += 1
            wrote = True
        scanned_here = existing is not None and existing.provenance.imported_from is None
        if stem in imported or scanned_here:
            # Recorded already; or a scan the pipeline wrote, whose own ledger rows stand.
            report.unchanged += not wrote
            continue
        imported.add(stem)
        key = canonicalize(scan.url) if scan.url else f"scan:{stem}"
        if key in keys:  # two pages of one article (ids spelled apart): each still gets its row
            key = f"{key}#{stem}"
        keys.add(key)
        stamp = now()
        records.append(
            Record(
                url=scan.url,
                canonical_url=key,
                scan_id=stem,
                outcome=Outcome.IMPORTED.value,
                origin=scan.origin,
                source=str(path.resolve()),
                issue_date=date_of_issue(scan.origin) or None,
                started_at=stamp,
                finished_at=stamp,
            )
        )
    if records:
        report.run_id = ledger.start_run("import")
        try:
            for rec in records:
                ledger.record(report.run_id, rec)
        finally:
            ledger.finish_run(report.run_id)
        report.imported = len(records)
    if report.copied or report.sidecars or not (out.path / INDEX_FILE).is_file():
        report.index = write_index(out.path)
    return report
