"""SSE-C over real HTTPS, where COS accepts customer keys (``tests/headers/test_sse_c.py`` covers the refusals).

``cos`` and ``cos_connection`` here are the TLS folder's: the emulator over
HTTPS, the connection trusting the session CA by path.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from cos_provider.client import limits
from cos_provider.client.errors import CosServiceError
from cos_provider.hooks.cos import CosHook
from tests.conftest import DST_BUCKET, SRC_BUCKET
from tests.headers.conftest import KEY_A, KEY_A_MD5, KEY_B, KEY_B_MD5

MiB = limits.MiB


def test_sse_c_round_trip_over_https(cos: Any, cos_connection: str, caplog: pytest.LogCaptureFixture) -> None:
    """Source encrypted with key A, copied to key B (single and multipart: the
    source key on every Upload Part - Copy, the destination key on Initiate
    and every part), the result readable only with B; a metadata
    replacement keeps SSE-C; nothing secret in logs or outcomes.
    """
    caplog.set_level(logging.DEBUG)
    hook = CosHook()
    data = bytes(range(256)) * (9 * 1024)  # 2.25 MiB
    hook.conn.put_object(SRC_BUCKET, "plain.bin", data)
    hook.copy_object(f"cos://{SRC_BUCKET}/plain.bin", f"cos://{SRC_BUCKET}/a.bin", sse_customer_key=KEY_A)
    assert cos.head(SRC_BUCKET, "a.bin")["sse_c_md5"] == KEY_A_MD5
    outcomes = []
    for name, extra in (("single", {}), ("multipart", {"multipart_threshold": 0, "part_size": MiB})):
        out = hook.copy_object(
            f"cos://{SRC_BUCKET}/a.bin",
            f"cos://{DST_BUCKET}/{name}.bin",
            source_sse_customer_key=KEY_A,
            sse_customer_key=KEY_B,
            **extra,
        )
        outcomes.append(out.to_dict())
        assert cos.get_object_bytes(DST_BUCKET, f"{name}.bin") == data
        assert cos.head(DST_BUCKET, f"{name}.bin")["sse_c_md5"] == KEY_B_MD5
        info = hook.head_object(f"cos://{DST_BUCKET}/{name}.bin", sse_customer_key=KEY_B)
        assert (info.sse_customer_algorithm, info.sse_customer_key_md5) == ("AES256", KEY_B_MD5)
        with pytest.raises(CosServiceError) as err:  # another key: 403
            hook.head_object(f"cos://{DST_BUCKET}/{name}.bin", sse_customer_key=KEY_A)
        assert err.value.status == 403
        with pytest.raises(CosServiceError) as err:  # no key: 400
            hook.head_object(f"cos://{DST_BUCKET}/{name}.bin")
        assert err.value.status == 400
    # the mapped steps: keys given again to each step, checked against the session
    start = hook.start_multipart_copy(
        f"cos://{SRC_BUCKET}/a.bin",
        f"cos://{DST_BUCKET}/mapped.bin",
        batches=2,
        part_size=MiB,
        source_sse_customer_key=KEY_A,
        sse_customer_key=KEY_B,
    )
    session = start.session.to_dict()
    parts = {}
    for batch in start.batches:
        parts.update(
            hook.copy_parts(
                session,
                range(batch.first_part, batch.last_part + 1),
                source_sse_customer_key=KEY_A,
                sse_customer_key=KEY_B,
            )
        )
    hook.complete_multipart_copy(session, parts, sse_customer_key=KEY_B, source_sse_customer_key=KEY_A)
    assert cos.get_object_bytes(DST_BUCKET, "mapped.bin") == data
    hook.replace_metadata(f"cos://{DST_BUCKET}/single.bin", metadata={"k": "v"}, sse_customer_key=KEY_B)
    head = cos.head(DST_BUCKET, "single.bin")
    assert (head["sse_c_md5"], head["metadata"]) == (KEY_B_MD5, {"k": "v"})
    shown = repr(outcomes) + repr(session) + caplog.text
    assert KEY_A not in shown and KEY_B not in shown
