/* songmint player: waveform, transport, trait badges with rarity, a stem mixer in sync.
 *
 * No network, no CDN. Audio is decoded into WebAudio buffers so that the mix and every
 * stem start on the same AudioContext clock (sample-accurate sync); mute/solo only move
 * gains. Audio bytes come, in order of preference, from a base64 bundle loaded by a
 * <script> (works from file://), from fetch() (a local server or an IPFS gateway), or,
 * failing both, from plain <audio> elements (mix only, still playable anywhere).
 */
(function () {
  "use strict";

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children || []) if (c) node.appendChild(c);
    return node;
  }

  function fmtTime(s) {
    s = Math.max(0, s || 0);
    const m = Math.floor(s / 60), r = Math.floor(s % 60);
    return m + ":" + String(r).padStart(2, "0");
  }

  function b64ToBuffer(b64) {
    const bin = atob(b64), out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  class Player {
    /**
     * @param {HTMLElement} root  where to render
     * @param {object} token      the token view (see songmint/preview.py: token_view)
     * @param {object} opts       {base: URL prefix for the token's media}
     */
    constructor(root, token, opts) {
      this.root = root;
      this.t = token;
      this.base = (opts && opts.base) || "";
      this.mode = "loading";
      this.playing = false;
      this.offset = 0;
      this.startedAt = 0;
      this.stems = (token.stems || []).map((s) => ({ name: s.name, url: s.url, mute: false, solo: false }));
      this.render();
      root.songmintPlayer = this;
      window.songmintPlayer = this;
      this.ready = this.load();
    }

    url(rel) { return this.base + rel; }

    render() {
      const t = this.t;
      this.playBtn = el("button", { class: "play", "aria-label": "Play", disabled: "", text: "▶" });
      this.playBtn.addEventListener("click", () => this.toggle());
      this.timeEl = el("span", { class: "time", text: "0:00 / " + fmtTime(t.duration_s) });
      this.modeEl = el("span", { class: "mode", text: "loading audio…" });
      this.canvas = el("canvas", { class: "wave", width: "960", height: "192" });
      this.canvas.addEventListener("click", (e) => {
        const r = this.canvas.getBoundingClientRect();
        this.seek(((e.clientX - r.left) / r.width) * this.duration());
      });
      const info = el("div", { class: "info" }, [
        el("h1", { text: t.title }),
        el("div", { class: "artist", text: t.artist + (t.genre ? " · " + t.genre : "") }),
        el("div", { class: "badges" }, [
          t.key ? el("span", { class: "badge key", text: t.key + (t.camelot ? " · " + t.camelot : "") }) : null,
          t.bpm ? el("span", { class: "badge bpm", text: Math.round(t.bpm) + " BPM" }) : null,
          t.editions ? el("span", { class: "badge ed", text: this.editionText() }) : null,
        ]),
        el("div", { class: "transport" }, [this.playBtn, this.timeEl, this.modeEl]),
        this.canvas,
        this.renderMixer(),
        this.renderTraits(),
        this.renderFacts(),
      ]);
      // a token's clip (role "video") plays muted in step with the player; the audio stays the player's
      this.clip = t.video ? el("video", { src: this.url(t.video), poster: this.url(t.cover), playsinline: "", preload: "auto" }) : null;
      if (this.clip) this.clip.muted = true;
      const art = el("div", { class: "art" }, [this.clip || el("img", { src: this.url(t.cover), alt: "Cover of " + t.title })]);
      this.root.replaceChildren(el("div", { class: "player" }, [art, info]));
      this.drawWave();
    }

    editionText() {
      const e = this.t.editions;
      if (e.minted === null || e.minted === undefined) return "cap " + e.cap;
      return e.minted + " / " + e.cap + " minted";
    }

    renderMixer() {
      if (!this.stems.length) return null;
      this.rows = {};
      const rows = this.stems.map((s) => {
        const mute = el("button", { class: "mute", "aria-pressed": "false", title: "Mute " + s.name, text: "M" });
        const solo = el("button", { class: "solo", "aria-pressed": "false", title: "Solo " + s.name, text: "S" });
        mute.addEventListener("click", () => this.setMute(s.name, !s.mute));
        solo.addEventListener("click", () => this.setSolo(s.name, !s.solo));
        const row = el("div", { class: "row", "data-stem": s.name }, [el("span", { class: "name", text: s.name }), mute, solo]);
        this.rows[s.name] = { row, mute, solo };
        return row;
      });
      return el("section", { class: "box mixer" }, [el("h3", { text: "Stems" }), ...rows]);
    }

    renderTraits() {
      const traits = this.t.traits || [];
      if (!traits.length) return null;
      const badges = traits.map((tr) => el("span", { class: "trait", "data-trait": tr.key }, [
        el("span", { class: "k", text: tr.label }),
        document.createTextNode(tr.display),
        tr.rarity === null || tr.rarity === undefined ? null
          : el("span", { class: "r", title: "share of the release with this value", text: Math.round(tr.rarity * 100) + "%" }),
      ]));
      const head = "Traits" + (this.t.rarity_score !== undefined && this.t.rarity_score !== null
        ? " · rarity score " + Number(this.t.rarity_score).toFixed(2) : "");
      return el("section", { class: "box" }, [el("h3", { text: head }), el("div", { class: "traits" }, badges)]);
    }

    renderFacts() {
      const t = this.t, rows = [];
      const add = (k, v, mono) => { if (v !== null && v !== undefined && v !== "") rows.push(el("dt", { text: k }), el("dd", { class: mono ? "mono" : "", text: String(v) })); };
      if (t.editions) { add("Edition cap", t.editions.cap); add("Minted", t.editions.minted); add("Recipient", t.editions.recipient, true); }
      add("Token id", t.token_id || t.id, true);
      const c = t.chain || {};
      add("Network", c.network); add("Chain id", c.chain_id); add("Contract", c.contract, true);
      (c.txs || []).forEach((h, i) => add(i ? "" : "Transactions", h, true));
      add("Metadata", t.metadata_uri, true);
      add("License", t.license);
      if (!rows.length) return null;
      return el("section", { class: "box" }, [el("h3", { text: "Edition & chain" }), el("dl", { class: "facts" }, rows)]);
    }

    /* ---------- audio ---------- */

    async bytes(rel) {
      const bundle = (window.SONGMINT_AUDIO || {})[this.t.id];
      if (bundle && bundle[rel]) return b64ToBuffer(bundle[rel]);
      const res = await fetch(this.url(rel));
      if (!res.ok) throw new Error(rel + ": HTTP " + res.status);
      return res.arrayBuffer();
    }

    async load() {
      try {
        const Ctx = window.AudioContext || window.webkitAudioContext;
        this.ctx = new Ctx();
        const decode = async (rel) => this.ctx.decodeAudioData(await this.bytes(rel));
        this.mixBuf = await decode(this.t.mix);
        for (const s of this.stems) s.buf = await decode(s.url);
        this.master = this.ctx.createGain();
        this.master.connect(this.ctx.destination);
        this.mixGain = this.ctx.createGain();
        this.mixGain.connect(this.master);
        for (const s of this.stems) { s.gain = this.ctx.createGain(); s.gain.connect(this.master); }
        this.mode = "webaudio";
        this.modeEl.textContent = this.stems.length ? "WebAudio · stems in sync" : "WebAudio";
      } catch (err) {
        // file:// without a bundle, or no WebAudio: fall back to a plain element for the mix.
        this.mode = "element";
        this.audio = new Audio(this.url(this.t.mix));
        this.audio.preload = "auto";
        this.audio.addEventListener("ended", () => this.stop());
        this.modeEl.textContent = "plain audio (stems need a server)";
        for (const r of Object.values(this.rows || {})) { r.mute.disabled = true; r.solo.disabled = true; }
      }
      this.applyGains();
      this.playBtn.removeAttribute("disabled");
      this.root.setAttribute("data-ready", this.mode);
      return this.mode;
    }

    duration() {
      if (this.mixBuf) return this.mixBuf.duration;
      if (this.audio && isFinite(this.audio.duration)) return this.audio.duration;
      return this.t.duration_s || 0;
    }

    currentTime() {
      if (this.mode === "element") return this.audio ? this.audio.currentTime : 0;
      if (!this.playing) return this.offset;
      return Math.min(this.duration(), this.offset + Math.max(0, this.ctx.currentTime - this.startedAt));
    }

    async play() {
      await this.ready;
      if (this.playing) return;
      if (this.mode === "element") {
        await this.audio.play();
      } else {
        await this.ctx.resume();
        if (this.offset >= this.duration() - 0.01) this.offset = 0;
        const when = this.ctx.currentTime + 0.05;
        this.sources = [];
        const start = (buf, dest) => {
          const src = this.ctx.createBufferSource();
          src.buffer = buf; src.connect(dest); src.start(when, this.offset);
          this.sources.push(src);
          return src;
        };
        start(this.mixBuf, this.mixGain).onended = () => { if (this.playing && this.currentTime() >= this.duration() - 0.05) this.stop(); };
        for (const s of this.stems) start(s.buf, s.gain);
        this.startedAt = when;
      }
      this.playing = true;
      if (this.clip) { this.clip.currentTime = this.currentTime(); this.clip.play().catch(() => {}); }
      this.playBtn.textContent = "❚❚";
      this.playBtn.setAttribute("aria-label", "Pause");
      this.root.setAttribute("data-state", "playing");
      this.tick();
    }

    pause() {
      if (!this.playing) return;
      if (this.clip) this.clip.pause();
      if (this.mode === "element") this.audio.pause();
      else { this.offset = this.currentTime(); for (const s of this.sources) { s.onended = null; s.stop(); } }
      this.playing = false;
      this.playBtn.textContent = "▶";
      this.playBtn.setAttribute("aria-label", "Play");
      this.root.setAttribute("data-state", "paused");
    }

    stop() { this.pause(); this.offset = 0; if (this.audio) this.audio.currentTime = 0; this.drawWave(); this.showTime(); }

    toggle() { return this.playing ? this.pause() : this.play(); }

    seek(t) {
      const was = this.playing;
      if (was) this.pause();
      this.offset = Math.max(0, Math.min(t, this.duration()));
      if (this.audio) this.audio.currentTime = this.offset;
      this.drawWave(); this.showTime();
      if (was) this.play();
    }

    /* ---------- mixer ---------- */

    setMute(name, on) { const s = this.stems.find((x) => x.name === name); if (s) { s.mute = !!on; this.applyGains(); } }
    setSolo(name, on) { const s = this.stems.find((x) => x.name === name); if (s) { s.solo = !!on; this.applyGains(); } }

    audible(s) {
      const anySolo = this.stems.some((x) => x.solo);
      return anySolo ? s.solo : !s.mute;
    }

    mixerState() {
      const state = {};
      for (const s of this.stems) state[s.name] = { mute: s.mute, solo: s.solo, audible: this.audible(s), gain: s.gain ? s.gain.gain.value : null };
      return { mode: this.mode, source: this.usingStems() ? "stems" : "mix", mixGain: this.mixGain ? this.mixGain.gain.value : null, stems: state };
    }

    usingStems() { return this.stems.some((s) => s.mute || s.solo); }

    applyGains() {
      // Untouched mixer: the mastered mix. Any mute/solo: the stems (pre-master), scaled by
      // stem_gain so that the level does not jump when switching.
      const stems = this.usingStems();
      const k = this.t.stem_gain || 1;
      if (this.mixGain) this.mixGain.gain.value = stems ? 0 : 1;
      for (const s of this.stems) {
        if (s.gain) s.gain.gain.value = stems && this.audible(s) ? k : 0;
        const r = (this.rows || {})[s.name];
        if (r) {
          r.mute.setAttribute("aria-pressed", String(s.mute));
          r.solo.setAttribute("aria-pressed", String(s.solo));
          r.row.classList.toggle("silent", !this.audible(s));
        }
      }
      this.root.setAttribute("data-source", stems ? "stems" : "mix");
    }

    /* ---------- drawing ---------- */

    showTime() { this.timeEl.textContent = fmtTime(this.currentTime()) + " / " + fmtTime(this.duration()); }

    tick() {
      if (!this.playing) return;
      this.showTime();
      this.drawWave();
      if (this.mode === "element" && this.audio.ended) this.stop();
      requestAnimationFrame(() => this.tick());
    }

    drawWave() {
      const c = this.canvas, g = c.getContext("2d"), peaks = this.t.waveform || [];
      const w = c.width, h = c.height, mid = h / 2, n = peaks.length || 1;
      const played = this.duration() ? this.currentTime() / this.duration() : 0;
      g.clearRect(0, 0, w, h);
      const bw = w / n;
      for (let i = 0; i < peaks.length; i++) {
        const a = Math.max(0.01, peaks[i] / 1000) * (mid - 4);
        g.fillStyle = i / n < played ? "#ffb347" : "#4b5168";
        g.fillRect(i * bw, mid - a, Math.max(1, bw - 1), 2 * a);
      }
    }
  }

  window.SongmintPlayer = Player;
})();
