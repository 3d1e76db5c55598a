"""``CONVERT(expr USING charset) [COLLATE collation]``: MariaDB's way of naming a string's
character set and collation in a statement; the expression unchanged on other databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal


class Convert(FunctionElement[Any]):
    """The character set and collation are part of the statement cache's key: two
    conversions of one column into different collations are different SQL."""

    inherit_cache = True
    _traverse_internals = [*FunctionElement._traverse_internals,
                           ("charset", InternalTraversal.dp_string), ("collation", InternalTraversal.dp_string)]

    def __init__(self, expr: ColumnElement[Any], charset: str, collation: str | None = None) -> None:
        self.charset, self.collation = charset, collation
        super().__init__(expr)
        self.type = expr.type


@compiles(Convert)
def _convert_default(element: Convert, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(list(element.clauses)[0], **kw))


@compiles(Convert, "mysql")
@compiles(Convert, "mariadb")
def _convert_mysql(element: Convert, compiler: Any, **kw: Any) -> str:
    out = f"CONVERT({compiler.process(list(element.clauses)[0], **kw)} USING {element.charset})"
    return f"{out} COLLATE {element.collation}" if element.collation else out
