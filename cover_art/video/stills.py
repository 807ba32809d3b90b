"""Stills of every treatment × style from one take, as one JPEG sheet (for docs/video.md).

Run:  python -m cover_art.video.stills TAKE_FOLDER docs/video-stills.jpg [--tile 360] [--time 6.0]
      python -m cover_art.video.stills TAKE_FOLDER docs/video-vertical.jpg --vertical
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

from cover_art.styles import STYLES
from cover_art.video.clip import prepare_frames
from cover_art.video.treatments import TREATMENTS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("take", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--tile", type=int, default=360)
    ap.add_argument("--time", type=float, default=6.0, help="Seconds into the clip.")
    ap.add_argument("--vertical", action="store_true", help="One 9:16 still per treatment instead.")
    args = ap.parse_args()
    from music import audio as aio
    from music.takes import read_take_json
    from music.traits import extract

    doc = read_take_json(args.take)
    mix = aio.load(args.take / doc["mix"])
    stems = {n: aio.load(args.take / r) for n, r in doc["stems"].items()}
    traits = extract(mix)
    fps = 30.0
    k = int(args.time * fps)
    size = (540, 960) if args.vertical else (540, 540)
    styles = ("flow",) if args.vertical else tuple(STYLES)
    tiles = []
    for style in styles:
        row = []
        for treatment in TREATMENTS:
            fr = prepare_frames(traits=traits, audio=mix, stems=stems, beats=traits.beats, style=style,
                                treatment=treatment, size=size, fps=fps, max_frames=k + 1)
            img = Image.fromarray(fr.rgb(k))
            tw = args.tile
            row.append(img.resize((tw, round(tw * size[1] / size[0])), Image.Resampling.LANCZOS))
        tiles.append(row)
    w, h = tiles[0][0].size
    sheet = Image.new("RGB", (w * len(TREATMENTS), h * len(styles)), "white")
    for r, row in enumerate(tiles):
        for c, img in enumerate(row):
            sheet.paste(img, (c * w, r * h))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, quality=80, optimize=True)
    print(f"wrote {args.out} ({sheet.size[0]}x{sheet.size[1]})")


if __name__ == "__main__":
    main()
