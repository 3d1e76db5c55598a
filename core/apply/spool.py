"""Keys kept on disk instead of in memory, read back in the order they were written.

The restore learns each Friday insert of a pivot or natural-key table from the plan's
scan and needs them again only when it writes that table, one chunk at a time: a spool
holds them in a private temporary file (unlinked at once, readable by its owner only),
so the restore's memory does not grow with those tables' share of the gap.
"""

from __future__ import annotations

import pickle
import tempfile
from typing import Any, Iterator

Key = tuple[Any, ...]


class KeySpool:
    """An append-only list of keys on disk, written and read back in chunks."""

    def __init__(self, chunk: int = 5000) -> None:
        self.chunk = chunk
        self._file = tempfile.TemporaryFile(prefix="gapmend-keys-")
        self._buffer: list[Key] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def append(self, key: Key) -> None:
        self._buffer.append(key)
        self._count += 1
        if len(self._buffer) >= self.chunk:
            self._flush()

    def chunks(self) -> Iterator[list[Key]]:
        """The keys in the order they were appended, `chunk` at a time."""
        self._flush()
        self._file.seek(0)
        while True:
            try:
                yield pickle.load(self._file)
            except EOFError:
                break
        self._file.seek(0, 2)   # appending may go on after a read

    def close(self) -> None:
        self._file.close()

    def _flush(self) -> None:
        if self._buffer:
            pickle.dump(self._buffer, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._buffer = []
