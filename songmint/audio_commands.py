"""``songmint audio``: inspect, convert and loudness-normalise audio files."""

from __future__ import annotations

from pathlib import Path

import click

from music import audio as audio_io
from music import loudness
from music.errors import AudioError
from songmint.console import json_option, output, print_json, print_table


@click.group()
def audio() -> None:
    """Inspect, convert and normalise audio files."""


@audio.command("info")
@click.argument("file", type=click.Path(path_type=Path))
@json_option
def info(file: Path, as_json: bool) -> None:
    """Format, rate, channels, duration, LUFS and true peak of FILE."""
    a = audio_io.load(file)
    facts = audio_io.info(file)
    m = loudness.measure(a)
    report = {
        "path": str(file),
        "format": facts.get("format"),
        "subtype": facts.get("subtype"),
        "sample_rate": a.sr,
        "channels": a.channels,
        "duration_s": round(a.duration, 4),
        "loudness_lufs": m.integrated_lufs,
        "loudness_range_lu": m.range_lu,
        "true_peak_dbtp": m.true_peak_dbtp,
        "sample_peak_dbfs": m.sample_peak_dbfs,
    }
    if as_json:
        print_json(report)
    else:
        print_table(None, [{"field": k, "value": v} for k, v in report.items()])


_FMT_OPTIONS = [
    click.option("--bit-depth", type=click.Choice(["16", "24", "float"]), default="24",
                 show_default=True, help="WAV/FLAC sample format."),
    click.option("--mp3", "mp3_quality", type=click.Choice(["320k", "v0"]), default="320k",
                 show_default=True, help="MP3 encoding: CBR 320 kb/s or LAME V0."),
]


def _format_options(f):  # type: ignore[no-untyped-def]
    for opt in reversed(_FMT_OPTIONS):
        f = opt(f)
    return f


def _encode_kwargs(bit_depth: str, mp3_quality: str) -> dict[str, object]:
    depth: object = bit_depth if bit_depth == "float" else int(bit_depth)
    return {"wav_depth": depth, "flac_depth": 16 if bit_depth == "16" else 24,
            "mp3_quality": mp3_quality}


@audio.command("convert")
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
@click.option("--rate", type=int, help="Resample to this rate (Hz).")
@click.option("--channels", type=int, help="Convert to this many channels.")
@_format_options
@json_option
def convert(src: Path, dst: Path, rate: int | None, channels: int | None, bit_depth: str,
            mp3_quality: str, as_json: bool) -> None:
    """Convert SRC to DST; the format follows DST's extension (wav, flac, mp3, opus, ogg)."""
    _check_destination(dst)  # fail before decoding on a folder or an unknown extension
    a = audio_io.conform(audio_io.load(src), sr=rate, channels=channels)
    audio_io.save(a, dst, **_encode_kwargs(bit_depth, mp3_quality))
    if as_json:
        ch, sr = _written_facts(dst, a)
        print_json({"path": str(dst), "sample_rate": sr, "channels": ch, "duration_s": round(a.duration, 6)})
    else:
        output().info(f"wrote {dst} ({_written(dst, a)})")


def _check_destination(dst: Path) -> str:
    """The format DST's extension asks for; a one-line error for a folder or an unknown extension."""
    audio_io.check_output_path(dst)
    return audio_io.format_for(dst)


def _written_facts(dst: Path, a: audio_io.Audio) -> tuple[int, int]:
    """Channels and rate of the file as written (MP3 and Opus encoders change them: at most
    stereo, Opus always 48 kHz), read back from its header."""
    facts = audio_io.info(dst)
    ch, sr = facts.get("channels"), facts.get("sample_rate")
    if not isinstance(ch, int) or not isinstance(sr, int):
        ch, sr = a.channels, a.sr
    return ch, sr


def _written(dst: Path, a: audio_io.Audio) -> str:
    """Channels, rate and length of the file as written."""
    ch, sr = _written_facts(dst, a)
    return f"{ch} ch, {sr} Hz, {a.duration:.2f} s"


@audio.command("normalize")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("-o", "--out", "dst", type=click.Path(path_type=Path), required=True,
              help="Output file; the format follows its extension.")
@click.option("--lufs", type=float, default=-14.0, show_default=True,
              help="Target integrated loudness (LUFS).")
@click.option("--true-peak", type=float, default=-1.0, show_default=True,
              help="True-peak ceiling (dBTP).")
@_format_options
@json_option
def normalize(src: Path, dst: Path, lufs: float, true_peak: float, bit_depth: str,
              mp3_quality: str, as_json: bool) -> None:
    """Normalise SRC to a loudness target under a true-peak ceiling and write it to OUT.

    Lossy outputs are decoded and re-measured after encoding; if the codec pushed the
    true peak over the ceiling, the gain is lowered and the file encoded again.
    """
    fmt = _check_destination(dst)
    a = audio_io.load(src)
    kwargs = _encode_kwargs(bit_depth, mp3_quality)
    ceiling = true_peak
    for _ in range(4):
        n = loudness.normalize(a, lufs=lufs, true_peak_dbtp=ceiling)
        data = audio_io.encode(n, fmt, **kwargs)  # type: ignore[arg-type]
        measured = _measure_encoded(data, dst.suffix)
        if measured.true_peak_dbtp <= true_peak or fmt in ("wav", "flac"):
            break
        ceiling -= measured.true_peak_dbtp - true_peak + 0.05
    with audio_io.atomic_path(dst) as tmp:
        tmp.write_bytes(data)
    report = {"path": str(dst), **measured.to_dict(), "target_lufs": lufs,
              "ceiling_dbtp": true_peak}
    if as_json:
        print_json(report)
    else:
        output().info(f"wrote {dst} ({_written(dst, n)}): {measured.integrated_lufs:.2f} LUFS, "
                      f"{measured.true_peak_dbtp:.2f} dBTP")


def _measure_encoded(data: bytes, suffix: str) -> loudness.Loudness:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="songmint-") as tmp:
        p = Path(tmp) / f"check{suffix}"
        p.write_bytes(data)
        try:
            return loudness.measure(audio_io.load(p))
        except AudioError as exc:  # pragma: no cover - our own encoder output should decode
            raise AudioError(f"the encoded output does not decode: {exc}") from exc
