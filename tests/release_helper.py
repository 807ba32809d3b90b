"""Run a release in a subprocess and SIGKILL it at a chosen journal checkpoint, as a crash would.

``python -m tests.release_helper SPEC OUT NETWORK POINT:N`` runs :func:`songmint.release.run_release`
with an :class:`~songmint.release.Options` ``checkpoint`` that kills the process at the N-th
``POINT`` (``intent``, ``signed``, ``sent``, ``receipt``) of the chain client: ``sent:1`` is the
deploy, ``sent:2`` the URI prefix, ``sent:3`` the first createBatch.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from songmint.release import Options, run_release


def kill_at(fault: str) -> Callable[[str], None]:
    point, _, nth = fault.partition(":")
    seen = {"n": 0}

    def checkpoint(name: str) -> None:
        if name == point:
            seen["n"] += 1
            if seen["n"] == int(nth or 1):
                os.kill(os.getpid(), signal.SIGKILL)

    return checkpoint


def main(argv: list[str]) -> None:
    spec, out, network, fault = argv
    opts = Options(
        out=Path(out),
        network=network,
        cover_size=256,
        build_preview=False,
        cache_dir=Path(os.environ["SONGMINT_CACHE_DIR"]) if os.environ.get("SONGMINT_CACHE_DIR") else None,
        checkpoint=kill_at(fault),
    )
    run_release(spec, opts, log=lambda m: print(m, file=sys.stderr))


if __name__ == "__main__":
    main(sys.argv[1:])
