"""``songmint chain``, ``songmint contract`` and ``songmint mint``: the local chain, deployments, minting.

Thin click wrappers over :mod:`minting.chain`; see docs/chain.md. Every command that sends takes
``--dry-run`` (print the transactions and their estimated gas, send nothing); on a network that is
not a local development chain it prints that summary first and sends only with ``--yes``.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import click

from songmint.console import json_option, output, print_json, print_table
from songmint.errors import SongmintError
from songmint.vocabulary import option_group

F = TypeVar("F", bound=Callable[..., Any])


def network_options(f: F) -> F:
    opts = [
        click.option("-n", "--network", default=lambda: os.environ.get("SONGMINT_NETWORK", "local"),
                     show_default="local ($SONGMINT_NETWORK)",
                     help="memory, local (songmint's anvil) or a JSON-RPC URL."),
        click.option("--chain-id", type=int, default=None,
                     help="Chain id the RPC URL must report (required with a URL)."),
        click.option("--keystore", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Encrypted keystore (password: $SONGMINT_KEYSTORE_PASSWORD or a prompt). "
                          "Otherwise $SONGMINT_PRIVATE_KEY, or anvil's dev account on local chains."),
        click.option("--confirmations", type=click.IntRange(1, 64), default=1, show_default=True,
                     help="Blocks a receipt must have before it counts."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def send_options(f: F) -> F:
    f = click.option("--yes", is_flag=True, help="Send on a non-local network (after the summary).")(f)
    return click.option("--dry-run", is_flag=True,
                        help="Print the transactions and estimated gas and cost; send nothing.")(f)


def connect_client(network: str, chain_id: int | None, keystore: Path | None, confirmations: int,
             yes: bool = False) -> Any:
    from minting.chain import connect

    def prompt(text: str) -> str:
        return str(click.prompt(text, hide_input=True))

    return connect(network, chain_id=chain_id, keystore=str(keystore) if keystore else None, prompt=prompt,
                   yes=yes, confirmations=confirmations)


def _deployments_file() -> Path:
    from minting.chain import data_dir

    return data_dir() / "deployments.json"


def _remember(chain_id: int, address: str) -> None:
    path = _deployments_file()
    known = json.loads(path.read_text()) if path.exists() else {}
    known.setdefault(str(chain_id), [])
    if address not in known[str(chain_id)]:
        known[str(chain_id)].append(address)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(known, indent=2))
    os.replace(tmp, path)


def address_or_last(address: str | None, chain_id: int) -> str:
    if address:
        return address
    path = _deployments_file()
    known = json.loads(path.read_text()) if path.exists() else {}
    if not known.get(str(chain_id)):
        raise SongmintError(f"no contract address given and none deployed on chain {chain_id} by songmint "
                            "yet; pass ADDRESS or run `songmint contract deploy`")
    return str(known[str(chain_id)][-1])


def gate(client: Any, plan: Any, *, dry_run: bool, yes: bool, as_json: bool) -> bool:
    """Print the plan where it matters; True when the command should go on and send."""
    out = output()
    if dry_run:
        if as_json:
            print_json({"dry_run": True, **plan.to_dict()})
        else:
            click.echo(plan.summary())
        return False
    if not client.network.local:
        out.info(plan.summary())
        if not yes:
            raise SongmintError(f"{client.network} is not a local chain: nothing sent; review the summary "
                                "above and re-run with --yes to send")
    else:
        out.debug(plan.summary())
    return True


def default_journal() -> Path:
    from minting.chain import data_dir

    return data_dir() / "journal.sqlite"


def journal_options(f: F) -> F:
    f = click.option("--op", default=None,
                     help="Operation key in the journal; a new key repeats the operation.")(f)
    return click.option("--journal", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="SQLite journal (default <data dir>/journal.sqlite). Re-running resumes; "
                             "nothing happens twice.")(f)


@dataclass(frozen=True)
class ChainSession:
    """What a chain command was told by its shared options: where to connect and, to send, how.

    Handed to the command as one ``chain`` argument by :func:`reads_chain` (``--network``,
    ``--chain-id``, ``--keystore``, ``--confirmations``, ``--json``) and :func:`sends_chain` (those
    and ``--journal``, ``--op``, ``--dry-run``, ``--yes``).
    """

    network: str
    chain_id: int | None
    keystore: Path | None
    confirmations: int
    as_json: bool
    journal: Path | None = None
    op: str | None = None
    dry_run: bool = False
    yes: bool = False

    @cached_property
    def client(self) -> Any:
        """The connected :class:`minting.chain.ChainClient` (connected on first use)."""
        return connect_client(self.network, self.chain_id, self.keystore, self.confirmations, self.yes)

    def send(self, operation: Callable[..., Any], *, plan: Callable[[], Any] | None = None) -> Any:
        """Plan + estimate where it matters, then run ``operation(journal=...)`` through the journal.

        ``operation`` takes the chain client's ``dry_run``/``journal`` keywords; its plan is
        ``operation(dry_run=True)`` unless ``plan`` says otherwise. A plan is made for dry runs,
        non-local networks and -v (local runs skip the cost). Returns what ``operation`` returned, or
        None when nothing is to be sent (a dry run).
        """
        from minting.chain import Journal

        if self.dry_run or not self.client.network.local or output().verbose > 0:
            estimate = plan() if plan is not None else operation(dry_run=True)
            if not gate(self.client, estimate, dry_run=self.dry_run, yes=self.yes, as_json=self.as_json):
                return None
        with Journal(self.journal or default_journal()) as j:
            return operation(journal=j)


reads_chain = option_group(ChainSession, "chain", network_options, json_option)
"""``--network``, ``--chain-id``, ``--keystore``, ``--confirmations`` and ``--json`` as ``chain``."""

sends_chain = option_group(ChainSession, "chain", journal_options, network_options, send_options, json_option)
""":data:`reads_chain` plus ``--journal``, ``--op``, ``--dry-run`` and ``--yes``, as ``chain``."""


# ---- songmint chain ---------------------------------------------------------------------------


@click.group()
def chain() -> None:
    """Start, stop and inspect songmint's local anvil chain (state kept under the user data dir)."""


