"""``songmint vary``, ``interpolate`` and ``train``: waveform diffusion on your own sounds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from music.audio import load
from music.engines import Request, require
from music.engines.dd_checkpoints import PRESETS
from music.engines.dd_training import LR_SCHEDULES, TIME_SAMPLINGS, WEIGHTINGS, TrainConfig
from music.takes import read_take_json, slugify, write_take
from songmint.console import json_option, output, print_json
from songmint.errors import SongmintError
from songmint.models_commands import engine_with_model, model_option, model_size_options
from songmint.vocabulary import PRECISIONS, deprecated_alias, option_group, precision_option

SAMPLER_CHOICES = ("ipndm", "ddim", "dpmpp-2m")


@contextmanager
def _progress(label: str) -> Iterator[Callable[..., None]]:
    """A progress callback ``(done, total[, loss])`` driving a rich bar on stderr."""
    with output().progress() as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int, loss: float | None = None) -> None:
            desc = label if loss is None else f"{label} (loss {loss:.4f})"
            bar.update(task, completed=done, total=total, description=desc)

        yield update


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class TrainLog:
    """Progress lines for runs without a terminal: an estimate of the whole run after the second
    step (the first pays for warm-up), then a line every ``every`` steps with the loss, steps/s
    and the time left."""

    def __init__(self, emit: Callable[[str], None], *, every: int) -> None:
        self.emit = emit
        self.every = max(1, every)
        self.first: tuple[int, float] | None = None  # (step, time) after the first step

    def __call__(self, done: int, total: int, loss: float | None = None) -> None:
        import time

        now = time.perf_counter()
        if self.first is None:
            self.first = (done, now)
            return
        step0, t0 = self.first
        rate = (done - step0) / max(now - t0, 1e-9)
        left = (total - done) / rate
        if done == step0 + 1:
            self.emit(f"estimate: {1 / rate:.2f} s per step; {total - done} steps left ≈ {_duration(left)}")
        if done % self.every == 0 or done == total:
            loss_s = f"loss {loss:.4f}, " if loss is not None else ""
            self.emit(f"step {done}/{total}: {loss_s}{rate:.2f} steps/s, ETA {_duration(left)}")


@dataclass(frozen=True)
class ModelChoice:
    """``--model``, ``--device`` and ``--precision``: which diffusion model to load, where."""

    model: str | None
    device: str
    precision: str

    def load(self, engine: str) -> Any:
        """The ``engine`` (``dance-diffusion`` or ``stable-audio``) with this model loaded."""
        return engine_with_model(engine, self.model, device=self.device, dtype=PRECISIONS[self.precision])


_engine_options = option_group(
    ModelChoice,
    "models",
    model_option(
        "Model: a name from `songmint models list` (fetch it with `songmint models pull NAME`), "
        "a diffusers folder or a sample-generator .ckpt (dance-diffusion); a pipeline folder "
        "(stable-audio).",
    ),
    click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto."),
    precision_option(),
)


@dataclass(frozen=True)
class TakeOutput:
    """``--out``, ``--title``, ``--format``, the finishing options (``--lufs``, ``--bpm``, ``--key``,
    ``--loop``, ``--stems``, ``--midi``) and ``--json``: how a take is finished and written."""

    out_dir: Path
    title: str | None
    fmt: str
    lufs: float
    bpm: float | None
    key: str | None
    loop: bool
    stems: str | None
    midi: bool
    as_json: bool

    @property
    def finishing(self) -> Any:
        """The :class:`music.engines.finish.Finish` these options ask for."""
        from music.engines.finish import Finish

        stems = None if self.stems is None else tuple(n.strip() for n in self.stems.split(",") if n.strip())
        return Finish(lufs=self.lufs, bpm=self.bpm, key=self.key, loop=self.loop, stems=stems, midi=self.midi)

    def check(self) -> None:
        """Find the separation and transcription models asked for before the engine runs (one line
        naming how to get a missing one)."""
        self.finishing.require_models()

    def write(self, take: Any, *, title: str, what: str) -> None:
        """Finish ``take`` (the mix; other variations stay extras as made), write it (``title`` unless
        ``--title``), report ``what``."""
        from music.engines.finish import finish_take

        take = finish_take(take, self.finishing)
        path = write_take(take, self.out_dir, title=self.title or title, fmt=self.fmt)
        if self.as_json:
            print_json(read_take_json(path))
        else:
            extra = f", {len(take.extras)} extras" if take.extras else ""
            output().info(f"wrote {path} ({what}: {take.mix.duration:.2f} s at {take.mix.sr} Hz{extra})")


def _take_output_options(title_default: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """:class:`TakeOutput`'s options, handed to the command as ``take_out``."""
    return option_group(
        TakeOutput,
        "take_out",
        click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), required=True,
                     help="Take folder to write."),
        click.option("--title", help=f"Title used in file names (default: {title_default})."),
        click.option("--format", "fmt", type=click.Choice(["wav", "flac", "mp3"]), default="wav",
                     show_default=True),
        click.option("--lufs", type=float, default=-14.0, show_default=True,
                     help="Master loudness target (under -1 dBTP); the model's output is kept as "
                          "the extra 'raw'."),
        click.option("--bpm", type=float, help="Conform the result to this tempo (time stretch)."),
        click.option("--key", help="Conform the result to this key (pitch shift), e.g. 'F# minor'."),
        click.option("--loop", is_flag=True, help="Cut the result to whole bars with a seamless seam."),
        click.option("--stems", is_flag=False, flag_value="all", metavar="NAMES",
                     help="Stems of the result by HTDemucs separation (drums,bass,other,vocals); "
                          "alone: all."),
        click.option("--midi", is_flag=True,
                     help="Transcribe the result to MIDI, one .mid per pitched stem."),
        json_option,
    )


