"""Sources: a newsletter post, an RSS/Atom feed, a markdown draft or a single URL, to deduplicated `Link`s."""

from extractor.sources._feed import links_from_feed
from extractor.sources._html import links_from_newsletter
from extractor.sources._link import Link, date_of_issue, dedupe, origin_of, single_link
from extractor.sources._markdown import links_from_markdown
from extractor.sources._read import SourceLinks, read_source, source_notes

__all__ = [
    "Link",
    "SourceLinks",
    "date_of_issue",
    "dedupe",
    "links_from_feed",
    "links_from_markdown",
    "links_from_newsletter",
    "origin_of",
    "read_source",
    "single_link",
    "source_notes",
]
