"""`songmint verify`: a clean release passes; tampering is caught with a clear report and exit 3;
deterministic tracks are re-rendered byte for byte."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from songmint.cli import main
from songmint.errors import SongmintError
from songmint.release import Options, run_release
from songmint.verify import MISMATCH_EXIT, resolve_target, verify_release
from tests.release_fixture import make_spec


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory, release_cache: Path) -> Path:
    folder = tmp_path_factory.mktemp("verify")
    out = folder / "out"
    spec = make_spec(folder)
    # alpha's stems become tokens of their own here
    spec.write_text(
        spec.read_text().replace('stems = "alpha-stems"', 'stems = "alpha-stems"\nstems_as_tokens = true')
    )
    run_release(spec, Options(out=out, cover_size=256, build_preview=False))
    return out


@pytest.fixture
def copy(release: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "release"
    shutil.copytree(release, dest, ignore=shutil.ignore_patterns(".cache"))
    return dest


def test_clean_release_passes(release: Path) -> None:
    report = verify_release(release, rerender=True, chain=True)
    assert report.mismatches == []
    checks = {r["check"] for r in report.rows if r["status"] == "ok"}
    assert {"asset", "metadata", "CAR", "root CID"} <= checks
    skipped = {r["check"]: r["detail"] for r in report.rows if r["status"] == "skipped"}
    assert "file track" in skipped["re-render"] and "in-memory" in skipped["chain"]


def test_stem_tokens(release: Path) -> None:
    from songmint.spec import load_spec

    m = json.loads((release / "manifest.json").read_text())
    spec = load_spec(release.parent / "spec.toml")
    stems = [t for t in m["tokens"] if t["kind"] == "stem"]
    assert sorted(t["stem"] for t in stems) == ["chords", "drums"]
    alpha = spec.tracks[0]
    assert {t["id"] for t in stems} == {
        alpha.stem_token_id("FIX", "chords"),
        alpha.stem_token_id("FIX", "drums"),
    }
    doc = json.loads((release / stems[0]["metadata_path"]).read_text())
    assert (
        doc["properties"]["kind"] == "stem"
        and {"trait_type": "Stem", "value": stems[0]["stem"]} in doc["attributes"]
    )
    assert stems[0]["minted"] == 3 and stems[0]["assets"]["cover"] != ""


def test_tampered_asset_is_caught(copy: Path) -> None:
    m = json.loads((copy / "manifest.json").read_text())
    victim = m["tokens"][0]["assets"]["mix"]
    data = bytearray((copy / victim).read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle of the MP3
    (copy / victim).write_bytes(bytes(data))
    result = CliRunner().invoke(main, ["verify", str(copy), "--no-render"])
    assert result.exit_code == MISMATCH_EXIT
    assert victim in result.output and "MISMATCH" in result.output
    report = verify_release(copy, rerender=False, chain=False)
    bad = {(r["check"], r["subject"]) for r in report.mismatches}
    assert ("asset sha256", victim) in bad and ("metadata asset", victim) in bad
    assert any(check == "root CID" for check, _ in bad)


def test_tampered_metadata_is_caught(copy: Path) -> None:
    m = json.loads((copy / "manifest.json").read_text())
    path = copy / m["tokens"][1]["metadata_path"]
    doc = json.loads(path.read_text())
    doc["name"] = "Something else"
    path.write_text(json.dumps(doc))
    report = verify_release(copy, rerender=False, chain=False)
    assert any(r["check"] == "metadata sha256" for r in report.mismatches)


def test_single_token_by_metadata_path_and_errors(release: Path, tmp_path: Path) -> None:
    m = json.loads((release / "manifest.json").read_text())
    meta = release / m["tokens"][1]["metadata_path"]
    root, only = resolve_target(str(meta))
    assert root == release and only == m["tokens"][1]["metadata_path"]
    report = verify_release(root, only=only, rerender=False, chain=False)
    assert report.mismatches == [] and not any(r["subject"] == "release.car" for r in report.rows)
    with pytest.raises(SongmintError, match="not a release folder"):
        resolve_target(str(tmp_path / "nothing"))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "songmint"), "verify", str(meta), "--no-render"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "checks passed" in result.stderr


def test_deterministic_engines_rerender_identically(tmp_path: Path) -> None:
    """A composer track and a units continuation (with stems) re-render to the same FLAC bytes."""
    from music.audio import save
    from tests import synth

    drums = synth.drums(bpm=120, bars=5)
    chords = synth.chord((57, 60, 64), seconds=drums.duration)
    save(synth.mix(drums, chords), tmp_path / "loop.wav")
    (tmp_path / "loop-stems").mkdir()
    save(drums, tmp_path / "loop-stems" / "drums.wav")
    save(chords, tmp_path / "loop-stems" / "chords.wav")
    spec = tmp_path / "spec.toml"
    spec.write_text("""
[collection]
name = "Engines check"
symbol = "ENG"
[defaults]
artist = "songmint"
[[tracks]]
id = "tiny"
title = "Tiny"
[tracks.generate]
engine = "composer"
prompt = "house in A minor at 124 bpm"
seed = 7
seconds = 4
[[tracks]]
id = "onward"
title = "Onward"
[tracks.generate]
engine = "units"
source = "loop.wav"
source_stems = "loop-stems"
seed = 1
seconds = 4
[network]
name = "memory"
""")
    out = tmp_path / "out"
    m = run_release(spec, Options(out=out, cover_size=256, build_preview=False))
    assert m["tokens"][1]["request"]["source"]["sha256"]
    assert set(m["tokens"][1]["assets"]) >= {"stem:drums", "stem:chords"}
    report = verify_release(out, rerender=True, chain=False)
    rows = {r["subject"]: r for r in report.rows if r["check"] == "re-render"}
    assert rows["Tiny"]["status"] == "ok" and "composer seed 7: identical" in rows["Tiny"]["detail"]
    assert rows["Onward"]["status"] == "ok" and "units seed 1: identical" in rows["Onward"]["detail"]
    # a different seed in the recorded request must not verify
    m["tokens"][0]["request"]["seed"] = 8
    (out / "manifest.json").write_text(json.dumps(m))
    report = verify_release(out, rerender=True, chain=False)
    assert [r["subject"] for r in report.mismatches if r["check"] == "re-render"] == ["Tiny"]


def test_ipfs_uri_resolves_to_the_release_here(release: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = json.loads((release / "manifest.json").read_text())
    monkeypatch.chdir(release)
    root, only = resolve_target(m["tokens"][0]["metadata_uri"])
    assert root.resolve() == release.resolve() and only == m["tokens"][0]["metadata_path"]
    with pytest.raises(SongmintError, match="no release with root"):
        resolve_target("ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/metadata/x.json")
