"""A release spec from a folder of masters (``songmint init --from``): find the masters, their
stems and metadata (:mod:`~songmint.catalog.scan`), then write the spec, validated first
(:mod:`~songmint.catalog.write`).

``songmint init catalog.toml --from masters/ [--stems-dir DIR] [--csv meta.csv]`` writes one
``[[tracks]]`` table per audio file directly in ``masters/`` (sub-folders hold stems, not
masters), with the track's title, artist, ISRC, genre, credits and price taken from the CSV
(where it has a row for the file), else from the file's embedded tags (:mod:`music.tags`),
else from the file name. The written spec is validated with :func:`songmint.spec.parse_spec`
before anything is written, and releases as it is.

Stems of master ``X.wav`` are found in ``DIR`` (``--stems-dir``, else the masters folder):

1. **by folder**: a sub-folder of ``DIR`` whose name is ``X``, ``X stems``, ``X_stems``,
   ``X-stems`` or ``X Stem`` (compared as slugs, so case, accents and punctuation do not matter;
   a leading track number on either side is ignored). The spec's ``stems`` points at it.
2. **by name** (``--stems-dir`` only): audio files directly in ``DIR`` whose name starts with
   ``X`` and a separator: ``X - Drums.wav``, ``X_drums.flac``. A file goes to the master with the
   longest such name. They are hard-linked (copied where links are impossible) into
   ``<spec name>-stems/<track id>/<role>.<ext>`` next to the spec, since a spec's stems are a folder.

Stem file names as DAWs write them (``01 Drums.wav``) are fine: the release derives each stem's
role with :mod:`music.stem_names`. The rule is documented in ``docs/catalog.md``.
"""

from songmint.catalog.scan import (
    AUDIO_EXTS,
    CSV_COLUMNS,
    CatalogPlan,
    TrackPlan,
    plan_catalog,
    symbol_for,
    title_from_filename,
)
from songmint.catalog.write import render_spec, sale_price, toml_key, toml_value, write_catalog_spec

__all__ = [
    "AUDIO_EXTS",
    "CSV_COLUMNS",
    "CatalogPlan",
    "TrackPlan",
    "plan_catalog",
    "render_spec",
    "sale_price",
    "symbol_for",
    "title_from_filename",
    "toml_key",
    "toml_value",
    "write_catalog_spec",
]
