"""Logging helpers: the request-id filter and the JSON formatter (``CDSS_LOG_FORMAT=json``).

Log lines carry the request id and ids of objects, never names, MRNs, query strings or free text
from patients. The JSON formatter writes one object per line: time, level, logger, message,
request id, and the structured fields a line was logged with (``extra=``), such as those of the
request log (``cdss.request``) and the analysis lifecycle (``cdss.jobs.lifecycle``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from cdss.common.request_context import get_request_context

# What every LogRecord has; anything else on a record came from ``extra=`` and is a field.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "taskName"}
)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = get_request_context().request_id
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; values that JSON cannot hold are written as their ``str``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or get_request_context().request_id,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_") and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)
