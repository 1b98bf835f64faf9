"""The SSRF guard, seen from outside: what is refused, and that a refused URL never reaches the server."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest

from extractor.errors import BlockedError, FetchError, Outcome, outcome_of
from extractor.fetch import Fetcher, FetchSettings, non_public_reason
from tests.support.site import Site


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
     "::1", "::", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::1",
     "64:ff9b::a00:1", "224.0.0.1", "240.0.0.1", "192.0.2.1"],
)  # fmt: skip
def test_non_public_addresses_are_named(address: str) -> None:
    assert non_public_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "1.1.1.1"])
def test_public_addresses_pass(address: str) -> None:
    assert non_public_reason(ipaddress.ip_address(address)) is None


def spellings(port: int) -> list[str]:
    """Ways to write the loopback server's address that are not the allow-listed `127.0.0.1:port`."""
    return [
        f"http://localhost:{port}/articles/tidal-microgrids.html",
        f"http://2130706433:{port}/articles/tidal-microgrids.html",
        f"http://0x7f000001:{port}/articles/tidal-microgrids.html",
        f"http://0177.0.0.1:{port}/articles/tidal-microgrids.html",
        f"http://127.1:{port}/articles/tidal-microgrids.html",
        f"http://127.0.0.2:{port}/articles/tidal-microgrids.html",
        f"http://0.0.0.0:{port}/articles/tidal-microgrids.html",
        f"http://[::ffff:127.0.0.1]:{port}/articles/tidal-microgrids.html",
        f"http://[::ffff:7f00:1]:{port}/articles/tidal-microgrids.html",
        f"http://LocalHost:{port}/articles/tidal-microgrids.html",
    ]


def test_every_spelling_of_loopback_is_refused_without_a_request(
    site: Site, make_fetcher: Callable[..., Fetcher]
) -> None:
    fetcher = make_fetcher()
    before = len(site.requests)
    for url in spellings(site.port):
        with pytest.raises(BlockedError) as info:
            fetcher.fetch(url)
        assert outcome_of(info.value) is Outcome.BLOCKED, url
    assert len(site.requests) == before


def test_without_allow_list_even_the_listed_server_is_refused(site: Site) -> None:
    with Fetcher(FetchSettings(robots=False)) as fetcher, pytest.raises(BlockedError, match="loopback"):
        fetcher.fetch(site.url("/articles/tidal-microgrids.html"))


def test_allow_list_is_per_port(site: Site, make_fetcher: Callable[..., Fetcher]) -> None:
    with Site() as other:
        fetcher = make_fetcher()
        with pytest.raises(BlockedError):
            fetcher.fetch(other.url("/articles/tidal-microgrids.html"))
        assert other.requests == []


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/", "http://192.168.0.1/admin",
     "http://100.64.0.1/", "http://[fd00::1]/", "http://[fe80::1]/", "http://[::]/", "http://0/",
     "ftp://example.org/file", "file:///etc/passwd", "gopher://example.org/", "javascript:alert(1)",
     "data:text/html,hi", "//example.org/no-scheme"],
)  # fmt: skip
def test_private_targets_and_other_schemes_are_refused(url: str, make_fetcher: Callable[..., Fetcher]) -> None:
    with pytest.raises(BlockedError):
        make_fetcher(connect_timeout=0.5).fetch(url)


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data/", "http://2130706433:{port}/", "http://localhost:{port}/",
     "file:///etc/passwd", "ftp://example.org/", "http://[::1]:{port}/", "http://10.1.2.3/"],
)  # fmt: skip
def test_redirects_to_forbidden_targets_are_refused(
    target: str, site: Site, make_fetcher: Callable[..., Fetcher]
) -> None:
    target = target.format(port=site.port)
    before = len(site.requests)
    with pytest.raises(BlockedError):
        make_fetcher(connect_timeout=0.5).fetch(site.url("/redirect?to=" + target))
    assert len(site.requests) == before + 1  # only the redirect itself was served


