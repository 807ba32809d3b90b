"""The release pipeline's view of the stage libraries: traits, rarity, covers, thumbnails.

Each function calls the stage library (``music.traits``, ``cover_art``) and, only where that
library is not importable in this checkout, falls back to a small local implementation so
that a release still completes. Fallbacks are marked in provenance (``"fallback": true``)
so nothing pretends to be what it is not.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import math
from collections import Counter
from typing import Any

import numpy as np

from music.audio import Audio, resample

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Traits shown as attributes, with labels, units and bin widths for rarity of numeric values.
TRAIT_LABELS: dict[str, tuple[str, str]] = {
    "key": ("Key", ""),
    "camelot": ("Camelot", ""),
    "open_key": ("Open Key", ""),
    "tempo_bpm": ("Tempo", "BPM"),
    "time_signature": ("Time signature", ""),
    "mood": ("Mood", ""),
    "energy": ("Energy", ""),
    "danceability": ("Danceability", ""),
    "valence": ("Valence", ""),
    "arousal": ("Arousal", ""),
    "brightness": ("Brightness", ""),
    "brightness_hz": ("Spectral centroid", "Hz"),
    "percussiveness": ("Percussiveness", ""),
    "onset_rate_hz": ("Onset rate", "/s"),
    "chord_change_rate": ("Chord changes", "/s"),
    "loudness_lufs": ("Loudness", "LUFS"),
    "loudness_range_lu": ("Loudness range", "LU"),
    "true_peak_dbtp": ("True peak", "dBTP"),
    "dynamic_complexity_db": ("Dynamic complexity", "dB"),
    "duration_s": ("Duration", "s"),
    "tuning_hz": ("Tuning", "Hz"),
    "tempo_confidence": ("Tempo confidence", ""),
    "key_confidence": ("Key confidence", ""),
    "sample_rate": ("Sample rate", "Hz"),
    "channels": ("Channels", ""),
}
_BINS = {
    "tempo_bpm": 10.0,
    "loudness_lufs": 2.0,
    "loudness_range_lu": 2.0,
    "true_peak_dbtp": 1.0,
    "dynamic_complexity_db": 1.0,
    "duration_s": 30.0,
    "brightness_hz": 500.0,
    "tuning_hz": 2.0,
    "onset_rate_hz": 1.0,
    "chord_change_rate": 0.25,
}


def _optional(module: str, attr: str) -> Any:
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None


# --------------------------------------------------------------------------- traits


def extract_traits(audio: Audio, *, stems: dict[str, Audio] | None = None) -> dict[str, Any]:
    """Traits of a mix (and its stems) as a JSON-ready dict (``music.traits.extract(...).to_dict()``)."""
    extract = _optional("music.traits", "extract")
    if extract is not None:
        return dict(extract(audio, stems=stems or None).to_dict())
    return _fallback_traits(audio, stems or {})


def _fallback_traits(audio: Audio, stems: dict[str, Audio]) -> dict[str, Any]:
    """Basic traits with numpy only: level, brightness, a chroma key estimate, an ACF tempo."""
    from music import loudness

    y = resample(audio, 22_050).mono() if audio.sr != 22_050 else audio.mono()
    sr = 22_050
    n_fft, hop = 2048, 512
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(y, (0, n_fft)), n_fft)[::hop]
    spec = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=1)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    power = spec.sum(axis=1) + 1e-12
    centroid = float((spec @ freqs).sum() / power.sum())
    # Krumhansl–Kessler key profiles on a pitch-class profile from the power spectrum.
    valid = (freqs > 55) & (freqs < 2000)
    pcs = (np.round(12 * np.log2(freqs[valid] / 440.0)) + 9) % 12
    chroma = np.bincount(pcs.astype(int), weights=spec[:, valid].sum(axis=0), minlength=12)
    major = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
    minor = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
    scores = [
        (np.corrcoef(chroma, np.roll(p, t))[0, 1], t, m)
        for m, p in (("major", major), ("minor", minor))
        for t in range(12)
    ]
    best = max(scores)
    key = f"{NOTE_NAMES[best[1]]} {best[2]}"
    flux = np.maximum(np.diff(np.log1p(spec), axis=0), 0).sum(axis=1)
    flux = flux - flux.mean()
    fps = sr / hop
    acf = np.correlate(flux, flux, "full")[flux.size - 1 :]
    lags = np.arange(acf.size)
    ok = (lags >= fps * 60 / 200) & (lags <= fps * 60 / 60)
    tempo = float(60 * fps / lags[ok][np.argmax(acf[ok])]) if ok.any() and acf[0] > 0 else 0.0
    lufs = float(loudness.integrated_loudness(audio))
    lufs = lufs if math.isfinite(lufs) else -70.0
    energy = float(np.clip((lufs + 40) / 35, 0, 1))
    brightness = float(np.clip(math.log(max(centroid, 250) / 250) / math.log(20), 0, 1))
    tonic, mode = best[1], best[2]
    fifths = (tonic * 7) % 12 if mode == "major" else ((tonic + 3) * 7) % 12
    camelot = str((fifths + 7) % 12 + 1)  # C major = 8B, A minor = 8A
    out: dict[str, Any] = {
        "duration_s": round(audio.duration, 3),
        "sample_rate": audio.sr,
        "channels": audio.channels,
        "tempo_bpm": round(tempo, 2),
        "key": key,
        "camelot": camelot + ("B" if mode == "major" else "A"),
        "loudness_lufs": round(lufs, 2),
        "true_peak_dbtp": round(float(loudness.true_peak(audio)), 2),
        "energy": round(energy, 3),
        "brightness_hz": round(centroid, 1),
        "brightness": round(brightness, 3),
        "mood": ("happy" if mode == "major" else "tense")
        if energy > 0.5
        else ("calm" if mode == "major" else "sad"),
        "fallback": True,
    }
    if stems:
        out["stems"] = {
            name: {
                "loudness_lufs": round(float(loudness.integrated_loudness(s)), 2)
                if math.isfinite(loudness.integrated_loudness(s))
                else -70.0
            }
            for name, s in stems.items()
        }
    return out


# --------------------------------------------------------------------------- rarity


def _bin(key: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    width = _BINS.get(key, 0.1 if 0 <= value <= 1 else 1.0)
    lo = math.floor(value / width) * width
    return f"{lo:g}–{lo + width:g}"


def collection_rarity(traits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per token: ``{"frequency": {trait: share}, "score": float}`` across a release.

    The score and the frequencies of the attributes it ranks come from ``music.traits.rarity``
    (information content, bits). Every other shown trait still gets a frequency, so that each
    badge can say how common its value is: numeric traits are binned (``_BINS``), and a value's
    frequency is its share of the release. Without ``music.traits.rarity`` the score is the sum
    of ``1 / frequency`` (OpenSea-style statistical rarity, "one in N").
    """
    keys = [k for k in TRAIT_LABELS if any(k in t for t in traits)]
    n = len(traits)
    counts = {k: Counter(_bin(k, t.get(k)) for t in traits) for k in keys}
    ours = []
    for t in traits:
        freq = {k: counts[k][_bin(k, t.get(k))] / n for k in keys if k in t}
        ours.append({"frequency": freq, "score": round(sum(1 / f for f in freq.values()), 4)})
    fn = _optional("music.traits", "rarity")
    if fn is None:
        return ours
    try:
        result = fn(traits)
    except Exception:  # a release must not fail on a rarity detail: keep the local figures
        return ours
    if not (isinstance(result, list) and len(result) == len(traits)):
        return ours
    merged = []
    for theirs, local in zip((_normalise_rarity(r) for r in result), ours, strict=True):
        theirs["frequency"] = {**local["frequency"], **theirs["frequency"]}
        merged.append(theirs)
    return merged


