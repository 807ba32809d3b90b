"""A local stand-in for the Hugging Face hub's download endpoints (for ``HF_ENDPOINT`` in tests).

It serves what ``huggingface_hub.snapshot_download`` asks for:

- ``GET /api/models/{repo}/revision/{rev}``: the repository's commit and file list;
- ``GET /api/models/{repo}/tree/{commit}``: the files with sizes, blob ids and LFS sha256;
- ``HEAD|GET /{repo}/resolve/{rev}/{file}``: a file's commit, ETag (sha256 for "LFS" files, the Git
  blob sha1 for small ones) and size; ``Range`` requests answered with 206.

Faults for tests: ``drop_after`` (close the connection after N bytes of a file's first GET, once),
``corrupt`` (serve other bytes than the ETag says), ``gated`` (answer 401 GatedRepo), and every
request is logged in ``requests``.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.json_http import JsonHandler


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass
class Repo:
    files: dict[str, bytes]
    commit: str = "0123456789abcdef0123456789abcdef01234567"
    lfs: tuple[str, ...] = ()  # files served as LFS (sha256 ETag)
    gated: bool = False


@dataclass
class Hub:
    repos: dict[str, Repo]
    drop_after: dict[str, int] = field(default_factory=dict)
    corrupt: set[str] = field(default_factory=set)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    authorization: list[str | None] = field(default_factory=list)
    url: str = ""

    def etag(self, repo: Repo, name: str) -> str:
        data = repo.files[name]
        return hashlib.sha256(data).hexdigest() if name in repo.lfs else git_blob_sha1(data)


def _handler(hub: Hub) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            hub.requests.append((self.command, self.path, self.headers.get("Range")))
            hub.authorization.append(self.headers.get("Authorization"))
            path = self.path.split("?")[0]
            m = re.fullmatch(r"/api/models/([^/]+/[^/]+)/revision/(.+)", path)
            if m:
                repo = hub.repos.get(m.group(1))
                if repo is None:
                    return self.send_json(404, {"error": "Repository not found"},
                                      {"X-Error-Code": "RepoNotFound"})
                if repo.gated:
                    return self.send_json(401, {"error": "gated"}, {"X-Error-Code": "GatedRepo"})
                if m.group(2) not in ("main", repo.commit):
                    return self.send_json(404, {"error": "Revision not found"},
                                      {"X-Error-Code": "RevisionNotFound"})
                return self.send_json(200, {"id": m.group(1), "sha": repo.commit, "private": False,
                                        "siblings": [{"rfilename": f} for f in repo.files]})
            m = re.fullmatch(r"/api/models/([^/]+/[^/]+)/tree/([^/]+)", path)
            if m and m.group(1) in hub.repos:
                repo = hub.repos[m.group(1)]
                entries = []
                for name, data in repo.files.items():
                    entry = {"type": "file", "path": name, "size": len(data), "oid": git_blob_sha1(data)}
                    if name in repo.lfs:
                        entry["lfs"] = {"oid": hub.etag(repo, name), "size": len(data), "pointerSize": 134}
                    entries.append(entry)
                return self.send_json(200, entries)
            m = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
            if not m or m.group(1) not in hub.repos:
                return self.send_json(404, {"error": "not found"}, {"X-Error-Code": "EntryNotFound"})
            repo, name = hub.repos[m.group(1)], m.group(3)
            if repo.gated:
                return self.send_json(401, {"error": "gated"}, {"X-Error-Code": "GatedRepo"})
            if name not in repo.files:
                return self.send_json(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
            data = repo.files[name]
            etag = hub.etag(repo, name)
            if name in hub.corrupt:
                data = bytes(b ^ 0xFF for b in data)
            start = 0
            rng = self.headers.get("Range")
            if rng:
                start = int(re.fullmatch(r"bytes=(\d+)-\d*", rng).group(1))
            self.send_response(206 if rng else 200)
            self.send_header("X-Repo-Commit", repo.commit)
            self.send_header("ETag", f'"{etag}"')
            if name in repo.lfs:
                self.send_header("X-Linked-Etag", f'"{etag}"')
                self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("Content-Length", str(len(data) - start))
            if rng:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if self.command == "HEAD":
                return None
            body = data[start:]
            cut = hub.drop_after.pop(name, None)
            if cut is not None:
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return None
            self.wfile.write(body)
            return None

        do_GET = _serve
        do_HEAD = _serve

    return Handler


def start(hub: Hub) -> ThreadingHTTPServer:
    """Serve ``hub`` on 127.0.0.1 (a free port, in a daemon thread); sets ``hub.url``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server
