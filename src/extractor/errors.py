"""Every failure extractor can meet, written down once.

Each exception that ends the processing of one article carries an `Outcome`: the code the ledger records for
that article. Configuration and usage errors (`ConfigError`) stop a command instead; they have no outcome.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """The code the ledger records for one article in one run. Exactly one per input URL."""

    OK = "ok"
    TOO_LONG = "too_long"  # cut to the budget, flagged, still scanned: a success
    TOO_SHORT = "too_short"
    NO_CONTENT = "no_content"
    UNSUPPORTED_TYPE = "unsupported_type"
    TOO_LARGE = "too_large"
    BLOCKED = "blocked"
    HTTP_ERROR = "http_error"
    TIMEOUT = "timeout"
    INVALID_OUTPUT = "invalid_output"
    BUDGET_EXCEEDED = "budget_exceeded"
    LLM_ERROR = "llm_error"
    INTERNAL_ERROR = "internal_error"  # a bug: the message says where
    BUSY = "busy"  # another live run held this article's lease for too long: the next run redoes it
    IMPORTED = "imported"  # a page of an existing archive brought in by `extractor import`: a scan, not a run
    # The gate: pages that are not the article, ended before any model call.
    BOT_WALL = "bot_wall"  # a "verify you are human" / captcha / browser check page
    COOKIE_WALL = "cookie_wall"  # consent is demanded before any text is shown
    PAYWALL = "paywall"
    NOT_FOUND = "not_found"  # a soft 404: a 200 page that says it was not found
    ERROR_PAGE = "error_page"  # a 200 page that says the server failed or is down
    INTERRUPTED = "interrupted"  # the run was stopped (Ctrl-C, SIGTERM) first: not a failure, redone next run
    WRITE_ERROR = "write_error"  # the scan could not be written (disk full, permissions): redone next run

    @property
    def succeeded(self) -> bool:
        """A scan was written for this article (or imported: the page is there)."""
        return succeeded(self)


#: The outcomes that mean a scan is there (written by a run, or imported): the one place this rule is written.
SUCCEEDED = frozenset({Outcome.OK.value, Outcome.TOO_LONG.value, Outcome.IMPORTED.value})


def succeeded(outcome: str | None) -> bool:
    """Whether an outcome code (as the ledger stores it) means a scan is there."""
    return outcome in SUCCEEDED


class ExtractorError(Exception):
    """Base of every error extractor raises on purpose."""

    outcome: Outcome | None = None
    #: Worth trying again in a later run (the ledger's retry policy reads this).
    transient: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(ExtractorError):
    """Bad configuration or usage: the command stops with a one-line message and a non-zero exit."""


# --- the scan format -------------------------------------------------------------------------------------


class ScanFormatError(ExtractorError):
    """Text that is not a scan. `line` is 1-based; 0 when the error is not tied to a line."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.reason = message
        self.line = line


