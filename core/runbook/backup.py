"""Step 8: back up production with the database's own tool, and prove the backup restores.

The tool is the dialect's (`Dialect.take_backup`): ``mariadb-dump`` on MariaDB/MySQL
(`dialects.mariadb_dump`), the online backup API on SQLite (`dialects.sqlite_copy`).

While it runs it reports the table being dumped (of how many) and the bytes so far, and
the bytes loaded back while it is proved (`Progress`; the log keeps each table's line).
The backup is gzip-compressed, created 0600, named after the database and the time, and
checksummed (SHA-256). It is proved by loading it into a scratch database (a uniquely
named database on the same server, or a temporary file) and comparing the row count of
every table with production's; the scratch copy is dropped. Each backup is recorded in
``manifest.json`` beside it, which `latest_verified` reads before a restore.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL

from ..databases.dialects import dialect_of
from ..databases.dumps import CHUNK, DumpProgress, row_counts
from ..databases.engines import open_engine
from ..errors import BackupError
from ..private_files import write_private
from ..progress import NullProgress, Progress

__all__ = ["Backup", "BackupError", "backup", "database_name", "latest_verified", "require_recent_backup"]

if TYPE_CHECKING:
    from .steps import Checklist


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
        counts = row_counts(engine)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        name = database_name(url)
        dialect = dialect_of(engine)
        path = folder / f"{name}-{stamp}{dialect.backup_suffix}"
        verify_counts = dialect.take_backup(url, path, DumpProgress(progress, len(counts)))
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
