"""cover_art: palette mapping, motif, determinism, distinctness, PNG validity and provenance."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from cover_art import (
    STYLE_NAMES,
    CoverArtError,
    motif_from_audio,
    palette_for,
    parse_key,
    read_provenance,
    render,
)
from cover_art.palette import HUE_OF_C, oklch, srgb_to_oklch, warm_shift
from cover_art.phash import distance, phash
from cover_art.png import encode_png, read_text_chunks
from tests import synth

TRAITS = {"key": "F# minor", "tempo_bpm": 124.0, "energy": 0.7, "danceability": 0.8, "brightness": 0.5,
          "valence": 0.3, "arousal": 0.6, "percussiveness": 0.6, "onset_rate_hz": 4.0, "camelot": "11A",
          "mood": "tense"}
SIZE = 256


def _hue_distance(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


@pytest.fixture(scope="module")
def track_a():
    d = synth.drums(bpm=124, bars=2, seed=1)
    return synth.mix(d, synth.chord((54, 57, 61), seconds=d.duration))


@pytest.fixture(scope="module")
def track_b():
    d = synth.drums(bpm=124, bars=2, seed=2)
    return synth.mix(d, synth.chord((54, 57, 61, 66), seconds=d.duration, harmonics=6))


# --- palette -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "tonic", "mode"), [
    ("F# minor", 6, "minor"), ("Gb minor", 6, "minor"), ("Bb major", 10, "major"), ("A", 9, "major"),
    ("c#m", 1, "minor"), ("D dorian", 2, "dorian"), ("E♭ major", 3, "major")])
def test_parse_key(text: str, tonic: int, mode: str) -> None:
    k = parse_key(text)
    assert (k.tonic, k.mode) == (tonic, mode)


@pytest.mark.parametrize("bad", ["H major", "F# sideways", "", "minor"])
def test_parse_key_rejects_nonsense(bad: str) -> None:
    with pytest.raises(CoverArtError):
        parse_key(bad)


@pytest.mark.parametrize("mode", ["major", "minor"])
def test_tonic_hue_follows_the_circle_of_fifths(mode: str) -> None:
    names = ["C", "G", "D", "A", "E", "B", "F#", "C#", "G#", "D#", "A#", "F"]  # clockwise
    warmth = 0.75 if mode == "major" else -0.6
    hues = []
    for steps, name in enumerate(names):
        pal = palette_for({"key": f"{name} {mode}"})
        expected = warm_shift((HUE_OF_C + 30.0 * steps) % 360.0, warmth)
        assert _hue_distance(pal.hue, expected) < 1e-9
        # The rendered tonic colour keeps its hue through gamut mapping (chroma is reduced, not hue).
        _, C, h = srgb_to_oklch(pal.tonic)
        assert C > 0.04
        assert _hue_distance(h, expected) < 4.0, (name, h, expected)
        hues.append(h)
    # Neighbours on the circle are neighbours in hue: each step turns 30° ± the warmth shift.
    steps = [(b - a) % 360.0 for a, b in zip(hues, hues[1:] + hues[:1], strict=True)]
    assert all(10.0 < s < 50.0 for s in steps), steps


def test_enharmonic_keys_share_a_palette() -> None:
    assert palette_for({"key": "F# minor"}) == palette_for({"key": "Gb minor"})


def test_mode_sets_warmth_and_contrast() -> None:
    major = palette_for({"key": "A major"})
    minor = palette_for({"key": "A minor"})
    assert major.warmth > 0 > minor.warmth
    # Warm modes turn hues towards orange (60°), cool ones towards blue (250°).
    base = (HUE_OF_C + 30.0 * 3) % 360.0
    assert _hue_distance(major.hue, 60.0) < _hue_distance(base, 60.0)
    assert _hue_distance(minor.hue, 250.0) < _hue_distance(base, 250.0)
    # Minor: dark ground, luminous figures; major: light ground.
    lum = lambda rgb: srgb_to_oklch(rgb)[0]  # noqa: E731
    assert minor.dark and not major.dark
    assert lum(minor.ground) < 0.35 < 0.8 < lum(major.ground)
    assert lum(minor.tonic) - lum(minor.ground) > 0.4


def test_oklch_is_in_gamut_and_round_trips() -> None:
    for h in range(0, 360, 15):
        rgb = oklch(0.7, 0.4, h)  # far out of gamut: chroma must be reduced
        assert all(0.0 <= v <= 1.0 for v in rgb)
        assert _hue_distance(srgb_to_oklch(rgb)[2], h) < 3.0
    L, C, h = srgb_to_oklch(oklch(0.6, 0.05, 200.0))
    assert math.isclose(L, 0.6, abs_tol=5e-3) and math.isclose(C, 0.05, abs_tol=5e-3)


def test_rendered_cover_follows_the_key(track_a) -> None:
    """Major keys give light covers, minor keys dark ones, and the hue follows the key."""
    light = render({**TRAITS, "key": "D major", "valence": 0.6}, track_a, style="geometric", size=SIZE)
    dark = render({**TRAITS, "key": "D minor", "valence": 0.6}, track_a, style="geometric", size=SIZE)
    mean = lambda c: np.asarray(c.image(), dtype=float).mean()  # noqa: E731
    assert mean(light) > mean(dark) + 60
    assert read_provenance(light.png)["palette"] == palette_for({**TRAITS, "key": "D major",
                                                                 "valence": 0.6}).to_dict()


# --- motif ---------------------------------------------------------------------------------

def test_motif_reads_the_track() -> None:
    a = synth.chord((57, 60, 64), seconds=3.0)  # A minor triad: A, C, E
    m = motif_from_audio(a.samples, a.sr)
    top3 = set(np.argsort(m.chroma_mean)[-3:].tolist())
    assert top3 == {9, 0, 4}
    assert m.envelope.shape == (256,) and np.isclose(m.envelope.max(), 1.0)
    assert m.spectrum.shape == (256, 48) and m.spectrum.min() >= 0.0 and m.spectrum.max() <= 1.0
    clicks = synth.clicks(bpm=120, seconds=4.0)
    mc = motif_from_audio(clicks.samples, clicks.sr)
    # A click track has sparse, spiky onsets; a sustained chord has nearly none.
    assert np.sum(mc.onsets > 0.5) >= 4
    assert float(np.median(m.onsets)) < 0.2


def test_motif_rejects_empty_audio() -> None:
    with pytest.raises(CoverArtError):
        motif_from_audio(np.zeros((1, 0), np.float32), 44_100)


# --- determinism, distinctness -------------------------------------------------------------

@pytest.mark.parametrize("style", STYLE_NAMES)
def test_same_inputs_same_bytes(style: str, track_a) -> None:
    a = render(TRAITS, track_a, style=style, seed=3, size=SIZE)
    b = render(dict(TRAITS), track_a, style=style, seed=3, size=SIZE)
    assert a.png == b.png and a.thumbnail == b.thumbnail
    c = render(TRAITS, track_a, style=style, seed=4, size=SIZE)
    assert c.png != a.png


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_equal_traits_different_tracks_look_different(style: str, track_a, track_b) -> None:
    a = render(TRAITS, track_a, style=style, seed=0, size=SIZE)
    b = render(TRAITS, track_b, style=style, seed=0, size=SIZE)
    assert a.provenance["audio_sha256"] != b.provenance["audio_sha256"]
    assert distance(phash(a.png), phash(b.png)) >= 12
    # pHash itself is a fair judge: the same cover at another size hashes (almost) the same.
    assert distance(phash(a.png), phash(a.thumbnail)) <= 4


def test_phash_separates_unrelated_pictures() -> None:
    rng = np.random.default_rng(0)
    x = (rng.random((64, 64, 3)) * 255).astype(np.uint8)
    y = (rng.random((64, 64, 3)) * 255).astype(np.uint8)
    assert distance(phash(Image.fromarray(x)), phash(Image.fromarray(x))) == 0
    assert distance(phash(Image.fromarray(x)), phash(Image.fromarray(y))) > 16


# --- the PNG -------------------------------------------------------------------------------

def test_png_is_valid_with_provenance_and_thumbnail(track_a) -> None:
    c = render(TRAITS, track_a, style="flow", seed=1, title="Night Swimming", artist="Ondine Vale")
    assert c.size == 2048
    img = Image.open(io.BytesIO(c.png))
    img.verify()  # CRCs and structure
    img = Image.open(io.BytesIO(c.png))
    assert (img.format, img.size, img.mode) == ("PNG", (2048, 2048), "RGB")
    img.load()
    thumb = Image.open(io.BytesIO(c.thumbnail))
    assert thumb.size == (512, 512)
    prov = read_provenance(c.png)
    assert prov == c.provenance == read_provenance(c.thumbnail)
    assert prov["style"] == "flow" and prov["seed"] == 1 and prov["size"] == 2048
    assert prov["traits"]["key"] == "F# minor" and prov["title"] == "Night Swimming"
    assert len(prov["audio_sha256"]) == 64
    assert prov["fonts"]["display"]["sha256"] is None or len(prov["fonts"]["display"]["sha256"]) == 64
    assert "songmint:provenance" in img.info
    assert b"tIME" not in c.png  # no timestamps


def test_png_writer_round_trips_pixels_and_text() -> None:
    x = np.random.default_rng(5).integers(0, 256, (31, 47, 3), dtype=np.uint8)
    data = encode_png(x, text={"k": "ünïcode ✓"})
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), x)
    assert read_text_chunks(data) == {"k": "ünïcode ✓"}


def test_traits_only_render_uses_the_seed() -> None:
    a = render(TRAITS, style="waves", seed=1, size=SIZE)
    b = render(TRAITS, style="waves", seed=2, size=SIZE)
    assert a.provenance["audio_sha256"] is None and a.provenance["motif"] == "synthetic:1"
    assert distance(phash(a.png), phash(b.png)) >= 8


# --- errors --------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "match"), [
    ({"style": "cubism"}, "unknown style"), ({"size": 10}, "size"), ({"seed": -1}, "seed")])
def test_bad_arguments_are_user_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(CoverArtError, match=match):
        render(TRAITS, **{"size": SIZE, **kwargs})


def test_traits_need_a_key() -> None:
    with pytest.raises(CoverArtError, match="key"):
        render({"tempo_bpm": 120}, size=SIZE)
    with pytest.raises(CoverArtError):
        render(42, size=SIZE)  # type: ignore[arg-type]


def test_save_writes_cover_and_thumbnail_atomically(tmp_path, track_a) -> None:
    c = render(TRAITS, track_a, style="radial", size=SIZE)
    png, thumb = c.save(tmp_path / "out" / "cover.png")
    assert png.read_bytes() == c.png and thumb.name == "cover.thumb.png"
    assert thumb.read_bytes() == c.thumbnail
    assert sorted(p.name for p in png.parent.iterdir()) == ["cover.png", "cover.thumb.png"]


def test_render_accepts_a_traits_object(track_a) -> None:
    from music.traits import Traits

    full = {"duration_s": 7.74, "sample_rate": 44100, "channels": 2, "tempo_bpm": 124.1,
            "tempo_confidence": 0.84, "time_signature": "4/4", "key": "F# minor", "key_confidence": 0.83,
            "camelot": "11A", "open_key": "4m", "tuning_hz": 440.0, "loudness_lufs": -17.2,
            "loudness_range_lu": 0.1, "true_peak_dbtp": -3.4, "dynamic_complexity_db": 0.3, "energy": 0.64,
            "brightness_hz": 1064.4, "brightness": 0.48, "danceability": 0.9, "onset_rate_hz": 4.1,
            "percussiveness": 0.24, "chord_change_rate": 0.0, "valence": 0.28, "arousal": 0.57,
            "mood": "tense", "stems": {}}
    traits = Traits.from_dict(full)
    from_object = render(traits, track_a, style="geometric", size=SIZE)
    from_mapping = render({k: full[k] for k in full if k != "stems"}, track_a, style="geometric", size=SIZE)
    assert from_object.png == from_mapping.png
    assert from_object.provenance["traits"]["mood"] == "tense"
    assert "tempo_confidence" not in from_object.provenance["traits"]  # only the traits a cover reads


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_degenerate_audio_still_renders(style: str) -> None:
    """Silence, a 50 ms blip and mono noise are valid tracks: each still gets a cover."""
    blip = synth.tone(880.0, seconds=0.05)
    for audio in (synth.silence(seconds=1.0), blip, synth.noise(seconds=1.0, channels=1)):
        c = render({"key": "C major"}, audio, style=style, size=96)
        img = Image.open(io.BytesIO(c.png))
        assert img.size == (96, 96)
        assert np.asarray(img).std() > 1.0  # not a blank square


def _image_hue(png: bytes) -> float:
    """Chroma-weighted circular mean OKLCH hue of a picture's pixels (degrees)."""
    from cover_art.palette import _M1, _M2, _srgb_to_linear

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB").resize((64, 64)), dtype=float) / 255.0
    lab = np.cbrt(_srgb_to_linear(rgb.reshape(-1, 3)) @ _M1.T) @ _M2.T
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    angle = np.arctan2(lab[:, 2], lab[:, 1])
    return math.degrees(math.atan2((chroma * np.sin(angle)).sum(), (chroma * np.cos(angle)).sum())) % 360.0


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_rendered_hue_follows_the_circle_of_fifths(style: str) -> None:
    """Keys a tritone apart (C and F#: opposite on the circle) give pictures of opposite hue."""
    d = synth.drums(bpm=124, bars=1, seed=3)
    tracks = {"C major": synth.mix(d, synth.chord((60, 64, 67), seconds=d.duration)),
              "F# major": synth.mix(d, synth.chord((66, 70, 73), seconds=d.duration))}
    covers = {k: render({**TRAITS, "key": k}, a, style=style, size=128) for k, a in tracks.items()}
    hues = {k: _image_hue(c.png) for k, c in covers.items()}
    for k, c in covers.items():
        assert _hue_distance(hues[k], c.palette.hue) < 50.0, (k, hues[k], c.palette.hue)
    assert _hue_distance(hues["C major"], hues["F# major"]) > 110.0
