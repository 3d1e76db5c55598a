"""Step 8: back up production with the database's own tool, and prove the backup restores.

- MariaDB/MySQL: ``mariadb-dump --single-transaction --routines --triggers``. The password
  goes through a 0600 ``--defaults-extra-file`` in a private folder, deleted afterwards:
  never on the command line (``ps`` shows argv) and never in the environment.
- SQLite: the online backup API (a consistent copy while others read).

While it runs it reports the table being dumped (of how many) and the bytes so far, and
the bytes loaded back while it is proved (`Progress`; the log keeps each table's line).
The backup is gzip-compressed, created 0600, named after the database and the time, and
checksummed (SHA-256). It is proved by loading it into a scratch database (a uniquely
named database on the same server, or a temporary file) and comparing the row count of
every table with production's; the scratch copy is dropped. On MariaDB the dump is read
once and loaded while it is written (the file is then read back and must unpack to the
bytes loaded), so the proof costs the window about the load, not the dump and the load. Each backup is recorded in
``manifest.json`` beside it, which `latest_verified` reads before a restore.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import queue
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable, Iterable, Iterator

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
GZIP_LEVEL = 6   # gzip's own default: Python's 9 costs twice the time for 2-3 % less


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


def backup(url: URL, folder: Path, progress: Progress | None = None, index: Path | None = None) -> Backup:
    """Dump production into `folder`, verify the dump restores, record it; return it.
    `index`: the folder the restore's gate reads (`require_recent_backup`), where a backup
    written elsewhere (`--dir`) is recorded too, so that it is found where it was written."""
    progress = progress or NullProgress()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = open_engine(url, "production")
    try:
        counts = _row_counts(engine)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        name = database_name(url)
        suffix, take = _TOOLS[dialect_of(engine).name]
        path = folder / f"{name}-{stamp}{suffix}"
        verify_counts = take(url, path, _Tables(progress, len(counts)))
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
    if index is not None and index.resolve() != folder.resolve():
        index.mkdir(mode=0o700, parents=True, exist_ok=True)
        _append_manifest(index, record, checksum_file=False)
    return record


def database_name(url: URL) -> str:
    """The name a backup of `url` is recorded under (a SQLite file's without its suffix)."""
    return Path(url.database or "database").stem


def latest_verified(folder: Path, database: str | None = None) -> Backup | None:
    """The newest verified backup `folder`'s manifest records (of `database` only, when
    given), wherever it was written, if its file is still there with its checksum."""
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return None
    entries = [Backup(**e) for e in json.loads(manifest.read_text()).get("backups", [])]
    entries = [b for b in entries if database is None or b.database == database]
    for b in sorted(entries, key=lambda b: b.taken_at, reverse=True):   # the newest first: one checksum read
        if b.verified and Path(b.path).exists() and _sha256(Path(b.path)) == b.sha256:
            return b
    return None


def require_recent_backup(folder: Path, checklist: "Checklist", url: URL | None = None) -> Backup:
    """The restore's gate: a verified backup of production (`url`'s database) taken after
    this run's gap inspection (step 1), or in the last 12 hours when the run has no step
    file, recorded in `folder` wherever it was written. Raises with what to do."""
    from datetime import timedelta

    latest = latest_verified(folder, None if url is None else database_name(url))
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


LOADERS = max(1, min(4, os.cpu_count() or 1))   # scratch loads side by side
SPOOL_LIMIT = 512 << 20   # bytes of table parts waiting for a loader before the dump waits


def _mysql_backup(url: URL, path: Path, tables: _Tables) -> dict[str, int]:
    """Dump production once, and prove the dump while it is written: each block
    ``mariadb-dump`` prints goes into the gzip file and, table by table, to `LOADERS`
    ``mariadb`` clients loading a scratch database side by side (`_Loaders`). Loading is
    most of a backup's time; this way the window pays the load split in parallel instead
    of the dump and then the whole load. At the end the file is read back and must unpack
    to exactly the bytes that were dumped. If the parallel load failed, the file is
    loaded again into a fresh scratch database by one client as it is read back, and
    only a failure of that load refuses the backup. Returns the scratch database's row
    counts."""
    dump = _tool("mariadb-dump", "mysqldump")
    tables.progress.start(f"dumping production ({tables.tables} tables), loading it into a scratch database, bytes", None)
    dumped = hashlib.sha256()
    try:
        with client_options(url) as cnf:
            def client(scratch: str) -> list[str]:
                return [_tool("mariadb", "mysql"), f"--defaults-extra-file={cnf}", scratch]
            with _scratch_database(url) as scratch:
                with _Loaders(client(scratch), LOADERS, spool=path.parent) as loaders:
                    _dump(dump, cnf, url, path, tables, [loaders.put, dumped.update], _largest_first(url))
                    failed = loaders.finish()
                if failed is None:
                    _read_back(path, dumped.hexdigest(), tables.progress, tables.bytes)
                    return _row_counts_at(url.set(database=scratch))
            tables.progress.note(f"the parallel load into the scratch database failed ({failed}): "
                                 "loading the backup again with one client")
            with _scratch_database(url) as scratch:
                with _Loaders(client(scratch), 1, spool=path.parent) as loader:
                    _read_back(path, dumped.hexdigest(), tables.progress, tables.bytes, loader.put)
                    failed = loader.finish()
                if failed is not None:
                    raise BackupError(f"the backup does not load into a scratch database: {failed}")
                return _row_counts_at(url.set(database=scratch))
    except BaseException:
        path.unlink(missing_ok=True)   # a dump that did not load is no backup
        raise


class _Loaders:
    """`n` clients loading one dump side by side, each from a thread of its own.

    The dump's preamble (its session settings: character set, time zone, foreign-key
    checks off) goes to every client. Each table's part (structure, rows, triggers) and
    the routines' part are spooled to a private file beside the backup and loaded by the
    first client free, so the dump runs ahead of the loads instead of waiting for one
    table's load before the next can start; at most `SPOOL_LIMIT` bytes wait, then the
    dump waits. What follows the tables (final views, events: they may need every table)
    goes to the first client once every other has loaded its parts. Inside a
    ``DELIMITER`` block (a trigger's or routine's body) no line starts a part. After a
    client failed the rest of the dump is no longer spooled (the file is still written
    whole) and `finish` returns the client's own words."""

    PART = re.compile(rb"^(?:-- (Table structure for table|Temporary table structure for view|Final view structure"
                      rb" for view|Dumping routines for database|Dumping events for database) |DELIMITER (\S+))",
                      re.MULTILINE)
    # Routines are a part like a table's (creating one reads no table); a view needs its tables.
    AFTER_TABLES = (b"Final view structure for view", b"Dumping events for database")

    def __init__(self, argv: list[str], n: int, spool: Path) -> None:
        self.argv, self.n, self.spool = argv, n, spool
        self.procs: list[subprocess.Popen[bytes]] = []
        self.errors: list[IO[bytes]] = []
        self.threads: list[threading.Thread] = []
        self.parts: queue.Queue[tuple[IO[bytes], int] | None] = queue.Queue()
        self.waiting = threading.Condition()   # guards `spooled`
        self.spooled = 0
        self.preamble = bytearray()            # until `ready`: every client's first bytes
        self.ready = threading.Event()
        self.part: IO[bytes] | None = None     # the part being spooled (None: the preamble)
        self.part_bytes = 0
        self.tail: IO[bytes] | None = None     # what follows the tables, for the first client
        self.others_done = threading.Event()   # every client but the first has loaded its parts
        self.others_left = n - 1
        if not self.others_left:
            self.others_done.set()
        self.pending = b""                     # the last, unfinished line of the stream
        self.delimited = False                 # inside a DELIMITER block
        self.failed: str | None = None

    def __enter__(self) -> _Loaders:
        for i in range(self.n):
            # Each client's complaints go to a file: a pipe nobody reads until the end could
            # fill and stall the load. TemporaryFile is its owner's only and gone when closed.
            self.errors.append(tempfile.TemporaryFile())
            self.procs.append(subprocess.Popen(self.argv, stdin=subprocess.PIPE, stderr=self.errors[i]))
            self.threads.append(threading.Thread(target=self._load, args=(i,), name=f"gapmend-load-{i}", daemon=True))
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if any(t.is_alive() for t in self.threads):   # stopped early: nothing more loads
            self.failed = self.failed or "stopped"
            for proc in self.procs:
                if proc.poll() is None:
                    proc.kill()
            self.ready.set()
            self.others_done.set()
            for _ in self.threads:
                self.parts.put(None)
            with self.waiting:
                self.waiting.notify_all()
        for thread in self.threads:
            thread.join()
        for proc, err in zip(self.procs, self.errors):
            proc.wait()
            err.close()

    def put(self, block: bytes) -> None:
        """One block of the dump, its complete lines routed part by part."""
        if self.failed is not None:
            return   # nothing loads the rest
        data = self.pending + block
        end = data.rfind(b"\n") + 1
        self.pending, data = data[end:], data[:end]
        start = 0
        for m in self.PART.finditer(data):
            if m.group(2) is not None:   # DELIMITER ;; opens a body, DELIMITER ; closes it
                self.delimited = m.group(2) != b";"
                continue
            if self.delimited or self.tail is not None:
                continue
            self._write(data[start:m.start()])
            start = m.start()
            self._end_part()
            if m.group(1) in self.AFTER_TABLES:
                self.tail = self.part = tempfile.TemporaryFile(dir=self.spool)
            else:
                self.part, self.part_bytes = tempfile.TemporaryFile(dir=self.spool), 0
        self._write(data[start:])

    def finish(self) -> str | None:
        """Every client fed to the end and exited; why one failed, or None."""
        self._write(self.pending)
        self.pending = b""
        if self.tail is None:
            self._end_part()
        self.ready.set()
        for _ in self.threads:
            self.parts.put(None)
        for thread in self.threads:
            thread.join()
        return self.failed

    # -- the dump's side --

    def _write(self, data: bytes) -> None:
        if not data or self.failed is not None:
            return
        if self.part is None:
            self.preamble += data
        else:
            self.part.write(data)
            self.part_bytes += len(data)

    def _end_part(self) -> None:
        """The part being spooled is complete: queued for the first free client."""
        self.ready.set()
        if self.part is None or self.part is self.tail:
            return
        self.part.seek(0)
        with self.waiting:
            self.spooled += self.part_bytes
            self.parts.put((self.part, self.part_bytes))
            while self.spooled > SPOOL_LIMIT and self.failed is None:
                self.waiting.wait()
        self.part = None

    # -- each client's thread --

    def _load(self, i: int) -> None:
        pipe = self.procs[i].stdin
        assert pipe is not None
        self.ready.wait()
        ok = self._copy(pipe, [bytes(self.preamble)])
        while (item := self.parts.get()) is not None:
            part, size = item
            with part:
                ok = ok and self.failed is None and self._copy(pipe, iter(lambda: part.read(CHUNK), b""))
            with self.waiting:
                self.spooled -= size
                self.waiting.notify_all()
        if i == 0:   # what follows the tables, once every other client has loaded its own
            self.others_done.wait()
            if self.tail is not None:
                with self.tail:
                    self.tail.seek(0)
                    ok = ok and self.failed is None and self._copy(pipe, iter(lambda: self.tail.read(CHUNK), b""))  # type: ignore[union-attr]
        try:
            pipe.close()
        except BrokenPipeError:
            ok = False
        if self.procs[i].wait() != 0 or not ok:
            self._fail(i)
        if i != 0:
            with self.waiting:
                self.others_left -= 1
                if not self.others_left:
                    self.others_done.set()

    def _copy(self, pipe: IO[bytes], blocks: Iterable[bytes]) -> bool:
        try:
            for block in blocks:
                pipe.write(block)
        except (BrokenPipeError, ValueError):
            return False
        return True

    def _fail(self, i: int) -> None:
        self.errors[i].seek(0)
        said = self.errors[i].read().decode(errors="replace").strip().splitlines()
        # The client echoes the failed statement (rows and all) before its ERROR line.
        why = next((line for line in reversed(said) if line.startswith("ERROR")), said[-1] if said else "")
        with self.waiting:
            if self.failed is None:
                self.failed = why[:300] or f"the client stopped (exit status {self.procs[i].returncode})"
            self.waiting.notify_all()


def _largest_first(url: URL) -> list[str]:
    """Production's tables, the largest first, then its views and sequences: dumped in
    that order, the parallel loads start on the longest ones and end together."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                "ORDER BY TABLE_TYPE <> 'BASE TABLE', COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) DESC, "
                "TABLE_NAME")).scalars())
    finally:
        engine.dispose()


def _dump(dump: str, cnf: Path, url: URL, path: Path, tables: _Tables, sinks: list[Callable[[bytes], object]],
          order: list[str]) -> None:
    """``mariadb-dump`` of the tables in `order` (every table and view of production, in
    one transaction) into the gzip file at `path` (0600), each block also given to `sinks`."""
    args = [dump, f"--defaults-extra-file={cnf}", "--single-transaction", "--routines", "--triggers",
            "--hex-blob", "--default-character-set=utf8mb4", url.database or "", *order]
    try:
        with open_private(path, binary=True, exclusive=True) as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL) as out:
            proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            assert proc.stdout is not None
            try:
                for block in iter(lambda: proc.stdout.read(CHUNK), b""):  # type: ignore[union-attr]
                    out.write(block)
                    for sink in sinks:
                        sink(block)
                    tables.block(block)
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            if proc.wait() != 0:
                raise BackupError(f"{Path(dump).name} failed: {err.strip().splitlines()[-1] if err.strip() else 'no message'}")
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise BackupError(f"cannot write the backup {path} ({exc.strerror}): free some space or choose another folder") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _read_back(path: Path, digest: str, progress: Progress, size: int,
               sink: Callable[[bytes], object] | None = None) -> None:
    """The file unpacks to the bytes whose SHA-256 is `digest` (what was dumped and
    loaded), else it is removed and the backup refused; each block also goes to `sink`."""
    progress.start("proving the backup: reading it back" + (" into a scratch database" if sink else "") + ", bytes",
                   size)
    unpacked = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as src:
            for block in iter(lambda: src.read(CHUNK), b""):
                unpacked.update(block)
                if sink is not None:
                    sink(block)
                progress.advance(len(block))
    except (OSError, EOFError) as exc:
        path.unlink(missing_ok=True)
        raise BackupError(f"the backup {path} does not read back ({exc}): check the disk and take it again") from None
    if unpacked.hexdigest() != digest:
        path.unlink(missing_ok=True)
        raise BackupError(f"the backup {path} does not hold what was loaded from it: check the disk and take it again")


@contextmanager
def _scratch_database(url: URL) -> Iterator[str]:
    """A uniquely named empty database beside production, dropped afterwards."""
    scratch = f"{(url.database or 'db')[:40]}_gmverify_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database=None), connect_args={"connect_timeout": 10})
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{scratch}`"))
        yield scratch
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
        with open(copy, "rb") as raw, open_private(path, binary=True, exclusive=True) as out_raw, gzip.GzipFile(fileobj=out_raw, mode="wb", compresslevel=GZIP_LEVEL) as out:
            shutil.copyfileobj(raw, out, CHUNK)
        size = copy.stat().st_size
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise BackupError(f"cannot write the backup {path} ({exc.strerror}): free some space or choose another folder") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return size


def _sqlite_take(url: URL, path: Path, tables: _Tables) -> dict[str, int]:
    """The copy, then its proof: unpacked, checked and counted (a local file: no load to overlap)."""
    size = _sqlite_backup(url, path, tables)
    return _verify_sqlite(path, tables.progress, size)


def _verify_sqlite(path: Path, progress: Progress, size: int) -> dict[str, int]:
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

# Per dialect (`dialects`): the backup's file suffix, and how it is taken and proved
# (loaded into a scratch database as it is dumped; SQLite's copy and integrity check).
_TOOLS: dict[str, tuple[str, Callable[[URL, Path, _Tables], dict[str, int]]]] = {
    "mariadb": (".sql.gz", _mysql_backup),
    "sqlite": (".sqlite.gz", _sqlite_take),
}


def _row_counts_at(url: URL) -> dict[str, int]:
    engine = create_engine(url)
    try:
        return _row_counts(engine)
    finally:
        engine.dispose()


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


def _append_manifest(folder: Path, record: Backup, checksum_file: bool = True) -> None:
    """`record` in `folder`'s manifest; `checksum_file`: and a ``sha256sum -c`` file beside
    the backup (the folder holds it)."""
    manifest = folder / "manifest.json"
    data = json.loads(manifest.read_text()) if manifest.exists() else {"backups": []}
    data["backups"].append(asdict(record))
    write_private(manifest, json.dumps(data, indent=2), atomic=True)
    if checksum_file:
        write_private(folder / (Path(record.path).name + ".sha256"), f"{record.sha256}  {Path(record.path).name}\n")
