"""Which objects a bulk operation touches: a prefix, a glob or a list of keys.

Prefix copies now, and deletes and downloads later, all select sources the
same way and map source keys to destination keys the same way, so the rule
lives here once. Globs use the sensors' dialect (:mod:`globbing`), so a task
waiting for ``data/*.csv`` and the copy that follows it select the same keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from cos_provider.client import validation
from cos_provider.client.errors import CosValidationError
from cos_provider.client.globbing import glob_regex, literal_prefix
from cos_provider.client.models import ListedObject
from cos_provider.client.operations import ObjectRef

SELECTORS = ("prefix", "match_glob", "keys")


@dataclass(frozen=True)
class Selection:
    """Exactly one of ``prefix``, ``match_glob`` or ``keys``; built by :meth:`of`."""

    mode: str
    prefix: str = ""
    pattern: re.Pattern[str] | None = None
    keys: tuple[str, ...] = ()

    @classmethod
    def of(cls, prefix: Any = None, match_glob: Any = None, keys: Any = None) -> Selection:
        values = {"prefix": prefix, "match_glob": match_glob, "keys": keys}
        given = [n for n in SELECTORS if values[n] not in (None, "", [], ())]
        if prefix == "" and not given:
            given = ["prefix"]  # "" = the whole bucket
        if len(given) != 1:
            raise CosValidationError(
                "prefix/match_glob/keys", f"give exactly one of them, got {', '.join(given) or 'none'}"
            )
        mode = given[0]
        if mode == "keys":
            if isinstance(keys, str) or not isinstance(keys, Iterable):
                raise CosValidationError("keys", "must be a list of non-empty keys")
            listed = tuple(keys)
            if not all(isinstance(k, str) and k for k in listed):
                raise CosValidationError("keys", "must be a list of non-empty keys")
            for k in listed:
                validation.validate_key(k, "keys")
            return cls("keys", keys=listed)
        if mode == "match_glob":
            if not isinstance(match_glob, str):
                raise CosValidationError("match_glob", f"must be a string, got {type(match_glob).__name__}")
            return cls("match_glob", literal_prefix(match_glob), glob_regex(match_glob, "match_glob"))
        if not isinstance(prefix, str):
            raise CosValidationError("prefix", f"must be a string, got {type(prefix).__name__}")
        return cls("prefix", prefix)

    @property
    def strip(self) -> str:
        """What is cut from a source key before ``dest_prefix`` is put in front."""
        return "" if self.mode == "keys" else self.prefix

    def dest_key(self, key: str, dest_prefix: str | None) -> str:
        if dest_prefix is None:
            return key
        return dest_prefix + key[len(self.strip) :]

    def maps_to_itself(self, dest_prefix: str | None) -> bool:
        return dest_prefix is None or dest_prefix == self.strip

    def filter(self, listing: Iterable[ListedObject]) -> Iterator[ListedObject]:
        """The entries of a listing of :attr:`prefix` that the selection takes."""
        for obj in listing:
            if self.pattern is None or self.pattern.match(obj.key):
                yield obj

    def key_list(self) -> Sequence[str]:
        return self.keys


Pair = tuple[ObjectRef, ObjectRef, ListedObject | None]


@dataclass(frozen=True)
class CopyMapping:
    """Where each selected source goes; built by :meth:`of`, which validates before any request."""

    selection: Selection
    source_bucket: str
    dest_bucket: str
    dest_prefix: str | None
    source_region: str | None
    dest_region: str | None

    @classmethod
    def of(
        cls,
        selection: Selection,
        source_bucket: str,
        dest_bucket: str,
        *,
        dest_prefix: Any = None,
        source_region: str | None = None,
        dest_region: str | None = None,
        directive: str = "Copy",
    ) -> CopyMapping:
        if dest_prefix is not None and not isinstance(dest_prefix, str):
            raise CosValidationError("dest_prefix", f"must be a string, got {type(dest_prefix).__name__}")
        if dest_prefix:
            validation.validate_key(dest_prefix, "dest_prefix")
        # Bucket names are unique across regions, so the same name is the same bucket.
        if source_bucket == dest_bucket and selection.maps_to_itself(dest_prefix) and directive != "Replaced":
            raise CosValidationError(
                "metadata_directive",
                "must be 'Replaced' when source and destination are the same objects "
                "(same bucket and dest_prefix maps every key to itself)",
            )
        return cls(selection, source_bucket, dest_bucket, dest_prefix, source_region, dest_region)

    def pairs(self, list_source: Callable[[str, str], Iterable[ListedObject]]) -> Iterator[Pair]:
        """(source, destination, listing entry) lazily; ``list_source(bucket, prefix)`` is only called for a listing."""
        sel = self.selection
        if sel.mode == "keys":
            entries: Iterable[tuple[str, ListedObject | None]] = ((k, None) for k in sel.keys)
        else:
            entries = ((obj.key, obj) for obj in sel.filter(list_source(self.source_bucket, sel.prefix)))
        for key, entry in entries:
            src = ObjectRef(self.source_bucket, key, None, self.source_region)
            dst = ObjectRef(self.dest_bucket, sel.dest_key(key, self.dest_prefix), None, self.dest_region)
            yield src, dst, entry
