"""The operator's log: everything gapmend did, in a file only its owner can read."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

LOGGER = logging.getLogger("gapmend")
# The pool's own reports (a connection the server killed, failing its reset on return)
# go to the operator's log, never to the screen as a traceback (logging's last resort).
POOL = logging.getLogger("sqlalchemy.pool")
POOL.addHandler(logging.NullHandler())
POOL.propagate = False


def open_log(path: Path) -> logging.Handler:
    """Append gapmend's log records to `path`, created 0600 (it names databases and tables)."""
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    handler = _OperatorLog(path, encoding="utf-8")
    handler.created = created
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    POOL.addHandler(handler)
    return handler


def close_log(handler: logging.Handler) -> None:
    LOGGER.removeHandler(handler)
    POOL.removeHandler(handler)
    handler.close()


class _OperatorLog(logging.FileHandler):
    """The log file; when it cannot be written (a full disk), one line on stderr and no
    more logging this run, instead of logging's "--- Logging error ---" and a traceback
    for every record."""

    created = False   # by this run: an empty log it could not write is not left behind

    def handleError(self, record: logging.LogRecord) -> None:
        import sys

        error = sys.exc_info()[1]
        LOGGER.removeHandler(self)
        POOL.removeHandler(self)
        stream, self.stream = self.stream, None   # what it holds unwritten is dropped: `close` must not raise
        with contextlib.suppress(OSError):
            if stream is not None:
                stream.close()
        path = Path(self.baseFilename)
        if self.created and path.exists() and path.stat().st_size == 0:
            path.unlink()
        sys.stderr.write(f"gapmend: warning: the log {self.baseFilename} cannot be written "
                         f"({getattr(error, 'strerror', None) or error}): the rest of this run is not logged\n")
