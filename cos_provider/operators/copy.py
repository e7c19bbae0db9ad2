"""The copy operators, importable from where DAGs written for 0.1 look for them.

Each family now has its own module (:mod:`.object_copy`, :mod:`.metadata`,
:mod:`.prefix_copy`, :mod:`.multipart`); this one only re-exports.
"""

from __future__ import annotations

from cos_provider.operators.metadata import CosReplaceObjectMetadataOperator
from cos_provider.operators.object_copy import CosCopyObjectOperator
from cos_provider.operators.prefix_copy import CosCopyPrefixOperator

__all__ = ["CosCopyObjectOperator", "CosCopyPrefixOperator", "CosReplaceObjectMetadataOperator"]
