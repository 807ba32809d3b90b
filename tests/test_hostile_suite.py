"""The hostile-input suite: malformed audio, specs, manifests, paths and option values through
every command (``songmint --help`` lists them), in process with click's CliRunner.

Every run must
- exit 0 or 2 (``verify`` also 3, its documented "mismatch" status): never 1, an internal error;
- on exit 2 print exactly one line on stderr, ``error: …``, and nothing on stdout;
- print no traceback and no Python warning;
- leave no partial output (no ``*.part`` file, no temporary folder, no declared output on failure);
- never touch a file it did not create (every file that existed before is byte-for-byte the
  same after, none is gone).

The default run covers 150+ fixed inputs plus property-based ones (hypothesis) and takes well
under two minutes. ``SONGMINT_HOSTILE_SWEEP=N`` multiplies the hypothesis examples by N for a
larger sweep on demand (``SONGMINT_HOSTILE_SWEEP=20 pytest tests/test_hostile_suite.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from songmint.cli import COMMANDS, main
from tests import hostile_corpus as hc
from tests.preview_fixture import make_release

SWEEP = int(os.environ.get("SONGMINT_HOSTILE_SWEEP", "1") or 1)
TEMP_NAME = re.compile(r"(\.part|^\.[^/]+\.[a-z0-9_]{8}$|^\.preview\.|^\.verify\.|\.old\.\d+$)")
DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


# --------------------------------------------------------------------------- the corpus


@dataclass
class Env:
    corpus: dict[str, Path]
    stems: dict[str, Path]
    text_png: Path
    release: Path
    root: Path
    junk: Path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Env:
    root = tmp_path_factory.mktemp("hostile")
    corpus = hc.audio_files(root / "audio")
    stems = hc.stems_folders(root / "stems")
    (root / "text.png").write_text("this is not a PNG")
    release = make_release(root / "release", seconds=1.0)
    return Env(corpus, stems, root / "text.png", release, root, hc.junk_folder(root / "junk"))


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Data dirs (journals, IPFS store, models) and the release cache under the test's folder."""
    home = tmp_path / ".home"
    for var, sub in (("HOME", ""), ("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("SONGMINT_CACHE_DIR", str(home / "release-cache"))
    monkeypatch.setenv("SONGMINT_IPFS_DIR", str(home / "ipfs"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("SONGMINT_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("SONGMINT_FAULT", raising=False)


def _snapshot(*roots: Path) -> dict[str, tuple[int, str]]:
    snap = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_file() and ".home" not in p.parts:
                snap[str(p)] = (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
    return snap


# --------------------------------------------------------------------------- one run


@dataclass
class Case:
    """One hostile input: ``argv(env, work)`` builds the command line; ``out`` the output it
    declares (relative to the work folder), which must not exist after an exit 2."""

    id: str
    argv: Callable[[Env, Path], list[str]]
    codes: tuple[int, ...] = (0, 2)
    out: str | None = None
    setup: Callable[[Env, Path], None] | None = None
    tags: set[str] = field(default_factory=set)


def _writing(id: str, command: str, audio: str, out: str, *args: str) -> Case:
    """``COMMAND AUDIO ARGS --out OUT``: one corpus file in, the output it declares."""
    return Case(id, lambda e, w: [command, str(e.corpus[audio]), *args, "--out", str(w / out)], out=out)


def _journalled(*argv: str) -> Callable[[Env, Path], list[str]]:
    """A chain command on the in-memory chain, journalled in the work folder."""
    return lambda e, w: [*argv, "-n", "memory", "--journal", str(w / "j.sqlite")]


def _each_value(label: str, argv: Callable[[Env, Path], list[str]], values: list[list[str]],
                **case: Any) -> list[Case]:
    """One case per item of ``values`` (``LABEL ITEM``): the command line ``argv`` then the item."""
    return [Case(f"{label} {' '.join(a)}", lambda e, w, a=a: [*argv(e, w), *a], **case) for a in values]


def _exists(p: Path) -> bool:
    try:
        return p.exists() or p.is_symlink()
    except OSError:  # e.g. a name too long to stat
        return False


def _user_files(work: Path) -> None:
    """What a user already has in the folder: files and a folder songmint must leave alone."""
    (work / "mine").mkdir()
    (work / "mine" / "thesis.txt").write_text("years of work")
    (work / "notes.txt").write_text("my notes")
    (work / "empty").mkdir()


def run_case(case: Case, env: Env, work: Path) -> Any:
    work.mkdir(parents=True, exist_ok=True)
    _user_files(work)
    if case.setup is not None:
        case.setup(env, work)
    argv = case.argv(env, work)
    before = _snapshot(work, env.root)
    out = work / case.out if case.out else None
    out_existed = out is not None and _exists(out)
    r = CliRunner().invoke(main, argv, catch_exceptions=True)
    where = f"{case.id}: songmint {' '.join(argv)}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}"
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"{where}\nraised {type(r.exception).__name__}: {r.exception}") from r.exception
    assert r.exit_code in case.codes, where
    assert "internal error" not in r.output and "Traceback" not in r.output, where
    assert not re.search(r"\w+Warning\b", r.stderr), where
    if r.exit_code == 2:
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        if "multi" in case.tags:  # one line per file that failed (or was skipped), and a count
            assert any(x.startswith("error: ") for x in lines), where
            assert all(re.match(r"(error|warning): |\d+ of \d+ files failed$", x) for x in lines), where
        else:
            assert lines and lines[-1].startswith("error: "), where
            errors = [x for x in lines if x.startswith("error: ")]
            # one error, or a spec's problems found in one pass: one line each, each at file:line
            assert len(errors) == 1 or all(re.match(r"error: \S+\.toml(:\d+)?: ", x) for x in errors), where
            # a release logs its stages first, train its plan
            assert len(lines) == len(errors) or case.tags & {"release", "logs"}, where
            assert not r.stdout.strip(), where
        if out is not None and not out_existed and "release" not in case.tags:
            assert not _exists(out), f"{where}\npartial output {out} left"
        if (
            out is not None and "release" in case.tags
        ):  # the folder may stay (see the report); no release in it
            assert not _exists(out / "manifest.json"), f"{where}\na manifest was written by a failed release"
    after = _snapshot(work, env.root)
    for path, facts in before.items():
        assert after.get(path) == facts, f"{where}\n{path} was {'changed' if path in after else 'deleted'}"
    leftovers = [p for p in work.rglob("*") if TEMP_NAME.search(p.name) and ".home" not in p.parts]
    leftovers += [p for p in env.root.rglob("*") if TEMP_NAME.search(p.name)]
    assert not leftovers, f"{where}\ntemporary files left: {leftovers}"
    return r


# --------------------------------------------------------------------------- the inputs


AUDIO_NAMES = [
    n
    for n in (
        "good.wav",
        "good.flac",
        "good.mp3",
        "mono.wav",
        "empty.wav",
        "garbage.wav",
        "header-only.wav",
        "truncated.wav",
        "truncated.flac",
        "truncated.mp3",
        "text.mp3",
        "json.wav",
        "png.wav",
        "nan.wav",
        "inf.wav",
        "ch8.wav",
        "rate1000.wav",
        "rate999999.wav",
        "ten-samples.wav",
        "silent.wav",
        "clipped.wav",
        "o[/x].wav",
        "夜のハウス.wav",
        "folder.wav",
        "missing.wav",
    )
]


def _a(name: str) -> Callable[[Env, Path], str]:
    return lambda e, w: str(e.corpus[name])


def audio_cases() -> list[Case]:
    """Every audio file through every command that reads audio."""
    cases = []
    for name in AUDIO_NAMES:
        f = _a(name)
        cases += [
            Case(f"info {name}", lambda e, w, f=f: ["audio", "info", f(e, w)]),
            Case(f"info --json {name}", lambda e, w, f=f: ["audio", "info", f(e, w), "--json"]),
            Case(
                f"convert {name}",
                lambda e, w, f=f: ["audio", "convert", f(e, w), str(w / "o.flac")],
                out="o.flac",
            ),
            Case(
                f"convert mp3 {name}",
                lambda e, w, f=f: ["audio", "convert", f(e, w), str(w / "o.mp3"), "--channels", "1"],
                out="o.mp3",
            ),
            Case(
                f"normalize {name}",
                lambda e, w, f=f: ["audio", "normalize", f(e, w), "-o", str(w / "n.opus")],
                out="n.opus",
            ),
            Case(f"traits {name}", lambda e, w, f=f: ["traits", f(e, w)]),
            Case(
                f"cover {name}",
                lambda e, w, f=f: ["cover", f(e, w), "--out", str(w / "c.png"), "--size", "64"],
                out="c.png",
            ),
            Case(
                f"continue {name}",
                lambda e, w, f=f: ["continue", f(e, w), "--seconds", "1", "--out", str(w / "take")],
                out="take",
            ),
        ]
    for name in ("good.wav", "garbage.wav", "nan.wav"):
        f = _a(name)
        cases += [
            Case(f"vary {name}", lambda e, w, f=f: ["vary", f(e, w), "--out", str(w / "v")], out="v"),
            Case(
                f"interpolate {name}",
                lambda e, w, f=f: ["interpolate", f(e, w), f(e, w), "--out", str(w / "i")],
                out="i",
            ),
            Case(
                f"continue --stems {name}",
                lambda e, w, f=f: [
                    "continue",
                    str(e.corpus["good.wav"]),
                    "--seconds",
                    "1",
                    "--stems-dir",
                    str(Path(f(e, w)).parent),
                    "--out",
                    str(w / "t"),
                ],
                out="t",
            ),
        ]
    return cases


def path_cases() -> list[Case]:
    """Output paths a user gets wrong, for every command that writes."""
    good = _a("good.wav")
    long_ok, long_bad = "a" * 250, "a" * 260
    cases = []
    for label, dst, code in (
        ("into a user folder", "mine", (2,)),
        ("over the folder's file", "mine/thesis.txt", (0, 2)),
        ("under a file", "notes.txt/x.wav", (2,)),
        ("into an empty folder", "empty", (2,)),
        ("markup name", "o[/x].wav", (0,)),
        ("[bold] name", "[bold]x.wav", (0,)),
        ("250-byte name", f"{long_ok}.wav", (0,)),
        ("260-byte name", f"{long_bad}.wav", (2,)),
        ("no extension", "noext", (2,)),
        ("unknown extension", "x.xyz", (2,)),
        ("dot only", ".", (2,)),
        ("unicode name", "夜.flac", (0,)),
        ("deep new folder", "a/b/c/x.wav", (0,)),
    ):
        for cmd in ("convert", "normalize"):
            argv = (
                (lambda e, w, d=dst: ["audio", "convert", good(e, w), str(w / d)])
                if cmd == "convert"
                else (lambda e, w, d=dst: ["audio", "normalize", good(e, w), "-o", str(w / d)])
            )
            out = None if dst in ("mine", "mine/thesis.txt", "empty", ".") else dst
            cases.append(Case(f"{cmd} to {label}", argv, codes=code, out=out))
    for label, dst, code in (
        ("a user folder", "mine", (2,)),
        ("a file", "notes.txt", (2,)),
        ("under a file", "notes.txt/t", (2,)),
        ("a 250-byte name", long_ok, (2,)),
        ("a markup name", "AC[/]DC", (0,)),
    ):
        out = None if dst in ("mine", "notes.txt") else dst
        cases.append(
            Case(
                f"generate --out {label}",
                lambda e, w, d=dst: [
                    "generate",
                    "house",
                    "--seconds",
                    "2",
                    "--seed",
                    "1",
                    "--out",
                    str(w / d),
                ],
                codes=code,
                out=out,
            )
        )
        cases.append(
            Case(
                f"continue --out {label}",
                lambda e, w, d=dst: ["continue", good(e, w), "--seconds", "1", "--out", str(w / d)],
                codes=(2,),
                out=out,
            )
        )
    for label, dst, code in (
        ("a user folder", "mine", (2,)),
        ("a file", "notes.txt", (2,)),
        ("an empty folder", "empty", (0,)),
        ("a new folder", "site", (0,)),
        ("the release itself", "REL", (2,)),
        ("under a file", "notes.txt/site", (2,)),
    ):
        cases.append(
            Case(
                f"preview --out {label}",
                lambda e, w, d=dst: [
                    "preview",
                    str(w / "rel"),
                    "--out",
                    str(w / "rel" if d == "REL" else w / d),
                ],
                codes=code,
                setup=_copy_release,
                out=None if dst in ("mine", "notes.txt", "empty", "REL") else dst,
            )
        )
    for label, dst, code in (
        ("a user folder", "mine", (0, 2)),
        ("under a file", "notes.txt/c.png", (2,)),
        ("markup name", "c[/]x.png", (0,)),
    ):
        cases.append(
            Case(
                f"cover --out {label}",
                lambda e, w, d=dst: ["cover", good(e, w), "--size", "64", "--out", str(w / d)],
                codes=code,
                out=None if dst == "mine" else dst,
            )
        )
    cases.append(
        Case(
            "release --out a user folder",
            lambda e, w: ["release", _spec(e, w, "good"), "--network", "memory", "--out", str(w / "mine")],
            codes=(2,),
        )
    )
    cases.append(
        Case(
            "release --out a file",
            lambda e, w: ["release", _spec(e, w, "good"), "--network", "memory",
                          "--out", str(w / "notes.txt")],
            codes=(2,),
        )
    )
    return cases


def _copy_release(e: Env, w: Path) -> None:
    import shutil

    shutil.copytree(e.release, w / "rel")


def _spec(e: Env, w: Path, variant: str) -> str:
    """Write a spec into the work folder; ``good`` is a valid one-track spec."""
    if variant == "good":
        text: str | bytes = hc.SPEC_BASE.format(collection="", mix=e.corpus["good.wav"], track="")
    else:
        text = hc.spec_text(variant, e.corpus, e.stems, e.text_png)
    p = w / "spec.toml"
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return str(p)


def spec_cases() -> list[Case]:
    cases = [
        Case(
            f"release spec: {name}",
            lambda e, w, n=name: [
                "release",
                _spec(e, w, n),
                "--network",
                "memory",
                "--out",
                str(w / "out"),
                "--no-preview",
            ],
            codes=(0, 2) if hc.SPEC_VARIANTS[name].get("valid") else (2,),
            out="out",
            tags={"release"},
        )
        for name in hc.SPEC_VARIANTS
    ]
    cases += [
        Case(
            "release spec is a folder",
            lambda e, w: ["release", str(w / "mine"), "--network", "memory"],
            codes=(2,),
        ),
        Case(
            "release spec missing",
            lambda e, w: ["release", str(w / "nope.toml"), "--network", "memory"],
            codes=(2,),
        ),
        Case(
            "release bad network",
            lambda e, w: ["release", _spec(e, w, "good"), "--network", "bogus", "--out", str(w / "out")],
            codes=(2,),
            out="out",
        ),
        Case(
            "release url without chain id",
            lambda e, w: ["release", _spec(e, w, "good"), "--network", "http://127.0.0.1:9",
                          "--out", str(w / "out")],
            codes=(2,),
            out="out",
        ),
        Case(
            "release cover size 1",
            lambda e, w: ["release", _spec(e, w, "good"), "--cover-size", "1"],
            codes=(2,),
        ),
        Case(
            "release missing keystore",
            lambda e, w: ["release", _spec(e, w, "good"), "--keystore", str(w / "nope.json")],
            codes=(2,),
        ),
    ]
    sale_set = ["sale", "set", DEV, "-t", "1"]
    cases += [
        _writing(f"video {name}", "video", name, "v.mp4", "--size", "64x64", "--fps", "2")
        for name in ("garbage.wav", "empty.wav", "nan.wav", "missing.wav", "folder.wav")
    ]
    cases += [
        _writing("video --size odd", "video", "good.wav", "v.mp4", "--size", "63x63"),
        _writing("video --size junk", "video", "good.wav", "v.mp4", "--size", "x"),
        _writing("video --fps nan", "video", "good.wav", "v.mp4", "--fps", "nan"),
        Case(
            "video --out a user folder",
            lambda e, w: ["video", str(e.corpus["good.wav"]), "--out", str(w / "mine")],
        ),
        Case(
            "video --cover text",
            lambda e, w: ["video", str(e.corpus["good.wav"]), "--cover", str(e.text_png),
                          "--out", str(w / "v.mp4")],
            out="v.mp4",
        ),
        _writing("separate garbage", "separate", "garbage.wav", "s"),
        Case(
            "separate no model",
            lambda e, w: ["separate", str(e.corpus["good.wav"]), "--out", str(w / "s"),
                          "--model", str(w / "nope")],
            out="s",
        ),
        Case(
            "separate --out a file",
            lambda e, w: ["separate", str(e.corpus["good.wav"]), "--out", str(w / "notes.txt")],
        ),
        _writing("transcribe garbage", "transcribe", "garbage.wav", "t"),
        _writing("transcribe silent", "transcribe", "silent.wav", "t"),
        _writing("transcribe --bpm nan", "transcribe", "good.wav", "t", "--bpm", "nan"),
        Case("freeze no contract", _journalled("freeze", DEV, "-t", "1")),
        Case("freeze not an address", lambda e, w: ["freeze", "0xdead", "-t", "1", "-n", "memory"]),
        Case("splits create bad payee", _journalled("splits", "create", "--payee", "x:y")),
        Case("splits create 95 percent", _journalled("splits", "create", "--payee", f"{DEV}:95%")),
        Case("splits create zero payee", _journalled("splits", "create", "--payee", f"{hc.ZERO}:100%")),
        Case("splits info not an address", lambda e, w: ["splits", "info", "nope", "-n", "memory"]),
        Case("splits info no contract", lambda e, w: ["splits", "info", DEV, "-n", "memory"]),
        Case("splits withdraw no contract", lambda e, w: ["splits", "withdraw", DEV, "-n", "memory"]),
        Case("sale info no contract", lambda e, w: ["sale", "info", DEV, "-t", "1", "-n", "memory"]),
        Case("sale set bad price", _journalled(*sale_set, "--price", "lots")),
        Case("sale set nan price", _journalled(*sale_set, "--price", "nan eth")),
        Case(
            "sale set end before start",
            _journalled(*sale_set, "--price", "0.01 eth", "--start", "2030-01-02T00:00:00Z",
                        "--end", "2030-01-01T00:00:00Z"),
        ),
        Case(
            "sale set allowlist junk",
            lambda e, w: _journalled(*sale_set, "--price", "0.01 eth", "--allowlist",
                                     str(e.corpus["garbage.wav"]))(e, w),
        ),
        Case("sale pause no contract", _journalled("sale", "pause", DEV, "-t", "1")),
    ]
    return cases


def _ok_spec(e: Env, w: Path, title: str, track: str = "") -> str:
    p = w / "spec.toml"
    p.write_text(
        hc.SPEC_BASE.format(collection="royalty_bps = 250", mix=e.corpus["good.wav"], track=track).replace(
            'title = "One"', f"title = {json.dumps(title)}"
        ),
        encoding="utf-8",
    )
    return str(p)


def release_cases() -> list[Case]:
    """Full releases on the in-memory chain (the slow part: a few, small)."""
    return [
        Case(
            "release AC[/]DC --json",
            lambda e, w: [
                "release",
                _ok_spec(e, w, "AC[/]DC"),
                "--network",
                "memory",
                "--out",
                str(w / "o[/x]"),
                "--cover-size",
                "256",
                "--json",
            ],
            codes=(0,),
        ),
        Case(
            "release mono stems, Cyrillic title",
            lambda e, w: [
                "release",
                _ok_spec(e, w, "Ночь", f'stems = "{e.stems["stems-mono"]}"'),
                "--network",
                "memory",
                "--out",
                str(w / "out"),
                "--cover-size",
                "256",
                "--json",
                "--no-preview",
            ],
            codes=(0,),
        ),
    ]


def option_cases() -> list[Case]:
    """Option values out of range, non-finite, of the wrong type, for every command."""
    good = _a("good.wav")
    g = ["generate", "house", "--seconds", "2", "--seed", "1"]
    gen = [
        ["--seconds", "nan"],
        ["--seconds", "inf"],
        ["--seconds", "-1"],
        ["--seconds", "0"],
        ["--seconds", "1e308"],
        ["--seconds", "abc"],
        ["--bpm", "0"],
        ["--bpm", "-5"],
        ["--bpm", "1e9"],
        ["--bpm", "nan"],
        ["--key", "H# minor"],
        ["--key", ""],
        ["--key", "夜"],
        ["--count", "0"],
        ["--count", "1000"],
        ["--seed", "-1"],
        ["--seed", str(2**70)],
        ["--genre", "nosuch"],
        ["--bars", "0"],
        ["--param", "=x"],
        ["--param", "x"],
        ["--param", "seconds=1e9"],
        ["--format", "xyz"],
        ["--lufs", "5"],
        ["--lufs", "-200"],
        ["--engine", "musicgen"],
        ["--engine", "dance-diffusion"],
        ["--engine", "nosuch"],
        ["--title", "[/]"],
        ["--title", "../../x"],
        ["--param", "swing=nan"],
    ]
    cases = [
        Case(f"generate {' '.join(a)}", lambda e, w, a=a: [*g, *a, "--out", str(w / "t")], out="t")
        for a in gen
    ]
    cases += _each_value(
        "convert", lambda e, w: ["audio", "convert", good(e, w), str(w / "o.wav")],
        [["--rate", "0"], ["--rate", "1"], ["--rate", str(10**9)], ["--channels", "0"], ["--channels", "65"],
         ["--channels", "3"], ["--bit-depth", "8"], ["--mp3", "999k"]],
        out="o.wav",
    )
    cases += _each_value(
        "normalize", lambda e, w: ["audio", "normalize", good(e, w), "-o", str(w / "n.wav")],
        [["--lufs", "5"], ["--lufs", "-200"], ["--true-peak", "10"], ["--true-peak", "-100"],
         ["--lufs", "nan"], ["--true-peak", "-inf"]],
        out="n.wav",
    )
    cases += _each_value(
        "cover", lambda e, w: ["cover", good(e, w), "--size", "64", "--out", str(w / "c.png")],
        [["--size", "1"], ["--size", "100000"], ["--seed", "-1"], ["--style", "nosuch"],
         ["--title", "AC[/]DC"], ["--style", "diffusion"], ["--audio", "nope.wav"]],
        out="c.png",
    )
    cases += _each_value(
        "continue", lambda e, w: ["continue", good(e, w), "--seconds", "1", "--out", str(w / "t")],
        [["--seconds", "nan"], ["--seconds", "0"], ["--temperature", "-1"], ["--order", "0"],
         ["--engine", "musicgen"], ["--top-p", "2"], ["--model", "x"], ["--corpus", "nope"]],
        out="t",
    )
    cases += _each_value(
        "preview", lambda e, w: ["preview", str(w / "rel")],
        [["--port", "-1"], ["--port", "70000"], ["--port", "x"]],
        setup=_copy_release,
    )
    deploy = ["contract", "deploy"]
    cases += [
        Case("traits -j 0", lambda e, w: ["traits", good(e, w), "-j", "0"]),
        Case(
            "traits --stems with two files",
            lambda e, w: ["traits", good(e, w), good(e, w), "--stems-dir", str(e.stems["stems-mono"])],
        ),
        Case(
            "traits a folder of junk",
            lambda e, w: ["traits", str(e.corpus["good.wav"].parent)],
            tags={"multi"},
        ),
        Case("traits only junk", lambda e, w: ["traits", str(e.junk)], tags={"multi"}),
        Case("traits an empty folder", lambda e, w: ["traits", str(w / "empty")]),
        Case(
            "train an empty folder",
            lambda e, w: ["train", str(w / "empty"), "--out", str(w / "m"), "--steps", "1"],
            out="m",
            tags={"logs"},
        ),
        Case(
            "train a junk folder",
            lambda e, w: [
                "train",
                str(e.junk),
                "--out",
                str(w / "m"),
                "--steps",
                "1",
                "--preset",
                "tiny",
            ],
            out="m",
            tags={"logs"},
        ),
        Case(
            "train lr nan",
            lambda e, w: ["train", str(w / "empty"), "--out", str(w / "m"), "--lr", "nan"],
            out="m",
            tags={"logs"},
        ),
        Case("models list", lambda e, w: ["models", "list"]),
        Case(
            "models convert garbage",
            lambda e, w: ["models", "convert", str(e.corpus["garbage.wav"]), str(w / "m")],
            out="m",
        ),
        Case(
            "models convert missing",
            lambda e, w: ["models", "convert", str(w / "nope.ckpt"), str(w / "m")],
            out="m",
        ),
        Case("doctor --json", lambda e, w: ["doctor", "--json"]),
        Case("verify nothing", lambda e, w: ["verify", str(w / "empty")], codes=(2,)),
        Case("verify a user file", lambda e, w: ["verify", str(w / "notes.txt")], codes=(2,)),
        Case("verify ipfs uri not here", lambda e, w: ["verify", "ipfs://bafy/metadata/x.json"], codes=(2,)),
        Case(
            "verify the fixture release",
            lambda e, w: ["verify", str(w / "rel"), "--no-render"],
            codes=(0, 2, 3),
            setup=_copy_release,
        ),
        Case("contract info not an address", lambda e, w: ["contract", "info", "0xdead", "-n", "memory"]),
        Case("contract info no contract", lambda e, w: ["contract", "info", DEV, "-n", "memory"]),
        Case("contract deploy empty name", _journalled(*deploy, "--name", "", "--symbol", "")),
        Case(
            "contract deploy zero receiver",
            _journalled(*deploy, "--name", "AC[/]DC", "--symbol", "X", "--royalty-bps", "500",
                        "--royalty-receiver", hc.ZERO),
        ),
        Case("contract deploy markup name", _journalled(*deploy, "--name", "AC[/]DC", "--symbol", "X[/]")),
        Case("mint bad token spec", _journalled("mint", DEV, "-t", "x:y:z")),
        Case("mint no contract", _journalled("mint", DEV, "-t", "1:1:1")),
        Case(
            "mint journal is a user file",
            lambda e, w: ["mint", DEV, "-t", "1:1:1", "-n", "memory", "--journal", str(w / "notes.txt")],
        ),
        Case("mint bad network", lambda e, w: ["mint", DEV, "-t", "1:1:1", "-n", "ftp://x"]),
        Case("chain status", lambda e, w: ["chain", "status", "--json"]),
    ]
    return cases


def new_command_cases() -> list[Case]:
    """`check` over every spec variant; `init` and `train-symbolic` with bad folders and options."""
    cases = [
        Case(
            f"check spec: {name}",
            lambda e, w, n=name: ["check", _spec(e, w, n)],  # headers only: a NaN mix passes check
        )
        for name in hc.SPEC_VARIANTS
    ]
    cases += [
        Case("init no --from", lambda e, w: ["init", str(w / "c.toml")], codes=(2,), out="c.toml"),
        Case("init --from missing", lambda e, w: ["init", str(w / "c.toml"), "--from", str(w / "nope")],
             codes=(2,), out="c.toml"),
        Case("init --from an empty folder",
             lambda e, w: ["init", str(w / "c.toml"), "--from", str(w / "mine")],
             codes=(2,), out="c.toml", setup=lambda e, w: (w / "mine").mkdir(exist_ok=True)),
        Case("init --csv missing", lambda e, w: ["init", str(w / "c.toml"), "--from", str(w / "mine"),
                                                 "--csv", str(w / "no.csv")],
             codes=(2,), out="c.toml", setup=lambda e, w: (w / "mine").mkdir(exist_ok=True)),
        Case("init --cap 0", lambda e, w: ["init", str(w / "c.toml"), "--example", "--cap", "0"],
             codes=(2,), out="c.toml"),
        Case("train-symbolic --config nope", lambda e, w: ["train-symbolic", "--config", "nope",
                                                            "--out", str(w / "run")], codes=(2,), out="run"),
        Case("train-symbolic --steps 0",
             lambda e, w: ["train-symbolic", "--steps", "0", "--out", str(w / "run")],
             codes=(2,), out="run"),
        Case("train-symbolic --corpus not a corpus",
             lambda e, w: ["train-symbolic", "--corpus", str(w / "bad.npz"), "--build-only",
                           "--out", str(w / "r")],
             codes=(2,), out="r", setup=lambda e, w: (w / "bad.npz").write_bytes(b"not a zip")),
    ]
    return cases


CASES = (audio_cases() + path_cases() + spec_cases() + option_cases() + release_cases()
         + new_command_cases())
# every command `songmint --help` lists appears in the corpus
_COVERED = {c.id.split()[0] for c in CASES} | {"audio"}


def test_the_corpus_covers_every_command_with_150_inputs() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 150
    listed = set(COMMANDS)
    words = {w for c in CASES for w in c.id.replace(":", " ").split()}
    assert listed <= words | _COVERED, sorted(listed - words - _COVERED)


SLOW = (
    "vary ",
    "interpolate ",
    "train ",
    "models convert",
    "release AC",
    "release mono",
    "doctor",
    "video ",
    "separate ",
    "transcribe ",
)
"""Cases that import torch or run a whole release: marked ``slow`` (still in the default suite)."""


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.id.startswith(SLOW) else []) for c in CASES],
)
def test_hostile_input(case: Case, env: Env, tmp_path: Path) -> None:
    run_case(case, env, tmp_path / "work")


# --------------------------------------------------------------------------- property-based


def _json_values() -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False),
        st.text(max_size=12),
        st.sampled_from(["../../etc/passwd", "/etc/passwd", "0" * 64, "AC[/]DC"]),
    )
    return st.recursive(
        leaf,
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
        max_leaves=6,
    )


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            out += _paths(v, (*prefix, i))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    doc[path[0]] = _set(doc[path[0]], path[1:], value)
    return doc


