"""Stage 4b: a track token's audio-reactive clip (``cover_art.video``), where the spec says ``video = true``.

The clip is drawn from the release's own published files — the cover PNG, the lossless FLAC (analysed
and muxed as the sound) and the stems' FLACs — and the parameters recorded in the token's
``properties.video``, so ``songmint verify`` can render it again from the release folder alone and
compare the bytes (:func:`render_from_release`).

Which media is the token's ``animation_url`` (docs/video.md): the video when the token has one
(marketplaces show ``animation_url`` as the main media and play MP4 with its sound), with the HTML
player in ``properties.player``; otherwise the player, as before. A stem token wears no video.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from music.audio import load
from songmint.files import write_atomic
from songmint.release.analysis import Analysis
from songmint.release.assets import TokenFiles
from songmint.release.cache import Cache, content_hash
from songmint.release.options import Log, announce
from songmint.release.tokens import Token

TREATMENT = "pulse"


def video_params(t: Token, a: Analysis, *, size: tuple[int, int], fps: float) -> dict[str, Any]:
    """What ``properties.video`` records and the render reads (besides the files)."""
    from cover_art.video.clip import FORMAT_VERSION
    from cover_art.video.encode import Encoding

    meter = str(a.traits.get("time_signature") or "4/4").split("/")[0]
    return {
        "format_version": FORMAT_VERSION,
        "facts": a.facts.as_traits(),  # drawn from {**properties.traits, **facts}, as the cover is
        "treatment": TREATMENT,
        "style": t.track.cover_style or "flow",
        "seed": t.track.cover_seed,
        "width": size[0],
        "height": size[1],
        "fps": float(fps),
        "loop": False,
        "meter": int(meter) if meter.isdigit() else 4,
        "encoding": Encoding().to_dict(),
    }


def render_from_release(
    root: Path, paths: dict[str, str], traits: dict[str, Any], params: dict[str, Any], dest: Path
) -> Any:
    """Render a token's clip into ``dest`` from the release's files (``paths``: role -> relative path).

    Returns the :class:`cover_art.video.Video`.
    """
    from cover_art.video import Encoding, render_video
    from music.traits import extract

    mix_path = root / paths["lossless"]
    mix = load(mix_path)
    # Beat times are not in the published traits (too long for metadata): measured again from the
    # FLAC, deterministically, by the release and by verify alike.
    beats = traits.get("beats") or extract(mix).beats
    stems = {r.split(":", 1)[1]: load(root / p) for r, p in paths.items() if r.startswith("stem_lossless:")}
    enc = params["encoding"]
    return render_video(
        dest,
        traits=traits,
        audio=mix,
        audio_path=mix_path,
        stems=stems,
        beats=beats,
        meter=params["meter"],
        cover=root / paths["cover"],
        style=params["style"],
        seed=params["seed"],
        size=(params["width"], params["height"]),
        fps=params["fps"],
        treatment=params["treatment"],
        loop=params["loop"],
        encoding=Encoding(codec=enc["codec"], crf=enc["crf"], preset=enc["preset"], threads=enc["threads"]),
        hash_frames=True,
    )


def render_videos(
    tokens: list[Token],
    analyses: dict[int, Analysis],
    files: dict[int, TokenFiles],
    out: Path,
    cache: Cache,
    *,
    size: tuple[int, int],
    fps: float,
    log: Log,
) -> tuple[dict[int, TokenFiles], dict[int, dict[str, Any]]]:
    """Stage 4b: the clip of every track token whose track has ``video = true``.

    Returns the files with each clip added (role ``video``) and, per token with a clip, its
    ``properties.video`` record (parameters, the frames' and the file's sha256).
    """
    from cover_art.video.encode import ffmpeg_version

    new_files = dict(files)
    records: dict[int, dict[str, Any]] = {}
    for t in tokens:
        if t.kind != "track" or not t.track.video:
            continue
        f = files[t.id]
        a = analyses[t.id]
        params = video_params(t, a, size=size, fps=fps)
        traits = {**a.traits, **params["facts"]}
        inputs = [
            (out / rel).read_bytes()
            for role, rel in sorted(f.paths.items())
            if role in ("lossless", "cover") or role.startswith("stem_lossless:")
        ]
        key = content_hash("video", json.dumps([traits, params], sort_keys=True), ffmpeg_version(), *inputs)
        clip, meta = cache.path("videos", key, ".mp4"), cache.path("videos", key, ".json")
        hit = meta.exists() and clip.exists()
        if not hit:
            v = render_from_release(out, f.paths, traits, params, clip)
            write_atomic(meta, json.dumps({"frames_sha256": v.frames_sha256, "sha256": v.sha256}))
        rel = Path(f.paths["cover"]).with_name(f"{Path(f.paths['lossless']).stem}.mp4").as_posix()
        write_atomic(out / rel, clip.read_bytes())
        new_files[t.id] = replace(f, paths={**f.paths, "video": rel})
        records[t.id] = {**params, **json.loads(meta.read_text())}
        announce(log, 4, f"{t.slug} video{' cached' if hit else ''}")
    return new_files, records
