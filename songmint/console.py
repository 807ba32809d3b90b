"""Shared terminal output for commands: verbosity, ``--json``, progress bars, tables.

Human output goes to stderr through rich; machine output (``--json``, tables) goes to
stdout so it can be piped.

Nothing printed here is read as rich console markup: titles, paths and prompts are the
user's text, and ``AC[/]DC`` or ``--out 'o[/x]'`` must print as written (styles are applied
with :class:`rich.text.Text`, never by embedding ``[tags]`` in strings).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Output:
    """Verbosity settings of one CLI invocation (stored as the click context object)."""

    verbose: int = 0
    quiet: bool = False

    @property
    def err(self) -> Console:
        return Console(stderr=True, quiet=self.quiet, highlight=False, markup=False, soft_wrap=True)

    @property
    def out(self) -> Console:
        return Console(highlight=False, soft_wrap=True, markup=False)

    def info(self, message: str) -> None:
        """A status line on stderr (hidden by ``-q``); ``message`` is printed as plain text."""
        self.err.print(Text(str(message)))

    def debug(self, message: str) -> None:
        """A line on stderr shown only with ``-v``; ``message`` is printed as plain text."""
        if self.verbose:
            self.err.print(Text(str(message), style="dim"))

    @contextmanager
    def progress(self, *, transient: bool = True) -> Iterator[Progress]:
        """A rich progress bar on stderr (disabled by ``-q`` or when stderr is not a TTY)."""
        columns = (SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
                   TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn())
        disable = self.quiet or not sys.stderr.isatty()
        with Progress(*columns, console=self.err, transient=transient, disable=disable) as bar:
            yield bar


class FiniteFloat(click.types.FloatParamType):
    """click's FLOAT without ``nan``/``inf`` (``--true-peak nan`` is a usage error, not bad audio)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        v = super().convert(value, param, ctx)
        if isinstance(v, float) and not math.isfinite(v):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return v


class FiniteFloatRange(click.FloatRange):
    """click's FloatRange without ``nan``/``inf`` (a NaN passes every range comparison)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        v = click.types.FloatParamType.convert(self, value, param, ctx)
        if isinstance(v, float) and not math.isfinite(v):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(value, param, ctx)


def finite(kind: click.ParamType) -> click.ParamType:
    """``kind`` made to refuse non-finite values, when it is a float type; else ``kind``."""
    if type(kind) is click.types.FloatParamType:
        return FiniteFloat()
    if type(kind) is click.FloatRange:
        assert isinstance(kind, click.FloatRange)
        return FiniteFloatRange(kind.min, kind.max, min_open=kind.min_open, max_open=kind.max_open,
                                clamp=kind.clamp)
    return kind


def output() -> Output:
    """The current invocation's :class:`Output` (a default one outside the CLI)."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Output) if ctx else None
    return obj or Output()


def json_option(f: F) -> F:
    """Add ``--json`` (machine-readable output on stdout) to a command."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")(f)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _jsonable(value.item())
    return value


def dumps(value: Any) -> str:
    """Strict JSON (non-finite floats become ``null``), sorted keys, two-space indent."""
    return json.dumps(_jsonable(value), indent=2, sort_keys=True, allow_nan=False)


def print_json(value: Any) -> None:
    click.echo(dumps(value))


def print_table(title: str | None, rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    """A rich table on stdout from a list of flat dicts."""
    if not rows:
        return
    cols = columns or list(rows[0])
    table = Table(title=Text(title) if title is not None else None, show_lines=False)
    for c in cols:
        table.add_column(Text(c))
    for row in rows:
        table.add_row(*(Text(_cell(row.get(c))) for c in cols))
    output().out.print(table)


def wide_table(title: str, rows: list[dict[str, Any]]) -> None:
    """A table on stdout, at least 120 columns wide so ids and hashes are not cut when piped.

    Every title, header and cell is plain text (never markup).
    """
    import shutil

    table = Table(title=Text(title))
    for col in rows[0] if rows else ():
        nowrap = col in ("token id", "metadata CID", "tx", "status", "check")
        table.add_column(Text(col), no_wrap=nowrap, overflow="ellipsis" if nowrap else "fold")
    for row in rows:
        table.add_row(*(Text("–" if v is None else str(v)) for v in row.values()))
    width = max(120, shutil.get_terminal_size((120, 24)).columns)
    Console(width=width, highlight=False, markup=False).print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else "–"
    return str(value)


def short(text: str | None, head: int, tail: int) -> str | None:
    """``bafkreigu…x4lq``: shortened so a summary fits a terminal (files have them in full)."""
    if not text or len(text) <= head + tail + 1:
        return text
    return f"{text[:head]}…{text[-tail:]}"

