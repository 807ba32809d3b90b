"""Genre definitions: tempo, grooves, harmony, instruments and mix for each style.

Each :class:`Genre` is plain data the pattern generators read. Drum grooves are written
as one bar of sixteenth-note steps per instrument, one character a step:

``X`` accent (vel 118), ``x`` normal (100), ``o`` soft (72), ``g`` ghost (44), ``.`` rest.

Instruments are General MIDI programs (bank 0, bank 8 for GM2 variations, bank 128 for
drum kits), so the MIDI files play in any GM-compatible DAW or SoundFont. Progressions in
minor always include a major ``V`` (raised leading tone) and those in major a ``V`` or
``IV``→``I``: real cadences, so that the key is audible, not just the set of pitches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from music.errors import EngineError

# General MIDI percussion keys (channel 10).
KICK, RIM, SNARE, CLAP, CLOSED_HAT, PEDAL_HAT, OPEN_HAT = 36, 37, 38, 39, 42, 44, 46
LOW_TOM, MID_TOM, HIGH_TOM, CRASH, RIDE, TAMBOURINE, COWBELL, SHAKER = 45, 47, 50, 49, 51, 54, 56, 70
HAT_CHOKE = (CLOSED_HAT, PEDAL_HAT, OPEN_HAT)
"""GM exclusive class: a closed or pedal hat cuts an open one."""

STEP_VELOCITY = {"X": 118, "x": 100, "o": 72, "g": 44}


@dataclass(frozen=True)
class Instrument:
    """A GM instrument with its channel settings and place in the mix.

    Attributes
    ----------
    program, bank : int
        GM program (0–127) and bank (0, 8 for variations, 128 for drum kits).
    pan : int
        CC10, 0 (left) – 64 (centre) – 127 (right).
    reverb, chorus : int
        CC91 / CC93 effect sends, 0–127.
    level_db : float
        Stem gain in the mix (dB).
    """

    program: int
    bank: int = 0
    pan: int = 64
    reverb: int = 30
    chorus: int = 0
    level_db: float = 0.0


@dataclass(frozen=True)
class Genre:
    """A style: everything the generators need to write in it.

    Attributes
    ----------
    name : str
        Canonical name (``"lofi"``).
    label : str
        Human name (``"lo-fi hip-hop"``).
    aliases : tuple of str
        Words that name it in a prompt (matched longest first).
    bpm, bpm_range : float, (float, float)
        Default tempo and the idiomatic range (BPM); a request may go outside it.
    mode : {"minor", "major"}
        Default mode when the request names none.
    swing : float
        Position of the off-beat sixteenth inside an eighth: 0.5 straight, 0.66 triplet.
    progressions : dict
        ``{"minor": [...], "major": [...]}``: candidate four-chord progressions.
    chord_bars : int
        Bars per chord.
    drums : dict[int, str]
        GM key -> 16-step pattern for the main groove.
    sparse : tuple of int
        Drum keys that keep playing in low-energy sections.
    kit : int
        Drum kit preset (bank 128).
    bass_style, chords_style, lead_style : str
        Names of the generators in :mod:`~music.engines.composer.patterns`.
    bass, chords, lead : Instrument
    bass_octave : int
        MIDI pitch around which the bass sits.
    lead_range : (int, int)
        Lead register (MIDI).
    lead_density : float
        Probability of a note on each eighth of the lead motif.
    hat_rolls : float
        Chance per bar of a trap-style hi-hat roll.
    humanize_ms : float
        Standard deviation of timing humanisation (ms).
    velocity_jitter : float
        Standard deviation of velocity humanisation (MIDI steps).
    room : float
        FluidSynth reverb room size 0–1 for the whole track.
    """

    name: str
    label: str
    aliases: tuple[str, ...]
    bpm: float
    bpm_range: tuple[float, float]
    mode: str
    swing: float
    progressions: dict[str, tuple[tuple[str, ...], ...]]
    chord_bars: int
    drums: dict[int, str]
    sparse: tuple[int, ...]
    kit: int
    bass_style: str
    chords_style: str
    lead_style: str
    bass: Instrument
    chords: Instrument
    lead: Instrument
    bass_octave: int = 36
    chords_range: tuple[int, int] = (52, 76)
    lead_range: tuple[int, int] = (67, 86)
    lead_density: float = 0.55
    hat_rolls: float = 0.0
    humanize_ms: float = 4.0
    velocity_jitter: float = 6.0
    room: float = 0.5
    drums_level_db: float = -2.0
    moods: dict[str, float] = field(default_factory=dict)


_MINOR_POP = (("i", "VI", "iv", "V"), ("i", "iv", "V", "i"), ("i", "VI", "VII", "V"))
_MAJOR_POP = (("I", "V", "vi", "IV"), ("I", "vi", "IV", "V"), ("I", "IV", "V", "I"))

GENRES: dict[str, Genre] = {}


def _add(g: Genre) -> None:
    for key, pattern in g.drums.items():
        if len(pattern) != 16:
            raise ValueError(f"{g.name}: drum pattern for key {key} is not 16 steps")
    GENRES[g.name] = g


_add(Genre(
    name="house", label="house", aliases=("deep house", "house", "garage", "disco house"),
    bpm=124, bpm_range=(118, 128), mode="minor", swing=0.54,
    progressions={"minor": (("i", "iv", "V", "i"), ("i", "VI", "i", "V")),
                  "major": (("I", "IV", "V", "I"), ("Imaj7", "vi7", "ii7", "V7"))},
    chord_bars=1,
    drums={KICK: "x...x...x...x...", CLAP: "....x.......x...", CLOSED_HAT: "o.o.o.o.o.o.o.o.",
           OPEN_HAT: "..x...x...x...x."},
    sparse=(KICK, CLAP, CLOSED_HAT), kit=24,
    bass_style="offbeat", chords_style="stabs", lead_style="riff",
    bass=Instrument(38, pan=64, reverb=0, level_db=1.0),
    chords=Instrument(1, pan=56, reverb=50, chorus=20, level_db=0.0),
    lead=Instrument(80, pan=72, reverb=60, chorus=30, level_db=-5.0),
    lead_range=(67, 84), lead_density=0.45, humanize_ms=3.0, room=0.55,
))

_add(Genre(
    name="techno", label="techno", aliases=("techno", "warehouse", "industrial techno", "minimal techno"),
    bpm=130, bpm_range=(125, 140), mode="minor", swing=0.5,
    progressions={"minor": (("i", "i", "VI", "V"), ("i", "iv", "i", "V")),
                  "major": (("I", "IV", "I", "V"), ("I", "vi", "IV", "V"))},
    chord_bars=2,
    drums={KICK: "X...x...x...x...", CLOSED_HAT: "gogxgogxgogxgogx", OPEN_HAT: "..x...x...x...x.",
           CLAP: "....o.......o...", RIM: "......o..o....o."},
    sparse=(KICK, CLOSED_HAT), kit=24,
    bass_style="rumble", chords_style="stabs_sparse", lead_style="arp",
    bass=Instrument(39, bank=8, reverb=0, level_db=-2.0),
    chords=Instrument(90, pan=50, reverb=70, chorus=40, level_db=-4.0),
    lead=Instrument(81, pan=80, reverb=60, chorus=20, level_db=-6.0),
    bass_octave=36, lead_range=(60, 79), lead_density=0.7, humanize_ms=1.5, velocity_jitter=4,
    room=0.7,
))

_add(Genre(
    name="lofi", label="lo-fi hip-hop",
    aliases=("lofi hip hop", "lo-fi hip-hop", "lo fi hip hop", "lofi hiphop", "lofi", "lo-fi", "lo fi",
             "chillhop", "boom bap", "jazzy hip hop"),
    bpm=84, bpm_range=(70, 92), mode="minor", swing=0.62,
    progressions={"minor": (("i7", "iv7", "V7", "i7"), ("i9", "VI7", "iv7", "V7")),
                  "major": (("ii7", "V7", "Imaj7", "vi7"), ("Imaj7", "vi7", "ii7", "V7"))},
    chord_bars=1,
    drums={KICK: "x.......x.....g.", SNARE: "....x.......x...", CLOSED_HAT: "x.g.x.g.x.g.x.g.",
           RIM: "..............g."},
    sparse=(CLOSED_HAT, KICK, SNARE), kit=32,
    bass_style="lofi", chords_style="comp", lead_style="sparse",
    bass=Instrument(33, reverb=15, level_db=0.0),
    chords=Instrument(4, pan=58, reverb=60, chorus=30, level_db=-1.5),
    lead=Instrument(11, pan=76, reverb=70, level_db=-5.0),
    chords_range=(53, 74), lead_range=(65, 84), lead_density=0.4, humanize_ms=9.0,
    velocity_jitter=9.0, room=0.6,
))

_add(Genre(
    name="trap", label="trap", aliases=("trap", "drill", "808", "hip hop beat", "hip-hop"),
    bpm=140, bpm_range=(130, 160), mode="minor", swing=0.5,
    progressions={"minor": (("i", "VI", "iv", "V"), ("i", "i", "VI", "V")),
                  "major": (("vi", "IV", "V", "I"), ("I", "iii", "IV", "V"))},
    chord_bars=2,
    drums={KICK: "x......x..x.....", CLAP: "........x.......", CLOSED_HAT: "xoxoxoxoxoxoxoxo",
           OPEN_HAT: "..............o."},
    sparse=(CLOSED_HAT,), kit=25,
    bass_style="808", chords_style="pad", lead_style="bells",
    bass=Instrument(80, bank=8, reverb=0, level_db=1.0),
    chords=Instrument(49, pan=60, reverb=70, level_db=-6.0),
    lead=Instrument(9, pan=74, reverb=60, level_db=-6.0),
    bass_octave=31, chords_range=(50, 72), lead_range=(72, 91), lead_density=0.5, hat_rolls=0.5,
    humanize_ms=1.0, velocity_jitter=8, room=0.6,
))

_add(Genre(
    name="dnb", label="drum & bass",
    aliases=("drum and bass", "drum & bass", "drum n bass", "drum'n'bass", "dnb", "d&b", "liquid", "jungle"),
    bpm=170, bpm_range=(165, 176), mode="minor", swing=0.5,
    progressions={"minor": (("i7", "VI7", "iv7", "V7"), ("i9", "iv7", "VI7", "V")),
                  "major": (("Imaj7", "iii7", "IVmaj7", "V"), ("vi7", "IVmaj7", "V", "Imaj7"))},
    chord_bars=2,
    drums={KICK: "x.......x.x.....", SNARE: "....X.......X...", CLOSED_HAT: "X.g.X.g.X.g.X.g.",
           RIDE: "x...x...x...x..."},
    sparse=(KICK, SNARE, RIDE), kit=8,
    bass_style="reese", chords_style="pad", lead_style="riff",
    bass=Instrument(38, bank=8, reverb=10, level_db=-1.0),
    chords=Instrument(95, pan=58, reverb=80, chorus=40, level_db=-6.0),
    lead=Instrument(0, pan=72, reverb=70, level_db=-5.0),
    bass_octave=36, lead_range=(70, 89), lead_density=0.5, humanize_ms=2.0, room=0.7,
))

_add(Genre(
    name="ambient", label="ambient",
    aliases=("ambient", "drone", "downtempo", "meditation", "atmospheric", "cinematic"),
    bpm=90, bpm_range=(70, 100), mode="major", swing=0.5,
    progressions={"minor": (("i", "VI", "iv", "V"), ("i9", "iv", "VI", "V")),
                  "major": (("Imaj7", "IV", "vi", "V"), ("I", "iii", "IV", "V"))},
    chord_bars=2,
    drums={KICK: "x.......x.......", SHAKER: "o...o...o...o...", RIM: "....o.......o..."},
    sparse=(SHAKER,), kit=40,
    bass_style="pedal", chords_style="pad", lead_style="arp_slow",
    bass=Instrument(39, reverb=50, level_db=-3.0),
    chords=Instrument(94, pan=60, reverb=110, chorus=60, level_db=-2.0),
    lead=Instrument(98, pan=70, reverb=100, chorus=30, level_db=-6.0),
    bass_octave=38, chords_range=(52, 79), lead_range=(72, 91), lead_density=0.5, humanize_ms=5.0,
    velocity_jitter=5, room=0.9, drums_level_db=-6.0,
))

_add(Genre(
    name="synthwave", label="synthwave",
    aliases=("synthwave", "retrowave", "outrun", "80s", "synth pop", "synthpop", "night drive"),
    bpm=104, bpm_range=(85, 118), mode="minor", swing=0.5,
    progressions={"minor": (("i", "VI", "iv", "V"), ("i", "iv", "i", "V")),
                  "major": (("I", "V", "vi", "IV"), ("I", "IV", "V", "I"))},
    chord_bars=1,
    drums={KICK: "x.......x.......", SNARE: "....X.......X...", CLOSED_HAT: "x.x.x.x.x.x.x.x.",
           TAMBOURINE: "....o.......o..."},
    sparse=(KICK, CLOSED_HAT), kit=24,
    bass_style="octaves", chords_style="pad", lead_style="melody",
    bass=Instrument(38, reverb=15, level_db=-1.5),
    chords=Instrument(90, pan=58, reverb=80, chorus=70, level_db=-5.0),
    lead=Instrument(81, pan=70, reverb=80, chorus=50, level_db=-6.0),
    bass_octave=36, lead_range=(67, 86), lead_density=0.5, humanize_ms=1.5, velocity_jitter=4, room=0.8,
))

_add(Genre(
    name="ballad", label="pop ballad",
    aliases=("pop ballad", "piano ballad", "ballad", "love song", "singer songwriter", "pop"),
    bpm=76, bpm_range=(60, 90), mode="major", swing=0.5,
    progressions={"major": _MAJOR_POP, "minor": _MINOR_POP},
    chord_bars=1,
    drums={KICK: "x.......x.......", RIM: "....x.......x...", CLOSED_HAT: "o...o...o...o..."},
    sparse=(), kit=0,
    bass_style="ballad", chords_style="broken", lead_style="melody",
    bass=Instrument(33, reverb=25, level_db=-2.0),
    chords=Instrument(0, pan=60, reverb=60, level_db=0.0),
    lead=Instrument(73, pan=70, reverb=70, level_db=-4.0),
    bass_octave=36, chords_range=(48, 76), lead_range=(67, 84), lead_density=0.45, humanize_ms=7.0,
    velocity_jitter=8, room=0.6, drums_level_db=-4.0,
))

_add(Genre(
    name="reggaeton", label="reggaeton",
    aliases=("reggaeton", "dembow", "latin", "perreo", "moombahton"),
    bpm=95, bpm_range=(88, 100), mode="minor", swing=0.5,
    progressions={"minor": (("i", "VI", "VII", "V"), ("i", "iv", "VII", "V")),
                  "major": (("I", "V", "vi", "IV"), ("vi", "IV", "V", "I"))},
    chord_bars=1,
    drums={KICK: "X...x...X...x...", SNARE: "...o..o....o..o.", CLOSED_HAT: "x.g.x.g.x.g.x.g.",
           TAMBOURINE: "..g...g...g...g."},
    sparse=(KICK, CLOSED_HAT), kit=25,
    bass_style="follow_kick", chords_style="pluck", lead_style="riff",
    bass=Instrument(39, reverb=10, level_db=-1.0),
    chords=Instrument(24, pan=54, reverb=40, level_db=-2.0),
    lead=Instrument(75, pan=76, reverb=60, level_db=-5.0),
    bass_octave=36, lead_range=(67, 86), lead_density=0.55, humanize_ms=3.0, room=0.5,
))

DEFAULT_GENRE = "lofi"


def get_genre(name: str) -> Genre:
    """The genre called ``name`` (canonical name or alias, case-insensitive).

    Raises
    ------
    EngineError
        For an unknown name, listing the known genres.
    """
    key = " ".join(str(name).lower().replace("_", " ").split())
    if key in GENRES:
        return GENRES[key]
    for g in GENRES.values():
        if key in g.aliases:
            return g
    raise EngineError(f"unknown genre {name!r}; known genres: {', '.join(GENRES)}")


def alias_table() -> list[tuple[str, Genre]]:
    """``(alias, genre)`` pairs, longest alias first (for prompt matching)."""
    pairs = [(a, g) for g in GENRES.values() for a in (g.name, *g.aliases)]
    return sorted(pairs, key=lambda p: (-len(p[0]), p[0]))
