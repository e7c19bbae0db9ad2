"""``CosDagBundle`` against the emulator: what is fetched, when, and what is removed."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from cos_provider.bundles.cos import MANIFEST, CosDagBundle, bundle_version
from cos_provider.client.errors import CosValidationError
from cos_provider.hooks.cos import CosHook
from tests.conftest import SRC_BUCKET

DAG_A = b"# dag a\n"
FILES = {
    "dags/a.py": DAG_A,
    "dags/sub/b.py": b"# dag b\n",
    "dags/数据/c.py": b"# dag c\n",
    "dags/sub/": b"",  # a folder marker: no file
}


def seed(cos: Any, files: dict[str, bytes] = FILES) -> None:
    for key, body in files.items():
        cos.put_object(SRC_BUCKET, key, body)


def local_files(bundle: CosDagBundle) -> dict[str, bytes]:
    return {
        p.relative_to(bundle.path).as_posix(): p.read_bytes()
        for p in bundle.path.rglob("*")
        if p.is_file() and p.name != MANIFEST
    }


def expected_version(cos: Any, keys: list[str]) -> str:
    """Computed from the emulator's own record of each object, not from the bundle's listing."""
    pairs = sorted((k, cos.head(SRC_BUCKET, k)["etag"].strip('"').lower()) for k in keys)
    digest = hashlib.sha256()
    for key, etag in pairs:
        digest.update(key.encode() + b"\0" + etag.encode() + b"\n")
    return digest.hexdigest()


def test_initialize_downloads_every_file_and_versions_the_listing(cos: Any, make_bundle: Any) -> None:
    seed(cos)
    bundle = make_bundle(bucket_name="src", prefix="dags")
    assert bundle.get_current_version() is None  # nothing synced yet
    bundle.initialize()
    assert local_files(bundle) == {"a.py": DAG_A, "sub/b.py": b"# dag b\n", "数据/c.py": b"# dag c\n"}
    version = bundle.get_current_version()
    assert version is not None
    assert version.version == expected_version(
        cos, ["dags/a.py", "dags/sub/b.py", "dags/数据/c.py"]
    )  # not the marker
    # A fresh bundle object (another process) reads the same version from the manifest.
    assert make_bundle(bucket_name="src", prefix="dags").get_current_version() == version


def test_unchanged_bundle_is_not_downloaded_again(cos: Any, make_bundle: Any, requests_of: Any) -> None:
    seed(cos)
    bundle = make_bundle(bucket_name="src", prefix="cos://src/dags/")
    bundle.initialize()
    count = requests_of
    gets, heads, lists = count("GetObject"), count("HeadObject"), count("ListObjects")
    assert gets == 3
    version = bundle.get_current_version()
    bundle.refresh()
    assert (count("GetObject"), count("HeadObject"), count("ListObjects")) == (gets, heads, lists + 1)
    assert bundle.get_current_version() == version


def test_changed_object_alone_is_fetched_and_changes_the_version(
    cos: Any, make_bundle: Any, requests_of: Any
) -> None:
    seed(cos)
    bundle = make_bundle(bucket_name="src", prefix="dags/")
    bundle.initialize()
    before = bundle.get_current_version()
    count = requests_of
    gets = count("GetObject")
    changed = b"# dag A\n"  # same size: a size/mtime check would miss it
    assert len(changed) == len(DAG_A)
    cos.put_object(SRC_BUCKET, "dags/a.py", changed)
    bundle.refresh()
    assert count("GetObject") == gets + 1
    assert local_files(bundle)["a.py"] == changed
    assert bundle.get_current_version() != before


def test_remote_deletions_are_removed_locally(cos: Any, make_bundle: Any, cos_connection: str) -> None:
    seed(cos)
    bundle = make_bundle(bucket_name="src", prefix="dags/")
    bundle.initialize()
    hook = CosHook(cos_connection)
    hook.delete_object("dags/sub/b.py", "src")
    hook.delete_object("dags/sub/", "src")
    (bundle.path / "__pycache__").mkdir()
    (bundle.path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"compiled")  # the parser's own
    bundle.refresh()
    assert set(local_files(bundle)) == {"a.py", "数据/c.py", "__pycache__/a.cpython-311.pyc"}
    assert not (bundle.path / "sub").exists()
    assert bundle.get_current_version().version == expected_version(cos, ["dags/a.py", "dags/数据/c.py"])


def test_local_file_damaged_or_removed_is_fetched_again(cos: Any, make_bundle: Any, requests_of: Any) -> None:
    seed(cos)
    bundle = make_bundle(bucket_name="src", prefix="dags/")
    bundle.initialize()
    (bundle.path / "a.py").write_bytes(b"truncated")
    (bundle.path / "sub" / "b.py").unlink()
    (bundle.path / "stray.py").write_bytes(b"# not in COS\n")
    gets = requests_of("GetObject")
    bundle.refresh()
    assert requests_of("GetObject") == gets + 2
    assert local_files(bundle) == {"a.py": DAG_A, "sub/b.py": b"# dag b\n", "数据/c.py": b"# dag c\n"}


def test_version_of_a_listing_ignores_etag_quotes_and_order() -> None:
    assert bundle_version([("a", '"ABC"'), ("b", "def")]) == bundle_version([("b", "DEF"), ("a", "abc")])
    assert bundle_version([("a", "abc")]) != bundle_version([("a", "abd")])
    assert bundle_version([("a", "abc")]) != bundle_version([("b", "abc")])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"prefix": "dags/"}, "bucket_name"),
        ({"bucket_name": "src", "version": "v1"}, "version"),
        ({"bucket_name": "other", "prefix": "cos://src/dags/"}, "bucket_name"),
        ({"bucket_name": "src", "prefix": 3}, "prefix"),
    ],
)
def test_bad_configuration_fails_before_any_request(
    cos: Any, make_bundle: Any, requests_of: Any, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(CosValidationError) as err:
        make_bundle(**kwargs)
    assert err.value.field == field
    assert cos.counters()["requests"] == {}


def test_bucket_url_without_prefix_syncs_the_whole_bucket(
    cos: Any, make_bundle: Any, bundle_storage: Path
) -> None:
    cos.put_object(SRC_BUCKET, "top.py", b"# top\n")
    bundle = make_bundle(prefix="cos://src")
    assert (bundle.bucket_name, bundle.prefix) == ("src", "")
    bundle.initialize()
    assert local_files(bundle) == {"top.py": b"# top\n"}
    assert bundle_storage in bundle.path.parents


def test_a_key_that_would_leave_the_folder_is_skipped_not_written(
    cos: Any, make_bundle: Any, bundle_storage: Path
) -> None:
    seed(cos, {"dags/a.py": DAG_A, "dags/x/../../evil.py": b"# outside\n", "dags/y//z.py": b"# odd\n"})
    assert cos.head(SRC_BUCKET, "dags/x/../../evil.py") is not None  # COS keeps such keys verbatim
    bundle = make_bundle(bucket_name="src", prefix="dags/")
    bundle.initialize()
    assert local_files(bundle) == {"a.py": DAG_A}
    assert not [p for p in bundle_storage.rglob("evil.py")]
    assert not (bundle.path.parent / "evil.py").exists()
