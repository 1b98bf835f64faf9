"""The run budget: one object shared by every thread of a run, checked before each model call."""

from __future__ import annotations

import threading
from typing import Any

from extractor.errors import BudgetExceededError, ConfigError, InvalidUsageError
from extractor.models import Usage

#: Dollars per million tokens (prompt, completion). Local and replay backends cost nothing.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}


def price_of(model: str, table: dict[str, tuple[float, float]] | None = None) -> tuple[float, float] | None:
    table = {**PRICES, **(table or {})}
    if model in table:
        return table[model]
    # Dated snapshots (gpt-4o-mini-2024-07-18) cost what their family costs: longest matching prefix wins.
    matches = [k for k in table if model.startswith(k + "-")]
    return table[max(matches, key=len)] if matches else None


def _count(usage: Any, name: str) -> int:
    value = getattr(usage, name, None) if not isinstance(usage, dict) else usage.get(name)
    if value is None:
        return 0  # a server that reports no usage: nothing to count (the budget then only sees estimates)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value < 0:
        raise InvalidUsageError(
            f"the model server reported {name}={value!r}: not a token count, so the run budget cannot hold"
        )
    if isinstance(value, float) and not value.is_integer():
        raise InvalidUsageError(f"the model server reported {name}={value!r}: not a whole number of tokens")
    return int(value)


def usage_counts(usage: Any) -> tuple[int, int]:
    """Prompt and completion tokens of one answer's `usage` (an object or a dict; missing counts 0). A count
    that is negative or not a number raises `InvalidUsageError`: summed into the budget, it would disable it."""
    return _count(usage, "prompt_tokens"), _count(usage, "completion_tokens")


class RunBudget:
    """Tokens and dollars spent by a run, against optional limits. Thread-safe.

    `check()` raises `BudgetExceededError` before a call that the budget can no longer pay for; `charge()`
    records what a call spent, failed or not."""

    def __init__(
        self,
        *,
        max_tokens: int | None = None,
        max_usd: float | None = None,
        price: tuple[float, float] | None = None,
    ) -> None:
        if max_usd is not None and price is None:
            raise ConfigError("a money budget needs the model's price: add it to EXTRACTOR_PRICES")
        self.max_tokens = max_tokens
        self.max_usd = max_usd
        self.price = price or (0.0, 0.0)
        self._lock = threading.Lock()
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.calls = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def usd(self) -> float:
        return (self.prompt_tokens * self.price[0] + self.completion_tokens * self.price[1]) / 1_000_000

    def check(self, prompt_tokens: int = 0) -> None:
        """Raises when the budget is spent, or cannot pay for `prompt_tokens` more."""
        with self._lock:
            if self.max_tokens is not None and self.tokens + prompt_tokens > self.max_tokens:
                raise BudgetExceededError(
                    f"token budget reached: {self.tokens} of {self.max_tokens} spent, the next call needs "
                    f"about {prompt_tokens} more"
                )
            if self.max_usd is not None:
                next_usd = self.usd + prompt_tokens * self.price[0] / 1_000_000
                if next_usd > self.max_usd:
                    raise BudgetExceededError(f"money budget reached: ${self.usd:.4f} of ${self.max_usd:.4f} spent")

    def charge(self, prompt_tokens: int, completion_tokens: int) -> None:
        usage_counts({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens})
        with self._lock:
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens
            self.calls += 1

    def spent(self) -> Usage:
        with self._lock:
            return Usage(prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens)