def _normalise_rarity(r: Any) -> dict[str, Any]:
    if isinstance(r, dict) and "frequency" in r:
        return {"frequency": dict(r["frequency"]), "score": float(r.get("score", 0.0))}
    if hasattr(r, "frequencies"):  # music.traits.rarity: keyed by attribute name ("Key", "Tempo", ...)
        names = _optional("music.traits.collection", "ATTRIBUTES") or {}
        freq = {names[k][0] if k in names else k: float(v) for k, v in r.frequencies.items()}
        return {"frequency": freq, "score": round(float(r.score), 4), "rank": getattr(r, "rank", None),
                "bins": dict(getattr(r, "values", {}))}
    if hasattr(r, "frequency"):
        return {"frequency": dict(r.frequency), "score": float(getattr(r, "score", 0.0))}
    return {"frequency": {}, "score": 0.0}


def display_value(key: str, value: Any) -> str:
    unit = TRAIT_LABELS.get(key, ("", ""))[1]
    if isinstance(value, float):
        text = (
            f"{value:.0f}"
            if key in ("tempo_bpm", "brightness_hz")
            else f"{value:.2f}".rstrip("0").rstrip(".")
        )
    else:
        text = str(value)
    return f"{text} {unit}".strip() if unit and unit != "/s" else f"{text}{unit}"


