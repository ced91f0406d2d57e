"""Structured logs: one JSON object per line on stderr.

    {"ts": "2026-11-24T21:40:00.123Z", "level": "info", "event": "post_sent", "tx": "0x..", "nonce": 7}

Every keeper event goes through `emit(event, **fields)` so an operator can grep or ship the stream
into a log store without parsing prose.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import IO, Any

LOGGER_NAME = "ballast"


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line; extra fields come from `record.fields`."""

    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        out: dict[str, Any] = {
            "ts": f"{ts}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        out.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[1] is not None:
            out["exception"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        return json.dumps(out, default=_default, sort_keys=False)


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def configure(level: str | int = "INFO", stream: IO[str] | None = None) -> logging.Logger:
    """Route the `ballast` logger to `stream` (stderr by default) as JSON lines; idempotent."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        if getattr(handler, "_ballast_json", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._ballast_json = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level.upper() if isinstance(level, str) else level)
    logger.propagate = False
    return logger


def get_logger(name: str | None = None) -> logging.Logger:
    return logging.getLogger(LOGGER_NAME if name is None else f"{LOGGER_NAME}.{name}")


def emit(event: str, level: int = logging.INFO, logger: logging.Logger | None = None, **fields: Any) -> None:
    """Log one structured event: `emit("post_sent", tx="0x..", nonce=3)`."""
    (logger or get_logger()).log(level, event, extra={"fields": fields})
