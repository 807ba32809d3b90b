# ruff: noqa: E501  (the traits fixture and the parametrised key table read best whole)
"""music.traits.table / keys / mood: one trait table, readable attributes, keys spelled as written,
mood from more than the mode, and the evaluation set's split and annotation."""

from __future__ import annotations

import numpy as np
import pytest

from music.takes import file_stem
from music.traits import MOODS, TraitsError, mood
from music.traits.keys import as_written, conventional, key_slug, parse_key, spell_key
from music.traits.table import (
    BUYER_TRAITS,
    TRAITS,
    display_value,
    opensea_attributes,
    rarity_bin,
    round_value,
    unsure_text,
)
from songmint import stages

RAW = {"key": "A# minor", "camelot": "3A", "open_key": "8m", "tempo_bpm": 199.96, "time_signature": "4/4",
       "mood": "calm", "energy": 0.6982942431406336, "danceability": 0.5, "valence": 0.41, "arousal": 0.3,
       "brightness": 0.5, "percussiveness": 0.2, "loudness_lufs": -14.002178138545322, "loudness_range_lu": 5.33,
       "duration_s": 92.4, "tuning_hz": 438.69874763700903, "brightness_hz": 1234.5, "tempo_confidence": 0.8,
       "key_confidence": 0.6, "sample_rate": 44100, "channels": 2, "tempo_alt_bpm": 100.0,
       "tempo_alt_weight": 0.3, "key_alt": "C# major", "key_alt_weight": 0.3, "stems": {}}


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize(("text", "name", "tonic", "mode"), [
    ("Bb major", "Bb major", 10, "major"), ("Eb minor", "Eb minor", 3, "minor"), ("ebm", "Eb minor", 3, "minor"),
    ("B flat minor", "Bb minor", 10, "minor"), ("F# min", "F# minor", 6, "minor"), ("A", "A major", 9, "major"),
    ("Bb-major", "Bb major", 10, "major"), ("Fsharp-minor", "F# minor", 6, "minor"), ("D♭ major", "Db major", 1, "major"),
])
def test_parse_key_keeps_the_spelling(text: str, name: str, tonic: int, mode: str) -> None:
    k = parse_key(text)
    assert (k.name, k.tonic, k.mode) == (name, tonic, mode)
    assert as_written(text) == name


def test_parse_key_refuses_non_keys() -> None:
    for bad in ("H major", "C lydian", "", "Bb#", 5):
        with pytest.raises(TraitsError, match="not a key name"):
            parse_key(bad)  # type: ignore[arg-type]


def test_conventional_spelling_by_key_signature() -> None:
    majors = [spell_key(pc, "major").split()[0] for pc in range(12)]
    minors = [spell_key(pc, "minor").split()[0] for pc in range(12)]
    assert majors == ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    assert minors == ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"]
    assert conventional("A# major") == "Bb major" and conventional("E# major") == "F major"
    assert conventional("D# minor") == "Eb minor" and conventional("A# minor") == "Bb minor"
    assert parse_key("Bb major").same_as(parse_key("A# major"))
    assert parse_key("Bb minor").camelot == "3A" and parse_key("A# minor").open_key == "8m"


def test_file_names_spell_flats() -> None:
    assert key_slug("A# major") == "Bb-major" and key_slug("F# minor") == "Fsharp-minor"
    assert file_stem("Night Drive", 124, "A# major") == "night-drive_124bpm_Bb-major"
    assert file_stem("x", 90.5, "D# minor") == "x_90.5bpm_Eb-minor"
    assert file_stem("x", None, "not a key") == "x_not-a-key"


# --------------------------------------------------------------------------- the table


def test_one_table_feeds_the_release_stages() -> None:
    assert set(stages.TRAIT_LABELS) == set(BUYER_TRAITS)
    for internal in ("tempo_confidence", "key_confidence", "sample_rate", "channels", "tempo_alt_weight"):
        assert internal in stages.INTERNAL_TRAITS and internal not in stages.TRAIT_LABELS
    assert stages.TRAIT_LABELS["loudness_lufs"] == ("Loudness", "LUFS")
    # one loudness bin width, shared by the badges and the collection rarity (3 LU)
    from music.traits.collection import loudness_bin

    assert TRAITS["loudness_lufs"].rarity_bin == 3.0
    assert rarity_bin("loudness_lufs", -13.9) == "-15–-12" and loudness_bin(-13.9) == "-15 to -12 LUFS"
    assert stages._bin("tempo_bpm", 124.6) == "120–130"