def _anvil(port: int | None, state: Path | None) -> Any:
    from minting.chain import Anvil

    return Anvil(port=port or 0, state_file=state)


_port = click.option("--port", type=int, default=None, help="Port (default $SONGMINT_ANVIL_PORT or 8545).")
_state = click.option("--state", type=click.Path(dir_okay=False, path_type=Path), default=None,
                      help="State file (default <data dir>/chain/anvil-<port>.json).")


def _anvil_command(
    name: str, human: Callable[[dict[str, Any]], None]
) -> Callable[[Callable[[Any], dict[str, Any]]], click.Command]:
    """``chain NAME`` with --port, --state and --json around ``action(anvil) -> facts``: the facts
    print as JSON with --json, else through ``human``."""

    def decorate(action: Callable[[Any], dict[str, Any]]) -> click.Command:
        @chain.command(name)
        @_port
        @_state
        @json_option
        @functools.wraps(action)
        def command(port: int | None, state: Path | None, as_json: bool) -> None:
            info = action(_anvil(port, state))
            if as_json:
                print_json(info)
            else:
                human(info)

        return command

    return decorate


def _started(info: dict[str, Any]) -> None:
    output().info(f"anvil running at {info['url']} (chain id {info['chain_id']}, block {info['block']}), "
                  f"state {info['state_file']}")


def _stopped(info: dict[str, Any]) -> None:
    if info["stopped"]:
        output().info(f"anvil on port {info['port']} stopped; state saved to {info['state_file']}")
    else:
        output().info(f"no anvil started by songmint on port {info['port']}")


@_anvil_command("start", _started)
def chain_start(anvil: Any) -> dict[str, Any]:
    """Start anvil on 127.0.0.1 (no-op when it already answers), resuming its saved state."""
    return anvil.start()


@_anvil_command("stop", _stopped)
def chain_stop(anvil: Any) -> dict[str, Any]:
    """Stop the anvil songmint started; it saves its state on the way out."""
    stopped = anvil.stop()
    return {"port": anvil.port, "stopped": bool(stopped), "state_file": str(anvil.state_file)}


@_anvil_command("status", lambda info: print_table(None, [{"field": k, "value": v} for k, v in info.items()]))
def chain_status(anvil: Any) -> dict[str, Any]:
    """Whether the local chain runs, where, and at which block."""
    return anvil.status()


# ---- songmint contract --------------------------------------------------------------------------


@click.group()
def contract() -> None:
    """Deploy and inspect SongmintEditions (ERC-1155 editions) contracts."""


@contract.command("deploy")
@click.option("--name", required=True, help="Collection name.")
@click.option("--symbol", required=True, help="Collection symbol.")
@click.option("--base-uri", default="", help="ERC-1155 base URI with {id}, for tokens without a prefix.")
@click.option("--contract-uri", default="", help="ERC-7572 contract metadata URI.")
@click.option("--royalty-bps", type=click.IntRange(0, 10_000), default=0, show_default=True,
              help="Default ERC-2981 royalty in basis points (500 = 5 %).")
