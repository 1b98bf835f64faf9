"""The article's own date, author and site name: what the page states, never a date guessed from its text."""

from __future__ import annotations

from extractor.article import article_from_page
from extractor.fetch import Page
from tests.support.site import SITE_ROOT


def page(url: str, html: str) -> Page:
    return Page(url=url, final_url=url, status=200, content_type="text/html", charset="utf-8",
                content=html.encode("utf-8"), text=html, fetched_at="2025-07-01T00:00:00Z")  # fmt: skip


def test_stated_metadata_is_kept() -> None:
    html = (SITE_ROOT / "articles" / "quiet-freight.html").read_text(encoding="utf-8")
    article = article_from_page(page("https://railroadweekly.example/articles/quiet-freight/", html))
    assert (article.date, article.author, article.sitename) == ("2025-06-18", "Jonas Perälä", "Rail & Road Weekly")


def test_no_date_is_guessed_from_dates_in_the_text() -> None:
    text = "In 2019 the council met again, and the plan of 12 March 2021 was revised once more. " * 30
    html = f"<html><head><title>Plan</title></head><body><article><h1>Plan</h1><p>{text}</p></article></body></html>"
    article = article_from_page(page("https://council.example/news/plan", html))
    assert article.date is None and article.author is None
