"""``manifest.json``: the release's record, built once from every stage's results.

It holds every asset's path, sha256 and CID; each token's id, metadata path and URI, cap, minted
amount and recipient; every transaction; the contract, chain id and root CID. ``preview`` and
``verify`` read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from minting.assets import Asset
from music.hashing import sha256_file
from songmint import __version__
from songmint.release.assets import TokenFiles
from songmint.release.chain import ChainResult
from songmint.release.metadata import Metadata, metadata_path
from songmint.release.publish import Published
from songmint.release.tokens import Token
from songmint.release.views import with_assets
from songmint.spec import ReleaseSpec

MANIFEST_VERSION = 1


def asset_record(asset: Asset, rel: str, t: Token | None, files: TokenFiles | None) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "role": asset.role,
        "path": rel,
        "mimeType": asset.mime_type,
        "sha256": asset.sha256,
        "cid": asset.cid,
        "size": asset.size,
    }
    if t is not None and files is not None:
        rec["token"] = t.id
        if asset.duration is not None:
            rec["duration"] = asset.duration
        if asset.role == "preview":
            rec["start"] = round(files.preview_start, 3)
    return rec


def request_record(t: Token) -> dict[str, Any] | None:
    """What ``songmint verify`` needs to re-render a generated take and compare bytes."""
    g = t.track.generate
    if g is None:
        return None
    request: dict[str, Any] = {
        "engine": g.engine,
        "prompt": g.prompt,
        "seed": g.seed,
        "seconds": g.seconds,
        "params": g.params,
        "stem": t.stem,
    }
    if g.source is not None:  # a continuation: verify needs the same input audio
        request["source"] = {
            "path": str(g.source),
            "sha256": sha256_file(g.source),
            "stems": str(g.source_stems) if g.source_stems else None,
        }
    return request


def build_manifest(
    spec: ReleaseSpec,
    tokens: list[Token],
    entries: dict[int, dict[str, Any]],
    files: dict[int, TokenFiles],
    metadata: Metadata,
    published: Published,
    chain: ChainResult,
    out: Path,
) -> dict[str, Any]:
    """The manifest of a finished (or dry-run) release."""
    c = spec.collection
    root = published.root
    assets: list[dict[str, Any]] = []
    records = []
    for t in tokens:
        f = files[t.id]
        paths = dict(sorted(f.paths.items()))
        assets += [
            asset_record(a, rel, t, f) for a, rel in zip(metadata.assets[t.id], paths.values(), strict=True)
        ]
        rel = metadata_path(t.id)
        entry = with_assets(entries[t.id], f.paths)
        entry.update(
            metadata_path=rel,
            metadata_uri=f"ipfs://{root}/{rel}",
            metadata_sha256=metadata.sha256[rel],
            metadata_cid=published.cids.get(rel),
            cap=t.editions.cap,
            initial=t.editions.initial,
            minted=chain.minted.get(t.id),
            recipient=chain.recipients.get(t.id, t.editions.recipient),
            txs=list(chain.token_txs.get(t.id, [])),
            provenance=t.take.provenance,
        )
        request = request_record(t)
        if request is not None:
            entry["request"] = request
        records.append(entry)
    if metadata.collection_image is not None:
        image = metadata.collection_image
        assets.append(asset_record(image, image.path.relative_to(out).as_posix(), None, None))
    manifest: dict[str, Any] = {
        "songmint_manifest": MANIFEST_VERSION,
        "songmint": __version__,
        "spec": {"path": str(spec.path), "sha256": spec.sha256},
        "collection": {
            "name": c.name,
            "symbol": c.symbol,
            "description": c.description,
            "external_link": c.external_link,
            "royalty_bps": c.royalty_bps,
            "royalty_receiver": c.royalty_receiver,
            "metadata_path": "collection.json",
            "uri": f"ipfs://{root}/collection.json",
            "sha256": metadata.sha256["collection.json"],
            "cid": published.cids.get("collection.json"),
        },
        "root_cid": root,
        "car": {"path": "release.car", "sha256": sha256_file(out / "release.car")},
        "uri_prefix": published.uri_prefix,
        "storage": {"backend": spec.storage.backend},
        "assets": assets,
        "tokens": records,
        "transactions": list(chain.transactions),
        "chain": dict(chain.chain),
        "dry_run": chain.plan is not None,
    }
    if chain.plan is not None:
        manifest["plan"] = chain.plan
    return manifest
