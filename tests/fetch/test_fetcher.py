"""The fetcher against a real loopback server: every outcome, limits, retries, charsets, robots, concurrency."""

from __future__ import annotations

import gzip
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from extractor.errors import (
    FetchTimeoutError,
    HTTPStatusError,
    NoContentError,
    Outcome,
    TooLargeError,
    UnsupportedTypeError,
    outcome_of,
)
from extractor.fetch import Fetcher, Page
from tests.support.site import SITE_ROOT, RequestHandler, Site

ARTICLE = "/articles/tidal-microgrids.html"
FixtureFetcher = Callable[..., Fetcher]


def test_ok_page(site: Site, make_fetcher: FixtureFetcher) -> None:
    page = make_fetcher().fetch(site.url(ARTICLE))
    assert isinstance(page, Page)
    assert (page.status, page.content_type, page.charset) == (200, "text/html", "utf-8")
    assert page.content == (SITE_ROOT / ARTICLE.lstrip("/")).read_bytes()
    assert "Harbour towns are wiring tidal microgrids" in page.text
    assert page.url == page.final_url == site.url(ARTICLE)
    assert page.fetched_at.endswith("Z") and not page.from_archive


def test_sends_a_clear_user_agent(site: Site, make_fetcher: FixtureFetcher) -> None:
    text = make_fetcher(user_agent="extractor-test/9 (+mailto:ops@example.org)").fetch(site.url("/echo-headers")).text
    assert "user-agent: extractor-test/9 (+mailto:ops@example.org)" in text.lower()


def test_redirects_followed_up_to_five(site: Site, make_fetcher: FixtureFetcher) -> None:
    page = make_fetcher().fetch(site.url("/redirect-chain/4"))  # 5 redirects
    assert page.final_url == site.url(ARTICLE)
    with pytest.raises(HTTPStatusError, match="redirects") as info:
        make_fetcher().fetch(site.url("/redirect-chain/5"))  # 6 redirects
    assert outcome_of(info.value) is Outcome.HTTP_ERROR
    assert info.value.status == 302 and not info.value.transient


def test_relative_redirect(site: Site, make_fetcher: FixtureFetcher) -> None:
    page = make_fetcher().fetch(site.url("/redirect?to=/articles/reef-robots.html&status=301"))
    assert page.final_url == site.url("/articles/reef-robots.html")


def test_trickling_server_is_cut_at_the_deadline(site: Site, make_fetcher: FixtureFetcher) -> None:
    fetcher = make_fetcher(deadline=1.0, read_timeout=5.0, retries=2)
    started = time.monotonic()
    with pytest.raises(FetchTimeoutError) as info:
        fetcher.fetch(site.url("/trickle?interval=0.2&bytes=50"))
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 2.5, elapsed  # the body alone would take 10 s
    assert outcome_of(info.value) is Outcome.TIMEOUT
    assert site.hits("/trickle") == 1  # a trickling server is not asked again


def test_slow_drip_cannot_stretch_the_deadline(site: Site, make_fetcher: FixtureFetcher) -> None:
    """Each byte comes just inside the read timeout; the deadline still holds to the wall clock."""
    started = time.monotonic()
    with pytest.raises(FetchTimeoutError):
        make_fetcher(deadline=1.5, read_timeout=5.0).fetch(site.url("/trickle?interval=1.2&bytes=5"))
    assert time.monotonic() - started < 2.2  # without the deadline: about 2.4 s


def test_stalled_server_times_out_and_is_retried(site: Site, make_fetcher: FixtureFetcher) -> None:
    before = site.hits("/stall")
    started = time.monotonic()
    with pytest.raises(FetchTimeoutError) as info:
        make_fetcher(read_timeout=0.3, retries=1).fetch(site.url("/stall?seconds=2"))
    assert time.monotonic() - started < 2.0
    assert info.value.transient
    assert site.hits("/stall") - before == 2


def test_gzip_bomb_stops_at_the_cap(site: Site, make_fetcher: FixtureFetcher) -> None:
    fetcher = make_fetcher(max_bytes=1_000_000)
    url = site.url("/bomb?size=50000000")
    fetcher_warm = make_fetcher(max_bytes=1_000_000)
    with pytest.raises(TooLargeError):
        fetcher_warm.fetch(url)  # builds the bomb once on the server side
    tracemalloc.start()
    try:
        with pytest.raises(TooLargeError) as info:
            fetcher.fetch(url)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert outcome_of(info.value) is Outcome.TOO_LARGE
    assert peak < 8_000_000, peak  # the body inflates to 50 MB


