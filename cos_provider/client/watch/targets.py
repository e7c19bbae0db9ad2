"""What a sensor waits for, from the ``bucket``/``key`` parameters DAG authors write.

Keys and ``cos://`` URLs are read by :mod:`cos_provider.client.uri`, the parser
the operators and assets use, so ``COS://b/k`` names key ``k`` in bucket
``b`` for a sensor exactly as it does for the copy that follows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cos_provider.client.errors import CosValidationError
from cos_provider.client.globbing import glob_regex, has_glob
from cos_provider.client.uri import cos_url, split_cos_url


@dataclass(frozen=True)
class Target:
    """One thing to wait for: an exact key, or a glob when ``glob`` is set."""

    bucket: str
    key: str
    glob: bool = False

    @property
    def uri(self) -> str:
        return cos_url(self.bucket, self.key)


def parse_targets(
    bucket: str | None, keys: str | Sequence[str], use_glob: bool = False
) -> tuple[Target, ...]:
    """Targets from ``bucket`` plus keys, where each key may be a ``cos://bucket/key`` URL.

    A URL names its own bucket; a plain key needs ``bucket``. With
    ``use_glob``, keys containing ``*``, ``?`` or ``[`` are globs.
    """
    items = [keys] if isinstance(keys, str) else list(keys)
    if not items:
        raise CosValidationError("key", "give at least one key or cos:// URL")
    targets: list[Target] = []
    for item in items:
        if not isinstance(item, str) or not item:
            raise CosValidationError("key", f"must be a non-empty string, got {item!r}")
        url_bucket, key = split_cos_url(item)
        target_bucket = url_bucket or bucket
        if not target_bucket:
            raise CosValidationError(
                "bucket", f"is required for key {item!r} (or give a cos://bucket/key URL)"
            )
        glob = use_glob and has_glob(key)
        if glob:
            glob_regex(key, "key")  # an impossible glob fails now, not after the first listing
        targets.append(Target(target_bucket, key, glob=glob))
    return tuple(targets)


def parse_target(bucket: str | None, key: str) -> Target:
    """The single target of a sensor that watches one object."""
    (target,) = parse_targets(bucket, key)
    return target


__all__ = ["Target", "parse_target", "parse_targets"]
