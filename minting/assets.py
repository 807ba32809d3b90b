"""Assets: the files a token points at, each with its role, MIME type, size, sha256 and CID.

An :class:`Asset` is hashed once, in one streaming pass that computes both the sha256 of the
whole file (for people and tools that re-hash downloads) and its kubo-compatible UnixFS CID
(for IPFS). The library knows nothing about what the files mean: a *role* is a caller-chosen
label such as ``mix``, ``lossless``, ``stem:drums``, ``cover``, ``cover_thumbnail``,
``preview`` or ``player``.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from minting.errors import MintingError
from minting.unixfs import import_file

ROLE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(:[A-Za-z0-9][A-Za-z0-9_.\-]*)?$")
"""A role: a lowercase word, optionally ``:qualifier`` (``stem:drums``, ``video:vertical``)."""

# The platform's mimetypes table varies (Debian lacks audio/flac on some versions): pin ours.
MIME_TYPES = {
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/opus",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".aif": "audio/aiff",
    ".aiff": "audio/aiff",
    ".mid": "audio/midi",
    ".midi": "audio/midi",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".avif": "image/avif",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".json": "application/json",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".pdf": "application/pdf",
    ".car": "application/vnd.ipld.car",
    ".glb": "model/gltf-binary",
}


def guess_mime_type(path: str | os.PathLike[str]) -> str:
    """The MIME type for a file name (``application/octet-stream`` when unknown)."""
    suffix = Path(path).suffix.lower()
    if suffix in MIME_TYPES:
        return MIME_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(str(path), strict=False)
    return guessed or "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Asset:
    """One file of a token.

    Attributes
    ----------
    role : str
        What the file is for (``mix``, ``stem:bass``, ``cover`` …), see :data:`ROLE_PATTERN`.
    path : Path
        Where the file is on disk.
    mime_type : str
        IANA media type, e.g. ``audio/flac``.
    size : int
        Bytes.
    sha256 : str
        Lowercase hex sha256 of the file's bytes.
    cid : str
        Base32 CIDv1 of the file under kubo's defaults (``ipfs add --cid-version=1``).
    duration : float or None
        Seconds, for time-based media (the caller measures it; this library does not decode).
    uri : str
        Where the token JSON points: ``ipfs://<cid>`` unless set otherwise (for example
        ``ipfs://<folder cid>/mix.flac`` or an https gateway URL).
    """

    role: str
    path: Path
    mime_type: str
    size: int
    sha256: str
    cid: str
    duration: float | None = None
    uri: str = ""

    def __post_init__(self) -> None:
        if not ROLE_PATTERN.match(self.role):
            raise MintingError(
                f"invalid asset role {self.role!r}: use a lowercase word, optionally with :qualifier "
                "(mix, lossless, stem:drums, cover, preview, player)"
            )
        if self.duration is not None and not (self.duration >= 0):
            raise MintingError(f"asset {self.role}: duration must be a non-negative number of seconds")
        if not self.uri:
            object.__setattr__(self, "uri", f"ipfs://{self.cid}")

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        role: str,
        mime_type: str | None = None,
        duration: float | None = None,
        uri: str | None = None,
    ) -> Asset:
        """Hash a file (sha256 and UnixFS CID in one pass) and describe it.

        Parameters
        ----------
        path : path-like
            The file.
        role : str
            Its role.
        mime_type : str, optional
            Guessed from the suffix when omitted (see :func:`guess_mime_type`).
        duration : float, optional
            Seconds.
        uri : str, optional
            Defaults to ``ipfs://<cid>``.

        Raises
        ------
        MintingError
            When the file does not exist or is not a regular file.
        """
        p = Path(path)
        if not p.is_file():
            raise MintingError(f"asset {role}: no such file: {p}")
        digest = hashlib.sha256()
        entry = import_file(p, on_data=digest.update)
        return cls(
            role=role,
            path=p,
            mime_type=mime_type or guess_mime_type(p),
            size=entry.size,
            sha256=digest.hexdigest(),
            cid=entry.cid,
            duration=None if duration is None else float(duration),
            uri=uri or "",
        )

    def with_uri(self, uri: str) -> Asset:
        """A copy pointing at ``uri``."""
        return replace(self, uri=uri)

    def to_json(self) -> dict[str, Any]:
        """The entry for ``properties.assets`` in token metadata (camelCase, as the JSON uses)."""
        out: dict[str, Any] = {
            "role": self.role,
            "uri": self.uri,
            "mimeType": self.mime_type,
            "sha256": self.sha256,
            "cid": self.cid,
            "size": self.size,
        }
        if self.duration is not None:
            out["duration"] = round(self.duration, 6)
        return out

    def verify(self) -> bool:
        """Whether the file at :attr:`path` still has this size, sha256 and CID."""
        try:
            again = Asset.from_file(self.path, role=self.role, mime_type=self.mime_type)
        except MintingError:
            return False
        return (again.size, again.sha256, again.cid) == (self.size, self.sha256, self.cid)
