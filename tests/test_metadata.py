"""Assets and token/contract metadata, every document validated with jsonschema."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from minting.assets import Asset, guess_mime_type
from minting.errors import MintingError
from minting.metadata import (
    build_contract_metadata,
    build_token_metadata,
    dumps_metadata,
    token_metadata_filename,
    validate_contract_metadata,
    validate_token_metadata,
    write_contract_metadata,
    write_token_metadata,
)
from minting.schemas import SCHEMAS, load_schema
from minting.unixfs import cid_of_file
from tests.ipfs_reference import write_random

RECEIVER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture
def assets(tmp_path: Path) -> list[Asset]:
    files = {
        "mix": write_random(tmp_path / "mix.mp3", 300_000, seed=1),
        "lossless": write_random(tmp_path / "mix.flac", 900_000, seed=2),
        "stem:drums": write_random(tmp_path / "stems" / "drums.flac", 40_000, seed=3),
        "cover": write_random(tmp_path / "cover.png", 20_000, seed=4),
        "cover_thumbnail": write_random(tmp_path / "cover-512.webp", 5_000, seed=5),
        "preview": write_random(tmp_path / "preview.ogg", 10_000, seed=6),
        "player": write_random(tmp_path / "player.html", 2_000, seed=7),
    }
    durations = {"mix": 181.5, "lossless": 181.5, "stem:drums": 181.5, "preview": 30.0}
    return [Asset.from_file(p, role=r, duration=durations.get(r)) for r, p in files.items()]


def _music_fields(assets: list[Asset]) -> dict:
    lossless = next(a for a in assets if a.role == "lossless")
    cover = next(a for a in assets if a.role == "cover")
    return {
        "version": "music-nft-20220222",
        "title": "Night Drive",
        "artist": "The Test Tones",
        "duration": 181.5,
        "mimeType": "audio/mpeg",
        "bpm": 120,
        "key": "8m",
        "genre": "Synthwave",
        "losslessAudio": lossless.uri,
        "trackNumber": 1,
        "artwork": {"uri": cover.uri, "mimeType": cover.mime_type},
        "credits": [{"name": "The Test Tones", "collaboratorType": "artist"}],
        "license": "CC-BY-4.0",
        "isrc": "US-S1Z-99-00001",
    }


def _token(assets: list[Asset], **overrides) -> dict:
    kwargs = {
        "name": "The Test Tones — Night Drive",
        "description": "A synthetic test track.",
        "assets": assets,
        "attributes": [
            {"trait_type": "Genre", "value": "Synthwave"},
            {"trait_type": "BPM", "value": 120, "display_type": "number", "max_value": 300},
            {"trait_type": "Released", "value": 1764000000, "display_type": "date"},
        ],
        "external_url": "https://example.org/night-drive",
        "background_color": "#1a2b3c",
        "provenance": {"engine": "test", "seed": 7},
    }
    kwargs.update(overrides)
    if "extra" not in kwargs:
        kwargs["extra"] = _music_fields(assets)
    return build_token_metadata(**kwargs)


def test_asset_from_file_hashes_in_one_pass(assets: list[Asset]) -> None:
    for asset in assets:
        data = asset.path.read_bytes()
        assert asset.size == len(data)
        assert asset.sha256 == hashlib.sha256(data).hexdigest()
        assert asset.cid == cid_of_file(asset.path)
        assert asset.uri == f"ipfs://{asset.cid}"
        assert asset.verify()
    by_role = {a.role: a for a in assets}
    assert by_role["lossless"].mime_type == "audio/flac"
    assert by_role["player"].mime_type == "text/html"
    assert by_role["mix"].to_json()["duration"] == 181.5
    assert "duration" not in by_role["cover"].to_json()


def test_asset_detects_a_changed_file(tmp_path: Path) -> None:
    path = write_random(tmp_path / "a.wav", 1000, seed=1)
    asset = Asset.from_file(path, role="mix")
    path.write_bytes(b"changed")
    assert not asset.verify()


@pytest.mark.parametrize("role", ["Mix", "stem:", "stem drums", "", "1mix", "stem:-x"])
def test_asset_rejects_bad_roles(tmp_path: Path, role: str) -> None:
    path = write_random(tmp_path / "a.wav", 10, seed=1)
    with pytest.raises(MintingError, match="invalid asset role"):
        Asset.from_file(path, role=role)


def test_asset_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MintingError, match="no such file"):
        Asset.from_file(tmp_path / "nope.wav", role="mix")


def test_mime_types_are_pinned() -> None:
    assert guess_mime_type("x.FLAC") == "audio/flac"
    assert guess_mime_type("x.wav") == "audio/wav"
    assert guess_mime_type("x.mid") == "audio/midi"
    assert guess_mime_type("x.unknown-suffix") == "application/octet-stream"


def test_token_metadata_validates_against_every_schema(assets: list[Asset]) -> None:
    doc = _token(assets)
    for name in ("erc1155-metadata", "opensea-metadata", "token-extensions"):
        Draft202012Validator(load_schema(name)).validate(doc)
    assert doc["image"] == next(a.uri for a in assets if a.role == "cover")
    assert doc["animation_url"] == next(a.uri for a in assets if a.role == "player")
    assert doc["background_color"] == "1a2b3c"
    assert [a["role"] for a in doc["properties"]["assets"]] == [a.role for a in assets]
    first = doc["properties"]["assets"][0]
    assert set(first) == {"role", "uri", "mimeType", "sha256", "cid", "size", "duration"}
    assert doc["properties"]["provenance"] == {"engine": "test", "seed": 7}
    assert doc["title"] == "Night Drive" and doc["key"] == "8m"


def test_attributes_from_a_mapping(assets: list[Asset]) -> None:
    doc = _token(assets, attributes={"Mood": "dark", "Energy": 0.8})
    assert doc["attributes"] == [
        {"trait_type": "Mood", "value": "dark"},
        {"trait_type": "Energy", "value": 0.8},
    ]


def test_arbitrary_extra_fields_pass_through(assets: list[Asset]) -> None:
    doc = _token(assets, extra={"edition": "first pressing", "customNumbers": [1, 2]})
    assert doc["edition"] == "first pressing"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"background_color": "12345"}, "background_color"),
        ({"external_url": "not a uri"}, "external_url"),
        ({"attributes": [{"trait_type": "BPM", "value": "fast", "display_type": "number"}]}, "attributes/0"),
        ({"attributes": [{"trait_type": "X", "value": 1, "display_type": "stars"}]}, "attributes/0"),
        ({"extra": {"key": "C major"}}, "key"),
        ({"extra": {"bpm": -3}}, "bpm"),
        ({"extra": {"trackNumber": 0}}, "trackNumber"),
        ({"extra": {"isrc": "not-an-isrc"}}, "isrc"),
        ({"extra": {"credits": [{"role": "x"}]}}, "credits"),
        ({"extra": {"duration": "3 minutes"}}, "duration"),
        ({"extra": {"losslessAudio": "mix.flac"}}, "losslessAudio"),
    ],
)
def test_invalid_token_fields_are_rejected_with_their_path(
    assets: list[Asset], override: dict, message: str
) -> None:
    with pytest.raises(MintingError, match=message):
        _token(assets, **override)


def test_builder_guards(assets: list[Asset]) -> None:
    with pytest.raises(MintingError, match="would replace a standard field"):
        _token(assets, extra={"name": "sneaky"})
    with pytest.raises(MintingError, match="needs an image"):
        _token([a for a in assets if a.role != "cover"], extra={})
    with pytest.raises(MintingError, match="must be image"):
        not_an_image = Asset.from_file(assets[0].path, role="cover")  # the mp3
        _token([*(a for a in assets if a.role != "cover"), not_an_image])
    with pytest.raises(MintingError, match="duplicate asset roles"):
        _token([*assets, assets[0]])
    with pytest.raises(MintingError, match=r"properties\.assets"):
        _token(assets, properties={"assets": []})


def test_validation_reports_a_tampered_asset(assets: list[Asset]) -> None:
    doc = _token(assets)
    doc["properties"]["assets"][0]["sha256"] = "XYZ"
    doc["properties"]["assets"][1]["cid"] = "QmNotACid"
    with pytest.raises(MintingError) as info:
        validate_token_metadata(doc)
    assert "properties/assets/0/sha256" in str(info.value)
    assert "properties/assets/1/cid" in str(info.value)


def test_token_file_name_follows_the_erc1155_id_rule() -> None:
    assert token_metadata_filename(0) == "0" * 64 + ".json"
    assert token_metadata_filename(0xABC) == "0" * 61 + "abc.json"
    assert token_metadata_filename(2**256 - 1) == "f" * 64 + ".json"
    for bad in (-1, 2**256, "1", True, 1.0):
        with pytest.raises(MintingError):
            token_metadata_filename(bad)  # type: ignore[arg-type]


def test_written_token_file_is_deterministic_and_valid(assets: list[Asset], tmp_path: Path) -> None:
    doc = _token(assets)
    path = write_token_metadata(tmp_path / "metadata", 5, doc)
    assert path.name == f"{5:064x}.json"
    again = dumps_metadata(_token(assets))
    assert path.read_bytes() == again
    loaded = json.loads(path.read_text(encoding="utf-8"))
    validate_token_metadata(loaded)
    assert loaded["name"] == "The Test Tones — Night Drive"  # UTF-8, not \u escapes
    assert "—" in path.read_text(encoding="utf-8")


def test_invalid_token_file_is_never_written(assets: list[Asset], tmp_path: Path) -> None:
    doc = _token(assets)
    doc["background_color"] = "#zzzzzz"
    with pytest.raises(MintingError):
        write_token_metadata(tmp_path / "metadata", 1, doc)
    assert not (tmp_path / "metadata").exists() or not any((tmp_path / "metadata").iterdir())


def _contract(**overrides) -> dict:
    kwargs = {
        "name": "Test Tones Editions",
        "description": "Songs as editions.",
        "image": "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        "external_link": "https://example.org",
        "seller_fee_basis_points": 500,
        "fee_recipient": RECEIVER,
        "banner_image": "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        "collaborators": [RECEIVER],
    }
    kwargs.update(overrides)
    return build_contract_metadata(**kwargs)


def test_contract_metadata_validates_and_matches_the_royalty(tmp_path: Path) -> None:
    doc = _contract()
    Draft202012Validator(load_schema("contract-metadata")).validate(doc)
    validate_contract_metadata(doc, royalty=(RECEIVER.lower(), 500))
    with pytest.raises(MintingError, match="seller_fee_basis_points is 500, the royalty is 750"):
        validate_contract_metadata(doc, royalty=(RECEIVER, 750))
    with pytest.raises(MintingError, match="fee_recipient"):
        validate_contract_metadata(doc, royalty=("0x" + "1" * 40, 500))
    path = write_contract_metadata(tmp_path / "contract.json", doc)
    assert json.loads(path.read_text()) == doc


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"seller_fee_basis_points": 10_001}, "seller_fee_basis_points"),
        ({"fee_recipient": "0x1234"}, "fee_recipient"),
        ({"fee_recipient": None}, "fee_recipient"),
        ({"image": "cover.png"}, "image"),
        ({"collaborators": ["bob"]}, "collaborators"),
    ],
)
def test_invalid_contract_metadata(override: dict, message: str) -> None:
    with pytest.raises(MintingError, match=message):
        _contract(**override)


def test_schemas_are_valid_json_schemas() -> None:
    for name in SCHEMAS:
        Draft202012Validator.check_schema(load_schema(name))
