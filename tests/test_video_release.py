"""``video = true`` in a release: the clip is an asset (role ``video``, sha256 + CID), the token's
``animation_url`` (the player moves to ``properties.player``), and ``verify`` renders it again."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from songmint.errors import SpecError
from songmint.release import Options, run_release
from songmint.spec import load_spec
from songmint.verify import verify_release
from tests.release_fixture import make_spec


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory, release_cache: Path) -> Path:
    folder = tmp_path_factory.mktemp("video-release")
    spec = make_spec(folder)
    spec.write_text(spec.read_text().replace('stems = "alpha-stems"', 'stems = "alpha-stems"\nvideo = true'))
    out = folder / "out"
    opts = Options(out=out, cover_size=256, build_preview=False, video_size=(128, 128), video_fps=10.0)
    run_release(spec, opts)
    return out


def _token(release: Path, track: str) -> tuple[dict, dict]:
    m = json.loads((release / "manifest.json").read_text())
    t = next(t for t in m["tokens"] if t["track"] == track and t["kind"] == "track")
    return t, json.loads((release / t["metadata_path"]).read_text())


def test_the_video_is_an_asset_and_the_animation(release: Path) -> None:
    t, doc = _token(release, "alpha")
    rel = t["assets"]["video"]
    assert rel.endswith(".mp4") and (release / rel).is_file()
    rec = next(a for a in doc["properties"]["assets"] if a["role"] == "video")
    data = (release / rel).read_bytes()
    assert rec["mimeType"] == "video/mp4" and rec["sha256"] == hashlib.sha256(data).hexdigest()
    assert doc["animation_url"] == rec["uri"] == f"ipfs://{rec['cid']}"
    assert doc["properties"]["player"].endswith("/player.html")
    video = doc["properties"]["video"]
    assert video["sha256"] == rec["sha256"]
    assert (video["width"], video["height"], video["fps"]) == (128, 128, 10.0)
    assert video["style"] == "flow" and video["treatment"] == "pulse" and len(video["frames_sha256"]) == 64


def test_a_track_without_video_keeps_the_player(release: Path) -> None:
    t, doc = _token(release, "beta")
    assert "video" not in t["assets"] and doc["animation_url"].endswith("/player.html")
    assert "video" not in doc["properties"] and "player" not in doc["properties"]


def test_verify_renders_the_video_again(release: Path) -> None:
    report = verify_release(release, rerender=True, chain=False)
    assert report.mismatches == []
    rows = [r for r in report.rows if r["check"] == "video"]
    assert len(rows) == 1 and rows[0]["status"] == "ok" and "identical bytes" in rows[0]["detail"]


def test_verify_catches_a_swapped_video(release: Path, tmp_path: Path) -> None:
    copy = tmp_path / "r"
    shutil.copytree(release, copy, ignore=shutil.ignore_patterns(".cache"))
    t, doc = _token(copy, "alpha")
    doc["properties"]["video"]["treatment"] = "orbit"  # the metadata now claims another render
    (copy / t["metadata_path"]).write_text(json.dumps(doc))
    report = verify_release(copy, rerender=True, chain=False)
    bad = [r for r in report.mismatches if r["check"] == "video"]
    assert bad and "different frames" in bad[0]["detail"]


def test_spec_video_is_a_boolean(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    assert [t.video for t in load_spec(spec).tracks] == [False, False]
    spec.write_text(spec.read_text().replace('artist = "Fixture"', 'artist = "Fixture"\nvideo = true'))
    assert [t.video for t in load_spec(spec).tracks] == [True, True]
    spec.write_text(spec.read_text().replace("video = true", 'video = "yes"'))
    with pytest.raises(SpecError, match="video"):
        load_spec(spec)


def test_chromium_plays_the_video_in_the_preview(release: Path) -> None:
    """The preview page shows the clip in place of the cover; Play advances the <video> element."""
    from playwright.sync_api import sync_playwright

    from songmint.preview import build_preview
    from tests.test_preview import CHROMIUM, FLAGS

    site = build_preview(release).parent
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((site / "index.html").as_uri())
        page.locator(".card", has_text="Alpha").first.click()
        page.wait_for_selector("#player[data-ready]", timeout=30_000)
        assert page.locator(".art video").count() == 1
        page.click("button.play")
        page.wait_for_function("document.querySelector('.art video').currentTime > 0.3", timeout=20_000)
        size = page.evaluate("[document.querySelector('.art video').videoWidth, "
                             "document.querySelector('.art video').videoHeight]")
        browser.close()
    assert size == [128, 128] and errors == []
