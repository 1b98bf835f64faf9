"""The safe fetcher: URLs to `Page`s, guarded against SSRF, slow and huge responses, binaries and retry storms.

Public: `Fetcher`, `FetchSettings`, `Page`, `WebArchive`. Never parses HTML (see `extractor.article` for that).
"""

from extractor.fetch._archive import WebArchive
from extractor.fetch._fetcher import Fetcher
from extractor.fetch._guard import non_public_reason
from extractor.fetch._page import Page
from extractor.fetch._settings import FetchSettings

__all__ = ["FetchSettings", "Fetcher", "Page", "WebArchive", "non_public_reason"]