@click.command("vary")
@click.argument("audio_path", metavar="AUDIO", type=click.Path(path_type=Path))
@click.option(
    "--strength",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="How far to noise AUDIO before denoising: 0 returns it, 1 ignores it.",
)
@click.option(
    "--engine",
    type=click.Choice(["dance-diffusion", "stable-audio"]),
    default="dance-diffusion",
    show_default=True,
)
@click.option(
    "--variations",
    "n",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Number of variations (the first is the mix, the others extras).",
)
@deprecated_alias("-n", "--n", dest="n", replacement="--variations", type=click.IntRange(1, 64))
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--steps", type=click.IntRange(min=1), help="Sampler steps (full-range; scaled by strength).")
@click.option("--sampler", type=click.Choice(SAMPLER_CHOICES), help="Sampler (dance-diffusion).")
@click.option("--prompt", help="Text that steers the variation (stable-audio).")
@click.option("--negative-prompt", help="What to steer away from (stable-audio).")
@_engine_options
@_take_output_options("AUDIO's name + '-varied'")
def vary(
    audio_path: Path,
    strength: float,
    engine: str,
    n: int,
    seed: int,
    steps: int | None,
    sampler: str | None,
    prompt: str | None,
    negative_prompt: str | None,
    models: ModelChoice,
    take_out: TakeOutput,
) -> None:
    """Regenerate AUDIO: noise it partway (--strength), then denoise with a diffusion model.

    Low strengths keep the timing and timbre and change detail; high strengths keep only
    the broad gesture. Dance Diffusion works at the model's rate and channel count (AUDIO
    is converted); Stable Audio also takes a --prompt.
    """
    if engine == "dance-diffusion" and (prompt or negative_prompt):
        raise SongmintError("--prompt/--negative-prompt apply to --engine stable-audio")
    if engine == "stable-audio" and sampler:
        raise SongmintError("--sampler applies to --engine dance-diffusion")
    take_out.check()
    audio = load(audio_path)
    eng = models.load(engine)
    params: dict[str, Any] = {"strength": strength, "n": n, "source": audio_path.name}
    for key, value in (("steps", steps), ("sampler", sampler), ("negative_prompt", negative_prompt)):
        if value is not None:
            params[key] = value
    with _progress("varying") as update:
        take = require(eng, "vary")(audio, Request(prompt=prompt, seed=seed, params=params), progress=update)
    take_out.write(take, title=f"{slugify(audio_path.stem)}-varied", what=f"{n} variation(s)")


