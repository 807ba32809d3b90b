"""``songmint verify RELEASE_DIR | METADATA``: check a release against its own claims.

Checks, each reported as a row (ok / MISMATCH / skipped with the reason):

- every asset in ``manifest.json``: present, sha256 and CID recomputed;
- every token's metadata document: its hash, and each ``properties.assets`` entry's sha256
  and CID against the file on disk;
- ``release.car``: every block hashes to its CID, no missing links, root CID as recorded,
  and the root recomputed from ``assets/ + metadata/ + collection.json``;
- tracks from deterministic engines (composer, units): re-rendered from the recorded request
  and compared byte for byte with the lossless asset;
- on a reachable network: each token's on-chain ``uri(id)``, ``totalSupply`` and cap.

Exit status: 0 when everything checked matches, 3 when anything does not.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from music.hashing import sha256_file
from songmint.errors import SongmintError

DETERMINISTIC_ENGINES = ("composer", "units")
MISMATCH_EXIT = 3


@dataclass
class Report:
    rows: list[dict[str, str]] = field(default_factory=list)

    def add(self, check: str, subject: str, status: str, detail: str = "") -> None:
        self.rows.append({"check": check, "subject": subject, "status": status, "detail": detail})

    def ok(self, check: str, subject: str, detail: str = "") -> None:
        self.add(check, subject, "ok", detail)

    def bad(self, check: str, subject: str, detail: str) -> None:
        self.add(check, subject, "MISMATCH", detail)

    def skip(self, check: str, subject: str, detail: str) -> None:
        self.add(check, subject, "skipped", detail)

    @property
    def mismatches(self) -> list[dict[str, str]]:
        return [r for r in self.rows if r["status"] == "MISMATCH"]


def _sha256(path: Path) -> str:
    return sha256_file(path)


def resolve_target(target: str) -> tuple[Path, str | None]:
    """A release folder (and optionally one token's metadata path) from a CLI argument.

    Accepts a release folder, a ``metadata/<hex>.json`` file inside one (or its ``file://``
    URI), or an ``ipfs://<root>/metadata/<hex>.json`` URI when the current folder, or a folder
    one or two levels below it (``out/<name>``), holds that release.
    """
    if target.startswith("file://"):
        target = target[len("file://") :]
    if target.startswith("ipfs://"):
        root, _, rest = target[len("ipfs://") :].partition("/")
        for cand in [
            Path.cwd(),
            *sorted(Path.cwd().glob("*")),
            *sorted(Path.cwd().glob("*/*")),
        ]:
            m = cand / "manifest.json"
            if cand.is_dir() and m.is_file() and json.loads(m.read_text()).get("root_cid") == root:
                return cand, rest or None
        raise SongmintError(
            f"{target}: no release with root {root} here; run verify inside the release folder "
            "or pass the folder itself"
        )
    p = Path(target)
    if p.is_dir():
        return p, None
    if p.is_file() and p.parent.name == "metadata":
        return p.parent.parent, f"metadata/{p.name}"
    raise SongmintError(
        f"{target}: not a release folder or a metadata file; pass the folder written by `songmint release`"
    )


def verify_release(
    release_dir: Path, *, only: str | None = None, rerender: bool = True, chain: bool = True
) -> Report:
    """Run every check on ``release_dir`` (restricted to one token's metadata path with ``only``)."""
    from minting.unixfs import cid_of_file

    mpath = release_dir / "manifest.json"
    try:
        manifest = json.loads(mpath.read_text())
    except FileNotFoundError as exc:
        raise SongmintError(
            f"{release_dir}: no manifest.json; pass a folder written by `songmint release`"
        ) from exc
    report = Report()
    tokens = [t for t in manifest["tokens"] if only is None or t["metadata_path"] == only]
    if only is not None and not tokens:
        raise SongmintError(f"{only}: not a token of this release")
    ids = {t["id"] for t in tokens}
    by_path: dict[str, dict[str, Any]] = {}
    for a in manifest["assets"]:
        if only is not None and a.get("token") not in ids:
            continue
        by_path[a["path"]] = a
        f = release_dir / a["path"]
        if not f.is_file():
            report.bad("asset", a["path"], "missing")
            continue
        sha = _sha256(f)
        if sha != a["sha256"]:
            report.bad("asset sha256", a["path"], f"{sha[:16]}… ≠ manifest {a['sha256'][:16]}…")
            continue
        cid = cid_of_file(f)
        if cid != a["cid"]:
            report.bad("asset CID", a["path"], f"{cid} ≠ manifest {a['cid']}")
        else:
            report.ok("asset", a["path"], f"sha256 + CID {cid[:16]}…")
    for t in tokens:
        _check_metadata(release_dir, t, report)
    if only is None:
        _check_car(release_dir, manifest, report)
    if rerender:
        for t in tokens:
            _check_render(release_dir, t, report)
            if "video" in t.get("assets", {}):
                _check_video(release_dir, t, report)
    if chain:
        _check_chain(manifest, tokens, report)
    return report


def _check_metadata(root: Path, t: dict[str, Any], report: Report) -> None:
    from minting.unixfs import cid_of_file

    path = root / t["metadata_path"]
    if not path.is_file():
        report.bad("metadata", t["metadata_path"], "missing")
        return
    sha = _sha256(path)
    if sha != t["metadata_sha256"]:
        report.bad("metadata sha256", t["metadata_path"], "the document changed since the release")
        return
    doc = json.loads(path.read_text())
    on_disk = {role: rel for role, rel in t.get("assets", {}).items()}
    bad = 0
    for rec in doc.get("properties", {}).get("assets", []):
        rel = on_disk.get(rec["role"])
        if rel is None or not (root / rel).is_file():
            report.bad("metadata asset", f"{t['title']}: {rec['role']}", "file not in the release")
            bad += 1
            continue
        f = root / rel
        if _sha256(f) != rec["sha256"]:
            report.bad("metadata asset", rel, "sha256 differs from the minted metadata")
            bad += 1
        elif cid_of_file(f) != rec["cid"] or not rec["uri"].endswith(rec["cid"]):
            report.bad("metadata asset", rel, "CID differs from the minted metadata")
            bad += 1
    if not bad:
        report.ok(
            "metadata", t["metadata_path"], f"{len(doc.get('properties', {}).get('assets', []))} assets match"
        )


def _check_car(root: Path, manifest: dict[str, Any], report: Report) -> None:
    from minting.car import verify_car
    from minting.errors import MintingError
    from minting.unixfs import import_directory

    car = root / "release.car"
    if not car.is_file():
        report.bad("CAR", "release.car", "missing")
        return
    try:
        check = verify_car(car)
    except MintingError as exc:
        report.bad("CAR", "release.car", str(exc))
        return
    roots = [str(r) for r in check.roots]
    if roots != [manifest["root_cid"]]:
        report.bad("CAR root", "release.car", f"{roots} ≠ manifest {manifest['root_cid']}")
    else:
        report.ok("CAR", "release.car", f"{check.blocks} blocks verified, root {roots[0][:16]}…")
    stage = Path(tempfile.mkdtemp(prefix=".verify.", dir=root))
    try:
        for name in ("assets", "metadata"):
            shutil.copytree(root / name, stage / name)
        shutil.copy2(root / "collection.json", stage / "collection.json")
        recomputed, _ = import_directory(stage)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if recomputed != manifest["root_cid"]:
        report.bad(
            "root CID", "assets+metadata", f"recomputed {recomputed} ≠ manifest {manifest['root_cid']}"
        )
    else:
        report.ok("root CID", "assets+metadata", "recomputed from the files")


def _check_render(root: Path, t: dict[str, Any], report: Report) -> None:
    from music.audio import encode

    req = t.get("request")
    subject = t["title"]
    if not req:
        report.skip("re-render", subject, "not generated (a file track)")
        return
    if req["engine"] not in DETERMINISTIC_ENGINES:
        report.skip("re-render", subject, f"engine {req['engine']} is not byte-deterministic")
        return
    source = req.get("source")
    src_path = stems_dir = None
    if source:
        src_path = Path(source["path"])
        if not src_path.is_file():
            report.skip("re-render", subject, f"the continued audio {src_path} is not here")
            return
        if _sha256(src_path) != source["sha256"]:
            report.bad("re-render", subject, f"the continued audio {src_path} changed since the release")
            return
        stems_dir = Path(source["stems"]) if source.get("stems") else None
    from music.engines import Request
    from music.engines.run import run_request

    request = Request(
        prompt=req["prompt"], seconds=req["seconds"], seed=req["seed"], params=dict(req["params"])
    )
    from songmint.models_commands import engine_env_options

    take = run_request(req["engine"], request, source=src_path, source_stems=stems_dir,
                       **engine_env_options(req["engine"]))  # $SONGMINT_SOUNDFONT
    audio = take.mix if not req.get("stem") else take.stems[req["stem"]]
    # The pipeline stores takes as float WAV; round-trip the same way before encoding.
    from music.audio import Audio

    audio = Audio(audio.samples.astype("float32"), audio.sr)
    data = encode(audio, "flac")
    lossless = root / t["assets"]["lossless"]
    if hashlib.sha256(data).hexdigest() == _sha256(lossless):
        report.ok("re-render", subject, f"{req['engine']} seed {req['seed']}: identical FLAC bytes")
    else:
        report.bad("re-render", subject, f"{req['engine']} seed {req['seed']} renders different audio")


def _check_video(root: Path, t: dict[str, Any], report: Report) -> None:
    """Render the token's clip again from the release's own files and its ``properties.video``."""
    from songmint.release.videos import render_from_release

    props = json.loads((root / t["metadata_path"]).read_text()).get("properties", {})
    params, rel = props.get("video"), t["assets"]["video"]
    if not params:
        report.bad("video", rel, "the metadata has no properties.video to render it from")
        return
    with tempfile.TemporaryDirectory(prefix=".verify.", dir=root) as tmp:
        traits = {**props["traits"], **params["facts"]}
        v = render_from_release(root, t["assets"], traits, params, Path(tmp) / "v.mp4")
    if v.sha256 == _sha256(root / rel):
        report.ok("video", rel, f"re-rendered: identical bytes ({v.n_frames} frames)")
    elif v.frames_sha256 == params.get("frames_sha256"):
        report.ok("video", rel, "re-rendered: identical frames (the file differs: another ffmpeg build?)")
    else:
        report.bad("video", rel, "renders different frames from the release's files")


def _check_chain(manifest: dict[str, Any], tokens: list[dict[str, Any]], report: Report) -> None:
    ch = manifest.get("chain") or {}
    if manifest.get("dry_run") or not ch.get("contract"):
        report.skip("chain", "-", "dry run: nothing was minted")
        return
    network = ch["network"]
    if network == "memory":
        report.skip("chain", network, "the in-memory chain ended with the release process")
        return
    from minting.chain import ChainError, connect

    try:
        # autostart: a stopped local anvil comes back with its saved state
        client = connect(network, chain_id=ch.get("chain_id"))
        client.editions(ch["contract"])
    except (ChainError, SongmintError) as exc:
        report.bad("contract", ch["contract"], " ".join(str(exc).split()))
        return
    for t in tokens:
        info = client.token_info(ch["contract"], t["id"])
        problems = []
        if info["uri"] != t["metadata_uri"]:
            problems.append(f"uri {info['uri']!r} ≠ {t['metadata_uri']!r}")
        if info["cap"] != t["cap"]:
            problems.append(f"cap {info['cap']} ≠ {t['cap']}")
        if t.get("minted") is not None and info["supply"] != t["minted"]:
            problems.append(f"totalSupply {info['supply']} ≠ minted {t['minted']}")
        if problems:
            report.bad("on chain", t["title"], "; ".join(problems))
        else:
            report.ok("on chain", t["title"], f"uri, cap {info['cap']}, supply {info['supply']}")


@click.command("verify")
@click.argument("target", metavar="RELEASE_DIR|METADATA")
@click.option("--no-render", is_flag=True, help="Skip re-rendering deterministic tracks.")
@click.option("--no-chain", is_flag=True, help="Skip the on-chain checks.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
def verify(target: str, no_render: bool, no_chain: bool, as_json: bool) -> None:
    """Verify a release folder (or one token's metadata) against its files, CIDs, engines and chain.

    Exits 0 when everything matches and 3 when anything does not.
    """
    from songmint.console import output, print_json, wide_table

    root, only = resolve_target(target)
    report = verify_release(root, only=only, rerender=not no_render, chain=not no_chain)
    if as_json:
        print_json({"ok": not report.mismatches, "rows": report.rows})
    else:
        wide_table(
            f"verify {root}",
            [{k: r[k] for k in ("status", "check", "subject", "detail")} for r in report.rows],
        )
    o = output()
    if report.mismatches:
        o.info(
            f"{len(report.mismatches)} mismatch(es): "
            + "; ".join(f"{r['subject']}: {r['detail']}" for r in report.mismatches[:5])
        )
        raise click.exceptions.Exit(MISMATCH_EXIT)
    o.info(f"all {sum(r['status'] == 'ok' for r in report.rows)} checks passed")
