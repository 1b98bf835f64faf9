"""The site in a real browser (Debian's headless Chromium driven by playwright): the pages load without console
errors, search finds a fixture's keyword, the signals explorer filters and links, every internal link resolves,
and model text shows as text. Screenshots of each page go to `.artifacts/site/` for a person to look at."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from tests.site.conftest import HOSTILE_TITLE, KEYWORD, ROOT, Built

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / ".artifacts" / "site"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed (apt-get install chromium; CI installs it)", allow_module_level=True)

from playwright.sync_api import BrowserContext, Page, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def context() -> Iterator[BrowserContext]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=FLAGS, headless=True, viewport={"width": 1280, "height": 900}
        )
        try:
            yield ctx
        finally:
            ctx.close()


class Watched:
    """A page whose console errors, uncaught exceptions, failed requests and dialogs are recorded."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base, self.problems, self.dialogs = page, base, list[str](), list[str]()
        page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url}"))
        page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def open(self, path: str) -> Page:
        self.page.goto(f"{self.base}/{path}", wait_until="load")
        return self.page

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


@pytest.fixture
def watched(context: BrowserContext, served: str) -> Iterator[Watched]:
    page = context.new_page()
    try:
        yield Watched(page, served)
    finally:
        page.close()


def test_home_scan_explorer_charts_and_search_load_cleanly(watched: Watched, built: Built) -> None:
    pages = {
        "home": "index.html",
        "scan": f"scans/{built.ids['article-harbour-heat']}.html",
        "signals": "signals.html",
        "charts": "charts.html",
        "search": f"search.html?q={KEYWORD}",
        "tags": "tags.html",
        "issue": "issues/" + next((built.dest / "issues").glob("20261102a-*.html")).name,
        "timeline": "timelines/" + next((built.dest / "timelines").glob("*.html")).name,
    }
    for name, path in pages.items():
        page = watched.open(path)
        if name == "search":
            page.wait_for_selector(".pagefind-ui__result")
        if name == "signals":
            page.wait_for_selector("#xs-signals tbody tr")
        watched.shot(name)
        assert page.locator("h1").first.is_visible()
    assert watched.problems == []


def test_dark_mode_screenshots(context: BrowserContext, served: str, built: Built) -> None:
    page = context.new_page()
    try:
        page.emulate_media(color_scheme="dark")
        page.goto(f"{served}/index.html")
        page.evaluate("localStorage.clear()")  # the theme remembers the light palette of the pages seen before
        for name, path in (("home-dark", "index.html"), ("charts-dark", "charts.html"),
                           ("scan-dark", f"scans/{built.ids['article-soil-sensors']}.html")):
            page.goto(f"{served}/{path}")
            # The theme follows the system's dark preference once its script has run.
            page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'", timeout=10_000)
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    finally:
        page.close()


def test_search_finds_a_fixture_keyword(watched: Watched, built: Built) -> None:
    page = watched.open("search.html")
    page.fill(".pagefind-ui__search-input", KEYWORD)
    first = page.wait_for_selector(".pagefind-ui__result-link")
    assert first.inner_text() == HOSTILE_TITLE  # the hostile scan's title, as text
    first.click()
    page.wait_for_url(f"**/scans/{built.ids['hostile']}.html")
    # A word that is only in a table row of one fixture article.
    page = watched.open("search.html?q=herring")
    links = page.wait_for_selector(".pagefind-ui__result-link")
    assert "harbour water" in links.inner_text()
    watched.shot("search-results")
    assert watched.problems == []


def test_signals_explorer_filters_sorts_and_links(watched: Watched, built: Built) -> None:
    page = watched.open("signals.html")
    rows = page.locator("#xs-signals tbody tr")
    rows.first.wait_for()
    total = rows.count()
    assert total > 20
    page.select_option("select[name=category]", "technology")
    page.fill("input[name=q]", "kelp")
    assert rows.count() == 1
    assert rows.first.locator("td").first.inner_text() == "Cells from kelp </td></tr>"
    page.fill("input[name=q]", "")
    page.select_option("select[name=category]", "")
    page.select_option("select[name=status]", "strengthening")
    # The snapshot's strengthening signal was met in two scans, under two names.
    names = sorted(page.locator("#xs-signals tbody tr td:first-child").all_inner_texts())
    assert names == ["Commodity sensors in agriculture", "Heat tanks as grid batteries"]
    page.select_option("select[name=status]", "")
    page.select_option("select[name=relevancy]", "5")
    relevancies = [int(t) for t in page.locator("#xs-signals tbody tr td:nth-child(3)").all_inner_texts()]
    assert relevancies and all(r >= 5 for r in relevancies) and len(relevancies) < total
    page.select_option("select[name=relevancy]", "")
    page.click("#xs-signals th[data-key='0']")  # sort by name, ascending
    names = page.locator("#xs-signals tbody tr td:first-child").all_inner_texts()
    assert names == sorted(names)
    watched.shot("signals-sorted")
    page.locator("#xs-signals tbody tr a").first.click()
    page.wait_for_url("**/scans/*.html")
    assert watched.problems == []


def test_model_text_shows_as_text_and_runs_nothing(watched: Watched, built: Built) -> None:
    page = watched.open(f"scans/{built.ids['hostile']}.html")
    assert page.locator("h1").first.inner_text() == HOSTILE_TITLE
    assert page.title().startswith("<script>window.pwned = 1</script>")
    assert page.evaluate("window.pwned === undefined")
    assert page.locator("text=[click me](javascript:window.pwned=3)").count() == 1
    page.click("details.xs-evidence summary")
    assert page.locator("details.xs-evidence blockquote").inner_text() == "<script>quote</script> kelp"
    watched.shot("hostile-scan")
    assert watched.dialogs == [] and watched.problems == []


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and ((tag == "a" and name == "href") or (tag in ("script", "img", "link") and name in ("src", "href"))):
                self.found.append(value)


def test_every_internal_link_resolves(built: Built, watched: Watched) -> None:
    broken: list[str] = []
    checked = 0
    for html in built.dest.rglob("*.html"):
        if "pagefind" in html.parts:
            continue
        parser = _Links()
        parser.feed(html.read_text(encoding="utf-8"))
        for link in parser.found:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("#"):
                continue  # another site (the articles, the newsletter) or a place on this page
            path = unquote(parts.path)
            # Only the 404 page links from the site's root (it is served for any missing path).
            target = (built.dest / path.lstrip("/") if path.startswith("/") else html.parent / path).resolve() if path else html
            checked += 1
            if not target.is_file() and not (target / "index.html").is_file():
                broken.append(f"{html.relative_to(built.dest)} -> {link}")
    assert checked > 500 and broken == []
    # Links made by script (the explorer's rows) resolve too.
    page = watched.open("signals.html")
    page.locator("#xs-signals tbody tr").first.wait_for()
    hrefs = page.eval_on_selector_all("#xs-signals tbody a", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs
    for href in set(hrefs):
        response = page.request.get(urljoin(watched.base + "/signals.html", href))
        assert response.status == 200, href
