"""Cover styles: each a ``draw(scene)`` function that paints the whole canvas.

Styles register by name in :data:`STYLES`; :func:`cover_art.render` looks them up.
"""

from __future__ import annotations

from collections.abc import Callable

from cover_art.scene import Scene
from cover_art.styles import flow, geometric, radial, waves

Style = Callable[[Scene], None]

STYLES: dict[str, Style] = {
    "flow": flow.draw,
    "radial": radial.draw,
    "geometric": geometric.draw,
    "waves": waves.draw,
}
"""Name → drawing function. ``docs/cover-art.md`` describes each."""
