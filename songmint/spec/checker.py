"""Typed getters over a parsed TOML document whose errors name the file, line, key and fix.

:class:`Checker` also confines paths to the spec's folder (:meth:`Checker.file`)."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

from songmint.errors import SpecError
from songmint.spec.values import ADDRESS_RE, URL_RE, ZERO_ADDRESS


class _Locator:
    """Finds the line of a key in the TOML source (tomllib does not keep positions)."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")

    def __init__(self, text: str) -> None:
        # (table path, array index or None, line number, key) for every assignment/header
        self.entries: list[tuple[str, int | None, int, str | None]] = []
        table, index = "", None
        counts: dict[str, int] = {}
        for lineno, line in enumerate(text.splitlines(), start=1):
            m = self._HEADER.match(line)
            if m:
                table = m.group(2).replace(" ", "")
                if m.group(1) == "[[":
                    counts[table] = counts.get(table, -1) + 1
                    index = counts[table]
                elif not table.startswith("tracks."):
                    index = None
                self.entries.append((table, index, lineno, None))
                continue
            k = self._KEY.match(line)
            if k:
                self.entries.append((table, index, lineno, k.group(1).strip("\"'")))

    def line(self, path: str) -> int | None:
        """Line of a dotted ``path`` such as ``tracks[1].editions.cap``."""
        m = re.match(r"^tracks\[(\d+)\](?:\.(.*))?$", path)
        if m:
            idx, rest = int(m.group(1)), m.group(2) or ""
            base = "tracks"
        else:
            idx, rest, base = None, path, ""
        parts = rest.split(".") if rest else []
        best: int | None = None
        for table, index, lineno, key in self.entries:
            if base == "tracks" and (index != idx or not (table == "tracks" or table.startswith("tracks."))):
                continue
            if base == "" and (table.startswith("tracks") or index is not None):
                continue
            full = [p for p in (table.split(".") if table else [])]
            if base == "tracks":
                full = full[1:]
            if key is not None:
                full = [*full, *key.split(".")]
            if full == parts:
                return lineno
            # an inline table or a parent key: remember the closest enclosing entry
            if parts[: len(full)] == full and full:
                best = lineno
        if best is None and base == "tracks":
            for table, index, lineno, key in self.entries:
                if table == "tracks" and index == idx and key is None:
                    return lineno
        return best


