"""Signing accounts. A key is read once, kept inside a :class:`Signer`, and never shown.

Sources, first match wins:

1. an encrypted keystore file (``keystore=``; the password from the argument,
   ``$SONGMINT_KEYSTORE_PASSWORD`` or a prompt);
2. ``$SONGMINT_PRIVATE_KEY`` (64 hex digits, with or without 0x);
3. on a local development network only: anvil's first dev account (a public, well-known key).

Error messages name the source, never the key; exceptions from the key parser are not chained
(their text could quote the input).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from minting.chain.errors import AccountError
from minting.chain.networks import Network

# anvil's (and hardhat's) first dev account, derived from the public "test test … junk" mnemonic.
DEV_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

PRIVATE_KEY_ENV = "SONGMINT_PRIVATE_KEY"
PASSWORD_ENV = "SONGMINT_KEYSTORE_PASSWORD"


class Signer:
    """An account that signs transactions; its repr, str and pickling never expose the key.

    Attributes
    ----------
    address : str
        Checksummed address.
    source : str
        Where the key came from: ``keystore:<file name>``, ``env:SONGMINT_PRIVATE_KEY`` or ``dev``.
    """

    __slots__ = ("__account", "address", "source")

    def __init__(self, account: LocalAccount, *, source: str) -> None:
        self.__account = account
        self.address: str = account.address
        self.source = source

    def sign_transaction(self, tx: Mapping[str, Any]) -> tuple[bytes, str]:
        """Sign ``tx``; return (raw signed bytes, 0x transaction hash)."""
        signed = self.__account.sign_transaction(dict(tx))
        return bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex()

    def __repr__(self) -> str:
        return f"Signer(address={self.address!r}, source={self.source!r})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Signer holds a private key and cannot be pickled")

    def __getstate__(self) -> Any:
        raise TypeError("a Signer holds a private key and cannot be pickled")


def _from_key(key: str, *, source: str) -> Signer:
    account = None
    with contextlib.suppress(Exception):
        account = Account.from_key(key.strip())
    if account is None:
        raise AccountError(f"the private key from {source} is not a valid 32-byte hex key")
    return Signer(account, source=source)


def from_keystore(
    path: str | Path,
    *,
    password: str | None = None,
    prompt: Callable[[str], str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Signer:
    """Decrypt an Ethereum keystore (v3 JSON) file.

    Parameters
    ----------
    path : str or Path
        The keystore file.
    password : str, optional
        Otherwise ``$SONGMINT_KEYSTORE_PASSWORD``, otherwise ``prompt("Keystore password: ")``.
    prompt : callable, optional
        Asks the user (the CLI passes a hidden-input prompt).
    """
    env = os.environ if env is None else env
    path = Path(path).expanduser()
    try:
        keyfile = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AccountError(f"keystore {path} not found") from None
    except (OSError, ValueError):
        raise AccountError(f"keystore {path} is not a readable JSON keystore") from None
    if password is None:
        password = env.get(PASSWORD_ENV)
    if password is None:
        if prompt is None:
            raise AccountError(
                f"keystore {path.name} needs a password: set {PASSWORD_ENV} or run interactively"
            )
        password = prompt(f"Password for keystore {path.name}: ")
    key: bytes | None = None
    with contextlib.suppress(Exception):
        key = Account.decrypt(keyfile, password)
    if key is None:
        raise AccountError(f"cannot decrypt keystore {path.name}: wrong password or damaged file")
    return Signer(Account.from_key(key), source=f"keystore:{path.name}")


def write_keystore(
    path: str | Path, private_key: str | bytes, password: str, *, iterations: int | None = None
) -> Path:
    """Encrypt a key into a keystore file (scrypt; ``iterations`` lowers the cost, for tests)."""
    keyfile = Account.encrypt(private_key, password, iterations=iterations)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(keyfile), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def load_signer(
    network: Network,
    *,
    keystore: str | Path | None = None,
    password: str | None = None,
    prompt: Callable[[str], str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Signer:
    """The signer for ``network``: keystore, then ``$SONGMINT_PRIVATE_KEY``, then (local only) anvil's
    first dev account.

    Raises
    ------
    AccountError
        When none applies (a non-local network without a key), or the key is unusable.
    """
    env = os.environ if env is None else env
    if keystore is not None:
        return from_keystore(keystore, password=password, prompt=prompt, env=env)
    key = env.get(PRIVATE_KEY_ENV)
    if key:
        return _from_key(key, source=f"env:{PRIVATE_KEY_ENV}")
    if network.local:
        return dev_signer()
    raise AccountError(f"no account for {network}: pass --keystore FILE or set {PRIVATE_KEY_ENV}")


def dev_signer() -> Signer:
    """anvil's first dev account (its key is public: use it on local chains only)."""
    return Signer(Account.from_key(_DEV_KEY), source="dev")
