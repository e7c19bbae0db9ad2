from __future__ import annotations

import crcmod
from hypothesis import given, settings
from hypothesis import strategies as st

from cos_provider.client import limits
from cos_provider.client.crc64 import crc64, crc64_combine, crc64_pure
from cos_provider.emulator.content import Content
from tests.conftest import SRC_BUCKET

# The SDK's definition (resumable_downloader.py): CRC-64/XZ.
sdk_crc64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)

POLY_REFLECTED = 0xC96C5795D7870F42
X0 = 1 << 63  # the polynomial 1 in the reflected representation (bit 63 is x^0)


def mulmod(a: int, b: int) -> int:
    """``a(x) * b(x) mod P(x)``, both reflected: zlib's ``multmodp`` at 64 bits."""
    product = 0
    m = X0
    while m:
        if a & m:
            product ^= b
        m >>= 1
        b = (b >> 1) ^ POLY_REFLECTED if b & 1 else b >> 1
    return product


def x_to_the(n: int) -> int:
    """``x**n mod P(x)`` by square-and-multiply."""
    result, power = X0, X0 >> 1  # 1 and x
    while n:
        if n & 1:
            result = mulmod(result, power)
        power = mulmod(power, power)
        n >>= 1
    return result


def combine_by_polynomials(crc_a: int, crc_b: int, len_b: int) -> int:
    """CRC of ``A + B``, computed without the module's matrices: ``crc(A) * x**(8 len B) + crc(B)``."""
    return mulmod(x_to_the(8 * len_b), crc_a) ^ crc_b


def test_check_value():
    assert crc64(b"123456789") == 11051210869376104954 == sdk_crc64(b"123456789")
    assert crc64(b"") == 0


@settings(max_examples=200, deadline=None)
@given(a=st.binary(max_size=300), b=st.binary(max_size=300))
def test_combine_equals_direct(a, b):
    assert crc64(a + b) == sdk_crc64(a + b)
    assert crc64_combine(crc64(a), crc64(b), len(b)) == crc64(a + b)
    assert crc64(b, crc64(a)) == crc64(a + b)


@settings(max_examples=50, deadline=None)
@given(a=st.binary(max_size=200), b=st.binary(min_size=1, max_size=200))
def test_the_independent_combine_is_right(a, b):
    assert combine_by_polynomials(crc64(a), crc64(b), len(b)) == crc64(a + b)


@settings(max_examples=20, deadline=None)
@given(
    crc_a=st.integers(min_value=0, max_value=2**64 - 1),
    crc_b=st.integers(min_value=0, max_value=2**64 - 1),
    len_b=st.integers(min_value=limits.MAX_PART_SIZE, max_value=limits.MAX_OBJECT_SIZE),
)
def test_combine_at_48_8_tb_agrees_with_polynomial_arithmetic(crc_a, crc_b, len_b):
    assert crc64_combine(crc_a, crc_b, len_b) == combine_by_polynomials(crc_a, crc_b, len_b)


def test_combine_of_a_48_8_tb_object_equals_the_emulators_crc(cos):
    """The largest object COS holds, split at its last part: computed, not read."""
    size = limits.MAX_OBJECT_SIZE
    whole = cos.seed_synthetic(SRC_BUCKET, "huge.bin", size=size, seed=48)["crc64"]
    content = Content.synthetic(48, size)  # the same bytes, to ask for the CRC64 of two ranges
    cut = size - limits.MAX_PART_SIZE
    head, tail = content.range_crc(0, cut), content.range_crc(cut, size)
    assert crc64_combine(head, tail, size - cut) == whole
    assert combine_by_polynomials(head, tail, size - cut) == whole


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=5000), split=st.integers(min_value=0, max_value=5000))
def test_fastcrc_and_the_pure_fallback_agree_with_the_sdk(data, split):
    """The fast path (fastcrc) and the fallback table give the SDK's value, whole and continued."""
    from cos_provider.client import crc64 as module

    assert module.fastcrc is not None  # a declared dependency: the fast path is the one tested here
    head, tail = data[:split], data[split:]
    assert crc64(data) == crc64_pure(data) == sdk_crc64(data)
    assert crc64(tail, crc64(head)) == crc64_pure(tail, crc64_pure(head)) == crc64(data)
    assert crc64(memoryview(bytearray(data))) == crc64(data)


def test_the_fallback_warns_once_that_it_is_slow(monkeypatch, caplog):
    from cos_provider.client import crc64 as module

    monkeypatch.setattr(module, "fastcrc", None)
    module._warn_slow.cache_clear()
    with caplog.at_level("WARNING", logger="cos_provider.crc64"):
        assert crc64(b"123456789") == sdk_crc64(b"123456789")
        assert crc64(b"abc") == sdk_crc64(b"abc")
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "fastcrc is not installed" in caplog.records[0].message
    module._warn_slow.cache_clear()
