"""MariaDB's backup: ``mariadb-dump --single-transaction --routines --triggers``, proved
while it is written by loading it into a scratch database beside production.

The password goes through a 0600 ``--defaults-extra-file`` in a private folder, deleted
afterwards: never on the command line (``ps`` shows argv) and never in the environment.
The dump is read once and loaded while it is written (the file is then read back and must
unpack to the bytes loaded), so the proof costs the window about the load, not the dump
and the load.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from ...errors import BackupError
from ...private_files import open_private, write_private
from ...progress import Progress
from ..dumps import CHUNK, GZIP_LEVEL, DumpProgress, row_counts_at, unwritable


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


LOADERS = max(1, min(4, os.cpu_count() or 1))   # scratch loads side by side
SPOOL_LIMIT = 512 << 20   # bytes of table parts waiting for a loader before the dump waits


def take(url: URL, path: Path, tables: DumpProgress) -> dict[str, int]:
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
                    return row_counts_at(url.set(database=scratch))
            tables.progress.note(f"the parallel load into the scratch database failed ({failed}): "
                                 "loading the backup again with one client")
            with _scratch_database(url) as scratch:
                with _Loaders(client(scratch), 1, spool=path.parent) as loader:
                    _read_back(path, dumped.hexdigest(), tables.progress, tables.bytes, loader.put)
                    failed = loader.finish()
                if failed is not None:
                    raise BackupError(f"the backup does not load into a scratch database: {failed}")
                return row_counts_at(url.set(database=scratch))
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


def _dump(dump: str, cnf: Path, url: URL, path: Path, tables: DumpProgress, sinks: list[Callable[[bytes], object]],
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
        raise unwritable(path, exc) from None
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
