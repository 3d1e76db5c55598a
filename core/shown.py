"""Values and keys as the database shows them, for every line an operator reads:
text quoted, NULL, dates and numbers plain, bytes in hex (never Python's reprs such as
``datetime.datetime(2026, 11, 20, 9, 0)``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable, Mapping


def value(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "0x" + bytes(v).hex()
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return str(v)


def bare(v: Any) -> str:
    """A value as the database shows it, unquoted (an id in a file or a sentence)."""
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, (datetime, date)):
        return v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat()
    return "" if v is None else str(v)


def pairs(values: Mapping[str, Any]) -> str:
    """``production=…, crashed=…``: a mapping in a log line, without Python's braces."""
    return ", ".join(f"{k}={bare(v)}" for k, v in values.items())


def key(k: Iterable[Any]) -> str:
    """A row's key: the value alone for a one-column key, else in parentheses."""
    parts = [value(v) for v in k]
    return parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")"


def cut(text: str, width: int | None) -> str:
    """`text` within `width` characters (None: whole), an ellipsis marking the cut."""
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 problem``, ``2 problems``."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
