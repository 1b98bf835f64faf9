"""A killed run is found dead however its pid and host name changed, and `status` shows its pending links; two
runs at once on one home pay once per article (the ledger's leases)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from extractor.errors import CarriedOverError, LeaseBusyError, Outcome
from extractor.ledger import INTERRUPTED, Input, Ledger, Record
from tests.hardening.conftest import EXTRACTOR, cli
from tests.pipeline.article_site import ArticleSite
from tests.pipeline.llm_stub import StubLLM


def _input(n: int) -> Input:
    return Input(f"https://a.test/{n}", f"https://a.test/{n}", f"{n:032x}", "20250101", "post")


def _wait_for(predicate: object, timeout: float = 60) -> None:
    give_up = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < give_up, "timed out"
        time.sleep(0.1)


def test_after_sigkill_status_shows_the_dead_runs_pending_links(env: dict[str, str], site: ArticleSite,
                                                                llm: StubLLM, home: Path, tmp_path: Path) -> None:  # fmt: skip
    llm.latency = 60  # the model never answers in time: the run is killed in the middle of its first call
    proc = subprocess.Popen([EXTRACTOR, "page", site.post_url, "--out", str(tmp_path / "o"), "--concurrency", "1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_for(lambda: llm.calls >= 1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    data = json.loads(cli("status", "--json", env=env).stdout)
    articles = {a["url"]: a for a in data["articles"]}
    assert set(articles) == {site.url(n) for n in range(site.posted)}
    assert {a["outcome"] for a in articles.values()} == {"internal_error"}
    assert {a["error"] for a in articles.values()} == {INTERRUPTED}
    text = cli("status", env=env).stdout
    assert all(site.url(n) in text for n in range(site.posted))


def _open_run(path: Path) -> int:
    """A run left open by a process that is gone: opened by a child process that exits without closing it."""
    code = (
        "import sys; from pathlib import Path; from extractor.ledger import Ledger, Input;"
        "ledger = Ledger(Path(sys.argv[1])); run = ledger.start_run('killed');"
        "ledger.add_inputs(run, [Input('https://a.test/1', 'https://a.test/1', '1' * 32)]); print(run)"
    )
    python = str(Path(EXTRACTOR).parent / "python")
    done = subprocess.run([python, "-c", code, str(path)], capture_output=True, text=True, check=True)
    return int(done.stdout)


def _set(path: Path, run: int, **values: object) -> None:
    conn = sqlite3.connect(path)
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*values.values(), run))
    conn.commit()
    conn.close()


def test_a_dead_run_whose_pid_was_reused_is_closed(home: Path) -> None:
    path = home / "ledger.sqlite3"
    run = _open_run(path)
    # Its pid now belongs to a live process started at another time (this one).
    _set(path, run, pid=os.getpid())
    with Ledger(path) as ledger:
        assert ledger.dead_runs() == [run]
        assert ledger.recover_interrupted() == 1
        assert [r.error for r in ledger.run_records(run)] == [INTERRUPTED]


def test_a_run_from_another_container_is_dead_once_its_heartbeat_is_stale(home: Path) -> None:
    path = home / "ledger.sqlite3"
    run = _open_run(path)
    # Written by a process of another container (another host name and pid namespace) whose pid is alive here.
    _set(path, run, host="container-1234", pid_ns="pid:[1]", pid=os.getpid(), heartbeat_at=time.time())
    with Ledger(path) as ledger:
        assert ledger.dead_runs() == []  # it may well be running: it beat a moment ago
    _set(path, run, heartbeat_at=time.time() - 3600)
    with Ledger(path) as ledger:
        assert ledger.dead_runs() == [run]


def test_a_live_run_is_never_taken_for_dead_and_beats(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.ledger import _liveness, _store

    monkeypatch.setattr(_store, "HEARTBEAT_SECONDS", 0.2)
    with Ledger(home / "ledger.sqlite3") as ledger:
        run = ledger.start_run("live")
        first = ledger.runs()[-1]["heartbeat_at"]
        _wait_for(lambda: ledger.runs()[-1]["heartbeat_at"] > first, timeout=5)
        with Ledger(home / "ledger.sqlite3") as other:
            assert other.dead_runs() == []
            other.start_run("other")  # recovers dead runs first: this one is alive
        assert ledger.run_records(run) == [] and ledger.runs()[0]["finished_at"] is None
    assert _liveness.STALE_SECONDS > 2 * _liveness.HEARTBEAT_SECONDS


def test_a_run_waits_for_an_article_another_run_holds_and_carries_its_failure(home: Path) -> None:
    with Ledger(home / "ledger.sqlite3") as a, Ledger(home / "ledger.sqlite3") as b:
        run_a, run_b = a.start_run("a"), b.start_run("b")
        a.add_inputs(run_a, [_input(1)])
        b.add_inputs(run_b, [_input(1)])
        a.lease("https://a.test/1", run_a)
        raised: list[BaseException] = []

        def take() -> None:
            try:
                b.lease("https://a.test/1", run_b)
            except Exception as exc:
                raised.append(exc)

        waiter = threading.Thread(target=take)
        waiter.start()
        time.sleep(1.0)
        assert waiter.is_alive()  # b waits while a holds the article
        a.record(run_a, Record("https://a.test/1", "https://a.test/1", "1" * 32, "invalid_output",
                               error="the model's answer broke the rules", tokens_in=900))  # fmt: skip
        waiter.join(10)
        assert not waiter.is_alive()
        assert isinstance(raised[0], CarriedOverError) and raised[0].outcome is Outcome.INVALID_OUTPUT
        b.lease_wait = 0.5
        a.lease("https://a.test/2", run_a)
        with pytest.raises(LeaseBusyError):
            b.lease("https://a.test/2", run_b)
        a.finish_run(run_a)
        b.lease("https://a.test/2", run_b)  # a finished run holds nothing


def test_two_page_runs_at_once_pay_once_per_article(env: dict[str, str], site: ArticleSite, llm: StubLLM,
                                                    tmp_path: Path) -> None:  # fmt: skip
    llm.latency = 3.0  # each run needs 6 s of model time at least: long enough for the other to start meanwhile
    out = tmp_path / "scans"
    args = [EXTRACTOR, "page", site.post_url, "--out", str(out), "--concurrency", "2"]
    runs = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    results = [p.communicate(timeout=120) for p in runs]
    assert [p.returncode for p in runs] == [0, 0], results
    assert llm.calls == site.posted
    with Ledger(Path(env["EXTRACTOR_HOME"]) / "ledger.sqlite3") as ledger:
        first, second = sorted(ledger.runs(), key=lambda r: r["started_at"])
        first_done = max(r.finished_at or "" for r in ledger.run_records(first["id"]))
    # The second run started before the first had its last answer: without leases it would have paid again.
    assert second["started_at"] < first_done
    data = json.loads(cli("status", "--json", env=env).stdout)
    assert {a["outcome"] for a in data["articles"]} == {"ok"}
    assert sorted(p.name for p in out.glob("*.md") if p.name != "index.md") == sorted(
        f"{a['id']}.md" for a in data["articles"]
    )


def test_a_run_from_before_a_reboot_is_dead_and_a_live_process_is_alive_even_without_beats() -> None:
    from extractor.ledger._liveness import Stamp, is_alive

    me = Stamp.current()
    if me.boot_id is None or me.pid_ns is None:
        pytest.skip("needs Linux's boot id and pid namespaces")
    rebooted = Stamp(me.host, me.pid, "another-boot-id", me.pid_ns, me.started)
    assert not is_alive(rebooted, time.time())
    # A machine that slept an hour missed its heartbeats, yet this very process still runs.
    assert is_alive(me, time.time() - 3600)


def test_status_shows_the_links_a_live_run_has_not_finished(env: dict[str, str], home: Path) -> None:
    with Ledger(home / "ledger.sqlite3") as ledger:
        run = ledger.start_run("live")
        ledger.add_inputs(run, [_input(1), _input(2)])
        ledger.record(run, Record("https://a.test/1", "https://a.test/1", "1" * 32, "ok", attempts=1))
        data = json.loads(cli("status", "--json", env=env).stdout)
    outcomes = {a["url"]: a["outcome"] for a in data["articles"]}
    assert outcomes == {"https://a.test/1": "ok", "https://a.test/2": "pending"}
    assert data["totals"]["articles"] == 2


def test_a_live_run_keeps_its_leases_past_their_ttl(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.ledger import _store

    monkeypatch.setattr(_store, "HEARTBEAT_SECONDS", 0.2)
    with Ledger(home / "ledger.sqlite3") as a, Ledger(home / "ledger.sqlite3") as b:
        a.lease_ttl = 1.0
        run_a, run_b = a.start_run("a"), b.start_run("b")
        a.lease("https://a.test/1", run_a)
        time.sleep(2.0)  # twice the TTL: only the heartbeat's renewals keep the lease
        b.lease_wait = 0.3
        with pytest.raises(LeaseBusyError):
            b.lease("https://a.test/1", run_b)
