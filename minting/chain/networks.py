"""Networks: where transactions go, and whether it is a local chain.

- ``memory``: eth-tester in this process (py-evm); a fresh chain per connection, for tests.
- ``local``: anvil from the npm tools on 127.0.0.1, started by songmint and persisted to a state
  file under the user data directory (see :mod:`minting.chain.anvil`). The default.
- any ``http(s)://`` or ``ws(s)://`` JSON-RPC URL with the chain id it must have; the id is
  checked before anything is sent.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from minting.chain.errors import NetworkError

MEMORY_CHAIN_ID = 131277322940537  # eth-tester's chain id
ANVIL_CHAIN_ID = 31337
DEV_CHAIN_IDS = frozenset({31337, 1337, MEMORY_CHAIN_ID})
DEFAULT_ANVIL_PORT = 8545
ANVIL_PORT_ENV = "SONGMINT_ANVIL_PORT"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Network:
    """A resolved network.

    Attributes
    ----------
    name : str
        ``memory``, ``local`` or the RPC URL.
    rpc_url : str or None
        JSON-RPC endpoint (None for ``memory``).
    chain_id : int
        The chain id the endpoint must report.
    local : bool
        A development chain on this machine: sending needs no confirmation, the dev account
        is the default signer.
    """

    name: str
    rpc_url: str | None
    chain_id: int
    local: bool

    def __str__(self) -> str:
        return f"{self.name} (chain id {self.chain_id})"


def anvil_port(*, env: Mapping[str, str] | None = None) -> int:
    """The port of songmint's local anvil (``$SONGMINT_ANVIL_PORT``, default 8545).

    ``env`` is the environment to read (default ``os.environ``), as in
    :func:`minting.chain.accounts.load_signer`: the one place the variable is read.
    """
    raw = (os.environ if env is None else env).get(ANVIL_PORT_ENV, str(DEFAULT_ANVIL_PORT))
    try:
        return int(raw)
    except ValueError:
        raise NetworkError(f"{ANVIL_PORT_ENV}={raw!r} is not a port number") from None


def resolve_network(
    network: str = "local", *, chain_id: int | None = None, env: Mapping[str, str] | None = None
) -> Network:
    """Resolve ``memory``, ``local`` or a JSON-RPC URL into a :class:`Network`.

    Parameters
    ----------
    network : str
        ``memory``, ``local`` or an ``http(s)://`` / ``ws(s)://`` URL.
    chain_id : int, optional
        Required for a URL: the chain id the endpoint must report.
    env : mapping, optional
        Where ``local`` reads ``$SONGMINT_ANVIL_PORT`` (:func:`anvil_port`; default ``os.environ``).

    Raises
    ------
    NetworkError
        For an unknown name, or a URL without ``chain_id``.
    """
    if network == "memory":
        return Network("memory", None, MEMORY_CHAIN_ID, local=True)
    if network == "local":
        url = f"http://127.0.0.1:{anvil_port(env=env)}"
        return Network("local", url, chain_id or ANVIL_CHAIN_ID, local=True)
    parsed = urlparse(network)
    if parsed.scheme not in {"http", "https", "ws", "wss"} or not parsed.hostname:
        raise NetworkError(
            f"unknown network {network!r}: use memory, local or a JSON-RPC URL "
            "(http://…, https://…, ws://…) with --chain-id"
        )
    if chain_id is None:
        raise NetworkError(
            f"network {_redact(network)} needs its expected chain id (--chain-id N), "
            "so that nothing is sent to the wrong chain"
        )
    local = parsed.hostname in _LOOPBACK and chain_id in DEV_CHAIN_IDS
    return Network(_redact(network), network, chain_id, local=local)


def _redact(url: str) -> str:
    """The URL without credentials or query (API keys often live there)."""
    p = urlparse(url)
    host = p.hostname or ""
    port = f":{p.port}" if p.port else ""
    path = p.path if len(p.path) <= 1 else "/…"
    return f"{p.scheme}://{host}{port}{path}"
