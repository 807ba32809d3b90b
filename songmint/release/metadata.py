"""Stage 5: the published metadata — one ERC-1155 token JSON per token (``metadata/<id:064x>.json``,
OpenSea attributes + the music-NFT profile ``music-nft-20220222``) and ``collection.json``.

Every asset is hashed once here (sha256 and CID in one pass, :meth:`minting.assets.Asset.from_file`);
the folder import of ``assets/`` gives the folders' CIDs and cross-checks the files' CIDs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minting.assets import Asset
from minting.metadata import build_contract_metadata, build_token_metadata, dumps_metadata
from minting.unixfs import import_directory
from songmint import __version__
from songmint.errors import SongmintError
from songmint.files import write_atomic
from songmint.release.analysis import Analysis
from songmint.release.assets import TokenFiles
from songmint.release.covers import Cover
from songmint.release.options import Log, announce
from songmint.release.tokens import Token
from songmint.spec import ReleaseSpec


@dataclass(frozen=True)
class Metadata:
    """What stage 5 published: every token's assets (hashed), the CIDs of ``assets/`` and its
    folders, and the sha256 of each metadata file written (path relative to the release folder)."""

    assets: dict[int, list[Asset]]
    cids: dict[str, str]
    sha256: dict[str, str]
    collection_image: Asset | None


def metadata_path(token_id: int) -> str:
    """``metadata/<id as 64 lowercase hex>.json``, ERC-1155's ``{id}`` substitution."""
    return f"metadata/{token_id:064x}.json"


def collection_image_path(spec: ReleaseSpec) -> str | None:
    """Where the spec's collection image is published (None: the first cover stands in)."""
    image = spec.collection.image
    return None if image is None else f"assets/collection{image.suffix.lower()}"


def prune(out: Path, keep: set[str]) -> None:
    """Remove files an earlier run of a different spec left in ``assets/`` and ``metadata/``: the
    published tree (and so the root CID) must hold exactly this release."""
    for top in ("assets", "metadata"):
        folder = out / top
        if not folder.is_dir():
            continue
        for f in sorted(folder.rglob("*"), reverse=True):
            rel = f.relative_to(out).as_posix()
            if f.is_file() and rel not in keep:
                f.unlink()
            elif f.is_dir() and not any(f.iterdir()):
                f.rmdir()


def attributes(t: Token, a: Analysis) -> list[dict[str, Any]]:
    """OpenSea attributes: the buyer-facing traits a person can read (``music.traits.table``), with
    the token's musical facts in place (the key as the facts spell it), then artist, genre, stem and
    edition cap."""
    from music.traits.table import TRAITS, opensea_attributes

    out = opensea_attributes(a.shown)
    for attr in out:
        if attr["trait_type"] == TRAITS["key"].trait_type and a.facts.key:
            attr["value"] = a.facts.key
    for label, value in (
        ("Artist", t.track.artist),
        ("Genre", t.track.genre),
        ("Stem", t.stem),
        ("Edition cap", t.editions.cap),
    ):
        if value is not None:
            out.append(
                {"trait_type": label, "value": value}
                | ({"display_type": "number"} if isinstance(value, int) else {})
            )
    return out


