"""Pipeline throughput and memory: how close the bounded thread pool gets to the model's latency floor.

    uv run python bench/pipeline.py --json

A stub OpenAI-compatible server answers every extraction after a fixed latency (2 s: a hosted model's pace for
one full scan) and a loopback server serves generated articles; both run in a child process, as they would on
other machines. N=200 articles at 16 workers:

- `wall_over_ideal`: wall time over ceil(N/16) x latency (servers started before the clock starts). Goal <= 1.15.
- `speedup_vs_sequential`: a plain sequential loop (fetch, read, one instructor call, write) timed in the same
  run on the first 20 articles and scaled to N, over the pipeline's wall time. Goal >= 12.
- `peak_rss_mb_n1000`: peak RSS of a fresh process running the pipeline over 1,000 articles (lower latency, same
  stub). Goal < 400 MB.
- `limits_slot_us`: the cost of the cross-process limits (`limits.sqlite3`): one slot taken and given back, and
  one budget charge, in microseconds, against an in-process lock taken and released in the same run. Each
  article takes one host slot per fetch and one charge per model answer.

The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pipeline.article_site import ArticleSite  # noqa: E402
from tests.pipeline.llm_stub import StubLLM  # noqa: E402

ORIGIN = "20250629d"


class Servers:
    """The article site and the model stub, in a child process: their work stands for other machines' (a
    web server's, a model provider's) and must not compete for this process's GIL."""

    def __init__(self, latency: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, latency), daemon=True)

    def __enter__(self) -> Servers:
        self._proc.start()
        self.host_port, self.llm_url, self.model = self._conn.recv()
        return self

    def url(self, n: int) -> str:
        return f"http://{self.host_port}/a/{n}.html"

    @property
    def calls(self) -> int:
        self._conn.send("calls")
        calls: int = self._conn.recv()
        return calls

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._proc.join(timeout=10)


def _serve(conn: Any, latency: float) -> None:
    with ArticleSite() as site, StubLLM(latency=latency) as llm:
        conn.send((site.host_port, llm.base_url, llm.model))
        while (msg := conn.recv()) != "stop":
            conn.send(llm.calls if msg == "calls" else None)


def _env(site: Servers, home: Path, workers: int) -> None:
    os.environ.update(
        {
            "EXTRACTOR_HOME": str(home),
            "EXTRACTOR_ALLOW_HOSTS": site.host_port,
            "EXTRACTOR_PER_HOST": str(workers),
            "EXTRACTOR_LLM": site.llm_url,
            "EXTRACTOR_MODEL": site.model,
            "DO_NOT_TRACK": "1",
        }
    )


def run_pipeline(site: Servers, n: int, workers: int, out: Path) -> tuple[float, dict[str, Any]]:
    """The pipeline over `n` articles; returns wall seconds (building the parts excluded) and the totals."""
    from extractor.pipeline import RunConfig, build, run_links_once
    from extractor.sources import single_link

    links = [single_link(site.url(i), origin=ORIGIN) for i in range(n)]
    parts = build(RunConfig.make(out=out))
    try:
        start = time.perf_counter()
        report = run_links_once(links, parts, command="bench", concurrency=workers)
        wall = time.perf_counter() - start
    finally:
        parts.close()
    return wall, report.totals.as_dict()


def run_sequential(site: Servers, n: int, out: Path, archive: Path) -> float:
    """The baseline: one article after another, same fetcher, reader, extraction and files; no pool, no ledger."""
    from extractor.article import article_from_page
    from extractor.extract import make_extractor
    from extractor.fetch import Fetcher, FetchSettings
    from extractor.output import OutputDir

    output = OutputDir(out)
    output.prepare()
    with Fetcher(FetchSettings(archive_dir=archive)) as fetcher, make_extractor() as extractor:
        start = time.perf_counter()
        for i in range(n):
            url = site.url(i)
            article = article_from_page(fetcher.fetch(url))
            result = extractor.extract(
                article.text, url=url, origin=ORIGIN, origin_url=f"https://kghosh.substack.com/p/{ORIGIN}",
                title=article.title,
            )
            output.write(result.scan, result.provenance)
        return time.perf_counter() - start


