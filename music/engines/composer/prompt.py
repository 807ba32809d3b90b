"""Reading tempo, key, genre, length and mood out of free text.

``"dark techno in F minor at 128 bpm, driving"`` ->
``{"genre": "techno", "key": "F minor", "bpm": 128.0, "moods": ["dark", "driving"]}``.
Explicit options win over the prompt and the prompt over genre defaults; that merge
happens in :mod:`~music.engines.composer.engine`, this module only reads the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from music.engines.composer.genres import alias_table

MOODS: dict[str, dict[str, float]] = {
    # word -> effects: "energy" shifts section energy, "minor"/"major" vote on the mode,
    # "tempo" nudges the default tempo (fraction of the genre's range), "bright" the register.
    "dark": {"minor": 1, "bright": -1}, "moody": {"minor": 1}, "sad": {"minor": 1, "energy": -0.1},
    "melancholic": {"minor": 1, "energy": -0.1}, "melancholy": {"minor": 1}, "sombre": {"minor": 1},
    "happy": {"major": 1, "bright": 1}, "uplifting": {"major": 1, "energy": 0.1, "bright": 1},
    "bright": {"major": 1, "bright": 1}, "sunny": {"major": 1, "bright": 1},
    "euphoric": {"major": 1, "energy": 0.2},
    "hopeful": {"major": 1}, "romantic": {"major": 1, "energy": -0.1},
    "chill": {"energy": -0.15, "tempo": -0.3}, "mellow": {"energy": -0.15, "tempo": -0.3},
    "relaxed": {"energy": -0.15, "tempo": -0.3}, "calm": {"energy": -0.2, "tempo": -0.4},
    "dreamy": {"energy": -0.1, "bright": 1}, "lazy": {"energy": -0.15, "tempo": -0.4},
    "driving": {"energy": 0.15, "tempo": 0.3}, "energetic": {"energy": 0.2, "tempo": 0.4},
    "hard": {"energy": 0.2, "tempo": 0.3}, "aggressive": {"energy": 0.25, "minor": 1, "tempo": 0.4},
    "intense": {"energy": 0.2}, "hypnotic": {"energy": 0.05}, "groovy": {"energy": 0.05},
    "epic": {"energy": 0.15}, "soft": {"energy": -0.2}, "gentle": {"energy": -0.2},
}

_BPM_RE = re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d+)?)\s*(?:bpm|beats per minute)\b", re.I)
_KEY_RE = re.compile(
    r"(?:\bin\s+|\bkey\s+(?:of\s+)?|^|\s)"
    r"([A-Ga-g])(\s*(?:#|♯|b|♭|sharp|flat))?\s*(major|minor|maj|min|m)\b",
    re.I,
)
_BARS_RE = re.compile(r"\b(\d{1,3})\s*bars?\b", re.I)
_SECONDS_RE = re.compile(r"\b(\d{1,4})\s*(?:s|sec|secs|seconds)\b", re.I)
_MINUTES_RE = re.compile(r"\b(\d{1,2}(?:\.\d+)?)\s*(?:min|mins|minutes)\b", re.I)


@dataclass
class PromptInfo:
    """What a prompt says.

    Attributes
    ----------
    genre : str or None
        Canonical genre name.
    key : str or None
        Key as written (``"F minor"``), validated later.
    bpm : float or None
    bars : int or None
    seconds : float or None
    moods : list of str
        Mood words found, in order.
    loop : bool
        Whether the prompt asks for a loop.
    """

    genre: str | None = None
    key: str | None = None
    bpm: float | None = None
    bars: int | None = None
    seconds: float | None = None
    moods: list[str] = field(default_factory=list)
    loop: bool = False


def parse_prompt(text: str | None) -> PromptInfo:
    """Read a prompt; unknown words are ignored, nothing here raises."""
    info = PromptInfo()
    if not text:
        return info
    low = " " + " ".join(text.lower().split()) + " "
    if m := _BPM_RE.search(low):
        info.bpm = float(m.group(1))
    # Keys are case-sensitive about the letter only in "Am"-style tokens; "a minor" is fine.
    for m in _KEY_RE.finditer(" " + " ".join(text.split()) + " "):
        letter, acc, word = m.group(1), (m.group(2) or "").strip(), m.group(3).lower()
        # "Am", "F#m", "Cmaj" need a capital letter; "a minor" needs none ("I am" is no key).
        if word not in ("major", "minor") and not letter.isupper():
            continue
        mode = "minor" if word in ("m", "min", "minor") else "major"
        info.key = f"{letter.upper()}{acc} {mode}"
        break
    if m := _BARS_RE.search(low):
        info.bars = int(m.group(1))
    if m := _MINUTES_RE.search(low):
        info.seconds = float(m.group(1)) * 60.0
    elif m := _SECONDS_RE.search(low):
        info.seconds = float(m.group(1))
    for alias, genre in alias_table():
        if re.search(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", low):
            info.genre = genre.name
            break
    info.moods = [w for w in re.findall(r"[a-z]+", low) if w in MOODS]
    info.loop = bool(re.search(r"\bloop(?:s|able)?\b", low))
    return info


def mood_effects(moods: list[str]) -> dict[str, float]:
    """Sum of the effects of the mood words (see :data:`MOODS`)."""
    total: dict[str, float] = {}
    for w in moods:
        for k, v in MOODS.get(w, {}).items():
            total[k] = total.get(k, 0.0) + v
    return total
