"""`songmint release` end to end on the in-memory chain: outputs, idempotence, dry run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from minting.car import verify_car
from music.thumbnail import preview_clip, representative_start
from songmint.cli import main
from songmint.release import Options, run_release
from songmint.spec import load_spec
from tests import synth
from tests.release_fixture import make_spec


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory, release_cache: Path) -> tuple[Path, Path, str]:
    folder = tmp_path_factory.mktemp("spec")
    spec = make_spec(folder, extra='\n[storage]\nbackend = "local"\npath = "store"\n')
    out = folder / "out"
    result = CliRunner().invoke(main, ["release", str(spec), "--out", str(out), "--cover-size", "256"])
    assert result.exit_code == 0, result.output
    return spec, out, result.output


def test_outputs_and_manifest(released: tuple[Path, Path, str]) -> None:
    _, out, text = released
    for rel in (
        "manifest.json",
        "collection.json",
        "release.car",
        "assets",
        "metadata",
        "preview/index.html",
    ):
        assert (out / rel).exists(), rel
    m = json.loads((out / "manifest.json").read_text())
    assert m["chain"]["network"] == "memory" and re.fullmatch(r"0x[0-9a-fA-F]{40}", m["chain"]["contract"])
    assert [t["title"] for t in m["tokens"]] == ["Alpha", "Beta"]
    alpha, beta = m["tokens"]
    assert (alpha["cap"], alpha["minted"], beta["cap"], beta["minted"]) == (10, 3, 5, 1)
    assert alpha["recipient"] == m["chain"]["account"]
    assert {
        "lossless",
        "mix",
        "preview",
        "cover",
        "cover_thumbnail",
        "player",
        "stem:drums",
        "stem_lossless:chords",
    } <= set(alpha["assets"])
    assert "stem:drums" not in beta["assets"]
    kinds = [tx["kind"] for tx in m["transactions"]]
    assert kinds == ["deploy", "prefix", "create"]
    assert all(re.fullmatch(r"0x[0-9a-f]{64}", tx["hash"]) for tx in m["transactions"])
    assert alpha["txs"] == [m["transactions"][-1]["hash"]]
    # metadata/<64 hex>.json, URIs under the root CID, which is the CAR's root
    assert alpha["metadata_path"] == f"metadata/{alpha['id']:064x}.json"
    assert alpha["metadata_uri"] == f"ipfs://{m['root_cid']}/{alpha['metadata_path']}"
    assert [str(r) for r in verify_car(out / "release.car").roots] == [m["root_cid"]]
    for a in m["assets"]:
        assert (out / a["path"]).is_file() and len(a["sha256"]) == 64 and a["cid"].startswith("baf")
    # the summary table names the tokens
    assert "Alpha" in text and "Beta" in text


def test_metadata_document(released: tuple[Path, Path, str]) -> None:
    _, out, _ = released
    m = json.loads((out / "manifest.json").read_text())
    doc = json.loads((out / m["tokens"][0]["metadata_path"]).read_text())
    assert doc["name"] == "Alpha" and doc["image"].startswith("ipfs://baf")
    assert doc["animation_url"].endswith("/player.html")
    assert doc["losslessAudio"].startswith("ipfs://") and doc["trackNumber"] == 1
    roles = {a["role"] for a in doc["properties"]["assets"]}
    assert {"mix", "lossless", "preview", "cover", "player", "stem:drums"} <= roles
    assert all(set(a) >= {"uri", "mimeType", "sha256", "cid", "size"} for a in doc["properties"]["assets"])
    traits = {a["trait_type"]: a["value"] for a in doc["attributes"]}
    assert traits["Artist"] == "Fixture" and "Key" in traits and "Tempo (BPM)" in traits
    assert "score" in doc["properties"]["rarity"]
    coll = json.loads((out / "collection.json").read_text())
    assert coll["name"] == "Fixture EP" and coll["seller_fee_basis_points"] == 250
    player = (out / m["tokens"][0]["assets"]["player"]).read_text()
    assert "SongmintPlayer" in player and "<link" not in player


def test_rerun_is_cached_and_identical(released: tuple[Path, Path, str], release_cache: Path) -> None:
    spec, out, _ = released
    before = json.loads((out / "manifest.json").read_text())
    # leftovers of an earlier, different spec must not end up in the published tree
    (out / "assets" / "old-track").mkdir()
    (out / "assets" / "old-track" / "stale.mp3").write_bytes(b"stale")
    (out / "metadata" / f"{7:064x}.json").write_text("{}")
    lines: list[str] = []
    opts = Options(out=out, cover_size=256, build_preview=False, cache_dir=release_cache)
    after = run_release(spec, opts, log=lines.append)
    assert after["root_cid"] == before["root_cid"]
    assert not (out / "assets" / "old-track").exists() and not (out / "metadata" / f"{7:064x}.json").exists()
    assert [a["sha256"] for a in after["assets"]] == [a["sha256"] for a in before["assets"]]
    assert sum("cached" in line for line in lines) >= 6  # generate, traits, cover for both tracks


def test_dry_run_sends_nothing(released: tuple[Path, Path, str], tmp_path: Path) -> None:
    spec, _, _ = released
    lines: list[str] = []
    m = run_release(
        spec,
        Options(out=tmp_path / "dry", cover_size=256, dry_run=True, build_preview=False),
        log=lines.append,
    )
    assert m["dry_run"] is True and m["chain"] == {} and m["transactions"] == []
    assert [s["kind"] for s in m["plan"]["txs"]] == ["deploy", "prefix", "create"]
    assert all(s["gas"] > 20_000 for s in m["plan"]["txs"])
    assert m["plan"]["total_gas"] == sum(s["gas"] for s in m["plan"]["txs"])
    assert all(t["minted"] is None for t in m["tokens"])
    assert any("nothing was sent" in line for line in lines)
    assert not (tmp_path / "dry" / ".songmint").exists()  # no journal: nothing to resume


def test_bad_spec_is_one_line_exit_2(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    spec.write_text(spec.read_text().replace('file = "beta.wav"', 'file = "nope.wav"'))
    result = CliRunner().invoke(main, ["release", str(spec), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "tracks[1].file" in result.output and "no file at" in result.output
    assert not (tmp_path / "o").exists()


def test_representative_section() -> None:
    # 10 s of a repeated pattern with a 4 s odd section in front: the excerpt skips it.
    odd = synth.noise(seconds=4.0, amp=0.5)
    body = synth.mix(synth.drums(bpm=120, bars=5), synth.chord(seconds=10.0))
    import numpy as np

    from music.audio import Audio

    audio = Audio(np.concatenate([odd.samples, body.samples], axis=1), 44_100)
    assert representative_start(audio, 5.0) >= 3.5
    clip, start = preview_clip(audio, 5.0)
    assert start == representative_start(audio, 5.0)
    assert abs(clip.duration - 5.0) < 0.01 and np.abs(clip.samples[:, 0]).max() == 0.0  # faded in
    assert representative_start(body, 30.0) == 0.0


def test_token_ids_in_manifest_follow_the_spec(released: tuple[Path, Path, str]) -> None:
    spec, out, _ = released
    m = json.loads((out / "manifest.json").read_text())
    assert [t["id"] for t in m["tokens"]] == load_spec(spec).token_ids()


def test_local_storage_backend_holds_the_release(released: tuple[Path, Path, str]) -> None:
    spec, out, _ = released
    m = json.loads((out / "manifest.json").read_text())
    store = spec.parent / "store"
    assert (store / "pins" / m["root_cid"]).exists()
    assert (store / "blocks" / m["tokens"][0]["metadata_cid"]).is_file()


def test_remote_network_needs_yes(released: tuple[Path, Path, str], tmp_path: Path) -> None:
    """Without --yes a non-local network gets the plan printed and nothing sent (the RPC is never contacted
    for sending: the plan is simulated in memory for a new contract)."""
    spec, _, _ = released
    result = CliRunner().invoke(
        main,
        [
            "release",
            str(spec),
            "--out",
            str(tmp_path / "o"),
            "--cover-size",
            "256",
            "--no-preview",
            "--network",
            "https://rpc.invalid",
            "--chain-id",
            "8453",
        ],
    )
    assert result.exit_code == 2
    assert "would send" in result.output and "run again with --yes" in result.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--chain-id", "8453", "--yes"], "cannot reach"), (["--chain-id", "31337"], "cannot reach"),
     ([], "needs its expected chain id")],
    ids=["unreachable", "unreachable-local-dev-chain", "no-chain-id"],
)
def test_unusable_network_fails_before_any_work(tmp_path: Path, extra: list[str], message: str) -> None:
    """An unreachable node (or a URL without its chain id) is a one-line error before anything is
    generated: no output folder is written."""
    spec = make_spec(tmp_path)
    out = tmp_path / "o"
    result = CliRunner().invoke(
        main, ["release", str(spec), "--out", str(out), "--network", "http://127.0.0.1:9", *extra]
    )
    assert result.exit_code == 2 and message in result.output, result.output
    assert "[1/8]" not in result.output and not out.exists()


def test_refuses_a_foreign_output_folder(released: tuple[Path, Path, str], tmp_path: Path) -> None:
    spec, _, _ = released
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(main, ["release", str(spec), "--out", str(tmp_path), "--dry-run"])
    assert result.exit_code == 2 and "holds no release" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]



def test_a_take_another_release_cached_first_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two releases sharing one cache render the same take at once: the one that finishes second
    must not replace the folder the first one wrote (and may be reading) — it uses it."""
    from music.takes import write_take
    from songmint.release import tokens
    from songmint.release.cache import Cache

    spec = load_spec(make_spec(tmp_path / "spec"))
    track = spec.tracks[0]
    cache = Cache(tmp_path / "cache")
    folder = cache.path("takes", tokens.take_key(track))
    real = tokens.render_take

    def render_while_another_release_writes(t, *args):  # type: ignore[no-untyped-def]
        take = real(t, *args)
        write_take(take, folder, title=t.title, fmt="wav", wav_depth="float")  # the other release wins
        (folder / "reader-was-here").write_text("open files of the other release")
        return take

    monkeypatch.setattr(tokens, "render_take", render_while_another_release_writes)
    take, hit = tokens.load_take(track, cache)
    assert not hit and take.mix.n > 0
    assert (folder / "reader-was-here").exists()  # the first writer's folder was not replaced
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # our copy was removed


