"""The copy engine: planning, single and managed multipart copy, resume.

No Airflow import here; operators build on it, and so can scripts.
"""

from cos_provider.client.copy.engine import (
    CopiedPart,
    CopyEngine,
    CopyOptions,
    CopyOutcome,
    MultipartSession,
    check_conditions,
    initiate_attributes,
)
from cos_provider.client.copy.errors import CopyCancelled, CopyPartServiceError, CopyPartTransportError
from cos_provider.client.copy.plan import (
    DEFAULT_CONCURRENCY,
    MAX_MAPPED_BATCHES,
    Batch,
    CopyPlan,
    PartRange,
    TransferModel,
    auto_part_size,
    ideal_time,
    plan_parts,
)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "MAX_MAPPED_BATCHES",
    "Batch",
    "CopiedPart",
    "CopyCancelled",
    "CopyEngine",
    "CopyOptions",
    "CopyOutcome",
    "CopyPartServiceError",
    "CopyPartTransportError",
    "CopyPlan",
    "MultipartSession",
    "PartRange",
    "TransferModel",
    "auto_part_size",
    "check_conditions",
    "ideal_time",
    "initiate_attributes",
    "plan_parts",
]
