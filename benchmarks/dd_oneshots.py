"""Dance Diffusion on real drum one-shots: an hour of CPU training, then "are they recognisable?".

Run on demand (an hour and a quarter; bare, as ``make bench`` runs it, it only says so)::

    .venv/bin/python benchmarks/dd_oneshots.py data  --work /tmp/dd-oneshots
    taskset -c 1 .venv/bin/python benchmarks/dd_oneshots.py train --work /tmp/dd-oneshots --minutes 60
    taskset -c 1 .venv/bin/python benchmarks/dd_oneshots.py eval  --work /tmp/dd-oneshots --sampler-n 0
    taskset -c 0 .venv/bin/python benchmarks/dd_oneshots.py samplers --work /tmp/dd-oneshots --sampler-n 2

(``all`` runs data, train and eval in turn; ``train --resume --minutes M`` extends a run;
``eval --model DIR`` evaluates another folder, e.g. ``model/checkpoints/step-0000500/ema``.)

data
    GM percussion rendered from the default SoundFont (FluidR3_GM) with the composer's
    FluidSynth renderer (:func:`music.engines.composer.render.render_part`, dry: no reverb or
    chorus) at 16 kHz: seven classes (kick, snare, clap, closed hat, open hat, tom, cymbal),
    eight GM drum kits, three velocities. Each shot is 8192 samples (0.51 s), mixed to mono,
    faded out over its last 64 ms, peak-normalised to -1 dBFS (as sample packs are);
    near-duplicates (kits sharing a sample) are dropped and each distinct sound is rendered at
    five tunings. About 15 % of each class is held out (``heldout/``) by families of correlated
    sounds, so nothing held out has a re-pitched copy in training. File names carry the class:
    ``kick_k25_n36_v90_t+1.5.wav``.

train
    ``songmint train``'s trainer (:func:`music.engines.dd_training.train`) on ``train/``: the ``oneshot``
    preset (``--preset``; 8 levels, 16-128 channels, attention in the 2 deepest levels) in mono at 16 kHz
    with an 8192-sample window, batch 4, AdamW at 1e-3 (``--lr``), EMA 0.995, fp32, torch threads 1
    (``--threads``), for a wall-clock budget (``max_minutes``) or ``--train-steps``. The running loss
    is logged every 25 steps to ``loss.jsonl``.

eval
    32 clips from the trained model (``--sampler``, default DPM-Solver++, ``--steps`` 20) against baselines of
    the same number: an untrained model of the same configuration (same sampler, same noise), white noise
    at the real clips' RMS, and white noise under a decaying envelope (a crude synthetic one-shot).
    Features per clip (peak-normalised first, so level does not count): mean and standard deviation of 20
    MFCCs, spectral centroid, bandwidth, flatness and zero-crossing rate, and the log-RMS envelope in 8
    segments. Measures:

    * a multinomial logistic regression fitted on the training shots' standardised features;
      its accuracy on the held-out shots says the features separate the classes; for each set,
      the share of clips given one class with probability >= 0.8 and the class distribution;
    * "near": the share of clips whose distance to the nearest training shot (standardised
      features) is within the 75th percentile of the held-out real shots' distances, and the
      median of that distance; "both" counts clips that are confident and near (a confident
      label on a clip unlike any real shot, such as noise called "hat", does not count);
    * a Fréchet distance (Gaussian fit, as FID) between each set and the held-out shots, on the
      features projected to their 8 leading principal components (of the training shots); the
      training shots themselves give the floor;
    * envelope: the share of clips whose RMS envelope peaks in the first 50 ms ("attack") and
      whose last 128 ms are at least 12 dB below that peak ("decay");
    * the tail's noise floor: the RMS level of 0.30-0.44 s in dB re the peak, the set's 10th
      percentile and median (real kicks and claps are silent there, near -55 and -75 dB);
    * memorisation: each generated clip's highest |correlation| with any training shot;
    * the sampler quality trade-off on this model (``benchmarks/diffusion.py``'s table: SNR of
      each sampler against IPNDM at 400 steps from the same noise, on ``--sampler-n`` clips;
      also the ``samplers`` stage alone, to run it on the other core).

    ``--figure PNG`` draws log-spectrograms of held-out and generated shots (Pillow) and
    ``--examples DIR`` writes a few generated WAVs.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from music.audio import Audio, load, save  # noqa: E402

SR = 16_000
LENGTH = 8192
"""The data's rate and clip length (0.51 s); ``train``/``eval`` ``--rate`` changes both for the
model (the clips are resampled on load), the data stays rendered at 16 kHz."""
# GM drum kits (bank 128): Standard, Room, Power, Electronic, TR-808, Jazz, Brush, Orchestra
KITS = (0, 8, 16, 24, 25, 32, 40, 48)
VELOCITIES = (60, 90, 120)
CLASSES: dict[str, tuple[int, ...]] = {
    "kick": (35, 36),
    "snare": (38, 40),
    "clap": (39,),
    "hat-closed": (42, 44),
    "hat-open": (46,),
    "tom": (41, 43, 45, 47, 48, 50),
    "cymbal": (49, 51, 57, 59),
}
TUNINGS = (-3.0, -1.5, 0.0, 1.5, 3.0)  # semitones
HELD_OUT = 0.15
CONFIDENT = 0.8


# --------------------------------------------------------------------------- data


def render_shots(work: Path) -> tuple[int, int]:
    """Render, deduplicate and split the one-shots into ``work/train`` and ``work/heldout``."""
    from music.engines.composer.patterns import Note
    from music.engines.composer.render import Room, Voice, render_part
    from music.soundfont import find_soundfont

    sf2 = find_soundfont()
    fade = np.ones(LENGTH, np.float32)
    k = int(0.064 * SR)
    fade[-k:] = 0.5 * (1 + np.cos(np.linspace(0, np.pi, k)))

    @functools.cache  # the untuned render is needed twice: dedup, then the split
    def shot(kit: int, key: int, vel: int, semitones: float) -> np.ndarray:
        # Rendered at a rate r and read as SR, the shot sounds SR/r higher and shorter: a
        # sampler's (or tape's) re-pitch, what a producer does to fit a drum to a track.
        y = render_part(
            [Note(0.0, 1.0, key, vel)],  # a 0.4 s note; drum presets mostly ignore note-off
            voice=Voice(channel=9, bank=128, program=kit, reverb=0, chorus=0),
            soundfont=sf2,
            sr=round(SR / 2 ** (semitones / 12)),
            bpm=150.0,
            n_samples=LENGTH,
            room=Room(),
        ).mean(axis=0)
        peak = float(np.abs(y).max())
        if peak < 1e-4:  # the kit has no sample on this key
            return np.zeros(0, np.float32)
        return (y * fade / peak * 10 ** (-1 / 20)).astype(np.float32)

    # 1. the distinct sounds: kits share samples and velocity layers are often one sample at
    # different gains, which peak normalisation makes identical
    base: dict[str, list[tuple[int, int, int, int]]] = {c: [] for c in CLASSES}  # kit, key, vel, #
    kept: list[np.ndarray] = []
    dropped = 0
    for kit in KITS:
        for cls, keys in CLASSES.items():
            for key in keys:
                for vel in VELOCITIES:
                    y = shot(kit, key, vel, 0.0)
                    if y.size == 0:
                        continue
                    unit = y / np.linalg.norm(y)
                    if kept and max(abs(float(unit @ u)) for u in kept) > 0.995:
                        dropped += 1
                        continue
                    base[cls].append((kit, key, vel, len(kept)))
                    kept.append(unit)
    # 2. sounds correlated above 0.9 are one family (a sample at two velocities, a kit's
    # variant of another's); the split is made on families, and all tunings of a sound stay on
    # its family's side, so nothing held out has a close relative in training
    units = np.stack(kept)
    family = list(range(len(units)))

    def root(i: int) -> int:
        while family[i] != i:
            i = family[i]
        return i

    close = np.abs(units @ units.T) > 0.9
    for i, j in zip(*np.nonzero(np.triu(close, 1)), strict=True):
        family[root(int(j))] = root(int(i))
    rng = np.random.default_rng(0)
    counts = {"train": 0, "heldout": 0}
    for cls, items in base.items():
        fams = sorted({root(it[3]) for it in items})
        held: set[int] = set()
        # whole families until 15 % of the class's sounds are out; one family always stays in
        for r in rng.permutation(len(fams))[: len(fams) - 1]:
            if sum(root(it[3]) in held for it in items) >= HELD_OUT * len(items):
                break
            held.add(fams[r])
        for kit, key, vel, k_ in items:
            sub = "heldout" if root(k_) in held else "train"
            for semi in TUNINGS:
                y = shot(kit, key, vel, semi)
                name = f"{cls}_k{kit:02d}_n{key}_v{vel}_t{semi:+.1f}.wav"
                save(Audio.from_array(y[None, :], SR), work / sub / name)
                counts[sub] += 1
    print(
        f"rendered one-shots from {sf2.name}: {sum(len(v) for v in base.values())} distinct sounds "
        f"({dropped} near-duplicates dropped) x {len(TUNINGS)} tunings = {counts['train']} for training, "
        f"{counts['heldout']} held out; distinct sounds per class: "
        + ", ".join(f"{c} {len(v)}" for c, v in base.items())
    )
    return counts["train"], counts["heldout"]


def read_set(folder: Path) -> tuple[np.ndarray, list[str]]:
    """``(n, LENGTH)`` mono clips and their class labels (from the file names)."""
    files = sorted(folder.glob("*.wav"))
    clips = np.stack([load(p, sr=SR, channels=1).samples[0, :LENGTH] for p in files])
    return clips.astype(np.float32), [p.name.split("_")[0] for p in files]


# --------------------------------------------------------------------------- training


def train_model(
    work: Path,
    *,
    minutes: float | None,
    lr: float,
    batch: int,
    seed: int,
    preset: str = "oneshot",
    weighting: str = "uniform",
    time_sampling: str = "uniform",
    lr_schedule: str = "constant",
    warmup_steps: int = 0,
    precision: str = "fp32",
    resume: bool = False,
    threads: int = 1,
    train_steps: int | None = None,
) -> None:
    import torch

    from music.engines.dd_training import TrainConfig, train

    torch.set_num_threads(threads)
    cfg = TrainConfig(
        preset=preset,
        weighting=weighting,
        time_sampling=time_sampling,
        lr_schedule=lr_schedule,
        warmup_steps=warmup_steps,
        sample_rate=SR,
        sample_size=LENGTH,
        channels=1,
        # A wall-clock budget decides unless a step count is given: steps make runs on two
        # machines of different speed the same experiment (and the cosine schedule the same).
        steps=train_steps or 10**7,
        max_minutes=None if train_steps else minutes,
        batch_size=batch,
        lr=lr,
        save_every=500,
        demo_every=0,
        precision=precision,
        seed=seed,
    )
    log_path = work / "loss.jsonl"
    t0 = time.perf_counter()
    c0 = time.process_time()
    if resume and log_path.is_file():  # the log's clocks go on from the previous run's
        last = json.loads(log_path.read_text().splitlines()[-1])
        t0, c0 = t0 - last["wall_s"], c0 - last["cpu_s"]
    log = log_path.open("a" if resume else "w")
    window: list[float] = []

    def progress(step: int, total: int, loss: float) -> None:
        window.append(loss)
        if step % 25 == 0:
            row = {
                "step": step,
                "loss20": loss,
                "wall_s": round(time.perf_counter() - t0, 1),
                "cpu_s": round(time.process_time() - c0, 1),
            }
            log.write(json.dumps(row) + "\n")
            log.flush()
            print(json.dumps(row), flush=True)

    s = train(work / "train", work / "model", cfg, resume=resume, progress=progress, warn=print)
    log.close()
    print(
        f"trained {s['steps']} steps ({s['stopped_by']}) in {s['seconds']:.0f} s wall, "
        f"{time.process_time() - c0:.0f} s CPU; {s['parameters'] / 1e6:.2f} M parameters; "
        f"validation loss {s['val_loss_start']:.4f} -> {s['val_loss_end']:.4f}",
        flush=True,
    )


# --------------------------------------------------------------------------- features


def features(clips: np.ndarray) -> np.ndarray:
    """One row of timbre and envelope features per clip (see the module docs)."""
    import librosa

    rows = []
    seg = LENGTH // 8
    for y in clips.astype(np.float32):
        y = y / max(float(np.abs(y).max()), 1e-9)
        mf = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20, n_fft=1024, hop_length=256)
        spec = [
            librosa.feature.spectral_centroid(y=y, sr=SR, n_fft=1024, hop_length=256)[0] / (SR / 2),
            librosa.feature.spectral_bandwidth(y=y, sr=SR, n_fft=1024, hop_length=256)[0] / (SR / 2),
            np.log(librosa.feature.spectral_flatness(y=y, n_fft=1024, hop_length=256)[0] + 1e-6),
            librosa.feature.zero_crossing_rate(y, frame_length=1024, hop_length=256)[0],
        ]
        env = np.log(np.sqrt(np.mean(y.reshape(8, seg) ** 2, axis=1)) + 1e-4)
        rows.append(np.concatenate([mf.mean(1), mf.std(1), [s.mean() for s in spec], env]))
    return np.asarray(rows, np.float64)


def fit_logistic(x: np.ndarray, y: np.ndarray, k: int, *, l2: float = 1e-2, iters: int = 3000) -> np.ndarray:
    """Multinomial logistic regression by full-batch gradient descent; returns weights with bias."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros((xb.shape[1], k))
    onehot = np.eye(k)[y]
    for _ in range(iters):
        p = softmax(xb @ w)
        grad = xb.T @ (p - onehot) / len(x) + l2 * np.vstack([w[:-1], np.zeros((1, k))])
        w -= 0.5 * grad
    return w


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussian fits of two feature sets (rows are samples)."""
    from scipy import linalg

    ma, mb = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(ca @ cb)
    root = root.real if np.iscomplexobj(root) else root
    return float(((ma - mb) ** 2).sum() + np.trace(ca + cb - 2 * root))


def envelope_ok(clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per clip: the RMS envelope (4 ms frames) peaks in the first 50 ms; the last 128 ms are at
    least 12 dB below that peak (every real shot passes both: peaks by 28 ms, tails <= -13 dB)."""
    hop = 64
    frames = clips[:, : LENGTH // hop * hop].reshape(len(clips), -1, hop)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=2)) + 1e-9
    attack = rms.argmax(axis=1) * hop < 0.050 * SR
    tail = int(0.128 * SR) // hop
    decay = 20 * np.log10(rms[:, -tail:].mean(axis=1) / rms.max(axis=1)) <= -12
    return attack, decay


def tail_level(clips: np.ndarray) -> np.ndarray:
    """Per clip: the RMS level of 0.30-0.44 s (before the data's fade) in dB re the clip's peak.

    Where real shots have ended (kicks and claps: about -55 and -75 dB) a generated one's noise
    floor shows here; the quietest tails of a set (its 10th percentile) say whether the model
    can make silence at all.
    """
    seg = clips[:, int(0.30 * SR) : int(0.44 * SR)].astype(np.float64)
    peak = np.abs(clips).max(axis=1) + 1e-9
    return 20 * np.log10(np.sqrt(np.mean(seg**2, axis=1)) / peak + 1e-9)


# --------------------------------------------------------------------------- evaluation


def sample_model(unet, n: int, seed: int, *, sampler: str, steps: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    from music.engines.dance_diffusion import DanceDiffusionEngine

    engine = DanceDiffusionEngine(unet=unet, sampler=sampler, steps=steps, batch_size=16)
    return np.stack([a.samples[0] for a in engine.sample(n=n, seed=seed)]).astype(np.float32)


def evaluate(
    work: Path,
    model: Path,
    *,
    n: int,
    figure: Path | None,
    examples: Path | None,
    sampler_n: int,
    sampler: str = "dpmpp-2m",
    steps: int = 20,
) -> None:
    import torch
    from diffusers import UNet1DModel

    torch.set_num_threads(1)
    train_x, train_lab = read_set(work / "train")
    held_x, held_lab = read_set(work / "heldout")
    names = list(CLASSES)
    ytr = np.array([names.index(c) for c in train_lab])
    yho = np.array([names.index(c) for c in held_lab])

    unet = UNet1DModel.from_pretrained(model).eval()
    t0 = time.process_time()
    gen = sample_model(unet, n, seed=1, sampler=sampler, steps=steps)
    gen_cpu = time.process_time() - t0
    torch.manual_seed(12345)
    untrained = UNet1DModel(**dict(unet.config)).eval()
    base_untrained = sample_model(untrained, n, seed=1, sampler=sampler, steps=steps)
    rng = np.random.default_rng(7)
    rms = float(np.sqrt(np.mean(train_x**2)))
    white = (rng.standard_normal((n, LENGTH)) * rms).astype(np.float32)
    tt = np.arange(LENGTH) / SR
    decays = rng.uniform(5, 60, size=(n, 1))  # 1/e times of 17-200 ms, the range of the real shots
    env_noise = (rng.standard_normal((n, LENGTH)) * np.exp(-tt[None, :] * decays)).astype(np.float32)

    f_tr = features(train_x)
    mu, sd = f_tr.mean(0), f_tr.std(0) + 1e-9

    def z(clips: np.ndarray) -> np.ndarray:
        return (features(clips) - mu) / sd

    z_tr = (f_tr - mu) / sd
    w = fit_logistic(z_tr, ytr, len(names))
    # PCA of the training shots for the Fréchet distance (few clips: keep it low-dimensional)
    _, _, vt = np.linalg.svd(z_tr - z_tr.mean(0), full_matrices=False)
    proj = vt[:8].T

    def probs(zz: np.ndarray) -> np.ndarray:
        return softmax(np.hstack([zz, np.ones((len(zz), 1))]) @ w)

    def nearest(zz: np.ndarray) -> np.ndarray:  # distance to the nearest training shot
        return np.sqrt(((zz[:, None, :] - z_tr[None]) ** 2).sum(-1)).min(1)

    z_ho = z(held_x)
    acc = float((probs(z_ho).argmax(1) == yho).mean())
    d_ho = nearest(z_ho)
    radius = float(np.percentile(d_ho, 75))
    if (model / "training.json").is_file():
        s = json.loads((model / "training.json").read_text())
        print(
            f"\n== one-shot model {model}: {s['steps']} steps ({s['stopped_by']}) "
            f"in {s['seconds'] / 60:.1f} min; "
            f"{s['parameters'] / 1e6:.2f} M parameters; validation loss {s['val_loss_start']:.4f} -> "
            f"{s['val_loss_end']:.4f}"
        )
    else:  # e.g. an intermediate checkpoint's ema/ folder
        print(f"\n== one-shot model {model}")
    print(
        f"data: {len(train_x)} training shots, {len(held_x)} held out; classifier accuracy on the held-out "
        f"shots {acc:.0%} (chance {1 / len(names):.0%}); distance of a held-out shot to the nearest training "
        f"shot: median {np.median(d_ho):.2f}, 75th percentile {radius:.2f} (the 'near' radius)"
    )
    print(
        f"generation: {n} clips with {sampler} x {steps} steps in {gen_cpu:.1f} s CPU "
        f"({gen_cpu / n:.2f} s/clip)"
    )

    sets = {
        "held-out real": held_x,
        "trained model": gen,
        "untrained model": base_untrained,
        "white noise": white,
        "decaying noise": env_noise,
    }
    ref_pca = z_ho @ proj
    floor = frechet(z_tr @ proj, ref_pca)
    print(
        f"\n{'set':<16} {'confident':>9} {'near':>6} {'both':>6} {'NN dist':>8} {'FD':>8} {'attack':>7} "
        f"{'decay':>6} {'tail dB p10/50':>14}   classes of the clips counted in 'both'"
    )
    results = {}
    for label, clips in sets.items():
        zz = z_ho if label == "held-out real" else z(clips)
        p = probs(zz)
        conf = p.max(1) >= CONFIDENT
        dist_nn = nearest(zz)
        ind = dist_nn <= radius
        both = conf & ind
        fd = frechet(z_tr @ proj, ref_pca) if label == "held-out real" else frechet(zz @ proj, ref_pca)
        att, dec = envelope_ok(clips)
        tail = np.percentile(tail_level(clips), [10, 50])
        counts = np.bincount(p.argmax(1)[both], minlength=len(names))
        dist = ", ".join(f"{names[k]} {c}" for k, c in enumerate(counts) if c)
        results[label] = {"both": float(both.mean()), "fd": fd}
        fd_txt = f"{fd:>8.1f}" + ("*" if label == "held-out real" else " ")
        print(
            f"{label:<16} {conf.mean():>9.0%} {ind.mean():>6.0%} {both.mean():>6.0%} "
            f"{np.median(dist_nn):>8.2f} {fd_txt}"
            f"{att.mean():>6.0%} {dec.mean():>6.0%} {tail[0]:>8.0f}/{tail[1]:<5.0f}   {dist or '-'}"
        )
    print(f"(* FD of the training shots against the held-out ones: the floor; {floor:.1f})")
    g = results["trained model"]
    for label in ("untrained model", "white noise", "decaying noise"):
        b = results[label]
        print(
            f"trained vs {label}: FD {b['fd'] / g['fd']:.1f}x lower; "
            f"confident and near {g['both']:.0%} vs {b['both']:.0%}"
        )
    tr_unit = train_x / np.linalg.norm(train_x, axis=1, keepdims=True)
    gen_unit = gen / np.maximum(np.linalg.norm(gen, axis=1, keepdims=True), 1e-9)
    ho_unit = held_x / np.linalg.norm(held_x, axis=1, keepdims=True)
    mem = np.abs(gen_unit @ tr_unit.T).max(1)
    mem_ho = np.abs(ho_unit @ tr_unit.T).max(1)
    print(
        f"memorisation: highest |correlation| with a training shot, median {np.median(mem):.2f} "
        f"(max {mem.max():.2f}); held-out real shots {np.median(mem_ho):.2f} (max {mem_ho.max():.2f})"
    )
    if examples is not None:
        write_examples(examples, gen, probs(z(gen)), nearest(z(gen)) <= radius, names)
    if figure is not None:
        pg = probs(z(gen))
        labels = [f"{names[k]} {pg[i, k]:.2f}" for i, k in enumerate(pg.argmax(1))]
        draw(figure, held_x, held_lab, gen, labels)

    # The sampler quality trade-off on this model, with benchmarks/diffusion.py's own table.
    if sampler_n:
        samplers(model, sampler_n)


def samplers(model: Path, n: int) -> None:
    """The sampler quality trade-off on ``model``: ``benchmarks/diffusion.py``'s own table."""
    import torch

    from benchmarks.diffusion import quality

    torch.set_num_threads(1)
    quality(str(model), 0, n)


def write_examples(folder: Path, gen: np.ndarray, p: np.ndarray, ind: np.ndarray, names: list[str]) -> None:
    """The first four generated clips (16-bit WAV), named after the classifier's verdict:
    ``generated-1-kick-p0.93.wav``, with ``-far`` when the clip is not near any real shot."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(min(4, len(gen))):
        k = int(p[i].argmax())
        name = f"generated-{i + 1}-{names[k]}-p{p[i, k]:.2f}{'' if ind[i] else '-far'}.wav"
        save(Audio.from_array(gen[i][None, :], SR), folder / name, wav_depth=16)
    print(f"examples: {len(list(folder.glob('generated-*.wav')))} clips in {folder}")


def draw(path: Path, real: np.ndarray, real_lab: list[str], gen: np.ndarray, gen_lab: list[str]) -> None:
    """Log-magnitude spectrograms (80 dB range): a row of held-out shots, one per class, over a row of
    generated ones labelled with the classifier's class and probability."""
    from PIL import Image, ImageDraw

    def spec(y: np.ndarray) -> np.ndarray:
        n_fft, hop = 512, 64
        frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop] * np.hanning(n_fft)
        mag = 20 * np.log10(np.abs(np.fft.rfft(frames, axis=1)).T + 1e-6)
        mag = np.clip((mag - mag.max() + 80) / 80, 0, 1)[::-2]  # every other bin: 0-8 kHz in 129 rows
        return mag

    picks_real = [real_lab.index(c) for c in CLASSES if c in real_lab]
    picks_gen = list(range(min(len(picks_real), len(gen))))
    tiles = [[spec(real[i]) for i in picks_real], [spec(gen[i]) for i in picks_gen]]
    h, w_ = tiles[0][0].shape
    pad, top = 6, 16
    img = Image.new("RGB", (len(picks_real) * (w_ + pad) + pad, 2 * (h + top + pad) + pad), "white")
    d = ImageDraw.Draw(img)
    for r, (row, labels) in enumerate(
        ((tiles[0], [real_lab[i] for i in picks_real]), (tiles[1], [gen_lab[i] for i in picks_gen]))
    ):
        for c, (m, lab) in enumerate(zip(row, labels, strict=True)):
            rgb = np.stack([m**0.7 * 255, m**1.5 * 255, (1 - m) * m * 2 * 255], -1).astype(np.uint8)
            x0, y0 = pad + c * (w_ + pad), pad + r * (h + top + pad)
            img.paste(Image.fromarray(rgb), (x0, y0 + top))
            d.text((x0, y0), ("real " if r == 0 else "gen: ") + lab, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.quantize(64).save(path, optimize=True)  # a 64-colour palette keeps the PNG small
    print(f"figure: {path}")


def main() -> None:
    global SR, LENGTH
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stage", nargs="?", choices=["data", "train", "eval", "samplers", "all"])
    ap.add_argument("--work", type=Path, default=Path("/tmp/dd-oneshots"), help="data, model and logs")
    ap.add_argument("--minutes", type=float, default=60.0, help="training budget (wall clock)")
    ap.add_argument("--train-steps", type=int, help="train: this many steps instead of the --minutes budget")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--preset", default="oneshot", help="architecture preset (dd_checkpoints.PRESETS)")
    ap.add_argument("--weighting", default="uniform", help="loss weighting: uniform, min-snr")
    ap.add_argument("--time-sampling", default="uniform", help="training noise levels: uniform, log-normal")
    ap.add_argument("--lr-schedule", default="constant", help="constant, or cosine decay over the budget")
    ap.add_argument("--warmup-steps", type=int, default=0, help="linear learning-rate warm-up")
    ap.add_argument("--precision", default="fp32", help="fp32, or bf16 autocast (fast on AMX CPUs)")
    ap.add_argument(
        "--resume", action="store_true", help="train: go on from the last checkpoint (larger --minutes)"
    )
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1, help="train: torch threads (1: one core)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=32, help="generated clips per set in the evaluation")
    ap.add_argument(
        "--rate", type=int, default=16_000, help="train/eval: model rate in Hz (the 16 kHz data is resampled)"
    )
    ap.add_argument("--sampler", default="dpmpp-2m", help="eval: the sampler generating the clips")
    ap.add_argument("--steps", type=int, default=20, help="eval: the sampler's steps")
    ap.add_argument("--model", type=Path, help="model to evaluate (default: WORK/model)")
    ap.add_argument("--sampler-n", type=int, default=4, help="clips in the sampler quality table (0: skip)")
    ap.add_argument("--figure", type=Path, help="write a spectrogram figure (PNG) here")
    ap.add_argument("--examples", type=Path, help="write a few generated one-shots (WAV) here")
    args = ap.parse_args()
    if args.stage is None:  # `make bench` runs every benchmark bare: this one is on demand only
        print("dd_oneshots: on demand only (an hour of training); stages: data, train, eval, samplers, all")
        return
    if args.stage in ("data", "all"):
        render_shots(args.work)
    # The same 0.51 s at the model's rate: every stage below reads SR and LENGTH.
    SR, LENGTH = args.rate, round(LENGTH * args.rate / SR)
    if args.stage in ("train", "all"):
        train_model(
            args.work,
            minutes=args.minutes,
            lr=args.lr,
            batch=args.batch_size,
            seed=args.seed,
            preset=args.preset,
            weighting=args.weighting,
            time_sampling=args.time_sampling,
            lr_schedule=args.lr_schedule,
            warmup_steps=args.warmup_steps,
            precision=args.precision,
            resume=args.resume,
            threads=args.threads,
            train_steps=args.train_steps,
        )
    if args.stage in ("eval", "all"):
        model = args.model or args.work / "model"
        evaluate(
            args.work,
            model,
            n=args.n,
            figure=args.figure,
            examples=args.examples,
            sampler_n=args.sampler_n,
            sampler=args.sampler,
            steps=args.steps,
        )
    if args.stage == "samplers":
        samplers(args.model or args.work / "model", args.sampler_n)


if __name__ == "__main__":
    main()
