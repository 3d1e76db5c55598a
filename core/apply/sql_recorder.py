"""The dry run's record: every statement the restore sends to production, in order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event

from ..private_files import open_private


class SqlRecorder:
    """Writes every statement sent on `conn` into a file (0600), with its parameters
    rendered by the driver where it can (PyMySQL's `mogrify`)."""

    def __init__(self, conn: Connection, path: Path, what: str = "restore") -> None:
        self.conn, self.path, self.what = conn, path, what
        self.fh: Any = None

    def start(self) -> None:
        self.fh = open_private(self.path)
        self.fh.write(f"-- gapmend {self.what} --dry-run: the statements it would run, in order.\n"
                      "-- They ran inside a transaction that was rolled back: production is unchanged.\n")
        event.listen(self.conn, "before_cursor_execute", self._record)

    def stop(self) -> None:
        if self.fh is not None:
            event.remove(self.conn, "before_cursor_execute", self._record)
            self.fh.close()
            self.fh = None

    def _record(self, _conn: Any, cursor: Any, statement: str, parameters: Any, _ctx: Any, executemany: bool) -> None:
        sets = parameters if executemany else [parameters]
        for params in sets:
            if hasattr(cursor, "mogrify"):
                self.fh.write(cursor.mogrify(statement, params).strip() + ";\n")
            else:
                self.fh.write(statement.strip() + ";" + (f"  -- {json.dumps(list(params), default=str)}" if params else "") + "\n")
