"""The CLI speaks one language: every command's parameters follow songmint.vocabulary (docs/cli.md).

The walk goes over every command the lazy group lists, so a new command that spells a known
concept differently, reuses a known spelling for something else, or lacks --json fails here.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import songmint
from songmint.cli import main
from songmint.vocabulary import EXCEPTIONS, VOCABULARY, DeprecatedOption

ROOT = Path(__file__).resolve().parents[1]

# spellings that name a concept of the vocabulary under another name: never canonical again
RETIRED = {"--dtype": "precision", "--checkpoint": "model", "--separate": "stems", "--n": "variations",
           "--diffusion-steps": "steps", "--variants": "variations", "--num": "count", "--output": "out"}


def _commands() -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []

    def walk(group: click.Group, prefix: str) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            assert cmd is not None, name
            path = f"{prefix} {name}".strip()
            if isinstance(cmd, click.Group):
                walk(cmd, path)
            else:
                found.append((path, cmd))

    walk(main, "")
    return found


COMMANDS = _commands()
IDS = [path for path, _ in COMMANDS]


def _options(cmd: click.Command) -> list[click.Option]:
    return [p for p in cmd.params if isinstance(p, click.Option) and not isinstance(p, DeprecatedOption)]


def test_the_walk_sees_every_command() -> None:
    top = {path.split()[0] for path in IDS}
    assert {"generate", "continue", "vary", "interpolate", "train", "traits", "release", "preview",
            "mint", "contract", "chain", "audio", "models"} <= top
    assert len(IDS) >= 30


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=IDS)
def test_every_command_has_json(path: str, cmd: click.Command) -> None:
    assert any("--json" in p.opts for p in _options(cmd)), f"{path}: no --json"


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=IDS)
def test_concepts_are_spelled_one_way(path: str, cmd: click.Command) -> None:
    spelled = {opt: key for key, c in VOCABULARY.items() for opt in c.opts}
    for p in _options(cmd):
        opts = tuple(p.opts)
        for opt in opts:
            if (path, opt) in EXCEPTIONS:
                continue
            assert opt not in RETIRED, f"{path}: {opt} is the old spelling of {RETIRED[opt]}"
            key = spelled.get(opt)
            if key is not None:
                want = VOCABULARY[key].opts
                assert opts == want, f"{path}: {'/'.join(opts)} should be {'/'.join(want)} ({key})"


def test_short_options_mean_one_thing_everywhere() -> None:
    meaning: dict[str, set[str]] = {}
    for _path, cmd in COMMANDS:
        for p in _options(cmd):
            for short in (o for o in p.opts if re.fullmatch(r"-[A-Za-z]", o)):
                meaning.setdefault(short, set()).add(max(p.opts, key=len))
    clashes = {s: m for s, m in meaning.items() if len(m) > 1}
    assert not clashes, clashes


def test_an_option_name_has_one_kind_everywhere() -> None:
    # same long name -> same kind of value (flag, count, number, path, text) in every command
    def kind(p: click.Option) -> str:
        if p.is_flag:
            return "flag"
        t = p.type
        if isinstance(t, click.Path):
            return "path"
        if isinstance(t, click.types._NumberParamTypeBase):
            return "number"
        if isinstance(t, click.Choice) and all(str(c).isdigit() for c in t.choices):
            return "number"
        return "text"

    kinds: dict[str, dict[str, str]] = {}
    for path, cmd in COMMANDS:
        for p in _options(cmd):
            kinds.setdefault(max(p.opts, key=len), {})[path] = kind(p)
    # value kinds that are one concept: token ids are decimal (sale, freeze) or ID[:AMOUNT] pairs (mint);
    # a model is NAME|PATH (text) or a folder (cover); a size is a side in pixels (cover) or WxH (video)
    same = {"--token": {"number", "text"}, "--model": {"text", "path"}, "--size": {"number", "text"}}
    mixed = {name: by for name, by in kinds.items() if len(set(by.values()) - same.get(name, set())) > 1}
    assert not mixed, mixed


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=IDS)
def test_counts_and_seeds_are_consistent(path: str, cmd: click.Command) -> None:
    for p in _options(cmd):
        if "--seed" in p.opts:
            assert isinstance(p.type, click.types._NumberParamTypeBase) and p.type.name.startswith("integer")
            # deterministic: 0, or (video) derived from the cover it animates; never drawn at random
            derived = path == "video" and not isinstance(p.default, int)  # the animated cover's seed
            assert p.default == 0 or derived, f"{path}: seed {p.default}"
            assert "random" not in (p.help or "").lower().replace("random seed", "")
        if {"--count", "--variations", "--frames"} & set(p.opts):
            assert p.type.name.startswith("integer range") and p.type.min >= 1, f"{path}: {p.opts}"


def test_verbose_is_a_group_option() -> None:
    opts = {o for p in main.params for o in p.opts}
    assert {"-v", "--verbose", "-q", "--quiet", "--version"} <= opts


def test_the_docs_table_lists_the_vocabulary() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    for key, concept in VOCABULARY.items():
        assert key in rows, f"docs/cli.md has no row for {key}"
        for opt in concept.opts:
            assert f"`{opt}" in rows[key] or opt in rows[key], f"docs/cli.md row {key} lacks {opt}"


def test_one_version_everywhere() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["version"] == songmint.__version__
    res = CliRunner().invoke(main, ["--version"])
    assert res.exit_code == 0 and songmint.__version__ in res.output


FOLDED = {"--stems-dir": "stems_dir", "--variations": "n", "--frames": "frames", "--max-steps": "steps",
          "--precision": "precision", "--hf-token": "token", "--stems": "separate_stems"}


@pytest.mark.parametrize(("argv", "new"), [
    (["traits", "--stems", "{d}", "{f}"], "--stems-dir"),
    (["vary", "-n", "2", "{f}", "-o", "{d}/o"], "--variations"),
    (["interpolate", "--steps", "3", "{f}", "{f}", "-o", "{d}/o"], "--frames"),
    (["train", "--steps", "3", "{d}", "-o", "{d}/o"], "--max-steps"),
    (["vary", "--dtype", "bfloat16", "{f}", "-o", "{d}/o"], "--precision"),
    (["models", "pull", "--token", "x", "--offline", "no-such/model-xyz"], "--hf-token"),
    (["continue", "--separate", "{f}", "--seconds", "1", "-o", "{d}/o"], "--stems"),
])
def test_old_spellings_still_parse_with_one_deprecation_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            argv: list[str], new: str) -> None:
    # the command body is replaced: this checks the parsing and the folding into the new parameter
    seen: dict[str, object] = {}
    name = argv[0] if argv[0] != "models" else "models pull"
    cmd = dict(COMMANDS)[name]

    def fake(*args: object, **kwargs: object) -> None:
        seen.update(kwargs)
        for value in kwargs.values():  # an option group (songmint.vocabulary.option_group) as its options
            if dataclasses.is_dataclass(value):
                seen.update({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})

    outer = cmd.callback  # wrappers (deprecated_alias, pass_context) down to the command's own function
    while hasattr(outer.__wrapped__, "__wrapped__"):
        outer = outer.__wrapped__
    cell = next(c for c in outer.__closure__ if c.cell_contents is outer.__wrapped__)
    monkeypatch.setattr(cell, "cell_contents", fake)
    f = tmp_path / "a.wav"
    f.write_bytes(b"")
    args = [a.format(d=tmp_path, f=f) for a in argv]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stderr.splitlines() if "deprecated" in ln]
    assert len(lines) == 1 and lines[0].endswith(f"use {new}"), res.stderr
    assert seen, "the command body did not run"
    want = {"--variations": 2, "--frames": 3, "--max-steps": 3, "--precision": "bf16", "--hf-token": "x",
            "--stems-dir": tmp_path, "--stems": "all"}
    assert seen[FOLDED[new]] == want[new], seen


def test_both_spellings_that_disagree_are_an_error(tmp_path: Path) -> None:
    f = tmp_path / "a.wav"
    f.write_bytes(b"")
    argv = ["vary", "-n", "2", "--variations", "3", str(f), "-o", str(tmp_path / "o")]
    res = CliRunner().invoke(main, argv)
    assert res.exit_code == 2 and "disagree" in res.stderr


def test_continue_reads_an_old_stems_folder_as_stems_dir(tmp_path: Path) -> None:
    # --stems DIR (an existing folder) is the old spelling of --stems-dir; stem names are the new --stems
    (tmp_path / "stems").mkdir()
    f = tmp_path / "a.wav"
    f.write_bytes(b"")
    argv = ["continue", str(f), "--seconds", "1", "--stems", str(tmp_path / "stems"),
            "-o", str(tmp_path / "o")]
    res = CliRunner().invoke(main, argv)
    lines = [ln for ln in res.stderr.splitlines() if "deprecated" in ln]
    assert lines == ["warning: --stems DIR is deprecated and goes away in the next release; "
                     "use --stems-dir DIR"]
    assert res.exit_code == 2 and not (tmp_path / "o").exists()  # then the empty AUDIO is refused
