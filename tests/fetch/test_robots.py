from __future__ import annotations

from collections.abc import Iterator

import pytest

from extractor.errors import BlockedError
from extractor.fetch import Fetcher
from tests.support.site import Site

ROBOTS = b"User-agent: otherbot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\nDisallow: /no-extractor/\n"


@pytest.fixture
def robots_site() -> Iterator[Site]:
    site = Site().start()
    site.add("/robots.txt", body=ROBOTS, content_type="text/plain")
    site.add("/private/page", body=b"<html><body>secret</body></html>")
    site.add("/no-extractor/page", body=b"<html><body>not for us</body></html>")
    site.add("/public/page", body=b"<html><body>hello</body></html>")
    yield site
    site.stop()


def test_robots_rules_honoured(robots_site: Site) -> None:
    from tests.fetch.conftest import fast_settings

    with Fetcher(fast_settings(robots_site, robots=True)) as fetcher:
        assert fetcher.fetch(robots_site.url("/public/page")).status == 200
        for path in ("/private/page", "/no-extractor/page"):
            with pytest.raises(BlockedError, match="robots"):
                fetcher.fetch(robots_site.url(path))
        assert fetcher.fetch(robots_site.url("/public/page?again=1")).status == 200
    assert robots_site.hits("/robots.txt") == 1
    assert robots_site.hits("/private/page") == 0


def test_robots_group_for_our_agent(robots_site: Site) -> None:
    from tests.fetch.conftest import fast_settings

    robots_site.add("/robots.txt", body=b"User-agent: *\nDisallow: /\n\nUser-agent: extractor\nDisallow: /private/\n")
    with Fetcher(fast_settings(robots_site, robots=True)) as fetcher:
        assert fetcher.fetch(robots_site.url("/public/page")).status == 200  # our group allows it
        with pytest.raises(BlockedError):
            fetcher.fetch(robots_site.url("/private/page"))


def test_robots_disabled(robots_site: Site) -> None:
    from tests.fetch.conftest import fast_settings

    with Fetcher(fast_settings(robots_site, robots=False)) as fetcher:
        assert fetcher.fetch(robots_site.url("/private/page")).status == 200
    assert robots_site.hits("/robots.txt") == 0


@pytest.mark.parametrize(("status", "allowed"), [(404, True), (500, True), (403, False), (401, False)])
def test_robots_file_errors(status: int, allowed: bool) -> None:
    from tests.fetch.conftest import fast_settings

    with Site() as site, Fetcher(fast_settings(site, robots=True, retries=0)) as fetcher:
        site.add("/robots.txt", status=status, body=b"no")
        site.add("/page", body=b"<html><body>hi</body></html>")
        if allowed:
            assert fetcher.fetch(site.url("/page")).status == 200
        else:
            with pytest.raises(BlockedError):
                fetcher.fetch(site.url("/page"))


def test_robots_wildcard_and_end_anchor_rules(robots_site: Site) -> None:
    # `Disallow: /*.pdf$` must stop a PDF anywhere, and only a URL ending in .pdf; the longest rule wins.
    from tests.fetch.conftest import fast_settings

    robots_site.add(
        "/robots.txt",
        body=b"User-agent: *\nDisallow: /*.pdf$\nDisallow: /drafts/*/edit\nDisallow: /public/\nAllow: /public/page\n",
        content_type="text/plain",
    )
    robots_site.add("/papers/report.pdf", body=b"%PDF-1.4", content_type="application/pdf")
    robots_site.add("/drafts/7/edit", body=b"<html><body>draft</body></html>")
    with Fetcher(fast_settings(robots_site, robots=True)) as fetcher:
        for path in ("/papers/report.pdf", "/drafts/7/edit"):
            with pytest.raises(BlockedError, match="robots"):
                fetcher.fetch(robots_site.url(path))
        assert fetcher.fetch(robots_site.url("/public/page")).status == 200  # the longer Allow wins
    assert robots_site.hits("/papers/report.pdf") == 0 and robots_site.hits("/drafts/7/edit") == 0
