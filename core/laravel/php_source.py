"""Reading facts out of a Laravel app's PHP source without running it: the text of an
array literal, and a class name made fully qualified. Used for the morph map
(`morph_map`) and the session guards (`app_guards`)."""

from __future__ import annotations

import re

# Whole-line comments and comment blocks: a `//` inside a string ('https://…') is not one.
_USE = re.compile(r"^\s*use\s+(?P<fqcn>[\w\\]+)(?:\s+as\s+(?P<alias>\w+))?\s*;", re.M)
_COMMENT = re.compile(r"^[ \t]*(?://|#)[^\n]*|/\*.*?\*/", re.S | re.M)


def without_comments(source: str) -> str:
    """`source` with its comments blanked (newlines kept, so line numbers stay right);
    a commented-out entry in a config file is not an entry."""
    return _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), source)


def array_body(source: str, start: int) -> str:
    """The text of the array literal opened just before `start`, to its closing bracket."""
    depth = 1
    for i in range(start, len(source)):
        if source[i] == "[":
            depth += 1
        elif source[i] == "]":
            depth -= 1
            if depth == 0:
                return source[start:i]
    return source[start:]


def qualify(cls: str, imports: dict[str, str], namespace: str) -> str:
    """`cls` as PHP resolves it in a file with these `use` imports and namespace."""
    if cls.startswith("\\"):
        return cls[1:]
    head, _, rest = cls.partition("\\")
    if head in imports:
        return imports[head] + ("\\" + rest if rest else "")
    return f"{namespace}\\{cls}" if namespace else cls


def imports(source: str) -> dict[str, str]:
    """The file's `use` imports: the name it uses (the alias, or the last part) -> the class."""
    return {m["alias"] or m["fqcn"].rsplit("\\", 1)[-1]: m["fqcn"] for m in _USE.finditer(source)}
