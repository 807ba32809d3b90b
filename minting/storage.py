"""Storage backends: a local folder (the default), a kubo RPC endpoint, the IPFS Pinning Service API.

Every backend takes files or folders, returns the root CID, and agrees with the local importer:
a backend that reports a different CID than :mod:`minting.unixfs` computed is an error (it means
the remote node chunked or laid out the DAG differently, so the minted metadata would point at
nothing). HTTP backends retry connection failures, timeouts, 408, 429 and 5xx with exponential
back-off (honouring ``Retry-After``), and stream uploads from disk with a precomputed
``Content-Length``, so memory stays flat on large files.

Specs accepted by :func:`get_storage`:

- ``None`` or ``local``: :class:`LocalStorage` in ``$SONGMINT_IPFS_DIR`` or the user data folder;
- ``local:PATH``, ``file:///PATH`` or a path: :class:`LocalStorage` in ``PATH``;
- ``kubo`` or ``kubo:URL``: :class:`KuboStorage` (default ``http://127.0.0.1:5001``);
- ``psa:URL``: :class:`PinningServiceStorage`, token from ``$SONGMINT_PINNING_TOKEN``.

References
----------
- kubo RPC API v0, https://docs.ipfs.tech/reference/kubo/rpc/ (``add``, ``pin/add``,
  ``pin/ls``, ``dag/import``).
- IPFS Pinning Service API, https://ipfs.github.io/pinning-services-api-spec/
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from minting.car import CarReader
from minting.cid import CID
from minting.errors import MintingError
from minting.unixfs import CHUNK_SIZE, cat, import_path, scan_directory

TOKEN_ENV = "SONGMINT_PINNING_TOKEN"
IPFS_DIR_ENV = "SONGMINT_IPFS_DIR"
DEFAULT_KUBO = "http://127.0.0.1:5001"
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class StorageError(MintingError):
    """A storage backend failed (after its retries) or disagreed with the local CIDs."""


class Storage(Protocol):
    """What every backend offers."""

    name: str

    def put(self, path: str | os.PathLike[str], *, pin: bool = True, label: str | None = None) -> str:
        """Store a file or folder; return its root CID (checked against the local importer)."""
        ...

    def pin(self, cid: str, *, label: str | None = None) -> None:
        """Keep ``cid`` (and everything below it) stored."""
        ...

    def has(self, cid: str) -> bool:
        """Whether ``cid`` is stored and pinned."""
        ...


# --------------------------------------------------------------------------------------
# HTTP with retries


@dataclass(frozen=True)
class Body:
    """A request body re-creatable for every attempt: ``parts()`` yields bytes, ``length`` in total."""

    parts: Callable[[], Iterable[bytes]]
    length: int
    content_type: str


class HttpClient:
    """Small urllib client: timeouts, retries with jittered exponential back-off, secret redaction.

    Parameters
    ----------
    base_url : str
        Scheme, host, port and optional path prefix.
    headers : mapping, optional
        Sent with every request (``Authorization`` …); never included in errors.
    timeout : float
        Seconds per socket operation (connect, each read/write).
    retries : int
        Extra attempts after the first for retryable failures.
    backoff : float
        First back-off in seconds; doubles each attempt (capped at 30 s), with ±25 % jitter.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        secrets: Iterable[str] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers or {})
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._secrets = [s for s in secrets if s]
        self.attempts = 0  # total attempts made, for diagnostics and tests

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Iterable[tuple[str, str]] = (),
        body: Body | None = None,
        json_body: Any = None,
    ) -> tuple[int, bytes]:
        """Send a request, retrying what is retryable; return ``(status, body)`` of a 2xx answer.

        Raises
        ------
        StorageError
            On a non-retryable status, or once the retries are spent.
        """
        query = urllib.parse.urlencode(list(params))
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        if json_body is not None:
            raw = json.dumps(json_body).encode("utf-8")
            body = Body(lambda: [raw], len(raw), "application/json")
        last, retry_after = "", None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self._delay(attempt, retry_after))
            retry_after = None
            self.attempts += 1
            headers = dict(self._headers)
            data: Iterable[bytes] | None = None
            if body is not None:
                headers["Content-Type"] = body.content_type
                headers["Content-Length"] = str(body.length)
                data = body.parts()
            req = urllib.request.Request(url, data=data, headers=headers, method=method)  # type: ignore[arg-type]
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return resp.status, resp.read()
            except urllib.error.HTTPError as exc:
                detail = exc.read()[:2000].decode("utf-8", "replace")
                last = f"HTTP {exc.code} {_message(detail)}".strip()
                if exc.code not in RETRY_STATUS or _is_command_error(detail):
                    raise StorageError(self._redact(f"{method} {self._where(path)} failed: {last}")) from None
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                last = f"{type(reason).__name__}: {reason}"
        raise StorageError(
            self._redact(f"{method} {self._where(path)} failed after {self.retries + 1} attempts: {last}")
        )

    def _where(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), 60.0)
            except ValueError:
                pass
        base = min(self.backoff * 2 ** (attempt - 1), 30.0)
        return base * random.uniform(0.75, 1.25)


