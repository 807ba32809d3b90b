"""The hostile-input corpus: malformed audio files, specs and manifests, generated (never stored).

Everything is tiny (a second of audio or less, 8 kHz where the rate does not matter) so that
the suite in ``tests/test_hostile_suite.py`` runs every command over it in well under two
minutes. :func:`make_corpus` writes the files; the lists below name the inputs.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import numpy as np
import soundfile as sf

from music.audio import Audio, encode, save
from tests import synth


def _wav_float(x: np.ndarray, sr: int) -> bytes:
    """A 32-bit float WAV of ``x`` (channels, n), written as is: NaN and inf survive."""
    buf = io.BytesIO()
    sf.write(buf, x.T, sr, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def _wav_header_rate(data: bytes, sr: int) -> bytes:
    """``data`` (a WAV) with its sample rate field rewritten (rates libsndfile will not write)."""
    b = bytearray(data)
    channels, bits = struct.unpack_from("<H", b, 22)[0], struct.unpack_from("<H", b, 34)[0]
    struct.pack_into("<I", b, 24, sr)
    struct.pack_into("<I", b, 28, sr * channels * bits // 8)
    return bytes(b)


def audio_files(folder: Path) -> dict[str, Path]:
    """Write the malformed (and a few good) audio files; name -> path. ``missing.wav`` is not written."""
    folder.mkdir(parents=True, exist_ok=True)
    good = synth.mix(synth.drums(bpm=120, bars=1, sr=8000), synth.chord(seconds=2.0, sr=8000))
    good_wav = encode(good, "wav")
    tone = synth.tone(seconds=1.0, sr=8000, channels=2)
    files: dict[str, bytes | None] = {
        "good.wav": good_wav,
        "good.flac": encode(good, "flac"),
        "good.mp3": encode(tone, "mp3"),
        "mono.wav": encode(synth.tone(seconds=1.0, sr=8000), "wav"),
        "empty.wav": b"",
        "garbage.wav": bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)),
        "header-only.wav": good_wav[:44],
        "truncated.wav": good_wav[: len(good_wav) // 3],
        "truncated.flac": encode(good, "flac")[:200],
        "truncated.mp3": encode(tone, "mp3")[:300],
        "text.mp3": b"ID3 but really just some text\n" * 10,
        "json.wav": json.dumps({"not": "audio"}).encode(),
        "png.wav": b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
        "nan.wav": _wav_float(np.full((2, 800), np.nan, np.float32), 8000),
        "inf.wav": _wav_float(np.array([[0.1, np.inf] * 400] * 2, np.float32), 8000),
        "ch8.wav": encode(Audio(np.full((8, 8000), 0.05, np.float32), 8000), "wav"),
        "rate1000.wav": _wav_header_rate(good_wav, 1000),
        "rate999999.wav": _wav_header_rate(good_wav, 999_999),
        "ten-samples.wav": encode(Audio(np.full((2, 10), 0.1, np.float32), 8000), "wav"),
        "silent.wav": encode(Audio(np.zeros((2, 8000), np.float32), 8000), "wav"),
        "clipped.wav": encode(Audio(np.ones((2, 8000), np.float32), 8000), "wav"),
        "o[/x].wav": encode(tone, "wav"),  # a folder "o[" holding "x].wav": rich reads "[/x]" as a tag
        "夜のハウス.wav": encode(tone, "wav"),
        "folder.wav": None,
    }
    paths = {}
    for name, data in files.items():
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if data is None:
            p.mkdir(exist_ok=True)
        else:
            p.write_bytes(data)
        paths[name] = p
    paths["missing.wav"] = folder / "missing.wav"
    return paths


def junk_folder(folder: Path) -> Path:
    """A folder of audio files none of which decodes (training samples, a traits walk)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.wav").write_bytes(b"")
    (folder / "garbage.flac").write_bytes(b"fLaC" + b"\1" * 300)
    (folder / "nan.wav").write_bytes(_wav_float(np.full((1, 800), np.nan, np.float32), 8000))
    return folder


def stems_folders(folder: Path) -> dict[str, Path]:
    """Stem folders for spec cases: 8-channel, mono, empty, a file where a folder should be."""
    out = {}
    for name, ch in (("stems8", 8), ("stems-mono", 1)):
        d = folder / name
        d.mkdir(parents=True, exist_ok=True)
        save(Audio(np.full((ch, 16000), 0.05, np.float32), 8000), d / "pad.wav")
        out[name] = d
    (folder / "stems-empty").mkdir(exist_ok=True)
    out["stems-empty"] = folder / "stems-empty"
    return out


SPEC_BASE = """\
[collection]
name = "Hostile EP"
symbol = "HOS"
{collection}

[defaults]
artist = "Tester"

[[tracks]]
id = "one"
title = "One"
file = "{mix}"
{track}

[network]
name = "memory"
"""

ZERO = "0x0000000000000000000000000000000000000000"

