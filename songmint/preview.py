"""The listener preview: a static site for a release folder, and the per-token HTML player.

``songmint preview RELEASE_DIR`` writes ``RELEASE_DIR/preview/``: a grid of covers with
titles and key/BPM badges (``index.html``) and a page per token (``token.html?id=<hex>``)
with a waveform player, every trait as a badge with its rarity, a stem mixer (mute/solo,
all stems on one WebAudio clock), edition info and chain details. No CDN and no network:
pages load their data with ``<script>`` tags, so they work from ``file://``, a local server
(``--serve``) or IPFS.

The same player, as one self-contained HTML file with relative links to the token's audio,
is each token's ``animation_url`` (see :func:`render_player`).

The site is built from ``manifest.json`` (see :mod:`songmint.release`): each token entry
carries its title, artist, key/BPM, traits with rarity, waveform peaks and asset paths.
"""

from __future__ import annotations

import base64
import functools
import http.server
import itertools
import json
import os
import re
import shutil
import tempfile
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import click
import numpy as np

from songmint.errors import SongmintError

PREVIEW_DIR = "preview"
MANIFEST = "manifest.json"
WAVEFORM_POINTS = 480
BUNDLE_LIMIT_BYTES = 48 * 1024 * 1024
"""Largest audio (per token) embedded as base64 for ``file://`` playback of the stems."""

SITE_MARKER = ".songmint-preview"
"""File in every preview site: marks a folder songmint may replace on the next build."""
_SITE_FILES = ("index.html", "token.html")
_STATIC_FILES = ("style.css", "player.js", "site.js")
_SITE_NAMES = {*_SITE_FILES, "static", "data", "media", SITE_MARKER}


def asset_text(name: str) -> str:
    """The text of packaged preview asset ``name`` (HTML, CSS or JS)."""
    return resources.files("songmint.preview_assets").joinpath(name).read_text(encoding="utf-8")


def waveform_peaks(samples: np.ndarray, *, points: int = WAVEFORM_POINTS) -> list[int]:
    """Peak envelope for drawing a waveform.

    Parameters
    ----------
    samples : np.ndarray, shape=(channels, n) or (n,)
        Audio samples in [-1, 1].
    points : int
        Number of bins.

    Returns
    -------
    list of int, length ``points``
        Per-bin peak of ``|x|`` (channel max), scaled so the loudest bin is 1000.
    """
    x = np.abs(np.asarray(samples, dtype=np.float32))
    if x.ndim == 2:
        x = x.max(axis=0)
    if x.size == 0:
        return [0] * points
    edges = np.linspace(0, x.size, points + 1).astype(np.int64)
    peaks = np.array([x[a:max(b, a + 1)].max() if a < x.size else 0.0 for a, b in itertools.pairwise(edges)])
    top = float(peaks.max()) or 1.0
    return [round(1000 * float(p) / top) for p in peaks]


def _script_json(value: Any) -> str:
    """JSON safe to inline inside ``<script>`` (no ``</script>`` or HTML comment openers)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_player(token: dict[str, Any]) -> str:
    """The self-contained HTML player of one token (its ``animation_url``).

    Parameters
    ----------
    token : dict
        A token view (keys as in :func:`token_view`) whose ``mix``, ``cover`` and stem
        ``url`` values are paths relative to the folder the HTML file will sit in.

    Returns
    -------
    str
        One HTML document with the CSS and JavaScript inlined; it links only to the
        token's own audio and cover, by relative URL.
    """
    html = asset_text("player.html")
    title = str(token.get("title", "songmint"))
    for key, value in (("{{TITLE}}", _html_escape(title)), ("{{CSS}}", asset_text("style.css")),
                       ("{{DATA}}", _script_json(token)), ("{{PLAYER_JS}}", asset_text("player.js"))):
        html = html.replace(key, value)
    return html


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# --------------------------------------------------------------------------- the site


def load_manifest(release_dir: Path, *, strict: bool = False) -> dict[str, Any]:
    """The parsed and shape-checked ``manifest.json`` of a release folder.

    Raises
    ------
    SongmintError
        No manifest, not JSON, or not the shape ``songmint release`` writes (see
        :func:`check_manifest`).
    """
    path = release_dir / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SongmintError(f"{release_dir}: no {MANIFEST}; is this a release folder written by "
                            "`songmint release`?") from exc
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise SongmintError(f"{path}: cannot read the manifest ({why})") from exc
    try:
        manifest = loads_shallow(text)
    except json.JSONDecodeError as exc:
        raise SongmintError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    except ValueError as exc:
        raise SongmintError(f"{path}: not a manifest ({exc})") from exc
    return check_manifest(manifest, path, strict=strict)


MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def loads_shallow(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads``, refusing documents nested deeper than ``max_depth`` before parsing.

    The C decoder recurses once per level; ``[`` × 100 000 overflows the C stack (a segfault)
    where the interpreter's recursion limit has been raised, as test runners and some libraries do.

    Raises
    ------
    ValueError
        Nested too deeply (:class:`json.JSONDecodeError`, a subclass, for invalid JSON).
    """
    depth = top = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if m.group() in "[{" else -1
        top = max(top, depth)
        if top > max_depth:
            raise ValueError(f"JSON nested more than {max_depth} levels deep")
    return json.loads(text)


