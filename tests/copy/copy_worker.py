"""A copy in its own process, for the kill -9 resume test.

Usage: python -m tests.copy.copy_worker ADDRESS SOURCE_KEY DEST_KEY PART_SIZE CONCURRENCY HOLD_AFTER

It prints ``part N`` as each part copy returns, and sends only the first
HOLD_AFTER part copies: the others wait until the test kills the process, so
the test knows exactly which parts the killed copy left behind.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from cos_provider.client.client import CosClient
from cos_provider.client.copy import CopyEngine, CopyOptions
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.transport import TransportConfig
from tests.conftest import APP_ID, REGION, SECRET_ID, SECRET_KEY


class HoldsParts:
    def __init__(self, client: CosClient, hold_after: int) -> None:
        self._client = client
        self._hold_after = hold_after
        self._sent = 0
        self._lock = threading.Lock()
        self._never = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def upload_part_copy(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            hold = self._sent >= self._hold_after
            self._sent += 1
        if hold:
            self._never.wait()  # until SIGKILL
        result = self._client.upload_part_copy(*args, **kwargs)
        with self._lock:  # one whole line at a time: print() from two threads interleaves
            sys.stdout.write(f"part {args[3]}\n")
            sys.stdout.flush()
        return result


def main(
    address: str, source_key: str, dest_key: str, part_size: str, concurrency: str, hold_after: str
) -> None:
    client = CosClient(
        Credentials(SECRET_ID, SECRET_KEY),
        Endpoint(region=REGION, scheme="http", connect_address=address),
        TransportConfig(),
        app_id=APP_ID,
    )
    options = CopyOptions(multipart_threshold=0, part_size=int(part_size), concurrency=int(concurrency))
    engine = CopyEngine(HoldsParts(client, int(hold_after)))  # type: ignore[arg-type]
    engine.copy(client.ref("src", source_key), client.ref("dst", dest_key), options)
    print("finished", flush=True)  # never reached: the test kills it first


if __name__ == "__main__":
    main(*sys.argv[1:])
