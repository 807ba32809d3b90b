"""Stage 1: each track's take (generated, continued or loaded), and the tokens made from it.

A :class:`Token` is what gets minted: a track, or one of its stems when the spec mints stems
as tokens. Takes are cached on the hash of what makes them (the generation request and the
bytes of any audio it reads, and the separation model of stems made by separation: ``release
--stems`` or a track's ``separate = true``), so a re-run loads instead of rendering.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from music.audio import Audio, audio_files
from music.engines import Request, Take
from music.engines.run import run_request
from music.hashing import sha256_file
from music.separation import Located
from music.takes import load_mix_and_stems, read_take, write_take
from songmint.errors import SongmintError
from songmint.models_commands import engine_env_options
from songmint.release.cache import Cache, content_hash
from songmint.release.options import Options, announce
from songmint.release.tasks import StageContext
from songmint.spec import Editions, Generate, ReleaseSpec, Track


@dataclass(frozen=True)
class Token:
    """One token's material: a track's take, or one stem of it."""

    track: Track
    id: int
    stem: str | None
    take: Take
    editions: Editions

    @property
    def kind(self) -> str:
        """``"track"`` or ``"stem"``."""
        return "track" if self.stem is None else "stem"

    @cached_property
    def audio(self) -> Audio:
        """The token's own audio: the take's mix, or the stem."""
        return self.take.mix if self.stem is None else self.take.stems[self.stem]

    @property
    def stems(self) -> dict[str, Audio]:
        """The stems that belong to this token (a stem token has none of its own)."""
        return self.take.stems if self.stem is None else {}

    @property
    def slug(self) -> str:
        return self.track.id if self.stem is None else f"{self.track.id}--{self.stem}"

    @property
    def title(self) -> str:
        return self.track.title if self.stem is None else f"{self.track.title} ({self.stem})"


@dataclass(frozen=True)
class Separation:
    """Stems by separation for file tracks given without a stems folder (``release --stems``, or
    ``separate = true`` in the spec: :func:`separates`).

    ``tracks`` are the ids of the tracks to separate; ``where`` is the model found once, up front
    (so missing weights stop the release before any work, naming the pull command); ``model`` is
    its record (name, repository, commit, weights sha256), part of those tracks' cache keys;
    ``keep`` the stems to keep (``("all",)``: every one).
    """

    tracks: frozenset[str]
    where: Located
    model: dict[str, Any]
    keep: tuple[str, ...] = ("all",)

    def applies(self, track: Track) -> bool:
        """Whether ``track``'s stems come from this separation."""
        return track.id in self.tracks

    @classmethod
    def resolve(cls, spec: ReleaseSpec, opts: Options) -> Separation | None:
        """What the spec's ``separate`` keys, ``opts.stems`` and ``opts.model`` ask for, or ``None``
        when no track is to be separated.

        Raises
        ------
        ModelNotFoundError
            When the model's weights are not here (one line naming ``songmint models pull …``).
        """
        tracks = frozenset(t.id for t in spec.tracks if separates(t, stems=opts.stems is not None))
        if not tracks:
            return None
        from music.separation import locate_separator

        where = locate_separator(opts.model)
        return cls(tracks, where, where.record(), tuple(opts.stems or ()) or ("all",))


def separates(track: Track, *, stems: bool = True) -> bool:
    """Whether the release separates ``track``, a file track given without a stems folder.

    The spec's word wins over the CLI's: ``separate = true`` separates it even without ``--stems``
    (``stems=False``), ``separate = false`` keeps it a bare mix even with it; unsaid, ``--stems``
    decides.
    """
    if track.file is None or track.stems_dir is not None:
        return False
    return track.separate if track.separate is not None else stems


def take_key(track: Track, separation: Separation | None = None) -> str:
    """Cache key of a track's take: the generation request (and the bytes of any audio it continues),
    or the source files' bytes (and the separation model and kept stems when it is separated)."""
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
            parts += ["source", sha256_file(g.source)]
            for p in audio_files(g.source_stems):
                parts += [p.stem, sha256_file(p)]
        return content_hash(*parts)
    assert track.file is not None
    parts = ["file", sha256_file(track.file)]
    for p in audio_files(track.stems_dir):
        parts += [p.stem, sha256_file(p)]
    if separation is not None and separation.applies(track):
        parts += ["separate", json.dumps(separation.model, sort_keys=True), ",".join(separation.keep)]
    return content_hash(*parts)


def _request(g: Generate) -> Request:
    return Request(prompt=g.prompt, seconds=g.seconds, seed=g.seed, params=dict(g.params))