@click.option("--royalty-receiver", default=None, help="Royalty receiver (default: the admin).")
@click.option("--admin", default=None, help="Admin and minter (default: the sending account).")
@sends_chain
def contract_deploy(name: str, symbol: str, base_uri: str, contract_uri: str, royalty_bps: int,
                    royalty_receiver: str | None, admin: str | None, chain: ChainSession) -> None:
    """Deploy a SongmintEditions contract and print its address.

    Journalled: the same command run again (same arguments, or the same --op) returns the
    contract it deployed instead of deploying a second one; pass a new --op for another copy.
    """
    client = chain.client
    kwargs = {"name": name, "symbol": symbol, "base_uri": base_uri, "contract_uri": contract_uri,
              "admin": admin, "royalty_receiver": royalty_receiver, "royalty_bps": royalty_bps}
    dep = chain.send(lambda **kw: client.deploy(**kwargs, op=chain.op, **kw),
                     plan=lambda: client.deploy(**kwargs, dry_run=True))
    if dep is None:
        return
    _remember(client.network.chain_id, dep.address)
    report = {"address": dep.address, "tx_hash": dep.tx_hash, "block": dep.block, "gas_used": dep.gas_used,
              "network": client.network.name, "chain_id": client.network.chain_id, "account": client.address}
    if chain.as_json:
        print_json(report)
    else:
        output().info(f"deployed SongmintEditions at {dep.address} (block {dep.block}, {dep.gas_used:,} gas)")
        click.echo(dep.address)


@contract.command("info")
@click.argument("address", required=False)
@click.option("-t", "--token", "tokens", type=str, multiple=True,
              help="Also show this token id (repeatable).")
@reads_chain
def contract_info(address: str | None, tokens: tuple[str, ...], chain: ChainSession) -> None:
    """Name, symbol, royalty, URI prefixes, supply and roles of ADDRESS (default: the last deployed)."""
    client = chain.client
    address = address_or_last(address, client.network.chain_id)
    info = client.contract_info(address)
    info["tokens"] = [client.token_info(address, _int(t)) for t in tokens]
    if chain.as_json:
        print_json(info)
        return
    print_table(None, [{"field": k, "value": v} for k, v in info.items() if k != "tokens"])
    if info["tokens"]:
        print_table("tokens", info["tokens"])


# ---- songmint mint --------------------------------------------------------------------------------


def _int(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an integer (decimal or 0x hex)") from None


def _parse_tokens(specs: tuple[str, ...]) -> tuple[list[Any], dict[int, int]]:
    from minting.chain import TokenSpec

    create: list[Any] = []
    more: dict[int, int] = {}
    for spec in specs:
        parts = spec.split(":")
        if len(parts) == 3:
            create.append(TokenSpec(_int(parts[0]), _int(parts[1]), _int(parts[2])))
        elif len(parts) == 2:
            more[_int(parts[0])] = more.get(_int(parts[0]), 0) + _int(parts[1])
        else:
            raise click.BadParameter(f"{spec!r}: use ID:AMOUNT:CAP to create, ID:AMOUNT to mint more",
                                     param_hint="--token")
    return create, more


@click.command()
@click.argument("address", required=False)
@click.option("-t", "--token", "specs", multiple=True, required=True,
              help="ID:AMOUNT:CAP creates a token and mints AMOUNT; ID:AMOUNT mints more of an existing one.")
@click.option("--uri-prefix", default=None,
              help="URI prefix for new tokens, e.g. ipfs://<dirCID>/metadata/ "
                   "(uri = prefix + hex id + .json).")
@click.option("--to", default=None, help="Recipient (default: the sending account).")
@sends_chain
def mint(address: str | None, specs: tuple[str, ...], uri_prefix: str | None, to: str | None,
         chain: ChainSession) -> None:
    """Create-and-mint new tokens and/or mint more editions on ADDRESS (default: the last deployed).

    Every transaction is journalled before it is sent; run the same command again after an
    interruption and it finishes the job without minting anything twice.
    """
    create, more = _parse_tokens(specs)
    client = chain.client
    address = address_or_last(address, client.network.chain_id)
    op = chain.op

    def plan() -> Any:
        if not create:
            return client.mint(address, more, to=to, dry_run=True, op=op and f"{op}:mint")
        estimate = client.create_and_mint(address, create, to=to, uri_prefix=uri_prefix, dry_run=True,
                                          op=op and f"{op}:create")
        if more:  # they cannot be estimated before the creations exist
            estimate.notes.append(f"then mintBatch of {len(more)} existing token(s), estimated when sent")
        return estimate

    def send(journal: Any) -> list[Any]:
        results = []
        if create:
            results.append(client.create_and_mint(address, create, to=to, uri_prefix=uri_prefix,
                                                  journal=journal, op=op and f"{op}:create"))
        if more:
            results.append(client.mint(address, more, to=to, journal=journal, op=op and f"{op}:mint"))
        return results

    results = chain.send(send, plan=plan)
    if results is None:
        return
    if chain.as_json:
        print_json({"contract": address, "results": [r.to_dict() for r in results]})
        return
    out = output()
    for r in results:
        fresh = {i: n for i, n in r.done.items() if i not in set(r.resumed)}
        out.info(f"{r.op.split(':')[0]}: {len(fresh)} token(s) minted now, {len(r.resumed)} already done "
                 f"(journal), {len(r.skipped)} already on chain; {r.gas_used:,} gas")
        for t in r.txs:
            click.echo(f"{t.kind}\t{t.tx_hash}\tblock {t.block}\t{t.gas_used} gas\t{len(t.ids)} token(s)")
