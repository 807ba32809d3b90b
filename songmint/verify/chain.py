"""Claims about the chain: the contract, the royalty and every token (uri, cap, supply) against
what the release published, then its sales (:func:`songmint.release.sales.check_sales`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from songmint.errors import SongmintError
from songmint.spec.values import ZERO_ADDRESS
from songmint.verify.report import Report


def check_chain(
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
    selling = {str(k) for k in ((manifest.get("sales") or {}).get("tokens") or {})}
    for t in tokens:
        _check_token_claims(root, t, client, contract, info, report, on_sale=str(t["id"]) in selling)
    from songmint.release.sales import check_sales

    try:
        rows = check_sales(manifest, client, root)
    except (ChainError, SongmintError, OSError, ValueError, KeyError, TypeError) as exc:
        why = " ".join(str(exc).split())
        report.bad("sale", ch["contract"], f"sale settings could not be checked: {why}")
        return
    for ok, check, subject, detail in rows:
        (report.ok if ok else report.bad)(check, subject, detail)


def _same_address(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.lower() == b.lower()


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
    root: Path,
    t: dict[str, Any],
    client: Any,
    contract: Any,
    info: dict[str, Any],
    report: Report,
    *,
    on_sale: bool = False,
) -> None:
    """uri, cap, supply and royalty of one token on chain against the manifest and its metadata.

    A token on sale has grown by its purchases since the release: its supply must lie between what
    the release minted and the cap."""
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
    if t.get("minted") is not None and not on_sale and tok["supply"] != t["minted"]:
        problems.append(f"totalSupply {tok['supply']} ≠ minted {t['minted']}")
    if t.get("minted") is not None and on_sale and tok["supply"] < t["minted"]:
        problems.append(f"totalSupply {tok['supply']} < minted {t['minted']}")
    if on_sale and tok["cap"] and tok["supply"] > tok["cap"]:
        problems.append(f"totalSupply {tok['supply']} > cap {tok['cap']}")
    if t.get("initial") is not None and tok["supply"] < t["initial"]:
        problems.append(f"totalSupply {tok['supply']} < initial {t['initial']}")
    receiver, amount = contract.functions.royaltyInfo(t["id"], 10_000).call()
    if int(amount) != int(info["royalty_bps"]) or not _same_address(receiver, info["royalty_receiver"]):
        problems.append(f"royaltyInfo {amount} bps to {receiver} ≠ the published collection royalty")
    if problems:
        report.bad("on chain", subject, "; ".join(problems))
    else:
        report.ok("on chain", subject, f"uri, cap {tok['cap']}, supply {tok['supply']}, royalty")
