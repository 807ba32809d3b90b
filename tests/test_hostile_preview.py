"""`songmint preview` never deletes a folder it did not write, writes a readable site, and a
damaged manifest is one line with exit 2."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from songmint.cli import main
from songmint.preview import SITE_MARKER
from tests.preview_fixture import make_release


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_release(tmp_path_factory.mktemp("hostile-preview") / "rel", seconds=1.0)


@pytest.fixture
def rel(release: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "rel"
    shutil.copytree(release, dest)
    return dest


def _one_line_error(r) -> str:  # type: ignore[no-untyped-def]
    assert r.exit_code == 2, r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    return lines[0]


def test_preview_out_existing_user_folder_is_refused_and_kept(rel: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    r = CliRunner().invoke(main, ["preview", str(rel), "--out", str(mine)])
    assert "not a preview songmint wrote" in _one_line_error(r)
    assert sorted(p.name for p in mine.iterdir()) == ["thesis.txt"]
    assert (mine / "thesis.txt").read_text() == "years of work"


@pytest.mark.parametrize("target", ["file", "release", "assets"])
def test_preview_out_onto_other_things_is_refused(rel: Path, tmp_path: Path, target: str) -> None:
    before = sorted(str(p.relative_to(rel)) for p in rel.rglob("*"))
    dest = {"file": rel / "manifest.json", "release": rel, "assets": rel / "assets"}[target]
    r = CliRunner().invoke(main, ["preview", str(rel), "--out", str(dest)])
    _one_line_error(r)
    assert sorted(str(p.relative_to(rel)) for p in rel.rglob("*")) == before


def test_preview_rebuild_replaces_its_own_site_and_an_empty_folder(rel: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for dest in (empty, empty, rel / "preview", rel / "preview"):
        args = ["preview", str(rel)] + (["--out", str(dest)] if dest == empty else [])
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0, r.output
        assert (dest / "index.html").is_file() and (dest / SITE_MARKER).is_file()
    # a site written before the marker existed is still recognised as ours
    (empty / SITE_MARKER).unlink()
    assert CliRunner().invoke(main, ["preview", str(rel), "--out", str(empty)]).exit_code == 0


def test_preview_site_is_world_readable(rel: Path) -> None:
    mask = os.umask(0o022)
    try:
        r = CliRunner().invoke(main, ["preview", str(rel)])
    finally:
        os.umask(mask)
    assert r.exit_code == 0, r.output
    mode = stat.S_IMODE((rel / "preview").stat().st_mode)
    assert mode == 0o755, oct(mode)


DAMAGE = {
    "not json": "{",
    "a list": "[]",
    "a string": '"x"',
    "tokens not a list": {"tokens": {"a": 1}},
    "token not an object": {"tokens": [1]},
    "token without id": {"tokens": [{"id_hex": "00"}]},
    "id_hex wrong": {"tokens": [{"id": 1, "id_hex": "zz"}]},
    "id a bool": {"tokens": [{"id": True, "id_hex": "0" * 63 + "1"}]},
    "assets not a dict": {"tokens": [{"id": 1, "id_hex": "0" * 63 + "1", "assets": []}]},
    "asset escapes": {"tokens": [{"id": 1, "id_hex": "0" * 63 + "1", "assets": {"mix": "../../etc/passwd"}}]},
    "asset absolute": {"tokens": [{"id": 1, "id_hex": "0" * 63 + "1", "assets": {"cover": "/etc/passwd"}}]},
    "asset missing": {"tokens": [{"id": 1, "id_hex": "0" * 63 + "1", "assets": {"mix": "nope.mp3"}}]},
    "chain a list": {"chain": [], "tokens": []},
    "deep": "[" * 100000 + "]" * 100000,
}


@pytest.mark.parametrize("name", sorted(DAMAGE))
@pytest.mark.parametrize("command", ["preview", "verify"])
def test_damaged_manifest_is_one_line_exit_2(rel: Path, name: str, command: str) -> None:
    damage = DAMAGE[name]
    (rel / "manifest.json").write_text(damage if isinstance(damage, str) else json.dumps(damage))
    args = [command, str(rel)] + (["--no-chain", "--no-render"] if command == "verify" else [])
    r = CliRunner().invoke(main, args)
    _one_line_error(r)
    assert not (rel / "preview").exists()


@pytest.mark.parametrize("command", ["preview", "verify"])
def test_deep_json_is_refused_even_with_a_raised_recursion_limit(rel: Path, command: str) -> None:
    """json's C decoder recurses per level: with the recursion limit raised (test runners, some
    libraries) 100 000 levels overflowed the C stack and killed the process (a segfault)."""
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(200_000)
    try:
        (rel / "manifest.json").write_text("[" * 150_000 + "]" * 150_000)
        args = [command, str(rel)] + (["--no-chain", "--no-render"] if command == "verify" else [])
        line = _one_line_error(CliRunner().invoke(main, args))
    finally:
        sys.setrecursionlimit(old)
    assert "nested more than" in line
