"""A strict, fast, fault-injecting local emulator of the Tencent COS XML API.

It stands in for COS in tests, benchmarks and local DAG development, the way
LocalStack does for AWS. It imports nothing from Airflow and nothing of the
client's transport; it shares only the pure protocol helpers of
:mod:`cos_provider.client` (signing, endpoint parsing, CRC-64, limits, XML
timestamp/ETag helpers), so client and emulator cannot drift apart on them.

Start it in-process::

    from cos_provider.emulator import CosEmulator, FaultRule

    with CosEmulator(credentials={"AKIDxxx": "secret"}) as emu:
        emu.create_bucket("src-1250000000", region="ap-beijing")
        emu.seed_synthetic("src-1250000000", "big.bin", size=6 * 1024**3)
        ...  # point a client at emu.address

or as a process: ``python -m cos_provider.emulator --port 9000 --secret-id ID
--secret-key KEY --bucket src-1250000000:ap-beijing`` (see :mod:`.__main__`),
or from Python as a child process with :func:`start_emulator_process` (see
:mod:`.process`).

Module map: :mod:`.server` (HTTP, routing), :mod:`.auth` (signatures),
:mod:`.store` (buckets, versions, uploads), :mod:`.content` (extents over
blobs), :mod:`.synthetic` (O(log n) CRC of huge deterministic content),
:mod:`.objects`, :mod:`.copy`, :mod:`.multipart`, :mod:`.buckets` (the
operations, each module stating its decisions), :mod:`.validate` (header
rules), :mod:`.xmlout`, :mod:`.faults`, :mod:`.model` (latency/bandwidth),
:mod:`.admin` (``/_emulator/`` JSON API), :mod:`.process` (the CLI as a child
process), :mod:`.restore` (archive restore and its clock).

Operation names (counters, faults): HeadObject, GetObject, PutObject,
DeleteObject, CopyObject, InitiateMultipartUpload, UploadPart, UploadPartCopy,
CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads,
ListObjects, HeadBucket, PutBucket, DeleteBucket, GetService,
PutBucketVersioning, GetBucketVersioning, GetObjectTagging, PutObjectTagging,
DeleteObjectTagging, PostObjectRestore, CreateJob, DescribeJob, ListJobs, UpdateJobStatus
(the Batch Operations control endpoint, :mod:`.batch`), and Unknown.
"""

from cos_provider.emulator.emulator import CosEmulator
from cos_provider.emulator.faults import FaultRule
from cos_provider.emulator.model import ModelSettings, ideal_copy_time, ideal_download_time, ideal_upload_time
from cos_provider.emulator.process import EmulatorProcess, start_emulator_process

__all__ = [
    "CosEmulator",
    "EmulatorProcess",
    "FaultRule",
    "ModelSettings",
    "ideal_copy_time",
    "ideal_download_time",
    "ideal_upload_time",
    "start_emulator_process",
]
