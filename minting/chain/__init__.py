"""Chain client for SongmintEditions (web3.py): networks, accounts, transactions, journal.

Public API::

    from minting.chain import connect, Journal, TokenSpec

    client = connect("local")                      # or "memory", or an RPC URL + chain_id=…
    dep = client.deploy(name="Songs", symbol="SONG", royalty_bps=500)
    with Journal("release.sqlite") as j:
        client.create_and_mint(dep.address, [TokenSpec(id=1, amount=10, cap=100)],
                               uri_prefix="ipfs://<dirCID>/metadata/", journal=j)
        client.mint(dep.address, {1: 5}, journal=j)
    plan = client.create_and_mint(..., dry_run=True)   # Plan: transactions, gas, cost; nothing sent
"""

from minting.chain.accounts import Signer, dev_signer, from_keystore, load_signer, write_keystore
from minting.chain.anvil import Anvil, data_dir, free_port
from minting.chain.artifacts import Artifact, load_artifact
from minting.chain.client import (
    ChainClient,
    Deployment,
    MintResult,
    Plan,
    PlannedTx,
    TokenSpec,
    TxRecord,
    connect,
    memory_web3,
)
from minting.chain.errors import (
    AccountError,
    ChainError,
    ConfirmationRequired,
    ContractRevert,
    JournalError,
    NetworkError,
)
from minting.chain.journal import Entry, Journal
from minting.chain.networks import Network, resolve_network
from minting.chain.reverts import decode_revert

__all__ = [
    "AccountError",
    "Anvil",
    "Artifact",
    "ChainClient",
    "ChainError",
    "ConfirmationRequired",
    "ContractRevert",
    "Deployment",
    "Entry",
    "Journal",
    "JournalError",
    "MintResult",
    "Network",
    "NetworkError",
    "Plan",
    "PlannedTx",
    "Signer",
    "TokenSpec",
    "TxRecord",
    "connect",
    "data_dir",
    "decode_revert",
    "dev_signer",
    "free_port",
    "from_keystore",
    "load_artifact",
    "load_signer",
    "memory_web3",
    "resolve_network",
    "write_keystore",
]
