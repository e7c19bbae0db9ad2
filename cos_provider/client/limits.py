"""Every COS limit the provider enforces, in one table.

The client validates against these before sending, the copy planner plans
within them and the emulator enforces them, so a limit changes here or nowhere.
Sizes follow COS, which means binary units: "5 GB" is 5 GiB.
"""

from __future__ import annotations

from typing import Final

KiB: Final = 1024
MiB: Final = 1024 * KiB
GiB: Final = 1024 * MiB
TiB: Final = 1024 * GiB

MIN_PART_SIZE: Final = 1 * MiB
"""Every part but the last must be at least this (Complete answers EntityTooSmall)."""
MAX_PART_SIZE: Final = 5 * GiB
MAX_PARTS: Final = 10_000
MAX_OBJECT_SIZE: Final = MAX_PARTS * MAX_PART_SIZE
"""48.8 TB: 10,000 parts of 5 GB."""
MAX_SINGLE_COPY_SIZE: Final = 5 * GiB
"""PUT Object - Copy is documented for sources up to 5 GB."""
MAX_PUT_SIZE: Final = 5 * GiB

MAX_KEY_BYTES: Final = 850
MAX_META_VALUE_BYTES: Final = 2 * KiB
MAX_META_TOTAL_BYTES: Final = 4 * KiB
MAX_TAGS: Final = 10
MAX_TAG_KEY_CHARS: Final = 128
"""Tag keys are 1-128 characters (PUT Object tagging, doc 436/35709; the overview page says 127)."""
MAX_TAG_VALUE_CHARS: Final = 256
"""Tag values are 0-256 characters (doc 436/35709; the overview page says 1-255)."""
TAG_PUNCTUATION: Final = frozenset(" +-=._:/@")
"""Besides letters and digits (any script, as UTF-8), the characters a tag key or value may hold."""
MAX_LIST_PAGE: Final = 1000
MAX_DELETE_KEYS: Final = 1000
"""Delete Multiple Objects takes at most 1,000 keys per request (doc 436/8289)."""

STORAGE_CLASSES: Final = frozenset(
    {
        "STANDARD",
        "STANDARD_IA",
        "INTELLIGENT_TIERING",
        "ARCHIVE",
        "DEEP_ARCHIVE",
        "MAZ_STANDARD",
        "MAZ_STANDARD_IA",
        "MAZ_INTELLIGENT_TIERING",
    }
)
ARCHIVED_STORAGE_CLASSES: Final = frozenset({"ARCHIVE", "DEEP_ARCHIVE"})
"""Classes whose objects must be restored (POST Object restore) before a GET or copy (doc 436/30933)."""
RESTORE_TIERS: Final = ("Expedited", "Standard", "Bulk")
"""``CASJobParameters/Tier`` of POST Object restore; DEEP_ARCHIVE has no Expedited (doc 436/12633)."""
MIN_RESTORE_DAYS: Final = 1
MAX_RESTORE_DAYS: Final = 365
"""Lifetime of a restored copy; 1-365 as Batch's ``ExpirationInDays`` (the POST doc gives no bound)."""
OBJECT_ACLS: Final = frozenset(
    {
        "default",
        "private",
        "public-read",
        "authenticated-read",
        "bucket-owner-read",
        "bucket-owner-full-control",
    }
)
BUCKET_ACLS: Final = frozenset({"private", "public-read", "public-read-write", "authenticated-read"})
METADATA_DIRECTIVES: Final = frozenset({"Copy", "Replaced"})
TAGGING_DIRECTIVES: Final = frozenset({"Copy", "Replaced"})
SSE_KMS: Final = "cos/kms"
SSE_ALGORITHMS: Final = frozenset({"AES256", "SM4", SSE_KMS})
"""``x-cos-server-side-encryption``: SSE-COS (``AES256``, ``SM4``) or SSE-KMS (``cos/kms``), in COS's spelling."""
SSE_CUSTOMER_ALGORITHM: Final = "AES256"
"""The one algorithm SSE-C takes (``x-cos-server-side-encryption-customer-algorithm``)."""
SSE_CUSTOMER_KEY_BYTES: Final = 32

# Of the four copy-source conditions, only these pairs may be combined.
ALLOWED_CONDITION_PAIRS: Final = frozenset(
    {
        frozenset({"if_match", "if_unmodified_since"}),
        frozenset({"if_none_match", "if_modified_since"}),
    }
)

# Batch Operations (doc 436/33781, 436/33786; cos-data-plane.md §9).
BATCH_JOB_STATUSES: Final = frozenset(
    {
        "New",
        "Preparing",
        "Suspended",
        "Ready",
        "Active",
        "Pausing",
        "Paused",
        "Completing",
        "Complete",
        "Failing",
        "Failed",
        "Cancelling",
        "Cancelled",
    }
)
BATCH_TERMINAL_STATUSES: Final = frozenset({"Complete", "Failed", "Cancelled"})
BATCH_COPY_STORAGE_CLASSES: Final = frozenset({"STANDARD", "STANDARD_IA"})
"""``COSPutObjectCopy`` writes only these two classes."""
BATCH_DIRECTIVES: Final = frozenset({"Copy", "Replaced", "Add"})
"""Metadata, tagging and ACL directives of ``COSPutObjectCopy``."""
BATCH_CANNED_ACLS: Final = frozenset({"private", "public-read"})
MAX_JOB_PRIORITY: Final = 2_147_483_647
MAX_JOB_TOKEN_BYTES: Final = 64
MAX_JOB_DESCRIPTION_BYTES: Final = 256
MAX_JOB_REPORT_PREFIX_BYTES: Final = 256
MAX_JOB_STATUS_REASON_BYTES: Final = 256
MAX_JOB_ARN_BYTES: Final = 1024
MAX_JOB_PREFIX_BYTES: Final = 1024
"""``ResourcesPrefix`` / ``TargetKeyPrefix`` of a ``PrefixReplace`` copy."""
MAX_LIST_JOBS: Final = 1000
