"""The CLI vocabulary: one option name per concept, and old spellings kept for one release.

:data:`VOCABULARY` is the table docs/cli.md prints and tests/test_cli_vocabulary.py enforces
over every command: an option that names one of these concepts is spelled (and short-formed)
as listed, and no command uses a listed spelling for anything else. :func:`deprecated_alias`
keeps an old spelling working: hidden from ``--help``, folded into the new parameter, with
one ``warning: ... is deprecated`` line on stderr.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from click.core import ParameterSource

from songmint.errors import SongmintError

F = Callable[..., Any]


@dataclass(frozen=True)
class Concept:
    """One row of the vocabulary: the option's spellings and what it means everywhere."""

    opts: tuple[str, ...]
    meaning: str
    default: str = ""


VOCABULARY: dict[str, Concept] = {
    "out": Concept(("-o", "--out"), "where a command writes (a file or a folder, per command)"),
    "json": Concept(("--json",), "machine-readable output on stdout; human lines go to stderr", "off"),
    "verbose": Concept(("-v", "--verbose"), "more detail, tracebacks for internal errors (before or after "
                       "the command name)", "off"),
    "quiet": Concept(("-q", "--quiet"), "only errors and requested output (before the command name)", "off"),
    "seed": Concept(("--seed",), "random seed; never drawn at random, so a rerun gives the same bytes; "
                    "take i of --count uses seed+i", "0"),
    "count": Concept(("--count",), "how many takes (folders OUT/01, OUT/02 … whose files carry the take "
                     "number)", "1"),
    "variations": Concept(("--variations",), "variations inside one take (the first is the mix, the others "
                          "extras)", "1"),
    "frames": Concept(("--frames",), "clips of an interpolation, both ends included", "5"),
    "steps": Concept(("--steps",), "diffusion sampler steps", "the sampler's"),
    "max-steps": Concept(("--max-steps",), "optimiser steps of a training run", "2000"),
    "model": Concept(("--model",), "model weights: a name from `songmint models list`, a Hugging Face id "
                     "in the cache, or a local folder/file"),
    "precision": Concept(("--precision",), "numeric precision of model weights: fp32 or bf16 (train: also "
                         "auto)", "fp32"),
    "device": Concept(("--device",), "cpu, cuda or auto", "cpu (train: auto)"),
    "engine": Concept(("--engine",), "generation engine", "per command"),
    "stems": Concept(("--stems",), "stem names to produce (drums,bass,…); alone: all of them"),
    "stems-dir": Concept(("--stems-dir",), "a folder of input stems aligned with the mix (or a take folder)"),
    "network": Concept(("-n", "--network"), "memory, local (songmint's anvil) or a JSON-RPC URL",
                       "local ($SONGMINT_NETWORK)"),
    "token": Concept(("-t", "--token"), "an ERC-1155 token id (repeatable)"),
    "hf-token": Concept(("--hf-token",), "Hugging Face access token ($HF_TOKEN; never printed or stored)"),
    "jobs": Concept(("-j", "--jobs"), "parallel worker processes", "1"),
    "format": Concept(("--format",), "audio format of written files: wav, flac or mp3", "wav"),
    "lufs": Concept(("--lufs",), "master loudness target in LUFS", "-14"),
    "title": Concept(("--title",), "title used in file names"),
    "dry-run": Concept(("--dry-run",), "plan and estimate; send or write nothing on chain", "off"),
    "yes": Concept(("--yes",), "send on a non-local network without asking", "off"),
}
"""Concept -> spelling. Keys are the concepts; see docs/cli.md for the table."""

EXCEPTIONS: dict[tuple[str, str], str] = {
    ("interpolate", "--diffusion-steps"): "sampler steps of interpolate; becomes --steps when the deprecated "
    "--steps (= --frames) spelling goes away in the next release",
}
"""(command, option) pairs allowed outside the vocabulary for now, with the reason."""


def deprecated(old: str, new: str) -> None:
    """The one-line deprecation notice of an old spelling (kept for one release)."""
    click.echo(f"warning: {old} is deprecated and goes away in the next release; use {new}", err=True)


class DeprecatedOption(click.Option):
    """A hidden option that is an old spelling of ``replacement`` (read by the vocabulary test)."""

    def __init__(self, *args: Any, replacement: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("help", f"Deprecated spelling of {replacement}.")
        super().__init__(*args, hidden=True, **kwargs)
        self.replacement = replacement


def deprecated_alias(*decls: str, dest: str, replacement: str,
                     convert: Callable[[Any], Any] | None = None, **kwargs: Any) -> Callable[[F], F]:
    """Accept the old spelling ``decls`` of the parameter ``dest`` (spelled ``replacement`` now).

    The old option is hidden; when given, it prints one deprecation line on stderr and its
    value (through ``convert``) becomes ``dest``'s. Giving both spellings with different values
    is an error. Put it *below* the new option's decorator.
    """
    key = "_deprecated_" + decls[-1].lstrip("-").replace("-", "_")

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def wrapper(*args: Any, **kw: Any) -> Any:
            old = kw.pop(key, None)
            if old is not None and old is not False:
                deprecated("/".join(decls), replacement)
                value = convert(old) if convert is not None else old
                ctx = click.get_current_context()
                if ctx.get_parameter_source(dest) is ParameterSource.COMMANDLINE and kw.get(dest) != value:
                    old_s = "/".join(decls)
                    raise SongmintError(f"{old_s} and {replacement} disagree; give {replacement} only")
                kw[dest] = value
            return f(*args, **kw)

        return click.option(*decls, key, cls=DeprecatedOption, replacement=replacement, default=None,
                            **kwargs)(wrapper)

    return decorate


PRECISIONS: dict[str, str] = {"fp32": "float32", "bf16": "bfloat16"}
"""``--precision`` value -> torch dtype name."""


def precision_option(*, choices: tuple[str, ...] = ("fp32", "bf16"), default: str = "fp32",
                     help_text: str = "Model precision.") -> Callable[[F], F]:
    """``--precision`` (fp32|bf16 …), plus the old ``--dtype float32|bfloat16`` spelling."""
    to_new = {v: k for k, v in PRECISIONS.items()}

    def decorate(f: F) -> F:
        f = deprecated_alias("--dtype", dest="precision", replacement="--precision",
                             type=click.Choice(list(to_new)), convert=to_new.__getitem__)(f)
        return click.option("--precision", type=click.Choice(list(choices)), default=default,
                            show_default=True, help=help_text)(f)

    return decorate


def option_group(cls: type, name: str, *options: Callable[[F], F]) -> Callable[[F], F]:
    """Declare ``options`` on a command and hand their values to it as one ``name=cls(...)``.

    ``cls`` is a dataclass whose fields are the options' parameter names: a set of options
    several commands share reaches each of them as one typed value (``chain: ChainSession``,
    ``take: TakeOutput``) instead of a run of keyword arguments every signature repeats. The
    options are listed in ``--help`` in the order given.
    """
    names = {field.name for field in dataclasses.fields(cls)}

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def command(**kwargs: Any) -> Any:
            values = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
            return f(**kwargs, **{name: cls(**values)})

        for opt in reversed(options):
            command = opt(command)
        return command

    return decorate
