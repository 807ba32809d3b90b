"""The trait pipeline: one front-end pass, then each trait group on compact features."""

from __future__ import annotations

import math
from collections.abc import Mapping

from music.audio import Audio
from music.traits import descriptors, frontend, level, mood, rhythm, tonal
from music.traits.model import (
    LOUDNESS_FLOOR_LUFS,
    TRUE_PEAK_FLOOR_DBTP,
    Traits,
    TraitsError,
    camelot,
    open_key,
    parse_key,
)
from music.traits.stems import stem_traits


def extract(audio: Audio, *, stems: Mapping[str, Audio] | None = None) -> Traits:
    """Extract every trait of a clip (and of its stems, if given).

    Parameters
    ----------
    audio : Audio
        Any rate (4–384 kHz) and channel count. Analysis runs on a 22.05 kHz mono
        downmix; level traits on the full-rate, all-channel signal.
    stems : mapping of str to Audio, optional
        Named stems of the same piece; each gets :class:`~music.traits.StemTraits`.

    Returns
    -------
    Traits

    Raises
    ------
    TraitsError
        If ``audio`` (or a stem) is not an :class:`~music.audio.Audio`.

    Notes
    -----
    Methods, units and ranges of every trait are in ``docs/traits.md`` and in the
    modules :mod:`.rhythm`, :mod:`.tonal`, :mod:`.descriptors`, :mod:`.mood`, :mod:`.level`.
    Silence gives defined values: loudness ``LOUDNESS_FLOOR_LUFS``, true peak
    ``TRUE_PEAK_FLOOR_DBTP``, tempo None (``tempo_reason`` says why), key "C major" with
    confidence 0.
    """
    if not isinstance(audio, Audio):
        raise TraitsError(f"extract() needs a music.audio.Audio, got {type(audio).__name__}")
    feat = frontend.features(frontend.analysis_signal(audio))
    lev = level.measure(audio)
    frames = tonal.chroma_frames(feat)
    rh = rhythm.analyse(feat, harmony=(frames.harmony, frames.times))
    to = tonal.analyse(feat, rh.beats, frames=frames)
    ts = rh.time_signature
    if rh.accents and to.novelty.size >= 12:
        # harmonic novelty votes in proportion to how clearly tonal the clip is
        ts = rhythm.time_signature([*rh.accents, to.novelty], [1.0] * len(rh.accents) + [to.key_confidence])
    b_hz = descriptors.brightness_hz(feat)
    bright = descriptors.brightness(b_hz)
    perc = descriptors.percussiveness(feat)
    en = descriptors.energy(lev.integrated_lufs, rh.onset_rate_hz, bright)
    tonic, _ = parse_key(to.key)
    ten = mood.tension(to.chroma, tonic=tonic, major=to.major)
    val = mood.valence(major=to.major, key_confidence=to.key_confidence, tempo_bpm=rh.tempo_bpm,
                       brightness=bright, tension_=ten)
    aro = mood.arousal(loudness_lufs=lev.integrated_lufs, tempo_bpm=rh.tempo_bpm,
                       onset_rate_hz=rh.onset_rate_hz, percussiveness=perc)
    per_stem = {}
    for name, s in (stems or {}).items():
        if not isinstance(s, Audio):
            raise TraitsError(f"stem {name!r} is not a music.audio.Audio")
        per_stem[str(name)] = stem_traits(s)
    lufs = lev.integrated_lufs if math.isfinite(lev.integrated_lufs) else LOUDNESS_FLOOR_LUFS
    tp = lev.true_peak_dbtp if math.isfinite(lev.true_peak_dbtp) else TRUE_PEAK_FLOOR_DBTP
    return Traits(
        duration_s=float(audio.duration), sample_rate=audio.sr, channels=audio.channels,
        tempo_bpm=None if rh.tempo_bpm is None else round(rh.tempo_bpm, 2),
        tempo_confidence=rh.tempo_confidence, tempo_reason=rh.tempo_reason,
        tempo_alt_bpm=rh.tempo_alt_bpm, tempo_alt_weight=rh.tempo_alt_weight,
        time_signature=ts,
        key=to.key, key_confidence=to.key_confidence, key_alt=to.key_alt, key_alt_weight=to.key_alt_weight,
        camelot=camelot(to.key), open_key=open_key(to.key),
        tuning_hz=to.tuning_hz,
        loudness_lufs=max(lufs, LOUDNESS_FLOOR_LUFS), loudness_range_lu=lev.range_lu,
        true_peak_dbtp=max(tp, TRUE_PEAK_FLOOR_DBTP), dynamic_complexity_db=lev.dynamic_complexity_db,
        energy=en, brightness_hz=b_hz, brightness=bright, danceability=rh.danceability,
        onset_rate_hz=rh.onset_rate_hz, percussiveness=perc, chord_change_rate=to.chord_change_rate,
        valence=val, arousal=aro, mood=mood.mood_label(val, aro), stems=per_stem,
        beats=tuple(float(t) for t in rh.beats), key_scores=tuple(float(s) for s in to.key_scores),
        chroma=tuple(float(c) for c in to.chroma),
    )

