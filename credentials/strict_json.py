"""Strict JSON: the only JSON that goes into a credential, and how it is written.

JSON (RFC 8259) has no NaN or Infinity, and a number too large for a double (``1e999``) is read as infinity by
Python and JavaScript alike, so none of them can be signed into a credential that others must read back.
Duplicate member names are refused too: two readers may keep different copies. Tokens are parsed by
:func:`credentials.jose.parse_compact` with the same hooks; requests are parsed by :func:`loads`, which also
says where the problem is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import orjson


class JSONRejected(ValueError):
    """The text is not strict JSON; ``path`` names the member (``evidence[0].score``) or ``(root)``."""

    def __init__(self, reason: str, path: str = "(root)") -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason
        self.path = path


class DuplicateMember(ValueError):
    """An object repeats a member name; raised by :func:`object_without_duplicates`."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def reject_constant(name: str) -> Any:
    """``parse_constant`` hook: NaN, Infinity and -Infinity are not JSON."""
    raise ValueError(f"{name} is not JSON")


def object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` that raises :class:`DuplicateMember` for a repeated member name."""
    result = dict(pairs)
    if len(result) != len(pairs):
        raise DuplicateMember(_first_repeated(pairs))
    return result


def _first_repeated(pairs: list[tuple[str, Any]]) -> str:
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            return name
        seen.add(name)
    raise AssertionError("no repeated member")  # pragma: no cover - only called when one exists


class _Rejected:
    """Stands in for a value that strict JSON refuses, so that :func:`loads` can say where it was."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _marked_constant(name: str) -> _Rejected:
    return _Rejected(f"{name} is not a JSON number")


def _marked_float(text: str) -> float | _Rejected:
    value = float(text)
    if math.isfinite(value):
        return value
    return _Rejected(f"the number {text[:24]} is too large to be read back")


def _marked_object(pairs: list[tuple[str, Any]]) -> dict[str, Any] | _Rejected:
    result = dict(pairs)
    if len(result) != len(pairs):
        return _Rejected(f"the member {_first_repeated(pairs)[:60]!r} appears twice")
    return result


def _child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]" if path else f"[{key}]"
    return f"{path}.{key}" if path else key


def _first_rejected(value: Any) -> tuple[str, str] | None:
    """Depth-first, in document order: the path and reason of the first refused value, or ``None``."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, _Rejected):
            return path or "(root)", item.reason
        if isinstance(item, dict):
            stack.extend((_child_path(path, key), child) for key, child in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((_child_path(path, index), child) for index, child in reversed(list(enumerate(item))))
    return None


def loads(text: str | bytes) -> Any:
    """Parse strict JSON. Raises :class:`JSONRejected` naming where a NaN, an Infinity, a number too large
    to read back, or a repeated member name was found, and ``(root)`` for text that is not JSON at all."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        value = json.loads(
            text, object_pairs_hook=_marked_object, parse_constant=_marked_constant, parse_float=_marked_float
        )
    except UnicodeDecodeError as exc:
        raise JSONRejected("the text is not UTF-8") from exc
    except (ValueError, RecursionError) as exc:
        raise JSONRejected("the text is not JSON") from exc
    found = _first_rejected(value)
    if found is not None:
        raise JSONRejected(found[1], found[0])
    return value


def first_unrepresentable(value: Any) -> str | None:
    """The path of the first float in ``value`` that JSON cannot carry (NaN or infinite), or ``None``."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return path or "(root)"
        if isinstance(item, Mapping):
            stack.extend((_child_path(path, str(key)), child) for key, child in reversed(list(item.items())))
        elif isinstance(item, list | tuple):
            stack.extend((_child_path(path, index), child) for index, child in reversed(list(enumerate(item))))
    return None


def dumps_base64_plain(value: Any) -> bytes:
    r"""Compact, pure-ASCII JSON whose base64 needs no ``+`` or ``/`` (so its base64url no ``-`` or ``_``).

    In ASCII text only ``>``, ``?``, ``~`` and DEL can produce those characters (at every third byte); outside
    strings JSON never holds them, and inside strings they are written as ``\u`` escapes, which mean the same.
    Raises ``ValueError`` for NaN or infinity.
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    for char in ">?~\x7f":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text.encode("ascii")


_AS_STANDARD = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
"""Dates and dataclasses are refused, as the standard library refuses them, not written in orjson's own way."""


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, as signed into a JWS. Raises ``ValueError`` for NaN or infinity rather than writing
    ``NaN`` or ``Infinity``, which no JSON reader accepts.

    orjson writes it: the standard library's compact form, about twenty times faster (only a number with an
    exponent is spelled otherwise, 1e-7 for 1e-07, and reads back the same). It refuses a member name that is
    not a string, so no name can come out twice. It writes NaN and infinity as ``null``, though, and refuses
    some values the standard library takes: whenever its text holds a ``null`` anywhere (even inside a string),
    or it refuses, the standard library writes the value instead and decides."""
    try:
        text = orjson.dumps(value, option=_AS_STANDARD)
    except orjson.JSONEncodeError:
        text = b"null"
    if b"null" not in text:
        return text
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
