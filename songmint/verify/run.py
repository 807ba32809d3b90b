"""``verify_release``: every check on a release folder, in order, into one :class:`Report`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from songmint.errors import SongmintError
from songmint.verify.chain import check_chain
from songmint.verify.files import check_car, check_facts, check_metadata, file_unchanged
from songmint.verify.render import check_render, check_video
from songmint.verify.report import Report


def verify_release(
    release_dir: Path,
    *,
    only: str | None = None,
    rerender: bool = True,
    chain: bool = True,
    client: Any = None,
) -> Report:
    """Run every check on ``release_dir`` (restricted to one token's metadata path with ``only``).

    ``client`` is a connected :class:`minting.chain.ChainClient` to check the chain through
    (default: connect to the manifest's network); tests pass one on an in-memory chain.
    """
    from minting.unixfs import cid_of_file
    from songmint.preview import load_manifest

    manifest = load_manifest(release_dir, strict=True)
    report = Report()
    tokens = [t for t in manifest["tokens"] if only is None or t["metadata_path"] == only]
    if only is not None and not tokens:
        raise SongmintError(f"{only}: not a token of this release")
    ids = {t["id"] for t in tokens}
    by_path: dict[str, dict[str, Any]] = {}
    for a in manifest["assets"]:
        if only is not None and a.get("token") not in ids:
            continue
        by_path[a["path"]] = a
        if not file_unchanged(release_dir, a["path"], a["sha256"], "asset", report):
            continue
        f = release_dir / a["path"]
        cid = cid_of_file(f)
        if cid != a["cid"]:
            report.bad("asset CID", a["path"], f"{cid} ≠ manifest {a['cid']}")
        else:
            report.ok("asset", a["path"], f"sha256 + CID {cid[:16]}…")
    for t in tokens:
        check_metadata(release_dir, t, report)
        check_facts(release_dir, t, report)
    if only is None:
        check_car(release_dir, manifest, report)
    if rerender:
        for t in tokens:
            check_render(release_dir, t, report)
            if "video" in t.get("assets", {}):
                check_video(release_dir, t, report)
    if chain:
        check_chain(release_dir, manifest, tokens, report, client)
    return report
