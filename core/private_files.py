"""Files only their owner may read: reports, plans, logs, backups, env and state files.

Every file gapmend writes goes through here, so "created 0600" holds in one place: the
mode is set at creation (no moment where others could open it) and set again afterwards,
because ``O_CREAT`` leaves the mode of a file that already existed as it was.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Literal, overload


@overload
def open_private(path: Path, *, binary: Literal[True], exclusive: bool = False) -> IO[bytes]: ...
@overload
def open_private(path: Path, *, binary: Literal[False] = False, exclusive: bool = False) -> IO[str]: ...


def open_private(path: Path, *, binary: bool = False, exclusive: bool = False) -> IO[bytes] | IO[str]:
    """Open `path` for writing, owner-only; `exclusive` refuses to replace an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")


def write_private(path: Path, content: str | bytes, *, atomic: bool = False, mode: int = 0o600) -> None:
    """Write `content` to `path`. `atomic` writes a temporary file beside it and renames it
    over `path`, so a reader sees the old file or the new one, never half of one; `mode`
    lets an edited file (a Laravel .env) keep the mode it had."""
    target = path.with_name(path.name + ".gapmend-tmp") if atomic else path
    binary = isinstance(content, bytes)
    with open_private(target, binary=binary) as fh:  # type: ignore[call-overload]
        fh.write(content)
        os.fchmod(fh.fileno(), mode)
    if atomic:
        os.replace(target, path)


# Room proven for a restore's report before production is written: its lists are capped
# (`apply.reports`), so a report stays well under this.
REPORT_ROOM = 1 << 20


def require_room(reports: Path, steps_file: Path, log: Path, need: int = REPORT_ROOM) -> None:
    """Prove that the folders of the restore's report (`reports`), the step file and the
    log each take a file of `need` bytes, before the first write to production: a
    restore that commits and then cannot write its report or its step leaves the operator
    no record but the journal. The probe is written, synced and removed; nothing else is
    left. Raises in one line."""
    from .errors import GapmendError

    folders = {"the restore's report": reports, "the step file": steps_file.parent, "the log": log.parent}
    for what, folder in folders.items():
        probe = folder / ".gapmend-room-probe"
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            with open_private(probe, binary=True) as fh:
                fh.write(bytes(need))
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise GapmendError(
                f"gapmend cannot write {what} in {folder} ({exc.strerror or exc}): make room there, or point "
                "--env-file (its folder) or --laravel (its storage) elsewhere; nothing was written",
                "No room for gapmend's own files") from None
        finally:
            try:
                probe.unlink(missing_ok=True)
            except OSError:
                pass
