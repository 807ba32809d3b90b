"""Spec values are validated where they are read: non-finite numbers, lengths the engine
refuses, zero or mistyped addresses, paths out of the spec's folder, images that are not
images, URLs with schemes metadata must not carry, stems the mix cannot hold."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from music.audio import Audio, save
from songmint.errors import SpecError
from songmint.spec import ENGINE_MAX_SECONDS, load_spec

GOOD_MIXED = "0x5FbDB2315678afecb367f032d93F642f64180aa3"  # EIP-55 checksummed
BAD_MIXED = "0x5FbDB2315678afecb367f032d93F642f64180aA3"  # one letter's case flipped

SPEC = """\
[collection]
name = "Hostile EP"
symbol = "HOS"
{collection}

[[tracks]]
title = "One"
artist = "Tester"
file = "one.wav"
{track}
"""


def _spec(tmp_path: Path, *, collection: str = "", track: str = "") -> Path:
    if not (tmp_path / "one.wav").exists():
        save(Audio(np.zeros((2, 8000), np.float32), 8000), tmp_path / "one.wav")
    p = tmp_path / "spec.toml"
    p.write_text(SPEC.format(collection=collection, track=track))
    return p


def _error(tmp_path: Path, **parts: str) -> str:
    with pytest.raises(SpecError) as e:
        load_spec(_spec(tmp_path, **parts))
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
def test_non_finite_numbers_are_refused_with_file_and_line(tmp_path: Path, value: str) -> None:
    msg = _error(tmp_path, track=f"preview_seconds = {value}")
    assert re.search(r"spec\.toml:\d+: tracks\[0\]\.preview_seconds: must be a finite number", msg), msg
    assert f"spec.toml:{_line_of(tmp_path / 'spec.toml', 'preview_seconds')}:" in msg


def test_seconds_over_the_composer_limit_is_refused_at_its_line(tmp_path: Path) -> None:
    track = '[tracks.generate]\nengine = "composer"\nseconds = 1500'
    text = SPEC.format(collection="", track="").replace('file = "one.wav"\n', "") + track
    p = tmp_path / "spec.toml"
    p.write_text(text)
    line = _line_of(p, "seconds = 1500")
    with pytest.raises(SpecError, match=rf"spec\.toml:{line}: .*seconds: 1500 is outside"):
        load_spec(p)


def test_engine_limits_match_the_engines() -> None:
    from music.engines.composer.engine import MAX_SECONDS

    assert ENGINE_MAX_SECONDS["composer"] == MAX_SECONDS


@pytest.mark.parametrize("where, text", [
    ("collection", 'royalty_bps = 500\nroyalty_receiver = "0x0000000000000000000000000000000000000000"'),
    ("collection", 'contract = "0x0000000000000000000000000000000000000000"'),
    ("track", 'editions = { cap = 2, recipient = "0x0000000000000000000000000000000000000000" }'),
])
def test_zero_addresses_are_refused(tmp_path: Path, where: str, text: str) -> None:
    assert "zero address" in _error(tmp_path, **{where: text})


def test_eip55_checksum_is_checked_on_mixed_case(tmp_path: Path) -> None:
    msg = _error(tmp_path, collection=f'royalty_bps = 500\nroyalty_receiver = "{BAD_MIXED}"')
    assert "EIP-55" in msg and GOOD_MIXED in msg
    for ok in (GOOD_MIXED, GOOD_MIXED.lower(), "0x" + GOOD_MIXED[2:].upper()):
        spec = load_spec(_spec(tmp_path, collection=f'royalty_bps = 500\nroyalty_receiver = "{ok}"'))
        assert spec.collection.royalty_receiver == GOOD_MIXED


def test_collection_image_stays_in_the_spec_folder(tmp_path: Path) -> None:
    msg = _error(tmp_path, collection='image = "../../../../../etc/passwd"')
    assert "outside the spec's folder" in msg


@pytest.mark.parametrize("name, data", [
    ("cover.png", b"not an image at all"),
    ("cover.png", b"\xff\xd8\xff\xe0" + b"\0" * 64),  # a truncated JPEG named .png
    ("passwd", b"root:x:0:0"),
    ("cover.gif", b"GIF89a"),
])
def test_collection_image_must_be_an_image(tmp_path: Path, name: str, data: bytes) -> None:
    (tmp_path / name).write_bytes(data)
    _error(tmp_path, collection=f'image = "{name}"')
    # an absolute path is allowed, and checked the same way
    _error(tmp_path, collection=f'image = "{tmp_path / name}"')


def test_a_real_png_collection_image_passes(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "c.png")
    assert load_spec(_spec(tmp_path, collection='image = "c.png"')).collection.image == tmp_path / "c.png"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "file:///etc/passwd",
                                 "http://example.org", "https://exa mple.org", "ipfs://x\"onload=1"])
@pytest.mark.parametrize("where", ["track", "collection"])
def test_urls_are_limited_to_https_ipfs_ar(tmp_path: Path, url: str, where: str) -> None:
    key = "external_url" if where == "track" else "external_link"
    assert "https://, ipfs:// or ar://" in _error(tmp_path, **{where: f"{key} = {url!r}"})


@pytest.mark.parametrize("url", ["https://example.org/x?y=1", "ipfs://bafy/x", "ar://abc"])
def test_good_urls_pass(tmp_path: Path, url: str) -> None:
    assert load_spec(_spec(tmp_path, track=f'external_url = "{url}"')).tracks[0].external_url == url


def test_stems_must_match_the_mix_channels(tmp_path: Path) -> None:
    (tmp_path / "stems").mkdir()
    save(Audio(np.zeros((8, 8000), np.float32), 8000), tmp_path / "stems" / "wide.wav")
    msg = _error(tmp_path, track='stems = "stems"')
    assert "wide.wav has 8 channels but the mix has 2" in msg
    (tmp_path / "stems" / "wide.wav").unlink()
    save(Audio(np.zeros((1, 8000), np.float32), 8000), tmp_path / "stems" / "mono.wav")
    assert load_spec(_spec(tmp_path, track='stems = "stems"')).tracks[0].stems_dir == tmp_path / "stems"
