"""The symbolic transformer against an n-gram baseline and against real music.

Run: ``.venv/bin/python benchmarks/symbolic.py [--weights W] [--pieces 8] [--bars 16] [--json OUT]``

Needs the tokenised corpus (built and cached by ``songmint train-symbolic --build-only``).
Measured, on the fixed held-out split (by work):

- **bits per token**: the transformer vs interpolated Kneser-Ney n-grams (orders 3-6, fitted
  on the training split at written pitch) on exactly the same held-out windows; target
  ≥ 15 % fewer bits than the best n-gram;
- **against real works** (per style, ``--pieces`` generated pieces of ``--bars`` bars vs the
  held-out works): pitch-class histogram (relative to the tonic), melodic interval
  histogram (top voice), onset-in-bar histogram (rhythm) and note density, as mean
  total-variation distance generated-to-real next to the real-to-real floor; notes in key,
  with the key constraint on and off;
- **memorisation**: longest token run of each generated piece found verbatim (any
  transposition) in a training work of its style, in tokens and bar lines;
- **speed**: CPU seconds to sample a 32-bar four-part chorale (target ≤ 2 s), against the
  previous torch decoder in the same run (same seeds; the tokens must be identical);
- **voice leading**: parallel fifths and octaves per 100 notes, generated chorales vs real
  Bach chorales.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from music.engines.symbolic import corpus, metrics, sampling, training  # noqa: E402
from music.engines.symbolic import tokens as tk  # noqa: E402
from music.engines.symbolic.engine import STYLE_DEFAULTS, WEIGHTS, load_model  # noqa: E402
from music.engines.symbolic.model import SymbolicTransformer, apply_rope, rope_tables  # noqa: E402
from music.engines.symbolic.ngram import KneserNey  # noqa: E402
from music.engines.symbolic.sampling import SamplingParams, generate  # noqa: E402


def bits_section(model, ds: corpus.Dataset, orders: list[int]) -> dict:
    windows = training.held_out_windows(ds, context=model.cfg.context)
    t0 = time.perf_counter()
    tf_bits = training.evaluate(model, windows)
    out = {"transformer_bits": tf_bits, "windows": len(windows),
           "transformer_seconds": time.perf_counter() - t0}
    train = [ds.work(i) for i in ds.split(False)]
    for n in orders:
        t0 = time.perf_counter()
        lm = KneserNey(n).fit(train)
        out[f"kn{n}_bits"] = lm.bits(windows.numpy())
        out[f"kn{n}_seconds"] = time.perf_counter() - t0
    best = min(out[f"kn{n}_bits"] for n in orders)
    out["best_ngram_bits"] = best
    out["reduction"] = 1 - tf_bits / best
    return out


def sample_pieces(model, style: str, ds: corpus.Dataset, *, pieces: int, bars: int, constrain: bool,
                  seed0: int) -> list[tuple[tk.Header, list[int]]]:
    """Pieces conditioned on the keys and metres of held-out works of ``style`` (cycled)."""
    styles = ds.styles()
    held = [i for i in ds.split(True) if styles[i] == style]
    d = STYLE_DEFAULTS[style]
    out = []
    for k in range(pieces):
        h = tk.decode(ds.work(held[k % len(held)]))[0]
        meter = h.meter if h.meter != "other" else d.meter
        header = tk.Header(style, h.tonic, h.mode, meter, None, h.voices)
        params = SamplingParams(constrain_key=constrain, constrain_meter=True)
        out.append((header, generate(model, header, bars=bars, seed=seed0 + k, params=params)))
    return out


def real_section(model, ds: corpus.Dataset, *, pieces: int, bars: int) -> dict:
    styles = ds.styles()
    train_ids = ds.split(False)
    result: dict = {}
    for style in tk.STYLES:
        held = [i for i in ds.split(True) if styles[i] == style]
        if len(held) < 2:
            continue
        real = []
        for i in held:
            h, ev = tk.decode(ds.work(i))
            ev = [e for e in ev if e.bar < bars]  # the same length as the generated pieces
            real.append((h, ev))
        gen = []
        for h, toks in sample_pieces(model, style, ds, pieces=pieces, bars=bars, constrain=True, seed0=100):
            gen.append((h, tk.decode(toks)[1], toks))
        free = [tk.decode(t) for _, t in sample_pieces(model, style, ds, pieces=pieces, bars=bars,
                                                       constrain=False, seed0=200)]
        r: dict = {"held_out_works": len(held), "pieces": len(gen), "bars": bars}

        def dist(fn, gen=gen, real=real):
            return metrics.set_distance([fn(h, ev) for h, ev, *_ in gen], [fn(h, ev) for h, ev in real])

        r["pc_hist"] = dist(lambda h, ev: metrics.pc_histogram(ev, h.tonic))
        r["interval_hist"] = dist(lambda h, ev: metrics.interval_histogram(ev))
        r["rhythm_hist"] = dist(lambda h, ev: metrics.onset_histogram(ev, tk.MAX_POS))
        r["notes_per_bar"] = (float(np.mean([metrics.notes_per_bar(ev) for _, ev, _ in gen])),
                              float(np.mean([metrics.notes_per_bar(ev) for _, ev in real])))
        r["in_key_constrained"] = float(np.mean([metrics.in_key(ev, h.tonic, h.mode) for h, ev, _ in gen]))
        r["in_key_free"] = float(np.mean([metrics.in_key(ev, h.tonic, h.mode) for h, ev in free]))
        r["in_key_real"] = float(np.mean([metrics.in_key(ev, h.tonic, h.mode) for h, ev in real]))
        train_bodies = [ds.work(i)[tk.HEADER_LEN:-1] for i in train_ids if styles[i] == style]
        copies = metrics.longest_copy([np.array(t[tk.HEADER_LEN:-1]) for _, _, t in gen], train_bodies)
        r["copy_tokens"] = [c[0] for c in copies]
        r["copy_bar_lines"] = [c[1] for c in copies]
        if style in ("chorale", "renaissance"):
            def rate(items):
                c = n = 0
                for h, ev in items:
                    a, b = metrics.parallels(ev, tk.bar_steps(h.meter))
                    c, n = c + a, n + b
                return 100 * c / max(n, 1)

            all_real = [tk.decode(ds.work(i)) for i in range(len(ds.work_ids)) if styles[i] == style]
            r["parallels_per_100_notes"] = (rate([(h, ev) for h, ev, _ in gen]), rate(all_real))
        result[style] = r
    return result


def speed_section(model, *, repeat: int = 3) -> dict:
    """CPU seconds for a 32-bar four-part chorale: the engine's decoder, then the torch baseline."""
    header = tk.Header("chorale", 7, "major", "4/4", None, 4)

    def timed() -> tuple[list[float], list[list[int]]]:
        times, pieces = [], []
        for k in range(repeat):
            t0 = time.process_time()
            pieces.append(generate(model, header, bars=32, seed=k))
            times.append(time.process_time() - t0)
        return times, pieces

    times, pieces = timed()
    current = sampling.Decoder
    sampling.Decoder = TorchDecoder
    try:
        base_times, base_pieces = timed()
    finally:
        sampling.Decoder = current
    best = min(times)
    return {"cpu_seconds_32_bars_4_parts": best, "tokens": len(pieces[int(np.argmin(times))]), "all": times,
            "baseline_cpu_seconds": min(base_times), "baseline_all": base_times,
            "speedup": min(base_times) / best, "same_tokens": pieces == base_pieces}


