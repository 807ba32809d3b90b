"""A streaming UnixFS importer whose CIDs match kubo's defaults.

``ipfs add --cid-version=1`` (kubo ≥ 0.x defaults, the ``unixfs-v0-2015`` layout with CIDv1
and raw leaves) turns a file into:

- fixed-size chunks of 256 KiB, each stored as a ``raw`` block (raw leaves);
- a *balanced* DAG of ``dag-pb`` nodes with at most 174 links each: leaves are grouped
  174 at a time under a parent, parents 174 at a time under a grandparent, and so on
  until a single root remains. A file of one chunk is its own raw leaf (the empty file
  too: ``bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku``);
- every ``dag-pb`` node is a PBNode protobuf whose links come before its data, and whose
  data is a UnixFS ``Data`` message (type, filesize, one blocksize per child).

A directory is a ``dag-pb`` node of type Directory whose links are its entries sorted by
the bytes of their names, each carrying the cumulative size (``Tsize``) of the child DAG.

The importer streams: it reads a file in large buffers, hashes 256 KiB slices of them
through a :class:`memoryview` and keeps at most 174 pending links per tree level, so its
memory stays constant whatever the file size. Every block it makes is handed to an optional
``on_block(cid, data)`` sink (the CAR writer and the local block store use it).

References
----------
- UnixFS specification, https://specs.ipfs.tech/unixfs/
- DAG-PB specification, https://ipld.io/specs/codecs/dag-pb/spec/
- boxo ``ipld/unixfs/importer/balanced`` (kubo's layout), IPIP-499 (CID profiles).
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from minting.cid import CID, DAG_PB, RAW, SHA2_256, cid_to_str, read_varint, varint
from minting.errors import MintingError

CHUNK_SIZE = 262_144
"""kubo's default chunker, ``size-262144``."""
MAX_LINKS = 174
"""kubo's default maximum number of links per file node (``helpers.DefaultLinksPerBlock``)."""
SHARD_THRESHOLD = 262_144
"""kubo turns a directory into a HAMT shard once its estimated node size reaches 256 KiB."""
READ_SIZE = 4 * 1024 * 1024
"""Bytes read per system call: large reads, sliced without copying into chunks."""

# UnixFS Data.DataType
TYPE_RAW, TYPE_DIRECTORY, TYPE_FILE, TYPE_METADATA, TYPE_SYMLINK, TYPE_HAMT = range(6)
_DIR_DATA = b"\x08\x01"  # UnixFS Data{Type: Directory}

BlockSink = Callable[[bytes, "bytes | memoryview"], None]
"""``on_block(cid, data)``: binary CID and block bytes. ``data`` may be a view into a buffer the
importer reuses, so a sink must consume it (hash, write, copy) before returning."""

_RAW_PREFIX = bytes((0x01, RAW, SHA2_256, 32))
_PB_PREFIX = bytes((0x01, DAG_PB, SHA2_256, 32))


@dataclass(frozen=True, slots=True)
class Link:
    """A child of a ``dag-pb`` node: binary CID, cumulative DAG size, file bytes below it."""

    cid: bytes
    tsize: int
    filesize: int


@dataclass(frozen=True, slots=True)
class Entry:
    """The result of importing one file or directory.

    Attributes
    ----------
    cid : str
        Base32 CIDv1 of the root block.
    size : int
        File size in bytes (for a directory: the sum of its files).
    tsize : int
        Cumulative size of every block in the DAG, as written in a parent's link.
    """

    cid: str
    size: int
    tsize: int
    cid_bytes: bytes = field(repr=False, default=b"")


# --------------------------------------------------------------------------------------
# protobuf encoding by hand: only varint (wire type 0) and length-delimited (wire type 2)


