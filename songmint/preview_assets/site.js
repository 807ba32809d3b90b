/* songmint preview site: the grid (index.html) and the token page (token.html?id=<hex>).
 * Data comes from data/release.js (window.SONGMINT_RELEASE), loaded by a <script> tag so
 * that the site also works from file://, where fetch() of local JSON is refused. */
(function () {
  "use strict";
  const R = window.SONGMINT_RELEASE;

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v; else if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    for (const c of children || []) if (c) node.appendChild(c);
    return node;
  }

  function header() {
    const c = R.collection || {};
    document.title = c.name + " · songmint";
    const h = document.getElementById("site-header");
    h.replaceChildren(el("div", {}, [el("h1", { text: c.name }), el("p", { text: c.description || "" })]));
    const ch = R.chain || {};
    const line = document.getElementById("chain-line");
    const bits = [];
    if (ch.network) bits.push("network " + ch.network + (ch.chain_id ? " (chain " + ch.chain_id + ")" : ""));
    if (ch.contract) bits.push("contract " + ch.contract);
    if (R.root_cid) bits.push("root " + R.root_cid);
    if (R.dry_run) bits.push("dry run: nothing was sent");
    line.textContent = bits.join(" · ");
  }

  function grid() {
    const g = document.getElementById("grid");
    g.replaceChildren(...R.tokens.map((t) => el("a", { class: "card", href: "token.html?id=" + t.id, "data-token": t.id }, [
      el("img", { src: t.base + t.thumbnail, alt: "Cover of " + t.title, loading: "lazy" }),
      el("div", { class: "body" }, [
        el("h2", { text: t.title }),
        el("div", { class: "artist", text: t.artist }),
        el("div", { class: "badges" }, [
          t.key ? el("span", { class: "badge key", text: t.camelot || t.key, title: t.key }) : null,
          t.bpm ? el("span", { class: "badge bpm", text: Math.round(t.bpm) + " BPM" }) : null,
          t.editions ? el("span", { class: "badge ed", text: (t.editions.minted ?? 0) + "/" + t.editions.cap }) : null,
        ]),
      ]),
    ])));
  }

  function tokenPage() {
    const id = new URLSearchParams(location.search).get("id");
    const t = R.tokens.find((x) => x.id === id) || R.tokens[0];
    const root = document.getElementById("player");
    if (!t) { root.textContent = "no such token"; return; }
    const start = () => new window.SongmintPlayer(root, t, { base: t.base });
    if (t.bundle) {
      // base64 audio for file:// (fetch is refused there); harmless over http.
      const s = document.createElement("script");
      s.src = t.base + t.bundle;
      s.onload = start; s.onerror = start;
      document.head.appendChild(s);
    } else start();
  }

  header();
  if (document.getElementById("grid")) grid(); else tokenPage();
})();