_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _relative(value: Any) -> bool:
    """Whether ``value`` is a path inside the release folder (relative, no ``..``, no NUL)."""
    if not isinstance(value, str) or not value or "\0" in value or "\\" in value:
        return False
    pure = PurePosixPath(value)
    return not pure.is_absolute() and ".." not in pure.parts


def check_manifest(manifest: Any, path: Path, *, strict: bool = False) -> dict[str, Any]:
    """Check that ``manifest`` has the shape ``songmint release`` writes; return it.

    Only what :func:`build_preview` and ``songmint verify`` read is checked: ``tokens`` (each
    with an integer ``id``, its 64-hex ``id_hex``, and asset paths inside the folder),
    ``assets`` (path, sha256, CID), and the ``collection`` and ``chain`` tables. ``strict``
    (for ``verify``) also requires the hashes, CIDs and metadata paths that are checked.

    Raises
    ------
    SongmintError
        One line naming the manifest and the first key that is wrong.
    """

    def bad(where: str, what: str) -> SongmintError:
        return SongmintError(f"{path}: {where}: {what}; the manifest is damaged or not one "
                             "`songmint release` wrote (run the release again to rewrite it)")

    if not isinstance(manifest, dict):
        raise bad("top level", f"must be a JSON object, got {type(manifest).__name__}")
    for key in ("collection", "chain", "car", "storage"):
        if manifest.get(key) is not None and not isinstance(manifest[key], dict):
            raise bad(key, "must be an object")
    for key in ("root_cid", "uri_prefix"):
        if manifest.get(key) is not None and not isinstance(manifest[key], str):
            raise bad(key, "must be a string")
    tokens = manifest.get("tokens", [])
    if not isinstance(tokens, list):
        raise bad("tokens", "must be a list")
    for i, t in enumerate(tokens):
        w = f"tokens[{i}]"
        if not isinstance(t, dict):
            raise bad(w, "must be an object")
        tid = t.get("id")
        if isinstance(tid, bool) or not isinstance(tid, int) or not 0 <= tid < 2**256:
            raise bad(f"{w}.id", f"must be a token id (an integer ≥ 0), got {tid!r}")
        hex_id = t.get("id_hex")
        if not isinstance(hex_id, str) or not _HEX64.match(hex_id) or int(hex_id, 16) != tid:
            raise bad(f"{w}.id_hex", "must be the id as 64 lowercase hex digits")
        assets = t.get("assets", {})
        if not isinstance(assets, dict):
            raise bad(f"{w}.assets", "must be an object of role → path")
        for role, rel in assets.items():
            if not _relative(rel):
                raise bad(f"{w}.assets.{role}", f"{rel!r} is not a path inside the release folder")
        if ("metadata_path" in t or strict) and not _relative(t.get("metadata_path")):
            raise bad(f"{w}.metadata_path", "must be a path inside the release folder")
        if strict and not isinstance(t.get("metadata_sha256"), str):
            raise bad(f"{w}.metadata_sha256", "must be a string")
        for key in ("title", "artist", "metadata_sha256", "metadata_uri", "recipient"):
            if t.get(key) is not None and not isinstance(t[key], str):
                raise bad(f"{w}.{key}", "must be a string")
        for key in ("cap", "initial", "minted"):
            v = t.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                raise bad(f"{w}.{key}", "must be an integer")
        for key in ("traits", "txs", "waveform"):
            if t.get(key) is not None and not isinstance(t[key], list):
                raise bad(f"{w}.{key}", "must be a list")
        if t.get("request") is not None and not isinstance(t["request"], dict):
            raise bad(f"{w}.request", "must be an object")
    files = manifest.get("assets", [])
    if not isinstance(files, list):
        raise bad("assets", "must be a list")
    for i, a in enumerate(files):
        if not isinstance(a, dict):
            raise bad(f"assets[{i}]", "must be an object")
        if not _relative(a.get("path")):
            raise bad(f"assets[{i}].path", f"{a.get('path')!r} is not a path inside the release folder")
        for key in ("sha256", "cid"):
            if (strict or key in a) and not isinstance(a.get(key), str):
                raise bad(f"assets[{i}].{key}", "must be a string")
        if a.get("token") is not None and (isinstance(a["token"], bool) or not isinstance(a["token"], int)):
            raise bad(f"assets[{i}].token", "must be a token id")
    if strict and not isinstance(manifest.get("root_cid"), str):
        raise bad("root_cid", "must be a string")
    return manifest


