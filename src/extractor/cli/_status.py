"""What `extractor status` shows: read from the ledger without creating it, printed so that nothing is cut.

The text form puts each article's URL last on its line, never shortened, whatever the terminal's width (a
narrow terminal wraps the line; a table would have cut the URL), and its error on the next line.
"""

from __future__ import annotations

import json
from typing import Any

from extractor.errors import ConfigError
from extractor.ledger import Ledger, Record, RunTotals


def read_status() -> tuple[list[Record], dict[str, Any]]:
    """Latest outcome per article, then the articles of open runs without one yet; and the totals."""
    from extractor.settings import CoreSettings, ledger_path

    home = CoreSettings().home
    if home.exists() and not home.is_dir():
        raise ConfigError(f"EXTRACTOR_HOME={home} is not a directory")
    path = ledger_path(home)
    totals = RunTotals().as_dict()
    totals["runs"] = 0
    if not path.is_file():  # asking must not create a ledger (or EXTRACTOR_HOME)
        return [], totals
    with Ledger(path) as ledger:
        latest = ledger.latest()
        totals = ledger.totals().as_dict()
        totals["runs"] = len(ledger.runs())
        waiting = ledger.in_progress()
    where = {r.canonical_url: i for i, r in enumerate(latest)}
    for rec in waiting:
        if rec.canonical_url in where:
            latest[where[rec.canonical_url]] = rec  # a newer run is on it (or was, until it died)
        else:
            where[rec.canonical_url] = len(latest)
            latest.append(rec)
            totals["articles"] += 1
        totals["outcomes"][rec.outcome] = totals["outcomes"].get(rec.outcome, 0) + 1
    return latest, totals


#: What status shows of each source the ledger knows.
SOURCE_FIELDS = ("spec", "kind", "last_checked_at", "last_links", "last_error")


def read_sources() -> list[dict[str, Any]]:
    """Every source read so far, with its last read's links and error; none when there is no ledger yet."""
    from extractor.settings import CoreSettings, ledger_path

    path = ledger_path(CoreSettings().home)
    if not path.is_file():
        return []
    with Ledger(path) as ledger:
        return [{k: src.get(k) for k in SOURCE_FIELDS} for src in ledger.sources()]


def status_json(latest: list[Record], totals: dict[str, Any], sources: list[dict[str, Any]] | None = None) -> str:
    articles = [
        {
            "url": r.url,
            "id": r.scan_id,
            "origin": r.origin,
            "outcome": r.outcome,
            "error": r.error,
            "tokens_in": r.tokens_in,
            "tokens_out": r.tokens_out,
            "attempts": r.attempts,
        }
        for r in latest
    ]
    data = {"articles": articles, "totals": totals, "sources": sources or []}
    return json.dumps(data, ensure_ascii=False, indent=2)


def status_text(latest: list[Record], totals: dict[str, Any], sources: list[dict[str, Any]] | None = None) -> str:
    width = max([len("outcome"), *(len(r.outcome) for r in latest)])
    origin_width = max([len("origin"), *(len(r.origin) for r in latest)])
    lines = [f"{'outcome':<{width}}  attempts  tokens in/out  {'origin':<{origin_width}}  url"]
    for r in latest:
        tokens = f"{r.tokens_in}/{r.tokens_out}"
        lines.append(f"{r.outcome:<{width}}  {r.attempts:>8}  {tokens:>13}  {r.origin:<{origin_width}}  {r.url}")
        if r.error:
            lines.append(f"    {' '.join(r.error.split())}")
    lines.append(
        f"{totals['articles']} articles, {totals['succeeded']} scanned, {totals['failed']} failed, "
        f"{totals['runs']} runs; tokens {totals['tokens_in']} in, {totals['tokens_out']} out, "
        f"{totals['attempts']} attempts"
    )
    for src in sources or ():  # a source that failed or gave no links at its last read must not go unnoticed
        if src.get("last_error"):
            lines.append(f"source {src['spec']}: {src['last_error']} (checked {src['last_checked_at']})")
    return "\n".join(lines)
