"""``songmint release``: from a catalog spec to minted editions, resumable.

Stages, in order (:mod:`songmint.release.pipeline`; each per token where it applies, each cached
on content hashes so that a re-run skips finished work):

1. :mod:`~songmint.release.tokens` — generate (any registered engine) or load each track's take;
2. :mod:`~songmint.release.analysis` — traits, rarity across the release, the musical facts shown;
3. :mod:`~songmint.release.covers` — the cover and its 512 px thumbnail;
4. :mod:`~songmint.release.assets` — FLAC, MP3 320k, a preview MP3, stems, cover, HTML player;
5. :mod:`~songmint.release.metadata` — ``metadata/<id:064x>.json`` and ``collection.json``;
6. :mod:`~songmint.release.publish` — the CAR (its root CID is the release's) and storage;
7. + 8. :mod:`~songmint.release.chain` — deploy or attach, then create and mint, journalled.

:mod:`~songmint.release.manifest` writes ``manifest.json`` once, at the end; the click command
is :mod:`~songmint.release.command`.
"""

from songmint.release.options import Options
from songmint.release.pipeline import run_release

__all__ = ["Options", "run_release"]