class TorchDecoder:
    """The baseline: the torch decoder the engine sampled with before the NumPy one (commit 7603373),
    kept here to time against in the same run. Its logits go to the sampler as NumPy, as before.

    The same arithmetic as the model's forward pass, written as plain tensor operations on
    the model's weights (no module dispatch), with preallocated key/value caches of the
    context length and a precomputed rotary table: about half the per-token cost of going
    through the modules. :meth:`prefill` starts (or restarts) a window; :meth:`step` appends.

    Parameters
    ----------
    model : SymbolicTransformer
        Used read-only; the decoder shares its weight tensors.
    """

    def __init__(self, model: SymbolicTransformer) -> None:
        cfg = model.cfg
        self.cfg = cfg
        self.h = cfg.n_heads
        self.hd = cfg.d_model // cfg.n_heads
        self.scale = 1.0 / math.sqrt(self.hd)
        self.embed = model.embed.weight.detach()
        self.layers = [(b.norm1.weight.detach(), b.norm1.eps, b.attn.qkv.weight.detach(),
                        b.attn.out.weight.detach(), b.norm2.weight.detach(), b.norm2.eps,
                        b.fc.weight.detach(), b.proj.weight.detach()) for b in model.blocks]
        self.norm_w, self.norm_eps = model.norm.weight.detach(), model.norm.eps
        self.cos, self.sin = rope_tables(cfg.context, self.hd, cfg.rope_base)
        # (x1, x2) pairs -> (x1 c - x2 s, x1 s + x2 c) = x * cos_full + x[swap] * sin_full
        self.cos_full = self.cos.repeat_interleave(2, dim=-1)
        self.sin_full = self.sin.repeat_interleave(2, dim=-1) * torch.tensor([-1.0, 1.0]).repeat(self.hd // 2)
        self.swap = torch.arange(self.hd).view(-1, 2).flip(-1).reshape(-1)
        self.k = torch.zeros(cfg.n_layers, self.h, cfg.context, self.hd)
        self.v = torch.zeros(cfg.n_layers, self.h, cfg.context, self.hd)
        self.n = 0

    @staticmethod
    def _rms(x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w

    @torch.inference_mode()
    def prefill(self, ids: list[int]) -> torch.Tensor:
        """Logits (vocab,) after ``ids`` (at most ``context`` tokens), starting a fresh window."""
        n = len(ids)
        if not 0 < n <= self.cfg.context:
            raise ValueError(f"prefill takes 1..{self.cfg.context} tokens, not {n}")
        x = self.embed[torch.tensor(ids)]
        cos, sin = self.cos[:n], self.sin[:n]
        for i, (w1, e1, wqkv, wo, w2, e2, wfc, wproj) in enumerate(self.layers):
            q, k, v = F.linear(self._rms(x, w1, e1), wqkv).view(n, 3, self.h, self.hd).permute(1, 2, 0, 3)
            q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
            self.k[i, :, :n], self.v[i, :, :n] = k, v
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + F.linear(y.transpose(0, 1).reshape(n, -1), wo)
            x = x + F.linear(F.gelu(F.linear(self._rms(x, w2, e2), wfc)), wproj)
        self.n = n
        return F.linear(self._rms(x[-1], self.norm_w, self.norm_eps), self.embed).numpy()

    @torch.inference_mode()
    def step(self, token: int) -> torch.Tensor:
        """Logits (vocab,) after appending ``token`` to the window."""
        p = self.n
        if p >= self.cfg.context:
            raise ValueError("the window is full: prefill a shorter one")
        x = self.embed[token]
        # Rotary embedding of one position as x * cos + swap(x) * sin over full-width tables.
        cos, sin = self.cos_full[p], self.sin_full[p]
        for i, (w1, e1, wqkv, wo, w2, e2, wfc, wproj) in enumerate(self.layers):
            qkv = F.linear(self._rms(x, w1, e1), wqkv).view(3, self.h, self.hd)
            qk = qkv[:2]
            qk = qk * cos + qk[..., self.swap] * sin
            self.k[i, :, p], self.v[i, :, p] = qk[1], qkv[2]
            y = F.scaled_dot_product_attention(qk[0].unsqueeze(1), self.k[i, :, :p + 1], self.v[i, :, :p + 1])
            x = x + F.linear(y.reshape(-1), wo)
            x = x + F.linear(F.gelu(F.linear(self._rms(x, w2, e2), wfc)), wproj)
        self.n = p + 1
        return F.linear(self._rms(x, self.norm_w, self.norm_eps), self.embed).numpy()


def loss_figure(card: dict, path: Path) -> None:
    """Training loss (per step, smoothed) and held-out bits per token against steps, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    log = card["log"]
    steps = np.array([e["step"] for e in log])
    loss = np.array([e["loss_bits"] for e in log])
    k = max(1, len(loss) // 60)
    smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
    held = [(e["step"], e["held_out_bits"]) for e in log if "held_out_bits" in e]
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=110)
    ax.plot(steps, loss, color="#bbb", lw=0.6, label="training batch")
    ax.plot(steps[k - 1:], smooth, color="#1f77b4", lw=1.5, label=f"training ({k}-step mean)")
    if held:
        ax.plot(*zip(*held, strict=True), "o-", color="#d62728", label="held-out (256 windows)")
    ax.axhline(card["scores"]["held_out_bits"], color="#d62728", ls=":", lw=1,
               label=f"held-out, all windows: {card['scores']['held_out_bits']:.3f}")
    ax.set_xlabel("step")
    ax.set_ylabel("bits per token")
    ax.set_ylim(min(1.0, float(smooth.min()) - 0.2), 5.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"symbolic transformer, {card['params'] / 1e6:.2f} M params, "
                 f"{card['scores'].get('train_seconds', 0) / 60:.0f} min on one CPU thread", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", type=Path, default=WEIGHTS)
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--pieces", type=int, default=8)
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--orders", default="3,4,5,6")
    ap.add_argument("--skip", default="", help="comma list of sections to skip: bits,real,speed")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--loss-figure", type=Path, help="also draw the weights' loss curve to this PNG")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, card = load_model(args.weights)
    ds = corpus.load(args.corpus, build_if_missing=False)
    print(f"weights {args.weights.name} sha256 {card['sha256'][:12]}… {card['params'] / 1e6:.2f} M params; "
          f"corpus {ds.manifest['works']} works, {ds.manifest['held_out_works']} held out")
    if args.loss_figure:
        loss_figure(card, args.loss_figure)
        print(f"loss curve: {args.loss_figure}")
    skip = set(args.skip.split(",")) - {""}
    report: dict = {"weights_sha256": card["sha256"]}
    if "speed" not in skip:
        report["speed"] = s = speed_section(model)
        print(f"speed: 32-bar four-part chorale in {s['cpu_seconds_32_bars_4_parts']:.2f} s CPU "
              f"({s['tokens']} tokens; target <= 2 s); torch decoder (baseline) "
              f"{s['baseline_cpu_seconds']:.2f} s: "
              f"{s['speedup']:.2f}x; same tokens: {s['same_tokens']}")
    if "bits" not in skip:
        report["bits"] = b = bits_section(model, ds, [int(x) for x in args.orders.split(",")])
        ngrams = ", ".join(f"KN-{n} {b[f'kn{n}_bits']:.3f}" for n in map(int, args.orders.split(",")))
        print(f"held-out bits/token: transformer {b['transformer_bits']:.3f}; {ngrams}; "
              f"reduction vs best n-gram {100 * b['reduction']:.1f} % (target >= 15 %)")
    if "real" not in skip:
        report["real"] = real = real_section(model, ds, pieces=args.pieces, bars=args.bars)
        for style, r in real.items():
            print(f"{style}: {r['pieces']} pieces x {r['bars']} bars vs {r['held_out_works']} held-out works")
            for m in ("pc_hist", "interval_hist", "rhythm_hist"):
                g, f = r[m]
                print(f"  {m:14s} generated-real {g:.3f}  real-real floor {f:.3f}  ratio {g / f:.2f}")
            print(f"  notes/bar      generated {r['notes_per_bar'][0]:.1f}  real {r['notes_per_bar'][1]:.1f}")
            print(f"  in key         constrained {r['in_key_constrained']:.3f}  free {r['in_key_free']:.3f}  "
                  f"real {r['in_key_real']:.3f}")
            print(f"  longest copy   tokens {r['copy_tokens']}  bar lines {r['copy_bar_lines']} "
                  f"(max full bars copied {max(r['copy_bar_lines']) - 1 if max(r['copy_bar_lines']) else 0})")
            if "parallels_per_100_notes" in r:
                g, f = r["parallels_per_100_notes"]
                print(f"  parallel 5ths/8ves per 100 notes: generated {g:.2f}  real {f:.2f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
