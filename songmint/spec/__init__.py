"""The release spec: a TOML file that describes a collection and its tracks.

A spec is read with :func:`load_spec` (or :func:`parse_spec` for text) into a frozen
:class:`ReleaseSpec`. Validation is strict and every error is a one-line
:class:`songmint.errors.SpecError` that names the file, the line (when it can be
found) and key, and the fix. The format is documented in ``docs/release-spec.md``.

Token ids are deterministic: a 53-bit integer derived from the collection symbol and the
track's ``id`` (see :func:`token_id_for`), so they survive reordering of the tracks, stay
exact in JavaScript, and never change between runs. An explicit ``token_id`` overrides it;
duplicates are refused.

The package, one job a module: :mod:`~songmint.spec.values` (the frozen values, constants and
token ids), :mod:`~songmint.spec.checker` (typed getters with file:line errors, path confinement),
:mod:`~songmint.spec.media` (image and stem header checks), :mod:`~songmint.spec.sections`
(version, collection, storage, network), :mod:`~songmint.spec.tracks` (tracks and their
generation) and :mod:`~songmint.spec.load` (the entry points and the one-pass problem list).
"""

from songmint.spec.load import SpecProblems, load_spec, parse_spec
from songmint.spec.values import (
    ADDRESS_RE,
    COVER_STYLES_HINT,
    ENGINE_MAX_SECONDS,
    IMAGE_TYPES,
    MAX_SECONDS,
    MAX_TOKEN_ID,
    NETWORK_NAMES,
    SLUG_RE,
    SPEC_VERSION,
    STORAGE_BACKENDS,
    URL_RE,
    URL_SCHEMES,
    ZERO_ADDRESS,
    Collection,
    Editions,
    Generate,
    Network,
    ReleaseSpec,
    Storage,
    Track,
    token_id_for,
)

__all__ = [
    "ADDRESS_RE",
    "COVER_STYLES_HINT",
    "ENGINE_MAX_SECONDS",
    "IMAGE_TYPES",
    "MAX_SECONDS",
    "MAX_TOKEN_ID",
    "NETWORK_NAMES",
    "SLUG_RE",
    "SPEC_VERSION",
    "STORAGE_BACKENDS",
    "URL_RE",
    "URL_SCHEMES",
    "ZERO_ADDRESS",
    "Collection",
    "Editions",
    "Generate",
    "Network",
    "ReleaseSpec",
    "SpecProblems",
    "Storage",
    "Track",
    "load_spec",
    "parse_spec",
    "token_id_for",
]