def _is_command_error(detail: str) -> bool:
    """kubo answers a failed command (``not pinned``, bad argument) with HTTP 500 and a JSON
    ``{"Message", "Code", "Type": "error"}``: deterministic, so not worth retrying."""
    try:
        doc = json.loads(detail)
    except ValueError:
        return False
    return isinstance(doc, dict) and doc.get("Type") == "error" and "Message" in doc


def _message(detail: str) -> str:
    """The ``Message``/``error.reason`` of a JSON error body, else the body's first line."""
    try:
        doc = json.loads(detail)
    except ValueError:
        return detail.strip().splitlines()[0][:200] if detail.strip() else ""
    if isinstance(doc, dict):
        if "Message" in doc:
            return str(doc["Message"])
        err = doc.get("error")
        if isinstance(err, dict):
            return ": ".join(str(err[k]) for k in ("reason", "details") if err.get(k))
    return detail[:200]


# --------------------------------------------------------------------------------------
# multipart bodies streamed from disk


def _walk(path: Path, hidden: bool) -> list[tuple[str, Path | None]]:
    """``(relative name, file or None for a directory)`` for ``path`` and everything below it."""
    if path.is_file():
        return [(path.name, path)]
    out: list[tuple[str, Path | None]] = [(path.name, None)]

    def rec(directory: Path, rel: str) -> None:
        for item in scan_directory(directory, hidden):
            p = Path(item.path)
            if p.is_symlink():
                raise StorageError(f"symlinks are not supported: {rel}/{item.name}")
            if p.is_dir():
                out.append((f"{rel}/{item.name}", None))
                rec(p, f"{rel}/{item.name}")
            else:
                out.append((f"{rel}/{item.name}", p))

    rec(path, path.name)
    return out


