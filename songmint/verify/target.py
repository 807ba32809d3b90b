"""What ``songmint verify`` was pointed at: a release folder, one token's metadata, or an
``ipfs://`` URI of a release found here."""

from __future__ import annotations

from pathlib import Path

from songmint.errors import SongmintError


def resolve_target(target: str) -> tuple[Path, str | None]:
    """A release folder (and optionally one token's metadata path) from a CLI argument.

    Accepts a release folder, a ``metadata/<hex>.json`` file inside one (or its ``file://``
    URI), or an ``ipfs://<root>/metadata/<hex>.json`` URI when the current folder, or a folder
    one or two levels below it (``out/<name>``), holds that release.
    """
    if target.startswith("file://"):
        target = target[len("file://") :]
    if target.startswith("ipfs://"):
        root, _, rest = target[len("ipfs://") :].partition("/")
        for cand in [
            Path.cwd(),
            *sorted(Path.cwd().glob("*")),
            *sorted(Path.cwd().glob("*/*")),
        ]:
            m = cand / "manifest.json"
            if cand.is_dir() and m.is_file() and root_cid(m) == root:
                return cand, rest or None
        raise SongmintError(
            f"{target}: no release with root {root} here; run verify inside the release folder "
            "or pass the folder itself"
        )
    p = Path(target)
    if p.is_dir():
        return p, None
    if p.is_file() and p.parent.name == "metadata":
        return p.parent.parent, f"metadata/{p.name}"
    raise SongmintError(
        f"{target}: not a release folder or a metadata file; pass the folder written by `songmint release`"
    )


def root_cid(manifest_path: Path) -> str | None:
    """The ``root_cid`` of a manifest file, or ``None`` when it is not a readable manifest."""
    from songmint.preview import loads_shallow

    try:
        doc = loads_shallow(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return doc.get("root_cid") if isinstance(doc, dict) else None
