"""``overwrite=False``: COS's atomic no-clobber (``x-cos-forbid-overwrite: true``) and its refusal.

The header goes on PUT Object - Copy, Initiate (as the SDK sends it) and
Complete, so the existence check happens inside COS at the moment the object
would be written - no HEAD-then-copy race. An existing destination answers
409 ``FileAlreadyExists``; :class:`DestinationExistsError` restates it
naming the destination. COS ignores the header on a bucket that has ever had
versioning enabled: there a copy always adds a new version.
"""

from __future__ import annotations

from cos_provider.client.errors import CosServiceError, RestatedServiceError
from cos_provider.client.operations import ObjectRef

CONFLICT_CODE = "FileAlreadyExists"


class DestinationExistsError(RestatedServiceError):
    """The destination already exists and the copy was asked not to overwrite it."""

    def __init__(self, cause: CosServiceError, dest: ObjectRef, operation: str) -> None:
        self.dest = dest
        self.operation = operation
        super().__init__(cause)

    def _render(self) -> str:
        return (
            f"{self.dest.uri()} already exists and overwrite=False: COS refused {self.operation} "
            f"(x-cos-forbid-overwrite); delete it or copy with overwrite=True. {super()._render()}"
        )


def is_conflict(exc: BaseException) -> bool:
    return isinstance(exc, CosServiceError) and exc.code == CONFLICT_CODE