@click.command("interpolate")
@click.argument("a_path", metavar="A", type=click.Path(path_type=Path))
@click.argument("b_path", metavar="B", type=click.Path(path_type=Path))
@click.option(
    "--frames",
    "frames",
    type=click.IntRange(2, 64),
    default=5,
    show_default=True,
    help="Number of clips from A to B, both ends included.",
)
@deprecated_alias("--steps", dest="frames", replacement="--frames", type=click.IntRange(2, 64))
@click.option(
    "--diffusion-steps",
    type=click.IntRange(min=1),
    help="Sampler steps for inversion and decoding (default: the sampler's).",
)
@click.option(
    "--sampler",
    type=click.Choice(["ddim", "dpmpp-2m"]),
    default="ddim",
    show_default=True,
    help="Deterministic sampler used both ways.",
)
@click.option(
    "--gap",
    "gap_s",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds of silence between clips in the mix.",
)
@_engine_options
@_take_output_options("A-to-B")
def interpolate(
    a_path: Path,
    b_path: Path,
    frames: int,
    diffusion_steps: int | None,
    sampler: str,
    gap_s: float,
    models: ModelChoice,
    take_out: TakeOutput,
) -> None:
    """Morph from A to B with Dance Diffusion.

    Both clips are inverted to noise with the deterministic sampler, the noises are
    interpolated spherically and each point is decoded. The mix is the clips in order;
    each clip is also an extra (frame-00 … frame-NN).
    """
    take_out.check()
    a, b = load(a_path), load(b_path)
    eng = models.load("dance-diffusion")
    params: dict[str, Any] = {
        "frames": frames,
        "sampler": sampler,
        "gap_s": gap_s,
        "sources": [a_path.name, b_path.name],
    }
    if diffusion_steps is not None:
        params["steps"] = diffusion_steps
    with _progress("interpolating") as update:
        take = require(eng, "interpolate")(a, b, Request(params=params), progress=update)
    take_out.write(take, title=f"{slugify(a_path.stem)}-to-{slugify(b_path.stem)}", what=f"{frames} clips")


_train_options = option_group(
    TrainConfig,
    "cfg",
    click.option("--preset", type=click.Choice(list(PRESETS)), default=TrainConfig.preset,
                 show_default=True, help="Architecture when training from scratch."),
    model_size_options("Model rate (from scratch).", "Training window in samples."),
    click.option("--channels", type=click.Choice(["1", "2"]), default=str(TrainConfig.channels),
                 show_default=True, callback=lambda _ctx, _param, value: int(value),
                 help="Audio channels (from scratch)."),
    click.option("--max-steps", "steps", type=click.IntRange(min=1), default=TrainConfig.steps,
                 show_default=True, help="Optimizer steps."),
    deprecated_alias("--steps", dest="steps", replacement="--max-steps", type=click.IntRange(min=1)),
    click.option("--max-minutes", type=click.FloatRange(min=0, min_open=True),
                 help="Wall-clock budget: stop after the step that uses it up (checkpoint and final "
                 "weights as usual)."),
    click.option("--batch-size", type=click.IntRange(min=1), default=TrainConfig.batch_size,
                 show_default=True),
    click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=TrainConfig.lr,
                 show_default=True),
    click.option("--lr-schedule", type=click.Choice(list(LR_SCHEDULES)), default=TrainConfig.lr_schedule,
                 show_default=True, help="constant, or cosine decay to zero over the run (--steps or "
                 "--max-minutes, whichever ends it)."),
    click.option("--warmup-steps", type=click.IntRange(min=0), default=TrainConfig.warmup_steps,
                 show_default=True, help="Linear learning-rate warm-up steps."),
    click.option("--ema-decay", type=click.FloatRange(0, 1), default=TrainConfig.ema_decay,
                 show_default=True),
    click.option("--loss-weighting", "weighting", type=click.Choice(list(WEIGHTINGS)),
                 default=TrainConfig.weighting, show_default=True, help="Weight of the loss over noise "
                 "levels: uniform (sample-generator) or min-snr (Min-SNR-5)."),
    click.option("--time-sampling", type=click.Choice(list(TIME_SAMPLINGS)),
                 default=TrainConfig.time_sampling, show_default=True, help="How training noise levels "
                 "are drawn: uniform in t (sample-generator) or log-normal (EDM: more steps at the low "
                 "and middle noise levels)."),
    click.option("--save-every", type=click.IntRange(min=1), default=TrainConfig.save_every,
                 show_default=True, help="Checkpoint interval in steps."),
    click.option("--demo-every", type=click.IntRange(min=0), default=TrainConfig.demo_every,
                 show_default=True, help="Demo-sample interval in steps (0: none)."),
    click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]), default=TrainConfig.precision,
                 show_default=True, help="auto: bf16 autocast on CUDA when supported, else fp32."),
    click.option("--device", default="auto", show_default=True,
                 help="cpu, cuda or auto (a GPU when there is one)."),
    click.option("--seed", type=int, default=TrainConfig.seed, show_default=True),
)
"""The options that are fields of :class:`TrainConfig`, handed to ``train`` as one ``cfg``
(``--device`` defaults to auto here: a training run wants the GPU when there is one)."""


