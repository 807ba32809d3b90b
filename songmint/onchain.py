"""The chain side of a release: connect, deploy or attach, register the URI prefix, create
and mint, each step journalled so that an interrupted release resumes without minting twice.

Networks: ``memory`` (eth-tester in process), ``local`` (anvil on 127.0.0.1:8545, started
for you when nothing answers there, its state kept under the user data folder), or a
JSON-RPC URL whose chain id is checked before anything is sent. Transactions come from
``SONGMINT_PRIVATE_KEY`` when set (never printed or stored), else from the node's first
unlocked account (eth-tester, anvil).

Resume rule: every step checks the chain before sending (code at the deploy address, the
prefix index, ``exists(id)`` for each token: ``create`` mints the initial editions in the same
transaction, so an existing token is a minted one), and the journal records each intent
before sending and its hash after.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from songmint.errors import SongmintError

ARTIFACT = Path(__file__).resolve().parents[1] / "minting" / "contracts" / "SongmintEditions.json"
LOCAL_URL = "http://127.0.0.1:8545"
ANVIL_CHAIN_ID = 31337
MAX_BATCH = 50
"""Tokens per createBatch transaction (≈ 100–200 k gas each keeps a batch far below block limits)."""


class ChainStepError(SongmintError):
    """A chain step failed (revert, wrong chain id, node unreachable)."""


def load_contract_artifact() -> dict[str, Any]:
    """ABI and bytecode of SongmintEditions (the artifact committed by the minting stage)."""
    try:
        data = json.loads(ARTIFACT.read_text())
    except FileNotFoundError as exc:
        raise ChainStepError(f"contract artifact {ARTIFACT} is missing; run `make contracts`") from exc
    return {"abi": data["abi"], "bytecode": data["bytecode"]}


@dataclass
class Chain:
    """A connected network: ``w3``, the sending ``account`` and its ``chain_id``."""

    w3: Any
    account: str
    chain_id: int
    label: str
    key: Any = field(default=None, repr=False)  # eth_account LocalAccount or None (unlocked node)

    def contract(self, address: str) -> Any:
        art = load_contract_artifact()
        return self.w3.eth.contract(address=self.w3.to_checksum_address(address), abi=art["abi"])

    def send(self, fn: Any, *, on_sent: Callable[[str], None] | None = None) -> dict[str, Any]:
        """Send a contract function call (or constructor); wait for the receipt."""
        tx: dict[str, Any] = {"from": self.account}
        try:
            if self.key is not None:
                tx = fn.build_transaction(
                    {
                        "from": self.account,
                        "nonce": self.w3.eth.get_transaction_count(self.account, "pending"),
                        "chainId": self.chain_id,
                    }
                )
                signed = self.key.sign_transaction(tx)
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            else:
                tx_hash = fn.transact(tx)
        except Exception as exc:
            raise ChainStepError(f"transaction rejected: {_reason(exc)}") from exc
        hex_hash = "0x" + bytes(tx_hash).hex()
        if on_sent:
            on_sent(hex_hash)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise ChainStepError(f"transaction {hex_hash} reverted")
        return {
            "hash": hex_hash,
            "block": int(receipt["blockNumber"]),
            "gas_used": int(receipt["gasUsed"]),
            "contract": receipt.get("contractAddress"),
        }


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


@contextmanager
def connect(network: str, *, chain_id: int | None = None, anvil_state: Path | None = None) -> Iterator[Chain]:
    """Open ``network`` (``memory``, ``local`` or a URL) for the duration of the block."""
    from web3 import Web3

    proc = None
    try:
        if network == "memory":
            from web3 import EthereumTesterProvider

            w3 = Web3(EthereumTesterProvider())
        else:
            url = LOCAL_URL if network == "local" else network
            if network == "local":
                chain_id = chain_id or ANVIL_CHAIN_ID
                parsed = urlparse(url)
                if not _port_open(parsed.hostname or "127.0.0.1", parsed.port or 8545):
                    proc = _start_anvil(parsed.port or 8545, anvil_state)
            w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60}))
            try:
                actual = int(w3.eth.chain_id)
            except Exception as exc:
                raise ChainStepError(
                    f"cannot reach {url} ({_reason(exc)}); start the node or check the URL"
                ) from exc
            if chain_id is not None and actual != chain_id:
                raise ChainStepError(
                    f"{url} reports chain id {actual}, expected {chain_id}; "
                    "check --chain-id / network.chain_id"
                )
        key = None
        secret = os.environ.get("SONGMINT_PRIVATE_KEY")
        if secret:
            from eth_account import Account

            try:
                key = Account.from_key(secret)
            except Exception:
                raise ChainStepError("SONGMINT_PRIVATE_KEY is not a valid private key") from None
            account = key.address
        else:
            accounts = w3.eth.accounts
            if not accounts:
                raise ChainStepError(f"{network} has no unlocked account; set SONGMINT_PRIVATE_KEY")
            account = accounts[0]
        yield Chain(w3=w3, account=account, chain_id=int(w3.eth.chain_id), label=network, key=key)
    finally:
        if proc is not None:
            proc.terminate()  # SIGTERM: anvil writes --state on the way out
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def default_anvil_state() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("songmint")) / "anvil-state.json"


def _start_anvil(port: int, state: Path | None) -> subprocess.Popen[bytes]:
    from minting.node_tools import find_bin

    state = state or default_anvil_state()
    state.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(find_bin("anvil")),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--state",
        str(state),
        "--silent",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = (proc.stderr.read() if proc.stderr else b"").decode(errors="replace").strip()
            raise ChainStepError(f"anvil exited ({err[:200] or proc.returncode})")
        if _port_open("127.0.0.1", port):
            return proc
        time.sleep(0.05)
    proc.kill()
    raise ChainStepError(f"anvil did not open port {port} within 15 s")


# --------------------------------------------------------------------------- journal


class Journal:
    """SQLite record of chain steps: intent before sending, hash after, result on receipt."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS steps (chain TEXT, step TEXT, status TEXT, "
            "tx_hash TEXT, data TEXT, PRIMARY KEY (chain, step))"
        )

    def get(self, chain: str, step: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT status, tx_hash, data FROM steps WHERE chain=? AND step=?", (chain, step)
        ).fetchone()
        if row is None:
            return None
        return {"status": row[0], "tx_hash": row[1], **json.loads(row[2] or "{}")}

    def put(self, chain: str, step: str, status: str, *, tx_hash: str | None = None, **data: Any) -> None:
        old = self.get(chain, step) or {}
        merged = {k: v for k, v in old.items() if k not in ("status", "tx_hash")}
        merged.update(data)
        self.db.execute(
            "INSERT OR REPLACE INTO steps VALUES (?, ?, ?, ?, ?)",
            (chain, step, status, tx_hash or old.get("tx_hash"), json.dumps(merged, sort_keys=True)),
        )

    def close(self) -> None:
        self.db.close()


def fault(point: str) -> None:
    """Test hook: ``SONGMINT_FAULT=<point>`` SIGKILLs this process at that point."""
    if os.environ.get("SONGMINT_FAULT") == point:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
