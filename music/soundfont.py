"""Locating SoundFonts.

The default is Debian's FluidR3_GM (``fluid-soundfont-gm``, MIT licence); an explicit path
overrides it (the CLI passes ``$SONGMINT_SOUNDFONT``: the library reads no environment).
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from types import ModuleType

from music.errors import EngineError
from music.hashing import sha256_file

__all__ = ["DEFAULT_CANDIDATES", "INSTALL_HINT", "find_soundfont", "import_pyfluidsynth", "sha256_file"]

DEFAULT_CANDIDATES = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/default.sf2",
)
INSTALL_HINT = "install one with `sudo apt-get install fluid-soundfont-gm` or pass --soundfont PATH"


def import_pyfluidsynth() -> ModuleType:
    """Import pyfluidsynth with its import-time chatter silenced.

    pyfluidsynth prints where it found libfluidsynth to stdout whenever ``$CI`` is set,
    which would corrupt the output of ``--json`` commands; every import goes through here.

    Raises
    ------
    ImportError, OSError
        When pyfluidsynth or libfluidsynth itself is missing.
    """
    with contextlib.redirect_stdout(io.StringIO()):
        import fluidsynth
    return fluidsynth


def find_soundfont(path: str | os.PathLike[str] | None = None) -> Path:
    """The SoundFont to use: ``path``, else the first of :data:`DEFAULT_CANDIDATES` (FluidR3_GM).

    Parameters
    ----------
    path : path-like, optional
        A SoundFont 2 file (the CLI passes ``--soundfont`` or ``$SONGMINT_SOUNDFONT``).

    Raises
    ------
    EngineError
        When the file does not exist or is not a RIFF ``sfbk`` file.
    """
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise EngineError(f"SoundFont {p} not found; {INSTALL_HINT}")
        _check_sf2(p)
        return p
    for cand in DEFAULT_CANDIDATES:
        p = Path(cand)
        if p.is_file():
            return p.resolve()
    raise EngineError(f"no SoundFont found (looked in {', '.join(DEFAULT_CANDIDATES)}); {INSTALL_HINT}")


def _check_sf2(p: Path) -> None:
    with p.open("rb") as f:
        head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise EngineError(f"{p} is not a SoundFont 2 file (no RIFF/sfbk header)")
