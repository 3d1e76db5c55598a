"""Saying what a restore waits on, while it waits.

A restore whose statement waits on a lock another connection holds (the application's
open transaction, a forgotten worker) looks frozen: the progress line does not move and
nothing says why until the server gives up (``innodb_lock_wait_timeout``). A watcher on a
connection of its own asks the server's lock views every few seconds what the restore's
connection waits on, and says so in the progress: the table, the connection holding the
lock and what it is doing, and for how long.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from ..databases.dialects import dialect_of
from ..progress import Progress

FIRST, EVERY = 1.0, 5.0   # seconds before the first look, and between two


@contextlib.contextmanager
def lock_waits_said(engine: Engine, conn: Connection, progress: Progress) -> Iterator[None]:
    """While the block runs, say in `progress` what `conn` waits on, whenever it waits."""
    dialect = dialect_of(engine)
    waiter = dialect.connection_id(conn)
    conn.rollback()   # the id was asked outside the restore's transaction
    if waiter is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        try:
            with engine.connect() as look:
                wait = FIRST
                while not done.wait(wait):
                    said = dialect.lock_wait(look, waiter)
                    look.rollback()
                    if said is not None:
                        progress.note(said)
                    wait = EVERY
        except DBAPIError as exc:   # no PROCESS privilege, the server gone: the restore says the rest
            progress.note(f"cannot see lock waits ({str(exc.orig).splitlines()[0] if exc.orig else exc})")

    thread = threading.Thread(target=watch, name="gapmend-lock-watch", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=10)
