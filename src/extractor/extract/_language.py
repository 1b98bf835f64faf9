"""Which language a text is written in (py3langid ships its model, so this works offline)."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "pl": "Polish",
    "cs": "Czech", "ru": "Russian", "uk": "Ukrainian", "el": "Greek", "tr": "Turkish", "ja": "Japanese",
    "zh": "Chinese", "ko": "Korean", "ar": "Arabic", "hi": "Hindi",
}  # fmt: skip

#: Below this many words a guess is too unreliable to refuse an answer over.
MIN_WORDS = 20


_LOADING = threading.Lock()


@lru_cache(maxsize=1)
def _load() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _identifier() -> Any:
    # lru_cache does not stop sixteen threads from all loading the model at once on a cold cache: that cost
    # 12 s and 1 GB in bench/pipeline.py. The lock makes the first load the only one.
    with _LOADING:
        return _load()


def detect(text: str) -> str | None:
    """ISO 639-1 code of `text`, or None when the text is too short or the guess too weak to rely on."""
    if len(text.split()) < MIN_WORDS:
        return None
    code, prob = _identifier().classify(text)
    return str(code) if prob >= 0.9 else None


def name(code: str) -> str:
    return NAMES.get(code, code)
