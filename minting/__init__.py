"""minting: a generic multi-asset ERC-1155 library.

It knows nothing about music: it takes files, attributes and properties, and gives
content addresses (``minting.unixfs``, ``minting.car``), validated metadata
(``minting.metadata``), storage (``minting.storage``), the editions contract
(``minting.contracts``) and a chain client with a journal (``minting.chain``).

The light, always-needed names are re-exported here; the chain client (web3) is imported
only from ``minting.chain``.
"""

from __future__ import annotations

from minting.assets import Asset
from minting.car import write_car
from minting.errors import MintingError
from minting.metadata import (
    build_contract_metadata,
    build_token_metadata,
    token_metadata_filename,
    validate_contract_metadata,
    validate_token_metadata,
)
from minting.unixfs import cid_of_bytes, cid_of_file, import_directory

__all__ = [
    "Asset",
    "MintingError",
    "build_contract_metadata",
    "build_token_metadata",
    "cid_of_bytes",
    "cid_of_file",
    "import_directory",
    "token_metadata_filename",
    "validate_contract_metadata",
    "validate_token_metadata",
    "write_car",
]