def test_gzip_and_deflate_pages_are_decoded(site: Site, make_fetcher: FixtureFetcher) -> None:
    body = (SITE_ROOT / ARTICLE.lstrip("/")).read_bytes()
    site.add("/gz", body=gzip.compress(body), headers={"Content-Encoding": "gzip"})
    site.add("/deflate", body=zlib.compress(body), headers={"Content-Encoding": "deflate"})
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    site.add("/raw-deflate", body=raw.compress(body) + raw.flush(), headers={"Content-Encoding": "deflate"})
    fetcher = make_fetcher()
    for path in ("/gz", "/deflate", "/raw-deflate"):
        assert fetcher.fetch(site.url(path)).content == body, path


def test_declared_length_over_the_cap(site: Site, make_fetcher: FixtureFetcher) -> None:
    site.add("/big", body=b"<html>" + b"a" * 20_000)
    with pytest.raises(TooLargeError):
        make_fetcher(max_bytes=10_000).fetch(site.url("/big"))


def test_unknown_content_encoding_is_refused(site: Site, make_fetcher: FixtureFetcher) -> None:
    site.add("/br", body=b"\x0b\x02\x80hello\x03", headers={"Content-Encoding": "br"})
    with pytest.raises(UnsupportedTypeError):
        make_fetcher().fetch(site.url("/br"))


PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + b"0" * 2000
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 2000
ZIP = b"PK\x03\x04\x14\x00\x00\x00" + b"\x00" * 2000


@pytest.mark.parametrize(
    ("name", "body", "content_type"),
    [
        ("pdf-declared", PDF, "application/pdf"),
        ("pdf-as-html", PDF, "text/html; charset=utf-8"),
        ("png-as-html", PNG, "text/html"),
        ("zip-octet", ZIP, "application/octet-stream"),
        ("zip-untyped", ZIP, None),
        ("image-declared", b"GIF89a" + b"\x00" * 100, "image/gif"),
        ("binary-as-text", b"hello\x00\x01\x02" * 300, "text/plain"),
        ("gzip-in-body", gzip.compress(b"<html>" * 1000), "text/html"),
    ],
)
def test_non_text_is_refused_whatever_the_headers_say(
    name: str, body: bytes, content_type: str | None, site: Site, make_fetcher: FixtureFetcher
) -> None:
    site.add(f"/types/{name}", body=body, content_type=content_type)
    with pytest.raises(UnsupportedTypeError) as info:
        make_fetcher().fetch(site.url(f"/types/{name}"))
    assert outcome_of(info.value) is Outcome.UNSUPPORTED_TYPE


def test_untyped_html_is_accepted_and_typed(site: Site, make_fetcher: FixtureFetcher) -> None:
    site.add("/untyped", body=(SITE_ROOT / ARTICLE.lstrip("/")).read_bytes(), content_type=None)
    assert make_fetcher().fetch(site.url("/untyped")).content_type == "text/html"


FRENCH = (
    "<p>Les élèves de l'école maternelle ont préparé une fête où l'on a mangé des crêpes, bu du café "
    "et chanté des chansons. Le maître a été très ému ; à la fin, tout le monde a applaudi. "
    "Ça s'est passé près du théâtre, derrière la forêt, où les bûcherons déjeunaient déjà.</p>"
)


@pytest.mark.parametrize(
    ("label", "content_type", "meta"),
    [
        ("header", "text/html; charset=windows-1252", ""),
        ("meta", "text/html", '<meta charset="windows-1252">'),
        ("meta-http-equiv", "text/html", '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'),
        ("wrong-header", "text/html; charset=utf-8", ""),
        ("bogus-header", "text/html; charset=x-no-such-charset", ""),
        ("missing", "text/html", ""),
    ],
)
def test_charsets(label: str, content_type: str, meta: str, site: Site, make_fetcher: FixtureFetcher) -> None:
    html = f"<html><head>{meta}<title>Fête</title></head><body>{FRENCH * 3}</body></html>"
    site.add(f"/charset/{label}", body=html.encode("cp1252"), content_type=content_type)
    page = make_fetcher().fetch(site.url(f"/charset/{label}"))
    assert "élèves de l'école maternelle" in page.text
    assert "bûcherons déjeunaient" in page.text
    assert "\ufffd" not in page.text


def test_utf8_with_a_bom_and_no_declaration(site: Site, make_fetcher: FixtureFetcher) -> None:
    site.add("/bom", body="\ufeff<html><body>日本語のテキスト 🌊</body></html>".encode(), content_type="text/html")
    page = make_fetcher().fetch(site.url("/bom"))
    assert page.text.startswith("<html>") and "日本語のテキスト 🌊" in page.text


def test_retries_5xx_then_succeeds(site: Site, make_fetcher: FixtureFetcher) -> None:
    page = make_fetcher(retries=2).fetch(site.url("/flaky/a?fail=2&status=503"))
    assert page.status == 200
    assert site.hits("/flaky/a") == 3


