"""The ``songmint`` command group.

Commands are declared in the modules that implement them and imported lazily, so that
``songmint traits`` or ``songmint release`` on the default engine never import torch.
User errors (see :mod:`songmint.errors`) and usage errors print one line on stderr and exit
with 2; anything else is a bug: exit 1, with the traceback under ``-v``. ``-v`` and ``-q`` work
before or after the command name.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from typing import Any

import click

from songmint import __version__
from songmint.console import Output, finite

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


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _more_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    out = ctx.find_object(Output)
    if out is not None and value:
        out.verbose += value


def _quieter(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    out = ctx.find_object(Output)
    if out is not None and value:
        out.quiet = True


def with_verbosity(cmd: click.Command) -> click.Command:
    """Give ``cmd`` (and a group's subcommands) the root's ``-v``/``-q``, so that
    ``songmint audio info -v x.wav`` means what ``songmint -v audio info x.wav`` does, and make
    its float options refuse ``nan``/``inf`` (see :func:`songmint.console.finite`)."""
    if getattr(cmd, "_songmint_verbosity", False):
        return cmd
    for param in cmd.params:
        param.type = finite(param.type)
    taken = {o for p in cmd.params for o in getattr(p, "opts", [])}
    if not taken & {"-v", "--verbose"}:
        cmd.params.append(click.Option(["-v", "--verbose"], count=True, expose_value=False,
                                       callback=_more_verbose, help="More detail (as before the command)."))
    if not taken & {"-q", "--quiet"}:
        cmd.params.append(click.Option(["-q", "--quiet"], is_flag=True, expose_value=False,
                                       callback=_quieter, help="Only errors and requested output."))
    cmd._songmint_verbosity = True  # type: ignore[attr-defined]
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            with_verbosity(sub)
    return cmd


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command runs.

    Its :meth:`main` prints click's usage errors as one line (``error: …`` and where the help
    is), as it does user errors.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("standalone_mode", True):
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
        except click.exceptions.ClickException as exc:
            hint = ""
            if isinstance(exc, click.exceptions.UsageError):
                ctx = exc.ctx
                hint = f" (see `{ctx.command_path if ctx is not None else 'songmint'} --help`)"
            click.echo(f"error: {_one_line(exc.format_message())}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("aborted", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, t in COMMANDS.items() if _module_exists(t)) + sorted(self.commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = COMMANDS.get(cmd_name)
        if target is None or not _module_exists(target):
            return None
        module, attr = target.split(":")
        return with_verbosity(getattr(importlib.import_module(module), attr))

    def invoke(self, ctx: click.Context) -> Any:
        from songmint.errors import USER_ERRORS

        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except USER_ERRORS as exc:
            message = _one_line(str(exc)) or type(exc).__name__
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
