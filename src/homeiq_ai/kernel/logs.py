"""Logging set-up for every entrypoint, with secret values redacted from every record."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

__all__ = ["SecretRedactor", "configure_logging"]


class SecretRedactor(logging.Filter):
    """Replaces known secret values in a record's final message."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, "**********")
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            cleaned = text
            for secret in self._secrets:
                cleaned = cleaned.replace(secret, "**********")
            if cleaned != text:
                record.exc_info, record.exc_text = None, cleaned
        return True


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Log to stderr at `level`; every handler of the root logger redacts the given secrets."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, "_homeiq", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._homeiq = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    redactor = SecretRedactor(secrets)
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, SecretRedactor)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
