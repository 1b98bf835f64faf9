"""Bench: what the ledger's per-article lease costs a run, against the same ledger work without it.

1,000 articles, 8 worker threads on one ledger (as a run does): each article is recorded (the work every run
already did), and in the leased variant leased first (one more write transaction, released by the record).
Also two runs (two ledgers, as two processes would open it) over the same 1,000 articles at once: every article
must end leased by one run. Prints the time of each, the ratio and the cost per article (goal: a few
milliseconds at most, against model calls of seconds).

    uv run python bench/leases.py
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from extractor.ledger import Input, Ledger, Record

ARTICLES = 1000
WORKERS = 8


def _url(n: int) -> str:
    return f"https://bench.test/a/{n}"


def one_run(path: Path, *, lease: bool, tag: str) -> float:
    with Ledger(path) as ledger:
        run = ledger.start_run(f"bench-{tag}")
        ledger.add_inputs(run, [Input(_url(n), _url(n), f"{n:032x}") for n in range(ARTICLES)])

        def work(n: int) -> None:
            if lease:
                ledger.lease(_url(n), run)
            ledger.record(run, Record(_url(n), _url(n), f"{n:032x}", "ok", tokens_in=1000, tokens_out=200))

        start = time.perf_counter()
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(work, range(ARTICLES)))
        elapsed = time.perf_counter() - start
        ledger.finish_run(run)
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        plain = min(one_run(Path(tmp) / f"plain{i}.sqlite3", lease=False, tag="plain") for i in range(2))
        leased = min(one_run(Path(tmp) / f"leased{i}.sqlite3", lease=True, tag="leased") for i in range(2))
        shared = Path(tmp) / "shared.sqlite3"
        Ledger(shared).close()
        start = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda tag: one_run(shared, lease=True, tag=tag), ["a", "b"]))
        both = time.perf_counter() - start
    print(f"{ARTICLES} articles, {WORKERS} threads")
    print(f"record only:       {plain:.2f} s ({plain / ARTICLES * 1000:.2f} ms per article)")
    print(f"lease + record:    {leased:.2f} s ({leased / ARTICLES * 1000:.2f} ms per article)")
    print(f"ratio:             {leased / plain:.2f}x; lease cost {(leased - plain) / ARTICLES * 1000:.2f} ms per article")
    print(f"two runs at once:  {both:.2f} s for 2 x {ARTICLES} leased articles")


if __name__ == "__main__":
    main()
