"""SQLite's backup: the online backup API (a consistent copy while others read), gzipped,
proved by unpacking it, SQLite's integrity check and its row counts."""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import URL

from ...errors import BackupError
from ...private_files import open_private
from ...progress import Progress
from ..dumps import CHUNK, GZIP_LEVEL, DumpProgress, row_counts, unwritable


def take(url: URL, path: Path, tables: DumpProgress) -> dict[str, int]:
    """The copy, then its proof: unpacked, checked and counted (a local file: no load to overlap)."""
    size = _copy(url, path, tables)
    return _prove(path, tables.progress, size)


def _copy(url: URL, path: Path, tables: DumpProgress) -> int:
    source = Path(url.database or "")
    folder = Path(tempfile.mkdtemp(prefix="gapmend-"))
    os.chmod(folder, 0o700)
    copy = folder / "copy.sqlite"
    progress = tables.progress
    progress.start(f"copying production ({tables.tables} tables), pages", None)
    copied = [0]

    def pages(_status: int, remaining: int, total: int) -> None:
        progress.advance(total - remaining - copied[0])
        copied[0] = total - remaining

    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(copy) as dst:
            src.backup(dst, pages=256, progress=pages)
        with open(copy, "rb") as raw, open_private(path, binary=True, exclusive=True) as out_raw, gzip.GzipFile(fileobj=out_raw, mode="wb", compresslevel=GZIP_LEVEL) as out:
            shutil.copyfileobj(raw, out, CHUNK)
        size = copy.stat().st_size
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise unwritable(path, exc) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return size


def _prove(path: Path, progress: Progress, size: int) -> dict[str, int]:
    folder = Path(tempfile.mkdtemp(prefix="gapmend-"))
    os.chmod(folder, 0o700)
    try:
        copy = folder / "verify.sqlite"
        progress.start("proving the backup: unpacking it and checking its integrity, bytes", size)
        with gzip.open(path, "rb") as src, open(copy, "wb") as dst:
            for block in iter(lambda: src.read(CHUNK), b""):
                dst.write(block)
                progress.advance(len(block))
        engine = create_engine(f"sqlite:///{copy}")
        try:
            with engine.connect() as conn:
                if conn.exec_driver_sql("PRAGMA integrity_check").scalar() != "ok":
                    raise BackupError(f"the backup {path} fails SQLite's integrity check: take it again")
            return row_counts(engine)
        finally:
            engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