def token_view(entry: dict[str, Any], manifest: dict[str, Any], *, base: str = "") -> dict[str, Any]:
    """What the player shows for one manifest token entry.

    ``base`` is prepended to nothing here: media paths are relative to the token's media
    folder and the page passes the folder as the player's base URL.
    """
    assets = entry.get("assets", {})
    stems = sorted((k.split(":", 1)[1], v) for k, v in assets.items() if k.startswith("stem:"))
    chain = manifest.get("chain", {}) or {}
    return {
        "id": entry["id_hex"],
        "token_id": str(entry["id"]),
        "title": entry.get("title"),
        "artist": entry.get("artist"),
        "genre": entry.get("genre"),
        "license": entry.get("license"),
        "key": entry.get("key"),
        "camelot": entry.get("camelot"),
        "bpm": entry.get("bpm"),
        "duration_s": entry.get("duration_s"),
        "traits": entry.get("traits", []),
        "rarity_score": entry.get("rarity_score"),
        "waveform": entry.get("waveform", []),
        "stem_gain": entry.get("stem_gain", 1.0),
        "editions": {"cap": entry.get("cap"), "minted": entry.get("minted"),
                     "recipient": entry.get("recipient")},
        "chain": {"network": chain.get("network"), "chain_id": chain.get("chain_id"),
                  "contract": chain.get("contract"), "txs": entry.get("txs", [])},
        "metadata_uri": entry.get("metadata_uri"),
        "mix": Path(assets["mix"]).name if "mix" in assets else None,
        "video": Path(assets["video"]).name if "video" in assets else None,
        "cover": Path(assets.get("cover", "")).name,
        "thumbnail": Path(assets.get("cover_thumbnail") or assets.get("thumbnail") or assets.get("cover", "")
                          ).name,
        "stems": [{"name": name, "url": f"stems/{Path(path).name}"} for name, path in stems],
    }


def _place(src: Path, dest: Path, role: str) -> None:
    """Hard-link ``src`` to ``dest`` (copy across file systems)."""
    if not src.is_file():
        raise SongmintError(f"{src}: the manifest's {role} asset is missing; "
                            "run the release again to restore it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def build_preview(release_dir: str | os.PathLike[str], *, out: str | os.PathLike[str] | None = None,
                  bundle_limit: int = BUNDLE_LIMIT_BYTES) -> Path:
    """Write the preview site of a release folder.

    Parameters
    ----------
    release_dir : path
        A folder with ``manifest.json`` (written by ``songmint release``).
    out : path, optional
        Where to write the site; default ``release_dir/preview``. It is assembled in a
        temporary sibling and renamed into place.
    bundle_limit : int
        Per-token cap, in bytes, on audio embedded as base64 so that the stem mixer also
        works from ``file://``; larger tokens play their mix with a plain audio element
        there (and everything over http or IPFS).

    Returns
    -------
    Path
        The site's ``index.html``.
    """
    root = Path(release_dir)
    manifest = load_manifest(root)
    dest = Path(out) if out else root / PREVIEW_DIR
    _check_replaceable(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    except OSError as exc:
        raise SongmintError(f"{dest}: cannot write the preview here ({exc.strerror or exc})") from exc
    old = None
    try:
        _make_site(root, tmp, manifest, bundle_limit)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)  # mkdtemp makes it private (0700); a site is meant to be read
        if dest.exists():  # checked by _check_replaceable: an empty folder or an earlier preview site
            old = dest.with_name(f".{dest.name}.old.{os.getpid()}")
            os.replace(dest, old)
        os.replace(tmp, dest)
    except OSError as exc:
        raise SongmintError(f"{dest}: cannot write the preview ({exc.strerror or exc})") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return dest / "index.html"


