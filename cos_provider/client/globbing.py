"""Key globs: one dialect for every caller that selects keys by pattern.

The prefix copy operator and the sensors both list a literal prefix and keep
the keys a glob matches; if each had its own translation, the same
``match_glob`` could select different objects in a copy than in the sensor
waiting for them. The dialect is path-aware, since COS keys are paths by
convention: ``*``, ``?`` and classes stay within one ``/`` segment, ``**``
crosses segments (``**/`` also matches no directory), ``[abc]``, ``[a-z]``
and ``[!a]`` (or ``[^a]``) are classes, a ``]`` right after the opening
``[`` (or its ``!``) is literal, and a ``[`` without a closing ``]`` is
literal, so ``[*]`` matches a literal ``*``.
"""

from __future__ import annotations

import functools
import re

from cos_provider.client.errors import CosValidationError

GLOB_CHARS = "*?["


def has_glob(pattern: str) -> bool:
    return any(c in pattern for c in GLOB_CHARS)


def literal_prefix(pattern: str) -> str:
    """The longest prefix of ``pattern`` without glob characters: what to list.

    Every key the glob matches starts with it, so listing only this prefix
    never loses a match.
    """
    cut = min((i for i in (pattern.find(c) for c in GLOB_CHARS) if i >= 0), default=len(pattern))
    return pattern[:cut]


def _class_items(body: str) -> str:
    """A class body with every character literal except the ``-`` of a range.

    Escaping a lone ``-`` (and the endpoints of a range) keeps ``re`` from
    reading ``--`` as a future set operation; the ranges it builds are the
    ones ``re`` itself would (a ``-`` first or last is literal).
    """
    out: list[str] = []
    k = 0
    while k < len(body):
        if k + 2 < len(body) and body[k + 1] == "-":
            out.append(f"{re.escape(body[k])}-{re.escape(body[k + 2])}")
            k += 3
        else:
            out.append(re.escape(body[k]))
            k += 1
    return "".join(out)


@functools.lru_cache(maxsize=512)
def glob_regex(pattern: str, field: str = "key") -> re.Pattern[str]:
    """Compile a key glob (see the module docstring); the regex matches whole keys only.

    It ends in ``\\Z``, so ``match`` and ``fullmatch`` agree. An invalid glob
    (a reversed range such as ``[z-a]``) raises :class:`CosValidationError`
    naming ``field``, the parameter it came from.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                negate = body[:1] in ("!", "^")
                if negate:
                    body = body[1:]
                items = _class_items(body)
                out.append(f"[^/{items}]" if negate else f"[{items}]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    try:
        return re.compile("".join(out) + r"\Z", re.DOTALL)
    except re.error as exc:  # e.g. a reversed range such as [z-a]
        raise CosValidationError(field, f"{pattern!r} is not a valid glob: {exc}") from None


__all__ = ["GLOB_CHARS", "glob_regex", "has_glob", "literal_prefix"]
