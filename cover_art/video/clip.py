"""``render_video``: the cover and the music → an audio-reactive clip (MP4 or WebM).

Same parameters as the cover: the palette, drawing parameters, motif and RNG come from
:func:`cover_art.scene_for` with the cover's traits, audio, style and seed; the cover itself is
rendered with :func:`cover_art.render` (or given). Frames are drawn with skia into two reusable
buffers and streamed to ffmpeg (:mod:`cover_art.video.encode`).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import skia
from PIL import Image

from cover_art.cover import software_version, traits_mapping
from cover_art.procedural import scene_for
from cover_art.video.encode import Encoding, FrameWriter, VideoError, ffmpeg_command, ffmpeg_version
from cover_art.video.timeline import Timeline, analyse
from cover_art.video.treatments import TREATMENTS, Orbit, Stage, draw_pulse, ground_image, opaque_image

FORMAT_VERSION = 1
"""Bumped whenever a change alters the frames for the same inputs."""
FORMATS = {"square": (1080, 1080), "vertical": (1080, 1920)}
"""Named sizes: ``square`` (1:1) and ``vertical`` (9:16)."""
MIN_SIDE, MAX_SIDE = 64, 4096
MAX_FPS = 120.0
SUFFIX_CODEC = {".mp4": "h264", ".m4v": "h264", ".webm": "vp9"}


def parse_size(text: str) -> tuple[int, int]:
    """``"1080x1080"``, ``"720x1280"``, ``"square"`` or ``"vertical"`` → (width, height).

    Raises
    ------
    VideoError
        Malformed, odd (yuv420p needs even sides) or out of range (64 … 4096 px).
    """
    if text in FORMATS:
        return FORMATS[text]
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", str(text))
    if not m:
        raise VideoError(f"size must be WIDTHxHEIGHT (e.g. 1080x1080) or one of {', '.join(FORMATS)}, "
                         f"got {text!r}")
    w, h = int(m.group(1)), int(m.group(2))
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        raise VideoError(f"size sides must be {MIN_SIDE} … {MAX_SIDE} px, got {w}x{h}")
    if w % 2 or h % 2:
        raise VideoError(f"size sides must be even (yuv420p), got {w}x{h}")
    return w, h


@dataclass(frozen=True)
class Video:
    """A rendered clip.

    Attributes
    ----------
    path : Path
    sha256 : str
        Of the file's bytes.
    frames_sha256 : str or None
        sha256 of the raw RGBA frames in order (when asked for): independent of the encoder.
    n_frames, width, height : int
    fps : float
    provenance : dict
        What made it (also stored in the container's ``comment`` tag).
    timings : dict
        ``prepare_s``, ``draw_s`` (drawing only), ``total_s``.
    """

    path: Path
    sha256: str
    frames_sha256: str | None
    n_frames: int
    width: int
    height: int
    fps: float
    provenance: dict[str, Any]
    timings: dict[str, float] = field(compare=False)


def _cover_rgb(cover: bytes | Path | np.ndarray | None, side: int,
               render_cover: Callable[[int], bytes]) -> tuple[np.ndarray, str]:
    if cover is None:
        data = render_cover(side)
    elif isinstance(cover, np.ndarray):
        data = None
        img = Image.fromarray(cover).convert("RGB")
    elif isinstance(cover, bytes):
        data = cover
    else:
        try:
            data = Path(cover).read_bytes()
        except OSError as exc:
            raise VideoError(f"cannot read the cover {cover}: {exc.strerror or exc}") from exc
    if data is not None:
        try:
            img = Image.open(io.BytesIO(data)).convert("RGB")
        except OSError as exc:
            raise VideoError(f"the cover is not an image Pillow can read: {exc}") from exc
    digest = hashlib.sha256(np.asarray(img).tobytes()).hexdigest()
    if img.size != (side, side):
        w, h = img.size
        c = min(w, h)
        img = img.crop(((w - c) // 2, (h - c) // 2, (w - c) // 2 + c, (h - c) // 2 + c))
        img = img.resize((side, side), Image.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.uint8), digest


def _bases(st: Stage, treatment: str) -> skia.Image:
    """The still layer under every frame: ground + cover (pulse) or ground + dimmed cover + disc."""
    surface = skia.Surface(st.width, st.height)
    cv = surface.getCanvas()
    cv.drawImage(st.ground, 0, 0)
    rect = skia.Rect.MakeXYWH(st.ox, st.oy, st.side, st.side)
    samp = skia.SamplingOptions(skia.FilterMode.kLinear)
    if treatment == "pulse":
        cv.drawImageRect(st.cover, rect, samp)
    else:
        cv.drawImageRect(st.cover, rect, samp, skia.Paint(Alpha=int(255 * 0.28)))
        if st.style in ("flow", "radial") or st.style not in ("geometric", "waves"):
            cx, cy = st.centre
            r = 0.22 * st.side
            cv.save()
            cv.clipPath(skia.Path.Circle(cx, cy, r), doAntiAlias=True)
            cv.drawImageRect(st.cover, skia.Rect.MakeXYWH(cx - r, cy - r, 2 * r, 2 * r), samp)
            cv.restore()
    arr = surface.makeImageSnapshot().toarray(colorType=skia.kRGBA_8888_ColorType)[..., :3]
    return opaque_image(np.ascontiguousarray(arr))


@dataclass
class Frames:
    """A prepared clip: the stage, its still layer and the timeline; :meth:`draw` paints frame ``k``."""

    stage: Stage
    base: skia.Image
    timeline: Timeline
    treatment: str
    orbit: Orbit | None
    cover_sha256: str

    @property
    def n_frames(self) -> int:
        return self.timeline.n_frames

    def draw(self, cv: skia.Canvas, k: int) -> None:
        if self.orbit is not None:
            self.orbit.draw(cv, self.timeline, k, self.base)
        else:
            draw_pulse(cv, self.stage, self.timeline, k, self.base)

    def rgb(self, k: int) -> np.ndarray:
        """Frame ``k`` as an ``(height, width, 3)`` uint8 array (stills, tests)."""
        buf = np.zeros((self.stage.height, self.stage.width, 4), np.uint8)
        surface = skia.Surface(buf, colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kPremul_AlphaType)
        self.draw(surface.getCanvas(), k)
        return buf[..., :3].copy()


def prepare_frames(*, traits: Any, audio: Any, stems: Mapping[str, Any] | None = None,
                   beats: Sequence[float] = (), meter: int = 4,
                   cover: bytes | Path | np.ndarray | None = None,
                   style: str = "flow", seed: int = 0, size: tuple[int, int] = FORMATS["square"],
                   fps: float = 30.0, treatment: str = "pulse", loop: bool = False,
                   max_frames: int | None = None) -> Frames:
    """Everything drawn once per clip: see :func:`render_video` for the parameters."""
    from cover_art.render import render

    if treatment not in TREATMENTS:
        raise VideoError(f"unknown treatment {treatment!r}; choose one of {', '.join(TREATMENTS)}")
    width, height = size
    parse_size(f"{width}x{height}")
    if not (isinstance(fps, int | float) and math.isfinite(fps) and 1 <= fps <= MAX_FPS):
        raise VideoError(f"fps must be 1 … {MAX_FPS:g}, got {fps!r}")
    if not isinstance(seed, int) or seed < 0:
        raise VideoError(f"seed must be a non-negative integer, got {seed!r}")
    t = traits_mapping(traits)
    side = min(width, height)

    def make_cover(n: int) -> bytes:
        return render(t, audio, style=style, seed=seed, size=max(n, 64)).png

    cover_rgb, cover_digest = _cover_rgb(cover, side, make_cover)
    scene, _, pal, prm, motif = scene_for(t, audio, style=style, seed=seed, width=side)
    n_audio = math.ceil(np.asarray(audio.samples).shape[-1] / audio.sr * fps - 1e-9)
    n_frames = min(n_audio, max_frames) if max_frames else n_audio
    tl = analyse(audio, fps=fps, n_frames=n_frames, beats=beats, meter=meter, stems=stems, loop=loop)

    def square_scene(n: int) -> Any:
        return scene_for(t, audio, style=style, seed=seed, width=n)[0]

    st = Stage(width=width, height=height, side=side, ox=(width - side) / 2, oy=(height - side) / 2,
               palette=pal, params=prm, motif=motif, style=style, cover=opaque_image(cover_rgb),
               ground=ground_image(square_scene, width, height), scene=scene,
               rng_seed=(motif.seed_bits ^ seed) & ((1 << 63) - 1))
    return Frames(stage=st, base=_bases(st, treatment), timeline=tl, treatment=treatment,
                  orbit=Orbit(st, tl.duration) if treatment == "orbit" else None, cover_sha256=cover_digest)


def render_video(out: str | os.PathLike[str], *, traits: Any, audio: Any, audio_path: str | os.PathLike[str],
                 stems: Mapping[str, Any] | None = None, beats: Sequence[float] = (), meter: int = 4,
                 cover: bytes | Path | np.ndarray | None = None, style: str = "flow", seed: int = 0,
                 size: tuple[int, int] = FORMATS["square"], fps: float = 30.0, treatment: str = "pulse",
                 loop: bool = False, encoding: Encoding | None = None, hash_frames: bool = False,
                 max_frames: int | None = None, progress: Callable[[int, int], None] | None = None) -> Video:
    """Render an audio-reactive clip of a track.

    Parameters
    ----------
    out : path
        ``.mp4`` (H.264 + AAC) or ``.webm`` (VP9 + Opus); written to a temporary sibling and
        renamed into place, so an error leaves nothing behind.
    traits : Traits or Mapping
        The track's traits (``key`` required), as for the cover.
    audio : music.audio.Audio
        The mix, analysed into a :class:`~cover_art.video.timeline.Timeline`.
    audio_path : path
        The file muxed as the clip's sound (any format ffmpeg reads; normally the mix itself).
    stems : mapping of str to Audio, optional
        A take's stems: drums drive the beads and particles' weight, bass the ring's breathing.
    beats : sequence of float
        Beat times, s (``Traits.beats``); ``meter`` beats to the bar.
    cover : PNG bytes, path or (h, w, 3) array, optional
        The still to animate; default: :func:`cover_art.render` of the traits at the stage size.
    style, seed : str, int
        The cover's style and seed: palette, motif and layout follow them.
    size : (int, int)
        Width and height, even, 64 … 4096 (``FORMATS`` has square 1080² and vertical 1080×1920).
    fps : float
    treatment : str
        One of :data:`TREATMENTS`.
    loop : bool
        The last frame leads into the first (features crossfade into the start; every
        free-running motion makes whole turns over the clip).
    encoding : Encoding, optional
        Codec, quality, preset, threads; the codec defaults from ``out``'s suffix.
    hash_frames : bool
        Also hash the raw frames (:attr:`Video.frames_sha256`).
    max_frames : int, optional
        Stop after this many frames (benchmarks); the clip is then that long.
    progress : callable, optional
        ``progress(frame, n_frames)`` every second of video.

    Raises
    ------
    VideoError
        Bad size, fps, treatment, suffix, unreadable cover, ffmpeg missing or failing.
    """
    out = Path(out)
    suffix_codec = SUFFIX_CODEC.get(out.suffix.lower())
    if suffix_codec is None:
        raise VideoError(f"--out must end in {', '.join(SUFFIX_CODEC)}, got {out.name}")
    encoding = encoding or Encoding(codec=suffix_codec)
    if encoding.codec != suffix_codec:
        raise VideoError(f"{out.name}: a {encoding.codec} clip needs a "
                         f"{'.webm' if encoding.codec == 'vp9' else '.mp4'} file")
    audio_path = Path(audio_path)
    if not audio_path.is_file():
        raise VideoError(f"{audio_path} does not exist")
    t0 = time.perf_counter()
    frames = prepare_frames(traits=traits, audio=audio, stems=stems, beats=beats, meter=meter, cover=cover,
                            style=style, seed=seed, size=size, fps=fps, treatment=treatment, loop=loop,
                            max_frames=max_frames)
    width, height = size
    n_frames, tl = frames.n_frames, frames.timeline
    provenance = {
        "format": "songmint-video", "format_version": FORMAT_VERSION, "treatment": treatment, "style": style,
        "seed": seed, "width": width, "height": height, "fps": float(fps), "loop": bool(loop),
        "n_frames": n_frames, "cover_sha256": frames.cover_sha256, "audio_sha256": frames.stage.motif.digest,
        "timeline_sha256": tl.digest(), "stems": sorted(stems or {}), "encoding": encoding.to_dict(),
        "software": {"ffmpeg": ffmpeg_version(), "skia-python": software_version("skia-python"),
                     "numpy": np.__version__},
    }
    duration = n_frames / fps
    cmd_out = out.with_name(f".{out.name}.tmp{os.getpid()}")
    cmd = ffmpeg_command(cmd_out, width=width, height=height, fps=fps, audio=audio_path, duration=duration,
                         encoding=encoding, metadata=provenance)
    out.parent.mkdir(parents=True, exist_ok=True)
    prepare_s = time.perf_counter() - t0
    draw_s = 0.0
    try:
        with FrameWriter(cmd, width=width, height=height, hash_frames=hash_frames) as writer:
            surfaces = [skia.Surface(b, colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kPremul_AlphaType)
                        for b in writer.buffers]
            canvases = [s.getCanvas() for s in surfaces]
            every = max(round(fps), 1)
            for k in range(n_frames):
                i = writer.buffer()
                d0 = time.perf_counter()
                frames.draw(canvases[i], k)
                surfaces[i].flushAndSubmit()
                draw_s += time.perf_counter() - d0
                writer.submit(i)
                if progress is not None and k % every == 0:
                    progress(k, n_frames)
        frames_sha = writer.frames_sha256
        cmd_out.replace(out)
    finally:
        if cmd_out.exists():
            cmd_out.unlink()
    h = hashlib.sha256()
    with out.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return Video(path=out, sha256=h.hexdigest(), frames_sha256=frames_sha, n_frames=n_frames, width=width,
                 height=height, fps=float(fps), provenance=provenance,
                 timings={"prepare_s": prepare_s, "draw_s": draw_s, "total_s": time.perf_counter() - t0})
