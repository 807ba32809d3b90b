"""The preview site's mint panel: price, window, editions left and a "Collect" button.

:func:`add_mint_page` is called by :func:`songmint.preview.build_preview` on the site it is
assembling: it writes ``data/sales.js`` (the chain, the contract, each token's sale and its
allowlist proofs, from the manifest's ``sales``), ``static/mint.js`` (the panel; no library, no
CDN) and adds both to ``token.html``. The panel talks to an injected EIP-1193 wallet
(``window.ethereum``): it checks (and asks to switch to) the release's chain, reads supply and
price on chain, attaches the allowlist proof of the connected wallet, sends ``purchase`` or
``purchaseAllowlisted``, waits for the receipt and shows the transaction and the new balance.
Without a wallet the panel is read-only and says why. A release with no sales gets no panel.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from eth_utils import keccak

#: 4-byte selectors the page encodes by hand (no ABI library in the browser).
SELECTORS = {
    name: "0x" + keccak(text=sig)[:4].hex()
    for name, sig in {
        "purchase": "purchase(uint256,uint256)",
        "purchaseAllowlisted": "purchaseAllowlisted(uint256,uint256,uint256,uint256,bytes32[])",
        "balanceOf": "balanceOf(address,uint256)",
        "totalSupply": "totalSupply(uint256)",
        "saleInfo": "saleInfo(uint256,address)",
    }.items()
}


#: Collector-facing custom errors by selector, so the page can name a revert.
ERRORS = {
    "0x" + keccak(text=sig)[:4].hex(): sig.split("(")[0]
    for sig in (
        "SaleNotConfigured(uint256)",
        "SaleNotStarted(uint256,uint256)",
        "SaleEnded(uint256,uint256)",
        "SaleIsPaused(uint256)",
        "WrongPayment(uint256,uint256,uint256)",
        "WalletLimitExceeded(uint256,uint256,uint256)",
        "AllowlistLimitExceeded(uint256,uint256,uint256)",
        "NotOnAllowlist(uint256,address)",
        "ZeroQuantity()",
        "EditionCapExceeded(uint256,uint256,uint256)",
        "PaymentFailed(address)",
    )
}


def sales_data(manifest: dict[str, Any], release_dir: Path | None = None) -> dict[str, Any] | None:
    """What ``data/sales.js`` holds, or None when the release sells nothing (proofs are read from
    the allowlist files under ``release_dir``)."""
    sales = manifest.get("sales") or {}
    chain = manifest.get("chain") or {}
    if not sales.get("tokens") or not chain.get("contract"):
        return None
    tokens: dict[str, Any] = {}
    caps = {str(t["id"]): t for t in manifest.get("tokens", [])}
    for token_id, sale in sales["tokens"].items():
        entry = caps.get(token_id, {})
        allowlist: dict[str, Any] = {}
        if sale.get("allowlist_file") and release_dir is not None:
            path = release_dir / sale["allowlist_file"]
            if path.is_file():
                allowlist = json.loads(path.read_text(encoding="utf-8")).get("entries", {})
        tokens[f"{int(token_id):064x}"] = {
            "token_id": token_id,
            "price_wei": sale["price_wei"],
            "start": sale.get("start", 0),
            "end": sale.get("end", 0),
            "presale_start": sale.get("presale_start", 0),
            "per_wallet": sale.get("per_wallet", 0),
            "paused": sale.get("paused", False),
            "cap": entry.get("cap"),
            "minted": entry.get("minted"),
            "allowlist": {a.lower(): v for a, v in allowlist.items()},
        }
    return {
        "chain_id": chain.get("chain_id"),
        "network": chain.get("network"),
        "contract": chain["contract"],
        "selectors": SELECTORS,
        "errors": ERRORS,
        "tokens": tokens,
    }


def add_mint_page(site: Path, manifest: dict[str, Any], release_dir: Path) -> bool:
    """Add the mint panel to the site being built in ``site`` (True if the release sells)."""
    data = sales_data(manifest, release_dir)
    if data is None:
        return False
    text = json.dumps(data, sort_keys=True).replace("<", "\\u003c")
    (site / "data" / "sales.js").write_text(f"window.SONGMINT_SALES = {text};\n", encoding="utf-8")
    js = resources.files("songmint.preview_assets").joinpath("mint.js").read_text(encoding="utf-8")
    (site / "static" / "mint.js").write_text(js, encoding="utf-8")
    page = site / "token.html"
    html = page.read_text(encoding="utf-8")
    tags = '<script src="data/sales.js"></script>\n<script src="static/mint.js"></script>\n</body>'
    page.write_text(html.replace("</body>", tags, 1), encoding="utf-8")
    return True
