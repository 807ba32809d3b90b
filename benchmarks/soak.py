"""Soak: N small releases back to back and in pairs on one anvil and one cache, with random SIGKILLs.

Each release is a real ``songmint release`` subprocess on songmint's local anvil (one anvil for
the whole run, on a free port, its state under a private data folder) sharing one content-hash
cache (``$SONGMINT_CACHE_DIR``). A random half of the runs are started through
``tests.release_helper`` with a fault ``<point>:<n>`` (point: intent, signed, sent or receipt;
n: 1 deploy, 2 URI prefix, 3 createBatch), whose ``Options.checkpoint`` SIGKILLs the process
there; it is then run again with ``songmint release``, as a user would, and must resume. After every
release the chain is read back:

- completed: exit 0 on the first run; resumed: exit 0 on the run after a kill; recovered: a
  first run that failed without a kill (its error is shown) and a rerun that succeeded; failed:
  the rerun failed too;
- double mints: a token whose ``totalSupply`` exceeds its initial amount; lost mints: one below it,
  or missing; extra deployments: more than one mined deploy row in a release's journal;
- journal rows left open (``intended``/``signed``/``sent``) after the release finished, and
  manifests whose transaction list misses a mined journal row.

Usage: ``python benchmarks/soak.py [-n 50] [--pairs 0.5] [--kill 0.5] [--seed 0] [--json]``
(run it under ``nice -n 19``; each release is a few seconds of CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POINTS = ("intent", "signed", "sent", "receipt")


@dataclass
class Run:
    i: int
    fault: str | None
    outcome: str = "pending"  # completed | resumed | failed
    runs: int = 0
    note: str = ""
    double: int = 0
    lost: int = 0
    extra_deploys: int = 0
    open_rows: int = 0
    missing_txs: int = 0
    seconds: float = 0.0
    manifest: dict[str, Any] = field(default_factory=dict, repr=False)


def _release(root: Path, i: int, env: dict[str, str], fault: str | None) -> subprocess.Popen[str]:
    """``songmint release`` in a subprocess; with ``fault`` (``POINT:N``) through
    ``tests.release_helper``, which SIGKILLs itself at that journal checkpoint."""
    spec, out = str(root / f"spec{i}.toml"), str(root / f"out{i}")
    if fault:
        cmd = [sys.executable, "-m", "tests.release_helper", spec, out, "local", fault]
    else:
        cmd = [
            sys.executable,
            "-m",
            "songmint.cli",
            "-q",
            "release",
            spec,
            "--out",
            out,
            "--cover-size",
            "256",
            "--no-preview",
            "--json",
        ]
    return subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def _finish(p: subprocess.Popen[str]) -> tuple[int, str]:
    _, err = p.communicate()
    lines = [x for x in err.splitlines() if x.strip()]
    return p.returncode, lines[-1] if lines else ""


def _check(run: Run, root: Path, client: Any) -> None:
    """Read the release back from the chain and its journal."""
    out = root / f"out{run.i}"
    m = json.loads((out / "manifest.json").read_text())
    run.manifest = m
    contract = m["chain"]["contract"]
    for t in m["tokens"]:
        info = client.token_info(contract, t["id"])
        if info["supply"] > t["initial"]:
            run.double += 1
        elif info["supply"] < t["initial"]:
            run.lost += 1
    db = sqlite3.connect(f"file:{out / '.songmint' / 'journal.sqlite'}?mode=ro", uri=True)
    rows = db.execute("SELECT kind, status, tx_hash FROM txs").fetchall()
    db.close()
    run.open_rows = sum(status in ("intended", "signed", "sent") for _, status, _ in rows)
    run.extra_deploys = max(0, sum(k == "deploy" and s == "mined" for k, s, _ in rows) - 1)
    listed = {t["hash"] for t in m["transactions"]}
    run.missing_txs = sum(s == "mined" and h and h not in listed for _, s, h in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=50, help="Releases (default 50).")
    ap.add_argument("--pairs", type=float, default=0.5, help="Share of releases run two at a time.")
    ap.add_argument("--kill", type=float, default=0.5, help="Share of releases SIGKILLed once.")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, help="Work in this folder (kept) instead of a temporary one.")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)

    from minting.chain.anvil import free_port
    from music.audio import save
    from tests import synth
    from tests.release_fixture import spec_toml

    root = args.keep or Path(tempfile.mkdtemp(prefix="songmint-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SONGMINT_DATA_DIR": str(root / "data"),
        "SONGMINT_ANVIL_PORT": str(free_port()),
        "SONGMINT_CACHE_DIR": str(root / "cache"),
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": "1",
    }
    os.environ.update({k: env[k] for k in ("SONGMINT_DATA_DIR", "SONGMINT_ANVIL_PORT")})
    mix = save(
        synth.mix(synth.drums(bpm=120, bars=1, sr=16000), synth.chord(seconds=2.0, sr=16000)),
        root / "mix.wav",
    )
    for i in range(args.n):
        (root / f"spec{i}.toml").write_text(spec_toml(
            collection={"name": f"Soak {i}", "symbol": f"SOAK{i}", "royalty_bps": 250},
            defaults={"artist": "Soak", "editions": {"cap": 5, "initial": 2}},
            tracks=[
                {"id": "a", "title": f"Soak {i} A", "file": str(mix)},
                {"id": "b", "title": f"Soak {i} B", "file": str(mix), "editions": {"cap": 3, "initial": 1}},
            ],
            network="local",
        ))
    subprocess.run(
        [sys.executable, "-m", "songmint.cli", "chain", "start"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    from minting.chain import connect

    client = connect("local", autostart=False)
    runs = [
        Run(i, f"{rng.choice(POINTS)}:{rng.randint(1, 3)}" if rng.random() < args.kill else None)
        for i in range(args.n)
    ]
    batches: list[list[Run]] = []
    k = 0
    while k < len(runs):
        size = 2 if k + 1 < len(runs) and rng.random() < args.pairs else 1
        batches.append(runs[k : k + size])
        k += size
    t0 = time.perf_counter()
    try:
        for batch in batches:
            started = time.perf_counter()
            procs = [(r, _release(root, r.i, env, r.fault)) for r in batch]
            for r, p in procs:
                code, last = _finish(p)
                r.runs = 1
                if code == 0:
                    r.outcome = "completed"
                elif code == -9 and r.fault:
                    r.note = f"killed at {r.fault}"
                else:
                    r.note = f"exit {code}: {last}"
            for r in batch:
                if r.outcome == "pending":  # killed, or failed: run it again, as a user would
                    code, last = _finish(_release(root, r.i, env, None))
                    r.runs += 1
                    if code == 0:
                        r.outcome = "resumed" if r.note.startswith("killed") else "recovered"
                    else:
                        r.outcome = "failed"
                        r.note += f"; rerun exit {code}: {last}"
                if r.outcome != "failed":
                    _check(r, root, client)
                r.seconds = time.perf_counter() - started
    finally:
        subprocess.run(
            [sys.executable, "-m", "songmint.cli", "chain", "stop"],
            env=env,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    wall = time.perf_counter() - t0
    totals = {
        "releases": len(runs),
        "pairs": sum(len(b) == 2 for b in batches),
        "killed": sum(r.fault is not None for r in runs),
        "completed": sum(r.outcome == "completed" for r in runs),
        "resumed": sum(r.outcome == "resumed" for r in runs),
        "recovered": sum(r.outcome == "recovered" for r in runs),
        "failed": sum(r.outcome == "failed" for r in runs),
        "double_mints": sum(r.double for r in runs),
        "lost_mints": sum(r.lost for r in runs),
        "extra_deploys": sum(r.extra_deploys for r in runs),
        "journal_rows_left_open": sum(r.open_rows for r in runs),
        "manifest_txs_missing": sum(r.missing_txs for r in runs),
        "wall_s": round(wall, 1),
        "s_per_release": round(wall / max(1, len(runs)), 2),
    }
    failures = [
        {"release": r.i, "fault": r.fault, "outcome": r.outcome, "note": r.note}
        for r in runs
        if r.outcome in ("failed", "recovered")
    ]
    if args.json:
        print(json.dumps({"totals": totals, "failures": failures}, indent=2))
    else:
        print(
            f"soak: {totals['releases']} releases ({totals['pairs']} pairs), {totals['killed']} SIGKILLed "
            f"once, in {totals['wall_s']} s ({totals['s_per_release']} s each)"
        )
        for key in (
            "completed",
            "resumed",
            "recovered",
            "failed",
            "double_mints",
            "lost_mints",
            "extra_deploys",
            "journal_rows_left_open",
            "manifest_txs_missing",
        ):
            print(f"  {key:<24} {totals[key]}")
        for f in failures:
            print(f"  {f['outcome']}: release {f['release']} ({f['fault'] or 'no kill'}): {f['note']}")
        if not args.keep:
            print(f"  (work folder {root})")
    bad = totals["failed"] + totals["double_mints"] + totals["lost_mints"] + totals["journal_rows_left_open"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
