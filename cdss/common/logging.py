"""Logging helpers. Log lines carry the request id and ids of objects, never names, MRNs or
free text from patients."""

from __future__ import annotations

import logging

from cdss.common.request_context import get_request_context


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = get_request_context().request_id
        return True
