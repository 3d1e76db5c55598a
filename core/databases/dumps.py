"""What every dialect's backup tool shares (`Dialect.take_backup`): the file's
compression, its progress, the row counts a proof compares, and the one line for a
backup that cannot be written."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, func, select
from sqlalchemy.engine import URL

from ..errors import BackupError
from ..progress import Progress

CHUNK = 1 << 20
GZIP_LEVEL = 6   # gzip's own default: Python's 9 costs twice the time for 2-3 % less


class DumpProgress:
    """The dump's progress: the table being dumped (from the dump's own markers), of how
    many, and its bytes so far."""

    MARKER = b"-- Dumping data for table `"

    def __init__(self, progress: Progress, tables: int) -> None:
        self.progress, self.tables, self.seen, self.tail, self.bytes = progress, tables, 0, b"", 0

    def block(self, data: bytes) -> None:
        """One block of the dump's output: its table markers and its size."""
        window = self.tail + data
        at = window.find(self.MARKER)
        while at != -1:
            end = window.find(b"`", at + len(self.MARKER))
            if end == -1:
                break
            self.seen += 1
            name = window[at + len(self.MARKER):end].decode(errors="replace")
            self.progress.start(f"dumping production: table {self.seen} of {self.tables} ({name}), bytes", None)
            at = window.find(self.MARKER, end)
        self.tail = window[-(len(self.MARKER) + 64):]
        self.bytes += len(data)
        self.progress.advance(len(data))


def row_counts_at(url: URL) -> dict[str, int]:
    engine = create_engine(url)
    try:
        return row_counts(engine)
    finally:
        engine.dispose()


def row_counts(engine: Engine) -> dict[str, int]:
    """Every table's row count (what a backup's proof compares with production's)."""
    md = MetaData()
    md.reflect(bind=engine)
    with engine.connect() as conn:
        return {name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for name, t in sorted(md.tables.items())}


def unwritable(path: Path, exc: OSError) -> BackupError:
    """A backup file that could not be written (it is removed by the caller)."""
    return BackupError(f"cannot write the backup {path} ({exc.strerror}): free some space or choose another folder")
