"""``songmint release SPEC``: from a catalog spec to minted editions, resumable.

Stages, in order (each per track where it applies, each cached on content hashes under
``OUT/.cache`` so that a re-run skips finished work):

1. generate (any registered engine) or load each track (a mix and an optional stems folder);
2. traits of the mix and its stems (``music.traits``), then rarity across the release;
3. the cover and its 512 px thumbnail (``cover_art``);
4. assets: FLAC (lossless), MP3 320k, a 30 s MP3 preview from the most representative
   section, the stems (FLAC + MP3), cover, thumbnail and a self-contained HTML player;
5. metadata (``metadata/<id as 64 hex>.json``, ``collection.json``) with every asset's
   sha256 and CID;
6. the CAR of ``assets/ + metadata/ + collection.json`` (``release.car``; its root CID is
   the release's) and storage;
7. deploy the contract or attach to an existing one;
8. create and mint through ``minting.chain``, journalled, so a killed release resumes
   without minting twice.

The output folder also holds ``manifest.json`` (every asset's path, sha256 and CID; each
token's id, metadata path and URI, cap, minted amount and recipient; every tx hash; the
contract, chain id and root CID) and ``preview/``, the listener site.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from music.audio import Audio, atomic_path, encode, load, resample
from music.engines import Request, Take, get_engine
from music.errors import MusicError
from music.hashing import sha256_file
from music.takes import file_stem, read_take, write_take
from songmint import __version__

if TYPE_CHECKING:
    from minting.chain.networks import Network
from songmint import stages as st
from songmint.errors import SongmintError
from songmint.spec import Editions, ReleaseSpec, Track, load_spec

MANIFEST_VERSION = 1
COVER_SIZE = 2048
STAGES = ("generate", "traits", "cover", "encode", "metadata", "store", "contract", "mint")
AUDIO_EXTS = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".aif", ".aiff", ".m4a")
Log = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """How to run a release (the CLI's flags)."""

    out: Path
    network: str | None = None  # overrides the spec's [network]
    chain_id: int | None = None
    dry_run: bool = False
    yes: bool = False
    cover_size: int = COVER_SIZE
    keystore: Path | None = None  # encrypted key file; password from $SONGMINT_KEYSTORE_PASSWORD or a prompt
    build_preview: bool = True
    cache_dir: Path | None = None  # default OUT/.cache; $SONGMINT_CACHE_DIR or --cache-dir share one


@dataclass
class Piece:
    """One token's material as the pipeline builds it."""

    track: Track
    token_id: int
    kind: str  # "track" or "stem"
    stem: str | None
    take: Take
    audio: Audio
    traits: dict[str, Any] | None = None
    rarity: dict[str, Any] | None = None
    cover: tuple[bytes, bytes, dict[str, Any]] | None = None
    assets: dict[str, str] | None = None  # role -> path relative to out
    editions: Editions | None = None

    @property
    def slug(self) -> str:
        return self.track.id if self.stem is None else f"{self.track.id}--{self.stem}"

    @property
    def title(self) -> str:
        return self.track.title if self.stem is None else f"{self.track.title} ({self.stem})"


# --------------------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    return sha256_file(path)


def _write(path: Path, data: bytes | str) -> None:
    """Atomic write (temp file + rename), skipped when the content is already there."""
    raw = data.encode() if isinstance(data, str) else data
    if path.exists() and path.stat().st_size == len(raw) and path.read_bytes() == raw:
        return
    with atomic_path(path) as tmp:
        tmp.write_bytes(raw)


def _audio_hash(audio: Audio) -> str:
    return st.content_hash(
        str(audio.sr), str(audio.samples.shape), np.ascontiguousarray(audio.samples).tobytes()
    )


class Cache:
    """Content-addressed cache under ``<root>/<kind>/<key>`` (root: ``OUT/.cache`` by default).

    Keys hash the inputs plus :func:`code_fingerprint`, so other code never reuses stale results.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, kind: str, key: str, suffix: str = "") -> Path:
        key = st.content_hash(code_fingerprint(), key)
        return self.root / kind / f"{key}{suffix}"

    def bytes(self, kind: str, key: str, suffix: str, make: Callable[[], bytes]) -> tuple[bytes, bool]:
        p = self.path(kind, key, suffix)
        if p.exists():
            return p.read_bytes(), True
        data = make()
        _write(p, data)
        return data, False

    def json(self, kind: str, key: str, make: Callable[[], Any]) -> tuple[Any, bool]:
        data, hit = self.bytes(kind, key, ".json", lambda: json.dumps(make(), sort_keys=True).encode())
        return json.loads(data), hit


@functools.cache
def code_fingerprint() -> str:
    """sha256 over songmint's version and the source of the packages that make a release's bytes.

    Part of every cache key, so that results made by other code (an upgrade, a local edit of an
    engine or of the trait extractor) are never reused.
    """
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(__version__.encode())
    for pkg in ("music", "cover_art", "minting", "songmint"):
        for f in sorted((root / pkg).rglob("*.py")):
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- stage 1


def take_key(track: Track) -> str:
    """Cache key of a track's take: the generation request (and the bytes of any audio it continues),
    or the source files' bytes."""
    if track.generate is not None:
        g = track.generate
        parts: list[bytes | str] = [
            "generate",
            g.engine,
            json.dumps(
                {"prompt": g.prompt, "seed": g.seed, "seconds": g.seconds, "params": g.params}, sort_keys=True
            ),
        ]
        if g.source is not None:
            parts += ["source", _sha256(g.source)]
            for p in _audio_files(g.source_stems):
                parts += [p.stem, _sha256(p)]
        return st.content_hash(*parts)
    assert track.file is not None
    parts = ["file", _sha256(track.file)]
    for p in _audio_files(track.stems_dir):
        parts += [p.stem, _sha256(p)]
    return st.content_hash(*parts)


def _audio_files(folder: Path | None) -> list[Path]:
    if folder is None:
        return []
    return sorted(
        p for p in folder.iterdir() if p.suffix.lower() in AUDIO_EXTS and not p.name.startswith(".")
    )


def _stem_files(track: Track) -> list[Path]:
    return _audio_files(track.stems_dir)


def load_mix_and_stems(mix_path: Path, stems_dir: Path | None) -> tuple[Audio, dict[str, Audio]]:
    """A mix and the stem files of a folder, conformed to the mix's rate and length."""
    mix = load(mix_path)
    stems = {}
    for p in _audio_files(stems_dir):
        stem = load(p)
        if stem.sr != mix.sr:
            stem = resample(stem, mix.sr)
        if abs(stem.n - mix.n) > 0.01 * mix.n + mix.sr * 0.05:
            raise SongmintError(
                f"{p}: stem is {stem.duration:.2f} s long but the mix is {mix.duration:.2f} s; "
                "export stems and mix from the same session start to end"
            )
        x = np.zeros((stem.channels, mix.n), dtype=np.float32)
        x[:, : min(mix.n, stem.n)] = stem.samples[:, : mix.n]
        stems[p.stem] = Audio(x, mix.sr)
    return mix, stems


def render_take(track: Track) -> Take:
    """Generate, continue or load a track's take, without the cache."""
    if track.generate is not None:
        return render_request(
            track.generate.engine,
            track.generate.prompt,
            track.generate.seconds,
            track.generate.seed,
            track.generate.params,
            track.generate.source,
            track.generate.source_stems,
        )
    assert track.file is not None
    mix, stems = load_mix_and_stems(track.file, track.stems_dir)
    prov = {
        "engine": "file",
        "file": track.file.name,
        "sha256": _sha256(track.file),
        "stems": {p.stem: _sha256(p) for p in _stem_files(track)},
    }
    return Take(mix=mix, stems=stems, provenance=prov)


def render_request(
    engine_name: str,
    prompt: str | None,
    seconds: float | None,
    seed: int,
    params: dict[str, Any],
    source: Path | None = None,
    source_stems: Path | None = None,
) -> Take:
    """``engine.generate(request)``, or ``engine.continue_(source, request, stems=…)`` with a source."""
    from music.engines import require

    engine = get_engine(engine_name)
    request = Request(prompt=prompt, seconds=seconds, seed=seed, params=dict(params))
    if source is None:
        return require(engine, "generate")(request)
    audio, stems = load_mix_and_stems(source, source_stems)
    return require(engine, "continue_")(audio, request, stems=stems or None)


def load_take(track: Track, cache: Cache) -> tuple[Take, bool]:
    folder = cache.path("takes", take_key(track))
    if (folder / "take.json").exists():
        return read_take(folder), True
    take = render_take(track)
    write_take(take, folder, title=track.title, fmt="wav", wav_depth="float")
    return read_take(folder), False  # what later stages see is exactly what the cache holds


# --------------------------------------------------------------------------- stage 4 helpers


def representative_start(audio: Audio, seconds: float) -> float:
    """Start (s) of the ``seconds``-long excerpt most similar to the whole track.

    Audio thumbnailing after Cooper & Foote (2002): chroma + log-energy features at ~0.5 s
    resolution, a cosine self-similarity matrix, and the window whose rows have the highest
    mean similarity to the whole song (its most "typical" section), snapped to 0.5 s.
    """
    if audio.duration <= seconds + 0.5:
        return 0.0
    sr = 11_025
    y = resample(audio, sr).mono() if audio.sr != sr else audio.mono()
    hop = sr // 2
    n_fft = 4096
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(y, (0, n_fft)), n_fft)[::hop]
    spec = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=1)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    valid = (freqs > 55) & (freqs < 4000)
    pcs = ((np.round(12 * np.log2(freqs[valid] / 440.0)) + 9) % 12).astype(int)
    chroma = np.zeros((spec.shape[0], 12))
    for pc in range(12):
        chroma[:, pc] = spec[:, valid][:, pcs == pc].sum(axis=1)
    energy = np.log1p(spec.sum(axis=1, keepdims=True))
    feats = np.hstack([chroma / (chroma.sum(axis=1, keepdims=True) + 1e-12), energy / (energy.max() + 1e-12)])
    feats /= np.linalg.norm(feats, axis=1, keepdims=True) + 1e-12
    sim = feats @ feats.T
    typical = sim.mean(axis=1)
    w = int(seconds * sr / hop)
    if w >= typical.size:
        return 0.0
    scores = np.convolve(typical, np.ones(w) / w, mode="valid")
    return float(np.argmax(scores) * hop / sr)


