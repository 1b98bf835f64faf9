"""Structured extraction: article text in, a validated, grounded scan out, through one model call per article.

    with make_extractor() as extractor:               # EXTRACTOR_LLM / EXTRACTOR_MODEL choose the backend
        result = extractor.extract(text, url=..., origin="20250629d", origin_url=...)
        result.scan, result.provenance                # Scan (strict) and Provenance (usage, evidence, prompt)

Failures raise the `ExtractionError` family (`InvalidOutputError`, `BudgetExceededError`, `ModelError`), each
carrying attempts, cumulative usage, the last output and the errors. `extract` never fetches or writes files.
"""

import logging

from extractor.extract._answer import ScanAnswer
from extractor.extract._backends import HOW_TO_CHOOSE, Backend, resolve
from extractor.extract._budget import PRICES, RunBudget, price_of
from extractor.extract._extractor import ExtractionResult, Extractor, describe, make_extractor
from extractor.extract._grounding import Grounder
from extractor.extract._local import LocalServer, gguf_path, local_available
from extractor.extract._prompt import PromptTemplate
from extractor.extract._replay import request_key
from extractor.extract._settings import LLMSettings
from extractor.extract._tokens import ApproxTokenizer, GGUFTokenizer, Tokenizer, cut, default_tokenizer

# instructor logs every re-ask and HTTP failure at ERROR; we raise typed errors that carry the same facts, so its
# records only reach handlers the application configured, never the bare stderr fallback.
logging.getLogger("instructor").addHandler(logging.NullHandler())

__all__ = [
    "HOW_TO_CHOOSE",
    "PRICES",
    "ApproxTokenizer",
    "Backend",
    "ExtractionResult",
    "Extractor",
    "GGUFTokenizer",
    "Grounder",
    "LLMSettings",
    "LocalServer",
    "PromptTemplate",
    "RunBudget",
    "ScanAnswer",
    "Tokenizer",
    "cut",
    "default_tokenizer",
    "describe",
    "gguf_path",
    "local_available",
    "make_extractor",
    "price_of",
    "request_key",
    "resolve",
]
