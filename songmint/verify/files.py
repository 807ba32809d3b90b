"""Claims about files: the token metadata's facts and asset hashes, and the CAR with its root CID."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from music.hashing import sha256_file
from songmint.verify.report import Report


def check_facts(root: Path, t: dict[str, Any], report: Report) -> None:
    """Tempo and key: the headline fields agree with each other, and what the analyser measured
    is reported where it contradicts a declared fact (``properties.musical_facts``)."""
    from songmint.preview import loads_shallow

    try:
        doc = loads_shallow((root / t["metadata_path"]).read_text(encoding="utf-8"))
        facts = doc["properties"]["musical_facts"]
        attrs = {a["trait_type"]: a["value"] for a in doc["attributes"]}
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, KeyError, TypeError):
        return  # check_metadata reports an unreadable document
    from music.traits.table import TRAITS

    subject = str(t.get("title"))
    tempo = attrs.get(TRAITS["tempo_bpm"].trait_type)
    problems = [
        f"{name} {shown!r} ≠ {facts.get(field)!r}"
        for name, shown, field in (
            ("Tempo attribute", None if tempo == "no pulse" else tempo, "bpm"),
            ("bpm", doc.get("bpm"), "bpm"),
            ("Key attribute", attrs.get("Key"), "key"),
            ("properties.musical_key", doc["properties"].get("musical_key"), "key"),
            ("key (Open Key)", doc.get("key"), "open_key"),
        )
        if shown is not None and shown != facts.get(field)
    ]
    if problems:
        report.bad("facts", subject, "; ".join(problems))
    elif facts.get("disagreements"):
        report.skip("facts", subject, "published as declared; " + "; ".join(facts["disagreements"]))
    else:
        report.ok("facts", subject, f"{facts.get('bpm')} BPM, {facts.get('key')} agree everywhere")


def file_unchanged(root: Path, rel: str, sha256: str, kind: str, report: Report, *,
                   changed: str | None = None) -> bool:
    """Whether ``root/rel`` exists with the recorded ``sha256``; reports ``kind`` "missing" or
    ``kind sha256`` (``changed``, default both hashes' prefixes) otherwise."""
    path = root / rel
    if not path.is_file():
        report.bad(kind, rel, "missing")
        return False
    sha = sha256_file(path)
    if sha != sha256:
        report.bad(f"{kind} sha256", rel, changed or f"{sha[:16]}… ≠ manifest {sha256[:16]}…")
        return False
    return True


def check_metadata(root: Path, t: dict[str, Any], report: Report) -> None:
    from minting.unixfs import cid_of_file

    path = root / t["metadata_path"]
    if not file_unchanged(root, t["metadata_path"], t["metadata_sha256"], "metadata", report,
                          changed="the document changed since the release"):
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
        if sha256_file(f) != rec["sha256"]:
            report.bad("metadata asset", rel, "sha256 differs from the minted metadata")
            bad += 1
        elif cid_of_file(f) != rec["cid"] or not rec["uri"].endswith(rec["cid"]):
            report.bad("metadata asset", rel, "CID differs from the minted metadata")
            bad += 1
    if not bad:
        report.ok("metadata", t["metadata_path"], f"{len(records)} assets match")


def check_car(root: Path, manifest: dict[str, Any], report: Report) -> None:
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
