"""Which objects a bulk operation touches: a prefix, a glob or a list of keys.

Prefix copies now, and deletes and downloads later, all select sources the
same way and map source keys to destination keys the same way, so the rule
lives here once. Globs use the sensors' dialect (:mod:`globbing`), so a task
waiting for ``data/*.csv`` and the copy that follows it select the same keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from cos_provider.client import validation
from cos_provider.client.errors import CosValidationError
from cos_provider.client.globbing import glob_regex, literal_prefix
from cos_provider.client.models import ListedObject

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
