"""Optional typography: title, artist and a small catalogue line, set like a record sleeve.

Fonts come from files (never from the system font manager) so that the same file gives
the same glyphs: Inter (SIL OFL, Debian ``fonts-inter``) when present, else DejaVu Sans
(Debian ``fonts-dejavu-core``), else skia's default typeface. The file used and its
sha256 go into the provenance.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import skia

from cover_art.scene import Scene, c4, linear_gradient

FONT_DIR_ENV = "SONGMINT_COVER_FONT_DIR"
"""A folder searched first for the cover fonts (read by :func:`font` only)."""
_FONT_MGR = skia.FontMgr.New_Custom_Empty()
_FONT_DIRS = [Path("/usr/share/fonts/opentype/inter"), Path("/usr/share/fonts/truetype/dejavu")]
_CANDIDATES = {
    "display": ["InterDisplay-SemiBold.otf", "Inter-SemiBold.otf", "DejaVuSans-Bold.ttf"],
    "text": ["Inter-Regular.otf", "DejaVuSans.ttf"],
    "caps": ["Inter-Medium.otf", "DejaVuSansCondensed.ttf"],
}


@dataclass(frozen=True)
class Font:
    role: str
    path: str | None
    sha256: str | None
    typeface: skia.Typeface


def font(role: str, *, env: Mapping[str, str] | None = None) -> Font:
    """The typeface for ``role`` (display, text, caps); ``$SONGMINT_COVER_FONT_DIR`` adds a folder.

    ``env`` is the environment to read (default ``os.environ``): the one place the variable is read.
    """
    return _font(role, (os.environ if env is None else env).get(FONT_DIR_ENV) or None)


@lru_cache(maxsize=8)
def _font(role: str, extra: str | None) -> Font:
    dirs = list(_FONT_DIRS)
    if extra:
        dirs.insert(0, Path(extra))
    for name in _CANDIDATES[role]:
        for d in dirs:
            f = d / name
            if f.is_file():
                data = f.read_bytes()
                # An empty custom font manager reads the file itself: no fontconfig, so no
                # dependence on (or warnings from) the system's font configuration.
                tf = _FONT_MGR.makeFromData(skia.Data.MakeWithCopy(data), 0)
                if tf is not None:
                    return Font(role, str(f), hashlib.sha256(data).hexdigest(), tf)
    return Font(role, None, None, skia.FontMgr.RefDefault().legacyMakeTypeface("", skia.FontStyle()))


def _draw_tracked(s: Scene, text: str, x: float, y: float, f: skia.Font, paint: skia.Paint,
                  tracking: float) -> float:
    """Draw ``text`` with extra letter spacing (``tracking`` × size); return its width."""
    glyphs = f.textToGlyphs(text)
    widths = f.getWidths(glyphs)
    extra = tracking * f.getSize()
    cursor = x
    for ch, w in zip(text, widths, strict=False):
        s.canvas.drawString(ch, cursor, y, f, paint)
        cursor += w + extra
    return cursor - x - extra


def set_type(s: Scene, *, title: str | None, artist: str | None, traits: Mapping[str, Any]) -> dict[str, Any]:
    """Set title, artist and a catalogue line (key · BPM · Camelot) in the lower-left corner.

    Returns the fonts used (for the provenance).
    """
    n, pal, cv = s.n, s.palette, s.canvas
    margin = 0.065 * n
    # A scrim of the ground colour keeps the type legible over any figure.
    cv.drawRect(skia.Rect.MakeLTRB(0, n * 0.62, n, n),
                skia.Paint(Shader=linear_gradient((0, n * 0.62), (0, n), [pal.ground, pal.ground, pal.ground],
                                                  [0.0, 0.55, 0.85], stops=[0.0, 0.6, 1.0])))
    display, text, caps = font("display"), font("text"), font("caps")
    ink = skia.Paint(AntiAlias=True, Color4f=c4(pal.ink, 0.96))
    soft = skia.Paint(AntiAlias=True, Color4f=c4(pal.ink, 0.72))
    y = n - margin
    meta = []
    if traits.get("key"):
        meta.append(str(traits["key"]).upper())
    if traits.get("tempo_bpm"):
        meta.append(f"{float(traits['tempo_bpm']):.0f} BPM")
    if traits.get("camelot"):
        meta.append(str(traits["camelot"]).upper())
    caps_font = skia.Font(caps.typeface, 0.0135 * n)
    caps_font.setSubpixel(True)
    caps_font.setEdging(skia.Font.Edging.kAntiAlias)
    if meta:
        _draw_tracked(s, "  ·  ".join(meta), margin, y, caps_font, soft, 0.18)
        y -= 0.045 * n
    if artist:
        f = skia.Font(text.typeface, 0.030 * n)
        f.setSubpixel(True)
        f.setEdging(skia.Font.Edging.kAntiAlias)
        _draw_tracked(s, artist, margin, y, f, soft, 0.01)
        y -= 0.050 * n
    if title:
        size = 0.068 * n
        f = skia.Font(display.typeface, size)
        f.setSubpixel(True)
        f.setEdging(skia.Font.Edging.kAntiAlias)
        # Shrink long titles to fit the measure rather than running off the sleeve.
        width = f.measureText(title)
        limit = n - 2 * margin
        if width > limit:
            f.setSize(size * limit / width)
        _draw_tracked(s, title, margin, y, f, ink, -0.01)
        rule_y = y - f.getSize() * 1.05
        cv.drawRect(skia.Rect.MakeXYWH(margin, rule_y, 0.05 * n, max(1.0, 0.0025 * n)),
                    skia.Paint(AntiAlias=True, Color4f=c4(pal.accent, 0.95)))
    return {r.role: {"path": r.path and Path(r.path).name, "sha256": r.sha256} for r in (display, text, caps)}
