"""songmint's local chain: an anvil process from the npm tools, its state kept in a file.

``start`` spawns ``anvil --host 127.0.0.1 --port N --state FILE`` in its own session (it outlives
the CLI call), records its pid next to the state file, and waits until it answers. ``stop``
sends SIGTERM (anvil writes its state on the way out) and waits. The state file lives under the
user data directory (platformdirs; ``$SONGMINT_DATA_DIR`` overrides), so a restart resumes the
same chain: same contracts, same balances, same block number.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minting.chain.errors import NetworkError
from minting.chain.networks import ANVIL_CHAIN_ID, anvil_port
from minting.node_tools import find_bin

DATA_DIR_ENV = "SONGMINT_DATA_DIR"


def data_dir(*, env: Mapping[str, str] | None = None) -> Path:
    """songmint's per-user data directory (``$SONGMINT_DATA_DIR`` or platformdirs' user data dir).

    ``env`` is the environment to read (default ``os.environ``): the one place the variable is read.
    """
    value = (os.environ if env is None else env).get(DATA_DIR_ENV)
    if value:
        return Path(value).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("songmint", appauthor=False))


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rpc(url: str, method: str, params: list[Any] | None = None, *, timeout: float = 2.0) -> Any:
    """One JSON-RPC call with the standard library (no web3 needed to probe a node)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())["result"]


@dataclass
class Anvil:
    """A managed anvil on 127.0.0.1.

    Parameters
    ----------
    port : int, optional
        Default ``$SONGMINT_ANVIL_PORT`` or 8545.
    state_file : Path, optional
        Default ``<data dir>/chain/anvil-<port>.json``.
    chain_id : int
        31337, anvil's default.
    extra_args : tuple of str
        More anvil flags (tests use ``--no-mining``).
    env : mapping, optional
        Where the defaults are read: ``$SONGMINT_ANVIL_PORT``, ``$SONGMINT_DATA_DIR`` and
        ``$SONGMINT_NODE_TOOLS`` (default ``os.environ``).
    """

    port: int = 0
    state_file: Path | None = None
    chain_id: int = ANVIL_CHAIN_ID
    extra_args: tuple[str, ...] = ()
    env: Mapping[str, str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.port = self.port or anvil_port(env=self.env)
        folder = data_dir(env=self.env) / "chain"
        self.state_file = Path(self.state_file) if self.state_file else folder / f"anvil-{self.port}.json"
        self.pid_file = self.state_file.with_suffix(".pid")
        self.log_file = self.state_file.with_suffix(".log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def responding(self) -> bool:
        try:
            return int(rpc(self.url, "eth_chainId", timeout=1.0), 16) > 0
        except (OSError, ValueError, KeyError):
            return False

    def status(self) -> dict[str, Any]:
        """Whether it runs (pid, answering), its URL, state file and block number."""
        pid = self._pid()
        up = self.responding()
        info: dict[str, Any] = {
            "running": up,
            "pid": pid,
            "url": self.url,
            "port": self.port,
            "state_file": str(self.state_file),
            "managed": pid is not None,
            "state_exists": bool(self.state_file and self.state_file.exists()),
        }
        if up:
            info["chain_id"] = int(rpc(self.url, "eth_chainId"), 16)
            info["block"] = int(rpc(self.url, "eth_blockNumber"), 16)
        return info

    def start(self, *, timeout: float = 20.0) -> dict[str, Any]:
        """Start anvil unless it already answers on the port; return :meth:`status`. A chain it
        starts carries songmint's factory (see :func:`minting.chain.deployments.predeployed`)."""
        if self.responding():
            return self.status()
        assert self.state_file is not None
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(find_bin("anvil", env=self.env)),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
            "--state",
            str(self.state_file),
            "--state-interval",
            "5",
            *self.extra_args,
        ]  # also dump every 5 s: a killed anvil loses at most that
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = self.log_file.read_text(errors="replace")[-400:].strip()
                raise NetworkError(f"anvil exited with status {proc.returncode} on port {self.port}: {tail}")
            if self.responding():
                from minting.chain.deployments import install_on_anvil

                install_on_anvil(self.url)  # songmint's factory from the first block, as on `memory`
                return self.status()
            time.sleep(0.05)
        self.stop()
        raise NetworkError(
            f"anvil did not answer on {self.url} within {timeout:.0f} s (log: {self.log_file})"
        )

    def stop(self, *, timeout: float = 10.0) -> bool:
        """Stop the anvil songmint started (SIGTERM, so that it writes its state). True if one ran."""
        pid = self._pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)  # reap it when it is our child
            except ChildProcessError:
                done = 0
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    done = pid
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True
