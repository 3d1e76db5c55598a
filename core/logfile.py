"""The operator's log: everything gapmend did, in a file only its owner can read."""

from __future__ import annotations

import logging
import os
from pathlib import Path

LOGGER = logging.getLogger("gapmend")


def open_log(path: Path) -> logging.Handler:
    """Append gapmend's log records to `path`, created 0600 (it names databases and tables)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    return handler


def close_log(handler: logging.Handler) -> None:
    LOGGER.removeHandler(handler)
    handler.close()
