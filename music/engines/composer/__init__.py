"""The composer engine: stems, MIDI and a mastered mix from a prompt or a seed.

No downloaded weights: a rule-based composer (genres, song form, voice-led harmony,
motif-based melodies, seeded humanisation) writes MIDI, FluidSynth renders it in stereo
with a General MIDI SoundFont (FluidR3_GM by default), and the mix is mastered to a
loudness target. See ``docs/composer.md``.
"""

from music.engines.composer.engine import PARAMS, VERSION, ComposerEngine, Plan, Rendered, master
from music.engines.composer.genres import GENRES, Genre, get_genre
from music.engines.composer.prompt import parse_prompt
from music.engines.composer.theory import Key, parse_key

__all__ = ["GENRES", "PARAMS", "VERSION", "ComposerEngine", "Genre", "Key", "Plan", "Rendered",
           "get_genre", "master", "parse_key", "parse_prompt"]
