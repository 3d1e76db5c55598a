"""One restore at a time per production database.

Two restores started together (two operators, or a wizard and a console) ended in a raw
deadlock or "Table 'gapmend_runs' already exists". The second one now stops at once,
before it reads anything, saying another restore is running. MariaDB keeps the lock on
the server (``GET_LOCK``, released when its connection ends, so a killed run frees it);
SQLite's is an advisory ``flock`` on a file beside the database (released by the kernel
when the process ends).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, text

from .db import is_mysql
from .errors import GapmendError


class RestoreRunning(GapmendError):
    title = "Another restore is running"


_BUSY = ("another gapmend restore is writing to this production database ({where}): wait for it to finish "
         "(its progress is in gapmend.log), then run this one again: it does only what is left")


@contextlib.contextmanager
def only_restore(engine: Engine) -> Iterator[None]:
    """Hold production's restore lock for the block, or raise `RestoreRunning`."""
    if is_mysql(engine):
        with engine.connect() as conn:
            name = conn.execute(text("SELECT CONCAT('gapmend-restore:', DATABASE())")).scalar_one()
            if conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": name}).scalar() != 1:
                holder = conn.execute(text("SELECT IS_USED_LOCK(:n)"), {"n": name}).scalar()
                raise RestoreRunning(_BUSY.format(where=f"server connection {holder}"))
            try:
                yield
            finally:
                conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": name})
        return
    path = Path(f"{engine.url.database}.gapmend-lock")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RestoreRunning(_BUSY.format(where=f"lock {path}")) from None
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
