"""`extractor import`: an existing archive of scan pages brought into an output directory.

Each readable page is kept byte for byte (copied when the archive is not the output directory), gets a sidecar
beside it (provenance `imported_from`: the page it came from) and one ledger row with outcome `imported`, so
that `index`, `export`, `status` and `check` see it like a scan the pipeline wrote. Importing again changes
nothing: a page already there with the same bytes, a sidecar already there and a page already recorded as
imported are left alone. A page that cannot be read is reported with its line and skipped; the others import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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


def _already_imported(path: Path, out: OutputDir, imported: set[str], same_dir: bool) -> bool:
    """A page a previous import brought in whole (same bytes, its sidecar, its ledger row): known without
    parsing it again, so a second import of a large archive is quick."""
    stem = path.stem
    if stem not in imported or not _ID.fullmatch(stem):
        return False
    page, sidecar = out.md_path(stem), out.json_path(stem)
    try:
        if not (same_dir and page.resolve() == path.resolve()) and page.read_bytes() != path.read_bytes():
            return False
        return bool(json.loads(sidecar.read_bytes()).get("schema") == SIDECAR_SCHEMA)
    except (OSError, ValueError):
        return False


@dataclass
class _Plan:
    """What importing one page takes: which files to write, and its ledger row (None: recorded already)."""

    path: Path
    page: Path | None  # where the page's bytes go; None when it is there already
    data: bytes
    sidecar: Path | None  # where its sidecar goes; None when one is there already
    sidecar_data: bytes
    record: Record | None


def _write(plan: _Plan) -> None:
    # The page first: a sidecar's presence means its page is complete.
    if plan.page is not None:
        atomic_write(plan.page, plan.data)
    if plan.sidecar is not None:
        atomic_write(plan.sidecar, plan.sidecar_data)


def _record(stem: str, scan: Scan, path: Path, key: str) -> Record:
    stamp = now()
    return Record(
        url=scan.url,
        canonical_url=key,
        scan_id=stem,
        outcome=Outcome.IMPORTED.value,
        origin=scan.origin,
        source=str(path),
        issue_date=date_of_issue(scan.origin) or None,
        started_at=stamp,
        finished_at=stamp,
    )


#: Files written at once. Each write is fsynced (`atomic_write`), which waits on the disk, not the CPU: several in
#: flight let the filesystem commit them together (3,000 pages: about 3x faster than one at a time).
WRITERS = 8


def import_archive(source: Path, out: OutputDir, ledger: Ledger) -> ImportReport:
    """Imports every page of `source` into `out`, recording each new one in `ledger` (one run, `import`).
    Pages are read and parsed here while their files are written on a small thread pool; a page is recorded
    only once both its files are written."""
    report = ImportReport(source=source, out=out.path)
    out.prepare()
    same_dir = source.resolve() == out.path.resolve()
    imported = {r.scan_id for r in ledger.latest() if r.outcome == Outcome.IMPORTED}
    keys: set[str] = set()
    claimed: dict[str, Path] = {}
    jobs: list[tuple[_Plan, Future[None] | None]] = []
    with ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="import") as pool:
        todo: list[Path] = []
        for path in archive_pages(source):
            report.pages += 1
            if _already_imported(path, out, imported, same_dir):
                claimed[path.stem] = path
                report.unchanged += 1
            else:
                todo.append(path)
        for path in todo:
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
            if stem in claimed:
                report.skipped.append(Skipped(path, f"same id as {claimed[stem].name}, imported already"))
                continue
            claimed[stem] = path
            page, sidecar = out.md_path(stem), out.json_path(stem)
            target: Path | None = None
            if not same_dir or page.resolve() != path.resolve():
                if not page.is_file():
                    target = page
                elif page.read_bytes() != data:
                    report.skipped.append(Skipped(path, f"{page} is there with other content: kept, not replaced"))
                    continue
            existing = _existing_sidecar(sidecar)
            # Recorded already; or a scan the pipeline wrote, whose own ledger rows stand.
            recorded = stem in imported or (existing is not None and existing.provenance.imported_from is None)
            record = None
            if not recorded:
                key = canonicalize(scan.url) if scan.url else f"scan:{stem}"
                if key in keys:  # two pages of one article (ids spelled apart): each still gets its row
                    key = f"{key}#{stem}"
                keys.add(key)
                record = _record(stem, scan, path.resolve(), key)
            plan = _Plan(path, target, data, sidecar if existing is None else None,
                         _sidecar(stem, scan, path.resolve()) if existing is None else b"", record)  # fmt: skip
            busy = plan.page is not None or plan.sidecar is not None
            jobs.append((plan, pool.submit(_write, plan) if busy else None))
        records: list[Record] = []
        for plan, job in jobs:
            try:
                if job is not None:
                    job.result()
            except OSError as exc:
                report.skipped.append(Skipped(plan.path, f"could not be written: {exc.strerror or exc}"))
                continue
            report.copied += plan.page is not None
            report.sidecars += plan.sidecar is not None
            report.unchanged += job is None and plan.record is None
            if plan.record is not None:
                records.append(plan.record)
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
