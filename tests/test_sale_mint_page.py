"""The preview site's Collect panel in headless Chromium against a real anvil: an injected EIP-1193
provider forwards to anvil's JSON-RPC; a public and an allowlisted purchase land on chain; a wrong
chain, a sold-out token and a page without a wallet say why they cannot collect."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from minting.chain import Anvil, TokenSpec, connect, dev_signer
from minting.chain.sales import AllowEntry, Allowlist, SaleSpec
from songmint.mint_page import sales_data
from songmint.preview import build_preview
from tests.chain_fixtures import anvil  # noqa: F401 - fixture
from tests.preview_fixture import make_release
from tests.test_preview import CHROMIUM, FLAGS

pytestmark = [pytest.mark.anvil, pytest.mark.browser]
BUYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil's account 1 (unlocked there)
LISTED = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"  # anvil's account 2
PRICE = 10**16


def _rpc(url: str, method: str, params: list[Any]) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        reply = json.loads(r.read())
    if "error" in reply:
        raise RuntimeError(json.dumps(reply["error"]))
    return reply["result"]


@pytest.fixture(scope="module")
def site(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:  # noqa: F811
    root = make_release(tmp_path_factory.mktemp("mint") / "out")
    label = connect(anvil.url, chain_id=31337, signer=dev_signer())
    dep = label.deploy(name="Page", symbol="PAGE")
    address = dep.address  # type: ignore[union-attr]
    label.create_and_mint(
        address, [TokenSpec(id=1001, amount=0, cap=10), TokenSpec(id=1002, amount=1, cap=1)]
    )
    alist = Allowlist((AllowEntry(LISTED, 2, PRICE // 10),))
    sales = {1001: SaleSpec(price=PRICE, per_wallet=3, allowlist=alist), 1002: SaleSpec(price=PRICE)}
    label.set_sales(address, sales)
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["chain"] = {"network": "local", "chain_id": 31337, "contract": address}
    manifest["tokens"][1].update(cap=1, minted=1)
    rel = f"sales/allowlist-{1001:064x}.json"
    (root / "sales").mkdir()
    (root / rel).write_text(json.dumps({"token_id": "1001", **alist.to_dict()}))
    manifest["sales"] = {
        "split": None,
        "transactions": [],
        "tokens": {
            str(i): {**s.to_dict(), **({"allowlist_file": rel} if i == 1001 else {})}
            for i, s in sales.items()
        },
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    build_preview(root)
    return root / "preview", address


def test_sales_data_and_no_panel_without_sales(tmp_path: Path) -> None:
    root = make_release(tmp_path / "plain")
    build_preview(root)
    assert "mint.js" not in (root / "preview" / "token.html").read_text()
    assert sales_data(json.loads((root / "manifest.json").read_text())) is None


def _page(browser: Any, site: Path, token: int, provider: str | None, rpc: Any) -> Any:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    if provider is not None:
        page.expose_function("__rpc", rpc)
        page.add_init_script(provider)
    page.goto((site / "token.html").as_uri() + f"?id={token:064x}")
    return page


def _provider(account: str, chain: str | None = None) -> str:
    wrong = (
        ""
        if chain is None
        else f"""
      if (method === "eth_chainId") return "{chain}";
      if (method === "wallet_switchEthereumChain")
        throw Object.assign(new Error("unknown chain"), {{code: 4902}});"""
    )
    return f"""
    window.ethereum = {{ isTest: true, request: async ({{ method, params }}) => {{
      if (method === "eth_requestAccounts" || method === "eth_accounts") return ["{account}"];{wrong}
      return window.__rpc(method, params || []);
    }} }};"""


def test_collect_in_chromium(site: tuple[Path, str], anvil: Anvil, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    folder, address = site
    label = connect(anvil.url, chain_id=31337, signer=dev_signer())

    def rpc(method: str, params: list[Any]) -> Any:
        return _rpc(anvil.url, method, params)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        # a public purchase of 2
        page = _page(browser, folder, 1001, _provider(BUYER), rpc)
        page.wait_for_selector('#mint[data-state="ready"]', timeout=30_000)
        assert "0.01 ETH" in page.inner_text("#mint") and page.inner_text('[data-key="left"]') == "10"
        page.fill("#mint-qty", "2")
        page.click("#collect")
        page.wait_for_selector('#mint[data-state="collected"]', timeout=60_000)
        assert "you now hold 2" in page.inner_text("#mint-status")
        assert page.inner_text('[data-key="left"]') == "8"
        page.screenshot(path=str(tmp_path / "collect.png"), full_page=True)
        if os.environ.get("SONGMINT_SCREENSHOTS"):  # for the docs: SONGMINT_SCREENSHOTS=folder
            shots = Path(os.environ["SONGMINT_SCREENSHOTS"])
            page.screenshot(path=str(shots / "mint-page.png"), full_page=True)
        tx = page.get_attribute("#mint", "data-tx")
        assert tx and label.w3.eth.get_transaction(tx)["value"] == 2 * PRICE
        assert label.editions(address).functions.balanceOf(BUYER, 1001).call() == 2
        assert not page.errors
        # the allowlisted wallet pays its leaf's price, with the proof attached
        page = _page(browser, folder, 1001, _provider(LISTED), rpc)
        page.wait_for_selector('#mint[data-state="ready"]', timeout=30_000)
        page.click("#collect")
        page.wait_for_selector('#mint[data-state="collected"]', timeout=60_000)
        tx = page.get_attribute("#mint", "data-tx")
        assert tx and label.w3.eth.get_transaction(tx)["value"] == PRICE // 10
        assert label.sale_info(address, 1001, LISTED)["bought_allowlist"] == 1
        # over the wallet limit: the revert is named
        page = _page(browser, folder, 1001, _provider(BUYER), rpc)
        page.wait_for_selector('#mint[data-state="ready"]', timeout=30_000)
        page.fill("#mint-qty", "2")
        page.click("#collect")
        page.wait_for_selector('#mint[data-state="error"]', timeout=30_000)
        assert "WalletLimitExceeded" in page.inner_text("#mint-status")
        # a wallet on another chain that cannot switch
        page = _page(browser, folder, 1001, _provider(BUYER, chain="0x1"), rpc)
        page.wait_for_selector('#mint[data-state="wrong-chain-idle"]', timeout=30_000)
        page.click("#collect")
        page.wait_for_selector('#mint[data-state="wrong-chain"]', timeout=30_000)
        assert "Wrong network" in page.inner_text("#mint-status") and "31337" in page.inner_text(
            "#mint-status"
        )
        # sold out
        page = _page(browser, folder, 1002, _provider(BUYER), rpc)
        page.wait_for_selector('#mint[data-state="sold-out"]', timeout=30_000)
        assert page.is_disabled("#collect") and page.inner_text("#collect") == "Sold out"
        # no wallet: read-only, and says why
        page = _page(browser, folder, 1001, None, rpc)
        page.wait_for_selector('#mint[data-state="read-only"]', timeout=30_000)
        assert page.is_disabled("#collect") and "No wallet found" in page.inner_text("#mint-status")
        assert label.editions(address).functions.balanceOf(BUYER, 1001).call() == 2  # nothing more bought
        browser.close()