@click.command("train")
@click.argument("samples_dir", metavar="SAMPLES_DIR", type=click.Path(path_type=Path))
@click.option(
    "--engine", type=click.Choice(["dance-diffusion"]), default="dance-diffusion", show_default=True
)
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Model folder: checkpoints/, demos/, and the final diffusers weights.",
)
@model_option("Fine-tune from this model (name, folder or .ckpt) instead of training from scratch.")
@_train_options
@click.option("--resume", is_flag=True, help="Continue from the newest checkpoint in --out.")
@click.option("--log-every", type=click.IntRange(min=1),
              help="Without a terminal, a progress line every N steps (default: steps/20).")
@json_option
def train(
    samples_dir: Path,
    engine: str,
    out_dir: Path,
    model: str | None,
    cfg: TrainConfig,
    resume: bool,
    log_every: int | None,
    as_json: bool,
) -> None:
    """Train Dance Diffusion on SAMPLES_DIR (a folder of your one-shots or loops).

    Fine-tunes --model, or trains a --preset from scratch, on random crops of every
    readable audio file (unreadable ones are skipped with a warning). Writes resumable
    checkpoints, demo samples, and a diffusers folder that `songmint generate --engine
    dance-diffusion --model OUT` loads directly.
    """
    from music.engines.dd_training import train as run_training

    cfg = replace(cfg, checkpoint=model)
    out = output()
    import sys

    from music.engines.sampling import resolve_device

    out.info(f"training {cfg.steps} steps of batch {cfg.batch_size} on {resolve_device(cfg.device)}; "
             "an estimate of the run time follows its first steps")
    lines = None if sys.stderr.isatty() else TrainLog(out.info, every=log_every or max(1, cfg.steps // 20))
    with _progress("training") as update:

        def report(done: int, total: int, loss: float | None = None) -> None:
            update(done, total, loss)
            if lines is not None:
                lines(done, total, loss)

        summary = run_training(
            samples_dir,
            out_dir,
            cfg,
            resume=resume,
            progress=report,
            warn=lambda m: out.info(f"warning: {m}"),
        )
    if as_json:
        print_json(summary)
    else:
        out.info(
            f"trained {summary['steps']} steps in {summary['seconds']:.0f} s on {summary['samples']} files"
            f"{' (time budget used up)' if summary['stopped_by'] == 'time budget' else ''}; "
            f"validation loss {summary['val_loss_start']:.4f} -> {summary['val_loss_end']:.4f}; "
            f"model in {out_dir}"
        )