class ScanValidationError(ExtractorError):
    """A scan whose values break the rules (strict mode): carries every error found."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors) if errors else "invalid scan")
        self.errors = errors


# --- sources and fetching --------------------------------------------------------------------------------


class FetchError(ExtractorError):
    """Base for every way a URL can fail to become article text."""

    outcome = Outcome.HTTP_ERROR

    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class BlockedError(FetchError):
    """Refused before any byte was sent: scheme, non-public address, robots.txt, not on the allow list."""

    outcome = Outcome.BLOCKED


class HTTPStatusError(FetchError):
    outcome = Outcome.HTTP_ERROR

    def __init__(self, message: str, url: str = "", status: int = 0) -> None:
        super().__init__(message, url)
        self.status = status
        self.transient = status in (408, 429) or status >= 500 or status == 0


class FetchTimeoutError(FetchError):
    outcome = Outcome.TIMEOUT
    transient = True


class TooLargeError(FetchError):
    outcome = Outcome.TOO_LARGE


class UnsupportedTypeError(FetchError):
    outcome = Outcome.UNSUPPORTED_TYPE


class NoContentError(FetchError):
    """A page with no article in it: JS-only, paywall, soft 404."""

    outcome = Outcome.NO_CONTENT


class GatePageError(NoContentError):
    """The page is a wall or an error page instead of the article (the gate, before any model call)."""


class BotWallError(GatePageError):
    outcome = Outcome.BOT_WALL


class CookieWallError(GatePageError):
    outcome = Outcome.COOKIE_WALL


class PaywallError(GatePageError):
    outcome = Outcome.PAYWALL


class NotFoundPageError(GatePageError):
    outcome = Outcome.NOT_FOUND


class ErrorPageError(GatePageError):
    outcome = Outcome.ERROR_PAGE


class TooShortError(FetchError):
    outcome = Outcome.TOO_SHORT


class OfflineMissError(FetchError):
    """--offline and the web archive holds no response for this URL."""

    outcome = Outcome.HTTP_ERROR


class SourceError(ExtractorError):
    """A source (post, feed, draft) that cannot be read or yields no links: the command says so and exits 1;
    the ledger's `sources` table keeps the message as the source's last error."""


# --- extraction ------------------------------------------------------------------------------------------


class ExtractionError(ExtractorError):
    """Base for failures of the model call. Carries what was spent, so failures are never free and invisible."""

    outcome = Outcome.LLM_ERROR

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        usage: dict[str, int] | None = None,
        last_output: Any = None,
        errors: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.usage = usage or {}
        self.last_output = last_output
        self.errors = errors or []


class InvalidOutputError(ExtractionError):
    """The model's answer still broke the rules when the re-asks ran out. No scan is written."""

    outcome = Outcome.INVALID_OUTPUT


class BudgetExceededError(ExtractionError):
    """The run's token or money budget is spent: no new model call is made."""

    outcome = Outcome.BUDGET_EXCEEDED


class ModelError(ExtractionError):
    """The model server failed: transient (429, 5xx, timeouts, connection) once retries ran out, or permanent."""

    outcome = Outcome.LLM_ERROR

    def __init__(self, message: str, *, transient: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.transient = transient


# --- environment: the ledger, the home, the web archive -------------------------------------------------


class LedgerError(ConfigError):
    """The ledger cannot be used: not a database, damaged, from a newer extractor, unwritable, disk full."""


class ArchiveEntryError(FetchError):
    """A web-archive entry that cannot be trusted (unreadable, body outside the archive, hash mismatch)."""

    outcome = Outcome.HTTP_ERROR


class LeaseBusyError(ExtractorError):
    """Another live run kept this article's lease past the wait: nothing was paid; the next run redoes it."""

    outcome = Outcome.BUSY
    transient = True


class CarriedOverError(ExtractorError):
    """Another run processed this article while this one waited for it and failed: its outcome is carried
    over instead of paying for the same failure twice."""

    def __init__(self, message: str, outcome: Outcome, *, transient: bool) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.transient = transient


class InvalidUsageError(ModelError):
    """The model server reported token usage that cannot be counted (negative, not a number): a budget fed
    with it would stop holding, so the answer is refused."""


class ModelDeadlineError(ModelError):
    """The model server did not finish its answer within the wall-clock deadline (`EXTRACTOR_TIMEOUT`)."""


class OutputWriteError(ExtractorError):
    """A scan's files could not be written. The answer was paid for: its usage is still recorded."""

    outcome = Outcome.WRITE_ERROR
    transient = True


def outcome_of(exc: BaseException) -> Outcome:
    """The ledger code for an exception; anything we did not raise on purpose is an internal error."""
    if isinstance(exc, ExtractorError) and exc.outcome is not None:
        return exc.outcome
    return Outcome.INTERNAL_ERROR


# --- the site ----------------------------------------------------------------------------------------------


class SiteError(ExtractorError):
    """The static site could not be built: mkdocs or the search indexer failed. Not an article's outcome: the
    command stops with one line (a folder that is not a site to overwrite is a `ConfigError`)."""
