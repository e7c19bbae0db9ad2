"""Rendering of COS XML bodies, by string building.

No namespace (the SDK keeps unknown namespaces in its keys and then cannot
find ``ETag``), elements in the order Tencent documents them, and the XML
declaration only when nothing precedes it: after keep-alive whitespace a
declaration is a parse error, so those bodies are rendered without one.
String building rather than lxml keeps Upload Part - Copy, the hot path of
benchmarks, cheap.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from xml.sax.saxutils import escape

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

Node = tuple[str, "str | int | Iterable[Node] | None"]


def iso8601(ts: float) -> str:
    millis = int((ts - int(ts)) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{millis:03d}Z"


def _render(name: str, value: object, out: list[str]) -> None:
    if value is None:
        return
    if isinstance(value, str | int):
        out.append(f"<{name}>{escape(str(value))}</{name}>")
        return
    out.append(f"<{name}>")
    for child_name, child_value in value:  # type: ignore[attr-defined]
        _render(child_name, child_value, out)
    out.append(f"</{name}>")


def document(root: str, children: Iterable[Node], *, declaration: bool = True) -> bytes:
    out: list[str] = [DECLARATION] if declaration else []
    _render(root, list(children), out)
    return "".join(out).encode("utf-8")


def error(
    code: str, message: str, resource: str, request_id: str, trace_id: str, *, declaration: bool = True
) -> bytes:
    return document(
        "Error",
        [
            ("Code", code),
            ("Message", message),
            ("Resource", resource),
            ("RequestId", request_id),
            ("TraceId", trace_id),
        ],
        declaration=declaration,
    )


def quoted(etag: str) -> str:
    return f'"{etag}"'


def owner(uin: str) -> list[Node]:
    return [("ID", f"qcs::cam::uin/{uin}:uin/{uin}"), ("DisplayName", uin)]
