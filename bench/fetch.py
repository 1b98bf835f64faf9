"""Bench: the safe fetcher + article extraction against a plain httpx loop doing the same work.

200 fixture articles served by the loopback test site, 16 worker threads in both cases. Prints the time of each
and the ratio (goal: <= 1.2). Two comparisons:
- fetch+extract: `Fetcher.fetch` + `article_from_page` vs `httpx.Client.get` + the same trafilatura call;
- fetch only: `Fetcher.fetch` vs `httpx.Client.get` (+ reading `.text`), the fetcher's overhead alone.
Each variant runs `ROUNDS` times interleaved; the best time of each is compared.

    uv run python bench/fetch.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.site import SITE_ROOT, Site

from extractor.article import article_from_page
from extractor.fetch import Fetcher, FetchSettings

ARTICLES = 200
WORKERS = 16
ROUNDS = 3
NAMES = ["tidal-microgrids", "library-of-seeds", "quiet-freight", "reef-robots", "repair-cafe-parts"]


def serve_articles(site: Site) -> list[str]:
    urls = []
    for i in range(ARTICLES):
        name = NAMES[i % len(NAMES)]
        html = (SITE_ROOT / "articles" / f"{name}.html").read_text(encoding="utf-8")
        html = html.replace("</h1>", f" (number {i})</h1>").replace("<p>", f"<p>[{i}] ", 1)
        site.add(f"/bench/{i}/{name}", body=html.encode("utf-8"))
        urls.append(site.url(f"/bench/{i}/{name}"))
    return urls


def timed(work: Callable[[str], object], urls: list[str]) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(work, urls))
    assert len(results) == len(urls)
    return time.perf_counter() - started


def main() -> None:
    with Site() as site:
        urls = serve_articles(site)
        settings = FetchSettings(allow_hosts=[site.host_port], per_host=WORKERS, robots=True)
        best: dict[str, float] = {}
        for _ in range(ROUNDS):
            for variant in ("ours+extract", "httpx+extract", "ours", "httpx"):
                if variant.startswith("ours"):
                    with Fetcher(settings) as fetcher:
                        if variant == "ours":
                            work: Callable[[str], object] = fetcher.fetch
                        else:
                            def work(url: str, f: Fetcher = fetcher) -> object:
                                return article_from_page(f.fetch(url))
                        elapsed = timed(work, urls)
                else:
                    with httpx.Client() as client:
                        if variant == "httpx":
                            def work(url: str, c: httpx.Client = client) -> object:
                                return c.get(url).text
                        else:
                            def work(url: str, c: httpx.Client = client) -> object:
                                return trafilatura.bare_extraction(
                                    c.get(url).text, url=url, with_metadata=True, include_comments=False,
                                    include_tables=True, include_images=False,
                                )
                        elapsed = timed(work, urls)
                best[variant] = min(best.get(variant, float("inf")), elapsed)
    print(f"{ARTICLES} articles, {WORKERS} workers, best of {ROUNDS}")
    print(f"fetch+extract: fetcher {best['ours+extract']:.3f} s, plain httpx {best['httpx+extract']:.3f} s, "
          f"ratio {best['ours+extract'] / best['httpx+extract']:.2f} (goal <= 1.2)")
    print(f"fetch only:    fetcher {best['ours']:.3f} s, plain httpx {best['httpx']:.3f} s, "
          f"ratio {best['ours'] / best['httpx']:.2f}")


if __name__ == "__main__":
    main()