@pytest.mark.parametrize("status", [408, 429, 500, 502, 504])
def test_retryable_statuses(status: int, site: Site, make_fetcher: FixtureFetcher) -> None:
    assert make_fetcher(retries=1).fetch(site.url(f"/flaky/s{status}?fail=1&status={status}")).status == 200
    assert site.hits(f"/flaky/s{status}") == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451])
def test_other_4xx_are_not_retried(status: int, site: Site, make_fetcher: FixtureFetcher) -> None:
    before = site.hits(f"/status/{status}")
    with pytest.raises(HTTPStatusError) as info:
        make_fetcher(retries=3).fetch(site.url(f"/status/{status}"))
    assert info.value.status == status and not info.value.transient
    assert outcome_of(info.value) is Outcome.HTTP_ERROR
    assert site.hits(f"/status/{status}") - before == 1


def test_retries_run_out(site: Site, make_fetcher: FixtureFetcher) -> None:
    before = site.hits("/status/503")
    with pytest.raises(HTTPStatusError) as info:
        make_fetcher(retries=2).fetch(site.url("/status/503"))
    assert info.value.status == 503 and info.value.transient
    assert site.hits("/status/503") - before == 3


def test_retry_after_is_honoured(site: Site, make_fetcher: FixtureFetcher) -> None:
    started = time.monotonic()
    page = make_fetcher(retries=1).fetch(site.url("/flaky/ra?fail=1&status=429&retry_after=1"))
    assert page.status == 200
    assert time.monotonic() - started >= 1.0


def test_retry_after_beyond_the_cap_is_not_waited_for(site: Site, make_fetcher: FixtureFetcher) -> None:
    started = time.monotonic()
    with pytest.raises(HTTPStatusError) as info:
        make_fetcher(retries=3, retry_after_max=5).fetch(site.url("/flaky/long?fail=1&status=429&retry_after=3600"))
    assert time.monotonic() - started < 2.0
    assert info.value.status == 429 and info.value.transient
    assert site.hits("/flaky/long") == 1


def test_204_is_no_content(site: Site, make_fetcher: FixtureFetcher) -> None:
    site.add("/empty", status=204, content_type=None)
    with pytest.raises(NoContentError):
        make_fetcher().fetch(site.url("/empty"))


def test_refused_connection_is_an_http_error(make_fetcher: FixtureFetcher) -> None:
    unused = Site()
    url, host_port = unused.url("/"), unused.host_port
    unused.stop()  # the port is now closed
    with pytest.raises(HTTPStatusError) as info:
        make_fetcher(allow_hosts=[host_port]).fetch(url)
    assert info.value.status == 0 and outcome_of(info.value) is Outcome.HTTP_ERROR


def _concurrency_probe(site: Site, path: str) -> dict[str, int]:
    state = {"now": 0, "max": 0}
    lock = threading.Lock()

    def handler(req: RequestHandler) -> None:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.15)
        with lock:
            state["now"] -= 1
        req.send(200, b"<html><body>ok</body></html>")

    site.add(path, handler)
    return state


@pytest.mark.parametrize("per_host", [1, 3])
def test_per_host_limit(per_host: int, site: Site, make_fetcher: FixtureFetcher) -> None:
    state = _concurrency_probe(site, f"/probe{per_host}")
    fetcher = make_fetcher(per_host=per_host)
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(fetcher.fetch, [site.url(f"/probe{per_host}?n={i}") for i in range(6)]))
    assert state["max"] == per_host


def test_one_fetcher_shared_by_many_threads(site: Site, make_fetcher: FixtureFetcher) -> None:
    fetcher = make_fetcher(per_host=16)
    names = ["tidal-microgrids", "library-of-seeds", "quiet-freight", "reef-robots", "repair-cafe-parts"]
    urls = [site.url(f"/articles/{names[i % 5]}.html?copy={i}") for i in range(60)]
    with ThreadPoolExecutor(16) as pool:
        pages = list(pool.map(fetcher.fetch, urls))
    assert [p.url for p in pages] == urls
    assert all(names[i % 5].split("-")[0] in p.final_url for i, p in enumerate(pages))


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.fetch import FetchSettings

    monkeypatch.setenv("EXTRACTOR_DEADLINE", "7.5")
    monkeypatch.setenv("EXTRACTOR_PER_HOST", "4")
    monkeypatch.setenv("EXTRACTOR_MAX_BYTES", "1234")
    monkeypatch.setenv("EXTRACTOR_ROBOTS", "false")
    s = FetchSettings()
    assert (s.deadline, s.per_host, s.max_bytes, s.robots) == (7.5, 4, 1234, False)
