"""A Snapshot on disk in a format that cannot run code when read: Arrow IPC for the frames, JSON for the rest.

Layout of one file: MAGIC, an 8-byte big-endian header length, the UTF-8 JSON header (format, cache key, when
it was loaded, the source's change marker, every non-frame Snapshot field, each frame's and each derived
array's byte range, and a SHA-256 over the rest of the header and the frames), then the frames and the arrays
(`Snapshot.arrays`, one column each), each one Arrow IPC file. Reading checks
the magic, the format, the checksum and every Arrow buffer; anything else raises `DamagedCache`. A file written
for another key (another source or parse settings) is `ForeignCache`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import mmap
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sheets.snapshot import Snapshot
from sheets.validate import DataIssue

MAGIC = b"crm-pulse snapshot\n"
FORMAT = 2
_LENGTH = struct.Struct(">Q")
_MAX_HEADER = 64 * 1024 * 1024
_CHUNK = 16 * 1024 * 1024


class DamagedCache(Exception):
    """The bytes are not a snapshot file this version can read."""


class ForeignCache(Exception):
    """A readable snapshot file written for another cache key."""


@dataclass(frozen=True)
class Stored:
    """What a snapshot file holds besides the snapshot: when it was loaded and the source's change marker then."""

    snapshot: Snapshot
    loaded_at: float
    marker: str | None


def dump(snapshot: Snapshot, *, key: str, loaded_at: float, marker: str | None = None) -> bytes:
    """The file bytes for `snapshot` under cache `key`."""
    return b"".join(dump_parts(snapshot, key=key, loaded_at=loaded_at, marker=marker))


def dump_parts(snapshot: Snapshot, *, key: str, loaded_at: float, marker: str | None = None) -> list[bytes]:
    """`dump`'s bytes in pieces, to be written one after another: joining them would hold the file twice in
    memory at the peak of a cold read (issue 16: +170 MB at 1M orders)."""
    blobs, ranges, offset = [], [], 0
    for name, frame in snapshot.frames.items():
        blob = _arrow(frame)
        ranges.append({"name": name, "offset": offset, "length": len(blob)})
        blobs.append(blob)
        offset += len(blob)
    arrays = []
    for name, values in _storable(snapshot.arrays).items():
        blob = _ipc(pa.table({"v": values}))
        arrays.append({"name": name, "offset": offset, "length": len(blob)})
        blobs.append(blob)
        offset += len(blob)
    header = {
        "format": FORMAT,
        "key": key,
        "loaded_at": loaded_at,
        "marker": marker,
        "snapshot": _fields(snapshot),
        "frames": ranges,
        "arrays": arrays,
    }
    header["sha256"] = _checksum(header, blobs)
    head = json.dumps(header, ensure_ascii=False, allow_nan=False).encode("utf-8")
    return [MAGIC + _LENGTH.pack(len(head)) + head, *blobs]