SPEC_VARIANTS: dict[str, dict[str, str]] = {
    "nan preview": {"track": "preview_seconds = nan"},
    "inf preview": {"track": "preview_seconds = inf"},
    "short preview": {"track": "preview_seconds = 1"},
    "zero receiver": {"collection": f'royalty_bps = 500\nroyalty_receiver = "{ZERO}"'},
    "bad checksum": {
        "collection": 'royalty_bps = 5\nroyalty_receiver = "0x5FbDB2315678afecb367f032d93F642f64180aA3"'
    },
    "short address": {"collection": 'royalty_bps = 5\nroyalty_receiver = "0xabc"'},
    "royalty 20000": {"collection": "royalty_bps = 20000"},
    "royalty -1": {"collection": "royalty_bps = -1"},
    "royalty float": {"collection": "royalty_bps = 2.5"},
    "zero contract": {"collection": f'contract = "{ZERO}"'},
    "image passwd": {"collection": 'image = "../../../../../etc/passwd"'},
    "image text": {"collection": 'image = "{text_png}"'},
    "image folder": {"collection": 'image = "."'},
    "javascript url": {"track": 'external_url = "javascript:alert(1)"'},
    "data link": {"collection": 'external_link = "data:text/html,x"'},
    "http link": {"collection": 'external_link = "http://example.org"'},
    "8ch stems": {"track": 'stems = "{stems8}"'},
    "empty stems": {"track": 'stems = "{stems_empty}"', "valid": "yes"},
    "stems is a file": {"track": 'stems = "{mix}"'},
    "garbage mix": {"mix": "garbage"},
    "empty mix": {"mix": "empty"},
    "nan mix": {"mix": "nan"},
    "ch8 mix": {"mix": "ch8", "valid": "yes"},  # 8 channels of audio are a valid mix
    "missing mix": {"mix": "missing"},
    "folder mix": {"mix": "folder"},
    "outside mix": {"track": 'file = "../../etc/hostname"', "mix": "-"},
    "cap 0": {"track": "editions = { cap = 0 }"},
    "initial over cap": {"track": "editions = { cap = 2, initial = 3 }"},
    "zero recipient": {"track": f'editions = {{ cap = 2, recipient = "{ZERO}" }}'},
    "token id 0": {"track": "token_id = 0"},
    "token id huge": {"track": "token_id = 9007199254740993"},
    "title int": {"track": "tags = 5"},
    "credits text": {"track": 'credits = "me"'},
    "unknown key": {"track": "colour = 1"},
    "bad symbol": {"collection": "", "symbol": "!!"},
    "both file and generate": {"track": '[tracks.generate]\nengine = "composer"'},
    "seconds over composer": {"track": '[tracks.generate]\nengine = "composer"\nseconds = 1500', "mix": "-"},
    "seconds nan": {"track": '[tracks.generate]\nengine = "composer"\nseconds = nan', "mix": "-"},
    "seconds zero": {"track": '[tracks.generate]\nengine = "composer"\nseconds = 0', "mix": "-"},
    "unknown engine": {"track": '[tracks.generate]\nengine = "nosuch"', "mix": "-"},
    "params not a table": {"track": '[tracks.generate]\nengine = "composer"\nparams = 5', "mix": "-"},
    "seed negative": {"track": '[tracks.generate]\nengine = "composer"\nseed = -1', "mix": "-"},
    "toml syntax": {"raw": "[collection\nname = "},
    "not utf-8": {"raw": "\udcff"},
    "empty spec": {"raw": ""},
    "no tracks": {"raw": '[collection]\nname = "x"\nsymbol = "X"\n'},
    "tracks not a list": {"raw": '[collection]\nname = "x"\nsymbol = "X"\ntracks = 5\n'},
    "spec_version 2": {"raw": 'spec_version = 2\n[collection]\nname = "x"\nsymbol = "X"\n'},
    "network bogus": {"raw_network": 'name = "bogus"'},
    "network url without id": {"raw_network": 'name = "http://127.0.0.1:9"'},
    "storage bogus": {"extra": '[storage]\nbackend = "s3"'},
    "storage kubo no url": {"extra": '[storage]\nbackend = "kubo"'},
}
"""Spec variants, each a way a careless or hostile author writes a spec; all but those marked
``valid`` must be refused with one line."""


def spec_text(name: str, corpus: dict[str, Path], stems: dict[str, Path], text_png: Path) -> str | bytes:
    """The text of spec variant ``name`` (bytes for the not-UTF-8 one)."""
    v = SPEC_VARIANTS[name]
    if "raw" in v:
        return b"\xff\xfe[collection]" if v["raw"] == "\udcff" else v["raw"]
    mix = v.get("mix", "good")
    mix_path = "" if mix == "-" else str(corpus[f"{mix}.wav"])
    subs = {
        "stems8": str(stems["stems8"]),
        "stems_empty": str(stems["stems-empty"]),
        "mix": mix_path,
        "text_png": str(text_png),
    }

    def fill(fragment: str) -> str:
        for key, value in subs.items():
            fragment = fragment.replace("{" + key + "}", value)
        return fragment

    text = SPEC_BASE.format(
        collection=fill(v.get("collection", "")), mix=mix_path, track=fill(v.get("track", ""))
    )
    if mix == "-":
        text = text.replace('file = ""\n', "")
    if "symbol" in v:
        text = text.replace('symbol = "HOS"', f'symbol = "{v["symbol"]}"')
    if "raw_network" in v:
        text = text.replace('name = "memory"', v["raw_network"])
    if "extra" in v:
        text += v["extra"] + "\n"
    return text
