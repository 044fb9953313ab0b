"""Keeps credentials out of the logs: a logging filter that masks them in every record.

Browsers cannot set headers on a WebSocket, so the pages send their bearer token as
`?token=…`; uvicorn logs each request line with its query string. The filter masks the
values of `token`, `access_token` and `password` query parameters and of `Bearer`
credentials before any handler writes the record.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

MASK = "***"
_SECRET_PARAM = re.compile(r"(?i)\b(token|access_token|password|secret)=[^&\s\"']+")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")


def redact(text: str) -> str:
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}={MASK}", text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record: leave it to the handler's own error path
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging set-up, with RedactSecrets on each of its handlers."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": RedactSecrets}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_secrets")
    return config
