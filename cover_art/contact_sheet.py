"""A contact sheet of covers across keys, moods and styles (``docs/cover-contact-sheet.jpg``).

Run:  python -m cover_art.contact_sheet docs/cover-contact-sheet.jpg

Each column is a short synthetic track (a chord progression in its key over a drum
pattern at its tempo) with matching traits; each row a style. The audio is synthesised
here with numpy so that the sheet is reproducible anywhere.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cover_art.motif import motif_from_audio
from cover_art.palette import parse_key
from cover_art.render import render
from cover_art.typography import font

SR = 22_050

_TRAITS = ("key", "tempo_bpm", "energy", "danceability", "brightness", "valence", "arousal",
           "percussiveness", "onset_rate_hz", "mood", "camelot")
TRACKS: list[dict[str, Any]] = [  # one column each: the traits of its synthetic track (_TRAITS in order)
    dict(zip(_TRAITS, row, strict=True))
    for row in (
        ("F# minor", 124, 0.8, 0.85, 0.5, 0.3, 0.7, 0.7, 4.2, "tense", "11A"),
        ("D major", 92, 0.35, 0.45, 0.7, 0.8, 0.3, 0.25, 2.0, "tender", "10B"),
        ("Bb minor", 172, 0.95, 0.35, 0.3, 0.15, 0.95, 0.9, 8.0, "aggressive", "3A"),
        ("E major", 118, 0.6, 0.75, 0.65, 0.7, 0.55, 0.5, 3.2, "happy", "12B"),
        ("C minor", 70, 0.2, 0.2, 0.25, 0.25, 0.15, 0.1, 1.0, "sad", "5A"),
        ("Ab major", 104, 0.5, 0.6, 0.55, 0.55, 0.45, 0.4, 2.6, "calm", "4B"),
    )
]
TRACKS[0].update(title="Night Swimming", artist="Ondine Vale")
STYLES = ("flow", "radial", "geometric", "waves")


def synth_track(traits: dict[str, Any], *, seconds: float = 12.0, seed: int = 0) -> np.ndarray:
    """A short stereo track in the traits' key and tempo: i–VI–III–VII (minor) or I–V–vi–IV (major)."""
    rng = np.random.default_rng(seed)
    key = parse_key(traits["key"])
    minor = key.mode == "minor"
    prog = [(0, 3, 7), (8, 12, 15), (3, 7, 10), (10, 14, 17)] if minor else \
           [(0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12)]
    n = int(seconds * SR)
    t = np.arange(n) / SR
    x = np.zeros(n)
    seg = n // len(prog)
    for i, chord in enumerate(prog):
        sl = slice(i * seg, (i + 1) * seg)
        for iv in chord:
            f = 440.0 * 2 ** ((48 + key.tonic + iv - 69) / 12)
            for h in range(1, 5):
                tilt = h ** (2.2 - traits["brightness"])  # brighter tracks keep more upper partials
                x[sl] += np.sin(2 * np.pi * f * h * t[sl] + rng.uniform(0, 6)) / tilt
    x *= 0.08 * (0.6 + 0.4 * np.sin(2 * np.pi * t / seconds * rng.uniform(1, 3)) ** 2)
    beat = 60.0 / traits["tempo_bpm"]
    hit = int(0.12 * SR)
    env = np.exp(-np.arange(hit) / SR * (40 - 25 * traits["percussiveness"]))
    for k in range(int(seconds / beat * 2)):
        if rng.random() > 0.35 + 0.65 * traits["energy"]:
            continue
        s = int(k * beat / 2 * SR)
        e = min(n, s + hit)
        burst = rng.standard_normal(hit) * env * (0.5 if k % 2 else 0.25) * traits["percussiveness"]
        x[s:e] += burst[: e - s]
    x = x / max(np.abs(x).max(), 1e-9) * 0.8
    return np.stack([x, np.roll(x, 37)]).astype(np.float32)


def build(out: Path, *, cell: int = 300, render_size: int = 1024) -> Path:
    """Render the grid (styles × tracks) and write it with captions to ``out``."""
    pad, caption = 14, 40
    cols, rows = len(TRACKS), len(STYLES)
    label_w = 0
    width = pad + cols * (cell + pad) + label_w
    height = pad + rows * (cell + pad) + caption + 30
    sheet = Image.new("RGB", (width, height), (18, 18, 20))
    draw = ImageDraw.Draw(sheet)
    cap_font = _pil_font("caps", 13)
    head_font = _pil_font("display", 15)
    for c, traits in enumerate(TRACKS):
        samples = synth_track(traits, seed=c)
        motif = motif_from_audio(samples, SR)
        x0 = pad + c * (cell + pad)
        draw.text((x0, pad), f"{traits['key']}", font=head_font, fill=(235, 235, 235))
        sub = f"{traits['mood']} · {traits['tempo_bpm']} BPM · energy {traits['energy']:.2f}"
        draw.text((x0, pad + 19), sub, font=cap_font, fill=(150, 150, 155))
        for r, style in enumerate(STYLES):
            y0 = pad + caption + r * (cell + pad)
            cover = render(traits, motif, style=style, seed=0, size=render_size,
                           title=traits.get("title") if r == 0 else None,
                           artist=traits.get("artist") if r == 0 else None)
            sheet.paste(cover.image().resize((cell, cell), Image.Resampling.LANCZOS), (x0, y0))
    for r, style in enumerate(STYLES):
        y0 = pad + caption + r * (cell + pad)
        draw.text((pad + 6, y0 + cell - 20), style, font=cap_font, fill=(255, 255, 255))
    draw.text((pad, height - 26), "songmint cover art: rows = styles (flow, radial, geometric, waves), "
              "columns = tracks; each cover is drawn from its track's key, traits and audio.",
              font=cap_font, fill=(150, 150, 155))
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, quality=90, optimize=True, progressive=True) if out.suffix.lower() in {".jpg", ".jpeg"} \
        else sheet.save(out)
    return out


def _pil_font(role: str, size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    path = font(role).path
    return ImageFont.truetype(path, size) if path else ImageFont.load_default()


def main() -> None:
    ap = argparse.ArgumentParser(description="Render the cover contact sheet.")
    ap.add_argument("out", type=Path, nargs="?", default=Path("docs/cover-contact-sheet.jpg"))
    ap.add_argument("--cell", type=int, default=300)
    args = ap.parse_args()
    t = time.perf_counter()
    path = build(args.out, cell=args.cell)
    print(f"wrote {path} in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
