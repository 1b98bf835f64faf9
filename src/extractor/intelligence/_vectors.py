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
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stem(word: str) -> str:
    """A light, language-agnostic suffix stripper for English and French: plurals and common endings."""
    for suffix in _SUFFIXES:
        if len(word) - len(suffix) >= 3 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
    return word


def content_words(text: str) -> list[str]:
    return [w for w in _TOKEN.findall(fold(text)) if w not in STOP_WORDS and (len(w) > 1 or not w.isascii())]


def features(text: str) -> list[tuple[str, float]]:
    """Weighted features of one text: stemmed words and word pairs, and character n-grams of the words."""
    words = content_words(text)
    stems = [stem(w) for w in words]
    word_counts = Counter(stems)
    word_counts.update(f"{a}_{b}" for a, b in itertools.pairwise(stems))
    gram_counts: Counter[str] = Counter()
    for w in words:
        padded = f" {w} "
        for n in (3, 4, 5):
            gram_counts.update(padded[i : i + n] for i in range(len(padded) - n + 1))
    out: list[tuple[str, float]] = []
    for counts, weight, prefix in ((word_counts, WORD_WEIGHT, "w"), (gram_counts, 1 - WORD_WEIGHT, "c")):
        if not counts:
            continue
        values = {k: 1.0 + math.log(v) for k, v in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values()))
        scale = math.sqrt(weight) / norm
        out.extend((f"{prefix}{k}", v * scale) for k, v in values.items())
    return out


def _hashed(feats: list[tuple[str, float]], dims: int) -> tuple[list[int], list[float]]:
    # crc32 is stable across processes and Python versions (unlike hash()); its low bits pick the dimension and
    # bit 31 the sign, so that collisions cancel out in expectation instead of adding up.
    index: list[int] = []
    value: list[float] = []
    mask = dims - 1
    for name, weight in feats:
        h = zlib.crc32(name.encode("utf-8"))
        index.append(h & mask)
        value.append(-weight if h & 0x80000000 else weight)
    return index, value


def vectors(texts: Sequence[str], dims: int) -> Matrix:
    """One L2-normalised float32 row per text (a text with no content word is a zero row). `dims`: a power of 2."""
    import numpy as np

    matrix = np.zeros((len(texts), dims), dtype=np.float32)
    for n, text in enumerate(texts):
        index, value = _hashed(features(text), dims)
        if index:
            np.add.at(matrix[n], np.asarray(index, dtype=np.intp), np.asarray(value, dtype=np.float32))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: Matrix = matrix / norms
    return result


def similarities(queries: Matrix, corpus: Matrix) -> Matrix:
    """Cosine similarities, rounded to 5 decimals so that the same pair scores the same in any batch."""
    import numpy as np

    sims: Matrix = np.round(queries @ corpus.T, 5)
    return sims
