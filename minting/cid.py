"""Content identifiers: unsigned varints, sha2-256 multihashes and CIDv1 in base32.

Only what kubo's defaults produce is supported: CIDv1 with the ``raw`` (0x55) or
``dag-pb`` (0x70) codec over a sha2-256 multihash, written as multibase base32
(lowercase, no padding, prefix ``b``). CIDv0 (``Qm…``) strings are parsed too, so that
a user can paste one, but never produced.

References
----------
- Multiformats CID specification, https://github.com/multiformats/cid
- Unsigned varint, https://github.com/multiformats/unsigned-varint
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from minting.errors import MintingError

RAW = 0x55
DAG_PB = 0x70
DAG_CBOR = 0x71
SHA2_256 = 0x12
_CODEC_NAMES = {RAW: "raw", DAG_PB: "dag-pb", DAG_CBOR: "dag-cbor"}
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def varint(n: int) -> bytes:
    """Encode a non-negative integer as an unsigned LEB128 varint (protobuf, multiformats, CAR)."""
    if n < 0:
        raise ValueError("varint of a negative number")
    if n < 0x80:  # the common case: one byte
        return bytes((n,))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_varint(buf: bytes | memoryview, pos: int = 0) -> tuple[int, int]:
    """Decode the varint starting at ``pos``; return ``(value, position after it)``."""
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise MintingError("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise MintingError("varint longer than 64 bits")


def cid_bytes(codec: int, data: bytes | memoryview) -> bytes:
    """The binary CIDv1 of ``data`` under ``codec`` with a sha2-256 multihash (36 bytes)."""
    return bytes((0x01, codec, SHA2_256, 32)) + hashlib.sha256(data).digest()


def _b32(raw: bytes) -> str:
    return "b" + base64.b32encode(raw).decode("ascii").rstrip("=").lower()


@dataclass(frozen=True, slots=True)
class CID:
    """A parsed content identifier.

    Attributes
    ----------
    version : int
        0 or 1.
    codec : int
        Multicodec of the block (0x55 raw, 0x70 dag-pb, …).
    hash_code : int
        Multihash function code (0x12 sha2-256).
    digest : bytes
        The hash digest.
    """

    version: int
    codec: int
    hash_code: int
    digest: bytes

    @classmethod
    def decode(cls, raw: bytes | memoryview) -> CID:
        """Parse a binary CID (v0: a bare 34-byte multihash; v1: version, codec, multihash)."""
        cid, end = cls.read(raw, 0)
        if end != len(raw):
            raise MintingError(f"{len(raw) - end} trailing bytes after a CID")
        return cid

    @classmethod
    def read(cls, buf: bytes | memoryview, pos: int) -> tuple[CID, int]:
        """Parse the binary CID at ``pos`` of ``buf``; return it and the position after it."""
        if len(buf) - pos >= 34 and buf[pos] == SHA2_256 and buf[pos + 1] == 32:
            return cls(0, DAG_PB, SHA2_256, bytes(buf[pos + 2 : pos + 34])), pos + 34
        version, pos = read_varint(buf, pos)
        if version != 1:
            raise MintingError(f"unsupported CID version {version}")
        codec, pos = read_varint(buf, pos)
        hash_code, pos = read_varint(buf, pos)
        length, pos = read_varint(buf, pos)
        digest = bytes(buf[pos : pos + length])
        if len(digest) != length:
            raise MintingError("truncated CID digest")
        return cls(1, codec, hash_code, digest), pos + length

    @classmethod
    def parse(cls, text: str) -> CID:
        """Parse a CID string: base32 CIDv1 (``b…``) or base58btc CIDv0 (``Qm…``).

        Raises
        ------
        MintingError
            When ``text`` is not a CID in either form.
        """
        text = text.strip()
        if text.startswith("ipfs://"):
            text = text[len("ipfs://") :].split("/", 1)[0]
        try:
            if text.startswith("Qm") and len(text) == 46:
                return cls.decode(_b58decode(text))
            if text[:1] in ("b", "B"):
                body = text[1:].upper()
                return cls.decode(base64.b32decode(body + "=" * (-len(body) % 8)))
        except (ValueError, MintingError) as exc:
            raise MintingError(f"not a valid CID: {text!r} ({exc})") from None
        raise MintingError(f"not a CID in base32 (b…) or CIDv0 (Qm…) form: {text!r}")

    @property
    def multihash(self) -> bytes:
        return varint(self.hash_code) + varint(len(self.digest)) + self.digest

    def __bytes__(self) -> bytes:
        if self.version == 0:
            return self.multihash
        return varint(1) + varint(self.codec) + self.multihash

    def __str__(self) -> str:
        if self.version == 0:
            return _b58encode(self.multihash)
        return _b32(bytes(self))

    @property
    def codec_name(self) -> str:
        return _CODEC_NAMES.get(self.codec, hex(self.codec))

    def to_v1(self) -> CID:
        return CID(1, self.codec, self.hash_code, self.digest)

    def verify(self, block: bytes | memoryview) -> bool:
        """Whether ``block`` hashes to this CID's digest (sha2-256 only)."""
        if self.hash_code != SHA2_256:
            raise MintingError(f"unsupported multihash {self.hash_code:#x}: only sha2-256")
        return hashlib.sha256(block).digest() == self.digest


def cid_to_str(raw: bytes) -> str:
    """Base32 string of a binary CIDv1 (fast path for the importer)."""
    return _b32(raw)


def _b58encode(raw: bytes) -> str:
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def _b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        i = _B58.find(ch)
        if i < 0:
            raise ValueError(f"not base58: {ch!r}")
        n = n * 58 + i
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body
