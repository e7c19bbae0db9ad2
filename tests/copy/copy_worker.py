"""A copy in its own process, for the kill -9 resume test.

Usage: python -m tests.copy.copy_worker ADDRESS SOURCE_KEY DEST_KEY PART_SIZE CONCURRENCY
(prints the outcome as JSON when it finishes, which the test never lets it do).
"""

from __future__ import annotations

import json
import sys

from cos_provider.client.client import CosClient
from cos_provider.client.copy import CopyEngine, CopyOptions
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.transport import TransportConfig
from tests.conftest import APP_ID, REGION, SECRET_ID, SECRET_KEY


def main(address: str, source_key: str, dest_key: str, part_size: str, concurrency: str) -> None:
    client = CosClient(
        Credentials(SECRET_ID, SECRET_KEY),
        Endpoint(region=REGION, scheme="http", connect_address=address),
        TransportConfig(),
        app_id=APP_ID,
    )
    options = CopyOptions(multipart_threshold=0, part_size=int(part_size), concurrency=int(concurrency))
    outcome = CopyEngine(client).copy(client.ref("src", source_key), client.ref("dst", dest_key), options)
    print(json.dumps(outcome.to_dict()), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
