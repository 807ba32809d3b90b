"""CARv1 archives: a streaming writer for a release folder, and a reader that verifies them.

A CARv1 file is a varint-prefixed DAG-CBOR header ``{"roots": [CID], "version": 1}``
followed by varint-prefixed sections ``CID bytes + block bytes``. The writer streams blocks
straight from the UnixFS importer into the file: the root CID is known only at the end, so
the header is written with a placeholder root of the same length (a sha2-256 CIDv1 is always
36 bytes) and patched in place before the temporary file is renamed into place.

Duplicate blocks (identical chunks, files present twice) are written once.

References
----------
- CARv1 specification, https://ipld.io/specs/transport/car/carv1/
- DAG-CBOR specification, https://ipld.io/specs/codecs/dag-cbor/spec/
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from minting.cid import CID, DAG_PB, RAW, read_varint, varint
from minting.errors import MintingError
from minting.files import atomic_open
from minting.unixfs import CHUNK_SIZE, MAX_LINKS, decode_pbnode, import_path

# --------------------------------------------------------------------------------------
# the DAG-CBOR subset a CAR header needs: maps with text keys, arrays, text, uints, CIDs


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes((major << 5 | n,))
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes((major << 5 | extra,)) + n.to_bytes(size, "big")
    raise MintingError("integer too large for CBOR")


def dag_cbor_encode(value: Any) -> bytes:
    """Encode ``value`` (dict with str keys, list, str, non-negative int, bytes, CID) as DAG-CBOR.

    Map keys are sorted length-first, then bytewise, as DAG-CBOR's canonical form requires.
    """
    if isinstance(value, CID):
        return b"\xd8\x2a" + _cbor_head(2, len(bytes(value)) + 1) + b"\x00" + bytes(value)
    if isinstance(value, bool) or value is None:
        return {False: b"\xf4", True: b"\xf5", None: b"\xf6"}[value]
    if isinstance(value, int):
        return _cbor_head(0, value) if value >= 0 else _cbor_head(1, -1 - value)
    if isinstance(value, bytes):
        return _cbor_head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _cbor_head(3, len(raw)) + raw
    if isinstance(value, list | tuple):
        return _cbor_head(4, len(value)) + b"".join(dag_cbor_encode(v) for v in value)
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode("utf-8")), k.encode("utf-8")))
        body = b"".join(dag_cbor_encode(k) + dag_cbor_encode(value[k]) for k in keys)
        return _cbor_head(5, len(keys)) + body
    raise MintingError(f"cannot encode {type(value).__name__} as DAG-CBOR")


def dag_cbor_decode(buf: bytes) -> Any:
    """Decode the DAG-CBOR subset :func:`dag_cbor_encode` writes."""
    value, end = _cbor_read(buf, 0)
    if end != len(buf):
        raise MintingError("trailing bytes after DAG-CBOR value")
    return value


def _cbor_read(buf: bytes, pos: int) -> tuple[Any, int]:
    if pos >= len(buf):
        raise MintingError("truncated DAG-CBOR")
    major, info = buf[pos] >> 5, buf[pos] & 31
    pos += 1
    if major == 7:
        simple = {20: False, 21: True, 22: None}
        if info not in simple:
            raise MintingError("unsupported CBOR simple value")
        return simple[info], pos
    if info < 24:
        n = info
    elif info <= 27:
        size = 1 << (info - 24)
        n = int.from_bytes(buf[pos : pos + size], "big")
        pos += size
    else:
        raise MintingError("indefinite-length CBOR is not DAG-CBOR")
    if major == 0:
        return n, pos
    if major == 1:
        return -1 - n, pos
    if major in (2, 3):
        raw = buf[pos : pos + n]
        if len(raw) != n:
            raise MintingError("truncated DAG-CBOR string")
        return (bytes(raw) if major == 2 else raw.decode("utf-8")), pos + n
    if major == 4:
        items = []
        for _ in range(n):
            item, pos = _cbor_read(buf, pos)
            items.append(item)
        return items, pos
    if major == 5:
        out = {}
        for _ in range(n):
            key, pos = _cbor_read(buf, pos)
            out[key], pos = _cbor_read(buf, pos)
        return out, pos
    if major == 6 and n == 42:
        raw, pos = _cbor_read(buf, pos)
        if not isinstance(raw, bytes) or raw[:1] != b"\x00":
            raise MintingError("malformed CID in DAG-CBOR")
        return CID.decode(raw[1:]), pos
    raise MintingError(f"unsupported CBOR item (major {major})")


def car_header(roots: list[CID]) -> bytes:
    """The varint-prefixed CARv1 header for ``roots``."""
    header = dag_cbor_encode({"roots": list(roots), "version": 1})
    return varint(len(header)) + header


# --------------------------------------------------------------------------------------
# writing


class CarWriter:
    """Append blocks to an open binary file as CARv1 sections; usable as an importer block sink.

    Parameters
    ----------
    f : binary file
        Positioned where the header goes; must be seekable for :meth:`finish` to patch the root.
    """

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._start = f.tell()
        # Placeholder root with the same length as the real one (CIDv1, sha2-256: 36 bytes).
        self._header = car_header([CID(1, DAG_PB, 0x12, bytes(32))])
        f.write(self._header)
        self._seen: set[bytes] = set()
        self.blocks = 0
        self.bytes = len(self._header)

    def __call__(self, cid: bytes, data: bytes | memoryview) -> None:
        self.put(cid, data)

    def put(self, cid: bytes, data: bytes | memoryview) -> None:
        """Write one block unless a block with the same CID was already written."""
        if cid in self._seen:
            return
        self._seen.add(cid)
        section = varint(len(cid) + len(data)) + cid
        self._f.write(section)
        self._f.write(data)
        self.blocks += 1
        self.bytes += len(section) + len(data)

    def finish(self, root: CID) -> None:
        """Write the real root into the header."""
        header = car_header([root])
        if len(header) != len(self._header):
            raise MintingError(f"root {root} is not a 36-byte CIDv1; cannot patch the CAR header")
        end = self._f.tell()
        self._f.seek(self._start)
        self._f.write(header)
        self._f.seek(end)


@dataclass(frozen=True, slots=True)
class CarSummary:
    """What :func:`write_car` wrote: the root CID, every path's CID, block count and bytes."""

    root: str
    cids: dict[str, str]
    blocks: int
    bytes: int
    path: Path


