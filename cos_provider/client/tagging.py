"""Object tags: one rule for the header a write carries, the XML COS answers, and the emulator.

COS takes the tags of a new object as ``x-cos-tagging: k1=v1&k2=v2`` and
requires the caller to URL-encode keys and values (doc 436/7749, 436/7746,
436/10881); GET Object tagging answers ``Tagging/TagSet/Tag/Key,Value`` XML.
Users give tags either as a dict or as that header string (already
URL-encoded, as the COS docs write it). Both are decoded to ``(key, value)``
pairs, checked against COS's rules, and encoded again one canonical way:
every byte outside ``A-Z a-z 0-9 - _ . ~`` is percent-encoded (UTF-8), so a
``+`` (a legal tag character) can never be read as a space, and the same tags
always make the same header - the multipart resume witness hashes it.

Decoding is percent-decoding only (``unquote``, not ``unquote_plus``): a
literal ``+`` in a string the user wrote is a plus, as the tag charset allows.

The rules (doc 436/35709 PUT Object tagging; 436/35665 overview):

* at most :data:`~cos_provider.client.limits.MAX_TAGS` tags, keys unique
  (case-sensitive);
* keys 1-128 characters, values 0-256 (the API page; the overview page says
  1-127 and 1-255, so COS may be stricter on the edges);
* letters and digits of any script, space, and ``+ - = . _ : / @``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote

from cos_provider.client import limits
from cos_provider.client.errors import CosValidationError

Tags = tuple[tuple[str, str], ...]
"""Decoded tags, in the order given."""


def problem(key: str, value: str) -> str | None:
    """What is wrong with one tag, or ``None``; shared by the client and the emulator."""
    if not 1 <= len(key) <= limits.MAX_TAG_KEY_CHARS:
        return f"tag key {key!r} is {len(key)} characters; COS allows 1 to {limits.MAX_TAG_KEY_CHARS}"
    if len(value) > limits.MAX_TAG_VALUE_CHARS:
        return (
            f"the value of tag {key!r} is {len(value)} characters; COS allows at most "
            f"{limits.MAX_TAG_VALUE_CHARS}"
        )
    for what, text in (("key", key), ("value", value)):
        bad = sorted({c for c in text if not (c.isalnum() or c in limits.TAG_PUNCTUATION)})
        if bad:
            return (
                f"tag {what} {text!r} holds {', '.join(repr(c) for c in bad)}; COS allows letters, "
                "digits, spaces and + - = . _ : / @"
            )
    return None


def check(tags: Tags) -> str | None:
    """What is wrong with a whole tag set, or ``None``."""
    if len(tags) > limits.MAX_TAGS:
        return f"{len(tags)} tags; COS allows at most {limits.MAX_TAGS} per object"
    seen: set[str] = set()
    for key, value in tags:
        if key in seen:
            return f"tag key {key!r} is given twice; keys must be unique"
        seen.add(key)
        found = problem(key, value)
        if found:
            return found
    return None


def decode_header(text: str) -> Tags:
    """The pairs of ``k=v&k2=v2`` (percent-decoded); ``ValueError`` saying what is malformed."""
    if text == "":
        return ()
    pairs: list[tuple[str, str]] = []
    for item in text.split("&"):
        if "=" not in item:
            raise ValueError(f"{item!r} is not key=value (tags are 'k1=v1&k2=v2')")
        key, _, value = item.partition("=")
        try:
            pairs.append((unquote(key, errors="strict"), unquote(value, errors="strict")))
        except UnicodeDecodeError:
            raise ValueError(f"{item!r} percent-decodes to bytes that are not UTF-8") from None
    return tuple(pairs)


def parse(value: Any, field: str = "tagging") -> Tags | None:
    """Tags from a dict or a ``k=v&k2=v2`` string, checked; ``None`` when none are given.

    ``None``, ``""`` and ``{}`` all mean "no tags given" (an empty template
    renders as ``""``); to remove the source's tags on a copy, pass
    ``tagging_directive="Replaced"`` without tags.
    """
    if value is None or value == "" or (isinstance(value, Mapping) and not value):
        return None
    if isinstance(value, Mapping):
        pairs: list[tuple[str, str]] = []
        for key, val in value.items():
            if not isinstance(key, str) or not isinstance(val, str):
                raise CosValidationError(
                    field,
                    f"must map string keys to string values; {key!r}: {type(val).__name__} is not",
                )
            pairs.append((key, val))
        tags: Tags = tuple(pairs)
    elif isinstance(value, str):
        try:
            tags = decode_header(value)
        except ValueError as exc:
            raise CosValidationError(field, str(exc)) from None
    else:
        raise CosValidationError(
            field, f"must be a dict of tags or a 'k1=v1&k2=v2' string, got {type(value).__name__}"
        )
    found = check(tags)
    if found:
        raise CosValidationError(field, found)
    return tags


def encode(tags: Iterable[tuple[str, str]]) -> str:
    """The canonical ``x-cos-tagging`` value of ``tags`` (see the module docstring)."""
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in tags)


def header(value: Any, field: str = "tagging") -> str | None:
    """The canonical header of a tags parameter (dict or string), or ``None`` for no tags."""
    tags = parse(value, field)
    return None if tags is None else encode(tags)


def directive(value: Any, has_tags: bool, field: str = "tagging_directive") -> str | None:
    """``x-cos-tagging-directive`` to send, from the parameter and whether tags were given.

    COS copies the source's tags unless the directive is ``Replaced``, and
    ignores request tags otherwise - so tags passed to a copy would vanish
    silently. The rule: the value is case-folded to ``Copy``/``Replaced``;
    when it is not given it is ``Replaced`` if tags are given, and not sent
    (COS's default, ``Copy``) if not; ``Copy`` together with tags is refused.
    """
    if value is None or value == "":
        return "Replaced" if has_tags else None
    if not isinstance(value, str):
        raise CosValidationError(field, f"must be 'Copy' or 'Replaced', got {type(value).__name__}")
    canonical = {d.lower(): d for d in limits.TAGGING_DIRECTIVES}.get(value.lower())
    if canonical is None:
        raise CosValidationError(field, f"must be 'Copy' or 'Replaced', got {value!r}")
    if canonical == "Copy" and has_tags:
        raise CosValidationError(
            field,
            "is 'Copy', which keeps the source's tags and makes COS ignore the tagging given; "
            "use 'Replaced' (the default when tagging is given)",
        )
    return canonical
