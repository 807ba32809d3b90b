"""music.stem_names: DAW stem file names → roles (numbering, spaces, case, unicode, collisions)."""

from __future__ import annotations

import pytest

from minting.assets import ROLE_PATTERN
from music.stem_names import ROLE_RE, stem_role, stem_roles


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("drums.wav", "drums"),
        ("01 Drums.wav", "drums"),
        ("01_Drums.wav", "drums"),
        ("01-Drums.wav", "drums"),
        ("1. Drums.wav", "drums"),
        ("(03) Keys.flac", "keys"),
        ("[2] Pad.aif", "pad"),
        ("#3 Pad.wav", "pad"),
        ("007 Bond.wav", "bond"),
        ("12 Strings.wav", "strings"),
        ("808 Bass.wav", "808-bass"),  # a three-digit number without a leading zero is part of the name
        ("07.wav", "07"),  # only a number: kept
        ("Lead Vocal (Dry).wav", "lead-vocal-dry"),
        ("LEAD  VOCAL.WAV", "lead-vocal"),
        ("Drums Stem.wav", "drums"),
        ("Drums_stems.wav", "drums"),
        ("Stems.wav", "stems"),
        ("Bäss.wav", "bass"),
        ("Straße.wav", "strasse"),
        ("ＤＲＵＭＳ.wav", "drums"),  # full-width letters (NFKD)
        ("Mix v1.2", "mix-v1-2"),  # ".2" is not an extension
        ("Lead Vocal (Dry)", "lead-vocal-dry"),
    ],
)
def test_stem_role(name: str, role: str) -> None:
    assert stem_role(name) == role
    assert ROLE_RE.match(role) and ROLE_PATTERN.match(f"stem:{role}")


def test_names_without_ascii_letters_get_a_stable_distinct_role() -> None:
    a, b = stem_role("ドラム.wav"), stem_role("ベース.wav")
    assert a.startswith("stem-") and b.startswith("stem-") and a != b
    assert stem_role("ドラム.flac") == a  # depends on the name, not the extension or the run
    assert ROLE_PATTERN.match(f"stem:{a}")


def test_long_names_are_cut_at_48_characters() -> None:
    role = stem_role("01 " + "very long stem name " * 6 + ".wav")
    assert len(role) <= 48 and not role.endswith("-") and ROLE_RE.match(role)


def test_collisions_get_numbered_suffixes_in_name_order() -> None:
    roles = stem_roles(["drums.flac", "Drums.wav", "02 Kick.wav", "01 Kick.wav", "kick-2.wav"])
    assert roles == {
        "01 Kick.wav": "kick",
        "02 Kick.wav": "kick-2",
        "Drums.wav": "drums",
        "drums.flac": "drums-2",
        "kick-2.wav": "kick-2-2",  # never a role another file already has
    }
    assert len(set(roles.values())) == len(roles)


def test_the_song_title_prefix_is_dropped() -> None:
    roles = stem_roles(
        ["Night Drive - Drums.wav", "night drive_Bass.wav", "Nîght Drive Lead Vocal.wav", "Pad.wav"],
        title="Night Drive",
    )
    assert roles == {
        "Night Drive - Drums.wav": "drums",
        "Nîght Drive Lead Vocal.wav": "lead-vocal",
        "Pad.wav": "pad",
        "night drive_Bass.wav": "bass",
    }
    # the title alone is not stripped to nothing
    assert stem_roles(["Night Drive.wav"], title="Night Drive") == {"Night Drive.wav": "night-drive"}


def test_paths_use_their_file_name() -> None:
    assert stem_roles(["stems/01 Drums.wav"]) == {"stems/01 Drums.wav": "drums"}
