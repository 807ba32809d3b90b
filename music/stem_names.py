"""Stem roles from the file names a DAW exports: ``01 Drums.wav`` → ``drums``.

A stem's *role* is the name the release uses for it: the asset role ``stem:<role>``, the
stem's file names and, with ``stems_as_tokens``, its token id. Roles are lowercase ASCII
words joined by hyphens, so that they are valid asset roles and file-name parts everywhere.
The original file name is kept by the caller (provenance); only the role is derived.

The normalisation (:func:`stem_role`), applied to the file name without its extension:

1. Unicode: NFKD-decomposed, combining marks dropped, case-folded
   (``Bäss`` → ``bass``, ``Straße`` → ``strasse``, ``ＤＲＵＭＳ`` → ``drums``).
2. Leading track numbers as DAWs write them are dropped: ``01 Drums``, ``01_Drums``,
   ``01-Drums``, ``1. Drums``, ``(01) Drums``, ``#3 Drums``: one or two digits, or more with a
   leading zero (``808 Bass`` keeps its ``808``; a name that is only a number keeps it).
3. A trailing ``stem`` / ``stems`` word is dropped (``Drums Stem`` → ``drums``).
4. Every run of characters other than ``a-z`` and ``0-9`` becomes one hyphen; hyphens at the
   ends are trimmed (``Lead Vocal (Dry)`` → ``lead-vocal-dry``); at most 48 characters.
5. A name with no ASCII letters or digits left (``ドラム``) becomes ``stem-<8 hex>``, the first
   eight hex digits of the sha256 of its NFC form: deterministic and distinct per name.

Over one track's files (:func:`stem_roles`), before the per-name rule, the song's own name
(``title``, e.g. the mix's file name) followed by a separator (`` - ``, ``_``, ``-``, space) is
dropped where a file starts with it: ``Night Drive - Bass.wav`` → ``bass`` (compared after step 1,
so case and accents do not matter). Collisions (``Drums.wav`` and ``drums.flac``; ``01 Kick``
and ``02 Kick``) are resolved in the order of the original names (sorted by code point): the
first keeps the role, the next get ``-2``, ``-3``, … (never a role another file already has).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from pathlib import PurePath

MAX_ROLE_LEN = 48
ROLE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
"""What a role looks like (a subset of ``minting.assets.ROLE_PATTERN``'s qualifier)."""

_NUMBER = r"(?:0\d{1,3}|\d{1,2})"  # "01", "007", "3", "12": not "808" (an 808 bass is a sound)
_NUMBERING = re.compile(
    rf"^\s*(?:\(\s*{_NUMBER}\s*\)|\[\s*{_NUMBER}\s*\]|#?{_NUMBER}(?=[\s._\-)]))[\s._\-)]*"
)
_STEM_WORD = re.compile(r"[\s._\-]+stems?$")
_SEPARATORS = (" - ", " – ", "_", "-", " ")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def stem_role(name: str) -> str:
    """The role of one stem file name (with or without its extension).

    Parameters
    ----------
    name : str
        A file name such as ``"01 Drums.wav"`` or a bare name such as ``"Lead Vocal"``.

    Returns
    -------
    str
        A role matching :data:`ROLE_RE`, e.g. ``"drums"``, ``"lead-vocal"``.

    Examples
    --------
    >>> stem_role("01 Drums.wav"), stem_role("Bäss_Stem.flac"), stem_role("02-Lead Vocal (Dry).aif")
    ('drums', 'bass', 'lead-vocal-dry')
    """
    base = _strip_extension(name)
    text = _fold(base).strip()
    unnumbered = _NUMBERING.sub("", text)
    if re.search(r"[a-z0-9]", unnumbered):
        text = unnumbered
    unstemmed = _STEM_WORD.sub("", text)
    if re.search(r"[a-z0-9]", unstemmed):
        text = unstemmed
    role = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:MAX_ROLE_LEN].rstrip("-")
    if not role:
        digest = hashlib.sha256(unicodedata.normalize("NFC", base).encode()).hexdigest()
        role = f"stem-{digest[:8]}"
    return role


def stem_roles(names: Iterable[str], *, title: str | None = None) -> dict[str, str]:
    """Roles of the stem files of one track, unique within it.

    Parameters
    ----------
    names : iterable of str
        File names (``"01 Drums.wav"``) or paths (only the last part is used) of one track's stems.
    title : str, optional
        The song's name as stem files may start with it (e.g. the mix's file name without its
        extension); dropped, with the separator after it, where a file starts with it.

    Returns
    -------
    dict of str to str
        Original name (as given) → role, in sorted order of the names; collisions get ``-2``,
        ``-3``… suffixes (see the module docstring).

    Examples
    --------
    >>> stem_roles(["Night Drive - Drums.wav", "Night Drive - Bass.wav"], title="Night Drive")
    {'Night Drive - Bass.wav': 'bass', 'Night Drive - Drums.wav': 'drums'}
    >>> stem_roles(["Drums.wav", "drums.flac", "01 Kick.wav", "02 Kick.wav"])
    {'01 Kick.wav': 'kick', '02 Kick.wav': 'kick-2', 'Drums.wav': 'drums', 'drums.flac': 'drums-2'}
    """
    taken: set[str] = set()
    out: dict[str, str] = {}
    for n in sorted(set(names)):
        base = _without_title(_strip_extension(PurePath(n).name), title)
        role = stem_role(base)
        candidate, k = role, 1
        while candidate in taken:
            k += 1
            suffix = f"-{k}"
            candidate = role[: MAX_ROLE_LEN - len(suffix)].rstrip("-") + suffix
        taken.add(candidate)
        out[n] = candidate
    return out


def _without_title(base: str, title: str | None) -> str:
    if not title:
        return base
    folded, t = _fold(base), _fold(title).strip()
    for sep in _SEPARATORS:
        if folded.startswith(t + sep) and re.search(r"\w", folded[len(t) + len(sep) :]):
            return folded[len(t) + len(sep) :]
    return base


def _strip_extension(name: str) -> str:
    p = PurePath(name)
    # "Lead Vocal (Dry)" has no extension; "Mix v1.2" is not ".2" audio: only short alphanumeric suffixes
    if re.fullmatch(r"\.[A-Za-z0-9]{1,5}", p.suffix or "") and not p.suffix[1:].isdigit():
        return p.name[: -len(p.suffix)]
    return p.name
