"""The copy engine: planning, single and managed multipart copy, resume, many objects.

No Airflow import here; operators build on it, and so can scripts.

Modules: :mod:`.engine` (the :class:`CopyEngine` façade and the story of a
copy), :mod:`.models` (options, outcome, the session that travels between
tasks), :mod:`.source` (conditions and inherited attributes),
:mod:`.single` (one PUT copy), :mod:`.multipart` (start, finish, complete),
:mod:`.parts` (copying parts, and which existing parts can be kept),
:mod:`.window` (the bounded thread-pool window), :mod:`.many` (a prefix),
:mod:`.resume` (the witness rule), :mod:`.orphans` (the uploads of
Initiate attempts whose reply was lost), :mod:`.cancel`, :mod:`.cleanup`,
:mod:`.plan`, :mod:`.progress`, :mod:`.errors`.
"""

from cos_provider.client.copy.engine import CopyEngine
from cos_provider.client.copy.errors import (
    CopyCancelled,
    CopyPartServiceError,
    CopyPartTransportError,
    LostUploadError,
    UploadNotAborted,
)
from cos_provider.client.copy.many import ManyCopyResult, Pair, already_copied, copy_many
from cos_provider.client.copy.models import CopiedPart, CopyOptions, CopyOutcome, MultipartSession
from cos_provider.client.copy.parts import planned_parts
from cos_provider.client.copy.plan import (
    DEFAULT_CONCURRENCY,
    MAX_MAPPED_BATCHES,
    Batch,
    CopyPlan,
    PartRange,
    TransferModel,
    auto_part_size,
    plan_parts,
)
from cos_provider.client.copy.source import check_conditions, initiate_attributes
from cos_provider.client.copy.window import run_window

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
    "LostUploadError",
    "ManyCopyResult",
    "MultipartSession",
    "Pair",
    "PartRange",
    "TransferModel",
    "UploadNotAborted",
    "already_copied",
    "auto_part_size",
    "check_conditions",
    "copy_many",
    "initiate_attributes",
    "plan_parts",
    "planned_parts",
    "run_window",
]