HYPO = settings(
    max_examples=12 * SWEEP,
    deadline=None,
    derandomize=SWEEP == 1,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@HYPO
@given(data=st.data())
def test_mutated_manifests(env: Env, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    """A manifest with any one value replaced by any JSON value: preview and verify exit 0/2(/3)."""
    manifest = json.loads((env.release / "manifest.json").read_text())
    paths = _paths(manifest)
    path = data.draw(st.sampled_from(paths), label="path")
    value = data.draw(_json_values(), label="value")
    mutated = _set(json.loads(json.dumps(manifest)), path, value)
    work = tmp_path_factory.mktemp("manifest")

    def setup(e: Env, w: Path) -> None:
        _copy_release(e, w)
        (w / "rel" / "manifest.json").write_text(json.dumps(mutated))

    run_case(
        Case(
            "preview mutated",
            lambda e, w: ["preview", str(w / "rel"), "--out", str(w / "site")],
            setup=setup,
            out="site",
        ),
        env,
        work / "p",
    )
    run_case(
        Case(
            "verify mutated",
            lambda e, w: ["verify", str(w / "rel"), "--no-render", "--no-chain"],
            codes=(0, 2, 3),
            setup=setup,
        ),
        env,
        work / "v",
    )


@HYPO
@given(value=st.one_of(st.floats(), st.integers(-(10**12), 10**12).map(str), st.text(max_size=8)))
def test_any_option_value(env: Env, tmp_path_factory: pytest.TempPathFactory, value: Any) -> None:
    """Any number or text as --lufs, --true-peak, --rate, --seconds: exit 0 or 2, one line."""
    text = str(value)
    work = tmp_path_factory.mktemp("opt")
    good = str(env.corpus["mono.wav"])
    for i, argv in enumerate(
        (
            ["audio", "normalize", good, "-o", "{w}/n.wav", "--lufs", text],
            ["audio", "normalize", good, "-o", "{w}/n.wav", "--true-peak", text],
            ["audio", "convert", good, "{w}/o.wav", "--rate", text],
            ["generate", "--seconds", text, "--bars", "1", "--out", "{w}/g"],
        )
    ):
        run_case(
            Case(f"option {argv[1]} {text!r}", lambda e, w, a=argv: [x.format(w=w) for x in a], out=None),
            env,
            work / str(i),
        )


@HYPO
@given(
    name=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"), min_size=1, max_size=80
    )
)
def test_any_output_name(env: Env, tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    """Any file name (markup, unicode, dots, spaces) as the output of convert: 0 or 2, and nothing else."""
    work = tmp_path_factory.mktemp("name")
    run_case(
        Case(
            f"convert to {name!r}",
            lambda e, w: ["audio", "convert", str(e.corpus["mono.wav"]), str(w / f"{name}.wav")],
        ),
        env,
        work / "w",
    )
