"""The key spool gives back exactly what went in, in order, across its chunk boundaries,
and keeps nothing but the current chunk in memory."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from gapmend.core.apply.spool import KeySpool


def test_keys_come_back_in_order_across_chunks() -> None:
    keys = [(i, f"k{i}", datetime(2026, 1, 1, i % 24), Decimal(i) / 3, None) for i in range(2_503)]
    spool = KeySpool(chunk=500)
    for key in keys[:1_200]:
        spool.append(key)
    assert len(spool._buffer) == 200          # two chunks already on disk
    first = [k for chunk in spool.chunks() for k in chunk]
    for key in keys[1_200:]:                  # appending after a read goes on at the end
        spool.append(key)
    chunks = list(spool.chunks())
    spool.close()
    assert first == keys[:1_200]
    assert [k for chunk in chunks for k in chunk] == keys and len(spool) == len(keys)
    assert max(len(c) for c in chunks) == 500


def test_an_empty_spool_yields_nothing() -> None:
    spool = KeySpool()
    assert list(spool.chunks()) == [] and len(spool) == 0
    spool.close()