class Checker:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.locator = _Locator(text)

    def fail(self, key: str, problem: str, fix: str) -> SpecError:
        line = self.locator.line(key)
        where = f"{self.path}:{line}" if line else f"{self.path}"
        return SpecError(f"{where}: {key}: {problem}; {fix}")

    # typed getters -----------------------------------------------------------------

    def table(self, doc: dict[str, Any], name: str, key: str, *, required: bool = False) -> dict[str, Any]:
        value = doc.get(name)
        if value is None:
            if required:
                raise self.fail(key, "missing", f"add a [{key}] table")
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, got {type(value).__name__}", f"write it as [{key}]")
        return value

    def unknown(self, doc: dict[str, Any], allowed: set[str], key: str) -> None:
        for k in doc:
            if k not in allowed:
                close = sorted(allowed, key=lambda a: _distance(a, k))[0]
                where = f"{key}.{k}" if key else k
                raise self.fail(where, "unknown key", f"did you mean {close!r}? (see docs/release-spec.md)")

    def string(
        self, doc: dict[str, Any], name: str, key: str, *, required: bool = False, default: str | None = None
    ) -> str | None:
        value = doc.get(name, default)
        if value is None:
            if required:
                raise self.fail(key, "missing", f'add {name} = "..."')
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(key, f"must be a non-empty string, got {value!r}", f'write {name} = "..."')
        return value

    def integer(
        self,
        doc: dict[str, Any],
        name: str,
        key: str,
        *,
        default: int | None = None,
        lo: int | None = None,
        hi: int | None = None,
        required: bool = False,
    ) -> int | None:
        value = self._numeric(doc, name, key, integral=True, default=default, required=required)
        if value is None:
            return None
        if lo is not None and value < lo:
            raise self.fail(key, f"{value} is below the minimum {lo}", f"use a value ≥ {lo}")
        if hi is not None and value > hi:
            raise self.fail(key, f"{value} is above the maximum {hi}", f"use a value ≤ {hi}")
        return value

    def number(
        self,
        doc: dict[str, Any],
        name: str,
        key: str,
        *,
        default: float | None = None,
        lo: float | None = None,
        hi: float | None = None,
    ) -> float | None:
        value = self._numeric(doc, name, key, integral=False, default=default, required=False)
        if value is None:
            return None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.fail(key, f"{value} is outside {lo}–{hi}", f"use a value between {lo} and {hi}")
        return float(value)

    def _numeric(
        self,
        doc: dict[str, Any],
        name: str,
        key: str,
        *,
        integral: bool,
        default: float | None,
        required: bool,
    ) -> int | float | None:
        """What :meth:`integer` and :meth:`number` share: the value (or ``default``), present when
        ``required``, of the right type and, for a number, finite; ``None`` when absent.

        A bool is refused although Python counts it as an int: TOML keeps ``true`` apart from ``1``.
        An integer is not tested for finiteness (always finite, and a huge one overflows a float)."""
        kind, noun = ("integer", "an integer") if integral else ("number", "a number")
        value = doc.get(name, default)
        if value is None:
            if required:
                raise self.fail(key, "missing", f"add {name} = <{kind}>")
            return None
        if isinstance(value, bool) or not isinstance(value, int if integral else int | float):
            raise self.fail(key, f"must be {noun}, got {value!r}", f"write {name} = <{kind}>")
        if not integral and not math.isfinite(value):
            raise self.fail(key, f"must be a finite number, got {value!r}", f"write {name} = <number>")
        return value

    def boolean(self, doc: dict[str, Any], name: str, key: str, *, default: bool) -> bool:
        value = doc.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}", f"write {name} = true|false")
        return value

    def address(self, value: Any, key: str) -> str | None:
        """A ``0x`` address: not the zero address, and EIP-55-checksummed when written in mixed case."""
        if value is None:
            return None
        if not isinstance(value, str) or not ADDRESS_RE.match(value):
            raise self.fail(key, f"{value!r} is not an address", "write a 0x-prefixed 40-hex-digit address")
        if value.lower() == ZERO_ADDRESS:
            raise self.fail(key, "is the zero address (whatever is sent there is lost)",
                            "write the address that should receive it")
        from eth_utils import to_checksum_address

        checksummed = to_checksum_address(value)
        digits = value[2:]
        if digits != digits.lower() and digits != digits.upper() and value != checksummed:
            raise self.fail(key, f"{value!r} fails its EIP-55 checksum (a mistyped address?)",
                            f"check it; the checksummed form of these digits is {checksummed}")
        return checksummed

    def url(self, doc: dict[str, Any], name: str, key: str) -> str | None:
        """An ``https://``, ``ipfs://`` or ``ar://`` URL (what metadata may link to)."""
        link = self.string(doc, name, key)
        if link is not None and not URL_RE.match(link):
            raise self.fail(key, f"{link!r} is not an https://, ipfs:// or ar:// URL",
                            "use an https://, ipfs:// or ar:// URL (other schemes are not published)")
        return link

    def file(self, base: Path, value: Any, key: str, *, folder: bool = False) -> Path:
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"must be a path string, got {value!r}", 'write it as "path/to/file"')
        if "\0" in value:
            raise self.fail(key, "contains a NUL character", 'write it as "path/to/file"')
        p = Path(value).expanduser()
        if not p.is_absolute():
            inside = os.path.normpath(p)
            if inside == ".." or inside.startswith(".." + os.sep):
                raise self.fail(key, f"{value!r} leads outside the spec's folder",
                                "keep files beside the spec, or give an absolute path to mean it")
            p = base / p
        if folder:
            if not p.is_dir():
                raise self.fail(key, f"no folder at {p}", "fix the path (relative to the spec's folder)")
        elif not p.is_file():
            raise self.fail(key, f"no file at {p}", "fix the path (relative to the spec's folder)")
        return p


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (for 'did you mean' hints)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
