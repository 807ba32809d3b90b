"""Run a release in a subprocess and SIGKILL it at a chosen journal checkpoint, as a crash would.

``python -m tests.release_helper SPEC OUT NETWORK POINT:N`` runs :func:`songmint.release.run_release`
with an :class:`~songmint.release.Options` ``checkpoint`` that kills the process at the N-th
``POINT`` (``intent``, ``signed``, ``sent``, ``receipt``) of the chain client: ``sent:1`` is the
deploy, ``sent:2`` the URI prefix, ``sent:3`` the first createBatch.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from songmint.release import Options, run_release
from tests.chain_helper import kill_at_checkpoint


def main(argv: list[str]) -> None:
    spec, out, network, fault = argv
    opts = Options(
        out=Path(out),
        network=network,
        cover_size=256,
        build_preview=False,
        cache_dir=Path(os.environ["SONGMINT_CACHE_DIR"]) if os.environ.get("SONGMINT_CACHE_DIR") else None,
        checkpoint=kill_at_checkpoint(fault),
    )
    run_release(spec, opts, log=lambda m: print(m, file=sys.stderr))


if __name__ == "__main__":
    main(sys.argv[1:])
