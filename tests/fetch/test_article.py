"""Pages to article text, through the real fetcher and loopback server: each outcome the ledger records."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from extractor.article import Article, article_from_page, visible_html
from extractor.errors import NoContentError, Outcome, TooShortError, outcome_of
from extractor.fetch import Fetcher
from tests.support.site import Site

FixtureFetcher = Callable[..., Fetcher]


def test_article_text_and_metadata(site: Site, make_fetcher: FixtureFetcher) -> None:
    article = article_from_page(make_fetcher().fetch(site.url("/articles/library-of-seeds.html")))
    assert isinstance(article, Article)
    assert article.title == "Public libraries start lending seeds, soil sensors and the know-how to use them"
    assert (article.author, article.date, article.sitename) == ("Ana Beltrão", "2025-06-21", "The Civic Ledger")
    assert "citizen breeding programme" in article.text
    assert len(article.text) >= 1500 and not article.truncated
    for boilerplate in ("We use cookies", "Most read", "All rights reserved", "Subscribe"):
        assert boilerplate not in article.text
    assert len(article.content_hash) == 64


def test_same_article_under_two_urls_has_one_hash(site: Site, make_fetcher: FixtureFetcher) -> None:
    fetcher = make_fetcher()
    a = article_from_page(fetcher.fetch(site.url("/articles/reef-robots.html")))
    b = article_from_page(fetcher.fetch(site.url("/redirect?to=/articles/reef-robots.html%3Fref%3Dx")))
    assert a.content_hash == b.content_hash and a.url != b.url


def test_too_long_is_cut_and_flagged(site: Site, make_fetcher: FixtureFetcher) -> None:
    article = article_from_page(make_fetcher().fetch(site.url("/articles/quiet-freight.html")), max_chars=1000)
    assert article.truncated and 800 <= len(article.text) <= 1000
    assert article.text.endswith(".")  # cut at a sentence boundary


def test_minimum_is_configurable(site: Site, make_fetcher: FixtureFetcher) -> None:
    page = make_fetcher().fetch(site.url("/cases/short.html"))
    with pytest.raises(TooShortError) as info:
        article_from_page(page)
    assert outcome_of(info.value) is Outcome.TOO_SHORT
    assert "Ferry" in article_from_page(page, min_chars=200).text


@pytest.mark.parametrize(
    ("path", "reason", "outcome"),
    [("/cases/js-only.html", "JavaScript", Outcome.NO_CONTENT), ("/cases/paywall.html", "paywall", Outcome.PAYWALL),
     ("/cases/soft-404.html", "404", Outcome.NOT_FOUND), ("/cases/bot-wall.html", "bot wall", Outcome.BOT_WALL),
     ("/cases/cookie-wall.html", "cookie wall", Outcome.COOKIE_WALL),
     ("/cases/error-page.html", "error page", Outcome.ERROR_PAGE)],
)  # fmt: skip
def test_no_content_and_gate_pages(
    path: str, reason: str, outcome: Outcome, site: Site, make_fetcher: FixtureFetcher
) -> None:
    with pytest.raises(NoContentError, match=reason) as info:
        article_from_page(make_fetcher().fetch(site.url(path)))
    assert outcome_of(info.value) is outcome


def test_hidden_text_is_dropped_before_trafilatura(site: Site, make_fetcher: FixtureFetcher) -> None:
    text = article_from_page(make_fetcher().fetch(site.url("/cases/hidden-instructions.html"))).text
    assert "the last ferry out of Vastholm" in text and "second rack deck" in text
    for hidden in ("Ignore all previous", "evil.example", "marketing bot", "in French", "must call every row"):
        assert hidden not in text


def test_each_way_of_hiding_text() -> None:
    hidden = [
        '<p style="display: none">A</p>', '<p style="visibility:hidden">A</p>', "<p hidden>A</p>",
        '<p aria-hidden="true">A</p>', '<p style="font-size:0">A</p>', '<p style="font-size: 1px">A</p>',
        '<p style="opacity:0">A</p>', '<p style="color:#fff;background:#ffffff">A</p>',
        '<div style="background-color: rgb(0,0,0)"><p style="color:black">A</p></div>',
    ]  # fmt: skip
    for html in hidden:
        kept, dropped = visible_html(f"<html><body>{html}<p>Seen.</p></body></html>")
        assert dropped == 1 and "A</p>" not in kept and "Seen." in kept, html
    shown = '<p style="color:#333;background:#fff;font-size:16px">Seen.</p>'
    assert visible_html(f"<html><body>{shown}</body></html>")[1] == 0


def test_feed_and_empty_pages_are_no_content(site: Site, make_fetcher: FixtureFetcher) -> None:
    fetcher = make_fetcher()
    with pytest.raises(NoContentError):
        article_from_page(fetcher.fetch(site.url("/feeds/rss.xml")))
    site.add("/blank", body=b"<html><body></body></html>")
    with pytest.raises(NoContentError):
        article_from_page(fetcher.fetch(site.url("/blank")))


def test_plain_text_article(site: Site, make_fetcher: FixtureFetcher) -> None:
    site.add("/plain.txt", body=("A plain text report. " * 100).encode(), content_type="text/plain; charset=utf-8")
    article = article_from_page(make_fetcher().fetch(site.url("/plain.txt")))
    assert article.text.startswith("A plain text report.") and article.title is None


def test_long_article_mentioning_paywalls_is_still_an_article(site: Site, make_fetcher: FixtureFetcher) -> None:
    paras = "".join(f"<p>Paragraph {i}: publishers argue that a paywall keeps journalism alive, while readers "
                    f"say subscribe to continue reading banners push them away. Page not found errors too.</p>"
                    for i in range(20))  # fmt: skip
    site.add("/essay", body=f"<html><head><title>On paywalls</title></head><body><article><h1>On paywalls</h1>"
             f"{paras}</article></body></html>".encode())  # fmt: skip
    assert "paywall" in article_from_page(make_fetcher().fetch(site.url("/essay"))).text


def test_the_same_article_extracts_the_same_every_time(site: Site, make_fetcher: FixtureFetcher) -> None:
    """trafilatura's `deduplicate` keeps a process-wide cache that empties repeated text: never use it."""
    page = make_fetcher().fetch(site.url("/articles/tidal-microgrids.html"))
    texts = {article_from_page(page).text for _ in range(6)}
    assert len(texts) == 1 and len(texts.pop()) > 1500
