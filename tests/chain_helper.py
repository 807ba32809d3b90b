"""A process the journal tests kill with SIGKILL at a chosen point, then run again to resume.

Usage: ``python tests/chain_helper.py URL CONTRACT JOURNAL create|mint N``. With
``SONGMINT_KILL_AT=<checkpoint>:<k>`` (checkpoint: intent, signed, sent, receipt) the process
kills itself with SIGKILL the k-th time the client reaches that checkpoint, exactly as an
interruption (power cut, OOM kill, Ctrl-\\) would. Without it, it runs to the end and prints
the result as JSON. Tokens are created 3 per transaction, so N > 3 spans several transactions.
The tests run it as a script (a fresh interpreter) and, to save interpreter start-ups, as a
forked child calling :func:`run`; either way a real process dies by SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable

from minting.chain import Journal, TokenSpec, connect, dev_signer


def kill_at_checkpoint(fault: str) -> Callable[[str], None]:
    """A chain-client checkpoint that SIGKILLs this process at the N-th ``POINT`` of ``"POINT:N"``
    (``intent``, ``signed``, ``sent``, ``receipt``); an empty ``fault`` never kills."""
    point, _, nth = fault.partition(":")
    seen = {"count": 0}

    def checkpoint(name: str) -> None:
        if point and name == point:
            seen["count"] += 1
            if seen["count"] == int(nth or 1):
                os.kill(os.getpid(), signal.SIGKILL)

    return checkpoint


def run(url: str, contract: str, journal_path: str, mode: str, n: int, kill_at: str = "") -> dict:
    """Create ``n`` tokens (or mint 2 more of each), killing this process at ``kill_at``."""
    client = connect(url, chain_id=31337, signer=dev_signer(), checkpoint=kill_at_checkpoint(kill_at))
    client.max_batch = 3
    with Journal(journal_path) as journal:
        if mode == "create":
            tokens = [TokenSpec(id=1000 + i, amount=i + 1, cap=100) for i in range(n)]
            result = client.create_and_mint(contract, tokens, uri_prefix="ipfs://bafyKILL/metadata/",
                                            journal=journal, op="release-1")
        else:
            result = client.mint(contract, {1000 + i: 2 for i in range(n)}, journal=journal, op="more-1")
    return result.to_dict()


def main() -> None:
    url, contract, journal_path, mode, n = sys.argv[1:6]
    print(json.dumps(run(url, contract, journal_path, mode, int(n), os.environ.get("SONGMINT_KILL_AT", ""))))


if __name__ == "__main__":
    main()
