"""Audio values and file I/O.

One convention everywhere: :class:`Audio` holds ``samples`` shaped ``(channels, n)``
as float32 in [-1, 1] and the sample rate ``sr`` in Hz. Conversions happen here, at
the edges.

Decoding goes through libsndfile (via soundfile) for WAV, FLAC, Ogg/Vorbis, Opus and
MP3 (gapless), and through ffmpeg for anything else (m4a, aac, …). Encoding writes WAV
and FLAC with libsndfile and MP3 / Opus with ffmpeg (libmp3lame, libopus), always to a
temporary file first and then renamed, so a failure never leaves half a file behind.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf

from music.errors import AudioError, AudioFormatError

MIN_SR = 4_000
"""Lowest sample rate (Hz) we accept; below it nothing musical survives."""
MAX_SR = 384_000
"""Highest sample rate (Hz) we accept (DXD is 352.8 kHz)."""
MAX_CHANNELS = 64
MAX_DURATION_S = 3 * 3600.0
"""Default upper bound on decoded length, in seconds: a guard against memory blow-ups."""

SNDFILE_EXTENSIONS = {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff"}
ENCODE_FORMATS = ("wav", "flac", "mp3", "opus", "ogg")
AUDIO_EXTENSIONS = (".wav", ".wave", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".aif", ".aiff", ".m4a")
"""File suffixes songmint reads as audio (libsndfile's, plus what ffmpeg decodes for us)."""

WavDepth = Literal[16, 24, "float"]
Mp3Quality = Literal["v0", "320k"]


def _all_finite(x: np.ndarray) -> bool:
    """Whether every sample of ``x`` (2-D float32) is finite. A row's dot product with
    itself is finite when every sample is (NaN and infinity propagate) and costs half of
    ``np.isfinite(x).all()``; only a row whose squares overflow is checked sample by sample."""
    with np.errstate(all="ignore"):
        for row in x:
            if not (row.flags.c_contiguous and np.isfinite(np.dot(row, row))) and not np.isfinite(row).all():
                return False
    return True


@dataclass(frozen=True, eq=False)
class Audio:
    """A block of audio.

    Parameters
    ----------
    samples : np.ndarray, shape=(channels, n), dtype=float32
        Sample values, nominally in [-1, 1].
    sr : int
        Sample rate in Hz.

    Raises
    ------
    AudioError
        If the array is not 2-D, has no channels or no samples, is not finite, or the
        rate is outside [``MIN_SR``, ``MAX_SR``].
    """

    samples: np.ndarray
    sr: int

    def __post_init__(self) -> None:
        x = self.samples
        if not isinstance(x, np.ndarray) or x.ndim != 2:
            shape = getattr(x, "shape", None)
            raise AudioError(f"audio must be a (channels, n) array, got shape {shape}")
        if x.shape[0] == 0:
            raise AudioError("audio has zero channels")
        if x.shape[0] > MAX_CHANNELS:
            raise AudioError(
                f"audio has {x.shape[0]} channels (max {MAX_CHANNELS}); "
                "is the array (n, channels)? use Audio.from_array(..., channels_last=True)"
            )
        if x.shape[1] == 0:
            raise AudioError("audio is empty (0 samples)")
        sr = self.sr
        if isinstance(sr, float) and sr.is_integer():
            sr = int(sr)
            object.__setattr__(self, "sr", sr)
        if not isinstance(sr, int | np.integer) or not MIN_SR <= int(sr) <= MAX_SR:
            raise AudioError(f"sample rate {sr!r} Hz is outside {MIN_SR}–{MAX_SR} Hz")
        object.__setattr__(self, "sr", int(sr))
        if x.dtype != np.float32:
            x = x.astype(np.float32)
        if not _all_finite(x):
            raise AudioError("audio contains NaN or infinite samples")
        x.setflags(write=False)
        object.__setattr__(self, "samples", x)

    @classmethod
    def from_array(cls, array: np.ndarray, sr: int, *, channels_last: bool = False) -> Audio:
        """Build from a 1-D (mono) or 2-D array; ``channels_last`` for ``(n, channels)``."""
        a = np.asarray(array, dtype=np.float32)
        if a.ndim == 1:
            a = a[None, :]
        elif channels_last and a.ndim == 2:
            a = a.T
        return cls(np.ascontiguousarray(a), sr)

    @property
    def channels(self) -> int:
        """Number of channels."""
        return int(self.samples.shape[0])

    @property
    def n(self) -> int:
        """Number of samples per channel."""
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.n / self.sr

    def mono(self) -> np.ndarray:
        """The channel mean, shape ``(n,)`` float32."""
        return self.samples.mean(axis=0, dtype=np.float32)

    def with_samples(self, samples: np.ndarray) -> Audio:
        """A new :class:`Audio` at the same rate."""
        return Audio(samples, self.sr)

    def __repr__(self) -> str:
        return f"Audio(channels={self.channels}, n={self.n}, sr={self.sr}, {self.duration:.2f}s)"


# --------------------------------------------------------------------------- conversion


def resample(audio: Audio, sr: int, *, quality: str = "VHQ") -> Audio:
    """Resample with libsoxr.

    Parameters
    ----------
    audio : Audio
    sr : int
        Target rate in Hz.
    quality : {"VHQ", "HQ", "MQ", "LQ", "QQ"}
        soxr quality recipe; VHQ is transparent.
    """
    if sr == audio.sr:
        return audio
    if not MIN_SR <= sr <= MAX_SR:
        raise AudioError(f"target sample rate {sr} Hz is outside {MIN_SR}–{MAX_SR} Hz")
    import soxr

    y = soxr.resample(audio.samples.T, audio.sr, sr, quality=quality)
    return Audio(np.ascontiguousarray(y.T, dtype=np.float32), sr)


# ITU-R BS.775 downmix of 5.1 (L R C LFE Ls Rs) to stereo; LFE is dropped.
_DOWNMIX_51 = np.array(
    [[1.0, 0.0, 0.7071, 0.0, 0.7071, 0.0], [0.0, 1.0, 0.7071, 0.0, 0.0, 0.7071]], np.float32
)


def to_channels(audio: Audio, channels: int) -> Audio:
    """Convert the channel count.

    Mono is duplicated to every output channel; 5.1 (6 channels, L R C LFE Ls Rs) folds to
    stereo with the ITU-R BS.775 matrix; anything else to mono is the channel mean, and
    to stereo is the mean of the odd and even channels. The result is scaled back under
    full scale only if the fold-down would clip.
    """
    if channels < 1 or channels > MAX_CHANNELS:
        raise AudioError(f"cannot convert to {channels} channels")
    c = audio.channels
    x = audio.samples
    if c == channels:
        return audio
    if c == 1:
        y = np.repeat(x, channels, axis=0)
    elif channels == 1:
        y = x.mean(axis=0, keepdims=True)
    elif channels == 2 and c == 6:
        y = _DOWNMIX_51 @ x
    elif channels == 2:
        y = np.stack([x[0::2].mean(axis=0), x[1::2].mean(axis=0)])
    else:
        raise AudioError(f"no channel mapping from {c} to {channels} channels")
    peak = float(np.abs(y).max())
    if peak > 1.0:
        y = y / peak
    return Audio(np.ascontiguousarray(y, dtype=np.float32), audio.sr)


def conform(audio: Audio, *, sr: int | None = None, channels: int | None = None) -> Audio:
    """Resample and convert channels in one call (either may be ``None`` to keep it)."""
    if channels is not None:
        audio = to_channels(audio, channels)
    if sr is not None:
        audio = resample(audio, sr)
    return audio


# --------------------------------------------------------------------------- decoding


def ffmpeg_binary() -> str:
    """Path of the ffmpeg executable: the system one, else imageio-ffmpeg's bundled one."""
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as exc:
        raise AudioFormatError(
            "ffmpeg not found; install it with `sudo apt-get install ffmpeg`"
        ) from exc


def load(
    path: str | os.PathLike[str],
    *,
    sr: int | None = None,
    channels: int | None = None,
    max_duration_s: float = MAX_DURATION_S,
) -> Audio:
    """Decode an audio file.

    Parameters
    ----------
    path : path-like
        WAV, FLAC, Ogg/Vorbis, Opus and MP3 decode through libsndfile (gapless);
        anything else ffmpeg can read (m4a, aac, …) goes through ffmpeg.
    sr : int, optional
        Resample to this rate (Hz).
    channels : int, optional
        Convert to this many channels (see :func:`to_channels`).
    max_duration_s : float
        Refuse files longer than this many seconds.

    Returns
    -------
    Audio

    Raises
    ------
    AudioError
        Missing, empty, corrupt, over-long, non-finite or out-of-range input.
    """
    p = Path(path)
    if not p.exists():
        raise AudioError(f"{p}: no such file")
    if p.is_dir():
        raise AudioError(f"{p}: is a directory, not an audio file")
    if p.stat().st_size == 0:
        raise AudioError(f"{p}: file is empty (0 bytes)")
    if p.suffix.lower() in SNDFILE_EXTENSIONS:
        try:
            audio = _load_sndfile(p, max_duration_s)
        except AudioError:
            raise
        except Exception as exc:
            try:
                audio = _load_ffmpeg(p, max_duration_s)
            except AudioError:
                why = _one_line(exc)
                if "does not exist or is not a regular file" in why:
                    # libsndfile's words for an MP3 with no decodable frame; the file does exist
                    why = "no decodable audio frames"
                raise AudioFormatError(
                    f"{p}: cannot decode ({why}); the file is corrupt or not audio"
                ) from exc
    else:
        audio = _load_ffmpeg(p, max_duration_s)
    return conform(audio, sr=sr, channels=channels)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _check_header(p: Path, sr: int, channels: int, frames: int, max_duration_s: float) -> None:
    if channels < 1:
        raise AudioError(f"{p}: file has zero channels")
    if not MIN_SR <= sr <= MAX_SR:
        raise AudioError(f"{p}: sample rate {sr} Hz is outside {MIN_SR}–{MAX_SR} Hz")
    if frames == 0:
        raise AudioError(f"{p}: file holds no audio (0 samples)")
    if frames / sr > max_duration_s:
        raise AudioError(
            f"{p}: {frames / sr:.0f} s is longer than the {max_duration_s:.0f} s limit "
            "(pass max_duration_s to raise it)"
        )


@contextmanager
def _native_stderr_silenced(enabled: bool) -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the duration (C libraries only).

    libsndfile's MP3 decoder (mpg123) writes notes such as "Hit end of (available) data
    during resync." straight to fd 2; a corrupt file must end in one clear line of ours.
    """
    if not enabled:
        yield
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _load_sndfile(p: Path, max_duration_s: float) -> Audio:
    with _native_stderr_silenced(p.suffix.lower() == ".mp3"):
        return _read_sndfile(p, max_duration_s)


def _read_sndfile(p: Path, max_duration_s: float) -> Audio:
    with sf.SoundFile(p) as f:
        # MP3 headers can report 0 frames before a full scan; check what we can.
        frames = f.frames if f.frames > 0 else 1
        _check_header(p, f.samplerate, f.channels, frames, max_duration_s)
        limit = int(max_duration_s * f.samplerate) + 1
        data = f.read(frames=limit, dtype="float32", always_2d=True)
        sr = f.samplerate
    if data.shape[0] == 0:
        raise AudioError(f"{p}: file holds no audio (0 samples)")
    if data.shape[0] >= limit:
        raise AudioError(f"{p}: longer than the {max_duration_s:.0f} s limit")
    return _finite(p, data.T, sr)


def _finite(p: Path, data: np.ndarray, sr: int) -> Audio:
    if not np.isfinite(data).all():
        raise AudioError(f"{p}: contains NaN or infinite samples")
    return Audio(np.ascontiguousarray(data, dtype=np.float32), sr)


def _load_ffmpeg(p: Path, max_duration_s: float) -> Audio:
    exe = ffmpeg_binary()
    with tempfile.TemporaryDirectory(prefix="songmint-") as tmp:
        out = Path(tmp) / "decoded.wav"
        cmd = [exe, "-nostdin", "-v", "error", "-i", str(p), "-vn", "-t", f"{max_duration_s + 1:.3f}"]
        cmd += ["-c:a", "pcm_f32le", "-f", "wav", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not out.exists() or out.stat().st_size <= 44:
            msg = proc.stderr.strip().splitlines()
            why = msg[-1] if msg else "no audio stream"
            raise AudioFormatError(f"{p}: cannot decode ({why})")
        data, sr = sf.read(out, dtype="float32", always_2d=True)
    _check_header(p, sr, data.shape[1], data.shape[0], max_duration_s)
    return _finite(p, data.T, sr)


# --------------------------------------------------------------------------- encoding


NAME_MAX = 255
"""Longest file name (bytes) most file systems take; temporary names are kept under it."""


def _temp_prefix(name: str, suffix: str) -> str:
    """``.<name>.`` cut so that ``prefix + 8 random characters + suffix`` fits in :data:`NAME_MAX` bytes."""
    room = NAME_MAX - len(suffix.encode()) - 8 - 2
    stem = name.encode()[:max(room, 1)].decode(errors="ignore")
    return f".{stem}."


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a :class:`Path` if a file can be written there; else a one-line :class:`AudioError`.

    Refused: an existing folder, a name over :data:`NAME_MAX` bytes, a parent that is a file.
    (Permissions are found out by writing.)
    """
    dest = Path(path)
    if len(dest.name.encode()) > NAME_MAX:
        raise AudioError(
            f"{dest.name[:40]}…: file name is longer than {NAME_MAX} bytes; choose a shorter name"
        )
    try:
        if dest.is_dir():
            raise AudioError(f"{dest}: is a folder; give the output file's name (e.g. {dest / 'out.wav'})")
    except OSError as exc:
        raise _write_error(dest, exc) from exc
    parent = next((p for p in dest.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise AudioError(f"{dest}: cannot write here ({parent} is a file, not a folder)")
    return dest


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it over ``path`` only on success.

    Raises
    ------
    AudioError
        One line when ``path`` cannot be written: it is a folder, its parent is a file or
        does not allow writing, or its name is too long.
    """
    dest = check_output_path(path)
    suffix = ".part" + dest.suffix[:16]
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(dest.name, suffix), suffix=suffix, dir=dest.parent)
    except OSError as exc:
        raise _write_error(dest, exc) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
        except OSError as exc:
            if exc.filename is not None and Path(exc.filename) == tmp_path:
                raise _write_error(dest, exc) from exc
            raise
        # mkstemp makes the file private (0600); give the result the usual permissions.
        mask = os.umask(0)
        os.umask(mask)
        try:
            os.chmod(tmp_path, 0o666 & ~mask)
            os.replace(tmp_path, dest)
        except OSError as exc:
            raise _write_error(dest, exc) from exc
    finally:
        tmp_path.unlink(missing_ok=True)


def _write_error(dest: Path, exc: OSError) -> AudioError:
    why = exc.strerror or str(exc)
    parent = next((p for p in dest.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        why = f"{parent} is a file, not a folder"
    return AudioError(f"{dest}: cannot write here ({why})")


def format_for(path: str | os.PathLike[str]) -> str:
    """The encode format implied by a file extension."""
    ext = Path(path).suffix.lower().lstrip(".")
    fmt = {"wave": "wav", "oga": "ogg"}.get(ext, ext)
    if fmt not in ENCODE_FORMATS:
        raise AudioFormatError(
            f"cannot write '.{ext}' files; choose one of: {', '.join(ENCODE_FORMATS)}"
        )
    return fmt


def encode(
    audio: Audio,
    fmt: str,
    *,
    wav_depth: WavDepth = 24,
    flac_depth: Literal[16, 24] = 24,
    mp3_quality: Mp3Quality = "320k",
    opus_bitrate_k: int = 160,
) -> bytes:
    """Encode to bytes.

    Parameters
    ----------
    audio : Audio
    fmt : {"wav", "flac", "mp3", "opus", "ogg"}
    wav_depth : {16, 24, "float"}
        WAV sample format (PCM 16/24-bit, or 32-bit float).
    flac_depth : {16, 24}
    mp3_quality : {"v0", "320k"}
        LAME VBR V0 or CBR 320 kb/s.
    opus_bitrate_k : int
        Opus bitrate in kb/s (audio is resampled to 48 kHz, Opus's native rate).

    Notes
    -----
    PCM outputs are TPDF-free plain quantisation so the same input gives the same
    bytes; MP3/Opus are encoded with ffmpeg's ``bitexact`` flags for the same reason.
    """
    if fmt in ("wav", "flac", "ogg"):
        return _encode_sndfile(audio, fmt, wav_depth=wav_depth, flac_depth=flac_depth)
    if fmt == "mp3":
        args = ["-c:a", "libmp3lame"]
        args += ["-q:a", "0"] if mp3_quality == "v0" else ["-b:a", "320k"]
        if audio.sr not in (32000, 44100, 48000):
            audio = resample(audio, 44100 if audio.sr < 48000 else 48000)
        if audio.channels > 2:
            audio = to_channels(audio, 2)
        return _encode_ffmpeg(audio, [*args, "-id3v2_version", "0"], ".mp3")
    if fmt == "opus":
        audio = resample(audio, 48000)
        if audio.channels > 2:
            audio = to_channels(audio, 2)
        return _encode_ffmpeg(audio, ["-c:a", "libopus", "-b:a", f"{opus_bitrate_k}k"], ".opus")
    raise AudioFormatError(f"unknown format {fmt!r}; choose one of: {', '.join(ENCODE_FORMATS)}")


def _encode_sndfile(audio: Audio, fmt: str, *, wav_depth: WavDepth, flac_depth: int) -> bytes:
    buf = io.BytesIO()
    x = np.clip(audio.samples.T, -1.0, 1.0)
    if fmt == "wav":
        subtype = {16: "PCM_16", 24: "PCM_24", "float": "FLOAT"}[wav_depth]
        sf.write(buf, x if wav_depth != "float" else audio.samples.T, audio.sr, format="WAV", subtype=subtype)
    elif fmt == "flac":
        if audio.sr > 655_350:
            raise AudioFormatError("FLAC cannot store this sample rate")
        sf.write(buf, x, audio.sr, format="FLAC", subtype=f"PCM_{flac_depth}")
    else:
        sf.write(buf, x, audio.sr, format="OGG", subtype="VORBIS")
    return buf.getvalue()


def _encode_ffmpeg(audio: Audio, codec_args: list[str], suffix: str) -> bytes:
    # Write to a seekable file, not a pipe: the muxer goes back to fill in the Xing/LAME
    # header, which carries the encoder delay that makes MP3 decoding gapless.
    wav = _encode_sndfile(audio, "wav", wav_depth="float", flac_depth=24)
    with tempfile.TemporaryDirectory(prefix="songmint-") as tmp:
        out = Path(tmp) / f"encoded{suffix}"
        cmd = [ffmpeg_binary(), "-nostdin", "-v", "error", "-f", "wav", "-i", "pipe:0"]
        cmd += ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact"]
        cmd += [*codec_args, str(out)]
        proc = subprocess.run(cmd, input=wav, capture_output=True, check=False)
        if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise AudioFormatError(f"ffmpeg failed to encode: {err[-1] if err else 'no output'}")
        return out.read_bytes()


def save(audio: Audio, path: str | os.PathLike[str], *, fmt: str | None = None, **options: object) -> Path:
    """Encode and write atomically; the format comes from the extension unless ``fmt`` is given.

    Keyword options are those of :func:`encode`. Returns the written path.
    """
    fmt = fmt or format_for(path)
    data = encode(audio, fmt, **options)  # type: ignore[arg-type]
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def info(path: str | os.PathLike[str]) -> dict[str, object]:
    """Container facts of a file without decoding it fully: format, subtype, rate, channels."""
    p = Path(path)
    try:
        i = sf.info(p)
        return {"format": i.format, "subtype": i.subtype, "sample_rate": i.samplerate,
                "channels": i.channels}
    except Exception:
        return {"format": p.suffix.lstrip(".").upper() or "unknown", "subtype": "via ffmpeg"}


def audio_files(folder: str | os.PathLike[str] | None, *, recursive: bool = False) -> list[Path]:
    """The audio files of a folder (by suffix, see :data:`AUDIO_EXTENSIONS`), sorted, hidden files skipped.

    ``None`` (no folder) gives an empty list.
    """
    if folder is None:
        return []
    root = Path(folder)
    found = root.rglob("*") if recursive else root.iterdir()
    return sorted(
        p for p in found
        if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS and not p.name.startswith(".")
    )
