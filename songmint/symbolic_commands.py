"""``songmint train-symbolic``: train the symbolic music transformer on music21's corpus."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from songmint.console import json_option, print_json
from songmint.errors import SongmintError
from songmint.vocabulary import deprecated_alias


def _say(line: str) -> None:
    click.echo(f"[{time.strftime('%H:%M:%S')}] {line}", err=True)


@click.command("train-symbolic")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("symbolic-run"), show_default=True,
              help="Run folder: checkpoint.pt (resumed from), log.jsonl, config.json.")
@click.option("--config", "config_name", default="shipped", show_default=True,
              help="A named config (shipped, tiny, gpu) or a JSON file of TrainConfig fields.")
@click.option("--max-steps", "steps", type=click.IntRange(min=1), help="Override the config's step count.")
@deprecated_alias("--steps", dest="steps", replacement="--max-steps", type=click.IntRange(min=1))
@click.option("--seed", type=int, default=0, show_default=True,
              help="Training seed (the shipped config was trained with 0).")
@click.option("--corpus", "corpus_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Tokenised corpus (.npz; built there if missing); default: the user cache, else the "
              "copy shipped with the package.")
@click.option("--corpus-limit", type=click.IntRange(min=1),
              help="Build from at most N works per source (quick runs; not cached).")
@click.option("--rebuild-corpus", is_flag=True,
              help="Parse music21's corpus again (half an hour) instead of using the cached or shipped copy.")
@click.option("--build-only", is_flag=True, help="Load (or build) the corpus, then stop.")
@click.option("--max-minutes", type=click.FloatRange(min=0.0),
              help="Stop at the next checkpoint after this long (run again to resume).")
@click.option("--until-step", type=click.IntRange(min=1),
              help="Stop after this step (the schedule stays the config's; run again to resume).")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="torch CPU threads.")
@json_option
@click.option("--export", "export_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Afterwards (finished, or stopped by --max-minutes), write the weights here "
              "(.safetensors, plus a .json card).")
def train_symbolic(out_dir: Path, config_name: str, steps: int | None, seed: int,
                   corpus_path: Path | None, corpus_limit: int | None, rebuild_corpus: bool, build_only: bool,
                   max_minutes: float | None, until_step: int | None, threads: int,
                   export_path: Path | None, as_json: bool) -> None:
    """Train the symbolic transformer (resumable; one progress line per few steps on stderr).

    The corpus (Bach chorales, fiddle tunes, Essen folk songs, Palestrina: music21's bundled
    corpus) is parsed once and cached. Same config and seed -> the same weights on the CPU.
    """
    import torch

    from music.engines.symbolic import configs, corpus, training

    if export_path is not None and export_path.suffix != ".safetensors":
        raise SongmintError(f"--export must end in .safetensors, not {export_path.name!r}")
    torch.set_num_threads(threads)
    cfg = configs.resolve(config_name)
    overrides = {k: v for k, v in {"steps": steps, "seed": seed}.items() if v is not None}
    if overrides:
        cfg = training.TrainConfig.from_dict({**cfg.to_dict(), **overrides})
    t0 = time.perf_counter()
    if corpus_limit is not None:
        ds = corpus.build(limit=corpus_limit, progress=_say)
    else:
        ds = corpus.load(corpus_path, rebuild=rebuild_corpus, progress=_say)
    m = ds.manifest
    _say(f"corpus: {m['works']} works ({m['held_out_works']} held out), {m['tokens']} tokens "
         f"[{time.perf_counter() - t0:.1f} s]")
    if build_only:
        if as_json:
            print_json({"corpus": m})
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1) + "\n")
    run = training.train(ds, cfg, out=out_dir, progress=_say,
                         max_seconds=None if max_minutes is None else max_minutes * 60, until_step=until_step)
    if not run["done"] and export_path is not None:
        _say(f"exporting the model at step {run['step']}/{cfg.steps} (unfinished run)")
    if export_path is not None:
        scores = training.held_out_scores(run["model"], ds)
        scores.update(train_seconds=round(run["seconds"], 1), steps_done=run["step"])
        styles = ds.styles()
        manifest = {**m, "works_by_style": {s: styles.count(s) for s in sorted(set(styles))}}
        training.export(run["model"], path=export_path, train_config=cfg, manifest=manifest, scores=scores,
                        log=run["log"])
        _say(f"exported {export_path} (held-out {scores['held_out_bits']:.4f} bits/token)")
    if as_json:
        print_json({"out": str(out_dir), "step": run["step"], "steps": cfg.steps, "done": run["done"],
                    "export": str(export_path) if export_path is not None else None})
