"""Claims about renders: a deterministic engine's take and a token's video, rendered again from
the recorded request and compared byte for byte."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from music.hashing import sha256_file
from songmint.verify.report import Report


def _deterministic(engine: str) -> bool:
    """Whether the engine says the same request and seed give the same bytes (``Engine.deterministic``)."""
    from music.engines import ENGINES, engine_class

    return engine in ENGINES and bool(getattr(engine_class(engine), "deterministic", False))


def check_render(root: Path, t: dict[str, Any], report: Report) -> None:
    from music.audio import encode

    req = t.get("request")
    subject = str(t.get("title"))
    if not req:
        report.skip("re-render", subject, "not generated (a file track)")
        return
    problem = _request_problem(req, t)
    if problem:
        report.bad("re-render", subject, f"the recorded request is damaged ({problem})")
        return
    if not _deterministic(req["engine"]):
        report.skip("re-render", subject, f"engine {req['engine']} is not byte-deterministic")
        return
    source = req.get("source")
    src_path = stems_dir = None
    if source:
        src_path = Path(source["path"])
        if not src_path.is_file():
            report.skip("re-render", subject, f"the continued audio {src_path} is not here")
            return
        if sha256_file(src_path) != source["sha256"]:
            report.bad("re-render", subject, f"the continued audio {src_path} changed since the release")
            return
        stems_dir = Path(source["stems"]) if source.get("stems") else None
    from music.engines import Request
    from music.engines.run import run_request

    request = Request(
        prompt=req["prompt"], seconds=req["seconds"], seed=req["seed"], params=dict(req["params"])
    )
    from songmint.models_commands import engine_env_options

    take = run_request(req["engine"], request, source=src_path, source_stems=stems_dir,
                       **engine_env_options(req["engine"]))  # $SONGMINT_SOUNDFONT
    audio = take.mix if not req.get("stem") else take.stems[req["stem"]]
    # The pipeline stores takes as float WAV; round-trip the same way before encoding.
    from music.audio import Audio

    audio = Audio(audio.samples.astype("float32"), audio.sr)
    data = encode(audio, "flac")
    lossless = root / t["assets"]["lossless"]
    if hashlib.sha256(data).hexdigest() == sha256_file(lossless):
        report.ok("re-render", subject, f"{req['engine']} seed {req['seed']}: identical FLAC bytes")
    else:
        report.bad("re-render", subject, f"{req['engine']} seed {req['seed']} renders different audio")


def check_video(root: Path, t: dict[str, Any], report: Report) -> None:
    """Render the token's clip again from the release's own files and its ``properties.video``."""
    from songmint.release.videos import render_from_release

    rel = t["assets"]["video"]
    try:
        props = json.loads((root / t["metadata_path"]).read_text()).get("properties", {})
        params = props.get("video") if isinstance(props, dict) else None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, AttributeError):
        report.bad("video", rel, "the metadata cannot be read to render it from")
        return
    if not isinstance(params, dict) or not isinstance(props.get("traits"), dict):
        report.bad("video", rel, "the metadata has no properties.video to render it from")
        return
    with tempfile.TemporaryDirectory(prefix=".verify.", dir=root) as tmp:
        traits = {**props["traits"], **params["facts"]}
        v = render_from_release(root, t["assets"], traits, params, Path(tmp) / "v.mp4")
    if v.sha256 == sha256_file(root / rel):
        report.ok("video", rel, f"re-rendered: identical bytes ({v.n_frames} frames)")
    elif v.frames_sha256 == params.get("frames_sha256"):
        report.ok("video", rel, "re-rendered: identical frames (the file differs: another ffmpeg build?)")
    else:
        report.bad("video", rel, "renders different frames from the release's files")


def _request_problem(req: dict[str, Any], t: dict[str, Any]) -> str | None:
    """What is wrong with a token's recorded render request (``None`` when it can be replayed)."""
    kinds: dict[str, Any] = {"engine": str, "seed": int, "params": dict}
    for key, kind in kinds.items():
        if not isinstance(req.get(key), kind) or isinstance(req.get(key), bool):
            return f"{key} must be {kind.__name__}"
    if req.get("prompt") is not None and not isinstance(req["prompt"], str):
        return "prompt must be text"
    if req.get("stem") is not None and not isinstance(req["stem"], str):
        return "stem must be text"
    sec = req.get("seconds")
    if sec is not None and (isinstance(sec, bool) or not isinstance(sec, int | float) or not 0 < sec <= 3600):
        return "seconds must be a number in (0, 3600]"
    src = req.get("source")
    if src is not None and not (
        isinstance(src, dict) and isinstance(src.get("path"), str) and isinstance(src.get("sha256"), str)
        and (src.get("stems") is None or isinstance(src["stems"], str))
    ):
        return "source must have path and sha256"
    if not isinstance(t.get("assets", {}).get("lossless"), str):
        return "no lossless asset to compare with"
    return None
