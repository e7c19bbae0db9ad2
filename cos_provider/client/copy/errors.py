"""Errors of the copy engine: the service and transport errors of one part,
restated so the message names the part, its byte range, the upload and the
COS request id, while staying catchable as the original error class."""

from __future__ import annotations

from cos_provider.client.copy.plan import PartRange
from cos_provider.client.errors import CosError, CosServiceError, CosTransportError, RestatedServiceError


class CopyCancelled(CosError):
    """The copy was cancelled (``on_kill``, a timeout, or a sibling's failure)."""


class _FailedStep:
    """The context both restated errors carry, so a handler can read it off either."""

    part: PartRange | None
    upload_id: str | None
    operation: str

    def _remember(self, operation: str, part: PartRange | None, upload_id: str | None) -> None:
        self.part = part
        self.upload_id = upload_id
        self.operation = operation

    @property
    def step(self) -> str:
        """The failed step as the message names it: operation, part and range, upload."""
        what = self.operation
        if self.part is not None:
            what += f" part {self.part.number} ({self.part.header()})"
        if self.upload_id:
            what += f" of upload {self.upload_id}"
        return what


class CopyPartServiceError(_FailedStep, RestatedServiceError):
    """COS refused one step of a multipart copy; ``status``/``code`` are COS's."""

    def __init__(
        self, cause: CosServiceError, operation: str, part: PartRange | None, upload_id: str | None
    ) -> None:
        self._remember(operation, part, upload_id)
        super().__init__(cause)

    def _render(self) -> str:
        base = super()._render()
        if not self.request_id:
            base += " (no x-cos-request-id)"
        return f"{self.step} failed: {base}"


class CopyPartTransportError(_FailedStep, CosTransportError):
    """One step of a multipart copy got no HTTP answer after every retry."""

    def __init__(
        self, cause: CosTransportError, operation: str, part: PartRange | None, upload_id: str | None
    ) -> None:
        self._remember(operation, part, upload_id)
        self.cause = cause
        super().__init__(
            f"{self.step} failed: {cause}"
            + ("" if getattr(cause, "request_id", "") else " (no COS request id: no response)"),
            method=cause.method,
            url=cause.url,
            attempts=cause.attempts,
        )


def restate(
    exc: BaseException, operation: str, part: PartRange | None = None, upload_id: str | None = None
) -> BaseException:
    """``exc`` with the part, range and upload in its message (same class family)."""
    if isinstance(exc, CopyPartServiceError | CopyPartTransportError):
        return exc
    if isinstance(exc, CosServiceError):
        return CopyPartServiceError(exc, operation, part, upload_id)
    if isinstance(exc, CosTransportError):
        return CopyPartTransportError(exc, operation, part, upload_id)
    return exc


class LostUploadError(CopyPartServiceError):
    """A retried Complete was answered ``NoSuchUpload`` and the destination is not provably its result.

    COS answers ``NoSuchUpload`` both when an earlier attempt of this Complete
    succeeded (its answer lost) and when the upload was aborted from outside
    (a lifecycle rule, another actor). Only the destination tells them apart;
    this error says it did not, and why (``problems``).
    """

    def __init__(self, cause: CosServiceError, upload_id: str, dest_uri: str, problems: list[str]) -> None:
        self.problems = list(problems)
        self.dest_uri = dest_uri
        super().__init__(cause, "CompleteMultipartUpload", None, upload_id)

    def _render(self) -> str:
        return (
            f"{super()._render()}; upload {self.upload_id} is gone (completed or aborted by someone else, "
            f"or by a lifecycle rule) and {self.dest_uri} is not the object this Complete would have "
            f"created ({'; '.join(self.problems)}): {self.dest_uri} was not written by this copy"
        )


class UploadNotAborted(CosError):
    """An upload could not be aborted after every retry: it (and its parts) stay until aborted by hand."""

    def __init__(self, upload_id: str, bucket: str, key: str, cause: CosError) -> None:
        self.upload_id = upload_id
        self.bucket = bucket
        self.key = key
        self.cause = cause
        super().__init__(
            f"Could not abort upload {upload_id} of cos://{bucket}/{key} ({cause}); it keeps "
            f"its parts, and costs storage, until it is aborted: abort it by hand (AbortMultipartUpload "
            f"with that bucket, key and upload id) or let a lifecycle rule for incomplete uploads do it"
        )