def multipart_body(entries: list[tuple[str, Path | None]], *, field: str = "file") -> Body:
    """A ``multipart/form-data`` body as kubo's ``add`` expects (directories as x-directory parts)."""
    boundary = uuid.uuid4().hex
    heads: list[tuple[bytes, Path | None]] = []
    for name, file in entries:
        quoted = urllib.parse.quote(name, safe="")
        kind = "application/octet-stream" if file is not None else "application/x-directory"
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{quoted}"\r\n'
            f"Content-Type: {kind}\r\n\r\n"
        ).encode()
        heads.append((head, file))
    tail = f"--{boundary}--\r\n".encode()
    length = len(tail) + sum(len(h) + 2 + (f.stat().st_size if f else 0) for h, f in heads)

    def parts() -> Iterator[bytes]:
        for head, file in heads:
            yield head
            if file is not None:
                with open(file, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        yield chunk
            yield b"\r\n"
        yield tail

    return Body(parts, length, f"multipart/form-data; boundary={boundary}")


def _check(name: str, remote: str, local: str) -> str:
    if CID.parse(remote).to_v1() != CID.parse(local):
        raise StorageError(
            f"{name}: the backend stored {remote} but the local importer computed {local}; "
            "the backend is not using kubo's defaults (CIDv1, raw leaves, 256 KiB chunks, balanced DAG)"
        )
    return local


# --------------------------------------------------------------------------------------
# backends


class LocalStorage:
    """A folder holding blocks by CID (``blocks/<cid>``) and pins (``pins/<cid>``).

    It is the default backend: nothing leaves the machine, and :meth:`export_car` or a later
    ``songmint`` run can push the same blocks to kubo or a pinning service.
    """

    name = "local"

    def __init__(self, root: str | os.PathLike[str], *, hidden: bool = False) -> None:
        self.root = Path(root).expanduser()
        self.hidden = hidden
        self._blocks = self.root / "blocks"
        self._pins = self.root / "pins"

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _write_block(self, cid: bytes, data: bytes | memoryview) -> None:
        target = self._blocks / str(CID.decode(cid))
        if target.exists():
            return
        tmp = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}.part")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, target)

    def put(self, path: str | os.PathLike[str], *, pin: bool = True, label: str | None = None) -> str:
        """Import ``path`` into the block folder; return its root CID."""
        self._blocks.mkdir(parents=True, exist_ok=True)
        root, _ = import_path(path, on_block=self._write_block, hidden=self.hidden)
        if pin:
            self.pin(root, label=label)
        return root

    def put_car(self, car_path: str | os.PathLike[str], *, pin: bool = True) -> list[str]:
        """Store every block of a CAR (each checked against its CID); return its roots."""
        self._blocks.mkdir(parents=True, exist_ok=True)
        reader = CarReader(car_path)
        for cid, data in reader.blocks():
            if not cid.verify(data):
                raise StorageError(f"{car_path}: block {cid} does not match its hash")
            self._write_block(bytes(cid.to_v1()), data)
        roots = [str(r.to_v1()) for r in reader.roots]
        if pin:
            for r in roots:
                self.pin(r)
        return roots

    def pin(self, cid: str, *, label: str | None = None) -> None:
        c = str(CID.parse(cid).to_v1())
        if not (self._blocks / c).exists():
            raise StorageError(f"cannot pin {c}: it is not in {self.root}")
        self._pins.mkdir(parents=True, exist_ok=True)
        (self._pins / c).write_text(json.dumps({"cid": c, "name": label}) + "\n", encoding="utf-8")

    def has(self, cid: str) -> bool:
        c = str(CID.parse(cid).to_v1())
        return (self._pins / c).exists() and (self._blocks / c).exists()

    def get_block(self, cid: CID) -> bytes:
        """One block by CID."""
        try:
            return (self._blocks / str(cid.to_v1())).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"block {cid} is not in {self.root}") from None

    def cat(self, cid: str) -> Iterator[bytes]:
        """Stream a stored file's bytes (each block checked against its CID)."""
        return cat(cid, self.get_block)