def test_values_at_meaningful_precision() -> None:
    assert round_value("tempo_bpm", 199.96) == 200 and isinstance(round_value("tempo_bpm", 199.96), int)
    assert round_value("tempo_bpm", 122.44) == 122.4
    assert round_value("energy", 0.6982942431406336) == 0.7
    assert round_value("loudness_lufs", -14.002178138545322) == -14.0
    assert round_value("tuning_hz", 438.69874763700903) == 439
    assert round_value("key", "A# minor") == "Bb minor"
    assert display_value("loudness_lufs", -14.0021) == "-14.0 LUFS"
    assert display_value("tempo_bpm", 124.0) == "124 BPM" and display_value("tempo_bpm", None) == "no pulse"
    assert display_value("energy", 0.6982) == "0.70" and display_value("onset_rate_hz", 3.21) == "3.2/s"
    assert stages.display_value("tuning_hz", 438.7) == "439 Hz"


def test_opensea_attributes_a_person_can_read() -> None:
    attrs = opensea_attributes(RAW)
    by = {a["trait_type"]: a for a in attrs}
    assert by["Key"]["value"] == "Bb minor" and by["Key (or)"]["value"] == "Db major"
    assert by["Tempo (BPM)"] == {"trait_type": "Tempo (BPM)", "value": 200, "display_type": "number"}
    assert by["Tempo (or) (BPM)"]["value"] == 100
    assert by["Energy"] == {"trait_type": "Energy", "value": 0.7, "display_type": "number", "max_value": 1}
    assert by["Loudness (LUFS)"]["value"] == -14.0 and by["Tuning (Hz)"]["value"] == 439
    names = set(by)
    for hidden in ("Tempo confidence", "Key confidence", "Sample rate (Hz)", "Channels", "Spectral centroid (Hz)"):
        assert hidden not in names
    for a in attrs:  # no raw float with 15 digits anywhere
        v = a["value"]
        assert not isinstance(v, float) or len(repr(v).split(".")[-1]) <= 2, a
    assert "Sample rate (Hz)" in {a["trait_type"] for a in opensea_attributes(RAW, internal=True)}
    none = opensea_attributes(RAW | {"tempo_bpm": None, "tempo_alt_bpm": None, "key_alt": None})
    assert {"trait_type": "Tempo", "value": "no pulse"} in none
    assert not any(a["trait_type"].endswith("(or)") for a in none)


def test_unsure_text_names_the_runner_up() -> None:
    assert unsure_text(RAW) == {"tempo": "200 BPM (or 100 BPM)", "key": "Bb minor (or Db major)"}
    assert unsure_text({"tempo_bpm": 90.0, "key": "D minor"}) == {"tempo": "90 BPM", "key": "D minor"}


# --------------------------------------------------------------------------- mood


def test_mood_uses_more_than_the_mode() -> None:
    calm = dict(loudness_lufs=-14.0, tempo_bpm=78.0, onset_rate_hz=2.0, percussiveness=0.2)
    drive = dict(loudness_lufs=-9.0, tempo_bpm=140.0, onset_rate_hz=7.0, percussiveness=0.6)
    for minor_conf in (0.3, 0.9):
        v = mood.valence(major=False, key_confidence=minor_conf, tempo_bpm=78.0, brightness=0.45)
        assert mood.mood_label(v, mood.arousal(**calm)) in ("calm", "sad")  # slow minor: never tense
        v = mood.valence(major=False, key_confidence=minor_conf, tempo_bpm=140.0, brightness=0.3, tension_=0.6)
        assert mood.mood_label(v, mood.arousal(**drive)) == "tense"
    assert mood.arousal(**drive) > mood.arousal(**calm)
    chroma = np.zeros(12)
    chroma[[0, 2, 3, 5, 7, 8, 10]] = 1.0
    assert mood.tension(chroma, tonic=0, major=False) == 0.0
    chroma[[1, 4, 6, 9]] = 1.0  # every chromatic note as strong
    assert mood.tension(chroma, tonic=0, major=False) > 0.8
    assert set(MOODS) == {"happy", "tense", "sad", "calm"}


# --------------------------------------------------------------------------- evaluation set


def test_evaluation_set_is_broad_and_its_split_fixed() -> None:
    from benchmarks import traits_eval as ev

    clips = ev.synthetic_clips()
    assert len(clips) + 84 >= 300
    assert {c.family for c in clips} == set(ev.FAMILIES) and {c.arrangement for c in clips} == set(ev.ARRANGEMENTS)
    assert {c.soundfont for c in clips} == set(ev.SOUNDFONTS)
    held = [c for c in clips if c.held_out]
    assert 0.25 < len(held) / len(clips) < 0.42
    assert [c.held_out for c in ev.synthetic_clips()] == [c.held_out for c in clips]  # the same every run
    slow = [c for c in clips if c.arrangement == "slow-groove"]
    fast = [c for c in clips if c.arrangement == "double-time"]
    assert all(60 <= c.bpm <= 80 for c in slow) and all(160 <= c.bpm <= 180 for c in fast)
    ev_, _programs, length = ev.synthetic_events(clips[0])
    assert 15.0 <= length <= 31.0 and ev_ and all(0 <= n < 128 for _, _, n, _, _ in ev_)
