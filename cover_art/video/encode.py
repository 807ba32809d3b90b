"""Frames streamed to ffmpeg's stdin: no frame ever touches the disk, two frame buffers in memory.

The drawing thread fills one buffer while a writer thread pipes the other to ffmpeg (a pipe
write releases the GIL, and ffmpeg encodes in its own process), so drawing and encoding run
side by side on two cores.

Codecs: ``h264`` (libx264, yuv420p, AAC audio, MP4 with ``+faststart``) and ``vp9``
(libvpx-vp9, yuv420p, Opus audio, WebM). Every ``bitexact`` flag is set and the container
metadata is only what we pass, so the same frames, audio and ffmpeg build give the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import queue
import shutil
import subprocess
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from cover_art.errors import CoverArtError

CODECS = ("h264", "vp9")
DEFAULT_CRF = {"h264": 23, "vp9": 34}
"""Constant quality: the covers' film grain is costly to code; 23 keeps 1080² at ~6 Mb/s (superfast)."""
DEFAULT_PRESET = "superfast"
"""x264 preset: the fastest that keeps CABAC and deblocking (see docs/video.md, Speed)."""
AUDIO_BITRATE = "256k"


class VideoError(CoverArtError):
    """The video could not be made (bad parameters, ffmpeg missing or failing)."""


def ffmpeg_path(name: str = "ffmpeg") -> str:
    """The system ``ffmpeg`` (or ``ffprobe``) on PATH.

    Raises
    ------
    VideoError
        If it is not installed.
    """
    found = shutil.which(name)
    if not found:
        raise VideoError(f"{name} is not on PATH: install it (Debian: apt-get install ffmpeg)")
    return found


