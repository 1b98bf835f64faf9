"""Candidate evidence quotes for grammar-constrained backends: the article's own sentences.

A small model asked to "copy a passage word for word" paraphrases or repeats itself. When the backend turns the
answer schema into a grammar (llama.cpp), the evidence field can instead be an `enum` of sentences cut from the
article the model actually received: every quote is then verbatim by construction, and grounding still checks it
the same way as for every other backend (it cannot fail on a quote the article contains, and that is the point).
The model still chooses which sentence backs which row.
"""

from __future__ import annotations

import re

from extractor.extract._grounding import MIN_WORDS

#: At most this many candidates: each is a literal in the grammar, which must stay small (a 37 kB grammar once
#: crashed llama.cpp's server) and the prompt does not carry them, only the schema does.
MAX_QUOTES = 40
#: Longer sentences are left out (they cost answer tokens and exceed the quote limit).
MAX_WORDS = 18
#: Shorter ones prove little; the grounder's own minimum is lower.
MIN_QUOTE_WORDS = max(MIN_WORDS, 6)

_EDGE_QUOTES = "\"“”«» "
_UNSAFE = re.compile(r'["\\\x00-\x1f]')
_SENTENCE = re.compile(r"(?<=[.!?…])[\"'»”’)]*\s+|\n+")


def candidate_quotes(article: str, *, limit: int = MAX_QUOTES) -> list[str]:
    """Sentences of `article` of a usable length, in article order, spread evenly when there are too many."""
    seen: set[str] = set()
    found: list[str] = []
    for raw in _SENTENCE.split(article):
        sentence = " ".join(raw.split()).strip(_EDGE_QUOTES)
        words = len(sentence.split())
        # Measured: an enum literal holding an escaped double quote crashed llama.cpp's sampler (SIGSEGV), so
        # sentences with a double quote or backslash inside are left out (the edges were stripped above).
        if MIN_QUOTE_WORDS <= words <= MAX_WORDS and sentence not in seen and not _UNSAFE.search(sentence):
            seen.add(sentence)
            found.append(sentence)
    if len(found) <= limit:
        return found
    step = len(found) / limit
    return [found[int(i * step)] for i in range(limit)]
