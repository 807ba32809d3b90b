"""The UnixFS importer against an independent implementation (npm's ipfs-unixfs-importer).

Every CID here is computed twice, once by ``minting.unixfs`` and once by the reference
importer configured like kubo (CIDv1, raw leaves, 256 KiB chunks, balanced layout, 174 links),
and the two must agree. Small chunk sizes and widths build deep trees from small files, so the
balanced layout is exercised at every boundary without gigabytes of data.
"""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minting.cid import CID, DAG_PB, RAW
from minting.errors import MintingError
from minting.unixfs import (
    CHUNK_SIZE,
    MAX_LINKS,
    TYPE_DIRECTORY,
    TYPE_FILE,
    cat,
    cid_of_bytes,
    cid_of_file,
    decode_pbnode,
    decode_unixfs,
    directory_node,
    import_directory,
    import_file,
    import_stream,
    ls,
)
from minting.unixfs import Entry as UnixFSEntry
from tests.ipfs_reference import js_import, write_random

EMPTY_FILE = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
EMPTY_DIR_V0 = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
EMPTY_DIR_V1 = "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"

# (name, size, chunk size, max links): kubo's layout at its real boundaries, and deep small trees.
FILE_CASES = [
    ("empty", 0, CHUNK_SIZE, MAX_LINKS),
    ("one-byte", 1, CHUNK_SIZE, MAX_LINKS),
    ("under-256k", 200_000, CHUNK_SIZE, MAX_LINKS),
    ("exactly-256k", CHUNK_SIZE, CHUNK_SIZE, MAX_LINKS),
    ("just-over-256k", CHUNK_SIZE + 1, CHUNK_SIZE, MAX_LINKS),
    ("three-chunks", 3 * CHUNK_SIZE - 7, CHUNK_SIZE, MAX_LINKS),
    ("174-chunks", 174 * CHUNK_SIZE, CHUNK_SIZE, MAX_LINKS),
    # more than 174 chunks (> 43.5 MiB): the root gains a second level
    ("176-chunks", 175 * CHUNK_SIZE + 12_345, CHUNK_SIZE, MAX_LINKS),
    # depth 3 and 4 with 3 links per node: 9, 10, 27, 28 and 82 leaves
    *[(f"w3-{leaves}", leaves * 100 - 50, 100, 3) for leaves in (2, 3, 4, 9, 10, 27, 28, 82)],
    ("w2-deep", 64 * 10 + 1, 10, 2),
    ("w5-odd", 5**3 * 7 + 3, 7, 5),
]


def _make_tree(root: Path) -> Path:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty-dir").mkdir()
    (root / "a.txt").write_bytes(b"hello\n")
    (root / "B.txt").write_bytes(b"upper case sorts first\n")
    (root / "a-b").write_bytes(b"dash")
    (root / "a.b").write_bytes(b"dot")
    (root / "ü-utf8.txt").write_bytes(b"non-ascii name\n")
    (root / "sub" / "empty").write_bytes(b"")
    write_random(root / "sub" / "over-256k.bin", CHUNK_SIZE + 999, seed=7)
    write_random(root / "sub" / "deeper" / "small.bin", 4096, seed=8)
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every test file and tree, with the reference importer's answers (one node run)."""
    base = tmp_path_factory.mktemp("unixfs")
    files = {
        name: write_random(base / name, size, seed=i) for i, (name, size, _c, _w) in enumerate(FILE_CASES)
    }
    tree = _make_tree(base / "tree")
    jobs = [{"path": str(files[n]), "chunkSize": c, "maxLinks": w} for n, _s, c, w in FILE_CASES]
    jobs.append({"path": str(tree)})
    answers = js_import(jobs)
    return {
        "files": files,
        "tree": tree,
        "file_cids": {case[0]: a["root"] for case, a in zip(FILE_CASES, answers, strict=False)},
        "tree_answer": answers[-1],
    }


def test_empty_file_is_the_known_raw_cid(corpus: dict) -> None:
    assert cid_of_bytes(b"") == EMPTY_FILE
    assert cid_of_file(corpus["files"]["empty"]) == EMPTY_FILE
    assert corpus["file_cids"]["empty"] == EMPTY_FILE


