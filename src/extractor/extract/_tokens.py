"""Counting and cutting tokens before a call, so a long article is cut where we choose (and flagged), not
silently by the server.

The embedded model's own tokenizer (read from its GGUF, vocabulary only) is used when the local extra is
installed; otherwise an estimate of four characters per token, which is close for English BPE vocabularies.
tiktoken is not used: it downloads its vocabularies at run time, and extractor must work offline.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Protocol

CHARS_PER_TOKEN = 4
_BOUNDARY = re.compile(r"(?:\n\s*\n|(?<=[.!?])\s)")


class Tokenizer(Protocol):
    name: str

    def count(self, text: str) -> int: ...

    def head(self, text: str, n: int) -> str:
        """The longest start of `text` that holds at most `n` tokens."""
        ...


class ApproxTokenizer:
    name = "approx-4-chars"

    def count(self, text: str) -> int:
        return -(-len(text) // CHARS_PER_TOKEN)

    def head(self, text: str, n: int) -> str:
        return text[: n * CHARS_PER_TOKEN]


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silences file descriptor 2 (what C code writes to) for the duration."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class GGUFTokenizer:
    """The vocabulary of a GGUF model through llama-cpp-python (no weights loaded, no compute)."""

    def __init__(self, path: str) -> None:
        from llama_cpp import Llama

        with _quiet_stderr():  # llama.cpp logs its context set-up from C, verbose=False or not
            self._llm: Any = Llama(model_path=path, vocab_only=True, verbose=False)
        # Free it before interpreter teardown: left to the garbage collector, llama-cpp-python's finaliser runs
        # after its C bindings are gone and prints a TypeError on exit.
        atexit.register(self._llm.close)
        self._lock = threading.Lock()
        self.name = f"gguf:{path.rsplit('/', 1)[-1]}"

    def _tokens(self, text: str) -> list[int]:
        with self._lock:
            tokens: list[int] = self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
            return tokens

    def count(self, text: str) -> int:
        return len(self._tokens(text))

    def head(self, text: str, n: int) -> str:
        tokens = self._tokens(text)
        if len(tokens) <= n:
            return text
        with self._lock:
            data: bytes = self._llm.detokenize(tokens[:n])
        return data.decode("utf-8", errors="ignore")


@lru_cache(maxsize=1)
def default_tokenizer() -> Tokenizer:
    from extractor.extract._local import _gguf_or_none, local_available

    path = _gguf_or_none()
    if path is not None and local_available():
        return GGUFTokenizer(str(path))
    return ApproxTokenizer()


def cut(text: str, max_tokens: int, tokenizer: Tokenizer) -> tuple[str, bool]:
    """`text` cut to at most `max_tokens`, at a paragraph or sentence end when one is near; and whether it was cut."""
    if tokenizer.count(text) <= max_tokens:
        return text, False
    head = tokenizer.head(text, max_tokens)
    ends = [m.start() for m in _BOUNDARY.finditer(head)]
    # Back off to a boundary only when it keeps most of the allowed text.
    if ends and ends[-1] >= 0.8 * len(head):
        head = head[: ends[-1]]
    return head.rstrip(), True
