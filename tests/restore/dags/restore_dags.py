"""DAGs run by tests/restore through ``dag.test()`` (emulator buckets; restores finished by the tests)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG

from cos_provider.operators.multipart import cos_multipart_copy_group
from cos_provider.operators.object_copy import CosCopyObjectOperator
from cos_provider.operators.prefix_copy import CosCopyPrefixOperator
from cos_provider.operators.restore import CosRestoreObjectOperator
from cos_provider.sensors.restore import CosObjectRestoredSensor

START = datetime(2026, 1, 1)
SRC = "src-1250000000"
FAST = {"poke_interval": 0.2, "timeout": 60}

MODES: dict[str, dict[str, Any]] = {
    "poke": {"mode": "poke", "deferrable": False},
    "reschedule": {"mode": "reschedule", "deferrable": False},
    "deferrable": {"deferrable": True},
}


def restored_sensor(**mode: Any) -> CosObjectRestoredSensor:
    """The mode-parity sensor: one archived key (a dict XCom) given as a bare bucket name + key."""
    return CosObjectRestoredSensor(task_id="wait", bucket="src", key="cold/a.bin", **FAST, **mode)


for _mode, _kwargs in MODES.items():
    with DAG(f"cos_restore_sensor_{_mode}", schedule=None, start_date=START):
        restored_sensor(**_kwargs)


with DAG("cos_restore_chain", schedule=None, start_date=START, params={"prefix": "cold/", "days": "2"}):
    restore = CosRestoreObjectOperator(
        task_id="restore",
        bucket="src",
        prefix="{{ params.prefix }}",
        tier="standard",
        days="{{ params.days }}",
    )
    wait = CosObjectRestoredSensor(
        task_id="wait",
        key=[f"cos://{SRC}/cold/a.bin", f"cos://{SRC}/cold/b.bin"],
        deferrable=True,
        **FAST,
    )
    copy = CosCopyPrefixOperator(task_id="copy", source_bucket="src", prefix="cold/", dest_bucket="dst")
    restore >> wait >> copy


with DAG("cos_restore_idempotent", schedule=None, start_date=START):
    first = CosRestoreObjectOperator(task_id="first", key=f"cos://{SRC}/cold/a.bin", tier="Bulk")
    again = CosRestoreObjectOperator(
        task_id="again",
        bucket="src",
        keys=["cold/a.bin", "cold/plain.txt"],
        tier="Bulk",
        wait_for_completion=True,
        poke_interval=0.2,
    )
    done = CosRestoreObjectOperator(task_id="done", key=f"cos://{SRC}/cold/a.bin", tier="Bulk", days=7)
    first >> again >> done


with DAG("cos_restore_first", schedule=None, start_date=START):
    one = CosCopyObjectOperator(
        task_id="one",
        source_bucket_key=f"cos://{SRC}/one/a.bin",
        dest_bucket_key="cos://dst/one/a.bin",
        restore_first=True,
        restore_tier="Expedited",
        restore_poke_interval=0.2,
    )
    prefix = CosCopyPrefixOperator(
        task_id="prefix",
        source_bucket="src",
        match_glob="many/*.bin",
        dest_bucket="dst",
        restore_first=True,
        restore_days=3,
        restore_poke_interval=0.2,
    )
    group = cos_multipart_copy_group(
        "mapped",
        source_bucket_key=f"cos://{SRC}/big/a.bin",
        dest_bucket_key="cos://dst/big/a.bin",
        part_size=1024 * 1024,
        max_mapped_tasks=2,
        restore_first=True,
        restore_tier="Bulk",
        restore_poke_interval=0.2,
    )
    one >> prefix >> group
