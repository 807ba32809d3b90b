"""The release pipeline: one function per stage, each returning frozen results keyed by token id.

::

    ctx       = StageContext(cache, log, tasks)           # what stages 1–4 work with
    tokens    = load_tokens(spec, ctx, separation)        # 1 take per track (+ stem tokens)
    analyses  = analyse(tokens, ctx)                      # 2 traits, rarity, musical facts
    covers    = draw_covers(tokens, analyses, ctx)        # 3 cover + thumbnail
    files     = write_assets(tokens, …, out, ctx)         # 4 FLAC, MP3, preview, stems, player
    metadata  = write_metadata(tokens, …, out)            # 5 token JSON + collection.json
    published = publish(out, spec.storage)                # 6 CAR (+ storage)
    chain     = mint(…) or plan(…)                        # 7 + 8 deploy, create, mint
    manifest  = build_manifest(…)                         # written once, at the end

Each heavy stage is cached on content hashes (``Cache``), so a re-run skips finished work; the
chain stage is journalled, so a killed release resumes without minting twice.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from music.errors import MusicError
from songmint.errors import SongmintError
from songmint.files import write_atomic
from songmint.release.analysis import analyse
from songmint.release.assets import write_assets
from songmint.release.cache import Cache
from songmint.release.chain import ChainResult, Sender, mint, plan, resolve_sender
from songmint.release.covers import draw_covers
from songmint.release.manifest import build_manifest
from songmint.release.metadata import write_metadata
from songmint.release.options import Log, Options
from songmint.release.publish import publish
from songmint.release.sales import configure_sales
from songmint.release.tasks import StageContext, Tasks
from songmint.release.tokens import Separation, load_tokens, require_models
from songmint.release.videos import render_videos
from songmint.release.views import token_entry
from songmint.spec import ReleaseSpec, load_spec

T = TypeVar("T")

# What a release folder holds; a non-empty --out with none of these is someone else's folder.
RELEASE_ENTRIES = frozenset(
    {
        "manifest.json",
        "assets",
        "metadata",
        ".cache",
        ".songmint",
        "collection.json",
        "release.car",
        "preview",
    }
)


def _check_out(out: Path) -> None:
    if out.is_dir() and any(out.iterdir()) and not {p.name for p in out.iterdir()} & RELEASE_ENTRIES:
        raise SongmintError(f"{out} is not empty and holds no release; choose another --out")


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = time.perf_counter() - t

    def run(self, name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self(name):
            return fn(*args, **kwargs)


def release(spec: ReleaseSpec, opts: Options, *, log: Log) -> dict[str, Any]:
    """Run every stage of ``spec`` into ``opts.out``; returns the manifest (also written there).

    A first run that fails before anything was sent leaves no output folder behind (a shared
    ``--cache-dir`` keeps its finished work); once the journal exists, the folder stays so that
    the release resumes. The models are found first (the separation model of ``--stems`` and
    ``separate = true`` tracks, then the weights of every generated track not in the cache): missing
    weights stop the release before the network is asked or anything is written.
    """
    separation = Separation.resolve(spec, opts)
    require_models(spec, Cache(opts.cache_dir or opts.out / ".cache"))
    if opts.stems is not None and separation is None:
        log("--stems: no track to separate (each has its stems already or says separate = false)")
    sender = resolve_sender(spec, opts)
    _check_out(opts.out)
    created = not opts.out.exists()
    opts.out.mkdir(parents=True, exist_ok=True)
    try:
        return _stages(spec, opts, sender, log, separation)
    except BaseException:
        if created and not (opts.out / ".songmint").exists():
            shutil.rmtree(opts.out, ignore_errors=True)
        raise


def _stages(
    spec: ReleaseSpec, opts: Options, sender: Sender, log: Log, separation: Separation | None
) -> dict[str, Any]:
    out = opts.out
    cache = Cache(opts.cache_dir or out / ".cache")
    t0 = time.perf_counter()
    timer = _Timer()
    with Tasks.from_options(opts, log) as tasks:  # stages 1–4: pure work on the executor
        ctx = StageContext(cache, log, tasks)
        tokens = timer.run("generate", load_tokens, spec, ctx, separation)
        analyses = timer.run("traits", analyse, tokens, ctx)
        tokens = [t for t in tokens if tasks.ok(t.track.id)]
        covers = timer.run("cover", draw_covers, tokens, analyses, ctx, size=opts.cover_size)
        tokens = [t for t in tokens if tasks.ok(t.track.id)]
        entries = {t.id: token_entry(t, analyses[t.id]) for t in tokens}
        files = timer.run("encode", write_assets, tokens, analyses, covers, entries, out, ctx)
    if tasks.failed:
        why = "; ".join(f"{k}: {v}" for k, v in tasks.failed.items())
        raise SongmintError(
            f"{len(tasks.failed)} of {len(spec.tracks)} tracks failed ({why}); nothing was published; "
            "fix them and run again (finished tracks are cached)"
        )
    files, videos = timer.run(
        "video", render_videos, tokens, analyses, files, out, cache, size=opts.video_size, fps=opts.video_fps,
        log=log,
    )
    metadata = timer.run(
        "metadata", write_metadata, tokens, analyses, covers, files, spec, out, sender=sender.address,
        log=log, videos=videos,
    )
    published = timer.run(
        "store", publish, out, spec.storage, label=f"{spec.collection.symbol} release", log=log
    )
    if opts.dry_run:
        chain = ChainResult(plan=plan(spec, tokens, published, sender, opts, log))
    else:
        chain = timer.run("chain", mint, spec, tokens, published, sender, opts, out, log)
    sales = timer.run("sales", configure_sales, spec, tokens, published, chain, sender, opts, out, log)
    manifest = build_manifest(spec, tokens, entries, files, metadata, published, chain, out)
    if sales.sales or sales.split:
        manifest["sales"] = sales.to_manifest()
    manifest["timings_s"] = {k: round(v, 3) for k, v in timer.timings.items()}
    manifest["timings_s"]["total"] = round(time.perf_counter() - t0, 3)
    manifest["executor"] = tasks.stats()
    write_atomic(out / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    if opts.build_preview:
        from songmint.preview import build_preview

        build_preview(out)
    return manifest


def run_release(spec: ReleaseSpec | str | Path, opts: Options, *, log: Log | None = None) -> dict[str, Any]:
    """Run the whole pipeline; returns the manifest (also written to ``opts.out/manifest.json``).

    Raises
    ------
    SongmintError, MusicError, MintingError, CoverArtError
        For anything a user can fix (one line; nothing half-written).
    """
    if not isinstance(spec, ReleaseSpec):
        spec = load_spec(spec)
    try:
        return release(spec, opts, log=log or (lambda m: None))
    except MusicError:
        raise
    except OSError as exc:
        raise SongmintError(f"{getattr(exc, 'filename', '') or opts.out}: {exc.strerror or exc}") from exc