def preview_clip(audio: Audio, seconds: float) -> tuple[Audio, float]:
    """The preview excerpt (with 0.5 s / 1.5 s fades) and its start time."""
    start = representative_start(audio, seconds)
    a = int(start * audio.sr)
    b = min(audio.n, a + int(seconds * audio.sr))
    x = audio.samples[:, a:b].copy()
    fin, fout = min(x.shape[1] // 4, int(0.5 * audio.sr)), min(x.shape[1] // 4, int(1.5 * audio.sr))
    if fin:
        x[:, :fin] *= np.linspace(0, 1, fin, dtype=np.float32)
    if fout:
        x[:, -fout:] *= np.linspace(1, 0, fout, dtype=np.float32)
    return Audio(x, audio.sr), start


MIME = {
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
    ".png": "image/png",
    ".html": "text/html",
    ".json": "application/json",
    ".wav": "audio/wav",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


# --------------------------------------------------------------------------- the pipeline


class Release:
    """One run of the pipeline for a spec into an output folder."""

    def __init__(self, spec: ReleaseSpec, opts: Options, *, log: Log | None = None) -> None:
        self.spec = spec
        self.opts = opts
        self.out = opts.out
        env_cache = os.environ.get("SONGMINT_CACHE_DIR")
        self.cache = Cache(opts.cache_dir or (Path(env_cache) if env_cache else self.out / ".cache"))
        self.log = log or (lambda m: None)
        self.pieces: list[Piece] = []
        self.timings: dict[str, float] = {}

    def stage(self, n: int, name: str, detail: str = "") -> None:
        self.log(f"[{n}/{len(STAGES)}] {name}{(' ' + detail) if detail else ''}")

    def run(self) -> dict[str, Any]:
        self._check_network()
        if self.out.is_dir() and any(self.out.iterdir()):
            ours = {
                "manifest.json",
                "assets",
                "metadata",
                ".cache",
                ".songmint",
                "collection.json",
                "release.car",
                "preview",
            }
            if not {p.name for p in self.out.iterdir()} & ours:
                raise SongmintError(f"{self.out} is not empty and holds no release; choose another --out")
        self.out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        self._generate()
        self._traits()
        self._covers()
        self._encode()
        self.sender = self._resolve_sender()
        metadata = self._metadata()
        root_cid, cids = self._store()
        manifest = self._manifest(metadata, root_cid, cids)
        if self.opts.dry_run:
            manifest["plan"] = self._dry_run(manifest)
            manifest["dry_run"] = True
        else:
            self._confirm(manifest)
            self._chain(manifest)
        manifest["timings_s"] = {k: round(v, 3) for k, v in self.timings.items()}
        manifest["timings_s"]["total"] = round(time.perf_counter() - t0, 3)
        _write(self.out / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        if self.opts.build_preview:
            from songmint.preview import build_preview

            build_preview(self.out)
        return manifest

    # ---- 1 ---------------------------------------------------------------------
    def _generate(self) -> None:
        t = time.perf_counter()
        for track in self.spec.tracks:
            src = f"{track.generate.engine} seed {track.generate.seed}" if track.generate else track.file.name
            take, hit = load_take(track, self.cache)
            self.stage(1, "generate", f"{track.id} ({src}){' cached' if hit else ''}")
            self.pieces.append(
                Piece(track, track.token_id, "track", None, take, take.mix, editions=track.editions)
            )
            if track.stems_as_tokens:
                for name, audio in take.stems.items():
                    self.pieces.append(
                        Piece(
                            track,
                            track.stem_token_id(self.spec.collection.symbol, name),
                            "stem",
                            name,
                            take,
                            audio,
                            editions=track.stem_editions or track.editions,
                        )
                    )
        ids = [p.token_id for p in self.pieces]
        if len(set(ids)) != len(ids):
            raise SongmintError(
                "two tokens share an id (a stem name collides); rename the stem or set token_id"
            )
        self.timings["generate"] = time.perf_counter() - t

    # ---- 2 ---------------------------------------------------------------------
    def _traits(self) -> None:
        t = time.perf_counter()
        for p in self.pieces:
            stems = p.take.stems if p.kind == "track" else {}
            key = st.content_hash(
                "traits", _audio_hash(p.audio), *sorted(f"{n}:{_audio_hash(a)}" for n, a in stems.items())
            )
            p.traits, hit = self.cache.json(
                "traits", key, lambda p=p, stems=stems: st.extract_traits(p.audio, stems=stems)
            )
            self.stage(2, "traits", f"{p.slug}{' cached' if hit else ''}")
        rarity = st.collection_rarity([p.traits or {} for p in self.pieces])
        for p, r in zip(self.pieces, rarity, strict=True):
            p.rarity = r
        self.timings["traits"] = time.perf_counter() - t

    # ---- 3 ---------------------------------------------------------------------
    def _covers(self) -> None:
        t = time.perf_counter()
        by_track: dict[str, tuple[bytes, bytes, dict[str, Any]]] = {}
        for p in self.pieces:
            if p.kind == "stem" and p.track.id in by_track:
                p.cover = by_track[p.track.id]  # a stem token wears its track's cover
                continue
            style = p.track.cover_style
            # the cover's palette and typography follow the key/BPM the release shows
            bpm, mkey, camelot, open_key = musical_facts(p.take, p.traits or {})
            facts = {"tempo_bpm": bpm, "key": mkey, "camelot": camelot, "open_key": open_key}
            traits = {**(p.traits or {}), **{k: v for k, v in facts.items() if v is not None}}
            key = st.content_hash(
                "cover",
                json.dumps(traits, sort_keys=True),
                _audio_hash(p.audio),
                str(style),
                str(p.track.cover_seed),
                str(self.opts.cover_size),
                p.track.title,
                p.track.artist,
            )
            meta_path = self.cache.path("covers", key, ".json")
            if meta_path.exists():
                p.cover = (
                    self.cache.path("covers", key, ".png").read_bytes(),
                    self.cache.path("covers", key, ".thumb.png").read_bytes(),
                    json.loads(meta_path.read_text()),
                )
                hit = True
            else:
                p.cover = st.render_cover(
                    traits,
                    p.audio,
                    style=style,
                    seed=p.track.cover_seed,
                    size=self.opts.cover_size,
                    title=p.track.title,
                    artist=p.track.artist,
                )
                # the same key order as a cache hit reads back, so metadata bytes never depend on it
                p.cover = (p.cover[0], p.cover[1], json.loads(json.dumps(p.cover[2], sort_keys=True)))
                _write(self.cache.path("covers", key, ".png"), p.cover[0])
                _write(self.cache.path("covers", key, ".thumb.png"), p.cover[1])
                _write(meta_path, json.dumps(p.cover[2], sort_keys=True))
                hit = False
            by_track.setdefault(p.track.id, p.cover)
            self.stage(3, "cover", f"{p.slug}{' cached' if hit else ''}")
        self.timings["cover"] = time.perf_counter() - t

    # ---- 4 ---------------------------------------------------------------------
    def _encoded(self, audio: Audio, fmt: str) -> bytes:
        key = st.content_hash("encode", fmt, _audio_hash(audio))
        return self.cache.bytes("encoded", key, "." + fmt, lambda: encode(audio, fmt))[0]

    def _encode(self) -> None:
        t = time.perf_counter()
        clips = {id(p): preview_clip(p.audio, p.track.preview_seconds) for p in self.pieces}
        # Encoders run in ffmpeg/libsndfile outside the GIL: warm the cache with one job per core.
        jobs = [(p.audio, fmt) for p in self.pieces for fmt in ("flac", "mp3")]
        jobs += [(clips[id(p)][0], "mp3") for p in self.pieces]
        jobs += [
            (stem, fmt)
            for p in self.pieces
            if p.kind == "track"
            for stem in p.take.stems.values()
            for fmt in ("flac", "mp3")
        ]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1))) as pool:
            list(pool.map(lambda job: self._encoded(*job), jobs))
        for p in self.pieces:
            folder = Path("assets") / p.slug
            traits = p.traits or {}
            bpm, key, _camelot, _open_key = musical_facts(p.take, traits)
            base = file_stem(p.title, round(bpm) if bpm else None, key)
            a: dict[str, str] = {}

            def put(role: str, rel: Path, data: bytes, a: dict[str, str] = a) -> None:
                _write(self.out / rel, data)
                a[role] = rel.as_posix()

            put("lossless", folder / f"{base}.flac", self._encoded(p.audio, "flac"))
            put("mix", folder / f"{base}.mp3", self._encoded(p.audio, "mp3"))
            clip, start = clips[id(p)]
            put("preview", folder / f"{base}_preview.mp3", self._encoded(clip, "mp3"))
            if p.kind == "track":
                for name, stem in sorted(p.take.stems.items()):
                    put(
                        f"stem_lossless:{name}",
                        folder / "stems" / f"{base}_{name}.flac",
                        self._encoded(stem, "flac"),
                    )
                    put(f"stem:{name}", folder / "stems" / f"{base}_{name}.mp3", self._encoded(stem, "mp3"))
            assert p.cover is not None
            put("cover", folder / "cover.png", p.cover[0])
            put("cover_thumbnail", folder / "cover-512.png", p.cover[1])
            p.assets = a
            p.preview_start = start  # type: ignore[attr-defined]
            put("player", folder / "player.html", self._player_html(p).encode())
            self.stage(4, "encode", f"{p.slug} ({len(a)} assets)")
        self.timings["encode"] = time.perf_counter() - t

    def _view(self, p: Piece) -> dict[str, Any]:
        """The manifest's token fields the preview and player read (no chain fields)."""
        from songmint.preview import waveform_peaks

        traits = p.traits or {}
        freq = (p.rarity or {}).get("frequency", {})
        shown = []
        for k, (label, _unit) in st.TRAIT_LABELS.items():
            v = traits.get(k)
            if v is None or isinstance(v, dict | list):
                continue
            shown.append(
                {
                    "key": k,
                    "label": label,
                    "value": v,
                    "display": st.display_value(k, v),
                    "rarity": freq.get(k),
                }
            )
        mix_rms = float(np.sqrt(np.mean(p.audio.samples**2)) + 1e-12)
        stems = p.take.stems if p.kind == "track" else {}
        stem_sum = sum((s.samples for s in stems.values()), np.zeros_like(p.audio.samples)) if stems else None
        stem_gain = mix_rms / float(np.sqrt(np.mean(stem_sum**2)) + 1e-12) if stem_sum is not None else 1.0
        return {
            "id": p.token_id,
            "id_hex": f"{p.token_id:064x}",
            "track": p.track.id,
            "number": p.track.number,
            "kind": p.kind,
            "stem": p.stem,
            "title": p.title,
            "artist": p.track.artist,
            "genre": p.track.genre,
            "license": p.track.license,
            "key": musical_facts(p.take, traits)[1],
            "camelot": musical_facts(p.take, traits)[2],
            "bpm": musical_facts(p.take, traits)[0],
            "duration_s": round(p.audio.duration, 3),
            "traits": shown,
            "rarity_score": (p.rarity or {}).get("score"),
            "waveform": waveform_peaks(p.audio.samples),
            "stem_gain": round(min(stem_gain, 8.0), 4),
            "assets": dict(p.assets or {}),
        }

    def _player_html(self, p: Piece) -> str:
        from songmint.preview import render_player, token_view

        entry = self._view(p)
        assert p.editions is not None
        entry.update(cap=p.editions.cap, minted=None, recipient=p.editions.recipient)
        view = token_view(entry, {"chain": {}})
        view["chain"] = {}
        return render_player(view)

    # ---- 5 ---------------------------------------------------------------------
    def _metadata(self) -> dict[str, Any]:
        from minting.assets import Asset
        from minting.metadata import build_contract_metadata, build_token_metadata, dumps_metadata
        from minting.unixfs import import_directory

        t = time.perf_counter()
        c = self.spec.collection
        if c.image is not None:
            _write(self.out / "assets" / f"collection{c.image.suffix.lower()}", c.image.read_bytes())
        self._prune()
        _, cids = import_directory(self.out / "assets")
        self.asset_cids = {f"assets/{k}": v for k, v in cids.items()}
        self.assets: dict[int, list[Asset]] = {}
        docs: dict[str, Any] = {}
        for p in self.pieces:
            self.assets[p.token_id] = [
                Asset.from_file(
                    self.out / rel,
                    role=role,
                    mime_type=MIME.get(Path(rel).suffix.lower()),
                    duration=self._duration(p, role),
                )
                for role, rel in sorted((p.assets or {}).items())
            ]
            for asset, rel in zip(
                self.assets[p.token_id], [r for _, r in sorted((p.assets or {}).items())], strict=True
            ):
                if asset.cid != self.asset_cids[rel]:  # two importers over the same bytes must agree
                    raise SongmintError(
                        f"{rel}: CID mismatch between file and folder import; please report it"
                    )
            doc = self._token_doc(p, build_token_metadata)
            rel = f"metadata/{p.token_id:064x}.json"
            _write(self.out / rel, dumps_metadata(doc))
            docs[rel] = doc
            self.stage(5, "metadata", p.slug)
        receiver = c.royalty_receiver or (self.sender if c.royalty_bps else None)
        collection = build_contract_metadata(
            name=c.name,
            description=c.description or None,
            image=self._collection_image(),
            external_link=c.external_link,
            seller_fee_basis_points=c.royalty_bps if receiver else None,
            fee_recipient=receiver,
            symbol=c.symbol,
        )
        _write(self.out / "collection.json", dumps_metadata(collection))
        self.timings["metadata"] = time.perf_counter() - t
        return docs

    def _prune(self) -> None:
        """Remove files an earlier run of a different spec left in assets/ and metadata/: the
        published tree (and so the root CID) must hold exactly this release."""
        keep = {rel for p in self.pieces for rel in (p.assets or {}).values()}
        keep |= {f"metadata/{p.token_id:064x}.json" for p in self.pieces}
        if self.spec.collection.image is not None:
            keep.add(f"assets/collection{self.spec.collection.image.suffix.lower()}")
        for top in ("assets", "metadata"):
            folder = self.out / top
            if not folder.is_dir():
                continue
            for f in sorted(folder.rglob("*"), reverse=True):
                rel = f.relative_to(self.out).as_posix()
                if f.is_file() and rel not in keep:
                    f.unlink()
                elif f.is_dir() and not any(f.iterdir()):
                    f.rmdir()

    @staticmethod
    def _duration(p: Piece, role: str) -> float | None:
        if role in ("mix", "lossless") or role.startswith(("stem:", "stem_lossless:")):
            return round(p.audio.duration, 3)
        if role == "preview":
            return round(min(p.audio.duration, p.track.preview_seconds), 3)
        return None

    def _collection_image(self) -> str:
        c = self.spec.collection
        if c.image is not None:
            return f"ipfs://{self.asset_cids[f'assets/collection{c.image.suffix.lower()}']}"
        first = self.pieces[0].assets or {}
        return f"ipfs://{self.asset_cids[first['cover']]}"

    def _asset_record(self, role: str, rel: str, p: Piece | None) -> dict[str, Any]:
        path = self.out / rel
        rec: dict[str, Any] = {
            "role": role,
            "path": rel,
            "mimeType": MIME.get(path.suffix.lower(), "application/octet-stream"),
            "sha256": _sha256(path),
            "cid": self.asset_cids[rel],
            "size": path.stat().st_size,
        }
        if p is not None:
            rec["token"] = p.token_id
            duration = self._duration(p, role)
            if duration is not None:
                rec["duration"] = duration
            if role == "preview":
                rec["start"] = round(getattr(p, "preview_start", 0.0), 3)
        return rec

    def _token_doc(self, p: Piece, build: Callable[..., dict[str, Any]]) -> dict[str, Any]:
        a = p.assets or {}
        traits = p.traits or {}
        ipfs = {role: f"ipfs://{self.asset_cids[rel]}" for role, rel in a.items()}
        track_dir = Path(a["player"]).parent.as_posix()
        # The player links to its audio by relative URL, so it is addressed inside its folder.
        player_uri = f"ipfs://{self.asset_cids[track_dir]}/player.html"
        attributes: list[dict[str, Any]] = []
        for k, (label, _unit) in st.TRAIT_LABELS.items():
            v = traits.get(k)
            if v is None or isinstance(v, dict | list) or k in ("sample_rate", "channels"):
                continue
            attr: dict[str, Any] = {
                "trait_type": label,
                "value": v,
            }
            if isinstance(v, int | float) and not isinstance(v, bool):
                attr["display_type"] = "number"
                if 0 <= v <= 1 and k not in ("tempo_bpm",):
                    attr["max_value"] = 1
            attributes.append(attr)
        ed = p.editions or p.track.editions
        for label, value in (
            ("Artist", p.track.artist),
            ("Genre", p.track.genre),
            ("Stem", p.stem),
            ("Edition cap", ed.cap),
        ):
            if value is not None:
                attributes.append(
                    {"trait_type": label, "value": value}
                    | ({"display_type": "number"} if isinstance(value, int) else {})
                )
        description = p.track.description or (
            f"{p.title} by {p.track.artist}, from {self.spec.collection.name}."
        )
        bpm, _key, _camelot, open_key = musical_facts(p.take, traits)
        extra = {
            "version": "music-nft-20220222",
            "title": p.title,
            "artist": p.track.artist,
            "duration": round(p.audio.duration, 3),
            "mimeType": "audio/mpeg",
            "trackNumber": p.track.number,
            "losslessAudio": ipfs["lossless"],
            "artwork": {"uri": ipfs["cover"], "mimeType": "image/png"},
            "genre": p.track.genre,
            "bpm": round(float(bpm), 2) if bpm else None,
            "key": open_key,
            "license": p.track.license,
            "isrc": p.track.isrc,
            "credits": list(p.track.credits) or None,
            "tags": list(p.track.tags) or None,
        }
        properties = {
            "token_id": str(p.token_id),
            "track_id": p.track.id,
            "kind": p.kind,
            "stem": p.stem,
            "musical_key": traits.get("key"),
            "traits": traits,
            "rarity": p.rarity,
            "cover": p.cover[2] if p.cover else None,
            "collection": {"name": self.spec.collection.name, "symbol": self.spec.collection.symbol},
            "editions": {"cap": ed.cap},
            "songmint": __version__,
        }
        return build(
            name=p.title,
            description=description,
            assets=self.assets[p.token_id],
            image=ipfs["cover"],
            animation_url=player_uri,
            external_url=p.track.external_url or self.spec.collection.external_link,
            attributes=attributes,
            properties={k: v for k, v in properties.items() if v is not None},
            provenance=p.take.provenance,
            extra={k: v for k, v in extra.items() if v is not None},
        )

    # ---- 6 ---------------------------------------------------------------------
    def _store(self) -> tuple[str, dict[str, str]]:
        from minting.car import write_car

        t = time.perf_counter()
        stage = Path(tempfile.mkdtemp(prefix=".publish.", dir=self.out))
        try:
            # The published tree: assets/, metadata/, collection.json (hard links, no copies).
            for name in ("assets", "metadata"):
                shutil.copytree(self.out / name, stage / name, copy_function=_link_or_copy)
            _link_or_copy(str(self.out / "collection.json"), str(stage / "collection.json"))
            summary = write_car(stage, self.out / "release.car")
            root = str(summary.root)
            backend = self.spec.storage.backend
            if backend != "local" or self.spec.storage.path is not None:
                self._put(stage, root)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        cids = dict(summary.cids)
        self.stage(6, "store", f"{backend}: root {root}")
        self.timings["store"] = time.perf_counter() - t
        return root, cids

    def _put(self, tree: Path, root: str) -> None:
        """Put the published tree into the spec's storage backend (``minting.storage``)."""
        from minting.storage import get_storage

        s = self.spec.storage
        token = None
        if s.token_env:
            token = os.environ.get(s.token_env)
            if not token:
                raise SongmintError(
                    f"storage.token_env names {s.token_env}, which is not set in the environment"
                )
        where = {"local": f"local:{s.path}", "kubo": f"kubo:{s.url}", "pinning": f"psa:{s.url}"}[s.backend]
        store = get_storage(where, token=token, timeout=s.timeout_s)
        cid = store.put(tree, pin=True, label=f"{self.spec.collection.symbol} release")
        if str(cid) != root:
            raise SongmintError(
                f"{s.backend} storage reports root {cid}, expected {root}; nothing was minted"
            )

    # ---- manifest ----------------------------------------------------------------
    def _manifest(self, metadata: dict[str, Any], root: str, cids: dict[str, str]) -> dict[str, Any]:
        c = self.spec.collection
        assets = []
        tokens = []
        for p in self.pieces:
            assets += [self._asset_record(role, rel, p) for role, rel in sorted((p.assets or {}).items())]
            view = self._view(p)
            rel = f"metadata/{p.token_id:064x}.json"
            ed = p.editions or p.track.editions
            view.update(
                metadata_path=rel,
                metadata_uri=f"ipfs://{root}/{rel}",
                metadata_sha256=_sha256(self.out / rel),
                metadata_cid=cids.get(rel),
                cap=ed.cap,
                initial=ed.initial,
                minted=None,
                recipient=ed.recipient,
                txs=[],
                provenance=p.take.provenance,
            )
            g = p.track.generate
            if g is not None:
                # What `songmint verify` needs to re-render the take and compare bytes.
                view["request"] = {
                    "engine": g.engine,
                    "prompt": g.prompt,
                    "seed": g.seed,
                    "seconds": g.seconds,
                    "params": g.params,
                    "stem": p.stem,
                }
                if g.source is not None:  # a continuation: verify needs the same input audio
                    view["request"]["source"] = {
                        "path": str(g.source),
                        "sha256": _sha256(g.source),
                        "stems": str(g.source_stems) if g.source_stems else None,
                    }
            tokens.append(view)
        if c.image is not None:
            name = f"assets/collection{c.image.suffix.lower()}"
            assets.append(self._asset_record("collection_image", name, None))
        return {
            "songmint_manifest": MANIFEST_VERSION,
            "songmint": __version__,
            "spec": {"path": str(self.spec.path), "sha256": self.spec.sha256},
            "collection": {
                "name": c.name,
                "symbol": c.symbol,
                "description": c.description,
                "external_link": c.external_link,
                "royalty_bps": c.royalty_bps,
                "royalty_receiver": c.royalty_receiver,
                "metadata_path": "collection.json",
                "uri": f"ipfs://{root}/collection.json",
                "sha256": _sha256(self.out / "collection.json"),
                "cid": cids.get("collection.json"),
            },
            "root_cid": root,
            "car": {"path": "release.car", "sha256": _sha256(self.out / "release.car")},
            "uri_prefix": f"ipfs://{root}/metadata/",
            "storage": {"backend": self.spec.storage.backend},
            "assets": assets,
            "tokens": tokens,
            "transactions": [],
            "chain": {},
            "dry_run": False,
        }

    # ---- 7 + 8 -------------------------------------------------------------------
    def network(self) -> tuple[str, int | None]:
        n = self.opts.network or self.spec.network.label
        chain_id = self.opts.chain_id or (
            self.spec.network.chain_id if n == self.spec.network.label else None
        )
        return n, chain_id

    def _resolve_sender(self) -> str | None:
        """The sending account's address, known before connecting (for royalty defaults)."""
        from minting.chain import load_signer, resolve_network

        name, chain_id = self.network()
        try:
            return load_signer(resolve_network(name, chain_id=chain_id)).address
        except Exception:  # no key for a remote network yet: the royalty default waits for deploy
            return None

    def _groups(self, manifest: dict[str, Any], sender: str) -> dict[str, list[Any]]:
        """Token specs per recipient (one create_and_mint per recipient)."""
        from minting.chain import TokenSpec

        groups: dict[str, list[Any]] = {}
        for t in manifest["tokens"]:
            groups.setdefault(t["recipient"] or sender, []).append(
                TokenSpec(id=t["id"], amount=t["initial"], cap=t["cap"])
            )
        return groups

    def _deploy_args(self, manifest: dict[str, Any], sender: str) -> dict[str, Any]:
        c = self.spec.collection
        return {
            "name": c.name,
            "symbol": c.symbol,
            "contract_uri": manifest["collection"]["uri"],
            "royalty_receiver": c.royalty_receiver or (sender if c.royalty_bps else None),
            "royalty_bps": c.royalty_bps,
        }

    def _dry_run(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Plan every transaction with estimated gas; send nothing.

        A new contract's transactions are estimated on a throwaway in-memory chain (the
        contract does not exist yet where it will be deployed); an existing contract's on
        its own network, where fees are priced too.
        """
        from minting.chain import connect

        c = self.spec.collection
        name, chain_id = self.network()
        txs: list[dict[str, Any]] = []
        notes: list[str] = []
        if c.contract == "deploy":
            sim = connect("memory")
            args = self._deploy_args(manifest, sim.address)
            txs += [asdict_tx(t) for t in sim.deploy(**args, dry_run=True).txs]
            address = sim.deploy(**args).address
            notes.append(f"estimated on an in-memory chain; the release would go to {name}")
        else:
            sim = connect(name, chain_id=chain_id, yes=self.opts.yes)
            address = c.contract
        for to, specs in self._groups(manifest, sim.address).items():
            plan = sim.create_and_mint(address, specs, to=to, uri_prefix=manifest["uri_prefix"], dry_run=True)
            txs += [
                asdict_tx(t)
                for t in plan.txs
                if not (t.kind == "prefix" and any(x["kind"] == "prefix" for x in txs))
            ]
            notes += plan.notes
        for t in txs:
            self.log(f"  would send {t['kind']:<7} {t['description']}  ~{t['gas']:,} gas")
        total = sum(t["gas"] for t in txs)
        self.log(f"dry run: {len(txs)} transactions, ~{total:,} gas in all; nothing was sent")
        return {"network": name, "txs": txs, "total_gas": total, "notes": notes}

    def _check_network(self) -> None:
        """Fail before any work on an unusable network: a URL without its chain id, or, when the
        run will send (``--yes``, not a dry run), a node that does not answer or is the wrong chain.
        Memory and songmint's own anvil need no check; a run that will not send (a dry run, or a
        remote network without ``--yes``, which only prints its plan) needs no node."""
        from minting.chain.client import check_chain

        net = self._resolved_network()
        if net.name not in ("memory", "local") and self._will_send(net):
            check_chain(net)

    def _resolved_network(self) -> Network:
        from minting.chain import resolve_network

        name, chain_id = self.network()
        return resolve_network(name, chain_id=chain_id)

    def _will_send(self, net: Network) -> bool:
        """Transactions go out unless this is a dry run, or a non-local network without ``--yes``."""
        return not self.opts.dry_run and (self.opts.yes or net.local)

    def _confirm(self, manifest: dict[str, Any]) -> None:
        """A non-local network needs --yes: without it, show what would be sent and stop."""
        name, _ = self.network()
        if self._will_send(self._resolved_network()):
            return
        self._dry_run(manifest)
        raise SongmintError(
            f"{name} is not a local chain: the transactions above were not sent; "
            "run again with --yes to send them"
        )

    def _chain(self, manifest: dict[str, Any]) -> None:
        from minting.chain import Journal, connect

        name, chain_id = self.network()
        t_chain = time.perf_counter()
        journal_path = ":memory:" if name == "memory" else self.out / ".songmint" / "journal.sqlite"
        if journal_path != ":memory:":
            Path(journal_path).parent.mkdir(parents=True, exist_ok=True)
        txs: list[dict[str, Any]] = manifest["transactions"]
        client = connect(
            name,
            chain_id=chain_id,
            yes=self.opts.yes,
            keystore=str(self.opts.keystore) if self.opts.keystore else None,
            confirmations=max(1, self.spec.network.confirmations),
            checkpoint=_fault_checkpoint(),
        )
        c = self.spec.collection
        with Journal(journal_path) as journal:
            # 7: deploy (the journal returns the first deployment on a resumed run) or attach
            if c.contract == "deploy":
                dep = client.deploy(
                    **self._deploy_args(manifest, client.address),
                    journal=journal,
                    op=f"release:{manifest['root_cid']}:deploy",
                )
                address = dep.address
                txs.append(
                    {"kind": "deploy", "hash": dep.tx_hash, "block": dep.block, "gas_used": dep.gas_used}
                )
                self.stage(7, "contract", f"deployed {address} (tx {str(dep.tx_hash)[:12]}…)")
            else:
                address = client.editions(c.contract).address
                self.stage(7, "contract", f"using {address}")
            # 8: register the URI prefix and create + mint, per recipient; never twice
            by_id = {t["id"]: t for t in manifest["tokens"]}
            for to, specs in self._groups(manifest, client.address).items():
                op = f"release:{manifest['root_cid']}:{address}:create:{to}"
                res = client.create_and_mint(
                    address, specs, to=to, uri_prefix=manifest["uri_prefix"], journal=journal, op=op
                )
                for e in journal.entries(op + ":prefix", status="mined"):
                    if e.tx_hash and all(tx["hash"] != e.tx_hash for tx in txs):
                        txs.append(
                            {"kind": "prefix", "hash": e.tx_hash, "block": e.block, "gas_used": e.gas_used}
                        )
                for rec in res.txs:
                    txs.append(
                        {
                            "kind": rec.kind,
                            "hash": rec.tx_hash,
                            "block": rec.block,
                            "gas_used": rec.gas_used,
                            "ids": list(rec.ids),
                            "resumed": bool(set(rec.ids) & set(res.resumed)),
                        }
                    )
                    for tid in rec.ids:
                        by_id[tid]["txs"].append(rec.tx_hash)
                fresh = [i for i in res.done if i not in res.resumed]
                self.stage(
                    8,
                    "mint",
                    f"{len(fresh)} tokens minted to {to}"
                    + (f"; {len(res.resumed)} finished by an earlier run" if res.resumed else "")
                    + (f"; {len(res.skipped)} already on chain, left alone" if res.skipped else ""),
                )
            for t in manifest["tokens"]:
                info = client.token_info(address, t["id"])
                t["minted"] = int(info["supply"])
                t["recipient"] = t["recipient"] or client.address
            manifest["chain"] = {
                "network": name,
                "chain_id": client.network.chain_id,
                "contract": address,
                "account": client.address,
            }
        self.timings["chain"] = time.perf_counter() - t_chain


def asdict_tx(t: Any) -> dict[str, Any]:
    return {"kind": t.kind, "description": t.description, "to": t.to, "gas": int(t.gas), "ids": list(t.ids)}


def _fault_checkpoint() -> Callable[[str], None]:
    """Test hook: ``SONGMINT_FAULT=sent:N`` SIGKILLs the process at the N-th ``sent`` checkpoint of the
    chain client (1: deploy, 2: URI prefix, 3: first createBatch), as a crash would."""
    spec = os.environ.get("SONGMINT_FAULT", "")
    point, _, nth = spec.partition(":")
    seen = {"n": 0}

    def checkpoint(name: str) -> None:
        if point and name == point:
            seen["n"] += 1
            if seen["n"] == int(nth or 1):
                import signal

                os.kill(os.getpid(), signal.SIGKILL)

    return checkpoint


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def run_release(spec: ReleaseSpec | str | Path, opts: Options, *, log: Log | None = None) -> dict[str, Any]:
    """Run the whole pipeline; returns the manifest (also written to ``opts.out/manifest.json``)."""
    if not isinstance(spec, ReleaseSpec):
        spec = load_spec(spec)
    try:
        return Release(spec, opts, log=log).run()
    except MusicError:
        raise
    except OSError as exc:
        raise SongmintError(f"{getattr(exc, 'filename', '') or opts.out}: {exc.strerror or exc}") from exc


def musical_facts(
    take: Take, traits: dict[str, Any]
) -> tuple[float | None, str | None, str | None, str | None]:
    """BPM, key, Camelot and Open Key shown for a track.

    What a generating engine states it composed (``Take.bpm``/``Take.key``, e.g. the
    composer's) wins over what trait extraction measured, which can be off by a metrical
    level (half/double tempo) or a relative key; file tracks use the measured values.
    """
    bpm = take.bpm or traits.get("tempo_bpm") or None
    key = take.key or traits.get("key") or None
    camelot, open_key = traits.get("camelot"), traits.get("open_key")
    if take.key and take.key != traits.get("key"):
        try:
            from music.traits import camelot as to_camelot
            from music.traits import open_key as to_open_key

            camelot, open_key = to_camelot(take.key), to_open_key(take.key)
        except (
            Exception
        ):  # a key spelling the traits module does not parse: show none rather than a wrong one
            camelot = open_key = None
    return (round(float(bpm), 2) if bpm else None), key, camelot, open_key


def _short(text: str | None, head: int, tail: int) -> str | None:
    """``bafkreigu…x4lq``: shortened so the summary fits a terminal (the manifest has them in full)."""
    if not text or len(text) <= head + tail + 1:
        return text
    return f"{text[:head]}…{text[-tail:]}"


def wide_table(title: str, rows: list[dict[str, Any]]) -> None:
    """A table on stdout, at least 120 columns wide so ids and hashes are not cut when piped."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in rows[0] if rows else ():
        nowrap = col in ("token id", "metadata CID", "tx", "status", "check")
        table.add_column(col, no_wrap=nowrap, overflow="ellipsis" if nowrap else "fold")
    for row in rows:
        table.add_row(*("–" if v is None else str(v) for v in row.values()))
    width = max(120, shutil.get_terminal_size((120, 24)).columns)
    Console(width=width, highlight=False).print(table)


def summary_rows(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for t in manifest["tokens"]:
        rows.append(
            {
                "token id": t["id"],
                "title": t["title"],
                "key": t.get("key") or "–",
                "bpm": round(t["bpm"]) if t.get("bpm") else None,
                "editions": f"{t['minted'] if t.get('minted') is not None else t['initial']}/{t['cap']}",
                "metadata CID": _short(t.get("metadata_cid"), 8, 4),
                "tx": _short((t.get("txs") or [None])[-1], 8, 4),
            }
        )
    return rows


@click.command("release")
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--network", default=None, help="memory | local | a JSON-RPC URL (overrides the spec's [network])."
)
@click.option(
    "--chain-id", type=int, default=None, help="Expected chain id of a URL network (checked first)."
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: out/<spec name> in the current folder).",
)
@click.option(
    "--dry-run", is_flag=True, help="Do everything up to the chain; print the transactions and gas."
)
@click.option(
    "--resume",
    is_flag=True,
    help="Resume an interrupted release (the default behaviour; kept "
    "for scripts: finished work is always skipped).",
)
@click.option("--yes", is_flag=True, help="Send transactions to a non-local network without asking.")
@click.option(
    "--keystore",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Encrypted key file of the sending account (else $SONGMINT_PRIVATE_KEY, or anvil's dev account).",
)
@click.option(
    "--cover-size",
    type=click.IntRange(256, 4096),
    default=COVER_SIZE,
    show_default=True,
    help="Cover side in pixels.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Content-hash cache (default OUT/.cache; $SONGMINT_CACHE_DIR); share one across releases.",
)
@click.option("--no-preview", is_flag=True, help="Do not build the preview site.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON on stdout.")
def release(
    spec_path: Path,
    network: str | None,
    chain_id: int | None,
    out: Path | None,
    dry_run: bool,
    resume: bool,
    yes: bool,
    keystore: Path | None,
    cover_size: int,
    cache_dir: Path | None,
    no_preview: bool,
    as_json: bool,
) -> None:
    """Release SPEC (a TOML catalog spec): generate, analyse, draw, encode, publish and mint.

    Re-running skips finished work (content-hash cache), and an interrupted release resumes
    from its journal without minting anything twice. See docs/release-spec.md.
    """
    from songmint.console import output, print_json

    o = output()
    spec = load_spec(spec_path)
    out = out or Path("out") / spec.path.stem
    manifest = run_release(
        spec,
        Options(
            out=out,
            network=network,
            chain_id=chain_id,
            dry_run=dry_run,
            yes=yes,
            keystore=keystore,
            cover_size=cover_size,
            cache_dir=cache_dir,
            build_preview=not no_preview,
        ),
        log=o.info,
    )
    if as_json:
        print_json(manifest)
        return
    wide_table(
        f"{spec.collection.name} ({'dry run' if dry_run else manifest['chain'].get('network')})",
        summary_rows(manifest),
    )
    ch = manifest.get("chain") or {}
    if ch:
        o.info(f"contract {ch['contract']} on chain {ch['chain_id']}")
    o.info(f"root CID {manifest['root_cid']}; manifest {out / 'manifest.json'}")
    if not no_preview:
        o.info(f"preview: {(out / 'preview' / 'index.html').resolve().as_uri()}")
