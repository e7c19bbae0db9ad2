"""``ObjectStoragePath("cos://...")`` and ``CosFileSystem`` against the emulator over loopback HTTP."""

from __future__ import annotations

import gc
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

from cos_provider.client import limits
from cos_provider.client.copy import resume
from cos_provider.client.crc64 import crc64
from cos_provider.client.errors import CosIntegrityError, CosValidationError
from cos_provider.emulator import FaultRule
from cos_provider.fs.filesystem import CosFileSystem
from tests.conftest import DST_BUCKET, SRC_BUCKET, VERSIONED_BUCKET
from tests.fs.conftest import ops

MiB = limits.MiB
GiB = limits.GiB
ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ registration


def test_airflow_and_fsspec_find_the_filesystem(cos_connection: str) -> None:
    import fsspec
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import get_fs

    from cos_provider.get_provider_info import get_provider_info

    assert get_provider_info()["filesystems"] == ["cos_provider.fs.cos"]
    fs = get_fs("cos", cos_connection)  # Airflow's lookup: provider info -> module -> get_fs
    assert isinstance(fs, CosFileSystem) and fs.conn_id == cos_connection
    assert fsspec.get_filesystem_class("cos") is CosFileSystem
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "filesystem not explicitly implemented" fallback
        p = ObjectStoragePath("cos://cos_default@src/a/b.txt")
    assert (p.conn_id, p.bucket, p.key, p.path) == ("cos_default", "src", "a/b.txt", "src/a/b.txt")
    assert isinstance(p.fs, CosFileSystem)


def test_the_distribution_declares_the_entry_points() -> None:
    import importlib

    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    points = project["entry-points"]
    for group in ("fsspec.specs", "universal_pathlib.implementations"):
        module, _, name = points[group]["cos"].partition(":")
        assert getattr(importlib.import_module(module), name) is not None
    assert points["fsspec.specs"]["cos"] == "cos_provider.fs.filesystem:CosFileSystem"


def test_options_are_checked_before_any_request(cos: Any, cos_connection: str) -> None:
    from cos_provider.fs import get_fs

    with pytest.raises(CosValidationError, match="bogus"):
        get_fs(cos_connection, {"bogus": 1})
    with pytest.raises(CosValidationError, match="block_size"):
        get_fs(cos_connection, {"block_size": 0})
    fs = get_fs(cos_connection, {"block_size": 2 * MiB, "max_attempts": 2})
    assert fs.blocksize == 2 * MiB
    with pytest.raises(CosValidationError, match="block_size"):
        fs.open(f"{SRC_BUCKET}/x", "wb", block_size=1000)
    with pytest.raises(CosValidationError, match="mode"):
        fs.open(f"{SRC_BUCKET}/x", "ab")
    with pytest.raises(CosValidationError, match="storage_class"):
        fs.open(f"{SRC_BUCKET}/x", "wb", storage_class="HOT")
    with pytest.raises(CosValidationError, match="path"):
        fs.pipe_file(SRC_BUCKET, b"x")  # a bucket is not an object
    assert ops(cos) == {}


# ------------------------------------------------------------------ bytes and text


def test_write_and_read_bytes_and_text(cos: Any, path: Any) -> None:
    p = path("src/notes/hello.txt")
    p.write_text("héllo")
    assert p.read_text() == "héllo"
    assert cos.get_object_bytes(SRC_BUCKET, "notes/hello.txt") == "héllo".encode()
    b = path("src/notes/raw.bin")
    b.write_bytes(b"\x00\x01" * 1000)
    assert b.read_bytes() == b"\x00\x01" * 1000
    assert int(cos.head(SRC_BUCKET, "notes/raw.bin")["crc64"]) == crc64(b"\x00\x01" * 1000)
    counts = ops(cos)
    assert counts["PutObject"] == 2 and "InitiateMultipartUpload" not in counts  # small: one PUT each


def test_stat_reports_what_head_says(cos: Any, path: Any) -> None:
    cos.put_object(
        SRC_BUCKET,
        "meta/doc.json",
        b"{}",
        content_type="application/json",
        metadata={"owner": "etl"},
        storage_class="STANDARD_IA",
    )
    head = cos.head(SRC_BUCKET, "meta/doc.json")
    st = path("src/meta/doc.json").stat()
    assert st["size"] == 2 and st["type"] == "file"
    assert st["etag"] == head["etag"] and st["crc64"] == int(head["crc64"])
    assert st["last_modified"] is not None and st["storage_class"] == "STANDARD_IA"
    assert st["metadata"] == {"owner": "etl"} and st["content_type"] == "application/json"
    assert path("src/meta/doc.json").checksum() == crc64(b"{}")

    versioned = path("versioned/v.txt")
    versioned.write_text("one")
    version = cos.head(VERSIONED_BUCKET, "v.txt")["version_id"]
    assert version and versioned.stat()["version_id"] == version