def _checksum(
    header: dict[str, Any], blobs: list[bytes] | list[memoryview], release: Callable[[], None] = lambda: None
) -> str:
    """SHA-256 of the header (without its checksum, in canonical JSON) and the frame bytes (`release` is called
    after each chunk of them)."""
    digest = hashlib.sha256(
        json.dumps(
            {k: v for k, v in header.items() if k != "sha256"}, sort_keys=True, ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    )
    for blob in blobs:
        for start in range(0, len(blob), _CHUNK):
            digest.update(blob[start : start + _CHUNK])
            release()
    return digest.hexdigest()


def read_file(path: Path, *, key: str) -> Stored:
    """`load` of the file at `path`, memory-mapped rather than read, its pages released after each chunk hashed and
    each part converted: a load never holds the whole file besides the snapshot (issue 16: 170 MB less at the peak
    of a cache hit at 1M orders)."""
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return load(b"", key=key)
        view = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    drop = getattr(mmap, "MADV_DONTNEED", None)
    try:
        return load(view, key=key, release=(lambda: view.madvise(drop)) if drop is not None else (lambda: None))
    finally:
        with contextlib.suppress(BufferError):  # a view of it is still referenced: closed when that is collected
            view.close()


def load(data: bytes | mmap.mmap, *, key: str, release: Callable[[], None] = lambda: None) -> Stored:
    """The snapshot in `data`; DamagedCache when unreadable, ForeignCache when written for another key. `release` is
    called whenever the bytes read so far are no longer needed (a memory map drops its pages)."""
    try:
        header, body = _split(data)
        if header.get("format") != FORMAT:
            raise DamagedCache(f"format {header.get('format')!r}, expected {FORMAT}")
        if header.get("sha256") != _checksum(header, [body], release):
            raise DamagedCache("checksum mismatch")
        if header.get("key") != key:
            raise ForeignCache("written for another source or other parse settings")
        frames = {}
        for r in header["frames"]:
            frames[str(r["name"])] = _frame(body, int(r["offset"]), int(r["length"]))
            release()
        snapshot = Snapshot(frames=frames, **_unfields(header["snapshot"]))
        for r in header["arrays"]:
            snapshot.arrays[str(r["name"])] = _array(body, int(r["offset"]), int(r["length"]))
            release()
        del body
        marker = header.get("marker")
        return Stored(snapshot, float(header["loaded_at"]), None if marker is None else str(marker))
    except (DamagedCache, ForeignCache):
        raise
    except Exception as err:  # noqa: BLE001 — any decoding failure means the file is damaged
        raise DamagedCache(f"{type(err).__name__}: {err}") from None


def _arrow(frame: Any) -> bytes:
    return _ipc(pa.Table.from_pandas(frame))


def _storable(arrays: dict[str, np.ndarray]) -> dict[str, pa.Array[Any]]:
    """The arrays as Arrow arrays (text arrays must hold only str); none at all when any cannot be stored, so
    a later process rebuilds them all rather than restoring a part."""
    out = {}
    for name, values in arrays.items():
        try:
            out[name] = pa.array(values, type=pa.string()) if values.dtype == object else pa.array(values)
        except (pa.ArrowException, TypeError, ValueError):
            return {}
    return out


def _ipc(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _frame(body: memoryview, offset: int, length: int) -> Any:
    if offset < 0 or length < 0 or offset + length > len(body):
        raise DamagedCache("a frame lies outside the file")
    table = pa.ipc.open_file(pa.BufferReader(pa.py_buffer(body[offset : offset + length]))).read_all()
    table.validate(full=True)
    # A deep copy, so no column is a view into the file's bytes: one such view would keep the whole file in memory
    # for the snapshot's lifetime (issue 16: 170 MB at 1M orders). Text columns copy only their pointers.
    return table.to_pandas().copy(deep=True)


def _array(body: memoryview, offset: int, length: int) -> np.ndarray:
    """One stored array, copied out of the file's bytes (which are then released) and read-only."""
    if offset < 0 or length < 0 or offset + length > len(body):
        raise DamagedCache("an array lies outside the file")
    table = pa.ipc.open_file(pa.BufferReader(pa.py_buffer(body[offset : offset + length]))).read_all()
    table.validate(full=True)
    column = table.column("v")
    values = np.array(column.to_numpy(zero_copy_only=False), dtype=object if pa.types.is_string(column.type) else None)
    values.flags.writeable = False
    return values


def _split(data: bytes | mmap.mmap) -> tuple[dict[str, Any], memoryview]:
    if bytes(data[: len(MAGIC)]) != MAGIC:
        raise DamagedCache("not a crm-pulse snapshot file")
    start = len(MAGIC) + _LENGTH.size
    if len(data) < start:
        raise DamagedCache("truncated header")
    (length,) = _LENGTH.unpack_from(data, len(MAGIC))
    if length > _MAX_HEADER or start + length > len(data):
        raise DamagedCache("truncated header")
    header = json.loads(data[start : start + length].decode("utf-8"))
    if not isinstance(header, dict):
        raise DamagedCache("the header is not an object")
    return header, memoryview(data)[start + length :]


def _fields(snapshot: Snapshot) -> dict[str, Any]:
    """Every Snapshot field but the frames as JSON values (issues as objects, read_at as ISO text)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(snapshot):
        value = getattr(snapshot, f.name)
        if f.name in ("frames", "arrays"):
            continue
        if f.name == "issues":
            value = [dataclasses.asdict(i) for i in value]
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[f.name] = value
    return out


def _unfields(data: dict[str, Any]) -> dict[str, Any]:
    known = {f.name for f in dataclasses.fields(Snapshot)} - {"frames", "arrays"}
    if set(data) != known:
        raise DamagedCache(f"fields {sorted(set(data) ^ known)} differ from this version's snapshot")
    out = dict(data)
    out["issues"] = [DataIssue(**i) for i in data["issues"]]
    out["read_at"] = datetime.fromisoformat(data["read_at"])
    return out