def _check_replaceable(dest: Path) -> None:
    """Refuse to replace anything at ``dest`` but an empty folder or a preview site songmint wrote.

    A site is recognised by its marker file (:data:`SITE_MARKER`), or, for sites written before
    the marker existed, by holding only the names a site holds, ``index.html`` among them.
    """
    if not dest.exists() and not dest.is_symlink():
        return
    if dest.is_symlink() or not dest.is_dir():
        raise SongmintError(f"{dest}: exists and is not a folder; choose another --out")
    names = {p.name for p in dest.iterdir()}
    if not names or SITE_MARKER in names or (names <= _SITE_NAMES and "index.html" in names):
        return
    raise SongmintError(f"{dest}: folder is not empty and is not a preview songmint wrote; "
                        "nothing was changed (choose another --out, or empty it first)")


def _make_site(root: Path, tmp: Path, manifest: dict[str, Any], bundle_limit: int) -> None:
    for name in _SITE_FILES:
        (tmp / name).write_text(asset_text(name), encoding="utf-8")
    (tmp / "static").mkdir()
    for name in _STATIC_FILES:
        (tmp / "static" / name).write_text(asset_text(name), encoding="utf-8")
    views = [_token_media(root, tmp, entry, manifest, bundle_limit) for entry in manifest.get("tokens", [])]
    data = {
        "collection": manifest.get("collection") or {},
        "chain": manifest.get("chain") or {},
        "root_cid": manifest.get("root_cid"),
        "dry_run": bool(manifest.get("dry_run", False)),
        "tokens": views,
    }
    (tmp / "data").mkdir()
    (tmp / "data" / "release.js").write_text(f"window.SONGMINT_RELEASE = {_script_json(data)};\n")
    from songmint.mint_page import add_mint_page  # the Collect panel, where the release sells

    add_mint_page(tmp, manifest, root)
    (tmp / SITE_MARKER).write_text("a preview site written by `songmint preview`; "
                                   "it is replaced whole on the next build\n")


def _token_media(root: Path, site: Path, entry: dict[str, Any], manifest: dict[str, Any],
                 bundle_limit: int) -> dict[str, Any]:
    view = token_view(entry, manifest)
    media = site / "media" / entry["id_hex"]
    assets = entry.get("assets", {})
    for role in ("mix", "cover", "cover_thumbnail", "thumbnail", "video"):
        if role in assets:
            _place(root / assets[role], media / Path(assets[role]).name, role)
    for role, rel in assets.items():
        if role.startswith("stem:"):
            _place(root / rel, media / "stems" / Path(rel).name, role)
    view["base"] = f"media/{entry['id_hex']}/"
    audio = [view["mix"], *(s["url"] for s in view["stems"])]
    size = sum((media / a).stat().st_size for a in audio if a)
    if view["stems"] and size <= bundle_limit:
        bundle = {a: base64.b64encode((media / a).read_bytes()).decode("ascii") for a in audio}
        (media / "audio.js").write_text(
            "window.SONGMINT_AUDIO = window.SONGMINT_AUDIO || {};\n"
            f"window.SONGMINT_AUDIO[{json.dumps(entry['id_hex'])}] = {json.dumps(bundle)};\n")
        view["bundle"] = "audio.js"
    return view


# --------------------------------------------------------------------------- serving


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".mp4": "video/mp4"}

    def log_message(self, format: str, *args: Any) -> None:
        pass


def make_server(site: Path, *, port: int = 0, host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
    """An HTTP server for ``site`` on ``host:port`` (0 picks a free port); call ``serve_forever``."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise SongmintError(f"cannot listen on {host}:{port} ({exc.strerror}); "
                            "choose another --port") from exc


@click.command("preview")
@click.argument("release_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--serve", is_flag=True, help="Serve the site on localhost until Ctrl-C.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port for --serve (0 picks a free one).")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the site here instead of RELEASE_DIR/preview.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout (the site's index and URL).")
def preview(release_dir: Path, serve: bool, port: int, out: Path | None, as_json: bool) -> None:
    """Build the listener preview site of RELEASE_DIR (a folder written by `songmint release`).

    The site works from file://, any static server, or IPFS: a grid of covers, and a page
    per token with a waveform player, trait badges with rarity, a stem mixer, and edition
    and chain details.
    """
    from songmint.console import output

    index = build_preview(release_dir, out=out)
    out_ = output()
    out_.info(f"preview: {index.resolve().as_uri()}")
    server = make_server(index.parent, port=port) if serve else None
    if as_json:
        from songmint.console import print_json

        doc = {"index": str(index), "url": index.resolve().as_uri()}
        if server is not None:
            doc["serving"] = "http://{}:{}/".format(*server.server_address[:2])
        print_json(doc)
    else:
        click.echo(str(index))
    if server is not None:
        host, bound = server.server_address[:2]
        out_.info(f"serving http://{host}:{bound}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
