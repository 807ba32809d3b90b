"""songmint: turn music into minted ERC-1155 editions.

The application layer: the ``songmint`` CLI, the release pipeline, its journal and the
preview site. The stages it chains are the libraries ``music``, ``cover_art`` and
``minting``.
"""

from __future__ import annotations

__version__ = "0.1.0"