def test_exists_file_directory_and_missing(cos: Any, path: Any) -> None:
    cos.put_object(SRC_BUCKET, "tree/a/b/c.txt", b"c")
    cos.put_object(SRC_BUCKET, "empty-dir/", b"")  # a console "folder"
    assert path("src/tree/a/b/c.txt").is_file()
    assert path("src/tree/a").is_dir() and path("src/tree/a").exists()
    assert path("src/empty-dir").is_dir()
    assert not path("src/tree/nope").exists()
    assert path("src/").is_dir()
    assert not path("nosuchbucket/x").exists()
    with pytest.raises(FileNotFoundError):
        path("src/tree/nope").read_bytes()


# ------------------------------------------------------------------ streamed reads


def test_streamed_read_is_ranged_pinned_and_crc64_verified(cos: Any, cos_connection: str) -> None:
    seeded = cos.seed_synthetic(SRC_BUCKET, "stream/big.bin", size=5 * MiB + 7)
    fs = CosFileSystem(cos_connection)
    got = []
    with fs.open("src/stream/big.bin", "rb", block_size=MiB, cache_type="none") as f:
        assert f.size == seeded["size"]
        while chunk := f.read(MiB):
            got.append(chunk)
        assert f.verified  # every byte read in order, CRC64 equal to the object's
    data = b"".join(got)
    assert len(data) == seeded["size"] and crc64(data) == seeded["crc64"]
    assert cos.counters()["requests"]["GetObject"] == {"206": 6}  # ranged GETs, one per block

    with fs.open("src/stream/big.bin", "rb", block_size=MiB) as f:  # random access
        f.seek(3 * MiB + 1)
        assert f.read(10) == cos.get_object_bytes(
            SRC_BUCKET, "stream/big.bin", start=3 * MiB + 1, end=3 * MiB + 11
        )
    assert fs.cat_file("src/stream/big.bin", start=-7) == cos.get_object_bytes(
        SRC_BUCKET, "stream/big.bin", start=5 * MiB
    )


def test_read_of_an_object_overwritten_meanwhile_fails(cos: Any, cos_connection: str) -> None:
    cos.seed_synthetic(SRC_BUCKET, "moving.bin", size=3 * MiB)
    fs = CosFileSystem(cos_connection)
    with fs.open("src/moving.bin", "rb", block_size=MiB, cache_type="none") as f:
        f.read(MiB)
        cos.seed_synthetic(SRC_BUCKET, "moving.bin", size=3 * MiB, seed=2)
        with pytest.raises(CosIntegrityError, match="changed while it was read"):
            f.read(MiB)
    assert cos.counters()["requests"]["GetObject"].get("412") == 1


def test_corrupted_read_is_detected(cos: Any, path: Any) -> None:
    cos.put_object(SRC_BUCKET, "c.bin", os.urandom(4096))
    cos.add_fault(FaultRule(operation="GetObject", kind="corrupt", times=1))
    with pytest.raises(CosIntegrityError, match="CRC64"):
        path("src/c.bin").read_bytes()


# ------------------------------------------------------------------ streamed writes


def test_streamed_write_is_a_verified_multipart_upload(cos: Any, path: Any) -> None:
    data = os.urandom(2 * MiB + 12345)
    p = path("src/up/stream.bin")
    with p.open("wb", buffering=MiB) as f:
        for i in range(0, len(data), 100_000):
            f.write(data[i : i + 100_000])
        assert cos.live_uploads() == 1  # parts go up while writing, not at close
    head = cos.head(SRC_BUCKET, "up/stream.bin")
    assert head["size"] == len(data) and int(head["crc64"]) == crc64(data)
    assert head["parts_count"] == 3
    counts = ops(cos)
    assert (counts["UploadPart"], counts["CompleteMultipartUpload"]) == (3, 1)
    assert "PutObject" not in counts and cos.live_uploads() == 0
    assert p.read_bytes() == data


