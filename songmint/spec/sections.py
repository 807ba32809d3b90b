"""A spec's tables other than the tracks: ``spec_version``, ``[collection]``, ``[storage]``
and ``[network]``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from songmint.sale_spec import parse_splits
from songmint.spec.checker import Checker
from songmint.spec.media import check_image
from songmint.spec.values import (
    NETWORK_NAMES,
    SPEC_VERSION,
    STORAGE_BACKENDS,
    Collection,
    Network,
    Storage,
)

_COLLECTION_KEYS = {
    "name",
    "symbol",
    "description",
    "image",
    "cover_style",
    "external_link",
    "royalty_bps",
    "royalty_receiver",
    "contract",
    "splits",
}
_STORAGE_KEYS = {"backend", "path", "url", "token_env", "timeout_s"}
_NETWORK_KEYS = {"name", "url", "chain_id", "confirmations"}


def check_version(c: Checker, doc: dict[str, Any]) -> None:
    version = c.integer(doc, "spec_version", "spec_version", default=SPEC_VERSION)
    if version != SPEC_VERSION:
        raise c.fail(
            "spec_version",
            f"version {version} is not supported",
            f"this songmint reads spec_version = {SPEC_VERSION}",
        )


def parse_collection(c: Checker, doc: dict[str, Any], base: Path, check_files: bool) -> Collection:
    c.unknown(doc, _COLLECTION_KEYS, "collection")
    name = c.string(doc, "name", "collection.name", required=True)
    symbol = c.string(doc, "symbol", "collection.symbol", required=True)
    assert name is not None and symbol is not None
    if not re.fullmatch(r"[A-Za-z0-9]{1,11}", symbol):
        raise c.fail(
            "collection.symbol", f"{symbol!r} is not a token symbol", "use 1–11 letters or digits, e.g. NDEP"
        )
    image = doc.get("image")
    image_path = None
    if image not in (None, "generate"):
        image_path = c.file(base, image, "collection.image") if check_files else base / str(image)
        check_image(c, image_path, check_files)
    contract = doc.get("contract", "deploy")
    if contract != "deploy":
        contract = c.address(contract, "collection.contract")
    link = c.url(doc, "external_link", "collection.external_link")
    return Collection(
        name=name,
        symbol=symbol.upper(),
        description=c.string(doc, "description", "collection.description", default="") or "",
        image=image_path,
        cover_style=c.string(doc, "cover_style", "collection.cover_style"),
        external_link=link,
        royalty_bps=c.integer(doc, "royalty_bps", "collection.royalty_bps", default=0, lo=0, hi=10_000) or 0,
        royalty_receiver=c.address(doc.get("royalty_receiver"), "collection.royalty_receiver"),
        contract=contract,
        splits=parse_splits(doc["splits"], "collection.splits", c.fail, c.address) if "splits" in doc else (),
    )


def parse_storage(c: Checker, doc: dict[str, Any], base: Path) -> Storage:
    c.unknown(doc, _STORAGE_KEYS, "storage")
    backend = c.string(doc, "backend", "storage.backend", default="local")
    if backend not in STORAGE_BACKENDS:
        raise c.fail(
            "storage.backend", f"unknown backend {backend!r}", f"use one of: {', '.join(STORAGE_BACKENDS)}"
        )
    url = c.string(doc, "url", "storage.url")
    if backend in ("kubo", "pinning") and not url:
        raise c.fail(
            "storage.url",
            f"the {backend} backend needs a URL",
            'add url = "http://127.0.0.1:5001"' if backend == "kubo" else 'add url = "https://…/pins"',
        )
    token_env = c.string(doc, "token_env", "storage.token_env")
    if backend == "pinning" and not token_env:
        raise c.fail(
            "storage.token_env",
            "the pinning backend needs a token",
            'add token_env = "PINNING_TOKEN" (the variable\'s name, never the token)',
        )
    path = doc.get("path")
    timeout = c.number(doc, "timeout_s", "storage.timeout_s", default=60.0, lo=1.0, hi=3600.0) or 60.0
    return Storage(
        backend=backend or "local",
        path=(base / path) if isinstance(path, str) else None,
        url=url,
        token_env=token_env,
        timeout_s=timeout,
    )


def parse_network(c: Checker, doc: dict[str, Any]) -> Network:
    c.unknown(doc, _NETWORK_KEYS, "network")
    name = c.string(doc, "name", "network.name", default="local") or "local"
    url = c.string(doc, "url", "network.url")
    if name.startswith(("http://", "https://")):
        name, url = "url", name
    if name not in (*NETWORK_NAMES, "url"):
        raise c.fail(
            "network.name", f"unknown network {name!r}", 'use "memory", "local", or url = "https://…"'
        )
    chain_id = c.integer(doc, "chain_id", "network.chain_id", lo=1)
    if name == "url" and (not url or chain_id is None):
        raise c.fail(
            "network",
            "a JSON-RPC network needs url and chain_id",
            'add url = "https://…" and chain_id = <the chain\'s id> (checked before sending)',
        )
    return Network(
        name=name,
        url=url,
        chain_id=chain_id,
        confirmations=c.integer(doc, "confirmations", "network.confirmations", default=1, lo=0, hi=64) or 0,
    )
