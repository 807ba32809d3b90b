"""Configuration from the environment: every stage library reads a variable in one function, from an
injectable ``env`` mapping that defaults to ``os.environ`` (docs/ARCHITECTURE.md, "Configuration").

Each test passes ``env=`` and sets a different value in ``os.environ``, so it fails if a library read
the process environment past the mapping it was given. The last test walks the stage libraries'
source and fails on any new place that reads ``os.environ``.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from cover_art.typography import FONT_DIR_ENV, font
from minting.chain.anvil import DATA_DIR_ENV, Anvil, data_dir
from minting.chain.errors import NetworkError
from minting.chain.networks import ANVIL_PORT_ENV, anvil_port, resolve_network
from minting.node_tools import NODE_TOOLS_ENV, find_bin, node_dir
from minting.storage import (
    IPFS_DIR_ENV,
    TOKEN_ENV,
    LocalStorage,
    StorageError,
    default_local_root,
    get_storage,
)
from music.engines.weights import MODELS_DIR_ENV, hf_cache_dir, models_dir
from songmint.errors import SongmintError
from songmint.release.publish import storage_token
from songmint.spec import Storage

REPO = Path(__file__).resolve().parents[1]


def test_weights_locations_come_from_the_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path / "process"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "process-hub"))
    assert models_dir(env={MODELS_DIR_ENV: str(tmp_path / "given")}) == tmp_path / "given"
    assert models_dir() == tmp_path / "process"  # the default mapping is os.environ
    assert models_dir(env={}) != tmp_path / "process"
    assert hf_cache_dir(env={"HF_HUB_CACHE": str(tmp_path / "hub")}) == tmp_path / "hub"
    assert hf_cache_dir(env={"HF_HOME": str(tmp_path / "home")}) == tmp_path / "home" / "hub"
    both = {"HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HOME": str(tmp_path / "home")}
    assert hf_cache_dir(env=both) == tmp_path / "hub"  # huggingface_hub's order
    assert hf_cache_dir(env={}) == Path("~/.cache/huggingface/hub").expanduser()
    assert hf_cache_dir() == tmp_path / "process-hub"


def test_chain_settings_come_from_the_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ANVIL_PORT_ENV, "9111")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "process"))
    env = {ANVIL_PORT_ENV: "9222", DATA_DIR_ENV: str(tmp_path / "given")}
    assert anvil_port(env=env) == 9222
    assert anvil_port() == 9111
    assert anvil_port(env={}) == 8545
    assert resolve_network("local", env=env).rpc_url == "http://127.0.0.1:9222"
    assert data_dir(env=env) == tmp_path / "given"
    assert data_dir() == tmp_path / "process"
    node = Anvil(env=env)  # nothing is started: the settings only
    assert node.port == 9222
    assert node.state_file == tmp_path / "given" / "chain" / "anvil-9222.json"
    with pytest.raises(NetworkError, match=f"{ANVIL_PORT_ENV}='eighty' is not a port number"):
        anvil_port(env={ANVIL_PORT_ENV: "eighty"})


def test_node_tools_come_from_the_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tools = tmp_path / "tools"
    (tools / "node_modules" / ".bin").mkdir(parents=True)
    exe = tools / "node_modules" / ".bin" / "songmint-test-tool"
    exe.write_text("#!/bin/sh\n")
    monkeypatch.setenv(NODE_TOOLS_ENV, str(tmp_path / "elsewhere"))
    assert node_dir(env={NODE_TOOLS_ENV: str(tools)}) == tools
    assert find_bin("songmint-test-tool", env={NODE_TOOLS_ENV: str(tools)}) == exe
    assert node_dir(env={}) == REPO / "tools" / "node"
    with pytest.raises(Exception, match=r"songmint-test-tool not found in .*elsewhere"):
        find_bin("songmint-test-tool")  # the default mapping: os.environ's folder has no such tool


def test_storage_settings_come_from_the_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(IPFS_DIR_ENV, str(tmp_path / "process"))
    monkeypatch.setenv(TOKEN_ENV, "process-token")
    env = {IPFS_DIR_ENV: str(tmp_path / "given")}
    assert default_local_root(env=env) == tmp_path / "given"
    local = get_storage(env=env)
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "given"
    assert get_storage().root == tmp_path / "process"  # type: ignore[attr-defined]
    psa = get_storage("psa:https://pins.example/psa", env={TOKEN_ENV: "given-token"})
    assert psa.http._headers["Authorization"] == "Bearer given-token"  # type: ignore[attr-defined]
    with pytest.raises(StorageError, match=TOKEN_ENV):
        get_storage("psa:https://pins.example/psa", env={})  # os.environ's token is not used


def test_the_release_token_comes_from_the_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_PINS", "process-token")
    storage = Storage(backend="pinning", url="https://pins.example/psa", token_env="MY_PINS")
    assert storage_token(storage, env={"MY_PINS": "given-token"}) == "given-token"
    assert storage_token(storage) == "process-token"
    assert storage_token(Storage(), env={"MY_PINS": "x"}) is None  # the spec names no variable
    with pytest.raises(SongmintError, match=r"storage\.token_env names MY_PINS, which is not set"):
        storage_token(storage, env={})


def test_cover_fonts_come_from_the_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = font("text", env={})
    assert system.path is not None, "scripts/setup.sh installs fonts-inter and fonts-dejavu-core"
    shutil.copy(system.path, tmp_path / "Inter-Regular.otf")  # the first name the text role looks for
    given = font("text", env={FONT_DIR_ENV: str(tmp_path)})
    assert given.path == str(tmp_path / "Inter-Regular.otf") and given.sha256 == system.sha256
    monkeypatch.setenv(FONT_DIR_ENV, str(tmp_path))
    assert font("text").path == str(tmp_path / "Inter-Regular.otf")
    assert font("text", env={}).path == system.path


# The functions of the stage libraries that read os.environ, each as the default of an ``env``
# mapping; docs/ARCHITECTURE.md's Configuration table lists the variables they read.
ENV_READERS = {
    ("music/engines/weights.py", "models_dir"),
    ("music/engines/weights.py", "hf_cache_dir"),
    ("cover_art/typography.py", "font"),
    ("minting/storage.py", "default_local_root"),
    ("minting/storage.py", "storage_for"),
    ("minting/chain/accounts.py", "from_keystore"),
    ("minting/chain/accounts.py", "load_signer"),
    ("minting/chain/networks.py", "anvil_port"),
    ("minting/chain/anvil.py", "data_dir"),
    ("minting/node_tools.py", "node_dir"),
}


def _environ_reads(path: Path) -> set[tuple[str, str]]:
    """``(file, function)`` of every ``os.environ`` / ``os.getenv`` use, and whether it is only the
    default of an injected mapping (``os.environ if env is None else env``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[tuple[str, str]] = set()
    rel = path.relative_to(REPO).as_posix()

    def visit(node: ast.AST, func: str, guarded: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            func = node.name
        if isinstance(node, ast.IfExp) and isinstance(node.test, ast.Compare):
            test = node.test
            if isinstance(test.left, ast.Name) and test.left.id == "env" and isinstance(test.ops[0], ast.Is):
                visit(node.body, func, True)
                visit(node.orelse, func, guarded)
                return
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "getenv")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            found.add((rel, func if guarded and node.attr == "environ" else f"{func} (unguarded)"))
        for child in ast.iter_child_nodes(node):
            visit(child, func, guarded)

    visit(tree, "<module>", False)
    return found


def test_stage_libraries_read_the_environment_only_through_an_env_mapping() -> None:
    found: set[tuple[str, str]] = set()
    for package in ("music", "cover_art", "minting"):
        for path in sorted((REPO / package).rglob("*.py")):
            found |= _environ_reads(path)
    assert found == ENV_READERS
