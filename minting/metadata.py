"""Token and contract metadata: builders, validation against the schemas in the repository, files.

Token JSON (one per token, at ``metadata/<id as 64 lowercase hex digits>.json``, the file name the
ERC-1155 ``{id}`` substitution rule gives) carries:

- the ERC-1155 metadata fields ``name``, ``description``, ``image``, ``properties``;
- OpenSea's ``attributes`` (``trait_type``, ``value``, ``display_type``, ``max_value``),
  ``animation_url``, ``external_url`` and ``background_color`` (6 hex digits, no ``#``);
- any extra top-level fields the caller passes (for music: the music-nft-20220222 conventions
  ``title``, ``artist``, ``duration``, ``bpm``, ``key``, ``genre``, ``losslessAudio``,
  ``trackNumber``, ``credits``, ``license``, ``isrc`` …), typed by the extension schema;
- ``properties.assets``: one entry per :class:`~minting.assets.Asset` (role, uri, mimeType,
  sha256, cid, size, duration) and ``properties.provenance``.

Contract JSON (ERC-7572 ``contractURI()``) carries ``name``, ``description``, ``image``,
``external_link`` (optionally ``banner_image``, ``featured_image``, ``collaborators``) and
OpenSea's ``seller_fee_basis_points`` and ``fee_recipient``, which must match the contract's
ERC-2981 default royalty.

References
----------
- EIP-1155, "Metadata" and "ERC-1155 Metadata URI JSON Schema".
- OpenSea, "Metadata standards", https://docs.opensea.io/docs/metadata-standards
- ERC-7572, "Contract-level metadata via contractURI()".
- music-nft-20220222 (Catalog, Mint Songs).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from minting.assets import Asset
from minting.errors import MintingError
from minting.files import atomic_write
from minting.schemas import load_schema

TOKEN_SCHEMAS = ("erc1155-metadata", "opensea-metadata", "token-extensions")
STANDARD_FIELDS = frozenset(
    {"name", "description", "image", "properties", "attributes", "animation_url", "external_url",
     "background_color", "image_data", "youtube_url", "decimals", "localization"}
)  # fmt: skip
_MAX_ID = 2**256
_ATTRIBUTE_KEYS = ("trait_type", "value", "display_type", "max_value")


def token_metadata_filename(token_id: int) -> str:
    """``<id>.json`` with the id as 64 lowercase hex digits, no ``0x`` (the ERC-1155 ``{id}`` rule).

    >>> token_metadata_filename(10)
    '000000000000000000000000000000000000000000000000000000000000000a.json'
    """
    if isinstance(token_id, bool) or not isinstance(token_id, int) or not 0 <= token_id < _MAX_ID:
        raise MintingError(f"token id must be an integer in [0, 2**256): {token_id!r}")
    return f"{token_id:064x}.json"


def _attributes(attributes: Mapping[str, Any] | Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    if attributes is None:
        return []
    if isinstance(attributes, Mapping):
        return [{"trait_type": str(k), "value": v} for k, v in attributes.items()]
    out = []
    for a in attributes:
        entry = {k: a[k] for k in _ATTRIBUTE_KEYS if a.get(k) is not None}
        extra = set(a) - set(_ATTRIBUTE_KEYS)
        if extra:
            raise MintingError(f"attribute {a.get('trait_type')!r}: unknown keys {sorted(extra)}")
        out.append(entry)
    return out


def _first_role(assets: Sequence[Asset], *roles: str) -> Asset | None:
    for role in roles:
        for asset in assets:
            if asset.role == role:
                return asset
    return None


def build_token_metadata(
    *,
    name: str,
    description: str,
    assets: Sequence[Asset] = (),
    image: str | None = None,
    animation_url: str | None = None,
    external_url: str | None = None,
    background_color: str | None = None,
    attributes: Mapping[str, Any] | Iterable[Mapping[str, Any]] | None = None,
    properties: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """Build one token's metadata JSON.

    Parameters
    ----------
    name, description : str
        Shown by wallets and marketplaces.
    assets : sequence of Asset
        Written to ``properties.assets`` in the given order.
    image : str, optional
        URI of the token image; defaults to the ``cover`` asset's URI.
    animation_url : str, optional
        Audio, video or HTML for marketplaces to play; defaults to the ``player`` asset's URI,
        else the ``mix`` asset's.
    external_url : str, optional
        A page about the token.
    background_color : str, optional
        Six hex digits, no ``#`` (a leading ``#`` is removed).
    attributes : mapping or iterable of mappings, optional
        ``{trait_type: value}`` or OpenSea attribute objects with ``trait_type``, ``value``,
        ``display_type`` (number, boost_number, boost_percentage, date) and ``max_value``.
    properties : mapping, optional
        More free-form ERC-1155 properties (``assets`` and ``provenance`` are set here).
    provenance : mapping, optional
        How the token's content was made (tools, versions, seeds, hashes of inputs).
    extra : mapping, optional
        Extra top-level fields, e.g. the music-nft-20220222 conventions; they may not replace a
        standard field.
    validate : bool
        Validate the result (see :func:`validate_token_metadata`).

    Returns
    -------
    dict
        JSON-ready; serialise with :func:`dumps_metadata`.

    Raises
    ------
    MintingError
        When an input is invalid, naming the field.
    """
    assets = list(assets)
    roles = [a.role for a in assets]
    duplicated = sorted({r for r in roles if roles.count(r) > 1})
    if duplicated:
        raise MintingError(f"duplicate asset roles: {', '.join(duplicated)}")
    if image is None:
        cover = _first_role(assets, "cover")
        if cover is None:
            raise MintingError("token metadata needs an image: pass image= or a 'cover' asset")
        if not cover.mime_type.startswith("image/"):
            raise MintingError(f"the cover asset is {cover.mime_type}, but ERC-1155 `image` must be image/*")
        image = cover.uri
    if animation_url is None:
        playable = _first_role(assets, "player", "mix")
        animation_url = playable.uri if playable else None
    doc: dict[str, Any] = {"name": name, "description": description, "image": image}
    if animation_url is not None:
        doc["animation_url"] = animation_url
    if external_url is not None:
        doc["external_url"] = external_url
    if background_color is not None:
        doc["background_color"] = background_color.removeprefix("#")
    attrs = _attributes(attributes)
    if attrs:
        doc["attributes"] = attrs
    props: dict[str, Any] = dict(properties or {})
    for reserved in ("assets", "provenance"):
        if reserved in props:
            raise MintingError(f"properties.{reserved} is set by the builder; pass it as {reserved}=")
    props["assets"] = [a.to_json() for a in assets]
    if provenance is not None:
        props["provenance"] = dict(provenance)
    doc["properties"] = props
    for key, value in (extra or {}).items():
        if key in STANDARD_FIELDS:
            raise MintingError(f"extra field {key!r} would replace a standard field; use the {key}= argument")
        doc[key] = value
    if validate:
        validate_token_metadata(doc)
    return doc


def _schema_errors(doc: Any, names: Iterable[str]) -> list[str]:
    problems = []
    for name in names:
        validator = Draft202012Validator(load_schema(name))
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in error.absolute_path) or "(document)"
            problems.append(f"{where}: {error.message} [{name}]")
    return problems


def validate_token_metadata(doc: Mapping[str, Any]) -> None:
    """Validate token JSON against the ERC-1155, OpenSea and extension schemas.

    Raises
    ------
    MintingError
        Listing every problem as ``path: message [schema]``.
    """
    problems = _schema_errors(doc, TOKEN_SCHEMAS)
    assets = doc.get("properties", {}).get("assets", []) if isinstance(doc.get("properties"), Mapping) else []
    roles = [a.get("role") for a in assets if isinstance(a, Mapping)]
    if len(roles) != len(set(roles)):
        problems.append("properties/assets: roles must be unique")
    try:
        json.dumps(doc, allow_nan=False)
    except (TypeError, ValueError) as exc:
        problems.append(f"(document): not JSON-serialisable ({exc})")
    if problems:
        raise MintingError("invalid token metadata: " + "; ".join(problems))


def build_contract_metadata(
    *,
    name: str,
    description: str | None = None,
    image: str | None = None,
    external_link: str | None = None,
    seller_fee_basis_points: int | None = None,
    fee_recipient: str | None = None,
    banner_image: str | None = None,
    featured_image: str | None = None,
    collaborators: Sequence[str] | None = None,
    symbol: str | None = None,
    extra: Mapping[str, Any] | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """Build the contract-level JSON that ``contractURI()`` points at (ERC-7572 + OpenSea).

    Parameters
    ----------
    name : str
        Collection name.
    description, image, external_link, banner_image, featured_image, symbol : str, optional
        ERC-7572 fields (images and links are URIs).
    seller_fee_basis_points : int, optional
        Royalty in basis points (1/100 of a percent, 0–10000); give it with ``fee_recipient``
        and make both equal to the contract's ERC-2981 default royalty.
    fee_recipient : str, optional
        ``0x`` address receiving the royalty.
    collaborators : sequence of str, optional
        ``0x`` addresses allowed to manage the collection on marketplaces.
    extra : mapping, optional
        More fields, passed through.
    """
    doc: dict[str, Any] = {"name": name}
    optional = {
        "symbol": symbol,
        "description": description,
        "image": image,
        "banner_image": banner_image,
        "featured_image": featured_image,
        "external_link": external_link,
        "collaborators": list(collaborators) if collaborators is not None else None,
        "seller_fee_basis_points": seller_fee_basis_points,
        "fee_recipient": fee_recipient,
    }
    doc.update({k: v for k, v in optional.items() if v is not None})
    for key, value in (extra or {}).items():
        if key in doc or key in optional:
            raise MintingError(f"extra field {key!r} would replace a standard field; use the {key}= argument")
        doc[key] = value
    if validate:
        validate_contract_metadata(doc)
    return doc


def validate_contract_metadata(doc: Mapping[str, Any], *, royalty: tuple[str, int] | None = None) -> None:
    """Validate contract JSON; with ``royalty=(receiver, basis points)``, check that it matches.

    Raises
    ------
    MintingError
        Listing every problem.
    """
    problems = _schema_errors(doc, ("contract-metadata",))
    if royalty is not None:
        receiver, bps = royalty
        fee, recipient = doc.get("seller_fee_basis_points"), doc.get("fee_recipient")
        if fee != bps:
            problems.append(f"seller_fee_basis_points is {fee}, the royalty is {bps}")
        if str(recipient or "").lower() != receiver.lower():
            problems.append(f"fee_recipient is {recipient}, the royalty receiver is {receiver}")
    if problems:
        raise MintingError("invalid contract metadata: " + "; ".join(problems))


def dumps_metadata(doc: Mapping[str, Any]) -> bytes:
    """Deterministic bytes for a metadata document: UTF-8, 2-space indent, trailing newline."""
    return (json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def write_token_metadata(directory: str | os.PathLike[str], token_id: int, doc: Mapping[str, Any]) -> Path:
    """Validate ``doc`` and write it to ``directory/<64-hex id>.json`` atomically."""
    validate_token_metadata(doc)
    return atomic_write(Path(directory) / token_metadata_filename(token_id), dumps_metadata(doc))


def write_contract_metadata(path: str | os.PathLike[str], doc: Mapping[str, Any]) -> Path:
    """Validate ``doc`` and write it to ``path`` atomically."""
    validate_contract_metadata(doc)
    return atomic_write(Path(path), dumps_metadata(doc))