def token_document(
    t: Token,
    a: Analysis,
    cover: Cover,
    assets: list[Asset],
    cids: dict[str, str],
    spec: ReleaseSpec,
    video: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A token's metadata JSON (validated by :func:`minting.metadata.build_token_metadata`).

    ``animation_url`` is the token's video when it has one (``video``: its ``properties.video``
    record), the HTML player then in ``properties.player``; otherwise the player (docs/video.md).
    """
    ipfs = {x.role: x.uri for x in assets}
    player = next(x for x in assets if x.role == "player")
    # The player links to its audio by relative URL, so it is addressed inside its folder.
    track_dir = player.path.parent.name
    player_uri = f"ipfs://{cids[f'assets/{track_dir}']}/player.html"
    facts = a.facts
    extra = {
        "version": "music-nft-20220222",
        "title": t.title,
        "artist": t.track.artist,
        "duration": round(t.audio.duration, 3),
        "mimeType": "audio/mpeg",
        "trackNumber": t.track.number,
        "losslessAudio": ipfs["lossless"],
        "artwork": {"uri": ipfs["cover"], "mimeType": "image/png"},
        "genre": t.track.genre,
        "bpm": facts.bpm,
        "key": facts.open_key,
        "license": t.track.license,
        "isrc": t.track.isrc,
        "credits": list(t.track.credits) or None,
        "tags": list(t.track.tags) or None,
    }
    properties = {
        "token_id": str(t.id),
        "track_id": t.track.id,
        "kind": t.kind,
        "stem": t.stem,
        "musical_key": facts.key,
        "musical_facts": facts.record(),
        "traits": a.traits,
        "rarity": a.rarity,
        "cover": cover.params,
        "video": video,
        "player": player_uri if "video" in ipfs else None,
        "collection": {"name": spec.collection.name, "symbol": spec.collection.symbol},
        "editions": {"cap": t.editions.cap},
        "songmint": __version__,
    }
    return build_token_metadata(
        name=t.title,
        description=t.track.description or f"{t.title} by {t.track.artist}, from {spec.collection.name}.",
        assets=assets,
        image=ipfs["cover"],
        animation_url=ipfs.get("video", player_uri),
        external_url=t.track.external_url or spec.collection.external_link,
        attributes=attributes(t, a),
        properties={k: v for k, v in properties.items() if v is not None},
        provenance=t.take.provenance,
        extra={k: v for k, v in extra.items() if v is not None},
    )


def planned_split(spec: ReleaseSpec) -> str | None:
    """The address of the release's split (``[collection.splits]``), known before it exists: a
    clone at a CREATE2 address of the factory (:func:`minting.chain.deployments.split_address`)."""
    c = spec.collection
    if not c.splits:
        return None
    from minting.chain import deployments
    from minting.chain.artifacts import load_artifact

    factory = deployments.factory_address(bytes.fromhex(load_artifact("SongmintFactory").bytecode[2:]))
    return deployments.split_address(factory, [a for a, _ in c.splits], [b for _, b in c.splits])


def royalty_receiver(spec: ReleaseSpec, sender: str | None) -> str | None:
    """Who receives royalties: the release's split, else the spec's receiver, else (with a royalty)
    the releasing account — as ``collection.json`` publishes it and the contract is deployed with."""
    c = spec.collection
    if not c.royalty_bps:
        return c.royalty_receiver
    return planned_split(spec) or c.royalty_receiver or sender


def write_metadata(
    tokens: list[Token],
    analyses: dict[int, Analysis],
    covers: dict[int, Cover],
    files: dict[int, TokenFiles],
    spec: ReleaseSpec,
    out: Path,
    *,
    sender: str | None,
    log: Log,
    videos: dict[int, dict[str, Any]] | None = None,
) -> Metadata:
    """Stage 5: hash every asset, write each token's JSON and ``collection.json``."""
    c = spec.collection
    image_rel = collection_image_path(spec)
    if image_rel is not None:
        assert c.image is not None
        write_atomic(out / image_rel, c.image.read_bytes())
    keep = {rel for f in files.values() for rel in f.paths.values()}
    keep |= {metadata_path(t.id) for t in tokens}
    if image_rel is not None:
        keep.add(image_rel)
    prune(out, keep)
    _, folder_cids = import_directory(out / "assets")
    cids = {f"assets/{k}": v for k, v in folder_cids.items()}
    assets: dict[int, list[Asset]] = {}
    digests: dict[str, str] = {}
    for t in tokens:
        f = files[t.id]
        assets[t.id] = []
        for role, rel in sorted(f.paths.items()):
            asset = Asset.from_file(out / rel, role=role, duration=f.duration(t, role))
            if asset.cid != cids[rel]:  # two importers over the same bytes must agree
                raise SongmintError(f"{rel}: CID mismatch between file and folder import; please report it")
            assets[t.id].append(asset)
        rel = metadata_path(t.id)
        video = (videos or {}).get(t.id)
        doc = token_document(t, analyses[t.id], covers[t.id], assets[t.id], cids, spec, video)
        raw = dumps_metadata(doc)
        write_atomic(out / rel, raw)
        digests[rel] = hashlib.sha256(raw).hexdigest()
        announce(log, 5, t.slug)
    receiver = royalty_receiver(spec, sender)
    image = cids[image_rel] if image_rel is not None else cids[files[tokens[0].id].paths["cover"]]
    collection = build_contract_metadata(
        name=c.name,
        description=c.description or None,
        image=f"ipfs://{image}",
        external_link=c.external_link,
        seller_fee_basis_points=c.royalty_bps if receiver else None,
        fee_recipient=receiver,
        symbol=c.symbol,
    )
    raw = dumps_metadata(collection)
    write_atomic(out / "collection.json", raw)
    digests["collection.json"] = hashlib.sha256(raw).hexdigest()
    image_asset = None if image_rel is None else Asset.from_file(out / image_rel, role="collection_image")
    return Metadata(assets, cids, digests, image_asset)
