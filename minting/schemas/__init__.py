"""JSON Schemas for the documents ``minting`` writes, kept in the repository.

- ``erc1155-metadata.schema.json``: the ERC-1155 metadata JSON schema (EIP-1155, "ERC-1155
  Metadata URI JSON Schema"), restated in draft 2020-12.
- ``opensea-metadata.schema.json``: OpenSea's token fields (``attributes``, ``animation_url``,
  ``external_url``, ``background_color`` …).
- ``token-extensions.schema.json``: this project's extensions: ``properties.assets``,
  ``properties.provenance`` and the music-nft-20220222 conventions as typed, optional top-level
  fields (other top-level fields are allowed).
- ``contract-metadata.schema.json``: ERC-7572 ``contractURI()`` JSON with OpenSea's royalty fields.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

SCHEMAS = (
    "erc1155-metadata",
    "opensea-metadata",
    "token-extensions",
    "contract-metadata",
)


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``name`` (one of :data:`SCHEMAS`) as a dict."""
    if name not in SCHEMAS:
        raise KeyError(f"unknown schema {name!r}; known: {', '.join(SCHEMAS)}")
    text = resources.files(__name__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)