class KuboStorage:
    """A kubo (go-ipfs) node's RPC API.

    Parameters
    ----------
    url : str
        RPC address, e.g. ``http://127.0.0.1:5001``.
    headers : mapping, optional
        E.g. an ``Authorization`` header for a hosted node; never logged.
    timeout, retries, backoff :
        See :class:`HttpClient`.
    hidden : bool
        Upload dot-files too (kubo's ``--hidden``).
    """

    name = "kubo"

    def __init__(
        self,
        url: str = DEFAULT_KUBO,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
        retries: int = 4,
        backoff: float = 0.5,
        hidden: bool = False,
    ) -> None:
        secrets = [v for v in (headers or {}).values()]
        self.http = HttpClient(url, headers=headers, timeout=timeout, retries=retries, backoff=backoff,
                               secrets=secrets)  # fmt: skip
        self.hidden = hidden

    def __repr__(self) -> str:
        return f"KuboStorage({self.http.base_url!r})"

    # The parameters that make kubo's CIDs equal the local importer's.
    ADD_PARAMS = (
        ("cid-version", "1"),
        ("raw-leaves", "true"),
        ("chunker", f"size-{CHUNK_SIZE}"),
        ("hash", "sha2-256"),
        ("wrap-with-directory", "false"),
        ("progress", "false"),
    )

    def put(self, path: str | os.PathLike[str], *, pin: bool = True, label: str | None = None) -> str:
        """``POST /api/v0/add`` of a file or folder; the returned root CID must equal the local one."""
        p = Path(path)
        if not p.exists():
            raise StorageError(f"no such file or folder: {p}")
        local, _ = import_path(p, hidden=self.hidden)
        # ``label`` is not sent: ``pin-name`` needs kubo >= 0.33 and older nodes reject unknown options.
        params = [*self.ADD_PARAMS, ("pin", "true" if pin else "false")]
        _, payload = self.http.request(
            "POST", "/api/v0/add", params=params, body=multipart_body(_walk(p, self.hidden))
        )
        root = None
        for line in payload.decode("utf-8").splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            if "Message" in entry and entry.get("Type") == "error":
                raise StorageError(f"kubo add failed: {entry['Message']}")
            if entry.get("Name") == p.name and "Hash" in entry:
                root = entry["Hash"]
        if root is None:
            raise StorageError(f"kubo add returned no entry for {p.name}")
        return _check(str(p), root, local)

    def put_car(self, car_path: str | os.PathLike[str], *, pin: bool = True) -> list[str]:
        """``POST /api/v0/dag/import`` of a CAR; return the roots kubo reports."""
        body = multipart_body([(Path(car_path).name, Path(car_path))])
        _, payload = self.http.request(
            "POST", "/api/v0/dag/import", params=[("pin-roots", "true" if pin else "false")], body=body
        )
        roots = []
        for line in payload.decode("utf-8").splitlines():
            entry = json.loads(line) if line.strip() else {}
            root = entry.get("Root")
            if root:
                if root.get("PinErrorMsg"):
                    raise StorageError(f"kubo could not pin {root['Cid']['/']}: {root['PinErrorMsg']}")
                roots.append(root["Cid"]["/"])
        return roots

    def pin(self, cid: str, *, label: str | None = None) -> None:
        """``POST /api/v0/pin/add?arg=<cid>`` (recursive)."""
        params = [("arg", cid), ("recursive", "true")]
        if label:
            params.append(("name", label))
        _, payload = self.http.request("POST", "/api/v0/pin/add", params=params)
        pins = json.loads(payload or b"{}").get("Pins") or []
        if not any(CID.parse(p).to_v1() == CID.parse(cid).to_v1() for p in pins):
            raise StorageError(f"kubo did not confirm the pin of {cid}")

    def has(self, cid: str) -> bool:
        """``POST /api/v0/pin/ls?arg=<cid>&type=recursive``."""
        try:
            params = [("arg", cid), ("type", "recursive")]
            _, payload = self.http.request("POST", "/api/v0/pin/ls", params=params)
        except StorageError as exc:
            if "not pinned" in str(exc):
                return False
            raise
        keys = json.loads(payload or b"{}").get("Keys") or {}
        return any(CID.parse(k).to_v1() == CID.parse(cid).to_v1() for k in keys)


