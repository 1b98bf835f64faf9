"""The ledger: migrations, one outcome per input per run, interrupted runs, retry policy, concurrency."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from extractor.errors import Outcome
from extractor.ledger import INTERRUPTED, MIGRATIONS, Input, Ledger, Record, should_retry


def _input(n: int) -> Input:
    return Input(f"https://a.test/{n}", f"https://a.test/{n}", f"{n:032x}", "20250101", "post")


def _rec(n: int, outcome: str, **kw: object) -> Record:
    return Record(f"https://a.test/{n}", f"https://a.test/{n}", f"{n:032x}", outcome, **kw)  # type: ignore[arg-type]


def test_fresh_ledger_has_every_migration_and_reopening_keeps_data(extractor_home: Path) -> None:
    with Ledger() as ledger:
        assert ledger.path == extractor_home / "ledger.sqlite3"
        assert ledger.version == MIGRATIONS[-1][0]
        run = ledger.start_run("test")
        ledger.record(run, _rec(1, "ok", tokens_in=7))
    conn = sqlite3.connect(extractor_home / "ledger.sqlite3")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sources", "runs", "articles"} <= tables
    conn.close()
    with Ledger() as again:
        assert again.version == MIGRATIONS[-1][0]
        assert [r.tokens_in for r in again.latest()] == [7]


def test_an_input_gets_exactly_one_outcome_per_run() -> None:
    with Ledger() as ledger:
        run = ledger.start_run("test")
        ledger.add_inputs(run, [_input(1), _input(2), _input(1)])
        assert ledger.record(run, _rec(1, "ok"))
        assert not ledger.record(run, _rec(1, "timeout", transient=True))
        totals = ledger.finish_run(run)  # input 2 never got one: the run gives it internal_error
        records = ledger.run_records(run)
    assert [(r.url, r.outcome) for r in records] == [
        ("https://a.test/1", "ok"),
        ("https://a.test/2", "internal_error"),
    ]
    assert totals.inputs == 2 and totals.succeeded == 1 and totals.failed == 1


def test_latest_outcome_per_article_and_totals_over_runs() -> None:
    with Ledger() as ledger:
        r1 = ledger.start_run("a")
        ledger.record(r1, _rec(1, "timeout", transient=True, attempts=1))
        ledger.record(r1, _rec(2, "too_short"))
        ledger.finish_run(r1)
        r2 = ledger.start_run("b")
        ledger.record(r2, _rec(1, "ok", tokens_in=100, tokens_out=20, attempts=2))
        ledger.finish_run(r2)
        latest = {r.url: r.outcome for r in ledger.latest()}
        totals = ledger.totals()
        assert ledger.retryable() == []
    assert latest == {"https://a.test/1": "ok", "https://a.test/2": "too_short"}
    assert totals.outcomes == {"ok": 1, "too_short": 1}
    assert (totals.tokens_in, totals.tokens_out, totals.attempts) == (100, 20, 3)


def test_retry_policy_follows_transient() -> None:
    assert should_retry(None)
    assert should_retry(_rec(1, "ok"))
    assert should_retry(_rec(1, Outcome.TIMEOUT, transient=True))
    assert not should_retry(_rec(1, Outcome.BLOCKED))
    assert should_retry(_rec(1, Outcome.BLOCKED), retry_permanent=True)


def test_a_killed_run_is_closed_by_the_next_and_its_articles_retried(extractor_home: Path) -> None:
    script = (
        "import os, signal\n"
        "from extractor.ledger import Ledger, Input\n"
        "l = Ledger()\n"
        "r = l.start_run('doomed')\n"
        "l.add_inputs(r, [Input('u{}'.format(i), 'u{}'.format(i), str(i)) for i in range(3)])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == -9
    with Ledger() as ledger:
        ledger.start_run("next")
        (doomed,) = [r for r in ledger.runs() if r["command"] == "doomed"]
        assert doomed["interrupted"] == 1 and doomed["finished_at"]
        records = ledger.run_records(doomed["id"])
        assert [(r.outcome, r.error, r.transient) for r in records] == [
            ("internal_error", INTERRUPTED, True)
        ] * 3
        assert {r.url for r in ledger.retryable()} == {"u0", "u1", "u2"}


def test_threads_and_a_second_connection_write_at_once() -> None:
    with Ledger() as ledger, Ledger(ledger.path) as other:
        run = ledger.start_run("threads")
        ledger.add_inputs(run, [_input(n) for n in range(200)])

        def work(start: int) -> None:
            target = ledger if start % 2 else other
            for n in range(start, 200, 8):
                target.record(run, _rec(n, "ok", tokens_in=1))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        totals = ledger.finish_run(run)
    assert totals.inputs == 200 and totals.succeeded == 200 and totals.tokens_in == 200


def test_sources_are_remembered() -> None:
    with Ledger() as ledger:
        ledger.source_checked("https://news.test/feed")
        ledger.source_checked("https://news.test/feed", error="timed out")
        (source,) = ledger.sources()
    assert source["spec"] == "https://news.test/feed" and source["last_error"] == "timed out"