def rss_child(n: int, workers: int, latency: float) -> None:
    """Runs in a fresh process: the pipeline over `n` articles, then prints its peak RSS in MB."""
    with tempfile.TemporaryDirectory() as tmp, Servers(latency) as site:
        _env(site, Path(tmp) / "home", workers)
        wall, totals = run_pipeline(site, n, workers, Path(tmp) / "out")
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"n": n, "wall_s": round(wall, 2), "peak_rss_mb": round(peak_kb / 1024, 1),
                      "succeeded": totals["succeeded"]}))  # fmt: skip


def limits_overhead(home: Path, n: int = 2000) -> dict[str, float]:
    """Microseconds per slot (take and give back) and per budget charge through the shared limits file, and per
    in-process lock, as the baseline."""
    import threading

    from extractor.pipeline import Limits

    lock = threading.Lock()
    start = time.perf_counter()
    for _ in range(n):
        with lock:
            pass
    lock_us = (time.perf_counter() - start) / n * 1e6
    limits = Limits(home / "limits-bench.sqlite3")
    try:
        start = time.perf_counter()
        for _ in range(n):
            with limits.slot("host:bench", 1):
                pass
        slot_us = (time.perf_counter() - start) / n * 1e6
        start = time.perf_counter()
        for _ in range(n):
            limits.charge("bench", 100, 10)
        charge_us = (time.perf_counter() - start) / n * 1e6
    finally:
        limits.close()
    return {"lock_us": round(lock_us, 2), "slot_us": round(slot_us, 1), "charge_us": round(charge_us, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="end with one JSON line (always printed last)")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--baseline", type=int, default=20, help="articles in the sequential baseline")
    parser.add_argument("--rss-n", type=int, default=1000)
    parser.add_argument("--rss-latency", type=float, default=0.05)
    parser.add_argument("--rss-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.workers, args.rss_latency)
        return

    with tempfile.TemporaryDirectory() as tmp, Servers(args.latency) as site:
        base = Path(tmp)
        _env(site, base / "home", args.workers)
        wall, totals = run_pipeline(site, args.n, args.workers, base / "out")
        calls_pipeline = site.calls
        ideal = math.ceil(args.n / args.workers) * args.latency
        # The baseline fetches into its own archive: it must not read what the pipeline stored.
        seq = run_sequential(site, args.baseline, base / "out-seq", base / "web-seq")
        seq_scaled = seq * args.n / args.baseline
        print(f"pipeline: {args.n} articles, {args.workers} workers, latency {args.latency}s: {wall:.1f}s "
              f"(ideal {ideal:.1f}s), {totals['succeeded']} scanned, {calls_pipeline} model calls")  # fmt: skip
        print(f"sequential: {args.baseline} articles in {seq:.1f}s, scaled to {args.n}: {seq_scaled:.0f}s")

    with tempfile.TemporaryDirectory() as tmp:
        overhead = limits_overhead(Path(tmp))
    print(f"limits: {overhead['slot_us']} us per cross-process slot, {overhead['charge_us']} us per budget charge "
          f"(in-process lock: {overhead['lock_us']} us)")  # fmt: skip

    child = subprocess.run(
        [sys.executable, __file__, "--rss-child", str(args.rss_n), "--workers", str(args.workers),
         "--rss-latency", str(args.rss_latency)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rss = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"memory: {rss['n']} articles at latency {args.rss_latency}s in {rss['wall_s']}s, "
          f"peak RSS {rss['peak_rss_mb']} MB, {rss['succeeded']} scanned")  # fmt: skip
    result = {
        "n": args.n,
        "workers": args.workers,
        "latency_s": args.latency,
        "wall_s": round(wall, 2),
        "ideal_s": ideal,
        "wall_over_ideal": round(wall / ideal, 3),
        "sequential_s_first": round(seq, 2),
        "sequential_n": args.baseline,
        "speedup_vs_sequential": round(seq_scaled / wall, 2),
        "succeeded": totals["succeeded"],
        "model_calls": calls_pipeline,
        "peak_rss_mb_n1000": rss["peak_rss_mb"],
        "rss_n": rss["n"],
        "rss_latency_s": args.rss_latency,
        "limits_slot_us": overhead["slot_us"],
        "limits_charge_us": overhead["charge_us"],
        "lock_us": overhead["lock_us"],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