class PinningServiceStorage:
    """An IPFS Pinning Service API endpoint (Pinata, Filebase, 4EVERLAND, …).

    The Pinning Service API pins by CID: the service fetches the blocks from the network. So
    :meth:`put` computes the CID locally, optionally uploads the content through ``upload``
    (e.g. a :class:`KuboStorage` that the service can reach, also passed as ``origins``),
    then asks for the pin. Pin requests are idempotent: an existing request for the same CID
    is reused, so a resumed release never pins twice.

    Parameters
    ----------
    url : str
        The API base, e.g. ``https://api.pinata.cloud/psa``.
    token : str
        Bearer access token; never shown in ``repr``, logs or errors.
    upload : Storage, optional
        Where the bytes go first.
    origins : list of str, optional
        Multiaddrs of nodes that have the content.
    wait : bool
        Poll until the pin is ``pinned`` (or ``failed``) after requesting it.
    wait_timeout, poll_interval : float
        Seconds.
    """

    name = "psa"

    def __init__(
        self,
        url: str,
        *,
        token: str,
        upload: Storage | None = None,
        origins: Iterable[str] = (),
        wait: bool = True,
        wait_timeout: float = 600.0,
        poll_interval: float = 5.0,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        hidden: bool = False,
    ) -> None:
        if not token:
            raise StorageError(f"the pinning service needs an access token: set ${TOKEN_ENV}")
        self.http = HttpClient(
            url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            secrets=[token],
        )
        self.upload = upload
        self.origins = list(origins)
        self.wait = wait
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self.hidden = hidden

    def __repr__(self) -> str:
        return f"PinningServiceStorage({self.http.base_url!r})"

    def put(self, path: str | os.PathLike[str], *, pin: bool = True, label: str | None = None) -> str:
        local, _ = import_path(path, hidden=self.hidden)
        if self.upload is not None:
            _check(str(path), self.upload.put(path, pin=True, label=label), local)
        if pin:
            self.pin(local, label=label)
        return local

    def _find(self, cid: str, statuses: str) -> list[dict[str, Any]]:
        _, payload = self.http.request("GET", "/pins", params=[("cid", cid), ("status", statuses)])
        return list(json.loads(payload).get("results") or [])

    def pin(self, cid: str, *, label: str | None = None, meta: Mapping[str, str] | None = None) -> None:
        """Request a pin (or reuse a pending one) and, with ``wait``, poll until it is pinned."""
        existing = self._find(cid, "queued,pinning,pinned")
        if existing:
            status = existing[0]
        else:
            request: dict[str, Any] = {"cid": cid}
            if label:
                request["name"] = label[:255]
            if self.origins:
                request["origins"] = self.origins
            if meta:
                request["meta"] = dict(meta)
            _, payload = self.http.request("POST", "/pins", json_body=request)
            status = json.loads(payload)
        if self.wait:
            self._wait(status)

    def _wait(self, status: dict[str, Any]) -> None:
        deadline = time.monotonic() + self.wait_timeout
        while True:
            state = status.get("status")
            if state == "pinned":
                return
            if state == "failed":
                what = status.get("pin", {}).get("cid")
                raise StorageError(f"the pinning service failed to pin {what}: {status.get('info') or {}}")
            if time.monotonic() >= deadline:
                raise StorageError(
                    f"pin {status.get('requestid')} is still {state} after {self.wait_timeout:.0f} s; "
                    "run again later to check (the request is kept)"
                )
            time.sleep(self.poll_interval)
            _, payload = self.http.request("GET", f"/pins/{urllib.parse.quote(str(status['requestid']))}")
            status = json.loads(payload)

    def has(self, cid: str) -> bool:
        return bool(self._find(cid, "pinned"))

    def remove(self, cid: str) -> int:
        """Delete every pin request for ``cid``; return how many."""
        found = self._find(cid, "queued,pinning,pinned,failed")
        for status in found:
            self.http.request("DELETE", f"/pins/{urllib.parse.quote(str(status['requestid']))}")
        return len(found)


def default_local_root(*, env: Mapping[str, str] | None = None) -> Path:
    """``$SONGMINT_IPFS_DIR`` or the user data folder's ``ipfs`` (platformdirs).

    ``env`` is the environment to read (default ``os.environ``): with :func:`storage_for`'s token,
    the only places this module reads the environment.
    """
    value = (os.environ if env is None else env).get(IPFS_DIR_ENV)
    if value:
        return Path(value).expanduser()
    import platformdirs

    return platformdirs.user_data_path("songmint") / "ipfs"


