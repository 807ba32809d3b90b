"""Embedded tags of audio files (title, artist, ISRC, credits …), read with ``tinytag``.

`tinytag <https://github.com/tinytag/tinytag>`_ (MIT, pure Python, no dependencies) reads
ID3 (MP3), Vorbis comments (FLAC, OGG, Opus), RIFF INFO and ID3 chunks (WAV), MP4 atoms
(M4A) and AIFF; it does not write, so tests write tags with ffmpeg's ``-metadata``.
Mutagen reads more but is GPL-2.0+, which an MIT project cannot require.

Fields, and where they come from (the first present wins):

========== =====================================================================
title      title
artist     artist, then album artist
album      album
genre      genre
isrc       ``ISRC`` (Vorbis/WAV) or ``TSRC`` (ID3), normalised to 12 characters
           (``US-AB1-24-00001`` → ``USAB12400001``); anything else is ignored
credits    composer, lyricist, producer, arranger, conductor, remixer, engineer,
           mixer: one ``{name, role}`` per name (several names split on ``;`` / ``/``)
track      track number (``2/10`` → 2), disc number
price      a ``PRICE`` tag (free text; a decimal such as ``0.01``)
comment    comment
========== =====================================================================

A WAV file's RIFF ``ISRC`` chunk means "source" in the RIFF spec; a value that is not a valid
ISRC is dropped, so a source note never becomes one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from music.errors import MusicError

ISRC_RE = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")
CREDIT_FIELDS = ("composer", "lyricist", "producer", "arranger", "conductor", "remixer", "engineer", "mixer")


@dataclass(frozen=True)
class Tags:
    """What a file's tags say about the recording (``None`` / empty where a tag is absent).

    Attributes
    ----------
    duration : float or None
        Seconds, from the stream header.
    samplerate, channels : int or None
        From the stream header.
    """

    title: str | None = None
    artist: str | None = None
    album: str | None = None
    genre: str | None = None
    isrc: str | None = None
    credits: tuple[dict[str, str], ...] = ()
    track: int | None = None
    disc: int | None = None
    price: str | None = None
    comment: str | None = None
    duration: float | None = None
    samplerate: int | None = None
    channels: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


def normalise_isrc(value: str | None) -> str | None:
    """The 12-character ISRC in ``value`` (hyphens, spaces and case ignored), or ``None``.

    >>> normalise_isrc("us-ab1-24-00001"), normalise_isrc("a source note")
    ('USAB12400001', None)
    """
    if not value:
        return None
    compact = re.sub(r"[\s\-]", "", value).upper()
    return compact if ISRC_RE.match(compact) else None


def read_tags(path: str | Path) -> Tags:
    """Read the embedded tags of the audio file at ``path``.

    Raises
    ------
    MusicError
        The file is missing or is not an audio format the tag reader knows.
    """
    from tinytag import TinyTag, TinyTagException

    p = Path(path)
    try:
        t = TinyTag.get(str(p))
    except FileNotFoundError as exc:
        raise MusicError(f"{p}: no such file") from exc
    except (TinyTagException, OSError, ValueError, KeyError, IndexError) as exc:
        why = " ".join(str(exc).split()) or type(exc).__name__
        raise MusicError(f"{p}: cannot read its tags ({why})") from exc
    other: dict[str, Any] = dict(t.other or {})

    def first(value: Any) -> str | None:
        if isinstance(value, list):
            value = value[0] if value else None
        if value is None:
            return None
        text = " ".join(str(value).split())
        return text or None

    def names(value: Any) -> list[str]:
        values = value if isinstance(value, list) else [value] if value else []
        return [n.strip() for v in values for n in re.split(r"\s*[;/]\s*", str(v)) if n.strip()]

    credits: list[dict[str, str]] = []
    for role in CREDIT_FIELDS:
        raw = getattr(t, role, None) if role == "composer" else other.get(role)
        for name in names(raw):
            if {"name": name, "role": role} not in credits:
                credits.append({"name": name, "role": role})
    return Tags(
        title=first(t.title),
        artist=first(t.artist) or first(t.albumartist),
        album=first(t.album),
        genre=first(t.genre),
        isrc=normalise_isrc(first(other.get("isrc")) or first(other.get("tsrc"))),
        credits=tuple(credits),
        track=t.track if isinstance(t.track, int) else None,
        disc=t.disc if isinstance(t.disc, int) else None,
        price=first(other.get("price")),
        comment=first(t.comment),
        duration=float(t.duration) if t.duration else None,
        samplerate=int(t.samplerate) if t.samplerate else None,
        channels=int(t.channels) if t.channels else None,
        extra={k: v for k, v in ((k, first(v)) for k, v in other.items()) if v is not None},
    )