def test_write_attributes_and_exclusive_create(cos: Any, cos_connection: str) -> None:
    fs = CosFileSystem(cos_connection)
    with fs.open("src/attr.csv", "wb", content_type="text/csv", metadata={"run": "1"}) as f:
        f.write(b"a,b\n")
    head = cos.head(SRC_BUCKET, "attr.csv")
    assert head["content_type"] == "text/csv" and head["metadata"] == {"run": "1"}
    with pytest.raises(Exception, match=r"(?i)exist"), fs.open("src/attr.csv", "xb") as f:
        f.write(b"other")
    assert cos.get_object_bytes(SRC_BUCKET, "attr.csv") == b"a,b\n"


def test_exception_inside_with_aborts_the_upload(cos: Any, path: Any) -> None:
    p = path("src/up/broken.bin")

    class Boom(Exception):
        pass

    def fail_midway(target: Any, size: int) -> None:
        with target.open("wb", buffering=MiB) as f:
            f.write(os.urandom(size))
            if size > MiB:
                assert cos.live_uploads() == 1  # the parts are up, the upload open
            raise Boom

    with pytest.raises(Boom):
        fail_midway(p, 3 * MiB)
    assert cos.head(SRC_BUCKET, "up/broken.bin") is None
    assert cos.live_uploads() == 0 and ops(cos)["AbortMultipartUpload"] == 1

    with pytest.raises(Boom):
        fail_midway(path("src/up/small.bin"), 4)
    assert cos.head(SRC_BUCKET, "up/small.bin") is None  # never PUT

    def fail_in_text_mode() -> None:
        with path("src/up/text.txt").open("w") as f:
            f.write("half a report")
            raise Boom

    with pytest.raises(Boom):
        fail_in_text_mode()  # io.TextIOWrapper alone would close, so complete, the object
    assert cos.head(SRC_BUCKET, "up/text.txt") is None
    with path("src/up/text.txt").open("w", encoding="latin-1") as f:
        f.write("entière")
    assert cos.get_object_bytes(SRC_BUCKET, "up/text.txt") == "entière".encode("latin-1")


def test_compressed_writes_complete_on_close_and_abort_on_error(cos: Any, path: Any) -> None:
    import gzip

    class Boom(Exception):
        pass

    p = path("src/gz/rows.json.gz")
    with p.open("wb", compression="gzip") as f:  # what the common-io XCom backend does
        f.write(b'{"rows": 3}')
    assert gzip.decompress(cos.get_object_bytes(SRC_BUCKET, "gz/rows.json.gz")) == b'{"rows": 3}'
    with p.open("rb", compression="gzip") as f:
        assert f.read() == b'{"rows": 3}'
    with path("src/gz/notes.txt.gz").open("w", compression="infer") as f:
        f.write("texte")
    assert gzip.decompress(cos.get_object_bytes(SRC_BUCKET, "gz/notes.txt.gz")) == b"texte"

    def fail(mode: str) -> None:
        with path(f"src/gz/broken-{mode}.gz").open(mode, compression="gzip") as f:
            f.write(b"partial" if "b" in mode else "partial")
            raise Boom

    for mode in ("wb", "w"):
        with pytest.raises(Boom):
            fail(mode)
        assert cos.head(SRC_BUCKET, f"gz/broken-{mode}.gz") is None
    assert cos.live_uploads() == 0


def test_a_dropped_or_discarded_file_leaves_no_upload(cos: Any, cos_connection: str) -> None:
    fs = CosFileSystem(cos_connection)
    f = fs.open("src/up/dropped.bin", "wb", block_size=MiB)
    f.write(os.urandom(2 * MiB))
    assert cos.live_uploads() == 1
    del f
    gc.collect()
    assert cos.live_uploads() == 0 and cos.head(SRC_BUCKET, "up/dropped.bin") is None

    g = fs.open("src/up/discarded.bin", "wb", block_size=MiB, autocommit=False)
    g.write(os.urandom(MiB + 1))
    g.close()  # autocommit=False: parts uploaded, nothing completed
    assert cos.live_uploads() == 1 and cos.head(SRC_BUCKET, "up/discarded.bin") is None
    g.discard()
    assert cos.live_uploads() == 0


