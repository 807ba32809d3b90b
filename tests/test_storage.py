"""Storage backends against local HTTP servers written here: a kubo RPC stand-in and a Pinning
Service API stand-in, both able to fail, stall or lie on demand.

The kubo stand-in rebuilds the uploaded tree from the multipart body and answers with the CIDs
of what it received, but only when the client asked for kubo's CIDv1 defaults; otherwise it
answers CIDv0-style CIDs, as a real kubo would. So these tests prove the client sends the right
parameters and the whole tree; the CIDs themselves are checked against an independent
implementation in ``test_unixfs.py``.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from minting.car import CarReader, write_car
from minting.cid import CID
from minting.errors import MintingError
from minting.storage import (
    KuboStorage,
    LocalStorage,
    PinningServiceStorage,
    StorageError,
    get_storage,
)
from minting.unixfs import import_path
from tests.ipfs_reference import write_random
from tests.json_http import JsonHandler

TOKEN = "psa-secret-token-1234567890"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], store: Path) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.store = store
        store.mkdir(parents=True, exist_ok=True)
        self.faults: list[str] = []  # "503", "hang", "400", "429": applied to the next requests
        self.log: list[tuple[str, str, dict[str, list[str]]]] = []
        self.lock = threading.Lock()
        self.pinned: set[str] = set()
        self.lie = False
        self.pins: dict[str, dict[str, Any]] = {}
        self.polls: dict[str, int] = {}
        self.fail_cids: set[str] = set()
        self.stuck = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Base(JsonHandler):
    server: _Server

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _fault(self) -> bool:
        """Apply the next scripted fault; True when the request has been answered."""
        url = urllib.parse.urlparse(self.path)
        with self.server.lock:
            self.server.log.append((self.command, url.path, urllib.parse.parse_qs(url.query)))
            fault = self.server.faults.pop(0) if self.server.faults else None
        if fault is None:
            return False
        self._body()
        if fault == "hang":
            time.sleep(0.6)
            return True  # the client gave up; nothing to answer
        self.send_json(int(fault), {"Message": "scripted failure", "Code": 0}, {"Retry-After": "0"})
        return True


class _Kubo(_Base):
    def do_POST(self) -> None:
        if self._fault():
            return
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/api/v0/add":
            self._add(q)
        elif url.path == "/api/v0/pin/add":
            cid = q["arg"]
            if not (self.server.store / "blocks" / cid).exists() and cid not in self.server.pinned:
                message = f"block was not found locally (offline): {cid}"
                self.send_json(500, {"Message": message, "Type": "error"})
                return
            self.server.pinned.add(cid)
            self.send_json(200, {"Pins": [cid]})
        elif url.path == "/api/v0/pin/ls":
            cid = q["arg"]
            if cid in self.server.pinned:
                self.send_json(200, {"Keys": {cid: {"Type": "recursive"}}})
            else:
                self.send_json(500, {"Message": f"path '{cid}' is not pinned", "Code": 0, "Type": "error"})
        elif url.path == "/api/v0/dag/import":
            self._dag_import(q)
        else:
            self.send_json(404, b"404 page not found")

    def _parts(self) -> list[email.message.EmailMessage]:
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + self._body())
        return list(msg.iter_parts())  # type: ignore[attr-defined]

    def _add(self, q: dict[str, str]) -> None:
        tree = self.server.store / "tree" / str(len(self.server.log))
        names = []
        for part in self._parts():
            name = urllib.parse.unquote(part.get_param("filename", header="content-disposition"))
            names.append(name)
            target = tree / name
            if part.get_content_type() == "application/x-directory":
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(part.get_payload(decode=True) or b"")
        asked = (q.get("cid-version"), q.get("raw-leaves"), q.get("chunker"))
        kubo_defaults = asked == ("1", "true", "size-262144")
        lines = []
        for name in names:
            cid, _ = import_path(tree / name, hidden=True)
            if not kubo_defaults or self.server.lie:
                cid = str(CID.parse("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"))
            (self.server.store / "blocks").mkdir(parents=True, exist_ok=True)
            (self.server.store / "blocks" / cid).write_text(name)
            if q.get("pin") == "true" and "/" not in name:
                self.server.pinned.add(cid)
            lines.append(json.dumps({"Name": name, "Hash": cid, "Size": "1"}))
        self.send_json(200, ("\n".join(lines) + "\n").encode())

    def _dag_import(self, q: dict[str, str]) -> None:
        car = self.server.store / "import.car"
        car.write_bytes(self._parts()[0].get_payload(decode=True))
        reader = CarReader(car)
        assert all(cid.verify(data) for cid, data in reader.blocks())
        root = str(reader.roots[0])
        if q.get("pin-roots") == "true":
            self.server.pinned.add(root)
        self.send_json(200, {"Root": {"Cid": {"/": root}, "PinErrorMsg": ""}})


class _Psa(_Base):
    def _authorised(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._body()
            self.send_json(401, {"error": {"reason": "UNAUTHORIZED", "details": "bad token"}})
            return False
        return True

    def _status(self, rid: str) -> dict[str, Any]:
        return self.server.pins[rid]

    def do_GET(self) -> None:
        if self._fault() or not self._authorised():
            return
        url = urllib.parse.urlparse(self.path)
        if url.path == "/pins":
            q = dict(urllib.parse.parse_qsl(url.query))
            cids = set(q.get("cid", "").split(","))
            statuses = set(q.get("status", "pinned").split(","))
            pins = self.server.pins.values()
            found = [p for p in pins if p["pin"]["cid"] in cids and p["status"] in statuses]
            self.send_json(200, {"count": len(found), "results": found})
            return
        rid = url.path.removeprefix("/pins/")
        status = self.server.pins.get(rid)
        if status is None:
            self.send_json(404, {"error": {"reason": "NOT_FOUND"}})
            return
        # queued -> pinning -> pinned (or failed) over successive polls
        if not self.server.stuck:
            self.server.polls[rid] = self.server.polls.get(rid, 0) + 1
            if self.server.polls[rid] == 1:
                status["status"] = "pinning"
            else:
                status["status"] = "failed" if status["pin"]["cid"] in self.server.fail_cids else "pinned"
        self.send_json(200, status)

    def do_POST(self) -> None:
        if self._fault() or not self._authorised():
            return
        request = json.loads(self._body())
        rid = f"req-{len(self.server.pins) + 1}"
        self.server.pins[rid] = {
            "requestid": rid,
            "status": "queued",
            "created": "2026-11-24T00:00:00Z",
            "pin": request,
            "delegates": ["/ip4/203.0.113.1/tcp/4001/p2p/QmServicePeer"],
        }
        self.send_json(202, self.server.pins[rid])

    def do_DELETE(self) -> None:
        if self._fault() or not self._authorised():
            return
        self.server.pins.pop(self.path.removeprefix("/pins/"), None)
        self.send_json(202, b"")


def _serve(handler: type[BaseHTTPRequestHandler], store: Path) -> Iterator[_Server]:
    server = _Server(handler, store)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def kubo(tmp_path: Path) -> Iterator[_Server]:
    yield from _serve(_Kubo, tmp_path / "kubo-store")


@pytest.fixture
def psa(tmp_path: Path) -> Iterator[_Server]:
    yield from _serve(_Psa, tmp_path / "psa-store")


@pytest.fixture
def release(tmp_path: Path) -> Path:
    root = tmp_path / "release"
    (root / "stems").mkdir(parents=True)
    (root / "empty").mkdir()
    write_random(root / "mix.flac", 600_000, seed=1)
    write_random(root / "stems" / "drums wet.wav", 3_000, seed=2)  # a space: quoted in the upload
    (root / "metadata.json").write_text('{"name": "x"}\n')
    (root / ".hidden").write_text("kubo skips me")
    return root


def _kubo(server: _Server, **kw: Any) -> KuboStorage:
    kw.setdefault("timeout", 5)
    kw.setdefault("retries", 2)
    return KuboStorage(server.url, backoff=0.01, **kw)


# ------------------------------------------------------------------------- local folder


def test_local_storage_stores_blocks_and_streams_files_back(release: Path, tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "ipfs")
    root = store.put(release, label="release")
    expected, cids = import_path(release)
    assert root == expected and store.has(root)
    assert b"".join(store.cat(cids["mix.flac"])) == (release / "mix.flac").read_bytes()
    assert not (tmp_path / "ipfs" / "blocks" / cids.get(".hidden", "none")).exists()
    # idempotent: the same put again changes nothing
    before = sorted(p.name for p in (tmp_path / "ipfs" / "blocks").iterdir())
    assert store.put(release) == root
    assert sorted(p.name for p in (tmp_path / "ipfs" / "blocks").iterdir()) == before


def test_local_storage_imports_a_car_and_rejects_bad_blocks(release: Path, tmp_path: Path) -> None:
    summary = write_car(release, tmp_path / "release.car")
    store = LocalStorage(tmp_path / "ipfs")
    assert store.put_car(summary.path) == [summary.root]
    assert store.has(summary.root)
    block = tmp_path / "ipfs" / "blocks" / summary.cids["metadata.json"]
    block.write_bytes(b"tampered")
    with pytest.raises(MintingError, match="does not match"):
        b"".join(store.cat(summary.cids["metadata.json"]))
    with pytest.raises(StorageError, match="not in"):
        LocalStorage(tmp_path / "other").pin(summary.root)


# ------------------------------------------------------------------------- kubo RPC


def test_kubo_add_sends_kubo_defaults_and_the_whole_tree(kubo: _Server, release: Path) -> None:
    storage = _kubo(kubo)
    root = storage.put(release, label="r1")
    assert root == import_path(release)[0]
    method, path, query = kubo.log[0]
    assert (method, path) == ("POST", "/api/v0/add")
    assert query["cid-version"] == ["1"] and query["raw-leaves"] == ["true"]
    assert query["chunker"] == ["size-262144"] and query["pin"] == ["true"]
    uploaded = kubo.store / "tree" / "1" / "release"
    wav = Path("stems", "drums wet.wav")
    assert (uploaded / wav).read_bytes() == (release / wav).read_bytes()
    assert (uploaded / "empty").is_dir() and not (uploaded / ".hidden").exists()
    assert storage.has(root)


def test_kubo_add_of_a_single_file(kubo: _Server, release: Path) -> None:
    assert _kubo(kubo).put(release / "mix.flac") == import_path(release / "mix.flac")[0]


def test_kubo_cid_mismatch_is_an_error(kubo: _Server, release: Path) -> None:
    kubo.lie = True
    with pytest.raises(StorageError, match="not using kubo's defaults"):
        _kubo(kubo).put(release)


def test_kubo_retries_5xx_and_timeouts(kubo: _Server, release: Path) -> None:
    kubo.faults = ["503", "hang", "429"]
    storage = _kubo(kubo, timeout=0.2, retries=3)
    assert storage.put(release / "metadata.json") == import_path(release / "metadata.json")[0]
    assert storage.http.attempts == 4


def test_kubo_gives_up_after_its_retries(kubo: _Server, release: Path) -> None:
    kubo.faults = ["503"] * 3
    storage = _kubo(kubo, retries=2)
    with pytest.raises(StorageError, match="after 3 attempts: HTTP 503"):
        storage.put(release / "metadata.json")
    assert storage.http.attempts == 3


def test_kubo_does_not_retry_client_errors(kubo: _Server) -> None:
    kubo.faults = ["400"]
    storage = _kubo(kubo, retries=3)
    with pytest.raises(StorageError, match="HTTP 400"):
        storage.pin("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
    assert storage.http.attempts == 1


def test_kubo_command_errors_are_not_retried(kubo: _Server) -> None:
    storage = _kubo(kubo, retries=3)
    cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    assert storage.has(cid) is False
    with pytest.raises(StorageError, match="not found locally"):
        storage.pin(cid)
    assert storage.http.attempts == 2  # one pin/ls, one pin/add


def test_kubo_unreachable(tmp_path: Path) -> None:
    storage = KuboStorage("http://127.0.0.1:9", timeout=0.5, retries=1, backoff=0.01)
    with pytest.raises(StorageError, match="after 2 attempts"):
        storage.pin("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")


def test_kubo_dag_import_of_a_car(kubo: _Server, release: Path, tmp_path: Path) -> None:
    summary = write_car(release, tmp_path / "release.car")
    storage = _kubo(kubo)
    assert storage.put_car(summary.path) == [summary.root]
    assert storage.has(summary.root)


# ------------------------------------------------------------------------- pinning service


def _psa(server: _Server, **kw: Any) -> PinningServiceStorage:
    kw.setdefault("token", TOKEN)
    return PinningServiceStorage(server.url, poll_interval=0.01, backoff=0.01, retries=2, timeout=5, **kw)


def test_psa_pins_and_waits_until_pinned(psa: _Server, release: Path) -> None:
    storage = _psa(psa)
    root = storage.put(release, label="Night Drive")
    assert root == import_path(release)[0]
    assert storage.has(root)
    [status] = psa.pins.values()
    assert status["status"] == "pinned" and status["pin"] == {"cid": root, "name": "Night Drive"}
    # resuming never pins twice: the existing request is reused
    storage.put(release, label="Night Drive")
    assert len(psa.pins) == 1
    assert storage.remove(root) == 1 and not storage.has(root)


def test_psa_uploads_through_kubo_first(psa: _Server, kubo: _Server, release: Path) -> None:
    storage = _psa(psa, upload=_kubo(kubo), origins=["/ip4/127.0.0.1/tcp/4001/p2p/QmLocal"])
    root = storage.put(release)
    assert kubo.log[0][1] == "/api/v0/add"
    [status] = psa.pins.values()
    assert status["pin"]["cid"] == root
    assert status["pin"]["origins"] == ["/ip4/127.0.0.1/tcp/4001/p2p/QmLocal"]


def test_psa_token_never_leaks(psa: _Server, release: Path) -> None:
    storage = _psa(psa, token="wrong-" + TOKEN)
    assert TOKEN not in repr(storage)
    with pytest.raises(StorageError) as info:
        storage.put(release)
    assert "401" in str(info.value) and "UNAUTHORIZED" in str(info.value)
    assert TOKEN not in str(info.value)
    assert storage.http.attempts == 1


def test_psa_failed_and_stuck_pins(psa: _Server, release: Path) -> None:
    cid = import_path(release / "metadata.json")[0]
    psa.fail_cids.add(cid)
    with pytest.raises(StorageError, match="failed to pin"):
        _psa(psa).put(release / "metadata.json")
    psa.stuck = True
    with pytest.raises(StorageError, match="still queued"):
        _psa(psa, wait_timeout=0.05).put(release / "mix.flac")


def test_psa_retries_server_errors(psa: _Server, release: Path) -> None:
    psa.faults = ["502", "503"]
    storage = _psa(psa)
    storage.put(release / "metadata.json")
    assert storage.http.attempts >= 5  # 2 failures + find + create + polls


# ------------------------------------------------------------------------- get_storage


def test_get_storage_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGMINT_IPFS_DIR", str(tmp_path / "default"))
    monkeypatch.setenv("SONGMINT_PINNING_TOKEN", TOKEN)
    default = get_storage()
    assert isinstance(default, LocalStorage) and default.root == tmp_path / "default"
    assert get_storage(f"local:{tmp_path}/x").root == tmp_path / "x"  # type: ignore[attr-defined]
    assert get_storage(str(tmp_path / "y")).root == tmp_path / "y"  # type: ignore[attr-defined]
    assert get_storage(f"file://{tmp_path}/z").root == tmp_path / "z"  # type: ignore[attr-defined]
    kubo = get_storage("kubo:http://10.0.0.5:5001", timeout=3)
    assert isinstance(kubo, KuboStorage) and kubo.http.base_url == "http://10.0.0.5:5001"
    assert kubo.http.timeout == 3
    assert get_storage("kubo").http.base_url == "http://127.0.0.1:5001"  # type: ignore[attr-defined]
    psa = get_storage("psa:https://pins.example/psa", upload="kubo:http://127.0.0.1:5001")
    assert isinstance(psa, PinningServiceStorage) and isinstance(psa.upload, KuboStorage)
    for bad in ("ftp", "http://127.0.0.1:5001", "psa:"):
        with pytest.raises(StorageError):
            get_storage(bad)
    monkeypatch.delenv("SONGMINT_PINNING_TOKEN")
    with pytest.raises(StorageError, match="SONGMINT_PINNING_TOKEN"):
        get_storage("psa:https://pins.example/psa")