def test_every_place_tempo_and_key_appear_agree(tmp_path: Path, release_cache: Path) -> None:
    """One musical truth per token: attributes, music-NFT fields, properties, file names, the
    manifest entry (preview) and the player all show the declared tempo and key; stem tokens wear
    their track's; a declared key keeps its spelling; the measurement stays in properties."""
    from music.traits import camelot, open_key

    folder = tmp_path / "spec"
    spec = make_spec(folder)
    text = spec.read_text().replace(
        'stems = "alpha-stems"', 'stems = "alpha-stems"\nstems_as_tokens = true\nbpm = 120\nkey = "Eb minor"'
    )
    spec.write_text(text)
    lines: list[str] = []
    m = run_release(spec, Options(out=tmp_path / "out", cover_size=256, build_preview=False,
                                  cache_dir=release_cache), log=lines.append)
    out = tmp_path / "out"
    alpha = [t for t in m["tokens"] if t["track"] == "alpha"]
    assert len(alpha) == 3  # the track and its two stems
    for t in alpha:
        doc = json.loads((out / t["metadata_path"]).read_text())
        attrs = {a["trait_type"]: a["value"] for a in doc["attributes"]}
        assert attrs["Tempo (BPM)"] == 120 and doc["bpm"] == 120 and t["bpm"] == 120
        assert "Tempo (or) (BPM)" not in attrs and "Key (or)" not in attrs  # declared: no runner-up
        assert attrs["Key"] == "Eb minor" == t["key"] == doc["properties"]["musical_key"]
        assert attrs["Camelot"] == camelot("Eb minor") == t["camelot"]
        assert attrs["Open Key"] == open_key("Eb minor") == doc["key"]
        facts = doc["properties"]["musical_facts"]
        assert facts["sources"] == {"bpm": "spec", "key": "spec", "mood": "measured"}
        assert "key" in facts["measured"]  # what the analyser heard, for reference
        shown = {x["key"]: x["display"] for x in t["traits"]}
        assert shown["tempo_bpm"] == "120 BPM" and shown["key"] == "Eb minor"
        for rel in t["assets"].values():
            if rel.endswith((".mp3", ".flac")):
                assert "_120bpm_Eb-minor" in rel
        player = (out / t["assets"]["player"]).read_text()
        assert '"bpm":120' in player and '"key":"Eb minor"' in player
    # the fixture's alpha is an A-minor chord loop: the declared Eb minor is contradicted, and said
    assert any(line.startswith("warning: alpha: key declared Eb minor (spec)") for line in lines)
    from songmint.verify import verify_release

    rows = [r for r in verify_release(out, rerender=False, chain=False).rows if r["check"] == "facts"]
    assert len(rows) == len(m["tokens"]) and not [r for r in rows if r["status"] == "mismatch"]
    assert any("measured" in r["detail"] for r in rows if r["subject"] == "Alpha")  # verify reports it
    doc_path = out / alpha[0]["metadata_path"]  # a Tempo attribute edited after the release is caught
    doc = json.loads(doc_path.read_text())
    tempo = {"value": 240}
    doc["attributes"] = [a | (tempo if a["trait_type"] == "Tempo (BPM)" else {}) for a in doc["attributes"]]
    doc_path.write_text(json.dumps(doc))
    bad = [r for r in verify_release(out, rerender=False, chain=False).mismatches if r["check"] == "facts"]
    assert bad and "Tempo attribute 240" in bad[0]["detail"]


def test_a_first_run_that_fails_leaves_no_output_folder(tmp_path: Path) -> None:
    """A mix that only fails when decoded (an MP3 of noise bytes: no header to check up front)
    stops the release at stage 1; the output folder it created is gone, not half-written."""
    spec = make_spec(tmp_path / "spec")
    (tmp_path / "spec" / "beta.mp3").write_bytes(b"\xff\xfb" + bytes(range(256)) * 40)
    spec.write_text(spec.read_text().replace('file = "beta.wav"', 'file = "beta.mp3"'))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["release", str(spec), "--out", str(out), "--cover-size", "256"])
    assert r.exit_code == 2, r.output
    assert len(r.stderr.strip().splitlines()) == 1 and "beta.mp3" in r.stderr
    assert not out.exists()