def get_storage(
    spec: str | None = None,
    *,
    token: str | None = None,
    upload: str | None = None,
    env: Mapping[str, str] | None = None,
    **options: Any,
) -> Storage:
    """A backend from a short spec string (see the module docstring).

    Parameters
    ----------
    spec : str, optional
        ``local``, ``local:PATH``, a path, ``kubo``, ``kubo:URL`` or ``psa:URL``.
    token : str, optional
        Pinning service token; defaults to ``$SONGMINT_PINNING_TOKEN``.
    upload : str, optional
        For ``psa:``: the spec of a backend that receives the bytes first (e.g. ``kubo:URL``).
    env : mapping, optional
        Where ``$SONGMINT_IPFS_DIR`` and ``$SONGMINT_PINNING_TOKEN`` are read (default ``os.environ``).
    **options
        Passed to the backend (``timeout``, ``retries``, ``hidden`` …).

    Raises
    ------
    StorageError
        On an unknown spec or a missing token.
    """
    spec = (spec or "local").strip()
    kind, _, rest = spec.partition(":")
    if kind == "file" and rest.startswith("//"):
        kind, rest = "local", urllib.parse.urlparse(spec).path
    if kind in ("http", "https"):
        raise StorageError(f"ambiguous storage {spec!r}: write kubo:{spec} or psa:{spec}")
    if kind == "local":
        return storage_for("local", path=rest or None, env=env, **options)
    if kind in ("kubo", "kubo+http", "kubo+https"):
        url = rest if kind == "kubo" else f"{kind.split('+')[1]}:{rest}"
        return storage_for("kubo", url=url or None, **options)
    if kind in ("psa", "pinning"):
        if not rest:
            raise StorageError("psa: needs the service URL, e.g. psa:https://api.pinata.cloud/psa")
        shared = {k: v for k, v in options.items() if k in ("timeout", "retries", "backoff", "hidden")}
        uploader = get_storage(upload, env=env, **shared) if upload else None
        return storage_for("pinning", url=rest, token=token, upload=uploader, env=env, **options)
    if "/" in spec or spec.startswith((".", "~")):
        return storage_for("local", path=spec, env=env, **options)
    raise StorageError(f"unknown storage {spec!r}: use local, local:PATH, kubo, kubo:URL or psa:URL")


def storage_for(backend: str, *, path: str | os.PathLike[str] | None = None, url: str | None = None,
                token: str | None = None, upload: Storage | None = None,
                env: Mapping[str, str] | None = None, **options: Any) -> Storage:
    """A storage backend from its settings (the typed counterpart of :func:`get_storage`).

    Parameters
    ----------
    backend : {"local", "kubo", "pinning"}
        A local content-addressed folder, a kubo RPC endpoint, or an IPFS Pinning Service.
    path : path-like, optional
        The local folder (default :func:`default_local_root`).
    url : str, optional
        The kubo RPC or pinning service URL (kubo defaults to its local endpoint).
    token : str, optional
        Pinning service token; defaults to ``$SONGMINT_PINNING_TOKEN``.
    upload : Storage, optional
        Pinning: a backend that receives the bytes first.
    env : mapping, optional
        Where the default folder and token are read (default ``os.environ``).
    **options
        Passed to the backend (``timeout``, ``retries``, ``hidden`` …); a local folder takes
        ``hidden`` only.
    """
    if backend == "local":
        return LocalStorage(path or default_local_root(env=env), hidden=bool(options.get("hidden", False)))
    if backend == "kubo":
        return KuboStorage(url or DEFAULT_KUBO, **options)
    if backend == "pinning":
        if not url:
            raise StorageError("a pinning service needs its URL, e.g. https://api.pinata.cloud/psa")
        token = token or (os.environ if env is None else env).get(TOKEN_ENV, "")
        return PinningServiceStorage(url, token=token, upload=upload, **options)
    raise StorageError(f"unknown storage backend {backend!r}: use local, kubo or pinning")
