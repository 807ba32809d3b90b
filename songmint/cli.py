"""The ``songmint`` command group.

Commands are declared in the modules that implement them and imported lazily, so that
``songmint traits`` or ``songmint release`` on the default engine never import torch.
User errors (see :mod:`songmint.errors`) print one line on stderr and exit with 2;
anything else is a bug: exit 1, with the traceback under ``-v``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from typing import Any

import click

from songmint import __version__
from songmint.console import Output

# name -> "module:attribute". A command whose module is absent is simply not listed.
COMMANDS: dict[str, str] = {
    "doctor": "songmint.doctor:doctor",
    "init": "songmint.init_command:init",
    "audio": "songmint.audio_commands:audio",
    "generate": "songmint.generate:generate",
    "continue": "songmint.continuation:continue_",
    "transcribe": "songmint.transcribe_command:transcribe",
    "separate": "songmint.separate_command:separate",
    "vary": "songmint.diffusion_commands:vary",
    "interpolate": "songmint.diffusion_commands:interpolate",
    "train": "songmint.diffusion_commands:train",
    "models": "songmint.models_commands:models",
    "traits": "songmint.traits_command:traits",
    "cover": "songmint.cover_command:cover",
    "video": "songmint.video_command:video",
    "chain": "songmint.chain_commands:chain",
    "contract": "songmint.chain_commands:contract",
    "mint": "songmint.chain_commands:mint",
    "sale": "songmint.sale_commands:sale",
    "splits": "songmint.sale_commands:splits",
    "freeze": "songmint.sale_commands:freeze",
    "release": "songmint.release.command:release",
    "preview": "songmint.preview:preview",
    "verify": "songmint.verify:verify",
}


def _module_exists(target: str) -> bool:
    module = target.split(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, t in COMMANDS.items() if _module_exists(t)) + sorted(self.commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = COMMANDS.get(cmd_name)
        if target is None or not _module_exists(target):
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx: click.Context) -> Any:
        from songmint.errors import USER_ERRORS

        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except USER_ERRORS as exc:
            message = " ".join(str(exc).split()) or type(exc).__name__
            click.echo(f"error: {message}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # a bug: say so, show the traceback under -v
            out = ctx.find_object(Output)
            if out is not None and out.verbose:
                traceback.print_exc(file=sys.stderr)
            message = " ".join(str(exc).split())
            click.echo(f"internal error: {type(exc).__name__}: {message} (run with -v for the "
                       "traceback, and please report it)", err=True)
            ctx.exit(1)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="songmint")
@click.option("-v", "--verbose", count=True, help="More detail; tracebacks for internal errors.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors and requested output.")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """songmint: generate music and stems, extract traits, draw covers, mint ERC-1155 editions."""
    ctx.obj = Output(verbose=verbose, quiet=quiet)


if __name__ == "__main__":  # pragma: no cover
    main()
