"""Prefect logs every failed task with its traceback. A failure extractor raised on purpose (an unreachable
feed, a page that is not there) already says everything in its one-line message: its traceback, often three
chained ones per poll for an unreachable feed, only buries the message. Bugs keep their traceback."""

from __future__ import annotations

import logging

from extractor.errors import ExtractorError

#: The loggers Prefect's task and flow engines log failures through.
PREFECT_RUN_LOGGERS = ("prefect.task_runs", "prefect.flow_runs")


class ExpectedErrorFilter(logging.Filter):
    """Keeps a record whose exception is an `ExtractorError` to its one-line message (no traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], ExtractorError):
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_expected_errors() -> None:
    """Installs the filter on Prefect's run loggers, once per process."""
    for name in PREFECT_RUN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ExpectedErrorFilter) for f in logger.filters):
            logger.addFilter(ExpectedErrorFilter())