def test_autocommit_false_completes_only_on_commit(cos: Any, cos_connection: str) -> None:
    fs = CosFileSystem(cos_connection)
    f = fs.open("src/up/later.bin", "wb", autocommit=False)
    f.write(b"abc")
    f.close()
    assert cos.head(SRC_BUCKET, "up/later.bin") is None and cos.live_uploads() == 1
    f.commit()
    assert cos.get_object_bytes(SRC_BUCKET, "up/later.bin") == b"abc" and cos.live_uploads() == 0
    empty = fs.open("src/up/empty.bin", "wb", autocommit=False)
    empty.close()
    empty.commit()
    assert cos.head(SRC_BUCKET, "up/empty.bin")["size"] == 0


def test_a_part_corrupted_at_cos_fails_and_aborts(cos: Any, path: Any) -> None:
    cos.add_fault(FaultRule(operation="UploadPart", kind="corrupt", times=1))
    with (
        pytest.raises(CosIntegrityError, match="part 1"),
        path("src/up/bad.bin").open("wb", buffering=MiB) as f,
    ):
        f.write(os.urandom(2 * MiB))
    assert cos.live_uploads() == 0 and cos.head(SRC_BUCKET, "up/bad.bin") is None


# ------------------------------------------------------------------ directories


@pytest.fixture
def tree(cos: Any) -> None:
    for key in ("t/a.txt", "t/b.csv", "t/sub/c.txt", "t/sub/deep/d.txt", "t/marked/", "other.txt"):
        cos.put_object(SRC_BUCKET, key, b"" if key.endswith("/") else key.encode())


def test_listing_treats_prefixes_as_directories(cos: Any, path: Any, tree: None) -> None:
    t = path("src/t")
    children = sorted(t.iterdir(), key=str)
    assert [(c.name, c.is_dir()) for c in children] == [
        ("a.txt", False),
        ("b.csv", False),
        ("marked", True),
        ("sub", True),
    ]
    assert all(c.conn_id == "cos_default" for c in children)
    assert sorted(p.key for p in t.glob("*.txt")) == ["t/a.txt"]
    assert sorted(p.key for p in t.rglob("*.txt")) == ["t/a.txt", "t/sub/c.txt", "t/sub/deep/d.txt"]
    walked = {str(root.key): (sorted(dirs), sorted(files)) for root, dirs, files in t.walk()}
    assert walked["t"] == (["marked", "sub"], ["a.txt", "b.csv"])
    assert walked["t/sub"] == (["deep"], ["c.txt"])
    assert walked["t/sub/deep"] == ([], ["d.txt"])
    fs = t.fs
    assert fs.find("src/t") == ["src/t/a.txt", "src/t/b.csv", "src/t/sub/c.txt", "src/t/sub/deep/d.txt"]
    cos.put_object(SRC_BUCKET, "t/", b"")  # the folder's own marker is neither a file nor a child
    assert sorted(fs.find("src/t", withdirs=True)) == [
        "src/t",
        "src/t/a.txt",
        "src/t/b.csv",
        "src/t/marked",
        "src/t/sub",
        "src/t/sub/c.txt",
        "src/t/sub/deep",
        "src/t/sub/deep/d.txt",
    ]
    assert [p.name for p in t.iterdir()] == ["a.txt", "b.csv", "marked", "sub"]
    assert fs.ls("src/t/a.txt", detail=False) == ["src/t/a.txt"]  # a file lists as itself


def test_mkdir_is_a_no_op_and_touch_writes(cos: Any, path: Any) -> None:
    before = ops(cos)
    path("src/newdir").mkdir(parents=True, exist_ok=True)
    assert "PutObject" not in ops(cos) and before.get("PutObject") is None
    t = path("src/newdir/flag")
    t.touch()
    assert cos.get_object_bytes(SRC_BUCKET, "newdir/flag") == b""
    cos.put_object(SRC_BUCKET, "newdir/kept", b"content")
    first = cos.head(SRC_BUCKET, "newdir/kept")["last_modified"]
    path("src/newdir/kept").touch(exist_ok=True)  # renews last-modified, keeps the bytes
    assert cos.get_object_bytes(SRC_BUCKET, "newdir/kept") == b"content"
    assert cos.head(SRC_BUCKET, "newdir/kept")["last_modified"] >= first
    assert ops(cos)["CopyObject"] == 1