def test_redirect_to_another_loopback_port_never_reaches_it(site: Site, make_fetcher: Callable[..., Fetcher]) -> None:
    with Site() as other:
        with pytest.raises(BlockedError):
            make_fetcher().fetch(site.url("/redirect?to=" + other.url("/articles/tidal-microgrids.html")))
        assert other.requests == []


def test_a_name_resolving_to_any_private_address_is_refused(site: Site, make_fetcher: Callable[..., Fetcher]) -> None:
    fetcher = make_fetcher(resolver=lambda host, port: ["93.184.216.34", "10.0.0.7"])
    with pytest.raises(BlockedError, match="private"):
        fetcher.fetch("http://mixed.example/")


def test_connects_to_the_checked_address_with_the_original_host_header(site: Site) -> None:
    calls: list[str] = []
    answers = iter([["127.0.0.1"], ["10.0.0.9"], ["10.0.0.9"]])  # a rebinding name: loopback once, then private

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    settings = FetchSettings(allow_hosts=[f"news.test:{site.port}"], robots=False, backoff=0.01)
    with Fetcher(settings, resolver=resolver) as fetcher:
        page = fetcher.fetch(f"http://news.test:{site.port}/echo-headers")
        again = fetcher.fetch(f"http://news.test:{site.port}/echo-headers")  # kept-alive connection
    assert f"host: news.test:{site.port}" in page.text.lower()
    assert again.status == 200
    assert calls == ["news.test"]  # resolved once, connected to what was checked


def test_allow_listed_name_still_refused_when_it_resolves_off_loopback(site: Site) -> None:
    settings = FetchSettings(allow_hosts=[f"news.test:{site.port}"], robots=False)
    with Fetcher(settings, resolver=lambda h, p: ["10.0.0.9"]) as fetcher, pytest.raises(BlockedError):
        fetcher.fetch(f"http://news.test:{site.port}/")


def test_ipv6_loopback_server_admitted_only_when_listed() -> None:
    try:
        server = Site(host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with server:
        with Fetcher(FetchSettings(robots=False)) as fetcher, pytest.raises(BlockedError):
            fetcher.fetch(server.url("/articles/tidal-microgrids.html"))
        with Fetcher(FetchSettings(allow_hosts=[server.host_port], robots=False)) as fetcher:
            assert fetcher.fetch(server.url("/articles/tidal-microgrids.html")).status == 200


def test_allow_hosts_from_the_environment(monkeypatch: pytest.MonkeyPatch, site: Site) -> None:
    monkeypatch.setenv("EXTRACTOR_ALLOW_HOSTS", f"{site.host_port}, other.test:1")
    monkeypatch.setenv("EXTRACTOR_ROBOTS", "false")
    settings = FetchSettings()
    assert settings.allow_hosts == {site.host_port, "other.test:1"}
    with Fetcher(settings) as fetcher:
        assert fetcher.fetch(site.url("/articles/reef-robots.html")).status == 200


def test_malformed_allow_hosts_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACTOR_ALLOW_HOSTS", "127.0.0.1")
    with pytest.raises(ValueError, match="host:port"):
        FetchSettings()


@pytest.mark.parametrize("url", ["http://[::1/", "http://example.org:99999/", "http://example.org:port/", "http:///x"])
def test_malformed_urls_are_refused(url: str, make_fetcher: Callable[..., Fetcher]) -> None:
    with pytest.raises(BlockedError):
        make_fetcher().fetch(url)


@pytest.mark.parametrize("target", ["http://[::1/", "http://example.org:99999/", "http://"])
def test_malformed_redirects_are_typed_failures(target: str, site: Site, make_fetcher: Callable[..., Fetcher]) -> None:
    with pytest.raises(FetchError) as info:
        make_fetcher().fetch(site.url("/redirect?to=" + target))
    assert outcome_of(info.value) in (Outcome.BLOCKED, Outcome.HTTP_ERROR)


def test_proxy_environment_is_ignored(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy would resolve and connect out of the guard's reach: the fetcher always connects itself."""
    with Site() as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy.base_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with Fetcher(FetchSettings(allow_hosts=[site.host_port], robots=False)) as fetcher:
            assert fetcher.fetch(site.url("/articles/reef-robots.html")).status == 200
        assert proxy.requests == []
