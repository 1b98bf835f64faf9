"""Checking that a quote the model gives as evidence is really in the article.

Models re-type quotes: curly quotes become straight, dashes change, whitespace folds, a word drifts. Both sides
are normalised the same way, an exact hit is tried first, and a fuzzy partial match (rapidfuzz) tolerates small
drift without accepting a paraphrase.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

#: partial_ratio at or above this counts as found. 90 lets a word or two of drift through, not a paraphrase.
MIN_SCORE = 90.0
#: A quote shorter than this many words proves nothing ("the", "AI").
MIN_WORDS = 4

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "«": '"', "»": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
        "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u200b": "",
    }
)  # fmt: skip
_SPACE = re.compile(r"\s+")
_EDGES = " \"'.,;:!?…-"
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)


def normalize(text: str) -> str:
    """Folds what a model is likely to re-type differently: case, quotes, dashes, spaces, compatibility forms."""
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE).casefold()
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Match:
    verified: bool
    score: float
    reason: str = ""


class Grounder:
    """One article, normalised once, against which any number of quotes and URLs are checked."""

    def __init__(self, article: str) -> None:
        self.article = article
        self._norm = normalize(article)
        self._urls = {u.rstrip(".,;:!?") for u in _URL.findall(article)}

    def check(self, quote: str) -> Match:
        q = normalize(quote).strip(_EDGES)
        if len(q.split()) < MIN_WORDS:
            return Match(False, 0.0, f"the quote has fewer than {MIN_WORDS} words")
        if q in self._norm:
            return Match(True, 100.0)
        # Quotes stitched with an ellipsis: every piece must be found.
        pieces = [p.strip(_EDGES) for p in re.split(r"\.\.\.|…", q) if p.strip(_EDGES)]
        if len(pieces) > 1 and all(len(p.split()) >= 2 and p in self._norm for p in pieces):
            return Match(True, 100.0)
        score = float(fuzz.partial_ratio(q, self._norm))
        if score >= MIN_SCORE:
            return Match(True, round(score, 1))
        return Match(False, round(score, 1), "not found in the article")

    def foreign_urls(self, text: str) -> list[str]:
        """URLs in `text` that the article does not contain."""
        found = []
        for url in _URL.findall(text):
            url = url.rstrip(".,;:!?")
            if url not in self._urls and url not in self.article:
                found.append(url)
        return found
