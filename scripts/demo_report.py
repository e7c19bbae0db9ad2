"""Read back what the example DAG runs did, from the Airflow metadata DB.

Run in a process whose AIRFLOW_HOME is the demo's: prints one JSON list of
rows (dag, task, map index, state, duration, and the task's XCom result).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def describe(value: Any) -> str:
    """One line on what a task produced, from its XCom return value."""
    if isinstance(value, bool):
        return "aborted a leftover upload" if value else "nothing left to abort"
    if isinstance(value, dict) and ("dest_uri" in value or "uri" in value):
        size = value.get("size")
        size_text = (
            f"{size / 1024**3:.2f} GiB" if isinstance(size, int) and size >= 1024**3 else f"{size} bytes"
        )
        how = f"{value['part_count']} parts" if value.get("part_count") else "single copy"
        if "dest_uri" in value:
            return f"{value['source_uri']} -> {value['dest_uri']} ({size_text}, {how})"
        return f"re-tagged {value['uri']} ({size_text}, {how}): {value.get('metadata')}"
    if isinstance(value, dict) and isinstance(value.get("objects"), list) and "bytes" in value:
        return "uploaded " + ", ".join(
            f"{o['uri']} ({o['size']} bytes, {o['parts']} part(s), crc64 {o['crc64']})"
            for o in value["objects"][:3]
        )
    if isinstance(value, dict) and isinstance(value.get("files"), list):
        return "downloaded " + ", ".join(
            f"{f['uri']} -> {f['path']} ({f['size']} bytes, crc64 {f['crc64']})" for f in value["files"][:3]
        )
    if isinstance(value, dict) and "deleted_count" in value:
        what = "would delete" if value.get("dry_run") else "deleted"
        return f"{what} {value['deleted_count']} key(s) in {value['bucket']}, {value['error_count']} error(s)"
    if isinstance(value, dict) and "manifest" in value:
        return f"read {value['manifest']} (crc64 {value.get('crc64')})"
    if isinstance(value, dict) and "path" in value and "size" in value:
        return f"wrote {value['path']} ({value['size']} bytes)"
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return f"-> {len(value)} object(s): " + ", ".join(value[:3]) + (" ..." if len(value) > 3 else "")
    if isinstance(value, list) and value and isinstance(value[0], dict) and "key" in value[0]:
        return "saw " + ", ".join(f"{v['key']} (etag {v.get('etag')})" for v in value[:3])
    if isinstance(value, list) and value and isinstance(value[0], dict) and "first_part" in value[0]:
        parts = value[-1]["last_part"] - value[0]["first_part"] + 1
        return f"planned {parts} parts in {len(value)} batches"
    if isinstance(value, list) and value and isinstance(value[0], list):
        return f"copied {len(value)} part(s)"
    if isinstance(value, list):
        return f"{len(value)} item(s)"
    return "" if value is None else str(value)[:80]


def collect(dag_ids: list[str]) -> list[dict[str, Any]]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    rows: list[dict[str, Any]] = []
    with create_session() as session:
        for dag_id in dag_ids:
            tis = session.query(TaskInstance).filter(TaskInstance.dag_id == dag_id).all()
            for ti in sorted(tis, key=lambda t: (t.start_date or t.end_date or 0, t.task_id, t.map_index)):
                xcom = (
                    session.query(XComModel)
                    .filter_by(
                        dag_id=dag_id,
                        task_id=ti.task_id,
                        run_id=ti.run_id,
                        map_index=ti.map_index,
                        key="return_value",
                    )
                    .one_or_none()
                )
                value = XComModel.deserialize_value(xcom) if xcom is not None else None
                rows.append(
                    {
                        "dag_id": dag_id,
                        "task_id": ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else ""),
                        "state": str(ti.state.value if hasattr(ti.state, "value") else ti.state),
                        "duration": float(ti.duration or 0.0),
                        "what": describe(value),
                        "result": value,
                    }
                )
    return rows


if __name__ == "__main__":
    print(json.dumps(collect(sys.argv[1:]), default=str))