def ffmpeg_version() -> str:
    """The first line of ``ffmpeg -version`` (recorded in provenance)."""
    out = subprocess.run([ffmpeg_path(), "-version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0] if out else "unknown"


@dataclass(frozen=True)
class Encoding:
    """How frames become a file.

    Attributes
    ----------
    codec : str
        ``h264`` (MP4) or ``vp9`` (WebM).
    crf : int, optional
        Constant-quality factor (default 20 for H.264, 32 for VP9).
    preset : str
        libx264 preset (``ultrafast`` … ``veryslow``); VP9 uses ``-deadline realtime -cpu-used 8``
        for ``ultrafast``/``superfast``/``veryfast``, else ``good``.
    threads : int
        Encoder threads (fixed, so the bytes do not depend on the machine's core count).
    """

    codec: str = "h264"
    crf: int | None = None
    preset: str = DEFAULT_PRESET
    threads: int = 2

    def __post_init__(self) -> None:
        if self.codec not in CODECS:
            raise VideoError(f"unknown codec {self.codec!r}; choose one of {', '.join(CODECS)}")
        if self.threads < 1:
            raise VideoError(f"threads must be ≥ 1, got {self.threads}")

    @property
    def quality(self) -> int:
        return DEFAULT_CRF[self.codec] if self.crf is None else int(self.crf)

    def to_dict(self) -> dict[str, Any]:
        return {"codec": self.codec, "crf": self.quality, "preset": self.preset, "threads": self.threads,
                "audio_bitrate": AUDIO_BITRATE}


def ffmpeg_command(out: Path, *, width: int, height: int, fps: float, audio: Path | None, duration: float,
                   encoding: Encoding, metadata: dict[str, Any] | None = None) -> list[str]:
    """The ffmpeg argument list that reads raw RGBA frames on stdin (and the audio file)."""
    rate = Fraction(fps).limit_denominator(1001)
    cmd = [ffmpeg_path(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
           "-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{width}x{height}", "-framerate", str(rate),
           "-i", "pipe:0"]
    if audio is not None:
        cmd += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0"]
    q = str(encoding.quality)
    if encoding.codec == "h264":
        cmd += ["-c:v", "libx264", "-preset", encoding.preset, "-crf", q, "-pix_fmt", "yuv420p",
                "-threads", str(encoding.threads)]
        if audio is not None:
            cmd += ["-c:a", "aac", "-b:a", AUDIO_BITRATE]
        cmd += ["-movflags", "+faststart", "-f", "mp4"]
    else:
        fast = encoding.preset in ("ultrafast", "superfast", "veryfast")
        cmd += ["-c:v", "libvpx-vp9", "-crf", q, "-b:v", "0", "-pix_fmt", "yuv420p", "-row-mt", "1",
                "-threads", str(encoding.threads), "-deadline", "realtime" if fast else "good",
                "-cpu-used", "8" if fast else "4"]
        if audio is not None:
            cmd += ["-c:a", "libopus", "-b:a", "192k"]
        cmd += ["-f", "webm"]
    cmd += ["-t", f"{duration:.6f}", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-map_metadata", "-1"]
    if metadata:
        cmd += ["-metadata", "comment=" + json.dumps(metadata, sort_keys=True, separators=(",", ":"))]
    return [*cmd, str(out)]


class FrameWriter:
    """Pipe frames to an ffmpeg process through two reusable buffers.

    Use as a context manager; :meth:`buffer` hands out a free ``(height, width, 4)`` uint8 buffer
    (index and array), :meth:`submit` queues it for writing. ``frames_sha256`` (when ``hash_frames``)
    is the sha256 of every raw RGBA frame in order.
    """

    def __init__(self, cmd: list[str], *, width: int, height: int, hash_frames: bool = False) -> None:
        self.buffers = [np.zeros((height, width, 4), np.uint8) for _ in range(2)]
        self._free: queue.Queue[int] = queue.Queue()
        for i in range(2):
            self._free.put(i)
        self._full: queue.Queue[int | None] = queue.Queue()
        self._hash = hashlib.sha256() if hash_frames else None
        self._error: BaseException | None = None
        self.frames = 0
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)
        self._thread = threading.Thread(target=self._pump, name="ffmpeg-writer", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self._proc.stdin is not None
        while (i := self._full.get()) is not None:
            try:
                if self._error is None:
                    view = memoryview(self.buffers[i]).cast("B")
                    if self._hash is not None:
                        self._hash.update(view)
                    self._proc.stdin.write(view)
            except (BrokenPipeError, OSError) as exc:
                self._error = exc
            finally:
                self._free.put(i)

    def buffer(self) -> int:
        """Index of a free buffer (blocks while both are queued)."""
        if self._error is not None:
            raise self._failure()
        return self._free.get()

    def submit(self, i: int) -> None:
        self.frames += 1
        self._full.put(i)

    @property
    def frames_sha256(self) -> str | None:
        return self._hash.hexdigest() if self._hash is not None else None

    def _failure(self) -> VideoError:
        err = b""
        if self._proc.stderr is not None:
            try:
                self._proc.wait(timeout=10)
                err = self._proc.stderr.read() or b""
            except (subprocess.TimeoutExpired, ValueError):
                pass
        lines = [ln for ln in err.decode(errors="replace").splitlines() if ln.strip()]
        why = lines[-1] if lines else self._error or f"exit {self._proc.returncode}"
        return VideoError(f"ffmpeg failed: {why}")

    def close(self) -> None:
        """Flush, close stdin and wait for ffmpeg; raise :class:`VideoError` if it failed."""
        self._full.put(None)
        self._thread.join()
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.close()
        except OSError as exc:
            self._error = self._error or exc
        err = self._proc.stderr.read() if self._proc.stderr else b""
        rc = self._proc.wait()
        if rc != 0 or self._error is not None:
            lines = [ln for ln in (err or b"").decode(errors="replace").splitlines() if ln.strip()]
            raise VideoError(f"ffmpeg failed (exit {rc}): {lines[-1] if lines else self._error}")

    def abort(self) -> None:
        """Stop ffmpeg without waiting for the rest (on an error while drawing)."""
        self._error = self._error or RuntimeError("aborted")
        self._full.put(None)
        self._proc.kill()
        self._thread.join()
        self._proc.wait()
        for f in (self._proc.stdin, self._proc.stderr):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()
