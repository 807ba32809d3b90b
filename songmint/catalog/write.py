"""Writing the spec of a scanned catalog: TOML literals, paths as the spec writes them, by-name
stems linked into a folder, and the text validated before anything is written."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from music.audio import atomic_path
from songmint.catalog.scan import CatalogPlan
from songmint.errors import SongmintError


def toml_value(value: Any) -> str:
    """A TOML literal for a str, bool, int, float, list or (inline) dict."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are TOML basic-string escapes; TOML also forbids a raw DEL
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML literal for {type(value).__name__}")


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_value(key)


def _rel(path: Path, base: Path) -> str:
    """A path as the spec writes it: relative under the spec's folder, absolute outside it (the
    spec confines relative paths to its folder)."""
    target, root = path.resolve(), base.resolve()
    if target.is_relative_to(root):
        return target.relative_to(root).as_posix()
    return target.as_posix()


def sale_price(text: str) -> str:
    """A price from a CSV or a tag as the spec writes it: a bare number is ether (``"0.01"`` →
    ``"0.01 ether"``); an amount with a unit (wei, gwei, ether) stays as written."""
    text = " ".join(str(text).split())
    return f"{text} ether" if re.fullmatch(r"\d+(\.\d+)?", text) else text


def render_spec(plan: CatalogPlan, spec_path: Path, stem_links: dict[str, Path]) -> str:
    """The spec's TOML text; paths relative to ``spec_path``'s folder."""
    base = spec_path.parent
    n_stems = sum(1 for p in plan.tracks if p.stems_dir or p.stem_files)
    lines = [
        f"# Written by `songmint init` from {len(plan.tracks)} masters ({n_stems} with stems).",
        "# Check the titles and editions, then: songmint release " + spec_path.name,
        "# The format: docs/release-spec.md; how masters, stems and tags were matched: docs/catalog.md.",
        "spec_version = 1",
        "",
        "[collection]",
        f"name = {toml_value(plan.name)}",
        f"symbol = {toml_value(plan.symbol)}",
        'image = "generate"                 # the first track\'s cover; or a path to an image',
        "royalty_bps = 0                    # ERC-2981 basis points (500 = 5 %)",
        "",
        "[defaults]",
        f"artist = {toml_value(plan.artist)}",
        f"editions = {toml_value({'cap': plan.cap, 'initial': plan.initial})}",
    ]
    for p in plan.tracks:
        lines += ["", "[[tracks]]", f"id = {toml_value(p.id)}", f"title = {toml_value(p.title)}"]
        lines.append(f"file = {toml_value(_rel(p.master, base))}")
        if p.stems_dir is not None:
            lines.append(f"stems = {toml_value(_rel(p.stems_dir, base))}")
        elif p.id in stem_links:
            lines.append(f"stems = {toml_value(_rel(stem_links[p.id], base))}")
        for k, v in p.fields.items():
            lines.append(f"{k} = {toml_value(v)}")
        if p.price is not None:
            lines += ["[tracks.sale]", f"price = {toml_value(sale_price(p.price))}"]
    lines += ["", "[network]", 'name = "local"                     # memory | local | url + chain_id', ""]
    return "\n".join(lines)


def _link_stems(plan: CatalogPlan, folder: Path) -> dict[str, Path]:
    """Hard-link (or copy) by-name stems into ``folder/<track id>/<role><ext>``."""
    links: dict[str, Path] = {}
    for p in plan.tracks:
        if not p.stem_files:
            continue
        d = folder / p.id
        d.mkdir(parents=True, exist_ok=True)
        for role, src in sorted(p.stem_files.items()):
            dst = d / f"{role}{src.suffix.lower()}"
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
        links[p.id] = d
    return links


def write_catalog_spec(spec_path: Path, plan: CatalogPlan, *, force: bool = False) -> str:
    """Write the spec (and the by-name stems folder), validated first; returns the spec text."""
    from songmint.spec import parse_spec

    spec_path = spec_path.expanduser().resolve()
    links_dir = spec_path.parent / f"{spec_path.stem}-stems"
    needs_links = any(p.stem_files for p in plan.tracks)
    if not force:
        for p in (spec_path, links_dir) if needs_links else (spec_path,):
            if p.exists():
                raise SongmintError(f"{p} exists; choose another name or pass --force to replace it")
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_links = Path(tempfile.mkdtemp(prefix=f".{links_dir.name}.", dir=spec_path.parent))
    try:
        links = _link_stems(plan, tmp_links)
        # validate against the final paths: swap the temporary folder in only once the text is right
        final = {tid: links_dir / d.name for tid, d in links.items()}
        text = render_spec(plan, spec_path, final)
        if links:
            if links_dir.exists():
                shutil.rmtree(links_dir)
            tmp_links.rename(links_dir)
        try:
            parse_spec(text, path=spec_path)
        except SongmintError:
            if links:
                shutil.rmtree(links_dir, ignore_errors=True)
            raise
        with atomic_path(spec_path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    finally:
        shutil.rmtree(tmp_links, ignore_errors=True)
    return text
