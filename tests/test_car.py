"""CARv1 writer and reader: round trips, block hashes, and npm's ipfs-car as an independent reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from minting.car import CarReader, car_header, dag_cbor_decode, dag_cbor_encode, verify_car, write_car
from minting.cid import CID, read_varint
from minting.errors import MintingError
from minting.unixfs import cat, import_directory, import_file
from tests.ipfs_reference import ipfs_car, write_random


@pytest.fixture
def release(tmp_path: Path) -> Path:
    root = tmp_path / "release"
    (root / "stems").mkdir(parents=True)
    write_random(root / "mix.flac", 700_000, seed=1)  # three chunks
    write_random(root / "stems" / "drums.wav", 90_000, seed=2)
    write_random(root / "stems" / "bass.wav", 90_000, seed=3)
    (root / "stems" / "bass-copy.wav").write_bytes((root / "stems" / "bass.wav").read_bytes())
    (root / "metadata.json").write_text('{"name": "x"}\n')
    return root


def test_car_round_trips_every_file(release: Path, tmp_path: Path) -> None:
    summary = write_car(release, tmp_path / "out" / "release.car")
    root, cids = import_directory(release)
    assert summary.root == root and summary.cids == cids
    reader = CarReader(summary.path)
    assert [str(r) for r in reader.roots] == [root]
    for rel in ("mix.flac", "stems/drums.wav", "stems/bass.wav", "metadata.json"):
        content = b"".join(cat(cids[rel], reader.get_block))
        assert content == (release / rel).read_bytes(), rel
    assert summary.bytes == summary.path.stat().st_size


def test_every_block_hashes_to_its_cid_and_duplicates_are_written_once(release: Path, tmp_path: Path) -> None:
    summary = write_car(release, tmp_path / "release.car")
    seen = []
    for cid, data in CarReader(summary.path).blocks():
        assert cid.verify(data)
        seen.append(bytes(cid))
    assert len(seen) == len(set(seen)) == summary.blocks
    # bass.wav and bass-copy.wav share one block
    assert summary.cids["stems/bass.wav"] == summary.cids["stems/bass-copy.wav"]
    check = verify_car(summary.path)
    assert check.roots == [summary.root] and check.blocks == summary.blocks


def test_header_is_dag_cbor_with_the_root(release: Path, tmp_path: Path) -> None:
    summary = write_car(release, tmp_path / "release.car")
    raw = summary.path.read_bytes()
    length, pos = read_varint(raw)
    header = dag_cbor_decode(raw[pos : pos + length])
    assert header == {"roots": [CID.parse(summary.root)], "version": 1}
    # canonical DAG-CBOR: keys by length, then bytes
    assert dag_cbor_encode({"version": 1, "roots": []}) == b"\xa2eroots\x80gversion\x01"
    assert car_header([CID.parse(summary.root)]) == raw[: pos + length]


def test_ipfs_car_reads_our_car(release: Path, tmp_path: Path) -> None:
    """npm's ipfs-car (an independent reader) lists and unpacks what we wrote, byte for byte."""
    summary = write_car(release, tmp_path / "release.car")
    assert ipfs_car("roots", str(summary.path)).split() == [summary.root]
    listed = {line.removeprefix("./") for line in ipfs_car("ls", str(summary.path)).split()}
    assert {"mix.flac", "stems", "stems/drums.wav", "metadata.json"} <= listed
    out = tmp_path / "unpacked"
    ipfs_car("unpack", str(summary.path), "--output", str(out))
    for rel in ("mix.flac", "stems/drums.wav", "stems/bass-copy.wav", "metadata.json"):
        assert (out / rel).read_bytes() == (release / rel).read_bytes(), rel


def test_deep_tree_car_unpacks_with_ipfs_car(tmp_path: Path) -> None:
    """Small chunks and 3 links per node give a 5-level DAG; ipfs-car must still rebuild the file."""
    src = write_random(tmp_path / "deep.bin", 30_000, seed=9)
    summary = write_car(src, tmp_path / "deep.car", chunk_size=100, max_links=3)
    assert summary.root == import_file(src, chunk_size=100, max_links=3).cid
    out = tmp_path / "deep.out"
    ipfs_car("unpack", str(summary.path), "--output", str(out))
    assert out.read_bytes() == src.read_bytes()


def test_small_file_car_is_byte_identical_to_ipfs_car(tmp_path: Path) -> None:
    src = write_random(tmp_path / "cover.png", 50_000, seed=4)
    ours = write_car(src, tmp_path / "ours.car")
    ipfs_car("pack", str(src), "--no-wrap", "--output", str(tmp_path / "theirs.car"))
    assert ours.path.read_bytes() == (tmp_path / "theirs.car").read_bytes()


def test_small_folder_has_the_same_root_and_blocks_as_ipfs_car(tmp_path: Path) -> None:
    """Below 256 KiB per file ipfs-car's layout and kubo's agree, so the DAGs must be identical."""
    folder = tmp_path / "folder"
    (folder / "nested").mkdir(parents=True)
    (folder / "a.json").write_text("{}\n")
    write_random(folder / "nested" / "b.bin", 100_000, seed=5)
    ours = write_car(folder, tmp_path / "ours.car")
    ipfs_car("pack", str(folder), "--output", str(tmp_path / "theirs.car"))
    theirs = CarReader(tmp_path / "theirs.car")
    assert [str(r) for r in theirs.roots] == [ours.root]
    assert {bytes(c) for c, _ in theirs.blocks()} == {bytes(c) for c, _ in CarReader(ours.path).blocks()}


def test_verify_car_detects_corruption_and_missing_blocks(release: Path, tmp_path: Path) -> None:
    summary = write_car(release, tmp_path / "release.car")
    raw = bytearray(summary.path.read_bytes())
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 0xFF
    (tmp_path / "flipped.car").write_bytes(flipped)
    with pytest.raises(MintingError, match="does not match its hash"):
        verify_car(tmp_path / "flipped.car")
    # drop the first section (a leaf): its parent's link dangles
    length, pos = read_varint(raw)
    start = pos + length
    section, p = read_varint(raw, start)
    (tmp_path / "missing.car").write_bytes(raw[:start] + raw[p + section :])
    with pytest.raises(MintingError, match="missing"):
        verify_car(tmp_path / "missing.car")


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(MintingError):
        write_car(tmp_path / "does-not-exist", tmp_path / "out.car")
    assert list(tmp_path.iterdir()) == []
