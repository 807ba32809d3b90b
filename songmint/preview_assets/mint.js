// The Collect panel of a token page (see songmint/mint_page.py). No library: the few calls it
// makes are ABI-encoded by hand, selectors come precomputed in window.SONGMINT_SALES.
(function () {
  "use strict";
  const S = window.SONGMINT_SALES;
  const R = window.SONGMINT_RELEASE || { tokens: [] };
  if (!S) return;
  const id = new URLSearchParams(location.search).get("id") || (R.tokens[0] && R.tokens[0].id);
  const sale = S.tokens[id];
  if (!sale) return;
  const OPEN = 2n ** 64n - 1n;
  const eth = window.ethereum;

  // ---- encoding ------------------------------------------------------------------------------
  const word = (v) => BigInt(v).toString(16).padStart(64, "0");
  const addr = (a) => a.toLowerCase().replace(/^0x/, "").padStart(64, "0");
  const sel = (name) => S.selectors[name];
  const fmtEth = (wei) => {
    const w = BigInt(wei), whole = w / 10n ** 18n, frac = (w % 10n ** 18n).toString().padStart(18, "0").replace(/0+$/, "");
    return whole + (frac ? "." + frac : "") + " ETH";
  };
  const fmtTime = (t) => (t ? new Date(t * 1000).toISOString().replace(".000Z", "Z").replace("T", " ") : null);

  // ---- the panel -----------------------------------------------------------------------------
  const el = (tag, attrs, kids) => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) { if (k === "text") n.textContent = v; else n.setAttribute(k, v); }
    for (const k of kids || []) if (k) n.appendChild(k);
    return n;
  };
  const row = (label, value, key) => el("div", { class: "mint-row" }, [
    el("dt", { text: label }), el("dd", { text: value, "data-key": key }),
  ]);
  const cap = sale.cap == null ? null : BigInt(sale.cap);
  const windowText = [sale.start ? "from " + fmtTime(sale.start) : "open now",
                      sale.end ? "until " + fmtTime(sale.end) : "no end"].join(", ");
  const left = (supply) => (cap == null ? "?" : cap >= OPEN ? "open edition" : String(cap - BigInt(supply)));
  const qty = el("input", { id: "mint-qty", type: "number", min: "1", value: "1", "aria-label": "quantity" });
  const button = el("button", { id: "collect", type: "button", text: "Collect" });
  const status = el("p", { id: "mint-status", role: "status" });
  const panel = el("section", { id: "mint", class: "mint" }, [
    el("h2", { text: "Collect" }),
    el("dl", {}, [
      row("Price", fmtEth(sale.price_wei), "price"),
      row("Window", windowText, "window"),
      row("Per wallet", sale.per_wallet ? String(sale.per_wallet) : "no limit", "per-wallet"),
      row("Editions left", left(sale.minted || 0), "left"),
    ]),
    el("div", { class: "mint-buy" }, [qty, button]),
    status,
  ]);
  const css = ".mint{max-width:960px;margin:1.5rem auto;padding:1rem 1.25rem;border:1px solid rgba(128,128,128,.35);" +
    "border-radius:10px}.mint h2{margin:0 0 .5rem}.mint dl{display:grid;grid-template-columns:repeat(4,1fr);" +
    "gap:.5rem;margin:0 0 .75rem}.mint dt{font-size:.8em;opacity:.7}.mint dd{margin:0;font-weight:600}" +
    ".mint-buy{display:flex;gap:.5rem}.mint-buy input{width:5em}.mint-buy button{padding:.4rem 1.2rem;" +
    "font-weight:600;cursor:pointer}.mint-buy button:disabled{cursor:not-allowed;opacity:.6}" +
    ".mint [role=status]{min-height:1.4em;margin:.6rem 0 0;word-break:break-all}" +
    ".mint[data-state=error] [role=status],.mint[data-state=wrong-chain] [role=status]{color:#c0392b}";
  document.head.appendChild(el("style", { text: css }));
  const anchor = document.getElementById("player");
  (anchor && anchor.parentNode ? anchor.parentNode : document.body).insertBefore(panel, anchor ? anchor.nextSibling : null);
  const say = (state, text) => { panel.setAttribute("data-state", state); status.textContent = text; };
  const setLeft = (supply) => {
    panel.querySelector('[data-key="left"]').textContent = left(supply);
    if (cap != null && cap < OPEN && BigInt(supply) >= cap) {
      button.disabled = true; button.textContent = "Sold out";
      say("sold-out", "Sold out: all " + cap + " editions are collected.");
      return false;
    }
    return true;
  };

  if (!eth) {
    button.disabled = true;
    say("read-only", "No wallet found: collecting needs a browser wallet (EIP-1193, window.ethereum). " +
        "Price and editions are shown as of the release.");
    return;
  }

  // ---- chain calls ---------------------------------------------------------------------------
  const call = (data) => eth.request({ method: "eth_call", params: [{ to: S.contract, data }, "latest"] });
  const supplyOf = async () => BigInt(await call(sel("totalSupply") + word(sale.token_id)));
  const balanceOf = async (a) => BigInt(await call(sel("balanceOf") + addr(a) + word(sale.token_id)));
  const chainId = async () => parseInt(await eth.request({ method: "eth_chainId" }), 16);
  const wantHex = "0x" + Number(S.chain_id).toString(16);

  async function onChain() {
    let current = await chainId();
    if (current === S.chain_id) return true;
    try {
      await eth.request({ method: "wallet_switchEthereumChain", params: [{ chainId: wantHex }] });
      current = await chainId();
    } catch (e) { /* refused or unknown chain: said below */ }
    if (current === S.chain_id) return true;
    say("wrong-chain", "Wrong network: the wallet is on chain " + current + "; this release is on chain " +
        S.chain_id + (S.network ? " (" + S.network + ")" : "") + ". Switch networks in the wallet and try again.");
    return false;
  }

  function reason(e) {
    const text = [e && e.data && (e.data.data || e.data), e && e.message].filter(Boolean).join(" ");
    const m = /0x[0-9a-fA-F]{8}/.exec(typeof text === "string" ? text : JSON.stringify(text));
    const name = m && S.errors ? S.errors[m[0].toLowerCase()] : null;
    return name ? "The contract refused: " + name : (e && e.message) || String(e);
  }

  async function receipt(hash) {
    for (let i = 0; i < 240; i++) {
      const r = await eth.request({ method: "eth_getTransactionReceipt", params: [hash] });
      if (r) return r;
      await new Promise((ok) => setTimeout(ok, 250));
    }
    throw new Error("no receipt for " + hash + " after 60 s");
  }

  async function collect() {
    button.disabled = true;
    try {
      const [account] = await eth.request({ method: "eth_requestAccounts" });
      if (!(await onChain())) return;
      if (!setLeft(await supplyOf())) return;
      const n = BigInt(Math.max(1, parseInt(qty.value, 10) || 1));
      const entry = sale.allowlist[account.toLowerCase()];
      const now = Date.now() / 1000;
      const publicOpen = now >= sale.start && (!sale.end || now < sale.end);
      let data, value;
      if (entry && (!publicOpen || BigInt(entry.price) <= BigInt(sale.price_wei))) {
        const proof = entry.proof.map((p) => p.replace(/^0x/, "")).join("");
        data = sel("purchaseAllowlisted") + word(sale.token_id) + word(n) + word(entry.max_quantity) +
               word(entry.price) + word(160) + word(entry.proof.length) + proof;
        value = BigInt(entry.price) * n;
      } else {
        data = sel("purchase") + word(sale.token_id) + word(n);
        value = BigInt(sale.price_wei) * n;
      }
      const tx = { from: account, to: S.contract, value: "0x" + value.toString(16), data };
      await eth.request({ method: "eth_estimateGas", params: [tx] }); // a revert is named here, before any wallet prompt
      say("sending", "Confirm in your wallet: " + n + " edition(s) for " + fmtEth(value) + (entry ? " (allowlist)" : ""));
      const hash = await eth.request({ method: "eth_sendTransaction", params: [tx] });
      say("pending", "Sent " + hash + "; waiting for it to be mined…");
      const r = await receipt(hash);
      if (parseInt(r.status, 16) !== 1) throw new Error("the transaction " + hash + " reverted");
      const held = await balanceOf(account);
      setLeft(await supplyOf());
      panel.setAttribute("data-tx", hash);
      say("collected", "Collected in " + hash + ": you now hold " + held + " of this token.");
    } catch (e) {
      say("error", reason(e));
    } finally {
      if (panel.getAttribute("data-state") !== "sold-out") button.disabled = false;
    }
  }

  button.addEventListener("click", collect);
  // Without asking for accounts: the chain and the editions left, as soon as the page opens.
  chainId().then(async (current) => {
    if (current !== S.chain_id) {
      say("wrong-chain-idle", "The wallet is on chain " + current + "; Collect will ask to switch to chain " + S.chain_id + ".");
      return;
    }
    if (setLeft(await supplyOf())) say("ready", "Wallet found: ready to collect.");
  }).catch((e) => say("error", reason(e)));
})();
