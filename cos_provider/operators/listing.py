"""List keys or "folders": :meth:`CosHook.list_keys` / :meth:`CosHook.list_prefixes
<cos_provider.hooks.cos.CosHook.list_prefixes>` as a task, for ``.expand()``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cos_provider.client import validation
from cos_provider.client.errors import CosValidationError
from cos_provider.operators.base import CosBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class CosListOperator(CosBaseOperator):
    """List the keys under ``prefix`` (or matching ``match_glob``), or the folders under it.

    :param delimiter: With keys: only the keys directly under ``prefix``. With
        ``folders=True``: the delimiter of the folders (default ``/``).
    :param folders: Return COS's common prefixes (``d/sub/``) instead of keys.

    Returns a list of strings (keys, or prefixes ending in the delimiter), in
    COS's order, ready for ``.expand()``.
    """

    template_fields: Sequence[str] = ("bucket", "prefix", "match_glob", "delimiter", "cos_conn_id", "region")

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        match_glob: str | None = None,
        delimiter: str | None = None,
        folders: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bucket = bucket
        self.prefix = prefix
        self.match_glob = match_glob
        self.delimiter = delimiter
        self.folders = folders

    def execute(self, context: Context) -> list[str]:
        if validation.validate_bool(self.folders, "folders"):
            if self.match_glob is not None:
                raise CosValidationError("match_glob", "is not used with folders=True; give a prefix")
            listed = self.hook.list_prefixes(self.bucket, self.prefix, self.delimiter or "/")
        else:
            listed = self.hook.list_keys(
                self.bucket, self.prefix, match_glob=self.match_glob, delimiter=self.delimiter
            )
        self.log.info(
            "listed %d %s in %s", len(listed), "folder(s)" if self.folders else "key(s)", self.bucket
        )
        return listed