def test_unlink_rm_and_recursive_rmdir(cos: Any, path: Any, tree: None) -> None:
    path("src/t/a.txt").unlink()
    assert cos.head(SRC_BUCKET, "t/a.txt") is None
    fs = path("src/t").fs
    with pytest.raises(IsADirectoryError):
        fs.rm("src/t/sub")
    with pytest.raises(OSError, match="not empty"):
        fs.rmdir("src/t/sub")
    fs.rmdir("src/t/marked")  # empty: only its marker
    assert cos.head(SRC_BUCKET, "t/marked/") is None
    path("src/t").rmdir()  # recursive, by Delete Multiple Objects
    assert fs.find(f"{SRC_BUCKET}/t") == []
    assert cos.get_object_bytes(SRC_BUCKET, "other.txt") == b"other.txt"
    counts = ops(cos)
    assert counts["DeleteMultipleObjects"] >= 1
    with pytest.raises(CosValidationError, match="bucket"):
        fs.rm("src", recursive=True)


def test_recursive_rm_of_more_than_one_batch(cos: Any, cos_connection: str) -> None:
    for i in range(1005):
        cos.put_object(SRC_BUCKET, f"many/{i:04d}", b"x")
    CosFileSystem(cos_connection).rm("src/many", recursive=True)
    assert cos.counters()["requests"]["DeleteMultipleObjects"] == {"200": 2}
    assert CosFileSystem(cos_connection).find("src/many") == []


# ------------------------------------------------------------------ copies and moves


def test_copy_between_cos_paths_is_server_side(cos: Any, path: Any) -> None:
    cos.put_object(SRC_BUCKET, "c/small.txt", b"small", metadata={"k": "v"})
    path("src/c/small.txt").copy(path("dst/c/small.txt"))
    assert cos.get_object_bytes(DST_BUCKET, "c/small.txt") == b"small"
    assert cos.head(DST_BUCKET, "c/small.txt")["metadata"] == {"k": "v"}
    counts = ops(cos)
    assert counts["CopyObject"] == 1
    assert not {"GetObject", "PutObject", "UploadPart"} & set(counts)


def test_copy_of_20_gib_moves_no_data_through_the_worker(cos: Any, path: Any) -> None:
    seeded = cos.seed_synthetic(SRC_BUCKET, "huge/20g.bin", size=20 * GiB)
    path("src/huge/20g.bin").copy(path("dst/huge/20g.bin"))
    head = cos.head(DST_BUCKET, "huge/20g.bin")
    assert head["size"] == 20 * GiB and int(head["crc64"]) == seeded["crc64"]  # CRC64-verified copy
    snap = cos.counters()
    counts = ops(cos)
    assert snap["bytes_copied"] == 20 * GiB  # all of it copied inside COS
    assert counts["UploadPartCopy"] >= 5 and "GetObject" not in counts and "PutObject" not in counts
    # The only body the worker sends: the copy engine's resume witness, part 10,000 of the upload.
    assert counts["UploadPart"] == 1 and resume.WITNESS_SIZE < 200
    assert snap["live_uploads"] == 0


def test_move_is_copy_verify_delete(cos: Any, path: Any, tree: None) -> None:
    cos.seed_synthetic(SRC_BUCKET, "mv/big.bin", size=6 * GiB)
    crc = cos.head(SRC_BUCKET, "mv/big.bin")["crc64"]
    path("src/mv/big.bin").move(path("dst/mv/big.bin"))
    assert cos.head(SRC_BUCKET, "mv/big.bin") is None
    assert cos.head(DST_BUCKET, "mv/big.bin")["crc64"] == crc
    path("src/t/sub").move(path("dst/moved"), recursive=True)
    assert sorted(CosFileSystem("cos_default").find("dst/moved")) == [
        "dst/moved/c.txt",
        "dst/moved/deep/d.txt",
    ]
    assert CosFileSystem("cos_default").find("src/t/sub") == []
    assert "GetObject" not in ops(cos)


def test_local_to_cos_and_back_stream_through_the_data_plane(cos: Any, path: Any, tmp_path: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    data = os.urandom(3 * MiB + 3)
    local = tmp_path / "in.bin"
    local.write_bytes(data)
    ObjectStoragePath(f"file://{local}").copy(path("src/x/in.bin"))  # put_file: upload_file
    assert int(cos.head(SRC_BUCKET, "x/in.bin")["crc64"]) == crc64(data)
    assert ops(cos)["PutObject"] == 1  # the file streamed from disk as one verified PUT

    out = tmp_path / "out.bin"
    path("src/x/in.bin").copy(ObjectStoragePath(f"file://{out}"))  # get_file: download_file
    assert out.read_bytes() == data
    assert not list(tmp_path.glob("*.cos-partial*"))
    assert cos.counters()["requests"]["GetObject"] == {"206": 1}  # a pinned ranged download
