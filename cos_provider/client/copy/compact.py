"""The (source, destination) pairs a prefix copy reports, kept in about 20 bytes per object.

A prefix copy of a million objects must not hold a million pairs of
:class:`ObjectRef` (~270 bytes a pair). Its pairs share a handful of
(bucket, version, region) combinations and differ by key, so
:class:`RefPairs` keeps the keys as UTF-8 in one growing buffer with their
end offsets, and the combinations once; a pair is rebuilt when read. It is a
read-only sequence of ``(source, destination)`` tuples, plus ``append``.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import overload

from cos_provider.client.attributes import ObjectRef


class _Keys:
    __slots__ = ("_data", "_ends")

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("Q")

    def append(self, key: str) -> None:
        self._data += key.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._data))

    def __getitem__(self, i: int) -> str:
        start = self._ends[i - 1] if i else 0
        return self._data[start : self._ends[i]].decode("utf-8", "surrogatepass")


class RefPairs(Sequence[tuple[ObjectRef, ObjectRef]]):
    """A compact, append-only list of (source, destination) :class:`ObjectRef` pairs."""

    def __init__(self) -> None:
        self._src = _Keys()
        self._dest = _Keys()
        self._shapes: dict[tuple[str, str | None, str | None, str, str | None, str | None], int] = {}
        self._shape_list: list[tuple[str, str | None, str | None, str, str | None, str | None]] = []
        self._shape_of = array("I")
        self._len = 0

    def append(self, pair: tuple[ObjectRef, ObjectRef]) -> None:
        src, dest = pair
        shape = (src.bucket, src.version_id, src.region, dest.bucket, dest.version_id, dest.region)
        index = self._shapes.get(shape)
        if index is None:
            index = self._shapes[shape] = len(self._shape_list)
            self._shape_list.append(shape)
        self._shape_of.append(index)
        self._src.append(src.key)
        self._dest.append(dest.key)
        self._len += 1

    def __len__(self) -> int:
        return self._len

    def _pair(self, i: int) -> tuple[ObjectRef, ObjectRef]:
        sb, sv, sr, db, dv, dr = self._shape_list[self._shape_of[i]]
        return ObjectRef(sb, self._src[i], sv, sr), ObjectRef(db, self._dest[i], dv, dr)

    @overload
    def __getitem__(self, i: int) -> tuple[ObjectRef, ObjectRef]: ...

    @overload
    def __getitem__(self, i: slice) -> list[tuple[ObjectRef, ObjectRef]]: ...

    def __getitem__(self, i: int | slice) -> tuple[ObjectRef, ObjectRef] | list[tuple[ObjectRef, ObjectRef]]:
        if isinstance(i, slice):
            return [self._pair(n) for n in range(*i.indices(self._len))]
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("RefPairs index out of range")
        return self._pair(i)

    def __iter__(self) -> Iterator[tuple[ObjectRef, ObjectRef]]:
        for n in range(self._len):
            yield self._pair(n)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (RefPairs, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RefPairs({len(self)} pairs)"