# --------------------------------------------------------------------------- covers


def render_cover(
    traits: dict[str, Any],
    audio: Audio | None,
    *,
    style: str | None,
    seed: int,
    size: int,
    title: str | None = None,
    artist: str | None = None,
) -> tuple[bytes, bytes, dict[str, Any]]:
    """Cover PNG, 512 px thumbnail PNG and the parameters that made them."""
    render = _optional("cover_art", "render")
    if render is not None:
        kwargs: dict[str, Any] = {"seed": seed, "size": size}
        if style:
            kwargs["style"] = style
        cover = render(traits, audio, title=title, artist=artist, **kwargs)
        thumb = getattr(cover, "thumbnail", None)
        if not isinstance(thumb, bytes | bytearray):
            thumb = _thumbnail(cover.png, 512)
        params = {
            "style": getattr(cover, "style", style),
            "seed": seed,
            "size": size,
            "provenance": getattr(cover, "provenance", {}),
        }
        return bytes(cover.png), bytes(thumb), _jsonable(params)
    png = _fallback_cover(traits, audio, seed=seed, size=size)
    return png, _thumbnail(png, 512), {"style": "gradient", "seed": seed, "size": size, "fallback": True}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def _thumbnail(png: bytes, size: int) -> bytes:
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    img = img.resize((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def _fallback_cover(traits: dict[str, Any], audio: Audio | None, *, seed: int, size: int) -> bytes:
    """A key-coloured radial gradient with the waveform drawn across it (Pillow only)."""
    from PIL import Image, ImageDraw

    key = str(traits.get("key", "C major"))
    tonic = NOTE_NAMES.index(key.split()[0]) if key.split()[0] in NOTE_NAMES else 0
    hue = ((tonic * 7) % 12) / 12
    import colorsys

    minor = "minor" in key
    a = colorsys.hsv_to_rgb(hue, 0.65, 0.35 if minor else 0.55)
    b = colorsys.hsv_to_rgb((hue + 0.12 + seed * 0.01) % 1, 0.8, 0.95)
    yy, xx = np.mgrid[0:size, 0:size] / size
    t = np.clip(np.hypot(xx - 0.5, yy - 0.45) * 1.6, 0, 1)[..., None]
    rgb = (np.array(b) * (1 - t) + np.array(a) * t) * 255
    img = Image.fromarray(rgb.astype(np.uint8), "RGB")
    if audio is not None:
        draw = ImageDraw.Draw(img)
        y = audio.mono()
        pts = 256
        env = np.abs(y[: y.size // pts * pts].reshape(pts, -1)).max(axis=1)
        env = env / (env.max() or 1)
        for i, e in enumerate(env):
            x = int((i + 0.5) * size / pts)
            h = e * size * 0.18
            draw.line(
                [(x, size * 0.72 - h), (x, size * 0.72 + h)], fill=(255, 255, 255), width=max(1, size // 400)
            )
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def content_hash(*parts: bytes | str) -> str:
    """sha256 over length-prefixed parts (a cache key)."""
    h = hashlib.sha256()
    for p in parts:
        b = p.encode() if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return h.hexdigest()