def write_car(
    source: str | os.PathLike[str],
    car_path: str | os.PathLike[str],
    *,
    hidden: bool = False,
    chunk_size: int = CHUNK_SIZE,
    max_links: int = MAX_LINKS,
) -> CarSummary:
    """Import a file or folder with kubo's defaults and write every block into a CARv1 file.

    Parameters
    ----------
    source : path-like
        A file, or a release folder (its root CID is the folder's, as ``ipfs add -r`` gives).
    car_path : path-like
        Output. Written to a temporary file beside it and renamed, so a failure never
        leaves a partial CAR.
    hidden : bool
        Include dot-files (kubo skips them by default).
    chunk_size, max_links : int
        Layout parameters (kubo: 262144 and 174).

    Returns
    -------
    CarSummary
        ``.root`` is the CID that ``ipfs dag import`` of this CAR pins.
    """
    car_path = Path(car_path)
    with atomic_open(car_path, buffering=1 << 20) as f:
        writer = CarWriter(f)
        root, cids = import_path(
            source, on_block=writer, hidden=hidden, chunk_size=chunk_size, max_links=max_links
        )
        writer.finish(CID.parse(root))
    return CarSummary(root, cids, writer.blocks, writer.bytes, car_path)


# --------------------------------------------------------------------------------------
# reading


class CarReader:
    """Read a CARv1 file: its roots, its blocks in order, or any block by CID.

    Parameters
    ----------
    path : path-like
        The CAR file.

    Examples
    --------
    >>> reader = CarReader("release.car")                        # doctest: +SKIP
    >>> b"".join(unixfs.cat(reader.roots[0], reader.get_block))  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as f:
            head = f.read(16)
            length, pos = read_varint(head, 0)
            f.seek(pos)
            raw = f.read(length)
        if len(raw) != length:
            raise MintingError(f"{self.path}: truncated CAR header")
        header = dag_cbor_decode(raw)
        if not isinstance(header, dict) or header.get("version") != 1:
            raise MintingError(f"{self.path}: not a CARv1 file")
        self.roots: list[CID] = list(header.get("roots", []))
        self._data_start = pos + length
        self._index: dict[bytes, tuple[int, int]] | None = None

    def sections(self) -> Iterator[tuple[CID, int, int]]:
        """Yield ``(cid, offset of the block bytes, block length)`` for every section."""
        with open(self.path, "rb") as f:
            f.seek(self._data_start)
            offset = self._data_start
            while True:
                head = f.read(10 + 40)
                if not head:
                    return
                length, p = read_varint(head, 0)
                cid, p2 = CID.read(head, p)
                size = length - (p2 - p)
                if size < 0:
                    raise MintingError(f"{self.path}: malformed section at byte {offset}")
                yield cid, offset + p2, size
                offset += p + length
                f.seek(offset)

    def blocks(self) -> Iterator[tuple[CID, bytes]]:
        """Yield ``(cid, block bytes)`` in file order."""
        with open(self.path, "rb") as f:
            for cid, at, size in self.sections():
                f.seek(at)
                data = f.read(size)
                if len(data) != size:
                    raise MintingError(f"{self.path}: truncated block {cid}")
                yield cid, data

    def get_block(self, cid: CID) -> bytes:
        """The block with CID ``cid`` (an index of offsets is built on first use)."""
        if self._index is None:
            self._index = {bytes(c.to_v1()): (at, size) for c, at, size in self.sections()}
        found = self._index.get(bytes(cid.to_v1()))
        if found is None:
            raise MintingError(f"block {cid} is not in {self.path}")
        with open(self.path, "rb") as f:
            f.seek(found[0])
            return f.read(found[1])


@dataclass(frozen=True, slots=True)
class CarCheck:
    """The result of :func:`verify_car`."""

    roots: list[str]
    blocks: int
    bytes: int


def verify_car(path: str | os.PathLike[str]) -> CarCheck:
    """Check a CAR: every block hashes to its CID, and every DAG-PB link and root is present.

    Raises
    ------
    MintingError
        Naming the first block whose hash is wrong, or the missing blocks.
    """
    reader = CarReader(path)
    present: set[bytes] = set()
    wanted: set[bytes] = {bytes(r.to_v1()) for r in reader.roots}
    count = total = 0
    for cid, data in reader.blocks():
        if not cid.verify(data):
            raise MintingError(f"{path}: block {cid} does not match its hash")
        present.add(bytes(cid.to_v1()))
        if cid.codec == DAG_PB:
            wanted.update(bytes(link.to_v1()) for link, _n, _t in decode_pbnode(data).links)
        elif cid.codec != RAW:
            raise MintingError(f"{path}: unexpected codec {cid.codec_name} for block {cid}")
        count += 1
        total += len(data)
    missing = wanted - present
    if missing:
        example = CID.decode(next(iter(missing)))
        raise MintingError(f"{path}: {len(missing)} linked block(s) missing, e.g. {example}")
    return CarCheck([str(r) for r in reader.roots], count, total)
