"""Stage 6: the CAR of the published tree (``assets/ + metadata/ + collection.json``) and storage.

The CAR's root CID is the release's; a storage backend other than the output folder itself
(a local IPFS folder, kubo, a pinning service) receives the same tree and must report that root.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from minting.car import write_car
from songmint.errors import SongmintError
from songmint.release.options import Log, announce
from songmint.spec import Storage


@dataclass(frozen=True)
class Published:
    """The release's root CID and the CIDs of everything in the CAR (path -> CID)."""

    root: str
    cids: dict[str, str]

    @property
    def uri_prefix(self) -> str:
        return f"ipfs://{self.root}/metadata/"


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def put(tree: Path, root: str, storage: Storage, *, label: str, token: str | None) -> None:
    """Put the published tree into the spec's storage backend (``minting.storage``)."""
    from minting.storage import storage_for

    options = {} if storage.backend == "local" else {"timeout": storage.timeout_s}
    store = storage_for(storage.backend, path=storage.path, url=storage.url, token=token, **options)
    cid = store.put(tree, pin=True, label=label)
    if str(cid) != root:
        raise SongmintError(
            f"{storage.backend} storage reports root {cid}, expected {root}; nothing was minted"
        )


def storage_token(storage: Storage, *, env: Mapping[str, str] | None = None) -> str | None:
    """The storage token, from the variable the spec's ``storage.token_env`` names (the spec holds
    the variable's name, never the token); ``None`` when the spec names none.

    ``env`` is the environment to read (default ``os.environ``): the one place the token is read.
    """
    if not storage.token_env:
        return None
    token = (os.environ if env is None else env).get(storage.token_env)
    if not token:
        raise SongmintError(
            f"storage.token_env names {storage.token_env}, which is not set in the environment"
        )
    return token


def publish(
    out: Path, storage: Storage, *, label: str, log: Log, env: Mapping[str, str] | None = None
) -> Published:
    """Stage 6: write ``release.car`` and, where the spec says so, store the tree (the token from
    :func:`storage_token`, which reads ``env``)."""
    token = storage_token(storage, env=env)
    stage = Path(tempfile.mkdtemp(prefix=".publish.", dir=out))
    try:
        # The published tree: assets/, metadata/, collection.json (hard links, no copies).
        for name in ("assets", "metadata"):
            shutil.copytree(out / name, stage / name, copy_function=_link_or_copy)
        _link_or_copy(str(out / "collection.json"), str(stage / "collection.json"))
        summary = write_car(stage, out / "release.car")
        root = str(summary.root)
        if storage.backend != "local" or storage.path is not None:
            put(stage, root, storage, label=label, token=token)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    announce(log, 6, f"{storage.backend}: root {root}")
    return Published(root, dict(summary.cids))
