"""Ids inside Laravel's PHP-serialized payloads: queued jobs and database sessions.

- A queued job's ``payload`` is JSON whose ``data.command`` is the job object as PHP's
  `serialize()` wrote it; every Eloquent model it names travels as an
  ``Illuminate\\Contracts\\Database\\ModelIdentifier`` with ``class`` and ``id`` (an
  int, or a list of them for a collection).
- A database session's ``payload`` is base64 of the serialized attributes; the logged-in
  user is ``login_<guard>_<sha1> => id``.

Parsed and written back with `phpserialize` (the lengths of every string stay right),
never edited as text. `document` gives the parsed form, `ids_at`/`rewrite` read and
change the ids of one format (``php-job`` for one model's class, or ``php-session``), and
`dumps_like` writes the value back as it was stored.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from typing import Any

import phpserialize  # type: ignore[import-untyped, unused-ignore]

JOB, SESSION = "php-job", "php-session"
MODEL_IDENTIFIER = b"Illuminate\\Contracts\\Database\\ModelIdentifier"
LOGIN = b"login_"


def document(value: Any, fmt: str) -> Any | None:
    """A job's JSON with its command unserialized, or a session's attributes; None when
    the value is not one."""
    try:
        if fmt == SESSION:
            raw = base64.b64decode(_text(value), validate=True)
            doc = phpserialize.loads(raw, object_hook=phpserialize.phpobject)
            return doc if isinstance(doc, dict) else None
        doc = json.loads(_text(value))
        command = doc["data"]["command"]
        doc["data"]["command"] = phpserialize.loads(command.encode("utf-8", "surrogateescape"),
                                                    object_hook=phpserialize.phpobject)
        return doc
    except (ValueError, TypeError, KeyError, binascii.Error):
        return None


def dumps_like(doc: Any, original: Any, fmt: str) -> Any:
    """`doc` serialized back into the form `original` had."""
    if fmt == SESSION:
        out: str = base64.b64encode(phpserialize.dumps(doc)).decode("ascii")
    else:
        copy = dict(doc, data=dict(doc["data"], command=phpserialize.dumps(doc["data"]["command"])
                                   .decode("utf-8", "surrogateescape")))
        out = json.dumps(copy, separators=(",", ":"))   # ASCII, as PHP's json_encode writes it
    return out if isinstance(original, str) else out.encode()


def canonical(doc: Any, fmt: str) -> Any:
    """A form two parsed documents compare equal in (`phpobject` has no equality)."""
    return dumps_like(doc, "", fmt)


def ids_at(doc: Any, fmt: str, model: str | None) -> list[int]:
    """The ids in `doc`: a session's user's (of guard `model`), or a job's models of class `model`."""
    out: list[int] = []
    for holder, key in _holders(doc, fmt, model):
        value = holder[key]
        out.extend(v for v in (value.values() if isinstance(value, dict) else [value]) if _is_id(v))
    return out


def rewrite(doc: Any, fmt: str, model: str | None, mapping: Callable[[int], int]) -> int:
    """Replace, in place, each id `ids_at` finds by `mapping(id)`; how many changed."""
    changed = 0
    for holder, key in _holders(doc, fmt, model):
        value = holder[key]
        if isinstance(value, dict):   # a collection's ids: PHP array index => id
            for k, v in list(value.items()):
                if _is_id(v) and mapping(v) != v:
                    value[k] = mapping(v)
                    changed += 1
        elif _is_id(value) and mapping(value) != value:
            holder[key] = mapping(value)
            changed += 1
    return changed


def models(job: Any) -> Iterator[tuple[str, int]]:
    """(the model's class, an id) of every model a queued job names."""
    for cls, ident in _models(job):
        value = ident.get(b"id")
        ids: list[Any] = list(value.values()) if isinstance(value, dict) else [value]
        yield from ((cls, int(v)) for v in ids if _is_id(v))


def describe_job(value: Any) -> tuple[str, list[str]] | None:
    """A queued job's class and the models it names (``App\\Models\\User 4``), or None."""
    doc = document(value, JOB)
    if doc is None:
        return None
    name = str(doc.get("displayName") or doc["data"].get("commandName") or "?")
    return name, [f"{cls} {v}" for cls, v in models(doc)]


def logins(session: dict[Any, Any]) -> Iterator[tuple[str, int]]:
    """(guard, user id) of each ``login_<guard>_<hash>`` in a session's attributes."""
    for key in _logins(session):
        yield _guard(key), session[key]


def _guard(key: bytes) -> str:
    return key[len(LOGIN):].rsplit(b"_", 1)[0].decode("utf-8", "replace")


def _holders(doc: Any, fmt: str, model: str | None) -> Iterator[tuple[dict[Any, Any], Any]]:
    """Where the ids are: a session's logins (of guard `model`, or every guard's when
    None), or the ModelIdentifiers of class `model` in a job."""
    if fmt == SESSION:
        yield from ((doc, key) for key in _logins(doc) if model is None or _guard(key) == model)
        return
    yield from ((ident, b"id") for cls, ident in _models(doc) if cls == model and b"id" in ident)


def _logins(session: dict[Any, Any]) -> list[bytes]:
    """A session's ``login_<guard>_<hash>`` keys that hold a user's id."""
    return [k for k, v in session.items() if isinstance(k, bytes) and k.startswith(LOGIN) and _is_id(v)]


def _models(job: Any) -> Iterator[tuple[str, dict[bytes, Any]]]:
    """(class, properties) of each ModelIdentifier in a job's command."""
    for ident in _identifiers(job["data"]["command"]):
        cls = ident.get(b"class")
        if isinstance(cls, bytes):
            yield cls.decode(), ident


def _identifiers(node: Any) -> Iterator[dict[bytes, Any]]:
    """The properties of every ModelIdentifier inside a serialized object graph."""
    if isinstance(node, phpserialize.phpobject):
        props = node.__php_vars__
        if node.__name__ == MODEL_IDENTIFIER:
            yield props
            return
        node = props
    if isinstance(node, dict):
        for value in node.values():
            yield from _identifiers(value)


def _text(value: Any) -> str:
    return bytes(value).decode("utf-8", "surrogateescape") if isinstance(value, (bytes, bytearray)) else str(value)


def _is_id(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0
