"""The preview site: built from a synthetic release, checked in real headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from songmint.cli import main
from songmint.errors import SongmintError
from songmint.preview import build_preview, make_server, render_player, token_view, waveform_peaks
from tests.preview_fixture import make_release

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_release(tmp_path_factory.mktemp("release") / "out")
    build_preview(root)
    return root


def test_waveform_peaks_shape_and_scale() -> None:
    import numpy as np

    x = np.zeros((2, 1000), dtype=np.float32)
    x[1, 500] = 0.5
    peaks = waveform_peaks(x, points=10)
    assert len(peaks) == 10 and max(peaks) == 1000 and peaks[5] == 1000 and peaks[0] == 0


def test_site_files_and_data(release: Path) -> None:
    site = release / "preview"
    for rel in (
        "index.html",
        "token.html",
        "static/player.js",
        "static/site.js",
        "static/style.css",
        "data/release.js",
    ):
        assert (site / rel).is_file(), rel
    text = (site / "data" / "release.js").read_text()
    data = json.loads(text.split("=", 1)[1].rstrip().rstrip(";"))
    assert [t["title"] for t in data["tokens"]] == ["Alpha Wave", "Beta Drift"]
    first = data["tokens"][0]
    assert (site / first["base"] / first["mix"]).is_file()
    assert all((site / first["base"] / s["url"]).is_file() for s in first["stems"])
    # No network: every src/href is relative (no scheme, no protocol-relative URL).
    for page in ("index.html", "token.html"):
        html = (site / page).read_text()
        assert not re.search(r'(src|href)="(https?:)?//', html)


def test_player_html_is_self_contained(release: Path) -> None:
    manifest = json.loads((release / "manifest.json").read_text())
    view = token_view(manifest["tokens"][0], manifest)
    view["title"] = "A </script><b>title"
    html = render_player(view)
    assert "</script><b>" not in html.split("<script>window.SONGMINT_TOKEN", 1)[1].split(";</script>")[0]
    assert "<link" not in html and 'src="http' not in html
    assert "SongmintPlayer" in html and "alpha.mp3" in html


def test_preview_command_and_missing_manifest(release: Path, tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["preview", str(release), "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "index.html").is_file()
    result = runner.invoke(main, ["preview", str(tmp_path)])
    assert result.exit_code == 2 and "no manifest.json" in result.output
    with pytest.raises(SongmintError):
        build_preview(tmp_path / "nothing")


def _launch(p):  # type: ignore[no-untyped-def]
    return p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)


def test_browser_grid_token_play_and_mixer(release: Path, tmp_path: Path) -> None:
    """Load the grid from file://, open a token, play, mute a stem; screenshots."""
    from playwright.sync_api import sync_playwright

    site = release / "preview"
    errors: list[str] = []
    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport={"width": 1200, "height": 820})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((site / "index.html").as_uri())
        cards = page.locator(".card")
        assert cards.count() == 2
        assert page.locator(".card h2").all_text_contents() == ["Alpha Wave", "Beta Drift"]
        badges = page.locator(".card").first.locator(".badge").all_text_contents()
        assert "8A" in badges and "120 BPM" in badges and "2/10" in badges
        assert page.evaluate("document.querySelector('.card img').naturalWidth") > 0
        page.screenshot(path=str(tmp_path / "grid.png"))

        cards.first.click()
        page.wait_for_selector("#player[data-ready]", timeout=30_000)
        assert page.get_attribute("#player", "data-ready") == "webaudio"
        assert page.locator(".trait").count() == 3
        assert "50%" in page.locator(".trait[data-trait=key]").text_content()

        page.click("button.play")
        page.wait_for_selector("#player[data-state=playing]")
        t0 = page.evaluate("window.songmintPlayer.currentTime()")
        page.wait_for_function("window.songmintPlayer.currentTime() > 0.5", timeout=10_000)
        t1 = page.evaluate("window.songmintPlayer.currentTime()")
        assert t1 > t0 + 0.4
        assert page.evaluate("window.songmintPlayer.ctx.state") == "running"

        page.click(".row[data-stem=drums] button.mute")
        state = page.evaluate("window.songmintPlayer.mixerState()")
        assert state["source"] == "stems" and state["mixGain"] == 0
        assert state["stems"]["drums"] == {"mute": True, "solo": False, "audible": False, "gain": 0}
        assert state["stems"]["chords"]["audible"] and state["stems"]["chords"]["gain"] > 0
        assert page.get_attribute(".row[data-stem=drums] button.mute", "aria-pressed") == "true"
        page.click(".row[data-stem=chords] button.solo")
        state = page.evaluate("window.songmintPlayer.mixerState()")
        assert state["stems"]["chords"]["solo"] and not state["stems"]["drums"]["audible"]
        page.screenshot(path=str(tmp_path / "token.png"))
        browser.close()
    assert errors == []
    assert (tmp_path / "grid.png").stat().st_size > 1000 and (tmp_path / "token.png").stat().st_size > 1000


def test_browser_standalone_player_over_http(release: Path, tmp_path: Path) -> None:
    """The animation_url player, served by a local server: decodes with fetch, plays."""
    from playwright.sync_api import sync_playwright

    manifest = json.loads((release / "manifest.json").read_text())
    entry = manifest["tokens"][1]
    folder = tmp_path / "token"
    shutil.copytree(release / "assets" / entry["track"], folder)
    view = token_view(entry, manifest)
    (folder / "player.html").write_text(render_player(view))
    server = make_server(folder, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/player.html"
    try:
        assert urllib.request.urlopen(url, timeout=5).status == 200
        with sync_playwright() as p:
            browser = _launch(p)
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("#player[data-ready]", timeout=30_000)
            assert page.get_attribute("#player", "data-ready") == "webaudio"
            page.click("button.play")
            start = time.monotonic()
            page.wait_for_function("window.songmintPlayer.currentTime() > 0.3", timeout=10_000)
            assert time.monotonic() - start < 10
            assert page.evaluate("Object.keys(window.songmintPlayer.mixerState().stems).sort()") == [
                "chords",
                "drums",
            ]
            # From file:// fetch() is refused: the same file falls back to a plain <audio> element.
            page.goto((folder / "player.html").as_uri())
            page.wait_for_selector("#player[data-ready]", timeout=30_000)
            assert page.get_attribute("#player", "data-ready") == "element"
            page.click("button.play")
            page.wait_for_function("window.songmintPlayer.currentTime() > 0.3", timeout=10_000)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def test_preview_serve_subprocess(release: Path) -> None:
    """`songmint preview DIR --serve --port 0` in a real process: the site answers over HTTP."""
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "songmint"
    proc = subprocess.Popen(
        [str(exe), "preview", str(release), "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            m = re.search(r"serving (http://127\.0\.0\.1:\d+/)", line)
            if m:
                url = m.group(1)
        assert url, "no serving line"
        html = urllib.request.urlopen(url + "index.html", timeout=10).read().decode()
        assert "data/release.js" in html
        data = urllib.request.urlopen(url + "data/release.js", timeout=10).read().decode()
        assert "Alpha Wave" in data
    finally:
        proc.terminate()
        proc.wait(timeout=10)
