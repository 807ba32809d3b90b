"""``songmint verify RELEASE_DIR | METADATA``: check a release against its own claims.

Checks, each reported as a row (ok / MISMATCH / skipped with the reason):

- every asset in ``manifest.json``: present, sha256 and CID recomputed;
- every token's metadata document: its hash, and each ``properties.assets`` entry's sha256
  and CID against the file on disk;
- ``release.car``: every block hashes to its CID, no missing links, root CID as recorded,
  and the root recomputed from ``assets/ + metadata/ + collection.json``;
- tracks from deterministic engines (composer, units): re-rendered from the recorded request
  and compared byte for byte with the lossless asset;
- on a reachable network, every published claim against what the chain says: the contract's
  name, symbol, ``contractURI`` and URI prefix; the royalty (``royaltyInfo``) against
  ``collection.json``'s ``seller_fee_basis_points``/``fee_recipient`` and the spec's declared
  values, and per token; each token's ``uri(id)``, cap (also as its metadata states it) and
  ``totalSupply``.

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
            if cand.is_dir() and m.is_file() and _root_cid(m) == root:
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


def _root_cid(manifest_path: Path) -> str | None:
    """The ``root_cid`` of a manifest file, or ``None`` when it is not a readable manifest."""
    from songmint.preview import loads_shallow

    try:
        doc = loads_shallow(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return doc.get("root_cid") if isinstance(doc, dict) else None


def verify_release(
    release_dir: Path,
    *,
    only: str | None = None,
    rerender: bool = True,
    chain: bool = True,
    client: Any = None,
) -> Report:
    """Run every check on ``release_dir`` (restricted to one token's metadata path with ``only``).

    ``client`` is a connected :class:`minting.chain.ChainClient` to check the chain through
    (default: connect to the manifest's network); tests pass one on an in-memory chain.
    """
    from minting.unixfs import cid_of_file
    from songmint.preview import load_manifest

    manifest = load_manifest(release_dir, strict=True)
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
        _check_chain(release_dir, manifest, tokens, report, client)
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
    from songmint.preview import loads_shallow

    try:
        doc = loads_shallow(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        doc = None
    records = doc.get("properties", {}).get("assets", []) if isinstance(doc, dict) else None
    if not isinstance(records, list) or not all(
        isinstance(r, dict) and all(isinstance(r.get(k), str) for k in ("role", "sha256", "cid", "uri"))
        for r in records
    ):
        report.bad("metadata", t["metadata_path"], "not a token metadata document with properties.assets")
        return
    on_disk = {role: rel for role, rel in t.get("assets", {}).items()}
    bad = 0
    for rec in records:
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
        report.ok("metadata", t["metadata_path"], f"{len(records)} assets match")


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
    missing = [n for n in ("assets", "metadata", "collection.json") if not (root / n).exists()]
    if missing:
        report.bad("root CID", "assets+metadata", f"{', '.join(missing)} missing from the release folder")
        return
    stage = Path(tempfile.mkdtemp(prefix=".verify."))
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
    subject = str(t.get("title"))
    if not req:
        report.skip("re-render", subject, "not generated (a file track)")
        return
    problem = _request_problem(req, t)
    if problem:
        report.bad("re-render", subject, f"the recorded request is damaged ({problem})")
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
    take = run_request(req["engine"], request, source=src_path, source_stems=stems_dir)
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


def _request_problem(req: dict[str, Any], t: dict[str, Any]) -> str | None:
    """What is wrong with a token's recorded render request (``None`` when it can be replayed)."""
    kinds: dict[str, Any] = {"engine": str, "seed": int, "params": dict}
    for key, kind in kinds.items():
        if not isinstance(req.get(key), kind) or isinstance(req.get(key), bool):
            return f"{key} must be {kind.__name__}"
    if req.get("prompt") is not None and not isinstance(req["prompt"], str):
        return "prompt must be text"
    if req.get("stem") is not None and not isinstance(req["stem"], str):
        return "stem must be text"
    sec = req.get("seconds")
    if sec is not None and (isinstance(sec, bool) or not isinstance(sec, int | float) or not 0 < sec <= 3600):
        return "seconds must be a number in (0, 3600]"
    src = req.get("source")
    if src is not None and not (
        isinstance(src, dict) and isinstance(src.get("path"), str) and isinstance(src.get("sha256"), str)
        and (src.get("stems") is None or isinstance(src["stems"], str))
    ):
        return "source must have path and sha256"
    if not isinstance(t.get("assets", {}).get("lossless"), str):
        return "no lossless asset to compare with"
    return None


def _check_chain(
    root: Path, manifest: dict[str, Any], tokens: list[dict[str, Any]], report: Report, client: Any = None
) -> None:
    ch = manifest.get("chain") or {}
    if manifest.get("dry_run") or not ch.get("contract"):
        report.skip("chain", "-", "dry run: nothing was minted")
        return
    network = ch.get("network")
    if not isinstance(network, str) or not isinstance(ch["contract"], str):
        report.bad("contract", str(ch.get("contract")), "the manifest's chain table is damaged")
        return
    from minting.chain import ChainError, connect

    if client is None:
        if network == "memory":
            report.skip("chain", network, "the in-memory chain ended with the release process")
            return
        chain_id = ch.get("chain_id")
        try:
            # autostart: a stopped local anvil comes back with its saved state
            client = connect(network, chain_id=chain_id if isinstance(chain_id, int) else None)
        except (ChainError, SongmintError) as exc:
            report.bad("contract", ch["contract"], " ".join(str(exc).split()))
            return
    try:
        info = client.contract_info(ch["contract"])
    except (ChainError, SongmintError) as exc:
        report.bad("contract", ch["contract"], " ".join(str(exc).split()))
        return
    _check_collection_claims(root, manifest, info, report)
    contract = client.editions(ch["contract"])
    for t in tokens:
        _check_token_claims(root, t, client, contract, info, report)


def _same_address(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.lower() == b.lower()


ZERO_ADDRESS = "0x" + "0" * 40


def _published_royalty(root: Path, report: Report) -> tuple[str | None, int] | None:
    """``(fee_recipient, seller_fee_basis_points)`` as collection.json publishes them
    (``(None, 0)`` when it publishes no royalty); ``None`` when it cannot be read."""
    from songmint.preview import loads_shallow

    try:
        doc = loads_shallow((root / "collection.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        report.bad("royalty", "collection.json", "missing or not JSON: the published royalty is unknown")
        return None
    if not isinstance(doc, dict):
        report.bad("royalty", "collection.json", "not a JSON object")
        return None
    bps, to = doc.get("seller_fee_basis_points"), doc.get("fee_recipient")
    if bps is None and to is None:
        return None, 0
    if isinstance(bps, bool) or not isinstance(bps, int) or not isinstance(to, str):
        report.bad("royalty", "collection.json", f"seller_fee_basis_points {bps!r} / fee_recipient {to!r}")
        return None
    return to, bps


def _check_collection_claims(
    root: Path, manifest: dict[str, Any], info: dict[str, Any], report: Report
) -> None:
    """Name, symbol, contractURI, the URI prefix and the royalty, as published, against the chain."""
    col = manifest.get("collection") or {}
    problems = []
    for key, chain_key in (("name", "name"), ("symbol", "symbol"), ("uri", "contract_uri")):
        if col.get(key) is not None and col[key] != info[chain_key]:
            problems.append(f"{chain_key} {info[chain_key]!r} ≠ manifest {col[key]!r}")
    prefix = manifest.get("uri_prefix")
    if prefix is not None and prefix not in info["uri_prefixes"]:
        problems.append(f"URI prefix {prefix} is not registered")
    if problems:
        report.bad("contract", info["address"], "; ".join(problems))
    else:
        report.ok("contract", info["address"], f"{info['name']} ({info['symbol']}), contractURI, URI prefix")
    receiver, bps = info["royalty_receiver"], int(info["royalty_bps"])
    where = f"royaltyInfo says {bps} bps to {receiver}"
    problems = []
    published = _published_royalty(root, report)
    if published is not None:
        to, fee = published
        if fee != bps:
            problems.append(f"collection.json publishes {fee} bps")
        if fee and not _same_address(to, receiver):
            problems.append(f"collection.json names fee_recipient {to}")
    declared_bps, declared_to = col.get("royalty_bps"), col.get("royalty_receiver")
    if isinstance(declared_bps, int) and declared_bps != bps:
        problems.append(f"the spec declared {declared_bps} bps")
    if declared_to is not None and bps and not _same_address(declared_to, receiver):
        problems.append(f"the spec declared receiver {declared_to}")
    if bps and _same_address(receiver, ZERO_ADDRESS):
        problems.append("the receiver is the zero address")
    if problems:
        report.bad("royalty", "collection", f"{where}; " + "; ".join(problems))
    elif published is not None:
        report.ok("royalty", "collection", where + ", as published")


def _token_doc(root: Path, t: dict[str, Any]) -> dict[str, Any]:
    from songmint.preview import loads_shallow

    try:
        doc = loads_shallow((root / t["metadata_path"]).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _check_token_claims(
    root: Path, t: dict[str, Any], client: Any, contract: Any, info: dict[str, Any], report: Report
) -> None:
    """uri, cap, supply and royalty of one token on chain against the manifest and its metadata."""
    subject = str(t.get("title"))
    tok = client.token_info(contract.address, t["id"])
    problems = []
    if not tok["exists"]:
        report.bad("on chain", subject, f"token {t['id']} does not exist on the contract")
        return
    if tok["uri"] != t.get("metadata_uri"):
        problems.append(f"uri {tok['uri']!r} ≠ {t.get('metadata_uri')!r}")
    if tok["cap"] != t.get("cap"):
        problems.append(f"cap {tok['cap']} ≠ {t.get('cap')}")
    doc = _token_doc(root, t)
    props = doc.get("properties") if isinstance(doc.get("properties"), dict) else {}
    editions = props.get("editions") if isinstance(props.get("editions"), dict) else {}
    if "cap" in editions and editions["cap"] != tok["cap"]:
        problems.append(f"cap {tok['cap']} ≠ metadata properties.editions.cap {editions['cap']}")
    attrs = doc.get("attributes") if isinstance(doc.get("attributes"), list) else []
    for a in attrs:
        if isinstance(a, dict) and a.get("trait_type") == "Edition cap" and a.get("value") != tok["cap"]:
            problems.append(f"cap {tok['cap']} ≠ metadata attribute 'Edition cap' {a.get('value')}")
    if "token_id" in props and str(props["token_id"]) != str(t["id"]):
        problems.append(f"metadata properties.token_id {props['token_id']} ≠ {t['id']}")
    if t.get("minted") is not None and tok["supply"] != t["minted"]:
        problems.append(f"totalSupply {tok['supply']} ≠ minted {t['minted']}")
    if t.get("initial") is not None and tok["supply"] < t["initial"]:
        problems.append(f"totalSupply {tok['supply']} < initial {t['initial']}")
    receiver, amount = contract.functions.royaltyInfo(t["id"], 10_000).call()
    if int(amount) != int(info["royalty_bps"]) or not _same_address(receiver, info["royalty_receiver"]):
        problems.append(f"royaltyInfo {amount} bps to {receiver} ≠ the published collection royalty")
    if problems:
        report.bad("on chain", subject, "; ".join(problems))
    else:
        report.ok("on chain", subject, f"uri, cap {tok['cap']}, supply {tok['supply']}, royalty")


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
