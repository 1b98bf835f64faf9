"""Text -> vector, the same way for every scan and every signal row, whatever else the archive holds.

The representation is stateless on purpose: a vector depends on its own text only (no vocabulary, no IDF fitted
to the corpus), so adding one scan never changes the vectors of the others, an incremental update gives exactly
what a rebuild gives, and nothing has to be refitted. It is TF-IDF's word + character n-gram recipe without the
IDF: accents folded, English and French stop words dropped, a light suffix stemmer for words, character 3-5-grams
of each content word (they match inflections, compounds and scripts without spaces), sublinear counts, each part
normalised, all of it hashed with signs into a small dense space (the hashing trick: inner products are kept in
expectation, error about 1/sqrt(dims)). docs/intelligence.md gives the measurements behind the choice.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from extractor.intelligence._words import STOP_WORDS

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Matrix = npt.NDArray[np.float32]

#: Dimensions: signal rows are short (a name and a sentence), scans are long.
ROW_DIMS = 512
DOC_DIMS = 1024
#: How much of a vector's weight goes to whole words; the rest to character n-grams.
WORD_WEIGHT = 0.5

_TOKEN = re.compile(r"\w+", re.UNICODE)
_SUFFIXES = ("ements", "ement", "ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "es", "ed", "s", "x")


def fold(text: str) -> str:
    """Lower case without accents: `Vélos-cargos` and `velos cargos` are the same words."""
    text = text.casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """A light, language-agnostic suffix stripper for English and French: plurals and common endings."""
    for suffix in _SUFFIXES:
        if len(word) - len(suffix) >= 3 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
    return word


def content_words(text: str) -> list[str]:
    return [w for w in _TOKEN.findall(fold(text)) if w not in STOP_WORDS and (len(w) > 1 or not w.isascii())]


@functools.lru_cache(maxsize=400_000)
def _crc(feature: str) -> int:
    # crc32 is stable across processes and Python versions (unlike hash()): its low bits pick the dimension
    # and bit 31 the sign, so that collisions cancel out in expectation instead of adding up.
    return zlib.crc32(feature.encode("utf-8"))


@functools.lru_cache(maxsize=100_000)
def _grams(word: str) -> tuple[int, ...]:
    """Hashes of the character 3-, 4- and 5-grams of a word, padded with a space either side."""
    padded = f" {word} "
    return tuple(_crc("c" + padded[i : i + n]) for n in (3, 4, 5) for i in range(len(padded) - n + 1))


def _signed(hashes: Sequence[int], weights: Sequence[float], dims: int) -> npt.NDArray[np.float64]:
    """The hashed features as one dense vector of `dims`, L2-normalised (zero when empty)."""
    import numpy as np

    h = np.asarray(hashes, dtype=np.uint32)
    w = np.asarray(weights, dtype=np.float64)
    w = np.where(h & np.uint32(0x80000000), -w, w)
    dense = np.bincount((h & np.uint32(dims - 1)).astype(np.intp), weights=w, minlength=dims).astype(np.float64)
    norm = float(np.linalg.norm(dense))
    result: npt.NDArray[np.float64] = dense / norm if norm else dense
    return result


def vector(text: str, dims: int) -> npt.NDArray[np.float64]:
    """One text's vector: stemmed words and word pairs (weight WORD_WEIGHT), character n-grams of the words
    (the rest), each part from sublinear counts and normalised, the whole normalised."""
    import numpy as np

    words = content_words(text)
    if not words:
        return np.zeros(dims)
    stems = [stem(w) for w in words]
    word_counts = Counter(stems)
    word_counts.update(f"{a}_{b}" for a, b in itertools.pairwise(stems))
    word_part = _signed([_crc("w" + k) for k in word_counts], [1.0 + math.log(c) for c in word_counts.values()], dims)
    hashes: list[int] = []
    weights: list[float] = []
    for w, c in Counter(words).items():
        grams = _grams(w)
        hashes.extend(grams)
        weights.extend([1.0 + math.log(c)] * len(grams))
    gram_part = _signed(hashes, weights, dims)
    both = math.sqrt(WORD_WEIGHT) * word_part + math.sqrt(1 - WORD_WEIGHT) * gram_part
    norm = float(np.linalg.norm(both))
    result: npt.NDArray[np.float64] = both / norm if norm else both
    return result


def vectors(texts: Sequence[str], dims: int) -> Matrix:
    """One L2-normalised float32 row per text (a text with no content word is a zero row). `dims`: a power of 2."""
    import numpy as np

    matrix = np.zeros((len(texts), dims), dtype=np.float32)
    for n, text in enumerate(texts):
        matrix[n] = vector(text, dims)
    return matrix


def similarities(queries: Matrix, corpus: Matrix) -> Matrix:
    """Cosine similarities, rounded to 5 decimals so that the same pair scores the same in any batch."""
    import numpy as np

    sims: Matrix = np.round(queries @ corpus.T, 5)
    return sims
