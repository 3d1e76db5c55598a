"""Step 8: back up production with the database's own tool, and prove the backup restores.

- MariaDB/MySQL: ``mariadb-dump --single-transaction --routines --triggers``. The password
  goes through a 0600 ``--defaults-extra-file`` in a private folder, deleted afterwards:
  never on the command line (``ps`` shows argv) and never in the environment.
- SQLite: the online backup API (a consistent copy while others read).

While it runs it reports the table being dumped (of how many) and the bytes so far, and
the bytes loaded back while it is proved (`Progress`; the log keeps each table's line).
The backup is gzip-compressed, created 0600, named after the database and the time, and
checksummed (SHA-256). Verification loads it into a scratch database (a uniquely named
database on the same server, or a temporary file) and compares the row count of every
table with production's; the scratch copy is dropped. Each backup is recorded in
``manifest.json`` beside it, which `latest_verified` reads before a restore.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from sqlalchemy import Engine, MetaData, create_engine, func, select, text
from sqlalchemy.engine import URL

from ..databases.dialects import dialect_of
from ..databases.engines import open_engine
from ..errors import GapmendError
from ..private_files import open_private, write_private
from ..progress import NullProgress, Progress

if TYPE_CHECKING:
    from .steps import Checklist

CHUNK = 1 << 20


class BackupError(GapmendError):
    title = "Backup failed"


@dataclass(frozen=True)
class Backup:
    path: str
    sha256: str
    bytes: int
    database: str
    taken_at: str
    verified: bool
    row_counts: dict[str, int]


def backup(url: URL, folder: Path, progress: Progress | None = None) -> Backup:
    """Dump production into `folder`, verify the dump restores, record it; return it."""
    progress = progress or NullProgress()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = open_engine(url, "production")
    try:
        counts = _row_counts(engine)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        name = Path(url.database or "database").stem
        suffix, dump, prove = _TOOLS[dialect_of(engine).name]
        path = folder / f"{name}-{stamp}{suffix}"
        size = dump(url, path, _Tables(progress, len(counts)))
        verify_counts = prove(url, path, progress, size)
    finally:
        engine.dispose()
    differing = {t: (counts.get(t), verify_counts.get(t)) for t in set(counts) | set(verify_counts)
                 if counts.get(t) != verify_counts.get(t)}
    if differing:
        table, (want, got) = sorted(differing.items())[0]
        raise BackupError(f"the backup does not restore to production's contents ({table}: {want} rows, "
                          f"backup {got}): is production still being written? Turn maintenance mode on and retry")
    record = Backup(str(path), _sha256(path), path.stat().st_size, name, stamp, True, counts)
    _append_manifest(folder, record)
    return record


def latest_verified(folder: Path) -> Backup | None:
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return None
    entries = [Backup(**e) for e in json.loads(manifest.read_text()).get("backups", [])]
    good = [b for b in entries if b.verified and Path(b.path).exists() and _sha256(Path(b.path)) == b.sha256]
    return max(good, key=lambda b: b.taken_at, default=None)


def require_recent_backup(folder: Path, checklist: "Checklist") -> Backup:
    """The restore's gate: a verified backup taken after this run's gap inspection (step 1),
    or in the last 12 hours when the run has no step file. Raises with what to do."""
    from datetime import timedelta

    latest = latest_verified(folder)
    inspected = checklist.get("inspect").at
    if inspected:
        since = datetime.fromisoformat(inspected)
        why = "since the gap inspection (step 1)"
    else:
        since = datetime.now(timezone.utc) - timedelta(hours=12)
        why = "in the last 12 hours"
    if latest is None or datetime.strptime(latest.taken_at, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc) < since:
        raise BackupError(f"no verified backup of production {why}: run `gapmend backup` first "
                          "(or pass --without-backup if you have your own)")
    return latest


# --- MariaDB ------------------------------------------------------------------------------

@contextmanager
def client_options(url: URL) -> Iterator[Path]:
    """A 0600 option file with the credentials, in a 0700 folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="gapmend-"))
    os.chmod(folder, 0o700)
    path = folder / "client.cnf"
    lines = ["[client]", f"user={url.username or ''}", f"host={url.host or '127.0.0.1'}", f"port={url.port or 3306}"]
    if url.password:
        lines.append(f"password={url.password}")
    if url.host:
        lines.append("protocol=TCP")
    write_private(path, "\n".join(lines) + "\n")
    try:
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _tool(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise BackupError(f"{names[0]} is not installed: install mariadb-client (apt-get install mariadb-client)")


class _Tables:
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


def _mysql_dump(url: URL, path: Path, tables: _Tables) -> int:
    dump = _tool("mariadb-dump", "mysqldump")
    tables.progress.start(f"dumping production ({tables.tables} tables), bytes", None)
    with client_options(url) as cnf:
        args = [dump, f"--defaults-extra-file={cnf}", "--single-transaction", "--routines", "--triggers",
                "--hex-blob", "--default-character-set=utf8mb4", url.database or ""]
        try:
            with open_private(path, binary=True, exclusive=True) as raw, gzip.GzipFile(fileobj=raw, mode="wb") as out:
                proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                assert proc.stdout is not None
                for block in iter(lambda: proc.stdout.read(CHUNK), b""):  # type: ignore[union-attr]
                    out.write(block)
                    tables.block(block)
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                if proc.wait() != 0:
                    raise BackupError(f"{Path(dump).name} failed: {err.strip().splitlines()[-1] if err.strip() else 'no message'}")
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise BackupError(f"cannot write the backup {path} ({exc.strerror}): free some space or choose another folder") from None
        except BackupError:
            path.unlink(missing_ok=True)
            raise
    return tables.bytes


def _verify_mysql(url: URL, path: Path, progress: Progress, size: int) -> dict[str, int]:
    client = _tool("mariadb", "mysql")
    scratch = f"{(url.database or 'db')[:40]}_gmverify_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database=None), connect_args={"connect_timeout": 10})
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{scratch}`"))
        with client_options(url) as cnf:
            proc = subprocess.Popen([client, f"--defaults-extra-file={cnf}", scratch],
                                    stdin=subprocess.PIPE, stderr=subprocess.PIPE)
            assert proc.stdin is not None
            progress.start("proving the backup: loading it into a scratch database, bytes", size)
            with gzip.open(path, "rb") as src:
                for block in iter(lambda: src.read(CHUNK), b""):
                    proc.stdin.write(block)
                    progress.advance(len(block))
            proc.stdin.close()
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            if proc.wait() != 0:
                raise BackupError(f"the backup does not load into a scratch database: {err.strip()[:200]}")
        scratch_engine = create_engine(url.set(database=scratch))
        try:
            return _row_counts(scratch_engine)
        finally:
            scratch_engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{scratch}`"))
        admin.dispose()


# --- SQLite -------------------------------------------------------------------------------

def _sqlite_backup(url: URL, path: Path, tables: _Tables) -> int:
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
        with open(copy, "rb") as raw, open_private(path, binary=True, exclusive=True) as out_raw, gzip.GzipFile(fileobj=out_raw, mode="wb") as out:
            shutil.copyfileobj(raw, out, CHUNK)
        size = copy.stat().st_size
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise BackupError(f"cannot write the backup {path} ({exc.strerror}): free some space or choose another folder") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return size


def _verify_sqlite(_url: URL, path: Path, progress: Progress, size: int) -> dict[str, int]:
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
            return _row_counts(engine)
        finally:
            engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- shared -------------------------------------------------------------------------------

# Per dialect (`dialects`): the backup's file suffix, its own dump tool, and the proof
# that the dump loads back (a scratch database, SQLite's integrity check).
_TOOLS: dict[str, tuple[str, Callable[[URL, Path, _Tables], int], Callable[[URL, Path, Progress, int], dict[str, int]]]] = {
    "mariadb": (".sql.gz", _mysql_dump, _verify_mysql),
    "sqlite": (".sqlite.gz", _sqlite_backup, _verify_sqlite),
}

def _row_counts(engine: Engine) -> dict[str, int]:
    md = MetaData()
    md.reflect(bind=engine)
    with engine.connect() as conn:
        return {name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for name, t in sorted(md.tables.items())}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _append_manifest(folder: Path, record: Backup) -> None:
    manifest = folder / "manifest.json"
    data = json.loads(manifest.read_text()) if manifest.exists() else {"backups": []}
    data["backups"].append(asdict(record))
    write_private(manifest, json.dumps(data, indent=2), atomic=True)
    write_private(folder / (Path(record.path).name + ".sha256"), f"{record.sha256}  {Path(record.path).name}\n")