def require_models(spec: ReleaseSpec, cache: Cache) -> None:
    """Find, without loading them, the weights every generated track whose take is not in ``cache``
    needs: its engine's, and the separation and transcription models its params ask for
    (:func:`music.engines.run.require_models`). A cached take needs none (a re-run or a resume
    works where the weights are gone).

    Raises
    ------
    ModelNotFoundError
        For the first track whose weights are not here, naming ``songmint models pull …``: the
        release stops before any track is rendered.
    """
    from music.engines.run import require_models as require_request_models

    for track in spec.tracks:
        g = track.generate
        if g is not None and not (cache.path("takes", take_key(track)) / "take.json").exists():
            require_request_models(g.engine, _request(g), **engine_env_options(g.engine))


def render_take(track: Track, separation: Separation | None = None) -> Take:
    """Generate, continue or load a track's take (separating a bare file's mix), without the cache."""
    g = track.generate
    if g is not None:
        return run_request(g.engine, _request(g), source=g.source, source_stems=g.source_stems,
                           **engine_env_options(g.engine))  # $SONGMINT_SOUNDFONT
    assert track.file is not None
    mix, stems = load_mix_and_stems(track.file, track.stems_dir)
    prov = {
        "engine": "file",
        "file": track.file.name,
        "sha256": sha256_file(track.file),
        "stems": {p.stem: sha256_file(p) for p in audio_files(track.stems_dir)},
    }
    take = Take(mix=mix, stems=stems, provenance=prov)
    if separation is not None and separation.applies(track):
        from music.separation import load_separator, separate_take

        take = separate_take(take, separator=load_separator(separation.where), keep=separation.keep)
    return take


def load_take(track: Track, cache: Cache, separation: Separation | None = None) -> tuple[Take, bool]:
    """The track's take from the cache, or rendered and cached; and whether it was a hit."""
    folder = cache.path("takes", take_key(track, separation))
    if (folder / "take.json").exists():
        return read_take(folder), True
    take = render_take(track, separation)
    # Written whole under a name of our own, then renamed into place: a release sharing the cache
    # never sees a take folder being replaced, and when two render the same take, the first wins.
    mine = folder.with_name(f".{folder.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    write_take(take, mine, title=track.title, fmt="wav", wav_depth="float")
    try:
        os.rename(mine, folder)
    except OSError:  # another release put the same take there first
        shutil.rmtree(mine, ignore_errors=True)
    return read_take(folder), False  # what later stages see is exactly what the cache holds


def load_tokens(spec: ReleaseSpec, ctx: StageContext, separation: Separation | None = None) -> list[Token]:
    """Stage 1: every track's take, as the release's tokens in spec order (a track, then its stems).

    Takes missing from the cache are rendered through ``ctx.tasks`` (the executor); this process
    writes each into the cache as it arrives, then every take is read back from there. With
    ``separation``, file tracks without a stems folder get their stems by separating the mix.
    """
    folders = {track.id: ctx.cache.path("takes", take_key(track, separation)) for track in spec.tracks}
    misses = [track for track in spec.tracks if not (folders[track.id] / "take.json").exists()]
    jobs = [(track.id, track.id, (render_take, (track, separation), {})) for track in misses]
    for i, take in ctx.tasks.run("generate", jobs):
        write_take(take, folders[misses[i].id], title=misses[i].title, fmt="wav", wav_depth="float")
    tokens: list[Token] = []
    n = len(spec.tracks)
    for k, track in enumerate(spec.tracks, start=1):
        if not ctx.tasks.ok(track.id):
            continue
        src = f"{track.generate.engine} seed {track.generate.seed}" if track.generate else track.file.name
        if separation is not None and separation.applies(track):
            src += f", stems by {separation.model['model']}"
        take = read_take(folders[track.id])  # what later stages see is exactly what the cache holds
        hit = track not in misses
        announce(ctx.log, 1, f"{track.id} ({src}){' cached' if hit else ''} ({k}/{n})")
        tokens.append(Token(track, track.token_id, None, take, track.editions))
        if track.stems_as_tokens:
            for name in take.stems:
                tokens.append(
                    Token(
                        track,
                        track.stem_token_id(spec.collection.symbol, name),
                        name,
                        take,
                        track.stem_editions or track.editions,
                    )
                )
    ids = [t.id for t in tokens]
    if len(set(ids)) != len(ids):
        raise SongmintError("two tokens share an id (a stem name collides); rename the stem or set token_id")
    return tokens