@pytest.mark.parametrize(("name", "size", "chunk", "width"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_file_cid_matches_reference(corpus: dict, name: str, size: int, chunk: int, width: int) -> None:
    entry = import_file(corpus["files"][name], chunk_size=chunk, max_links=width)
    assert entry.cid == corpus["file_cids"][name]
    assert entry.size == size
    # one chunk: a raw leaf; more: a dag-pb root
    assert CID.parse(entry.cid).codec == (RAW if size <= chunk else DAG_PB)


def test_nested_directory_matches_reference(corpus: dict) -> None:
    root, cids = import_directory(corpus["tree"])
    answer = corpus["tree_answer"]
    assert root == answer["root"]
    assert answer["entries"], "the reference reported no entries"
    for rel, cid in answer["entries"].items():
        assert cids[rel] == cid, rel
    assert cids["empty-dir"] == EMPTY_DIR_V1
    assert cids["sub/empty"] == EMPTY_FILE


def test_directory_links_are_sorted_bytewise(corpus: dict) -> None:
    blocks: dict[bytes, bytes] = {}
    root, _ = import_directory(corpus["tree"], on_block=lambda c, d: blocks.__setitem__(c, bytes(d)))
    names = list(ls(root, lambda c: blocks[bytes(c)]))
    assert names == sorted(names, key=str.encode)
    assert names[0] == "B.txt"
    assert names.index("a-b") < names.index("a.b") < names.index("a.txt")


def test_large_file_tree_shape(corpus: dict) -> None:
    """176 chunks: a root over one full node of 174 leaves and one node over the other 2."""
    blocks: dict[bytes, bytes] = {}
    entry = import_file(corpus["files"]["176-chunks"], on_block=lambda c, d: blocks.__setitem__(c, bytes(d)))
    root = decode_pbnode(blocks[entry.cid_bytes])
    assert [decode_unixfs(root.data).type] == [TYPE_FILE]
    children = [decode_pbnode(blocks[bytes(c)]) for c, _n, _t in root.links]
    assert [len(c.links) for c in children] == [174, 2]
    assert decode_unixfs(root.data).filesize == entry.size
    assert entry.tsize == sum(len(b) for b in blocks.values())


def test_constant_memory_on_a_large_file(corpus: dict) -> None:
    tracemalloc.start()
    try:
        entry = import_file(corpus["files"]["176-chunks"])
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert entry.size > 45_000_000
    assert peak < 6 * 1024 * 1024  # the 4 MiB read buffer and a few hundred links


def test_on_data_sees_every_byte_in_order(corpus: dict) -> None:
    path = corpus["files"]["three-chunks"]
    h = hashlib.sha256()
    import_file(path, on_data=h.update)
    assert h.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()


class _Trickle(io.RawIOBase):
    """A stream that returns at most 1000 bytes per read, like a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        n = min(len(b), 1000, len(self._data))
        b[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


def test_short_reads_give_the_same_cid(corpus: dict) -> None:
    path = corpus["files"]["just-over-256k"]
    assert import_stream(_Trickle(path.read_bytes())).cid == corpus["file_cids"]["just-over-256k"]


@settings(max_examples=40, deadline=None)
@given(
    data=st.binary(min_size=0, max_size=3000),
    chunk=st.integers(min_value=1, max_value=64),
    width=st.integers(min_value=2, max_value=6),
)
def test_blocks_round_trip_and_respect_the_width(data: bytes, chunk: int, width: int) -> None:
    blocks: dict[bytes, bytes] = {}
    sink = lambda c, d: blocks.__setitem__(c, bytes(d))  # noqa: E731
    entry = import_stream(io.BytesIO(data), chunk_size=chunk, max_links=width, on_block=sink)
    assert b"".join(cat(entry.cid, lambda c: blocks[bytes(c)])) == data
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)] or [b""]
    assert {c[4:] for c in blocks if c[1] == RAW} == {hashlib.sha256(c).digest() for c in chunks}
    for cid, block in blocks.items():
        if cid[1] == DAG_PB:
            assert 1 <= len(decode_pbnode(block).links) <= width
    if len(set(chunks)) == len(chunks):  # no shared blocks: Tsize counts each block once
        assert entry.tsize == sum(len(b) for b in blocks.values())


def test_hidden_files_are_skipped_like_kubo(tmp_path: Path) -> None:
    (tmp_path / "visible.txt").write_text("x")
    root_plain, cids_plain = import_directory(tmp_path)
    (tmp_path / ".DS_Store").write_text("junk")
    root_again, _ = import_directory(tmp_path)
    root_hidden, cids_hidden = import_directory(tmp_path, hidden=True)
    assert root_again == root_plain
    assert root_hidden != root_plain
    assert ".DS_Store" in cids_hidden and ".DS_Store" not in cids_plain


def test_symlinks_and_missing_paths_are_errors(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("x")
    os.symlink(tmp_path / "real.txt", tmp_path / "link.txt")
    with pytest.raises(MintingError, match="symlink"):
        import_directory(tmp_path)
    with pytest.raises(MintingError, match="no such file"):
        import_file(tmp_path / "missing.bin")
    with pytest.raises(MintingError, match="not a directory"):
        import_directory(tmp_path / "real.txt")


def test_directory_node_is_a_unixfs_directory(tmp_path: Path) -> None:
    blocks: dict[bytes, bytes] = {}
    (tmp_path / "x").write_bytes(b"1")
    root, _ = import_directory(tmp_path, on_block=lambda c, d: blocks.__setitem__(c, bytes(d)))
    node = decode_pbnode(blocks[bytes(CID.parse(root))])
    assert decode_unixfs(node.data).type == TYPE_DIRECTORY
    assert [(str(c), n) for c, n, _t in node.links] == [(cid_of_bytes(b"1"), "x")]


def test_cid_strings_round_trip() -> None:
    assert str(CID.parse(EMPTY_FILE)) == EMPTY_FILE
    assert str(CID.parse(EMPTY_DIR_V0)) == EMPTY_DIR_V0
    assert str(CID.parse(EMPTY_DIR_V0).to_v1()) == EMPTY_DIR_V1
    assert str(CID.parse(f"ipfs://{EMPTY_FILE}/any/path")) == EMPTY_FILE
    with pytest.raises(MintingError):
        CID.parse("not-a-cid")
    with pytest.raises(MintingError):
        CID.parse("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk")  # one character short


def test_undecodable_file_names_are_refused(tmp_path: Path) -> None:
    os.close(os.open(os.fsencode(tmp_path) + b"/bad-\xff.bin", os.O_CREAT | os.O_WRONLY))
    with pytest.raises(MintingError, match="not valid UTF-8"):
        import_directory(tmp_path)


def test_directories_kubo_would_shard_are_refused() -> None:
    """kubo turns a directory into a HAMT once links reach ~256 KiB; we refuse rather than differ."""
    leaf = cid_of_bytes(b"x")
    entry = UnixFSEntry(leaf, 1, 1, bytes(CID.parse(leaf)))
    small = {f"file-{i:05d}.bin": entry for i in range(100)}
    assert directory_node(small)[1].cid.startswith("bafybei")
    huge = {f"file-{i:05d}.bin": entry for i in range(6000)}  # 6000 × (14 + 36) bytes > 256 KiB
    with pytest.raises(MintingError, match="shard"):
        directory_node(huge)
