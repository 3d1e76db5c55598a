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
from typing import Iterator

from sqlalchemy import Engine

from ..databases.dialects import LockHeld, dialect_of
from ..errors import GapmendError


class RestoreRunning(GapmendError):
    title = "Another restore is running"


_BUSY = ("another gapmend restore is writing to this production database ({where}): wait for it to finish "
         "(its progress is in gapmend.log), then run this one again: it does only what is left")


@contextlib.contextmanager
def only_restore(engine: Engine) -> Iterator[None]:
    """Hold production's restore lock for the block, or raise `RestoreRunning`."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(dialect_of(engine).restore_lock(engine))
        except LockHeld as held:
            raise RestoreRunning(_BUSY.format(where=held.where)) from None
        yield
