"""The cover seam: the style registry and the public helpers engines share."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import cover_art
from cover_art import CoverArtError, CoverEngine, finish, get_engine, register, render, style_names
from cover_art.engines import ENGINES
from cover_art.procedural import scene_for
from cover_art.scene import snapshot

TRAITS = {"key": "D minor", "tempo_bpm": 100.0, "energy": 0.6}
PACKAGE = Path(cover_art.__file__).parent


def test_registry_lists_every_style_and_the_cli_offers_them() -> None:
    from songmint.cover_command import STYLE_CHOICES

    assert style_names() == ("flow", "radial", "geometric", "waves", "diffusion")
    assert style_names() == STYLE_CHOICES
    assert get_engine("flow").engine == "procedural" and get_engine("diffusion").options == ("model",)
    assert all(get_engine(n).description for n in style_names())


def test_unknown_style_names_the_registered_ones() -> None:
    with pytest.raises(CoverArtError, match=r"unknown style 'oil'.*flow, radial"):
        render(TRAITS, style="oil", size=64)


def test_a_registered_engine_renders_through_render_and_finish() -> None:
    def flat(traits, audio=None, *, seed, size, title=None, artist=None):
        scene, surface, pal, prm, motif = scene_for(traits, audio, style="flat", seed=seed, width=size)
        scene.canvas.clear(0xFF336699)
        return finish(snapshot(surface), engine="flat-test", style="flat", seed=seed, traits=traits,
                      digest=motif.digest, palette=pal, params=prm, extra={})

    register(CoverEngine(name="flat", render=flat, engine="flat-test"))
    try:
        with pytest.raises(CoverArtError, match="already registered"):
            register(CoverEngine(name="flat", render=flat, engine="flat-test"))
        c = render(TRAITS, style="flat", size=64, seed=2)
        px = np.asarray(c.image())
        assert px.shape == (64, 64, 3) and (px == [0x33, 0x66, 0x99]).all()
        assert c.provenance["engine"] == "flat-test" and c.provenance["seed"] == 2
    finally:
        ENGINES.pop("flat")


def test_no_module_imports_another_modules_private_name() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cover_art"):
                offenders += [f"{path.name}: {node.module}.{a.name}" for a in node.names
                              if a.name.startswith("_")]
    assert offenders == []
