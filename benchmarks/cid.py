"""CID and CAR throughput of ``minting`` next to npm's ipfs-car and ipfs-unixfs-importer.

Run: ``.venv/bin/python benchmarks/cid.py [--size-mb 128] [--files 64] [--repeat 3]``

Workloads (pseudo-random bytes, so no chunk deduplicates):

- one large file of ``--size-mb`` MiB;
- a folder of ``--files`` files of 1 MiB each in two subfolders.

Measured, best of ``--repeat`` runs, in MB/s of input (1 MB = 10**6 bytes):

- ``minting CID``: :func:`minting.unixfs.import_path`, kubo layout, hashing only;
- ``minting CAR``: :func:`minting.car.write_car`, kubo layout, writing the CAR;
- ``ipfs-car pack``: npm ``ipfs-car`` 3 CLI writing a CAR (its own layout: 1 MiB chunks,
  1024 links), the baseline the target refers to;
- ``js importer CID``: npm ``ipfs-unixfs-importer`` with kubo's layout, hashing only
  (``tests/js/unixfs_reference.mjs``).

Node timings include node's start-up, which is measured separately (an empty input) and also
reported subtracted. The ratio column is minting's speed over the baseline's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.timing import best_of  # noqa: E402
from minting.car import write_car  # noqa: E402
from minting.node_tools import node_modules  # noqa: E402
from minting.unixfs import import_path  # noqa: E402
from tests.ipfs_reference import write_random  # noqa: E402

SCRIPT = ROOT / "tests" / "js" / "unixfs_reference.mjs"


def _run(cmd: list[str], stdin: str | None = None) -> None:
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=128, help="large file size in MiB")
    parser.add_argument("--files", type=int, default=64, help="files of 1 MiB in the folder workload")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    node = shutil.which("node")
    ipfs_car = node_modules() / ".bin" / "ipfs-car"
    if not node or not ipfs_car.exists():
        raise SystemExit("node and tools/node (ipfs-car) are required: run `make setup`")

    with tempfile.TemporaryDirectory(prefix="cid-bench-") as tmp:
        work = Path(tmp)
        big = work / "big.bin"
        write_random(big, args.size_mb << 20, seed=1)
        folder = work / "folder"
        for i in range(args.files):
            sub = folder / f"part-{i % 2}"
            sub.mkdir(parents=True, exist_ok=True)
            write_random(sub / f"file-{i:04d}.bin", 1 << 20, seed=100 + i)
        empty = work / "empty.bin"
        empty.touch()
        out = work / "out.car"

        def js_cid(path: Path) -> None:
            _run([node, str(SCRIPT), str(node_modules())], json.dumps([{"path": str(path)}]))

        def js_car(path: Path) -> None:
            flags = ["--no-wrap"] if path.is_file() else []
            _run([str(ipfs_car), "pack", str(path), *flags, "--output", str(out)])

        startup_car = best_of(lambda: js_car(empty), args.repeat)
        startup_cid = best_of(lambda: js_cid(empty), args.repeat)
        print(
            f"node start-up: ipfs-car pack {startup_car * 1000:.0f} ms, "
            f"js importer {startup_cid * 1000:.0f} ms"
        )
        print(f"{'workload':<22}{'tool':<20}{'MB/s':>9}{'MB/s excl. start-up':>22}{'minting ÷ it':>15}")

        for label, path in ((f"file {args.size_mb} MiB", big), (f"folder {args.files}×1 MiB", folder)):
            files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
            size = sum(p.stat().st_size for p in files)
            mb = size / 1e6
            ours_cid = best_of(lambda p=path: import_path(p), args.repeat)
            ours_car = best_of(lambda p=path: write_car(p, out), args.repeat)
            their_car = best_of(lambda p=path: js_car(p), args.repeat)
            their_cid = best_of(lambda p=path: js_cid(p), args.repeat)
            rows = [
                ("minting CID", ours_cid, None, None),
                ("js importer CID", their_cid, startup_cid, ours_cid),
                ("minting CAR", ours_car, None, None),
                ("ipfs-car pack", their_car, startup_car, ours_car),
            ]
            for tool, seconds, startup, ours in rows:
                if startup is None:
                    excl = f"{'':>22}"
                elif seconds - startup < 0.2 * seconds:  # start-up dominates: the difference is noise
                    excl = f"{'n/a':>22}"
                else:
                    excl = f"{mb / (seconds - startup):>22.0f}"
                ratio = f"{seconds / ours:>14.2f}×" if ours is not None else ""
                print(f"{label:<22}{tool:<20}{mb / seconds:>9.0f}{excl}{ratio}")
        print(f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs; best of {args.repeat})")


if __name__ == "__main__":
    main()