def _field_bytes(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def encode_pblink(cid: bytes, name: str, tsize: int) -> bytes:
    """A PBLink message: Hash (1), Name (2, written even when empty, as kubo does), Tsize (3)."""
    return _field_bytes(1, cid) + _field_bytes(2, name.encode("utf-8")) + b"\x18" + varint(tsize)


def encode_pbnode(links: list[bytes], data: bytes | None) -> bytes:
    """A PBNode message with its links (field 2) before its data (field 1), as DAG-PB requires."""
    out = b"".join(_field_bytes(2, link) for link in links)
    return out + _field_bytes(1, data) if data is not None else out


def _file_node(links: list[Link]) -> tuple[bytes, Link]:
    """Encode an internal file node over ``links``; return its block and the link to it."""
    filesize = sum(link.filesize for link in links)
    data = b"\x08\x02\x18" + varint(filesize) + b"".join(b"\x20" + varint(link.filesize) for link in links)
    block = encode_pbnode([encode_pblink(link.cid, "", link.tsize) for link in links], data)
    cid = _PB_PREFIX + hashlib.sha256(block).digest()
    return block, Link(cid, len(block) + sum(link.tsize for link in links), filesize)


# --------------------------------------------------------------------------------------
# files


class FileImporter:
    """Incremental balanced-DAG builder: feed chunks with :meth:`add_chunk`, then :meth:`finish`.

    Parameters
    ----------
    on_block : callable, optional
        Receives every block as it is made (leaves first, the root last).
    max_links : int
        Maximum links per node (174 in kubo).

    Notes
    -----
    Level ``k`` holds the pending links of nodes ``k`` levels above the leaves. A level is
    reduced to one parent the moment it holds ``max_links`` links, which is exactly the
    grouping of kubo's balanced builder (and of ``ipfs-unixfs-importer``'s ``balanced``
    layout): full subtrees on the left, the last subtree partial. At the end the partial
    groups are closed bottom-up; a lone link at the top level is the root.
    """

    def __init__(self, *, on_block: BlockSink | None = None, max_links: int = MAX_LINKS) -> None:
        if max_links < 2:
            raise MintingError("max_links must be at least 2")
        self._on_block = on_block
        self._max_links = max_links
        self._levels: list[list[Link]] = [[]]
        self._chunks = 0

    def add_chunk(self, chunk: bytes | memoryview) -> None:
        """Add the next leaf (at most the chunk size; only the last may be shorter)."""
        cid = _RAW_PREFIX + hashlib.sha256(chunk).digest()
        if self._on_block is not None:
            self._on_block(cid, chunk)
        self._chunks += 1
        n = len(chunk)
        self._push(0, Link(cid, n, n))

    def _push(self, level: int, link: Link) -> None:
        levels = self._levels
        while True:
            if level == len(levels):
                levels.append([])
            pending = levels[level]
            pending.append(link)
            if len(pending) < self._max_links:
                return
            link = self._close(pending)
            pending.clear()
            level += 1

    def _close(self, links: list[Link]) -> Link:
        block, link = _file_node(links)
        if self._on_block is not None:
            self._on_block(link.cid, block)
        return link

    def finish(self) -> Entry:
        """Close the pending partial groups and return the root."""
        if self._chunks == 0:  # the empty file is one empty raw leaf
            self.add_chunk(b"")
        levels = self._levels
        k = 0
        while True:
            pending = levels[k]
            top = k == len(levels) - 1 or not any(levels[k + 1 :])
            if pending and top and (len(pending) == 1):
                root = pending[0]
                return Entry(cid_to_str(root.cid), root.filesize, root.tsize, root.cid)
            if pending:
                link = self._close(pending)
                pending.clear()
                if k + 1 == len(levels):
                    levels.append([])
                levels[k + 1].append(link)
            k += 1


def _read_full(f: BinaryIO, view: memoryview) -> int:
    """Fill ``view`` from ``f`` unless the stream ends first; return the bytes read."""
    got = 0
    while got < len(view):
        n = f.readinto(view[got:])  # type: ignore[attr-defined]
        if not n:
            break
        got += n
    return got


def import_stream(
    f: BinaryIO,
    *,
    on_block: BlockSink | None = None,
    on_data: Callable[[memoryview], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
    max_links: int = MAX_LINKS,
    read_size: int = READ_SIZE,
) -> Entry:
    """Import the bytes of a binary stream as one UnixFS file.

    Parameters
    ----------
    f : binary file object
        Read with ``readinto`` until it ends.
    on_block : callable, optional
        Block sink, see :data:`BlockSink`.
    on_data : callable, optional
        Called with every buffer read, in order (e.g. ``hashlib.sha256().update``), so that
        a caller can hash the whole file in the same pass.
    chunk_size : int
        Bytes per leaf (kubo: 262144).
    max_links : int
        Links per node (kubo: 174).
    read_size : int
        Bytes per read, rounded to a multiple of ``chunk_size``.

    Returns
    -------
    Entry
    """
    if chunk_size < 1:
        raise MintingError("chunk_size must be positive")
    builder = FileImporter(on_block=on_block, max_links=max_links)
    chunks_per_read = max(1, read_size // chunk_size)
    try:  # a small file needs no 4 MiB buffer (allocating one per file dominates small folders)
        size = os.fstat(f.fileno()).st_size
        chunks_per_read = min(chunks_per_read, size // chunk_size + 1)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    buf = bytearray(chunks_per_read * chunk_size)
    view = memoryview(buf)
    while True:
        n = _read_full(f, view)
        if n and on_data is not None:
            on_data(view[:n])
        for start in range(0, n, chunk_size):
            builder.add_chunk(view[start : min(start + chunk_size, n)])
        if n < len(buf):
            break
    return builder.finish()


def import_file(path: str | os.PathLike[str], **kwargs: object) -> Entry:
    """Import one file from disk; keyword arguments as in :func:`import_stream`."""
    try:
        with open(path, "rb", buffering=0) as f:
            return import_stream(f, **kwargs)  # type: ignore[arg-type]
    except IsADirectoryError:
        raise MintingError(f"{path} is a directory: use import_directory") from None
    except FileNotFoundError:
        raise MintingError(f"no such file: {path}") from None


def import_bytes(data: bytes, **kwargs: object) -> Entry:
    """Import an in-memory byte string (metadata JSON, small files)."""
    return import_stream(io.BytesIO(data), **kwargs)  # type: ignore[arg-type]


def cid_of_file(path: str | os.PathLike[str]) -> str:
    """The CID ``ipfs add --cid-version=1`` gives the file at ``path``."""
    return import_file(path).cid


def cid_of_bytes(data: bytes) -> str:
    """The CID ``ipfs add --cid-version=1`` gives a file holding ``data``."""
    return import_bytes(data).cid


# --------------------------------------------------------------------------------------
# directories


def directory_node(entries: dict[str, Entry]) -> tuple[bytes, Entry]:
    """Encode a flat UnixFS directory over ``{name: entry}``; return its block and entry.

    Raises
    ------
    MintingError
        When a name is empty or holds ``/``, or when the directory is so large that kubo
        would shard it (HAMT), which this importer does not write.
    """
    try:
        names = sorted(entries, key=lambda n: n.encode("utf-8"))
    except UnicodeEncodeError:
        bad = next(n for n in entries if not n.isprintable() or _undecodable(n))
        raise MintingError(f"file name is not valid UTF-8: {bad!r}") from None
    estimate = 0
    for name in names:
        if not name or "/" in name or name in (".", ".."):
            raise MintingError(f"invalid name in a UnixFS directory: {name!r}")
        estimate += len(name.encode("utf-8")) + len(entries[name].cid_bytes)
    if estimate >= SHARD_THRESHOLD:
        raise MintingError(
            f"directory with {len(names)} entries is large enough that kubo would shard it (HAMT); "
            "split it into subdirectories"
        )
    links = [encode_pblink(entries[n].cid_bytes, n, entries[n].tsize) for n in names]
    block = encode_pbnode(links, _DIR_DATA)
    cid = _PB_PREFIX + hashlib.sha256(block).digest()
    tsize = len(block) + sum(e.tsize for e in entries.values())
    size = sum(e.size for e in entries.values())
    return block, Entry(cid_to_str(cid), size, tsize, cid)


def _undecodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def scan_directory(directory: Path, hidden: bool) -> list[os.DirEntry[str]]:
    """A folder's entries in UnixFS order (by UTF-8 bytes of the name); dot-files only if ``hidden``."""
    with os.scandir(directory) as it:
        found = [e for e in it if hidden or not e.name.startswith(".")]
    return sorted(found, key=lambda e: e.name.encode("utf-8", "surrogateescape"))


def import_directory(
    path: str | os.PathLike[str],
    *,
    on_block: BlockSink | None = None,
    hidden: bool = False,
    chunk_size: int = CHUNK_SIZE,
    max_links: int = MAX_LINKS,
) -> tuple[str, dict[str, str]]:
    """Import a directory tree, as ``ipfs add -r --cid-version=1 DIR`` does.

    Parameters
    ----------
    path : path-like
        The directory. Its own name is not part of the DAG (the root *is* the directory).
    on_block : callable, optional
        Block sink, see :data:`BlockSink`. Each file's blocks, then its directory's.
    hidden : bool
        Include entries whose name starts with ``.`` (kubo skips them unless ``--hidden``).
    chunk_size, max_links : int
        As in :func:`import_stream`.

    Returns
    -------
    root_cid : str
        CID of the directory.
    cids : dict[str, str]
        ``{relative POSIX path: CID}`` for every file and subdirectory below it.

    Raises
    ------
    MintingError
        On a symlink or special file (kubo would store a symlink node; a release folder should
        hold real files), or an unreadable path.
    """
    root = Path(path)
    if not root.is_dir():
        raise MintingError(f"not a directory: {root}")
    cids: dict[str, str] = {}

    def walk(directory: Path, rel: str) -> Entry:
        children: dict[str, Entry] = {}
        for item in scan_directory(directory, hidden):
            child_rel = f"{rel}{item.name}"
            mode = item.stat(follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                raise MintingError(f"symlinks are not supported in a release folder: {child_rel}")
            if stat.S_ISDIR(mode):
                entry = walk(Path(item.path), child_rel + "/")
            elif stat.S_ISREG(mode):
                entry = import_file(item.path, on_block=on_block, chunk_size=chunk_size, max_links=max_links)
            else:
                raise MintingError(f"not a regular file or directory: {child_rel}")
            children[item.name] = entry
            cids[child_rel] = entry.cid
        block, entry = directory_node(children)
        if on_block is not None:
            on_block(entry.cid_bytes, block)
        return entry

    top = walk(root, "")
    return top.cid, cids


def import_path(path: str | os.PathLike[str], **kwargs: object) -> tuple[str, dict[str, str]]:
    """Import a file or a directory; for a file the mapping is ``{name: cid}``."""
    p = Path(path)
    if p.is_dir():
        return import_directory(p, **kwargs)  # type: ignore[arg-type]
    kwargs.pop("hidden", None)
    entry = import_file(p, **kwargs)
    return entry.cid, {p.name: entry.cid}


# --------------------------------------------------------------------------------------
# decoding (for readers, verification and export)


@dataclass(frozen=True, slots=True)
class PBNode:
    """A decoded DAG-PB node: ``links`` as ``(cid, name, tsize)`` and the raw ``data``."""

    links: list[tuple[CID, str, int]]
    data: bytes | None


@dataclass(frozen=True, slots=True)
class UnixFSData:
    """A decoded UnixFS ``Data`` message."""

    type: int
    data: bytes
    filesize: int | None
    blocksizes: list[int]


def _fields(buf: bytes | memoryview) -> Iterator[tuple[int, int, int | bytes]]:
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
            yield number, wire, value
        elif wire == 2:
            length, pos = read_varint(buf, pos)
            if pos + length > len(buf):
                raise MintingError("truncated protobuf field")
            yield number, wire, bytes(buf[pos : pos + length])
            pos += length
        else:
            raise MintingError(f"unsupported protobuf wire type {wire}")


def decode_pbnode(block: bytes | memoryview) -> PBNode:
    """Decode a DAG-PB block."""
    links: list[tuple[CID, str, int]] = []
    data: bytes | None = None
    for number, wire, value in _fields(block):
        if number == 2 and wire == 2:
            assert isinstance(value, bytes)
            cid, name, tsize = None, "", 0
            for n2, w2, v2 in _fields(value):
                if n2 == 1 and w2 == 2:
                    cid = CID.decode(v2)  # type: ignore[arg-type]
                elif n2 == 2 and w2 == 2:
                    name = v2.decode("utf-8")  # type: ignore[union-attr]
                elif n2 == 3 and w2 == 0:
                    tsize = v2  # type: ignore[assignment]
            if cid is None:
                raise MintingError("DAG-PB link without a hash")
            links.append((cid, name, tsize))
        elif number == 1 and wire == 2:
            data = value  # type: ignore[assignment]
        else:
            raise MintingError(f"unexpected DAG-PB field {number}")
    return PBNode(links, data)


def decode_unixfs(data: bytes) -> UnixFSData:
    """Decode a UnixFS ``Data`` message (the ``data`` of a DAG-PB node)."""
    kind, payload, filesize, sizes = TYPE_FILE, b"", None, []
    for number, _wire, value in _fields(data):
        if number == 1:
            kind = value  # type: ignore[assignment]
        elif number == 2:
            payload = value  # type: ignore[assignment]
        elif number == 3:
            filesize = value  # type: ignore[assignment]
        elif number == 4:
            sizes.append(value)  # type: ignore[arg-type]
    return UnixFSData(kind, payload, filesize, sizes)


def cat(cid: str | CID, get_block: Callable[[CID], bytes]) -> Iterator[bytes]:
    """Stream the content of the UnixFS file ``cid``, reading blocks with ``get_block``.

    Raises
    ------
    MintingError
        When a block does not match its CID or the node is not a file.
    """
    c = CID.parse(cid) if isinstance(cid, str) else cid
    block = get_block(c)
    if not c.verify(block):
        raise MintingError(f"block {c} does not match its hash")
    if c.codec == RAW:
        yield bytes(block)
        return
    if c.codec != DAG_PB:
        raise MintingError(f"{c} is not a UnixFS node (codec {c.codec_name})")
    node = decode_pbnode(block)
    fs = decode_unixfs(node.data or b"")
    if fs.type not in (TYPE_FILE, TYPE_RAW):
        raise MintingError(f"{c} is not a file (UnixFS type {fs.type})")
    if fs.data:
        yield fs.data
    for child, _name, _tsize in node.links:
        yield from cat(child, get_block)


def ls(cid: str | CID, get_block: Callable[[CID], bytes]) -> dict[str, CID]:
    """The entries ``{name: cid}`` of the UnixFS directory ``cid``."""
    c = CID.parse(cid) if isinstance(cid, str) else cid
    if c.codec != DAG_PB:
        raise MintingError(f"{c} is not a directory")
    node = decode_pbnode(get_block(c))
    if decode_unixfs(node.data or b"").type != TYPE_DIRECTORY:
        raise MintingError(f"{c} is not a directory")
    return {name: child for child, name, _tsize in node.links}
