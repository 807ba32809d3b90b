"""A synthetic release folder (manifest + assets) for the preview tests.

It does not run the pipeline: it writes what ``songmint release`` writes for two tokens
with stems, from :mod:`tests.synth` audio and flat-colour covers.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

from PIL import Image

from music.audio import encode
from songmint.preview import waveform_peaks
from tests import synth


def _png(color: tuple[int, int, int], size: int) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", (size, size), color)
    for i in range(size):  # a diagonal stripe, so screenshots show something
        img.putpixel((i, i), (255, 255, 255))
    img.save(buf, format="PNG")
    return buf.getvalue()


def make_release(root: Path, *, seconds: float = 4.0) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    tokens = []
    for n, (slug, title, bpm, notes, color) in enumerate([
        ("alpha", "Alpha Wave", 120, (57, 60, 64), (200, 90, 60)),
        ("beta", "Beta Drift", 96, (50, 53, 57), (60, 110, 200)),
    ], start=1):
        bars = max(1, round(seconds * bpm / 240))
        drums = synth.drums(bpm=bpm, bars=bars)
        chords = synth.chord(notes, seconds=drums.duration)
        mix = synth.mix(drums, chords)
        folder = root / "assets" / slug
        (folder / "stems").mkdir(parents=True)
        files = {
            "mix": (folder / f"{slug}.mp3", encode(mix, "mp3")),
            "cover": (folder / "cover.png", _png(color, 256)),
            "thumbnail": (folder / "cover-512.png", _png(color, 64)),
            "stem:drums": (folder / "stems" / "drums.mp3", encode(drums, "mp3")),
            "stem:chords": (folder / "stems" / "chords.mp3", encode(chords, "mp3")),
        }
        for path, data in files.values():
            path.write_bytes(data)
        token_id = 1000 + n
        tokens.append({
            "id": token_id, "id_hex": f"{token_id:064x}", "track": slug, "number": n, "kind": "track",
            "title": title, "artist": "Test Artist", "genre": "test", "license": "CC-BY-4.0",
            "key": "A minor" if n == 1 else "D minor", "camelot": "8A" if n == 1 else "7A", "bpm": float(bpm),
            "duration_s": mix.duration, "cap": 10 * n, "initial": 2, "minted": 2,
            "recipient": "0x" + "ab" * 20, "txs": ["0x" + f"{n:02x}" * 32],
            "metadata_path": f"metadata/{token_id:064x}.json", "metadata_uri": f"ipfs://bafytest/{token_id:064x}.json",
            "assets": {role: str(path.relative_to(root)) for role, (path, _) in files.items()},
            "traits": [
                {"key": "key", "label": "Key", "value": "A minor", "display": "A minor", "rarity": 0.5},
                {"key": "tempo_bpm", "label": "Tempo", "value": bpm, "display": f"{bpm} BPM", "rarity": 0.5},
                {"key": "mood", "label": "Mood", "value": "calm", "display": "calm", "rarity": 1.0},
            ],
            "rarity_score": 2.0 + n, "waveform": waveform_peaks(mix.samples), "stem_gain": 1.0,
        })
    manifest = {
        "songmint_manifest": 1,
        "collection": {"name": "Synthetic EP", "symbol": "SYN", "description": "Made by the tests."},
        "chain": {"network": "memory", "chain_id": 131277322940537, "contract": "0x" + "cd" * 20},
        "root_cid": "bafytest", "dry_run": False, "tokens": tokens,
        "assets": [{"path": p, "sha256": hashlib.sha256((root / p).read_bytes()).hexdigest()}
                   for t in tokens for p in t["assets"].values()],
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return root
