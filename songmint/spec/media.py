"""Checks of the files a spec names, from their headers: the collection image's format, and each
stem's channels and length against its mix."""

from __future__ import annotations

from pathlib import Path

from songmint.spec.checker import Checker
from songmint.spec.values import IMAGE_TYPES


def check_image(c: Checker, path: Path, check_files: bool) -> None:
    """The collection image must be a PNG or JPEG file whose bytes are what its name says."""
    kind = IMAGE_TYPES.get(path.suffix.lower())
    if kind is None:
        raise c.fail("collection.image", f"{path.name!r} is not a .png or .jpg file",
                     "give a PNG or JPEG image (or leave image out to use the first cover)")
    if not check_files:
        return
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            found = im.format
            im.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise c.fail("collection.image", f"{path} is not a readable image ({' '.join(str(exc).split())})",
                     "give a PNG or JPEG image") from exc
    if found != kind:
        raise c.fail("collection.image", f"{path.name} holds {found} data, not {kind}",
                     f"rename it to match its content or convert it to {kind}")


def _header(c: Checker, key: str, path: Path) -> tuple[int, float] | None:
    """``(channels, seconds)`` from ``path``'s header (``None`` for formats only ffmpeg reads)."""
    from music.audio import SNDFILE_EXTENSIONS

    if path.suffix.lower() not in SNDFILE_EXTENSIONS or path.suffix.lower() == ".mp3":
        return None  # MP3 headers can need a full scan; ffmpeg formats are checked when loaded
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as exc:  # libsndfile's errors are plain RuntimeErrors with its message
        raise c.fail(key, f"{path} is not readable audio ({' '.join(str(exc).split()) or 'no header'})",
                     "re-export it as WAV or FLAC") from exc
    return int(info.channels), float(info.frames) / float(info.samplerate or 1)


def check_channels(c: Checker, key: str, mix: Path, stems_dir: Path | None) -> None:
    """Each stem must be mono or have the mix's channel count (a stem is mixed under the mix),
    and as long as the mix (within 1 % + 50 ms: exported from the same session)."""
    head = _header(c, f"{key}.file", mix)
    if stems_dir is None or head is None:
        return
    mix_ch, mix_s = head
    for stem in sorted(stems_dir.iterdir()):
        if stem.name.startswith(".") or not stem.is_file():
            continue
        got = _header(c, f"{key}.stems", stem)
        if got is None:
            continue
        ch, secs = got
        if ch not in (1, mix_ch):
            raise c.fail(f"{key}.stems", f"{stem.name} has {ch} channels but the mix has {mix_ch}",
                         f"export the stems as mono or {mix_ch}-channel files, like the mix")
        if abs(secs - mix_s) > 0.01 * mix_s + 0.05:
            raise c.fail(f"{key}.stems", f"{stem.name} is {secs:.2f} s long but the mix is {mix_s:.2f} s",
                         "export stems and mix from the same session start to end")
