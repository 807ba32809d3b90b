"""Keys never show: not in reprs, errors, tracebacks, logs, CLI output, journals or results."""

from __future__ import annotations

import logging
import pickle
import secrets
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner

from minting.chain import (
    AccountError,
    Journal,
    MintResult,
    Plan,
    TokenSpec,
    connect,
    dev_signer,
    from_keystore,
    load_signer,
    resolve_network,
    write_keystore,
)
from songmint.cli import main


@pytest.fixture
def key() -> str:
    return secrets.token_hex(32)


def _forms(key: str) -> list[str]:
    """Every way the key could be spelled, plus long fragments of it."""
    k = key.lower().removeprefix("0x")
    return [k, k.upper(), k[:24], k[20:44], k[-24:]]


def _assert_absent(key: str, *texts: str | bytes) -> None:
    for text in texts:
        blob = text.decode("latin-1") if isinstance(text, bytes) else text
        for form in _forms(key):
            assert form.lower() not in blob.lower(), "the private key leaked"


def test_signer_reprs_and_pickling_hide_the_key(key: str) -> None:
    signer = load_signer(resolve_network("memory"), env={"SONGMINT_PRIVATE_KEY": "0x" + key})
    client = connect("memory", signer=signer)
    assert signer.source == "env:SONGMINT_PRIVATE_KEY" and signer.address.startswith("0x")
    _assert_absent(key, repr(signer), str(signer), repr(client), str(client), f"{signer!r} {client}")
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(signer)
    assert not hasattr(signer, "__dict__")


@pytest.mark.parametrize("bad", ["{k}zz", "0x{k}00", "{k}|cut", "not a key {k}"])
def test_malformed_keys_fail_without_quoting_them(key: str, bad: str) -> None:
    value = bad.format(k=key)
    if value.endswith("|cut"):
        value = value.removesuffix("|cut")[:-4]  # too short
    with pytest.raises(AccountError) as info:
        load_signer(resolve_network("memory"), env={"SONGMINT_PRIVATE_KEY": value})
    text = "".join(traceback.format_exception(info.value))
    assert "SONGMINT_PRIVATE_KEY" in str(info.value)
    _assert_absent(key, text, repr(info.value))
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_keystore_round_trip_and_wrong_password(key: str, tmp_path: Path) -> None:
    path = write_keystore(tmp_path / "k.json", "0x" + key, "correct horse", iterations=2)
    _assert_absent(key, path.read_bytes())
    signer = from_keystore(path, env={"SONGMINT_KEYSTORE_PASSWORD": "correct horse"})
    assert signer.source == "keystore:k.json"
    prompted: list[str] = []
    via_prompt = from_keystore(path, env={}, prompt=lambda text: prompted.append(text) or "correct horse")
    assert via_prompt.address == signer.address and prompted == ["Password for keystore k.json: "]
    with pytest.raises(AccountError, match="wrong password") as info:
        from_keystore(path, password="battery staple")
    assert info.value.__cause__ is None and info.value.__context__ is None  # nothing chained to leak
    text = "".join(traceback.format_exception_only(info.value))
    _assert_absent(key, text)
    assert "battery staple" not in text and "correct horse" not in text
    with pytest.raises(AccountError, match="needs a password"):
        from_keystore(path, env={})
    with pytest.raises(AccountError, match="not found"):
        from_keystore(tmp_path / "missing.json", env={})


def test_nothing_written_or_logged_contains_the_key(key: str, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # web3 logs every request and response at DEBUG
    client = connect("memory", env={"SONGMINT_PRIVATE_KEY": key})
    dev = connect("memory", w3=client.w3, signer=dev_signer())
    # fund the account from the dev account with a plain value transfer
    fund = {"to": client.address, "value": 10**21, "gas": 21_000, "nonce": dev.tx.nonce(dev.address),
            "chainId": client.network.chain_id, **dev.tx.fees()}
    raw, tx_hash = dev.signer.sign_transaction(fund)
    dev.tx.broadcast(raw)
    dev.tx.wait(tx_hash)
    journal_path = tmp_path / "journal.sqlite"
    with Journal(journal_path) as j:
        dep = client.deploy(name="K", symbol="K", journal=j)
        assert not isinstance(dep, Plan)
        plan = client.create_and_mint(dep.address, [TokenSpec(id=1, amount=1, cap=1)], dry_run=True)
        result = client.create_and_mint(dep.address, [TokenSpec(id=1, amount=1, cap=1)], journal=j)
        assert isinstance(result, MintResult) and isinstance(plan, Plan)
    assert client.contract_info(dep.address)["account_is_admin"] is True
    files = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    _assert_absent(key, files, repr(result.to_dict()), repr(plan.to_dict()), plan.summary(), caplog.text)


def test_cli_never_prints_the_key(key: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"SONGMINT_PRIVATE_KEY": key, "SONGMINT_DATA_DIR": str(tmp_path)}
    dry = runner.invoke(main, ["-vv", "contract", "deploy", "-n", "memory", "--name", "A", "--symbol", "A",
                               "--dry-run", "--json"], env=env)
    assert dry.exit_code == 2 and "cannot afford" in dry.output  # an unfunded account: a one-line error
    bad = runner.invoke(main, ["-vv", "contract", "deploy", "-n", "memory", "--name", "A", "--symbol", "A"],
                        env={**env, "SONGMINT_PRIVATE_KEY": key[:-1] + "g"})
    assert bad.exit_code == 2 and "not a valid 32-byte hex key" in bad.output
    broke = runner.invoke(main, ["-vv", "mint", "0x" + "12" * 20, "-t", "1:1:1", "-n", "memory"], env=env)
    assert broke.exit_code == 2 and "no contract at" in broke.output
    _assert_absent(key, dry.output, bad.output, broke.output, str(broke.exception or ""))
