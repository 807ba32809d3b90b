"""Run ``songmint`` in-process (click's runner) and check that it succeeded."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner, Result

from songmint.cli import main


def songmint_ok(runner: CliRunner, *args: object) -> Result:
    """``songmint ARGS`` (each ``str()``-ed); fails the test, with the output, unless it exits 0."""
    res = runner.invoke(main, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res


def songmint_json(runner: CliRunner, *args: object) -> Any:
    """``songmint ARGS --json`` through :func:`songmint_ok`; the parsed JSON it printed on stdout."""
    return json.loads(songmint_ok(runner, *args, "--json").stdout)
